//! A store on quick_cache: cheaper hits, expiry checked at read.

use std::fmt;
use std::future::{Future, ready};
use std::sync::Arc;

use super::{BuildStore, Capacity, Key, Store, Weigher};
use crate::Entry;

/// A [`Store`] on quick_cache (feature `quick_cache`): a sharded map with
/// CLOCK-Pro eviction whose hits cost a fraction of moka's.
///
/// It has no timer of its own: an entry past its
/// [`keep_for`](Entry::keep_for) is never served (the cache checks every
/// entry at read) and is dropped when read or when evicted for room. Its
/// bound is exact: the count never runs over it.
pub struct QuickCacheStore<K, V> {
    cache: quick_cache::sync::Cache<K, Arc<Entry<V>>, EntryWeigher<K, V>>,
}

struct EntryWeigher<K, V>(Option<Weigher<K, V>>);

impl<K, V> Clone for EntryWeigher<K, V> {
    fn clone(&self) -> Self {
        EntryWeigher(self.0.clone())
    }
}

impl<K, V> quick_cache::Weighter<K, Arc<Entry<V>>> for EntryWeigher<K, V> {
    #[inline]
    fn weight(&self, key: &K, entry: &Arc<Entry<V>>) -> u64 {
        // A zero weight would exempt the entry from eviction; count it as one.
        self.0
            .as_ref()
            .map_or(1, |weigher| u64::from(weigher(key, entry.value()).max(1)))
    }
}

impl<K: Key, V: Send + Sync + 'static> QuickCacheStore<K, V> {
    /// A store of at most `max_entries` entries.
    pub fn new(max_entries: u64) -> Self {
        Self::build(Capacity::Entries(max_entries))
    }
}

impl<K: Key, V: Send + Sync + 'static> BuildStore<K, V> for QuickCacheStore<K, V> {
    fn build(capacity: Capacity<K, V>) -> Self {
        let (items, weight, weigher) = match capacity {
            Capacity::Entries(max) => (max, max, EntryWeigher(None)),
            Capacity::Weight { max, weigher } => {
                (max.min(1 << 20), max, EntryWeigher(Some(weigher)))
            }
        };
        let items = usize::try_from(items).unwrap_or(usize::MAX);
        QuickCacheStore {
            cache: quick_cache::sync::Cache::with_weighter(items, weight, weigher),
        }
    }
}

impl<K: Key, V: Send + Sync + 'static> Store<K, V> for QuickCacheStore<K, V> {
    #[inline]
    fn get(&self, key: &K) -> impl Future<Output = Option<Arc<Entry<V>>>> + Send {
        ready(self.cache.get(key))
    }

    fn insert(&self, key: K, entry: Arc<Entry<V>>) -> impl Future<Output = ()> + Send {
        self.cache.insert(key, entry);
        ready(())
    }

    fn remove(&self, key: &K) -> impl Future<Output = ()> + Send {
        self.cache.remove(key);
        ready(())
    }

    fn clear(&self) -> impl Future<Output = ()> + Send {
        self.cache.clear();
        ready(())
    }

    fn entry_count(&self) -> u64 {
        self.cache.len() as u64
    }
}

impl<K, V> fmt::Debug for QuickCacheStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuickCacheStore").finish_non_exhaustive()
    }
}
