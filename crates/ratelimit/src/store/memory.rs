use std::fmt;
use std::hash::{BuildHasher, Hash, RandomState};

use super::{Change, Expiry, StateStore, StoreStats, Tally};
use crate::sharded::{self, ShardedMap};

/// The default [`StateStore`]: a sharded in-process map of `K -> u64`.
///
/// Full keys are forgotten as new keys arrive (amortised) and by the
/// limiter's background sweeper; with a maximum, the idlest keys are evicted
/// to make room. A tracked key costs its slot in a hash table: the key, one
/// `u64`, one control byte, at a load between 44% and 87.5%
/// (`size_of::<K>() + 9` bytes / load). [`stats`](StateStore::stats)
/// reports the heap bytes.
///
/// `S` hashes keys; std's `RandomState` (SipHash, randomly keyed) by default,
/// because keys are often chosen by clients (IPs, user names) and a
/// predictable hash would let them pile into one slot chain.
pub struct MemoryStore<K, S = RandomState> {
    map: ShardedMap<K, u64, S>,
}

impl<K, S> fmt::Debug for MemoryStore<K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> MemoryStore<K> {
    /// A store with no maximum number of keys.
    pub fn new() -> Self {
        MemoryStore::with_hasher(RandomState::new(), None)
    }

    /// A store holding at most about `max_keys` keys, evicting the idlest.
    pub fn with_max_keys(max_keys: usize) -> Self {
        MemoryStore::with_hasher(RandomState::new(), Some(max_keys))
    }
}

impl<K: Hash + Eq + Clone> Default for MemoryStore<K> {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl<K: Hash + Eq + Clone, S: BuildHasher> MemoryStore<K, S> {
    /// A store hashing with `hasher`, bounded by `max_keys` if given.
    ///
    /// With a maximum the keys are split over shards of equal share, so a
    /// shard may evict while others have room: the store never holds more
    /// than `max_keys`, and may hold a little less.
    pub fn with_hasher(hasher: S, max_keys: Option<usize>) -> Self {
        MemoryStore {
            map: ShardedMap::new(hasher, max_keys),
        }
    }

    /// The most keys this store holds, if bounded.
    pub fn max_keys(&self) -> Option<usize> {
        self.map.max_entries()
    }
}

impl<K, S> StateStore<K> for MemoryStore<K, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    S: BuildHasher + Send + Sync + 'static,
{
    #[inline]
    fn update<R>(
        &self,
        key: &K,
        now: u64,
        mut decide: impl FnMut(u64) -> Change<R>,
        expiry: &impl Expiry<K>,
    ) -> R {
        self.map.update(
            key,
            now,
            |state, tally| {
                let change = decide(state);
                match change.tally {
                    Tally::Admitted => tally.admitted += 1,
                    Tally::Rejected => tally.rejected += 1,
                    Tally::Neither => {}
                }
                (change.state, change.value)
            },
            |k, state, now| expiry.full_at(k, *state, now),
        )
    }

    fn get(&self, key: &K) -> u64 {
        self.map.get(key).unwrap_or(0)
    }

    fn give_back(&self, key: &K, f: impl FnOnce(u64) -> u64) {
        self.map.adjust(key, |state, tally: &mut sharded::Tally| {
            tally.admitted = tally.admitted.saturating_sub(1);
            f(state)
        });
    }

    fn sweep(&self, now: u64, expiry: &impl Expiry<K>) -> usize {
        self.map
            .sweep(now, |k, state, now| expiry.full_at(k, *state, now))
    }

    fn stats(&self) -> StoreStats {
        let (tracked, tally) = self.map.stats();
        StoreStats {
            tracked,
            admitted: tally.admitted,
            rejected: tally.rejected,
            heap_bytes: self.map.heap_bytes(),
        }
    }
}
