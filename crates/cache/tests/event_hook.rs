//! The event hook: hits, stale hits, misses, stores and fail-safe stand-ins
//! as they happen.

mod common;

use std::sync::{Arc, Mutex};

use common::{fetch, secs, settle};
use steadfast_cache::{Cache, CacheEvent};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use tokio::time::advance;

#[tokio::test(start_paused = true)]
async fn every_kind_of_event_reaches_the_hook_in_order() {
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&log);
    let cache = Cache::<u32, u32, TestError>::builder()
        .fresh_for(secs(10))
        .stale_for(secs(10))
        .fail_safe(secs(600), secs(5))
        .on_event(move |event| {
            let line = match event {
                CacheEvent::Hit { key } => format!("hit {key}"),
                CacheEvent::StaleHit { key } => format!("stale {key}"),
                CacheEvent::Miss { key } => format!("miss {key}"),
                CacheEvent::Stored { key } => format!("stored {key}"),
                CacheEvent::FailSafe { key } => format!("fail-safe {key:?}"),
                _ => "other".to_owned(),
            };
            seen.lock().unwrap().push(line);
        })
        .build()
        .unwrap();
    let op = ScriptedOp::new([Step::ok(1), Step::ok(2), Step::err(TestError("down"))]);
    fetch(&cache, 1, &op).await.unwrap(); // miss, stored
    fetch(&cache, 1, &op).await.unwrap(); // hit
    advance(secs(15)).await;
    fetch(&cache, 1, &op).await.unwrap(); // stale, refreshed in the background
    settle().await;
    advance(secs(30)).await;
    fetch(&cache, 1, &op).await.unwrap(); // expired: miss, the fetch fails, fail-safe
    assert_eq!(
        *log.lock().unwrap(),
        [
            "miss 1",
            "stored 1",
            "hit 1",
            "stale 1",
            "stored 1",
            "miss 1",
            "fail-safe Some(1)"
        ]
    );
}
