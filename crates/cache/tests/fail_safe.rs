//! Stale-if-error with its throttle, soft and hard timeouts, and
//! degrade-on-rejection, with the scripted operation on the paused clock.

mod common;

use std::time::Duration;

use common::{SECOND, TestCache, almost, builder, fetch, secs, settle};
use steadfast_cache::{Freshness, StaleReason, fetched};
use steadfast_core::testing::{Events, ScriptedOp, Step, TestError};
use steadfast_core::{CircuitOpen, Context, Error, ErrorKind, Inspect, Next, Pipeline, Policy};
use tokio::time::{Instant, advance};

fn down() -> Step<u32, TestError> {
    Step::err(TestError::new("down"))
}

fn fail_safe_cache() -> TestCache {
    builder()
        .fresh_for(secs(10))
        .fail_safe(secs(60), secs(5))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_failed_fetch_serves_the_stale_value_then_throttles() {
    let (events, _guard) = Events::capture();
    let cache = fail_safe_cache();
    let op = ScriptedOp::new([Step::ok(1), down()]);
    fetch(&cache, 1, &op).await.unwrap();

    advance(secs(20)).await;
    let served = fetch(&cache, 1, &op).await.unwrap();
    assert_eq!(
        served.freshness(),
        Freshness::Stale {
            age: secs(20),
            reason: StaleReason::FetchFailed
        }
    );
    assert_eq!(op.invocations(), 2);

    // Within the throttle: served stale, no fetch.
    advance(almost(5)).await;
    assert_eq!(*fetch(&cache, 1, &op).await.unwrap(), 1);
    assert_eq!(op.invocations(), 2);

    // The throttle over: the fetch is tried again (and fails again).
    advance(Duration::from_nanos(1)).await;
    assert!(fetch(&cache, 1, &op).await.unwrap().is_stale());
    assert_eq!(op.invocations(), 3);

    let warnings: Vec<_> = events
        .records()
        .into_iter()
        .filter(|r| r.level == tracing::Level::WARN)
        .collect();
    assert_eq!(warnings.len(), 2, "one warning per fail-safe episode");
    assert_eq!(
        warnings[0].message,
        "fetch failed; serving a stale value (fail-safe)"
    );
    assert_eq!(warnings[0].field("policy"), Some("cache"));
}

#[tokio::test(start_paused = true)]
async fn no_stale_value_older_than_the_maximum_is_served() {
    let cache = fail_safe_cache();
    let op = ScriptedOp::new([Step::ok(1), down()]);
    fetch(&cache, 1, &op).await.unwrap();
    advance(secs(61)).await;
    let error = fetch(&cache, 1, &op).await.unwrap_err();
    assert_eq!(error.into_inner(), Some(TestError::new("down")));
}

#[tokio::test(start_paused = true)]
async fn without_fail_safe_the_error_goes_through() {
    let cache = builder().fresh_for(secs(10)).build().unwrap();
    let op = ScriptedOp::new([Step::ok(1), down()]);
    fetch(&cache, 1, &op).await.unwrap();
    advance(secs(10)).await;
    assert!(fetch(&cache, 1, &op).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_failed_background_refresh_keeps_serving_stale_through_the_throttle() {
    let cache = builder()
        .fresh_for(secs(10))
        .stale_for(secs(5))
        .fail_safe(secs(60), secs(30))
        .build()
        .unwrap();
    let op = ScriptedOp::new([Step::ok(1), down()]);
    fetch(&cache, 1, &op).await.unwrap();
    advance(secs(10)).await;
    assert!(fetch(&cache, 1, &op).await.unwrap().is_stale());
    settle().await;
    assert_eq!(op.invocations(), 2);

    // Past the stale window but within the throttle: still served, no fetch.
    advance(secs(20)).await;
    let served = fetch(&cache, 1, &op).await.unwrap();
    assert_eq!(
        served.freshness(),
        Freshness::Stale {
            age: secs(30),
            reason: StaleReason::FetchFailed
        }
    );
    settle().await;
    assert_eq!(op.invocations(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_soft_timeout_serves_stale_and_the_fetch_finishes_in_the_background() {
    let cache = builder()
        .fresh_for(secs(10))
        .fail_safe(secs(3600), secs(30))
        .soft_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let op = ScriptedOp::new([Step::ok(1), Step::ok(2).after(SECOND)]);
    fetch(&cache, 1, &op).await.unwrap();
    advance(secs(10)).await;

    let started = Instant::now();
    let served = fetch(&cache, 1, &op).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_millis(100));
    assert_eq!(
        served.freshness(),
        Freshness::Stale {
            age: secs(10) + Duration::from_millis(100),
            reason: StaleReason::SoftTimeout
        }
    );

    advance(Duration::from_millis(900)).await;
    settle().await;
    let hit = cache.get(&1).await.unwrap();
    assert_eq!(
        (*hit, hit.freshness()),
        (
            2,
            Freshness::Fresh {
                age: Duration::ZERO
            }
        )
    );
    assert_eq!((op.invocations(), op.cancelled()), (2, 0));
}

#[tokio::test(start_paused = true)]
async fn without_a_stale_value_the_soft_timeout_does_not_apply() {
    let cache = builder()
        .soft_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let op = ScriptedOp::new([Step::<u32, TestError>::ok(2).after(SECOND)]);
    let started = Instant::now();
    assert!(fetch(&cache, 1, &op).await.unwrap().is_fetched());
    assert_eq!(started.elapsed(), SECOND);
}

#[tokio::test(start_paused = true)]
async fn the_hard_timeout_bounds_every_fetch() {
    let cache = builder().hard_timeout(SECOND).build().unwrap();
    let op = ScriptedOp::new([Step::<u32, TestError>::ok(2).after(secs(5))]);
    let started = Instant::now();
    let error = fetch(&cache, 1, &op).await.unwrap_err();
    assert_eq!(started.elapsed(), SECOND);
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(error.policy_name(), Some("cache"));
    assert_eq!(op.cancelled(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_hard_timeout_is_covered_by_fail_safe() {
    let cache = builder()
        .fresh_for(secs(10))
        .fail_safe(secs(60), secs(5))
        .hard_timeout(SECOND)
        .build()
        .unwrap();
    let op = ScriptedOp::new([Step::ok(1), Step::ok(2).after(secs(5))]);
    fetch(&cache, 1, &op).await.unwrap();
    advance(secs(10)).await;
    let served = fetch(&cache, 1, &op).await.unwrap();
    assert_eq!(
        served.freshness(),
        Freshness::Stale {
            age: secs(11),
            reason: StaleReason::FetchFailed
        }
    );
}

/// An inner policy that refuses every call, like an open breaker.
#[derive(Clone)]
struct AlwaysOpen;

impl<T: Send, E: Send> Policy<T, E> for AlwaysOpen {
    async fn execute<'a, N>(&'a self, _ctx: Context<'a>, _next: N) -> Result<T, Error<E>>
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        Err(CircuitOpen::new("db", Some(secs(5))).into())
    }
}

#[tokio::test(start_paused = true)]
async fn degrade_on_rejection_answers_from_a_stale_value() {
    let cache = builder()
        .fresh_for(secs(10))
        .fail_safe(secs(60), secs(5))
        .degrade_on_rejection(true)
        .build()
        .unwrap();
    cache.insert(1, 100).await;
    advance(secs(15)).await;

    // Direct API, the rejecting policy inside the fetch.
    let op = ScriptedOp::<u32, TestError>::always_ok(1);
    let served = cache
        .get_or_fetch_through(
            &1,
            steadfast_cache::FetchOptions::new(),
            &AlwaysOpen,
            op.clone(),
        )
        .await
        .unwrap();
    assert_eq!(
        (*served, served.freshness()),
        (
            100,
            Freshness::Stale {
                age: secs(15),
                reason: StaleReason::Rejected(ErrorKind::CircuitOpen)
            }
        )
    );

    // As a policy in a pipeline: cache → (open breaker) → op.
    let pipeline = Pipeline::new(cache.clone()).then(AlwaysOpen);
    let value = pipeline
        .call_with(Context::new().with_key(&1u32), op.clone())
        .await
        .unwrap();
    assert_eq!(value, 100);
    // The same pipeline answering `Cached<u32>` tells the caller why.
    let answer = pipeline
        .call_with(Context::new().with_key(&1u32), fetched(op.clone()))
        .await
        .unwrap();
    assert_eq!(
        answer.freshness(),
        Freshness::Stale {
            age: secs(15),
            reason: StaleReason::Rejected(ErrorKind::CircuitOpen)
        }
    );
    assert_eq!(op.invocations(), 0);
    assert_eq!(cache.snapshot().stale_fallbacks, 3);

    // No stale value for the key: the rejection goes through.
    let error = pipeline
        .call_with(Context::new().with_key(&2u32), op.clone())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::CircuitOpen);
}

#[tokio::test(start_paused = true)]
async fn without_degrade_on_rejection_the_rejection_goes_through() {
    let cache = fail_safe_cache();
    cache.insert(1, 100).await;
    advance(secs(15)).await;
    let pipeline = Pipeline::new(cache.clone()).then(AlwaysOpen);
    let error = pipeline
        .call_with(
            Context::new().with_key(&1u32),
            ScriptedOp::<u32, TestError>::always_ok(1),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::CircuitOpen);
}
