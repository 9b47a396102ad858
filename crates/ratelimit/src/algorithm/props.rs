//! Every quota field at its extremes: validation accepts exactly the quotas
//! whose arithmetic fits, and on those no decision, peek or reservation
//! overflows (tests run with overflow checks) or names an absurd wait.

use std::time::Duration;

use proptest::prelude::*;

use super::{Decision, MAX_SPAN, NEVER, Params, Reservation, decide, full_at, peek, reserve};
use crate::clock::nanos;
use crate::quota::{Algorithm, MAX_WINDOW_LIMIT, Quota};

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Gcra),
        Just(Algorithm::SlidingWindow),
        Just(Algorithm::FixedWindow),
    ]
}

/// Small, boundary and huge values alike.
fn count() -> impl Strategy<Value = u32> {
    prop_oneof![
        0u32..=4,
        Just(MAX_WINDOW_LIMIT),
        Just(MAX_WINDOW_LIMIT + 1),
        Just(u32::MAX),
        any::<u32>()
    ]
}

fn period() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (0u64..=2_000).prop_map(Duration::from_nanos),
        Just(Duration::from_nanos(MAX_SPAN)),
        Just(Duration::from_nanos(MAX_SPAN + 1)),
        // Past u64 nanoseconds (about 584 years) and beyond.
        (0u64..=u64::MAX).prop_map(Duration::from_nanos),
        (0u64..=u64::MAX / 1_000_000_000).prop_map(Duration::from_secs),
        Just(Duration::MAX),
    ]
}

fn quota() -> impl Strategy<Value = Quota> {
    (count(), period(), prop::option::of(count())).prop_map(|(limit, period, burst)| {
        let quota = Quota::new(limit, period);
        match burst {
            Some(burst) => quota.burst(burst),
            None => quota,
        }
    })
}

/// The rules validation promises, written out independently.
fn fits(quota: &Quota, algorithm: Algorithm) -> bool {
    let period = quota.period().as_nanos();
    let limit = u128::from(quota.limit());
    if limit == 0 || period == 0 || period > u128::from(MAX_SPAN) || period < limit {
        return false;
    }
    match algorithm {
        Algorithm::Gcra => {
            let burst = u128::from(quota.burst_size());
            burst > 0 && period.div_ceil(limit) * burst <= u128::from(MAX_SPAN)
        }
        _ => quota.limit() <= MAX_WINDOW_LIMIT,
    }
}

proptest! {
    // A fixed seed: the same cases on every run and machine (failures found
    // while writing these are kept in the regression file).
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_0016),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_quota_is_validated_or_computes_without_overflow(
        quota in quota(),
        algorithm in algorithm(),
        factor in prop_oneof![Just(1u64 << 16), 1u64..=(1 << 16)],
        start in prop_oneof![Just(0u64), 0u64..=MAX_SPAN],
        steps in prop::collection::vec(
            (prop_oneof![0u64..=1_000, 0u64..=MAX_SPAN / 8], count(), any::<u64>()),
            1..24,
        ),
    ) {
        let validated = quota.validate(algorithm, "ratelimit", "quota");
        prop_assert_eq!(validated.is_ok(), fits(&quota, algorithm), "{:?} {:?}", quota, validated);
        if let Err(err) = validated {
            prop_assert_eq!(err.field(), "quota");
            return Ok(());
        }
        // Warm-up scales a validated quota: it still spans at most MAX_SPAN.
        let p = Params::new(algorithm, &quota).scaled(algorithm, factor);
        let span = match algorithm {
            Algorithm::Gcra => p.a * p.b,
            _ => p.a,
        };
        prop_assert!(span <= MAX_SPAN && p.a >= 1 && p.b >= 1, "{:?}", p);
        prop_assert!(nanos(quota.period()) <= MAX_SPAN);
        let longest = 2 * span;
        let (mut state, mut now) = (0u64, start);
        for (gap, cost, max_wait) in steps {
            now += gap;
            let cost = u64::from(cost);
            match decide(algorithm, p, state, now, cost) {
                Decision::Admit(new) => state = new,
                Decision::Deny(wait) if cost > p.b => prop_assert_eq!(wait, NEVER),
                Decision::Deny(wait) => {
                    prop_assert!(wait > 0 && wait <= longest, "wait {} over {}", wait, longest);
                }
            }
            let seen = peek(algorithm, p, state, now);
            prop_assert!(seen.remaining <= p.b);
            prop_assert!(seen.reset_after <= longest, "reset {} over {}", seen.reset_after, longest);
            prop_assert!(seen.retry_after <= longest);
            let _ = full_at(algorithm, p, state, now);
            if algorithm == Algorithm::Gcra {
                match reserve(p, state, now, cost, max_wait) {
                    Reservation::Refused(wait) if cost > p.b => prop_assert_eq!(wait, NEVER),
                    Reservation::Refused(wait) => prop_assert!(wait > max_wait && wait <= longest),
                    Reservation::Granted { tat, at } => {
                        prop_assert!(at.saturating_sub(now) <= max_wait);
                        prop_assert_eq!(super::give_back(p, tat, cost), state.max(now));
                    }
                }
            }
        }
    }
}
