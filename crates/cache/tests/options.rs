//! Per-call overrides of the cache's stale window and hard timeout.

mod common;

use std::time::Duration;

use common::{builder, fetch_with, secs};
use steadfast_cache::FetchOptions;
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
