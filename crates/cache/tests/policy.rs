//! The cache as a policy in a pipeline, the direct API's odds and ends,
//! the snapshot, the config and the auto traits.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{SECOND, TestCache, builder, secs};
use steadfast_cache::fetched;
use steadfast_cache::{
    Cache, CacheBuilder, CacheConfig, CacheSnapshot, Cached, Entry, FetchOptions, Freshness,
    MokaStore, QuickCacheStore, StaleReason, Store, Tag,
};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Context, Error, Inspect, MissingKey, Outcome, Pipeline, Policy, Timeout};
use tokio::time::advance;

#[tokio::test(start_paused = true)]
async fn in_a_pipeline_hits_skip_everything_inside() {
    let cache = builder().fresh_for(secs(60)).build().unwrap();
    let pipeline = Pipeline::new(cache.clone()).then(Timeout::new(SECOND).unwrap());
    let op = ScriptedOp::<u32, TestError>::always_ok(5);
    for _ in 0..3 {
        let value = pipeline
            .call_with(Context::new().with_key(&1u32), op.clone())
            .await
            .unwrap();
        assert_eq!(value, 5);
    }
    assert_eq!(op.invocations(), 1);
    let snapshot = cache.snapshot();
    assert_eq!(
        (snapshot.hits, snapshot.misses, snapshot.fetches),
        (2, 1, 1)
    );
    assert!((snapshot.hit_ratio() - 2.0 / 3.0).abs() < 1e-9);
}

#[tokio::test(start_paused = true)]
async fn a_call_without_a_key_of_the_cache_type_is_refused() {
    let cache = builder().name("prompts").build().unwrap();
    let op = ScriptedOp::<u32, TestError>::always_ok(5);
    let expected: Error<TestError> = MissingKey::new::<u32>("prompts").into();
    assert_eq!(cache.call(op.clone()).await, Err(expected.clone()));
    let answer = cache
        .call_with(Context::new().with_key(&"not a u32"), op.clone())
        .await;
    assert_eq!(answer, Err(expected.clone()));
    // The same through a pipeline, answering `Cached<u32>`.
    let pipeline = Pipeline::new(cache.clone()).then(Timeout::new(SECOND).unwrap());
    let answer = pipeline.call(fetched(op.clone())).await;
    assert_eq!(answer, Err(expected));
    let error = cache.call(op.clone()).await.unwrap_err();
    assert!(error.is_local_refusal());
    assert_eq!(error.policy_name(), Some("prompts"));
    assert_eq!(op.invocations(), 0, "nothing ran uncached");
    let snapshot = cache.snapshot();
    assert_eq!((snapshot.missing_keys, snapshot.bypassed), (4, 0));
}

#[tokio::test(start_paused = true)]
async fn with_pass_through_unkeyed_a_call_without_a_key_runs_uncached() {
    let op = ScriptedOp::<u32, TestError>::always_ok(5);
    let from_builder = builder().pass_through_unkeyed(true).build().unwrap();
    let mut config = CacheConfig::default();
    config.pass_through_unkeyed = true;
    let from_config = TestCache::from_config(config).unwrap();
    for cache in [from_builder, from_config] {
        assert_eq!(cache.call(op.clone()).await, Ok(5));
        assert_eq!(
            cache
                .call_with(Context::new().with_key(&"not a u32"), op.clone())
                .await,
            Ok(5)
        );
        let snapshot = cache.snapshot();
        assert_eq!((snapshot.bypassed, snapshot.missing_keys), (2, 0));
        assert_eq!(cache.get(&5).await, None, "nothing was stored");
    }
    assert_eq!(op.invocations(), 4);
}

