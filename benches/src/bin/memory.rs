//! Heap bytes per cache entry, under the counting allocator of `allocs`.
//!
//! `cargo run --release -p steadfast-benches --bin memory` builds each cache
//! of `benches/benches/cache.rs` (bound 100,000), inserts 10,000 `u64` keys
//! with `Arc<u64>` values, and prints one line per case:
//! `memory/ID bytes_per_entry=N empty_bytes=M marginal_bytes_per_entry=X`.
//!
//! `bytes_per_entry` is the net heap still held by the filled cache (bytes
//! allocated minus bytes freed, on this thread) over the entries;
//! `empty_bytes` is what the same cache holds with no entry (the tables a
//! store sizes from its bound up front), and `marginal_bytes_per_entry` is
//! the difference over the entries: what one more entry costs.

use std::sync::Arc;

use steadfast::cache::{MokaStore, QuickCacheStore};
use steadfast_benches::cache::{CAPACITY, ENTRIES, empty_ours as ours, fill_ours};
use steadfast_benches::runtime;

/// Net heap bytes held by `build(entries)`'s result, kept alive until measured.
fn held<T>(build: impl Fn(u64) -> T, entries: u64) -> i64 {
    let mut kept = None;
    let info = allocation_counter::measure(|| kept = Some(build(entries)));
    drop(kept);
    info.bytes_current
}

#[allow(clippy::cast_precision_loss)]
fn report<T>(case: &str, build: impl Fn(u64) -> T) {
    // Once unmeasured: lazily initialised global state (moka's clock, the
    // runtime's) is not per entry.
    drop(build(ENTRIES));
    let empty = held(&build, 0);
    let filled = held(&build, ENTRIES);
    let entries = ENTRIES as f64;
    println!(
        "memory/{case} bytes_per_entry={:.1} empty_bytes={empty} marginal_bytes_per_entry={:.1}",
        filled as f64 / entries,
        (filled - empty) as f64 / entries,
    );
}

fn main() {
    let rt = runtime();

    report("moka", |entries| {
        let cache = moka::sync::Cache::<u64, Arc<u64>>::new(CAPACITY);
        for key in 0..entries {
            cache.insert(key, Arc::new(key));
        }
        cache.run_pending_tasks();
        cache
    });
    report("steadfast", |entries| {
        let cache = ours::<MokaStore<u64, Arc<u64>>>();
        fill_ours(&rt, &cache, entries, false);
        cache
    });
    report("steadfast_tagged", |entries| {
        let cache = ours::<MokaStore<u64, Arc<u64>>>();
        fill_ours(&rt, &cache, entries, true);
        cache
    });
    report("steadfast_quick_cache", |entries| {
        let cache = ours::<QuickCacheStore<u64, Arc<u64>>>();
        fill_ours(&rt, &cache, entries, false);
        cache
    });
    report("steadfast_quick_cache_tagged", |entries| {
        let cache = ours::<QuickCacheStore<u64, Arc<u64>>>();
        fill_ours(&rt, &cache, entries, true);
        cache
    });
    report("quick_cache", |entries| {
        let cache = quick_cache::sync::Cache::<u64, Arc<u64>>::new(
            usize::try_from(CAPACITY).expect("fits"),
        );
        for key in 0..entries {
            cache.insert(key, Arc::new(key));
        }
        cache
    });
}
