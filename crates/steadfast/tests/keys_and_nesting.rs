//! One call, several keys: a per-user limiter and a per-prompt cache in one
//! pipeline each find their own; and a pipeline called inside another keeps
//! its rejection flat.

use std::time::Duration;

use steadfast::cache::Cache;
use steadfast::ratelimit::{KeyedRateLimiter, Quota};
use steadfast::testing::{ScriptedOp, TestError};
use steadfast::{Context, Error, ErrorKind, Inspect, Pipeline, Policy, Timeout};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct UserId(&'static str);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Prompt(&'static str);

#[tokio::test(start_paused = true)]
async fn three_users_through_one_pipeline_are_limited_independently() {
    let per_user = KeyedRateLimiter::<UserId>::builder(Quota::per_minute(2))
        .name("per-user")
        .build()
        .unwrap();
    let per_prompt = Cache::<Prompt, u32, TestError>::builder()
        .fresh_for(Duration::from_secs(60))
        .build()
        .unwrap();
    let pipeline = Pipeline::new(per_user.clone())
        .then(per_prompt.clone())
        .then(Timeout::new(Duration::from_secs(2)).unwrap());
    let op = ScriptedOp::<u32, TestError>::always_ok(7);
    let prompt = Prompt("summarise the catalogue");

    for user in ["alice", "bob", "carol"] {
        let user = UserId(user);
        let ctx = Context::new().with_key(&user).with_key(&prompt);
        assert_eq!(pipeline.call_with(ctx, op.clone()).await, Ok(7), "{user:?}");
    }
    assert_eq!(op.invocations(), 1, "one prompt, cached once for everyone");
    assert_eq!(per_user.snapshot().keys_tracked, 3);

    // Each user has a quota of their own: alice's second call passes, her
    // third is refused, and bob is untouched by it.
    let (alice, bob) = (UserId("alice"), UserId("bob"));
    let alice_ctx = || Context::new().with_key(&alice).with_key(&prompt);
    assert_eq!(pipeline.call_with(alice_ctx(), op.clone()).await, Ok(7));
    let refused = pipeline
        .call_with(alice_ctx(), op.clone())
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::RateLimited);
    assert_eq!(refused.policy_name(), Some("per-user"));
    let bob_ctx = Context::new().with_key(&bob).with_key(&prompt);
    assert_eq!(pipeline.call_with(bob_ctx, op.clone()).await, Ok(7));
}

#[tokio::test(start_paused = true)]
async fn a_nested_pipelines_rejection_reaches_the_caller_with_its_retry_after() {
    let limiter = KeyedRateLimiter::<UserId>::builder(Quota::per_minute(1))
        .name("per-user")
        .build()
        .unwrap();
    let inner = Pipeline::new(limiter).then(Timeout::new(Duration::from_secs(2)).unwrap());
    let outer = Pipeline::new(Timeout::new(Duration::from_secs(10)).unwrap());
    let user = UserId("alice");
    let op = ScriptedOp::<u32, TestError>::always_ok(1);
    let call = || outer.call_flat(|| inner.call_with(Context::new().with_key(&user), op.clone()));

    assert_eq!(call().await, Ok(1));
    let err: Error<TestError> = call().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.policy_name(), Some("per-user"));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    assert_eq!(err.message(), "Too many requests. Try again in 60 s.");
}

#[tokio::test(start_paused = true)]
async fn a_background_refresh_passes_an_inbound_limit_above_the_cache_uncharged() {
    use steadfast::OwnedContext;
    use steadfast::testing::Step;

    let per_user = KeyedRateLimiter::<UserId>::builder(Quota::per_minute(2))
        .name("per-user")
        .build()
        .unwrap();
    let per_prompt = Cache::<Prompt, u32, TestError>::builder()
        .fresh_for(Duration::from_secs(10))
        .stale_for(Duration::from_secs(600))
        .build()
        .unwrap();
    let pipeline = Pipeline::new(per_user).then(per_prompt);
    let op = ScriptedOp::<u32, TestError>::new([Step::ok(1), Step::ok(2)]);
    let call = || {
        let ctx = OwnedContext::new((UserId("alice"), Prompt("p")));
        pipeline.call_owned_with(ctx, op.clone())
    };

    assert_eq!(call().await, Ok(1));
    tokio::time::advance(Duration::from_secs(11)).await;
    assert_eq!(call().await, Ok(1), "stale, at once");
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
    assert_eq!(op.invocations(), 2, "the refresh ran through the limiter");
    // Alice spent her two calls; the refresh spent nothing of hers.
    let refused = call().await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::RateLimited);
    assert_eq!(refused.retry_after(), Some(Duration::from_secs(19)));
}
