//! Stale-while-revalidate with the cache inside a pipeline: an owned call
//! answers a stale hit at once and refreshes in a background call; a fetch
//! that outlasts the soft timeout goes on and stores after the caller left.

mod common;

use std::time::Duration;

use common::{SECOND, builder, secs};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Context, Inspect, OwnedContext, Pipeline, Policy, Timeout};
use tokio::time::{Instant, advance};

const UPSTREAM: Duration = Duration::from_millis(600);

/// Lets spawned background calls run up to their next timer.
async fn settle() {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_stale_hit_answers_at_once_and_one_background_refresh_stores() {
    let cache = builder()
        .fresh_for(secs(10))
        .stale_for(secs(60))
        .build()
        .unwrap();
    let pipeline = Pipeline::new(cache.clone()).then(Timeout::new(secs(5)).unwrap());
    let op = ScriptedOp::<u32, TestError>::new([Step::ok(1), Step::ok(2).after(UPSTREAM)]);
    let call = || pipeline.call_owned_with(OwnedContext::new((7u32,)), op.clone());

    assert_eq!(call().await, Ok(1));
    advance(secs(10)).await;

    let asked = Instant::now();
    assert_eq!(call().await, Ok(1), "the stale value, at once");
    assert_eq!(asked.elapsed(), Duration::ZERO);
    settle().await;
    assert_eq!(op.invocations(), 2, "one refresh, in the background");

    // Hits while the refresh runs are served stale and start nothing.
    advance(Duration::from_millis(100)).await;
    assert_eq!(call().await, Ok(1));
    settle().await;
    assert_eq!(op.invocations(), 2);

    advance(UPSTREAM).await;
    settle().await;
    assert_eq!(op.in_flight(), 0);
    assert_eq!(op.cancelled(), 0);
    assert_eq!(call().await, Ok(2), "the refresh stored its value");
    assert_eq!(op.invocations(), 2);
    let snapshot = cache.snapshot();
    assert_eq!((snapshot.refreshes, snapshot.fetches), (1, 2));
}

#[tokio::test(start_paused = true)]
async fn a_fetch_past_the_soft_timeout_goes_on_and_stores_after_the_caller_left() {
    let cache = builder()
        .fresh_for(secs(10))
        .fail_safe(secs(3_600), secs(30))
        .soft_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let pipeline = Pipeline::new(cache.clone()).then(Timeout::new(secs(5)).unwrap());
    let op = ScriptedOp::<u32, TestError>::new([Step::ok(1), Step::ok(2).after(UPSTREAM)]);
    let call = || pipeline.call_owned_with(OwnedContext::new((7u32,)), op.clone());

    assert_eq!(call().await, Ok(1));
    advance(secs(11)).await;

    let asked = Instant::now();
    assert_eq!(
        call().await,
        Ok(1),
        "the expired value, at the soft timeout"
    );
    assert_eq!(asked.elapsed(), Duration::from_millis(100));
    assert_eq!(op.invocations(), 2);

    advance(UPSTREAM).await;
    settle().await;
    assert_eq!(op.cancelled(), 0, "the caller leaving cancelled nothing");
    assert_eq!(call().await, Ok(2), "the fetch stored its value");
    assert_eq!(op.invocations(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_background_fetch_that_fails_starts_the_fail_safe_throttle() {
    let cache = builder()
        .fresh_for(secs(10))
        .fail_safe(secs(3_600), secs(30))
        .soft_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let pipeline = Pipeline::new(cache.clone()).then(Timeout::new(secs(2)).unwrap());
    let op = ScriptedOp::<u32, TestError>::new([
        Step::ok(1),
        Step::err(TestError("down")).after(UPSTREAM),
        Step::ok(3),
    ]);
    let call = || pipeline.call_owned_with(OwnedContext::new((7u32,)), op.clone());

    assert_eq!(call().await, Ok(1));
    advance(secs(11)).await;
    // One request a second for 30 s: one fetch, every answer the old value,
    // none waiting past the soft timeout.
    for second in 0..30 {
        let asked = Instant::now();
        assert_eq!(call().await, Ok(1), "second {second}");
        assert!(
            asked.elapsed() <= Duration::from_millis(100),
            "second {second}"
        );
        advance(SECOND).await;
        settle().await;
    }
    assert_eq!(op.invocations(), 2, "the throttle held after the failure");
    assert_eq!(op.cancelled(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_borrowed_call_refreshes_in_the_foreground() {
    let cache = builder()
        .fresh_for(secs(10))
        .stale_for(secs(60))
        .build()
        .unwrap();
    let pipeline = Pipeline::new(cache.clone()).then(Timeout::new(secs(5)).unwrap());
    let op = ScriptedOp::<u32, TestError>::new([Step::ok(1), Step::ok(2).after(UPSTREAM)]);
    let ctx = || Context::new().with_key(&7u32);

    assert_eq!(pipeline.call_with(ctx(), op.clone()).await, Ok(1));
    advance(secs(10)).await;
    let asked = Instant::now();
    assert_eq!(pipeline.call_with(ctx(), op.clone()).await, Ok(2));
    assert_eq!(asked.elapsed(), UPSTREAM, "it waited for the refresh");
}

/// Refuses every background call, as an open breaker above the cache would.
#[derive(Clone)]
struct RefuseBackground;

impl steadfast_core::Policy<u32, TestError> for RefuseBackground {
    async fn execute<'a, N>(
        &'a self,
        ctx: Context<'a>,
        next: N,
    ) -> Result<u32, steadfast_core::Error<TestError>>
    where
        N: steadfast_core::Next<'a, u32, TestError>,
    {
        if ctx.background().is_some() {
            return Err(steadfast_core::Shed::new("above", None).into());
        }
        next.invoke(ctx).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_background_call_refused_above_the_cache_leaves_the_fetch_to_the_caller() {
    let cache = builder()
        .fresh_for(secs(10))
        .fail_safe(secs(3_600), secs(30))
        .soft_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let pipeline = Pipeline::new(RefuseBackground)
        .then(cache.clone())
        .then(Timeout::new(secs(5)).unwrap());
    let op = ScriptedOp::<u32, TestError>::new([Step::ok(1), Step::ok(2).after(UPSTREAM)]);
    let call = || pipeline.call_owned_with(OwnedContext::new((7u32,)), op.clone());

    assert_eq!(call().await, Ok(1));
    advance(secs(11)).await;
    let asked = Instant::now();
    // The refused background call abandons its flight; the caller leads the
    // fetch itself and is served the old value at the soft timeout.
    assert_eq!(call().await, Ok(1));
    assert_eq!(asked.elapsed(), Duration::from_millis(100));
    assert_eq!(op.invocations(), 2);
    assert_eq!(op.cancelled(), 1, "a foreground fetch ends with its caller");
}
