//! The limiters as policies: rejections carry the exact retry_after, the
//! cost comes from the context, and calls without a key are refused (or
//! share one bucket, where the limiter opts in).

use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Context, Error, Inspect, MissingKey, Pipeline, Policy, Timeout};
use steadfast_ratelimit::{KeyedRateLimiter, Quota, RateLimiter};

fn op() -> ScriptedOp<u32, TestError> {
    ScriptedOp::new([Step::ok(1)])
}

#[tokio::test(start_paused = true)]
async fn rejects_with_the_exact_retry_after() {
    let limiter = RateLimiter::builder(Quota::per_second(4).burst(2))
        .name("outbound")
        .build()
        .unwrap();
    let op = op();
    assert_eq!(limiter.call(op.clone()).await, Ok(1));
    assert_eq!(
        limiter
            .call_with(Context::new().with_cost(1), op.clone())
            .await,
        Ok(1)
    );
    tokio::time::advance(Duration::from_millis(100)).await;
    match limiter.call(op.clone()).await {
        Err(Error::RateLimited(r)) => {
            assert_eq!(r.policy_name(), "outbound");
            assert_eq!(r.retry_after(), Some(Duration::from_millis(150)));
            assert!(!r.is_lockout());
            assert_eq!(r.message(), "Too many requests. Try again in 1 s.");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(op.invocations(), 2, "a rejected call never runs");
}

#[tokio::test(start_paused = true)]
async fn the_context_cost_is_charged() {
    // Tokens of an AI call: 1,000 per minute, bursts of 1,000.
    let limiter = KeyedRateLimiter::<String>::new(Quota::per_minute(1_000)).unwrap();
    let user = "ada".to_owned();
    let op = op();
    let call =
        |tokens| limiter.call_with(Context::new().with_key(&user).with_cost(tokens), op.clone());
    assert_eq!(call(700).await, Ok(1));
    let refused = call(400).await.unwrap_err();
    // 100 more tokens refill in 6 s.
    assert_eq!(refused.retry_after(), Some(Duration::from_secs(6)));
    assert_eq!(call(300).await, Ok(1));
    // More than the burst can never pass, and says so rather than naming a wait.
    match call(1_001).await {
        Err(Error::RateLimited(never)) => {
            assert!(never.is_never());
            assert_eq!(never.retry_after(), None);
            assert_eq!(
                never.message(),
                "This request is larger than the rate limit allows."
            );
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(limiter.peek(&user).remaining, 0);
}

#[tokio::test(start_paused = true)]
async fn a_cost_above_the_burst_is_never_and_a_long_wait_is_a_wait() {
    // 1 unit an hour, bursts of 2: a second call of 2 waits 2 h.
    let limiter = RateLimiter::new(Quota::per_hour(1).burst(2)).unwrap();
    assert!(limiter.check_n(2).is_ok());
    let long = limiter.check_n(2).unwrap_err();
    assert!(!long.is_never());
    assert_eq!(long.retry_after(), Some(Duration::from_secs(7_200)));
    let never = limiter.check_n(3).unwrap_err();
    assert!(never.is_never());
    assert_eq!(never.retry_after(), None);
    // The same through the error a pipeline returns.
    let err: Error<TestError> = never.into();
    assert_eq!(err.retry_after(), None);
}

#[tokio::test(start_paused = true)]
async fn users_with_their_keys_are_limited_independently() {
    let limiter = KeyedRateLimiter::<String>::new(Quota::per_minute(2)).unwrap();
    let op = op();
    let users = ["ada", "grace", "edsger"].map(str::to_owned);
    for user in &users {
        for _ in 0..2 {
            let ctx = Context::new().with_key(user);
            assert_eq!(limiter.call_with(ctx, op.clone()).await, Ok(1), "{user}");
        }
    }
    for user in &users {
        let ctx = Context::new().with_key(user);
        assert!(matches!(
            limiter.call_with(ctx, op.clone()).await,
            Err(Error::RateLimited(_))
        ));
    }
    assert_eq!(limiter.snapshot().keys_tracked, 3);
}

#[tokio::test(start_paused = true)]
async fn a_call_without_a_key_is_refused_with_missing_key() {
    let limiter = KeyedRateLimiter::<u64>::builder(Quota::per_minute(2))
        .name("per-user")
        .build()
        .unwrap();
    let op = op();
    let wrong_type = "42";
    for ctx in [Context::new(), Context::new().with_key(&wrong_type)] {
        let refused = limiter.call_with(ctx, op.clone()).await;
        assert_eq!(
            refused,
            Err(Error::MissingKey(MissingKey::new::<u64>("per-user")))
        );
    }
    // In wait mode too: nothing waits, nothing is tracked.
    let waiting = KeyedRateLimiter::<u64>::builder(Quota::per_minute(2))
        .wait(Duration::from_secs(60))
        .build()
        .unwrap();
    assert!(matches!(
        waiting.call(op.clone()).await,
        Err(Error::MissingKey(_))
    ));
    assert_eq!(op.invocations(), 0, "a refused call never runs");
    let snapshot = limiter.snapshot();
    assert_eq!(
        (snapshot.admitted, snapshot.rejected, snapshot.keys_tracked),
        (0, 0, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn calls_without_a_key_share_one_bucket_where_the_limiter_opts_in() {
    let limiter = KeyedRateLimiter::<u64>::builder(Quota::per_minute(2))
        .share_unkeyed(true)
        .build()
        .unwrap();
    let op = op();
    let wrong_type = "42";
    assert_eq!(limiter.call(op.clone()).await, Ok(1));
    assert_eq!(
        limiter
            .call_with(Context::new().with_key(&wrong_type), op.clone())
            .await,
        Ok(1)
    );
    assert!(
        limiter.call(op.clone()).await.is_err(),
        "the unkeyed bucket is spent"
    );
    // Keyed calls are untouched by it.
    assert_eq!(
        limiter
            .call_with(Context::new().with_key(&42u64), op.clone())
            .await,
        Ok(1)
    );
    let snapshot = limiter.snapshot();
    assert_eq!(
        (snapshot.admitted, snapshot.rejected, snapshot.keys_tracked),
        (3, 1, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn composes_in_a_pipeline() {
    let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(1)).unwrap())
        .then(RateLimiter::new(Quota::per_second(1).burst(1)).unwrap());
    let op = op();
    assert_eq!(pipeline.call(op.clone()).await, Ok(1));
    assert!(matches!(
        pipeline.call(op.clone()).await,
        Err(Error::RateLimited(_))
    ));
}
