//! Cache: a hit on a fresh entry among 10,000, keys cycling, beside moka and
//! quick_cache used raw (and moka's sync cache, the default store, for what
//! the cache's own layer costs); then the same with three tags on every entry.
//!
//! `cargo bench -p steadfast-benches --bench cache -- --warm-up-time 1 --measurement-time 3`

use std::cell::Cell;
use std::sync::Arc;

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use steadfast::cache::{MokaStore, QuickCacheStore, Store};
use steadfast_benches::cache::{
    Ours, moka_raw, moka_sync_raw, next_key, ours, ours_expiring, quick_cache_raw,
};
use steadfast_benches::{iter_async, runtime};

/// Ours on the default (moka) store, filled.
fn ours_moka(rt: &tokio::runtime::Runtime, tagged: bool) -> Ours<MokaStore<u64, Arc<u64>>> {
    ours::<MokaStore<u64, Arc<u64>>>(rt, tagged)
}

/// Times `cache.get` on the key cycle as id `id`.
fn hits<S: Store<u64, Arc<u64>>>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &tokio::runtime::Runtime,
    id: &str,
    cache: &Ours<S>,
) {
    let counter = Cell::new(0);
    group.bench_function(id, |b| {
        iter_async(b, rt, || {
            let key = next_key(&counter);
            async move { cache.get(&key).await }
        });
    });
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

    let moka_sync = moka_sync_raw();
    let counter = Cell::new(0);
    group.bench_function("moka_sync", |b| {
        iter_async(b, rt, || {
            let key = next_key(&counter);
            let moka = &moka_sync;
            async move { moka.get(&key) }
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
    hits(&mut group, &rt, "steadfast", &cache);
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
    hits(&mut group, &rt, "steadfast_quick_cache", &quick);
    drop(quick);

    // The default store with moka's per-entry expiry turned on.
    let expiring = ours_expiring(&rt);
    hits(&mut group, &rt, "steadfast_moka_expiring", &expiring);
    drop(expiring);

    peers(&mut group, &rt);
    group.finish();
}

fn cache_hit_tagged(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("cache_hit_tagged");

    let cache = ours_moka(&rt, true);
    hits(&mut group, &rt, "steadfast", &cache);
    // An unrelated tag invalidated after the fill: every hit now checks its
    // three tags one by one (the path after any write that invalidates).
    cache.invalidate_tag("unrelated");
    hits(&mut group, &rt, "steadfast_after_invalidation", &cache);
    drop(cache);

    let quick = ours::<QuickCacheStore<u64, Arc<u64>>>(&rt, true);
    hits(&mut group, &rt, "steadfast_quick_cache", &quick);
    drop(quick);

    peers(&mut group, &rt);
    group.finish();
}

criterion_group!(benches, cache_hit, cache_hit_tagged);
criterion_main!(benches);
