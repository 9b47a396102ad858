//! Per-call overrides of the cache's stale window, timeouts and fail-safe.

mod common;

use std::time::Duration;

use common::{builder, fetch_with, secs};
use steadfast_cache::{FetchOptions, Freshness, StaleReason};
use steadfast_core::ErrorKind;
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use tokio::time::advance;

#[tokio::test(start_paused = true)]
async fn a_calls_stale_window_replaces_the_caches() {
    let cache = builder().fresh_for(secs(10)).build().unwrap(); // no stale window
    let op = ScriptedOp::new([Step::ok(1), Step::ok(2).after(secs(1))]);
    let options = FetchOptions::new().stale_for(secs(60));
    fetch_with(&cache, 1, options.clone(), &op).await.unwrap();
    // Past fresh, within the call's stale window: served stale at once.
    advance(secs(30)).await;
    let served = fetch_with(&cache, 1, options, &op).await.unwrap();
    assert_eq!((*served, served.is_stale()), (1, true));
}

#[tokio::test(start_paused = true)]
async fn a_calls_hard_timeout_replaces_the_caches() {
    let cache = builder().hard_timeout(secs(60)).build().unwrap();
    let op = ScriptedOp::<u32, TestError>::new([Step::ok(1).after(secs(5))]);
    let hurried = FetchOptions::new().hard_timeout(Duration::from_millis(500));
    let err = fetch_with(&cache, 1, hurried, &op).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[tokio::test(start_paused = true)]
async fn a_revalidating_fetch_sees_the_value_it_replaces_and_a_304_renews_it() {
    use std::sync::{Arc, Mutex};
    let cache = builder().fresh_for(secs(10)).build().unwrap();
    let seen: Arc<Mutex<Vec<Option<u32>>>> = Arc::default();
    let fetch = |answer: u32| {
        let seen = Arc::clone(&seen);
        move |previous: Option<u32>| {
            seen.lock().unwrap().push(previous);
            // A "304" keeps what it was given; otherwise a new value.
            async move { Ok::<_, TestError>(previous.unwrap_or(answer)) }
        }
    };
    assert_eq!(*cache.get_or_revalidate(&1, fetch(5)).await.unwrap(), 5);
    advance(secs(11)).await;
    let renewed = cache.get_or_revalidate(&1, fetch(6)).await.unwrap();
    assert_eq!((*renewed, renewed.is_fetched()), (5, true));
    // Renewed as fresh: the next call within ten seconds fetches nothing.
    advance(secs(9)).await;
    assert!(
        !cache
            .get_or_revalidate(&1, fetch(7))
            .await
            .unwrap()
            .is_fetched()
    );
    assert_eq!(*seen.lock().unwrap(), [None, Some(5)]);
}

fn down() -> Step<u32, TestError> {
    Step::err(TestError::new("down"))
}

#[tokio::test(start_paused = true)]
async fn a_calls_fail_safe_serves_a_cache_that_has_none() {
    let cache = builder().fresh_for(secs(10)).build().unwrap(); // no fail-safe
    let op = ScriptedOp::new([Step::ok(1), down(), Step::ok(2)]);
    let options = FetchOptions::new().fail_safe(secs(120), secs(30));
    fetch_with(&cache, 1, options.clone(), &op).await.unwrap();
    // Kept past its fresh time (the call's fail-safe age), and served in
    // place of the failed fetch.
    advance(secs(100)).await;
    let served = fetch_with(&cache, 1, options.clone(), &op).await.unwrap();
    assert_eq!(
        (*served, served.freshness()),
        (
            1,
            Freshness::Stale {
                age: secs(100),
                reason: StaleReason::FetchFailed
            }
        )
    );
    // The call's throttle: no fetch for 30 s.
    advance(secs(10)).await;
    let served = fetch_with(&cache, 1, options, &op).await.unwrap();
    assert_eq!((*served, op.invocations()), (1, 2));
}

#[tokio::test(start_paused = true)]
async fn a_call_without_fail_safe_gets_the_error_from_a_cache_that_has_it() {
    let cache = builder()
        .fresh_for(secs(10))
        .fail_safe(secs(3_600), secs(30))
        .build()
        .unwrap();
    let op = ScriptedOp::new([Step::ok(1), down()]);
    fetch_with(&cache, 1, FetchOptions::new(), &op)
        .await
        .unwrap();
    advance(secs(20)).await;
    let err = fetch_with(&cache, 1, FetchOptions::new().without_fail_safe(), &op)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Inner);
}

#[tokio::test(start_paused = true)]
async fn a_calls_soft_timeout_serves_the_stale_value_while_the_fetch_goes_on() {
    let cache = builder()
        .fresh_for(secs(10))
        .fail_safe(secs(3_600), secs(30))
        .build()
        .unwrap(); // no soft timeout of its own
    let op = ScriptedOp::new([Step::ok(1), Step::ok(2).after(secs(5))]);
    fetch_with(&cache, 1, FetchOptions::new(), &op)
        .await
        .unwrap();
    advance(secs(20)).await;
    let hurried = FetchOptions::new().soft_timeout(Duration::from_millis(200));
    let started = tokio::time::Instant::now();
    let served = fetch_with(&cache, 1, hurried, &op).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_millis(200));
    assert_eq!(
        (*served, served.freshness()),
        (
            1,
            Freshness::Stale {
                age: secs(20) + Duration::from_millis(200),
                reason: StaleReason::SoftTimeout
            }
        )
    );
    // The fetch went on and stored its value.
    advance(secs(5)).await;
    common::settle().await;
    let served = fetch_with(&cache, 1, FetchOptions::new(), &op)
        .await
        .unwrap();
    assert_eq!((*served, op.invocations()), (2, 2));
}
