//! Keys Redis refused, refused here until they could be admitted again.
//!
//! Redis answers a refusal with the wait until a one-unit call could be
//! admitted. Other instances spending the same key can only push that
//! moment later, never earlier, so refusing the key here until then never
//! refuses a call Redis would admit (unless the quota is raised meanwhile).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use parking_lot::Mutex;
use steadfast_core::time::Instant;

/// Shards, so concurrent checks of different keys rarely share a lock.
const SHARDS: usize = 16;
/// The most keys one shard remembers; past it, expired ones are dropped,
/// and a new key is not remembered while all are live.
const MAX_KEYS_PER_SHARD: usize = 10_000 / SHARDS;

#[derive(Debug)]
pub(crate) struct Refusals {
    hasher: RandomState,
    shards: [Mutex<HashMap<Box<[u8]>, Instant>>; SHARDS],
}

impl Default for Refusals {
    fn default() -> Self {
        Refusals {
            hasher: RandomState::new(),
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
        }
    }
}

impl Refusals {
    fn shard(&self, key: &[u8]) -> &Mutex<HashMap<Box<[u8]>, Instant>> {
        #[allow(clippy::cast_possible_truncation)] // the low bits pick the shard
        let index = self.hasher.hash_one(key) as usize % SHARDS;
        &self.shards[index]
    }

    /// The instant `key` may be admitted again, if it is refused until later than `now`.
    pub(crate) fn refused_until(&self, key: &[u8], now: Instant) -> Option<Instant> {
        let mut map = self.shard(key).lock();
        match map.get(key) {
            Some(until) if *until > now => Some(*until),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    /// Remembers that `key` is refused until `until`.
    pub(crate) fn refuse(&self, key: &[u8], until: Instant, now: Instant) {
        let mut map = self.shard(key).lock();
        if map.len() >= MAX_KEYS_PER_SHARD {
            map.retain(|_, at| *at > now);
            if map.len() >= MAX_KEYS_PER_SHARD {
                return;
            }
        }
        map.insert(key.into(), until);
    }
}
