//! The same behaviour on every store: the timeline, fail-safe, tags and
//! single flight, run on moka (the default) and on quick_cache.

mod common;

use common::{SECOND, secs, settle};
use steadfast_cache::{
    BuildStore, Cache, FetchOptions, Freshness, MokaStore, QuickCacheStore, StaleReason,
};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{DefaultClassifier, Identity, Inspect};
use tokio::time::advance;

type On<S> = Cache<u32, u32, TestError, DefaultClassifier, S>;

async fn fetch<S: BuildStore<u32, u32>>(
    cache: &On<S>,
    key: u32,
    op: &ScriptedOp<u32, TestError>,
) -> steadfast_cache::Cached<u32> {
    cache
        .get_or_fetch_through(&key, FetchOptions::new().tag("t"), &Identity, op.clone())
        .await
        .unwrap()
}

async fn scenario<S: BuildStore<u32, u32>>() {
    let cache: On<S> = Cache::builder()
        .fresh_for(secs(10))
        .stale_for(secs(5))
        .fail_safe(secs(60), secs(5))
        .store::<S>()
        .build()
        .unwrap();
    let op = ScriptedOp::new([
        Step::<u32, TestError>::ok(1).after(SECOND),
        Step::ok(2),
        Step::err(TestError::new("down")),
    ]);

    // Single flight: ten misses, one fetch.
    let callers: Vec<_> = (0..10)
        .map(|_| {
            let (cache, op) = (cache.clone(), op.clone());
            tokio::spawn(async move { fetch(&cache, 1, &op).await })
        })
        .collect();
    for caller in callers {
        assert_eq!(*caller.await.unwrap(), 1);
    }
    assert_eq!(op.invocations(), 1);

    // Fresh, then stale and refreshed once in the background.
    advance(secs(10)).await;
    let stale = fetch(&cache, 1, &op).await;
    assert_eq!(
        stale.freshness(),
        Freshness::Stale {
            age: secs(10),
            reason: StaleReason::Revalidating
        }
    );
    settle().await;
    assert_eq!(*fetch(&cache, 1, &op).await, 2);
    assert_eq!(op.invocations(), 2);

    // Expired, the fetch fails: fail-safe serves the old value.
    advance(secs(15)).await;
    let served = fetch(&cache, 1, &op).await;
    assert_eq!((*served, served.is_stale()), (2, true));
    assert_eq!(op.invocations(), 3);

    // A tag invalidation hides it.
    cache.invalidate_tag("t");
    assert!(cache.get(&1).await.is_none());
    assert_eq!(cache.snapshot().fetches, 3);
}

#[tokio::test(start_paused = true)]
async fn on_moka() {
    scenario::<MokaStore<u32, u32>>().await;
}

#[tokio::test(start_paused = true)]
async fn on_quick_cache() {
    scenario::<QuickCacheStore<u32, u32>>().await;
}
