//! The sliding-window counter and the fixed window.

use std::time::Duration;

use steadfast_core::Inspect;
use steadfast_ratelimit::{Algorithm, KeyedRateLimiter, Quota, RateLimiter};

const MS: Duration = Duration::from_millis(1);

fn limiter(algorithm: Algorithm) -> RateLimiter {
    RateLimiter::builder(Quota::new(10, Duration::from_secs(1)))
        .algorithm(algorithm)
        .build()
        .unwrap()
}

fn take_all(limiter: &RateLimiter) -> u32 {
    let mut n = 0;
    while limiter.check().is_ok() {
        n += 1;
    }
    n
}

#[tokio::test(start_paused = true)]
async fn fixed_window_resets_at_the_boundary() {
    let limiter = limiter(Algorithm::FixedWindow);
    tokio::time::advance(900 * MS).await;
    assert_eq!(take_all(&limiter), 10);
    assert_eq!(limiter.check().unwrap_err().retry_after(), Some(100 * MS));
    tokio::time::advance(100 * MS).await;
    // Twice the limit within 100 ms: the fixed window's known weakness.
    assert_eq!(take_all(&limiter), 10);
}

#[tokio::test(start_paused = true)]
async fn sliding_window_smooths_the_boundary() {
    let limiter = limiter(Algorithm::SlidingWindow);
    tokio::time::advance(900 * MS).await;
    assert_eq!(take_all(&limiter), 10);
    tokio::time::advance(100 * MS).await;
    // Just past the boundary the previous window still weighs 100%.
    assert_eq!(take_all(&limiter), 0);
    tokio::time::advance(500 * MS).await;
    // Halfway through, it weighs 50%: 5 more.
    assert_eq!(take_all(&limiter), 5);
    let state = limiter.peek();
    assert_eq!((state.limit, state.remaining), (10, 0));
    // One more unit once 10 · (1000 − e) + 6 · 1000 <= 10 000: e >= 600 ms.
    assert_eq!(limiter.check().unwrap_err().retry_after(), Some(100 * MS));
}

#[tokio::test(start_paused = true)]
async fn weighted_calls_count_their_cost() {
    let limiter = KeyedRateLimiter::<u8>::builder(Quota::new(100, Duration::from_secs(60)))
        .algorithm(Algorithm::FixedWindow)
        .build()
        .unwrap();
    assert!(limiter.check_n(&1, 60).is_ok());
    assert!(limiter.check_n(&1, 50).is_err());
    assert!(limiter.check_n(&1, 40).is_ok());
    assert_eq!(limiter.peek(&1).remaining, 0);
    assert_eq!(limiter.snapshot().keys_tracked, 1);
    // Window keys are forgotten once their counts have expired.
    tokio::time::advance(Duration::from_secs(60)).await;
    assert_eq!(limiter.sweep(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_window_limit_changes_at_run_time_but_not_its_period() {
    let limiter = limiter(Algorithm::FixedWindow);
    assert_eq!(take_all(&limiter), 10);
    limiter
        .set_quota(Quota::new(15, Duration::from_secs(1)))
        .unwrap();
    assert_eq!(take_all(&limiter), 5, "the 10 already counted still count");
    let err = limiter
        .set_quota(Quota::new(15, Duration::from_secs(2)))
        .unwrap_err();
    assert_eq!(err.field(), "quota");
    assert_eq!(limiter.quota(), Quota::new(15, Duration::from_secs(1)));
}

#[test]
fn window_limits_are_bounded() {
    let err = RateLimiter::builder(Quota::per_second(2_000_000))
        .algorithm(Algorithm::SlidingWindow)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "quota");
}

mod properties {
    use std::time::Duration;

    use proptest::prelude::*;
    use steadfast_ratelimit::{Algorithm, Quota, RateLimiter, TimeSource};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// A fixed window never admits more than its limit, and the sliding
        /// counter never more than its limit within one window.
        #[test]
        fn windows_never_exceed_their_limit(
            limit in 1u32..=20,
            sliding in any::<bool>(),
            arrivals in prop::collection::vec((0u64..300_000, 1u32..=4), 1..150),
        ) {
            let window = 1_000_000u64; // 1 ms
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .unwrap();
            let algorithm = if sliding { Algorithm::SlidingWindow } else { Algorithm::FixedWindow };
            let admitted: Vec<(u64, u64)> = rt.block_on(async {
                let limiter = RateLimiter::builder(Quota::new(limit, Duration::from_nanos(window)))
                    .algorithm(algorithm)
                    .time_source(TimeSource::Tokio)
                    .build()
                    .unwrap();
                let mut now = 0;
                let mut admitted = Vec::new();
                for (gap, cost) in arrivals {
                    tokio::time::advance(Duration::from_nanos(gap)).await;
                    now += gap;
                    if limiter.check_n(cost).is_ok() {
                        admitted.push((now, u64::from(cost)));
                    }
                }
                admitted
            });
            // Per calendar window (windows start when the limiter is built).
            let mut per_window = std::collections::BTreeMap::new();
            for &(t, cost) in &admitted {
                *per_window.entry(t / window).or_insert(0u64) += cost;
            }
            for (index, units) in per_window {
                prop_assert!(units <= u64::from(limit), "window {}: {} units", index, units);
            }
        }
    }
}
