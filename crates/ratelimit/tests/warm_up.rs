//! Warm-up ramps the rate after start and after idleness.

use std::time::Duration;

use steadfast_ratelimit::{Quota, RateLimiter, WarmUp};

fn take_all(limiter: &RateLimiter) -> u32 {
    let mut n = 0;
    while limiter.check().is_ok() {
        n += 1;
    }
    n
}

#[tokio::test(start_paused = true)]
async fn ramps_from_a_fraction_to_full_and_again_after_idleness() {
    // 10 per second, bursts of 10; from half over 10 s, cold after 10 s idle.
    let limiter = RateLimiter::builder(Quota::per_second(10))
        .warm_up(WarmUp::new(0.5, Duration::from_secs(10)))
        .build()
        .unwrap();
    assert_eq!(take_all(&limiter), 5, "half the burst at start");
    tokio::time::advance(Duration::from_secs(5)).await;
    assert_eq!(take_all(&limiter), 7, "three quarters halfway");
    tokio::time::advance(Duration::from_secs(5)).await;
    assert_eq!(take_all(&limiter), 10, "all of it once warm");
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(
        take_all(&limiter),
        5,
        "cold again after 10 s without an admission"
    );
}

#[test]
fn the_fraction_is_validated() {
    let err = RateLimiter::builder(Quota::per_second(10))
        .warm_up(WarmUp::new(1.5, Duration::from_secs(10)))
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "warm_up.from");
}
