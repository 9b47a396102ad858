//! Invariants over many inputs.

use std::time::Duration;

use proptest::prelude::*;
use steadfast_core::duration_serde::parse;
use steadfast_core::{CircuitOpen, Context, RateLimited, TimedOut, time};

proptest! {
    #[test]
    fn whole_durations_parse_exactly(n in 0u64..1_000_000_000, unit in 0usize..5) {
        let (suffix, expected) = [
            ("ns", Duration::from_nanos(n)),
            ("us", Duration::from_micros(n)),
            ("ms", Duration::from_millis(n)),
            ("s", Duration::from_secs(n)),
            ("m", Duration::from_secs(n * 60)),
        ][unit];
        prop_assert_eq!(parse(&format!("{n}{suffix}")), Ok(expected));
    }

    #[test]
    fn a_context_keeps_the_earliest_of_any_deadlines(offsets in proptest::collection::vec(0u64..10_000, 1..8)) {
        let now = time::Instant::now();
        let ctx = offsets
            .iter()
            .fold(Context::new(), |ctx, ms| ctx.with_deadline(now + Duration::from_millis(*ms)));
        let earliest = offsets.iter().min().copied().unwrap();
        prop_assert_eq!(ctx.deadline(), Some(now + Duration::from_millis(earliest)));
    }

    #[test]
    fn rejection_durations_round_trip(nanos in 0u64..u64::MAX - 1) {
        let d = Duration::from_nanos(nanos);
        prop_assert_eq!(TimedOut::new("t", d).limit(), d);
        // A rate limit's word keeps its top bit for the lockout flag, and
        // the value below it for "never".
        let limited = Duration::from_nanos(nanos.min((1 << 63) - 2));
        prop_assert_eq!(RateLimited::new("r", d).retry_after(), Some(limited));
        prop_assert_eq!(RateLimited::lockout("r", d).retry_after(), Some(limited));
        prop_assert!(!RateLimited::new("r", d).is_never());
        prop_assert!(RateLimited::lockout("r", d).is_lockout());
        prop_assert!(!RateLimited::new("r", d).is_lockout());
        prop_assert_eq!(
            CircuitOpen::new("b", Some(d)).retry_after(),
            Some(Duration::from_nanos(nanos.min((1 << 63) - 1)))
        );
    }

    #[test]
    fn messages_never_promise_less_than_the_wait(ms in 0u64..100_000_000) {
        let d = Duration::from_millis(ms);
        let message = RateLimited::new("r", d).message();
        let secs: u64 = message
            .trim_start_matches("Too many requests. Try again in ")
            .trim_end_matches(" s.")
            .parse()
            .unwrap();
        prop_assert!(Duration::from_secs(secs) >= d);
        prop_assert!(secs >= 1);
        prop_assert!(Duration::from_secs(secs) < d + Duration::from_secs(1) || ms < 1_000);
    }
}