#[tokio::test(start_paused = true)]
async fn in_a_pipeline_a_stale_hit_is_refreshed_by_the_caller_that_claims_it() {
    let cache = builder()
        .fresh_for(secs(10))
        .stale_for(secs(60))
        .soft_timeout(std::time::Duration::from_millis(100))
        .build()
        .unwrap();
    let op = ScriptedOp::new([Step::ok(1), Step::<u32, TestError>::ok(2)]);
    let ctx = |key: &'static u32| Context::new().with_key(key);
    assert_eq!(cache.call_with(ctx(&1), op.clone()).await.unwrap(), 1);
    advance(secs(10)).await;
    // The claiming caller refreshes at once (the fetch is ready).
    assert_eq!(cache.call_with(ctx(&1), op.clone()).await.unwrap(), 2);
    assert_eq!((op.invocations(), cache.snapshot().refreshes), (2, 1));

    // A slow refresh: the claiming caller is served stale at the soft timeout.
    let slow = ScriptedOp::new([Step::<u32, TestError>::ok(3).after(SECOND)]);
    advance(secs(10)).await;
    assert_eq!(cache.call_with(ctx(&1), slow.clone()).await.unwrap(), 2);
    assert_eq!(
        slow.cancelled(),
        1,
        "the refresh borrowed the caller: it ends with it"
    );
    // Its claim was given back: the next stale hit refreshes again.
    let quick = ScriptedOp::new([Step::<u32, TestError>::ok(4)]);
    assert_eq!(cache.call_with(ctx(&1), quick.clone()).await.unwrap(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_classifier_keeps_failures_inside_ok_out_of_the_cache() {
    // 500 and up is a server error: a failure, never stored.
    let cache = Cache::<u32, u32, TestError>::builder()
        .classifier(|result: &Result<u32, TestError>| match result {
            Ok(status) if *status >= 500 => Outcome::Failure,
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        })
        .fail_safe(secs(60), secs(5))
        .fresh_for(secs(10))
        .build()
        .unwrap();
    let op = ScriptedOp::new([Step::ok(200), Step::<u32, TestError>::ok(503)]);
    common_fetch(&cache, &op).await;
    advance(secs(10)).await;
    let served = common_fetch(&cache, &op).await;
    assert_eq!(
        (*served, served.freshness()),
        (
            200,
            Freshness::Stale {
                age: secs(10),
                reason: StaleReason::FetchFailed
            }
        )
    );
}

async fn common_fetch(
    cache: &Cache<u32, u32, TestError, impl steadfast_core::Classifier<u32, TestError> + 'static>,
    op: &ScriptedOp<u32, TestError>,
) -> Cached<u32> {
    cache
        .get_or_fetch_through(
            &1,
            FetchOptions::new(),
            &steadfast_core::Identity,
            op.clone(),
        )
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn get_or_fetch_runs_a_plain_closure_once() {
    let cache: TestCache = builder().build().unwrap();
    let calls = Arc::new(AtomicU32::new(0));
    for _ in 0..3 {
        let calls = Arc::clone(&calls);
        let value = cache
            .get_or_fetch(&9, move || async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<_, TestError>(81)
            })
            .await
            .unwrap();
        assert_eq!(*value, 81);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // The futures are Send: callers may be spawned.
    let spawned = tokio::spawn({
        let cache = cache.clone();
        async move { cache.get_or_fetch(&10, || async { Ok(100) }).await }
    });
    assert_eq!(*spawned.await.unwrap().unwrap(), 100);
}

#[tokio::test(start_paused = true)]
async fn the_snapshot_counts_every_path() {
    let cache = builder()
        .fresh_for(secs(10))
        .stale_for(secs(10))
        .build()
        .unwrap();
    cache.insert_with(1, 1, &FetchOptions::new().tag("a")).await;
    cache.get(&1).await;
    advance(secs(10)).await;
    cache.get(&1).await;
    cache.get(&2).await;
    // moka counts entries in its batched maintenance.
    cache.store().run_pending_tasks();
    let snapshot: CacheSnapshot = cache.snapshot();
    assert_eq!(snapshot.name.as_str(), "cache");
    assert_eq!(cache.name(), "cache");
    assert_eq!(
        (snapshot.hits, snapshot.stale_hits, snapshot.misses),
        (1, 1, 1)
    );
    assert_eq!(
        (snapshot.entries, snapshot.tags, snapshot.in_flight),
        (1, 1, 0)
    );
    assert_eq!(snapshot.stale_served(), 1);
}

#[test]
fn the_config_deserializes_and_is_validated() {
    let config: CacheConfig = serde_json::from_str(
        r#"{ "name": "profiles", "fresh_for": "30s", "stale_for": "5m",
             "fail_safe_max_age": "1h", "soft_timeout": "100ms", "hard_timeout": "2s",
             "eager_refresh": 0.9, "max_entries": 500 }"#,
    )
    .unwrap();
    assert_eq!(config.fail_safe_max_age, Some(secs(3600)));
    let cache = builder().config(config).build().unwrap();
    assert_eq!(cache.config().max_entries, 500);

    let error = builder().eager_refresh(1.5).build().unwrap_err();
    assert_eq!(error.field(), "eager_refresh");
    assert!(error.to_string().contains("eager_refresh"), "{error}");
    let unknown = serde_json::from_str::<CacheConfig>(r#"{ "ttl": "1s" }"#);
    assert!(unknown.is_err());
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<TestCache>();
    check::<Cache<u32, u32, TestError, steadfast_core::DefaultClassifier, QuickCacheStore<u32, u32>>>(
    );
    check::<CacheBuilder<u32, u32, TestError>>();
    check::<CacheConfig>();
    check::<CacheSnapshot>();
    check::<Cached<u32>>();
    check::<Entry<u32>>();
    check::<FetchOptions>();
    check::<MokaStore<u32, u32>>();
    check::<Tag>();
}
