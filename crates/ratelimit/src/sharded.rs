//! A sharded hash map of small `Copy` states that forgets full entries by itself.
//!
//! Keyed limiters, lockouts and abuse counters keep one small state per key.
//! Memory must stay bounded with no cleanup call from the user, so:
//!
//! - each shard sweeps itself when an insert finds it at its sweep mark
//!   (twice its size after the last sweep): entries whose state is back to
//!   "full" are dropped, so the cost is amortised O(1) per insert;
//! - with a maximum, a shard at its share of the maximum evicts its idlest
//!   eighth (the entries that became or become full first) in one pass;
//! - [`ShardedMap::sweep`] drops every full entry (the background sweeper
//!   calls it, so idle keys go even when no new key arrives).
//!
//! A key is hashed once: the hash picks the shard and is reused for the
//! lookup (`hashbrown::HashTable` takes a precomputed hash). Each shard is a
//! `parking_lot::Mutex` held for a lookup and a few instructions, on its own
//! cache line so two threads on different shards do not share one.

use std::hash::{BuildHasher, Hash, Hasher};

use hashbrown::HashTable;
use parking_lot::Mutex;

/// Inserts before a shard's first sweep.
const FIRST_SWEEP: usize = 64;
/// Shards when there is no maximum: enough that a few threads rarely meet.
const SHARDS: usize = 64;

/// Counters kept per shard, so counting costs no shared cache line.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tally {
    pub(crate) admitted: u64,
    pub(crate) rejected: u64,
}

#[derive(Debug)]
struct Shard<K, V> {
    table: HashTable<(K, V)>,
    sweep_at: usize,
    tally: Tally,
}

#[derive(Debug)]
#[repr(align(64))]
struct Padded<T>(T);

type Shards<K, V> = Box<[Padded<Mutex<Shard<K, V>>>]>;

/// See the [module docs](self).
#[derive(Debug)]
pub(crate) struct ShardedMap<K, V, S> {
    shards: Shards<K, V>,
    hasher: S,
    mask: usize,
    /// The most entries one shard may hold (`usize::MAX`: no maximum).
    cap: usize,
}

