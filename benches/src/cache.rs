//! The cache fixtures shared by `benches/cache.rs` and the `allocs`,
//! `memory` and `icount` bins: 10,000 `u64` keys with `Arc<u64>` values,
//! every cache bounded at 100,000 so nothing is evicted.

use std::cell::Cell;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use steadfast::cache::{BuildStore, Cache, Capacity, FetchOptions, MokaStore, Store};

/// Entries filled before timing; the timed calls cycle over their keys.
pub const ENTRIES: u64 = 10_000;
/// Every cache's bound, well above the entries so nothing is evicted.
pub const CAPACITY: u64 = 100_000;

/// steadfast's cache on store `S`.
pub type Ours<S> = Cache<u64, Arc<u64>, Infallible, steadfast::DefaultClassifier, S>;

/// The next key of the cycle: every id advances its counter the same way.
pub fn next_key(counter: &Cell<u64>) -> u64 {
    let key = (counter.get() + 1) % ENTRIES;
    counter.set(key);
    key
}

/// The three tags of a tagged entry: its own, one of 100 shared, one for all.
pub fn tags(key: u64) -> FetchOptions {
    FetchOptions::new()
        .tag(format!("user:{key}"))
        .tag(format!("org:{}", key % 100))
        .tag("all")
}

/// An empty cache of ours on store `S`, every entry fresh for an hour.
///
/// # Panics
///
/// Never: the config is valid.
pub fn empty_ours<S: BuildStore<u64, Arc<u64>>>() -> Ours<S> {
    Cache::<u64, Arc<u64>, Infallible>::builder()
        .max_entries(CAPACITY)
        .fresh_for(Duration::from_secs(3600))
        .store::<S>()
        .build()
        .expect("a valid config")
}

/// Inserts keys `0..entries` (with [`tags`] when `tagged`), then lets the
/// store finish its maintenance (moka's).
pub fn fill_ours<S: Store<u64, Arc<u64>>>(
    rt: &tokio::runtime::Runtime,
    cache: &Ours<S>,
    entries: u64,
    tagged: bool,
) {
    rt.block_on(async {
        for key in 0..entries {
            if tagged {
                cache.insert_with(key, Arc::new(key), &tags(key)).await;
            } else {
                cache.insert(key, Arc::new(key)).await;
            }
        }
    });
    cache.store().run_pending_tasks();
}

/// Ours on store `S`, filled, every key checked to be a hit.
///
/// # Panics
///
/// When a key is not a hit after the fill.
pub fn ours<S: BuildStore<u64, Arc<u64>>>(rt: &tokio::runtime::Runtime, tagged: bool) -> Ours<S> {
    filled(rt, empty_ours::<S>(), tagged)
}

/// Ours on moka with moka's per-entry expiry on ([`MokaStore::expiring`]),
/// filled: what that option costs a hit.
///
/// # Panics
///
/// When a key is not a hit after the fill.
pub fn ours_expiring(rt: &tokio::runtime::Runtime) -> Ours<MokaStore<u64, Arc<u64>>> {
    let cache = Cache::<u64, Arc<u64>, Infallible>::builder()
        .fresh_for(Duration::from_secs(3600))
        .build_with_store(MokaStore::expiring(Capacity::Entries(CAPACITY)))
        .expect("a valid config");
    filled(rt, cache, false)
}

fn filled<S: Store<u64, Arc<u64>>>(
    rt: &tokio::runtime::Runtime,
    cache: Ours<S>,
    tagged: bool,
) -> Ours<S> {
    fill_ours(rt, &cache, ENTRIES, tagged);
    rt.block_on(async {
        for key in 0..ENTRIES {
            assert!(cache.get(&key).await.is_some(), "key {key} is a miss");
        }
    });
    cache
}

/// Raw moka (its async cache, the peer `benchmarks.md` names), filled, its
/// maintenance flushed.
///
/// # Panics
///
/// When a key is not a hit after the fill.
pub fn moka_raw(rt: &tokio::runtime::Runtime) -> moka::future::Cache<u64, Arc<u64>> {
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

/// Raw moka's sync cache, the store under steadfast's default: shows what
/// the cache's own layer costs on top of it.
///
/// # Panics
///
/// When a key is not a hit after the fill.
pub fn moka_sync_raw() -> moka::sync::Cache<u64, Arc<u64>> {
    let cache = moka::sync::Cache::new(CAPACITY);
    for key in 0..ENTRIES {
        cache.insert(key, Arc::new(key));
    }
    for key in 0..ENTRIES {
        assert!(cache.get(&key).is_some(), "key {key} is a miss");
    }
    cache.run_pending_tasks();
    cache
}

/// Raw quick_cache, filled.
///
/// # Panics
///
/// When a key is not a hit after the fill.
pub fn quick_cache_raw() -> quick_cache::sync::Cache<u64, Arc<u64>> {
    let cache = quick_cache::sync::Cache::new(usize::try_from(CAPACITY).expect("fits"));
    for key in 0..ENTRIES {
        cache.insert(key, Arc::new(key));
    }
    for key in 0..ENTRIES {
        assert!(cache.get(&key).is_some(), "key {key} is a miss");
    }
    cache
}

/// amalgam-cache in memory only (no L2, no backplane), filled with the same
/// entries: its keys are strings, so they are formatted once here and a
/// timed call only borrows one.
pub struct Amalgam {
    /// The cache, every entry fresh for an hour.
    pub cache: amalgam::Cache<Arc<u64>>,
    /// `keys[k]` is key `k` as amalgam holds it.
    pub keys: Vec<String>,
}

impl std::fmt::Debug for Amalgam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Amalgam")
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

impl Amalgam {
    /// The key [`next_key`] picks next, as amalgam's string key.
    ///
    /// # Panics
    ///
    /// Never: every key of the cycle was formatted.
    pub fn next_key(&self, counter: &Cell<u64>) -> &str {
        &self.keys[usize::try_from(next_key(counter)).expect("fits")]
    }
}

/// [`Amalgam`], filled (with [`tags`]' three tags when `tagged`), its
/// maintenance run, every key checked to be a hit.
///
/// # Panics
///
/// When the cache does not build, or a key is not a hit after the fill.
pub fn amalgam_raw(rt: &tokio::runtime::Runtime, tagged: bool) -> Amalgam {
    let keys: Vec<String> = (0..ENTRIES).map(|key| key.to_string()).collect();
    rt.block_on(async {
        // Its default is 30 s fresh and no bound: ours is an hour and 100,000.
        let cache = amalgam::Cache::<Arc<u64>>::builder()
            .max_capacity(CAPACITY)
            .default_options(amalgam::EntryOptions::new(Duration::from_secs(3600)))
            .try_build()
            .expect("a valid config");
        for (key, name) in (0..ENTRIES).zip(&keys) {
            let set = cache.set(name, Arc::new(key));
            if tagged {
                set.tags([
                    format!("user:{key}"),
                    format!("org:{}", key % 100),
                    "all".to_owned(),
                ])
                .await
            } else {
                set.await
            }
            .expect("a set");
        }
        cache.run_pending_tasks().await.expect("maintenance");
        for name in &keys {
            let hit = cache.try_get(name).await.expect("a read");
            assert!(hit.is_some(), "key {name} is a miss");
        }
        Amalgam { cache, keys }
    })
}
