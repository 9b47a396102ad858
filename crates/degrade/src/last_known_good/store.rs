//! The remembered values: a map bounded by entry count, evicting the entry
//! stored longest ago.
//!
//! Why not LRU by reads, or a cache crate: a last-known-good value is only
//! useful while it is young, and it is renewed by every success, so the entry
//! written longest ago is the stalest and the first worth dropping. A write
//! log (key, generation) in write order gives that order in amortised O(1)
//! with a `HashMap` and a `VecDeque`, and keeps this crate light.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use steadfast_core::time::Instant;

#[derive(Debug)]
struct Entry<V> {
    value: V,
    stored_at: Instant,
    generation: u64,
}

#[derive(Debug)]
pub(crate) struct Store<K, V> {
    map: HashMap<K, Entry<V>>,
    /// Writes in order; a record whose generation no longer matches its
    /// entry was superseded by a later write.
    writes: VecDeque<(K, u64)>,
    next_generation: u64,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> Store<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Store {
            map: HashMap::new(),
            writes: VecDeque::new(),
            next_generation: 0,
            capacity,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// The value for `key` and when it was stored.
    pub(crate) fn get(&self, key: &K) -> Option<(&V, Instant)> {
        self.map.get(key).map(|e| (&e.value, e.stored_at))
    }

    pub(crate) fn remove(&mut self, key: &K) {
        // Its write record goes stale and is skipped later.
        self.map.remove(key);
    }

    /// Stores `value` for `key`, evicting the entry stored longest ago when full.
    pub(crate) fn insert(&mut self, key: K, value: V, now: Instant) {
        let generation = self.next_generation;
        self.next_generation += 1;
        self.writes.push_back((key.clone(), generation));
        let entry = Entry {
            value,
            stored_at: now,
            generation,
        };
        self.map.insert(key, entry);
        while self.map.len() > self.capacity {
            let (key, generation) = self
                .writes
                .pop_front()
                .expect("every entry has a write record");
            if self
                .map
                .get(&key)
                .is_some_and(|e| e.generation == generation)
            {
                self.map.remove(&key);
            }
        }
        if self.writes.len() > 2 * self.capacity.max(8) {
            // Drop superseded records so the log stays proportional to the map.
            let map = &self.map;
            self.writes.retain(|(key, generation)| {
                map.get(key).is_some_and(|e| e.generation == *generation)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    #[test]
    fn evicts_the_entry_written_longest_ago() {
        let t0 = Instant::now();
        let mut store = Store::new(2);
        store.insert("a", 1, t0);
        store.insert("b", 2, t0);
        store.insert("a", 3, t0 + Duration::from_secs(1)); // renews a
        store.insert("c", 4, t0);
        assert_eq!(store.len(), 2);
        assert!(store.get(&"b").is_none());
        assert_eq!(store.get(&"a").map(|(v, _)| *v), Some(3));
        assert_eq!(store.get(&"c").map(|(v, _)| *v), Some(4));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Never more than the capacity; the last value written for a key
        /// that is still present is the one read; the log stays bounded.
        #[test]
        fn bounded_and_consistent(capacity in 1usize..8, writes in prop::collection::vec((0u8..16, any::<u32>()), 0..200)) {
            let now = Instant::now();
            let mut store = Store::new(capacity);
            let mut last = HashMap::new();
            for (key, value) in writes {
                store.insert(key, value, now);
                last.insert(key, value);
                prop_assert!(store.len() <= capacity);
                prop_assert!(store.writes.len() <= 2 * capacity.max(8) + 1);
                prop_assert_eq!(store.get(&key).map(|(v, _)| *v), Some(value));
            }
            for (key, value) in &last {
                if let Some((v, _)) = store.get(key) {
                    prop_assert_eq!(v, value);
                }
            }
        }
    }
}