impl<K, V, S> ShardedMap<K, V, S>
where
    K: Hash + Eq + Clone,
    V: Copy + Default,
    S: BuildHasher,
{
    /// A map holding at most `max_keys` entries, if given.
    pub(crate) fn new(hasher: S, max_keys: Option<usize>) -> Self {
        let (shards, cap) = match max_keys {
            // Every shard gets at least ~256 of the maximum, so the share of
            // one shard is never tiny; the total never exceeds the maximum.
            Some(max) => {
                let shards = (max / 256).next_power_of_two().clamp(1, SHARDS);
                (shards, (max / shards).max(1))
            }
            None => (SHARDS, usize::MAX),
        };
        ShardedMap {
            shards: (0..shards)
                .map(|_| {
                    Padded(Mutex::new(Shard {
                        table: HashTable::new(),
                        sweep_at: FIRST_SWEEP.min(cap),
                        tally: Tally::default(),
                    }))
                })
                .collect(),
            hasher,
            mask: shards - 1,
            cap,
        }
    }

    /// `hash_one`, inlined into the hot path (measured: as a call it cost
    /// the keyed check a call, a spill and a return).
    // Deliberately not `hash_one`: that one stays an out-of-line call.
    #[allow(clippy::inline_always, clippy::manual_hash_one)]
    #[inline(always)]
    fn hash(&self, key: &K) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        key.hash(&mut hasher);
        hasher.finish()
    }

    #[inline]
    fn shard(&self, hash: u64) -> &Mutex<Shard<K, V>> {
        // Bits 32.. pick the shard: hashbrown uses the low bits for the slot
        // and the top seven for its tag, so these are independent of both.
        #[allow(clippy::cast_possible_truncation)]
        let index = (hash >> 32) as usize & self.mask;
        &self.shards[index].0
    }

    /// Runs `f` on the key's state (`V::default()` when absent, meaning
    /// full) under the shard's lock; stores what it returns, if anything.
    ///
    /// `full_at(key, state, now)` says when a state is back to full, for the
    /// sweep and eviction an insert may run.
    #[inline]
    pub(crate) fn update<R>(
        &self,
        key: &K,
        now: u64,
        f: impl FnOnce(V, &mut Tally) -> (Option<V>, R),
        full_at: impl Fn(&K, &V, u64) -> u64,
    ) -> R {
        let hash = self.hash(key);
        let mut guard = self.shard(hash).lock();
        let shard = &mut *guard;
        if let Some((_, state)) = shard.table.find_mut(hash, |(k, _)| k == key) {
            let (new, r) = f(*state, &mut shard.tally);
            if let Some(new) = new {
                *state = new;
            }
            return r;
        }
        let (new, r) = f(V::default(), &mut shard.tally);
        if let Some(new) = new {
            self.insert(shard, hash, key.clone(), new, now, &full_at);
        }
        r
    }

    #[cold]
    fn insert(
        &self,
        shard: &mut Shard<K, V>,
        hash: u64,
        key: K,
        state: V,
        now: u64,
        full_at: &impl Fn(&K, &V, u64) -> u64,
    ) {
        if shard.table.len() >= shard.sweep_at {
            self.sweep_shard(shard, now, full_at);
        }
        if shard.table.len() >= self.cap {
            evict_idlest(shard, now, full_at);
        }
        let hasher = &self.hasher;
        shard
            .table
            .insert_unique(hash, (key, state), |(k, _)| hasher.hash_one(k));
    }

    fn sweep_shard(
        &self,
        shard: &mut Shard<K, V>,
        now: u64,
        full_at: &impl Fn(&K, &V, u64) -> u64,
    ) -> usize {
        let before = shard.table.len();
        shard.table.retain(|(k, v)| full_at(k, v, now) > now);
        let after = shard.table.len();
        // Give memory back once most of it is empty (a burst of keys gone).
        if shard.table.capacity() > FIRST_SWEEP && after < shard.table.capacity() / 4 {
            let hasher = &self.hasher;
            shard
                .table
                .shrink_to(after * 2, |(k, _)| hasher.hash_one(k));
        }
        shard.sweep_at = (after * 2).max(FIRST_SWEEP).min(self.cap);
        before - after
    }

    /// The state of `key`, if it is tracked.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let hash = self.hasher.hash_one(key);
        let guard = self.shard(hash).lock();
        guard.table.find(hash, |(k, _)| k == key).map(|(_, v)| *v)
    }

    /// Changes the state of a tracked key (a give-back); absent keys stay absent.
    pub(crate) fn adjust(&self, key: &K, f: impl FnOnce(V, &mut Tally) -> V) {
        let hash = self.hasher.hash_one(key);
        let mut guard = self.shard(hash).lock();
        let shard = &mut *guard;
        if let Some((_, state)) = shard.table.find_mut(hash, |(k, _)| k == key) {
            *state = f(*state, &mut shard.tally);
        }
    }

    /// Forgets `key`.
    pub(crate) fn remove(&self, key: &K) {
        let hash = self.hasher.hash_one(key);
        let mut guard = self.shard(hash).lock();
        if let Ok(entry) = guard.table.find_entry(hash, |(k, _)| k == key) {
            entry.remove();
        }
    }

    /// Drops every entry that is full at `now`; returns how many.
    pub(crate) fn sweep(&self, now: u64, full_at: impl Fn(&K, &V, u64) -> u64) -> usize {
        self.shards
            .iter()
            .map(|shard| self.sweep_shard(&mut shard.0.lock(), now, &full_at))
            .sum()
    }

    /// Entries tracked now, and the counters of every shard.
    pub(crate) fn stats(&self) -> (usize, Tally) {
        self.shards
            .iter()
            .fold((0, Tally::default()), |(len, tally), shard| {
                let shard = shard.0.lock();
                (
                    len + shard.table.len(),
                    Tally {
                        admitted: tally.admitted + shard.tally.admitted,
                        rejected: tally.rejected + shard.tally.rejected,
                    },
                )
            })
    }

    /// Heap bytes held by the tables (slots and control bytes).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                let buckets = shard.0.lock().table.capacity();
                if buckets == 0 {
                    return 0;
                }
                // hashbrown keeps 7/8 of its power-of-two buckets usable.
                let buckets = (buckets * 8 / 7).next_power_of_two();
                buckets * (std::mem::size_of::<(K, V)>() + 1) + 16
            })
            .sum()
    }

    /// The most entries the map holds, if bounded.
    pub(crate) fn max_entries(&self) -> Option<usize> {
        (self.cap != usize::MAX).then(|| self.cap * self.shards.len())
    }
}

