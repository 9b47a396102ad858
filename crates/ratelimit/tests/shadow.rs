//! Shadow mode: the limit decides and counts, and refuses nothing.

use steadfast_core::testing::{ScriptedOp, TestError};
use steadfast_core::{Context, Inspect, Policy};
use steadfast_ratelimit::{KeyedRateLimiter, Quota, RateLimiter, RateLimiterConfig};

fn shadow(quota: Quota) -> RateLimiterConfig {
    let mut config = RateLimiterConfig::new(quota);
    config.shadow = true;
    config
}

#[tokio::test(start_paused = true)]
async fn every_call_runs_and_the_would_be_refusals_are_counted() {
    let limiter = RateLimiter::from_config(shadow(Quota::per_hour(2))).unwrap();
    let op = ScriptedOp::<u8, TestError>::always_ok(1);
    for _ in 0..5 {
        assert_eq!(limiter.call(op.clone()).await.unwrap(), 1);
    }
    assert_eq!(op.invocations(), 5);
    let s = limiter.snapshot();
    assert_eq!((s.admitted, s.rejected, s.shadow), (2, 3, true));
    // The decision itself is still the limit's.
    assert!(limiter.check().is_err());

    let keyed = KeyedRateLimiter::<u32>::from_config(shadow(Quota::per_hour(1))).unwrap();
    let user = 7_u32;
    for _ in 0..3 {
        keyed
            .call_with(Context::new().with_key(&user), op.clone())
            .await
            .unwrap();
    }
    let s = keyed.snapshot();
    assert_eq!((s.admitted, s.rejected, s.shadow), (1, 2, true));
}
