//! Cache: a hit on a fresh entry among 10,000, keys cycling, beside moka and
//! quick_cache used raw (and moka's sync cache, the default store, for what
//! the cache's own layer costs) and amalgam-cache (a FusionCache port, in
//! memory only); then the same with three tags on every entry.
//!
//! `cargo bench -p steadfast-benches --bench cache -- --warm-up-time 1 --measurement-time 3`

use std::cell::Cell;
use std::sync::Arc;

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use steadfast::cache::{MokaStore, QuickCacheStore, Store};
use steadfast_benches::cache::{
    Amalgam, Ours, amalgam_raw, moka_raw, moka_sync_raw, next_key, ours, ours_expiring,
    quick_cache_raw,
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

/// Times amalgam's `try_get` on the key cycle as id `id`: its read that never
/// runs a factory (our `get`; `get_or_set` is our `get_or_fetch`). A fresh L1
/// hit in a memory-only cache answers on the first poll.
fn amalgam_hits(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &tokio::runtime::Runtime,
    id: &str,
    amalgam: &Amalgam,
) {
    let counter = Cell::new(0);
    group.bench_function(id, |b| {
        iter_async(b, rt, || {
            let key = amalgam.next_key(&counter);
            async move { amalgam.cache.try_get(key).await }
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

    let amalgam = amalgam_raw(&rt, false);
    amalgam_hits(&mut group, &rt, "amalgam-cache", &amalgam);
    let counter = Cell::new(0);
    group.bench_function("amalgam-cache_get_or_set", |b| {
        iter_async(b, &rt, || {
            let key = amalgam.next_key(&counter);
            let cache = &amalgam.cache;
            // Never called: every key is a fresh hit.
            async move {
                cache
                    .get_or_set(key, |_| async {
                        Ok::<_, std::convert::Infallible>(Arc::new(0))
                    })
                    .await
            }
        });
    });
    drop(amalgam);

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

    // amalgam keeps an entry's tags on the entry and checks them on a hit
    // against the tags invalidated so far (none until the first
    // `remove_by_tag`, then one lookup per tag), as ours does.
    let amalgam = amalgam_raw(&rt, true);
    amalgam_hits(&mut group, &rt, "amalgam-cache", &amalgam);
    rt.block_on(async {
        let cache = &amalgam.cache;
        cache
            .remove_by_tag("unrelated")
            .await
            .expect("a tag removal");
        let hit = cache.try_get(&amalgam.keys[0]).await.expect("a read");
        assert!(hit.is_some(), "an unrelated tag removes nothing");
    });
    amalgam_hits(
        &mut group,
        &rt,
        "amalgam-cache_after_invalidation",
        &amalgam,
    );
    drop(amalgam);

    peers(&mut group, &rt);
    group.finish();
}

criterion_group!(benches, cache_hit, cache_hit_tagged);
criterion_main!(benches);