/// Drops the idlest eighth of a full shard (at least one entry): those that
/// are, or will be, back to full first.
#[cold]
fn evict_idlest<K, V>(shard: &mut Shard<K, V>, now: u64, full_at: &impl Fn(&K, &V, u64) -> u64) {
    let mut order: Vec<u64> = shard
        .table
        .iter()
        .map(|(k, v)| full_at(k, v, now))
        .collect();
    let count = (order.len() / 8).max(1);
    let threshold = *order.select_nth_unstable(count - 1).1;
    // Below the threshold all go; at it, only as many as are still needed.
    let below = order.iter().filter(|&&t| t < threshold).count();
    let mut at_threshold = count - below;
    shard.table.retain(|(k, v)| {
        let t = full_at(k, v, now);
        if t < threshold {
            false
        } else if t == threshold && at_threshold > 0 {
            at_threshold -= 1;
            false
        } else {
            true
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::RandomState;

    type Map = ShardedMap<u64, u64, RandomState>;

    #[allow(clippy::trivially_copy_pass_by_ref)] // the map's callback signature
    fn full_at(_: &u64, v: &u64, _: u64) -> u64 {
        *v
    }

    fn set(map: &Map, key: u64, value: u64, now: u64) {
        map.update(&key, now, |_, _| (Some(value), ()), full_at);
    }

    #[test]
    fn inserts_sweep_full_entries() {
        let map = Map::new(RandomState::new(), None);
        for key in 0..10_000 {
            set(&map, key, 100, 0);
        }
        assert_eq!(map.stats().0, 10_000);
        // At time 200 all are full; new inserts sweep shard by shard.
        for key in 10_000..20_000 {
            set(&map, key, 300, 200);
        }
        assert!(map.stats().0 < 20_000);
        map.sweep(200, full_at);
        assert_eq!(map.stats().0, 10_000);
        assert_eq!(map.sweep(300, full_at), 10_000);
        assert_eq!(map.stats().0, 0);
        assert_eq!(map.heap_bytes(), 0);
    }

    #[test]
    fn a_maximum_evicts_the_idlest() {
        let map = Map::new(RandomState::new(), Some(100));
        assert_eq!(map.max_entries(), Some(100));
        for key in 0..100 {
            set(&map, key, 1_000 + key, 0);
        }
        assert_eq!(map.stats().0, 100);
        set(&map, 1_000, 5_000, 0);
        // One pass dropped the 12 idlest (the smallest states) for the newcomer.
        assert_eq!(map.stats().0, 89);
        for key in 0..12 {
            assert_eq!(map.get(&key), None);
        }
        assert_eq!(map.get(&12), Some(1_012));
        assert_eq!(map.get(&1_000), Some(5_000));
    }

    #[test]
    fn adjust_and_remove_touch_only_tracked_keys() {
        let map = Map::new(RandomState::new(), None);
        map.adjust(&1, |v, _| v + 1);
        assert_eq!(map.get(&1), None);
        set(&map, 1, 10, 0);
        map.adjust(&1, |v, _| v + 1);
        assert_eq!(map.get(&1), Some(11));
        map.remove(&1);
        assert_eq!(map.get(&1), None);
    }
}
