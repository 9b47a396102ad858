//! The default store: a moka `sync::Cache` with per-entry expiry.

use std::fmt;
use std::future::{Future, ready};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;

use super::{BuildStore, Capacity, Key, Store};
use crate::Entry;

/// The default [`Store`]: moka's concurrent cache (TinyLFU admission, LRU
/// eviction), bounded in entries or weight.
///
/// Built by the cache, it leaves expiry to the cache: an entry past its
/// [`keep_for`](Entry::keep_for) is never served, is replaced by the fetch
/// its next read starts, and goes when evicted for room. moka's per-entry
/// expiry would drop it promptly, but adds 30–60 ns to every hit
/// (measured in docs/performance.md); [`MokaStore::expiring`] turns it on
/// for caches of large values that are rarely read again.
///
/// moka enforces its bound in batched maintenance after writes, so the count
/// may run over the bound between two maintenance passes;
/// [`Store::run_pending_tasks`] runs one now.
pub struct MokaStore<K, V> {
    cache: moka::sync::Cache<K, Arc<Entry<V>>>,
}

struct KeepFor;

impl<K, V> Expiry<K, Arc<Entry<V>>> for KeepFor {
    fn expire_after_create(&self, _: &K, entry: &Arc<Entry<V>>, _: Instant) -> Option<Duration> {
        Some(entry.keep_for())
    }

    fn expire_after_update(
        &self,
        _: &K,
        entry: &Arc<Entry<V>>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.keep_for())
    }
}

impl<K: Key, V: Send + Sync + 'static> MokaStore<K, V> {
    /// A store of at most `max_entries` entries.
    pub fn new(max_entries: u64) -> Self {
        Self::build(Capacity::Entries(max_entries))
    }

    /// A store bounded by `capacity` that also drops each entry once its
    /// [`keep_for`](Entry::keep_for) has passed (moka's per-entry expiry),
    /// at 30–60 ns more per hit (`cache_hit/steadfast_moka_expiring`). Use it with
    /// [`CacheBuilder::build_with_store`](crate::CacheBuilder::build_with_store).
    pub fn expiring(capacity: Capacity<K, V>) -> Self {
        Self::with(capacity, true)
    }

    fn with(capacity: Capacity<K, V>, expiring: bool) -> Self {
        let mut builder = moka::sync::Cache::builder();
        builder = match capacity {
            Capacity::Entries(max) => builder.max_capacity(max),
            Capacity::Weight { max, weigher } => builder
                .max_capacity(max)
                .weigher(move |key: &K, entry: &Arc<Entry<V>>| weigher(key, entry.value())),
        };
        let cache = if expiring {
            builder.expire_after(KeepFor).build()
        } else {
            builder.build()
        };
        MokaStore { cache }
    }
}

impl<K: Key, V: Send + Sync + 'static> BuildStore<K, V> for MokaStore<K, V> {
    fn build(capacity: Capacity<K, V>) -> Self {
        Self::with(capacity, false)
    }
}

impl<K: Key, V: Send + Sync + 'static> Store<K, V> for MokaStore<K, V> {
    #[inline]
    fn get(&self, key: &K) -> impl Future<Output = Option<Arc<Entry<V>>>> + Send {
        ready(self.cache.get(key))
    }

    fn insert(&self, key: K, entry: Arc<Entry<V>>) -> impl Future<Output = ()> + Send {
        self.cache.insert(key, entry);
        ready(())
    }

    fn remove(&self, key: &K) -> impl Future<Output = ()> + Send {
        self.cache.invalidate(key);
        ready(())
    }

    fn clear(&self) -> impl Future<Output = ()> + Send {
        self.cache.invalidate_all();
        ready(())
    }

    fn entry_count(&self) -> u64 {
        self.cache.entry_count()
    }

    /// Runs moka's pending maintenance (evictions to the bound, expiries) now.
    fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks();
    }
}

impl<K, V> fmt::Debug for MokaStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MokaStore").finish_non_exhaustive()
    }
}
