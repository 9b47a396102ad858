//! The store's bound: the cache never holds more than it is allowed.

mod common;

use std::sync::Arc;

use common::builder;
use steadfast_cache::{Cache, MokaStore, QuickCacheStore, Store};
use steadfast_core::testing::TestError;

#[tokio::test]
async fn the_quick_cache_store_never_holds_more_than_its_bound() {
    let cache = builder()
        .max_entries(100)
        .store::<QuickCacheStore<u32, u32>>()
        .build()
        .unwrap();
    for key in 0..5_000 {
        cache.insert(key, key).await;
        assert!(cache.store().entry_count() <= 100, "after {key} inserts");
    }
}

#[tokio::test]
async fn the_moka_store_holds_its_bound_after_each_maintenance() {
    let cache = builder().max_entries(100).build().unwrap();
    for key in 0..5_000 {
        cache.insert(key, key).await;
        if key % 50 == 0 {
            cache.store().run_pending_tasks();
            assert!(cache.store().entry_count() <= 100, "after {key} inserts");
        }
    }
    cache.store().run_pending_tasks();
    assert!(cache.store().entry_count() <= 100);
}

#[tokio::test]
async fn a_weight_bound_counts_the_weigher_not_the_entries() {
    type Bytes = Arc<Vec<u8>>;
    let cache = Cache::<u32, Bytes, TestError>::builder()
        .max_weight(10_000, |_key, value: &Bytes| {
            u32::try_from(value.len()).unwrap_or(u32::MAX)
        })
        .build()
        .unwrap();
    for key in 0..200 {
        cache.insert(key, Arc::new(vec![0; 1_000])).await;
    }
    // 1,000 bytes each, 10,000 bytes allowed.
    cache.store().run_pending_tasks();
    assert!(cache.store().entry_count() <= 10);

    let quick = Cache::<u32, Bytes, TestError>::builder()
        .max_weight(10_000, |_key, value: &Bytes| {
            u32::try_from(value.len()).unwrap_or(u32::MAX)
        })
        .store::<QuickCacheStore<u32, Bytes>>()
        .build()
        .unwrap();
    for key in 0..200 {
        quick.insert(key, Arc::new(vec![0; 1_000])).await;
        assert!(quick.store().entry_count() <= 10);
    }
}

#[test]
fn a_weight_bound_without_a_weigher_is_a_config_error() {
    let mut config = steadfast_cache::CacheConfig::default();
    config.max_weight = Some(1_000);
    let error = builder().config(config).build().unwrap_err();
    assert_eq!(error.field(), "max_weight");
    // A store made elsewhere brings its own bound: no weigher needed.
    let config = steadfast_cache::CacheConfig::default();
    builder()
        .config(config)
        .build_with_store(MokaStore::new(10))
        .unwrap();
}
