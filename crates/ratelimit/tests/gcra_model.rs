//! GCRA against a reference model written here: a continuous-state leaky
//! bucket, the other classic formulation of the same algorithm.

use std::time::Duration;

use proptest::prelude::*;
use steadfast_ratelimit::{Quota, RateLimiter, TimeSource};

/// The leaky bucket: `level` ns of work drain at 1 ns per ns; a call of `n`
/// units adds `n · T` if the level stays within `B · T`.
struct LeakyBucket {
    interval: u64,
    capacity: u64,
    level: u64,
    last: u64,
}

impl LeakyBucket {
    /// `Ok` when admitted, `Err(wait)` otherwise (`None`: never).
    fn offer(&mut self, now: u64, cost: u64) -> Result<(), Option<u64>> {
        let drained = self.level.saturating_sub(now - self.last);
        let work = cost * self.interval;
        if drained + work <= self.capacity {
            self.level = drained + work;
            self.last = now;
            Ok(())
        } else if work > self.capacity {
            Err(None)
        } else {
            Err(Some(drained + work - self.capacity))
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).expect("test durations fit")
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a paused runtime builds")
}

/// Runs `arrivals` (gap before it in ns, cost) through a limiter; returns
/// each decision as the model's type, with the arrival time.
fn run(quota: Quota, arrivals: &[(u64, u32)]) -> Vec<(u64, u32, Result<(), Option<u64>>)> {
    paused_runtime().block_on(async {
        let limiter = RateLimiter::builder(quota)
            .time_source(TimeSource::Tokio)
            .build()
            .expect("a valid quota");
        let mut now = 0;
        let mut out = Vec::with_capacity(arrivals.len());
        for &(gap, cost) in arrivals {
            tokio::time::advance(Duration::from_nanos(gap)).await;
            now += gap;
            let decision = limiter.check_n(cost).map_err(|r| {
                // A cost that can never fit says so (`is_never`, no wait).
                assert_eq!(r.is_never(), r.retry_after().is_none());
                r.retry_after()
                    .map(|wait| u64::try_from(wait.as_nanos()).expect("fits"))
            });
            out.push((now, cost, decision));
        }
        out
    })
}

fn quota_strategy() -> impl Strategy<Value = Quota> {
    (1u32..=20, 1u64..=5_000, 1u32..=10).prop_map(|(limit, period_us, burst)| {
        Quota::new(
            limit,
            Duration::from_micros(period_us).max(Duration::from_nanos(u64::from(limit))),
        )
        .burst(burst)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decisions_match_the_leaky_bucket(
        quota in quota_strategy(),
        arrivals in prop::collection::vec((0u64..2_000_000, 1u32..=12), 1..80),
    ) {
        let mut model = LeakyBucket {
            interval: nanos(quota.interval()),
            capacity: nanos(quota.interval()) * u64::from(quota.burst_size()),
            level: 0,
            last: 0,
        };
        for (now, cost, decision) in run(quota, &arrivals) {
            prop_assert_eq!(decision, model.offer(now, u64::from(cost)), "at {} ns, cost {}", now, cost);
        }
    }

    #[test]
    fn no_period_admits_more_than_limit_plus_burst(
        quota in quota_strategy(),
        arrivals in prop::collection::vec((0u64..500_000, 1u32..=4), 1..120),
    ) {
        let period = nanos(quota.period());
        let admitted: Vec<(u64, u64)> = run(quota, &arrivals)
            .into_iter()
            .filter(|(_, _, d)| d.is_ok())
            .map(|(t, c, _)| (t, u64::from(c)))
            .collect();
        let most = u64::from(quota.limit()) + u64::from(quota.burst_size());
        for &(start, _) in &admitted {
            let units: u64 = admitted
                .iter()
                .filter(|(t, _)| *t >= start && *t < start + period)
                .map(|(_, c)| c)
                .sum();
            prop_assert!(units <= most, "{} units in the period from {} ns (most {})", units, start, most);
        }
    }

    #[test]
    fn a_conforming_stream_is_never_rejected(
        quota in quota_strategy(),
        calls in prop::collection::vec((0u64..100_000, 1u32..=10), 1..80),
    ) {
        // Each call arrives at least its predecessor's cost in refill
        // intervals after it, and never asks for more than the burst.
        let interval = nanos(quota.interval());
        let burst = quota.burst_size();
        let mut previous_cost = 0u64;
        let arrivals: Vec<(u64, u32)> = calls
            .into_iter()
            .map(|(slack, cost)| {
                let cost = cost.min(burst);
                let gap = previous_cost * interval + slack;
                previous_cost = u64::from(cost);
                (gap, cost)
            })
            .collect();
        for (now, cost, decision) in run(quota, &arrivals) {
            prop_assert!(decision.is_ok(), "conforming call of {} rejected at {} ns", cost, now);
        }
    }
}
