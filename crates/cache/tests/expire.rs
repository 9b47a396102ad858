//! `expire`: out of date at once, kept as a fail-safe stand-in.

mod common;

use common::{builder, fetch, secs};
use steadfast_cache::{Freshness, StaleReason};
use steadfast_core::testing::{ScriptedOp, Step, TestError};

#[tokio::test(start_paused = true)]
async fn an_expired_entry_is_fetched_again_and_stands_in_when_that_fails() {
    let cache = builder()
        .fresh_for(secs(60))
        .fail_safe(secs(600), secs(5))
        .build()
        .unwrap();
    let op = ScriptedOp::new([Step::ok(1), Step::ok(2), Step::err(TestError("down"))]);
    assert_eq!(*fetch(&cache, 1, &op).await.unwrap(), 1);
    cache.expire(&1).await;
    // Fresh for a minute, yet fetched again at once.
    let served = fetch(&cache, 1, &op).await.unwrap();
    assert_eq!((*served, served.is_stale()), (2, false));
    assert_eq!(op.invocations(), 2);
    // Expired again, and the fetch fails: the old value stands in.
    cache.expire(&1).await;
    let served = fetch(&cache, 1, &op).await.unwrap();
    assert_eq!(*served, 2);
    assert!(matches!(
        served.freshness(),
        Freshness::Stale {
            reason: StaleReason::FetchFailed,
            ..
        }
    ));
    assert_eq!(op.invocations(), 3);
}

#[tokio::test(start_paused = true)]
async fn without_a_fail_safe_window_expire_is_a_removal() {
    let cache = builder().fresh_for(secs(60)).build().unwrap();
    let op = ScriptedOp::new([Step::ok(1), Step::err(TestError("down"))]);
    fetch(&cache, 1, &op).await.unwrap();
    cache.expire(&1).await;
    assert!(fetch(&cache, 1, &op).await.is_err());
    // Expiring a key the cache does not hold does nothing.
    cache.expire(&9).await;
}
