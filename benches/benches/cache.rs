//! Cache: a hit on a fresh entry among 10,000, keys cycling, beside moka and
//! quick_cache used raw; then the same with three tags on every entry.
//!
//! `cargo bench -p steadfast-benches --bench cache -- --warm-up-time 1 --measurement-time 3`

use std::cell::Cell;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use steadfast::cache::{BuildStore, Cache, FetchOptions, MokaStore, QuickCacheStore};
use steadfast_benches::{iter_async, runtime};

/// Entries filled before timing; the timed calls cycle over their keys.
const ENTRIES: u64 = 10_000;
/// Every cache's bound, well above the entries so nothing is evicted.
const CAPACITY: u64 = 100_000;

type Ours<S> = Cache<u64, Arc<u64>, Infallible, steadfast::DefaultClassifier, S>;

/// The next key of the cycle: every id advances its counter the same way.
fn next_key(counter: &Cell<u64>) -> u64 {
    let key = (counter.get() + 1) % ENTRIES;
    counter.set(key);
    key
}

/// The three tags of a tagged entry: its own, one of 100 shared, one for all.
fn tags(key: u64) -> FetchOptions {
    FetchOptions::new()
        .tag(format!("user:{key}"))
        .tag(format!("org:{}", key % 100))
        .tag("all")
}

/// Ours on store `S`, filled (with tags when `tagged`).
fn ours<S: BuildStore<u64, Arc<u64>>>(rt: &tokio::runtime::Runtime, tagged: bool) -> Ours<S> {
    let cache = Cache::<u64, Arc<u64>, Infallible>::builder()
        .max_entries(CAPACITY)
        .fresh_for(Duration::from_secs(3600))
        .store::<S>()
        .build()
        .expect("a valid config");
    rt.block_on(async {
        for key in 0..ENTRIES {
            if tagged {
                cache.insert_with(key, Arc::new(key), &tags(key)).await;
            } else {
                cache.insert(key, Arc::new(key)).await;
            }
        }
    });
    assert_hits(rt, &cache);
    cache
}

/// Checks that every key is a hit before timing.
fn assert_hits<S: BuildStore<u64, Arc<u64>>>(rt: &tokio::runtime::Runtime, cache: &Ours<S>) {
    rt.block_on(async {
        for key in 0..ENTRIES {
            assert!(cache.get(&key).await.is_some(), "key {key} is a miss");
        }
    });
}

/// Ours on the default (moka) store, filled, with moka's maintenance flushed.
fn ours_moka(rt: &tokio::runtime::Runtime, tagged: bool) -> Ours<MokaStore<u64, Arc<u64>>> {
    let cache = ours::<MokaStore<u64, Arc<u64>>>(rt, tagged);
    cache.store().run_pending_tasks();
    cache
}

/// Raw moka (its async cache), filled, with its maintenance flushed.
fn moka_raw(rt: &tokio::runtime::Runtime) -> moka::future::Cache<u64, Arc<u64>> {
    let cache = moka::future::Cache::new(CAPACITY);
    rt.block_on(async {
        for key in 0..ENTRIES {
            cache.insert(key, Arc::new(key)).await;
        }
        for key in 0..ENTRIES {
            assert!(cache.get(&key).await.is_some(), "key {key} is a miss");
        }
        cache.run_pending_tasks().await;
    });
    cache
}

/// Raw quick_cache, filled.
fn quick_cache_raw() -> quick_cache::sync::Cache<u64, Arc<u64>> {
    let cache = quick_cache::sync::Cache::new(usize::try_from(CAPACITY).expect("fits"));
    for key in 0..ENTRIES {
        cache.insert(key, Arc::new(key));
    }
    for key in 0..ENTRIES {
        assert!(cache.get(&key).is_some(), "key {key} is a miss");
    }
    cache
}

/// The raw peers, the same in both groups so each group's ratios come from one run.
fn peers(group: &mut BenchmarkGroup<'_, WallTime>, rt: &tokio::runtime::Runtime) {
    let moka = moka_raw(rt);
    let counter = Cell::new(0);
    group.bench_function("moka", |b| {
        iter_async(b, rt, || {
            let key = next_key(&counter);
            let moka = &moka;
            async move { moka.get(&key).await }
        });
    });

    let quick = quick_cache_raw();
    let counter = Cell::new(0);
    group.bench_function("quick_cache", |b| {
        iter_async(b, rt, || {
            let key = next_key(&counter);
            let quick = &quick;
            async move { quick.get(&key) }
        });
    });
}

fn cache_hit(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("cache_hit");

    let cache = ours_moka(&rt, false);
    let counter = Cell::new(0);
    group.bench_function("steadfast", |b| {
        iter_async(b, &rt, || {
            let key = next_key(&counter);
            let cache = &cache;
            async move { cache.get(&key).await }
        });
    });
    let counter = Cell::new(0);
    group.bench_function("steadfast_get_or_fetch", |b| {
        iter_async(b, &rt, || {
            let key = next_key(&counter);
            let cache = &cache;
            // Never called: every key is a fresh hit.
            async move { cache.get_or_fetch(&key, || async { Ok(Arc::new(0)) }).await }
        });
    });
    drop(cache);

    let quick = ours::<QuickCacheStore<u64, Arc<u64>>>(&rt, false);
    let counter = Cell::new(0);
    group.bench_function("steadfast_quick_cache", |b| {
        iter_async(b, &rt, || {
            let key = next_key(&counter);
            let quick = &quick;
            async move { quick.get(&key).await }
        });
    });
    drop(quick);

    peers(&mut group, &rt);
    group.finish();
}

fn cache_hit_tagged(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("cache_hit_tagged");

    let cache = ours_moka(&rt, true);
    let counter = Cell::new(0);
    group.bench_function("steadfast", |b| {
        iter_async(b, &rt, || {
            let key = next_key(&counter);
            let cache = &cache;
            async move { cache.get(&key).await }
        });
    });
    // An unrelated tag invalidated after the fill: every hit now checks its
    // three tags one by one (the path after any write that invalidates).
    cache.invalidate_tag("unrelated");
    let counter = Cell::new(0);
    group.bench_function("steadfast_after_invalidation", |b| {
        iter_async(b, &rt, || {
            let key = next_key(&counter);
            let cache = &cache;
            async move { cache.get(&key).await }
        });
    });
    drop(cache);

    let quick = ours::<QuickCacheStore<u64, Arc<u64>>>(&rt, true);
    let counter = Cell::new(0);
    group.bench_function("steadfast_quick_cache", |b| {
        iter_async(b, &rt, || {
            let key = next_key(&counter);
            let quick = &quick;
            async move { quick.get(&key).await }
        });
    });
    drop(quick);

    peers(&mut group, &rt);
    group.finish();
}

criterion_group!(benches, cache_hit, cache_hit_tagged);
criterion_main!(benches);
