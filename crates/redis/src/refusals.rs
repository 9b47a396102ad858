//! Keys Redis refused, refused here until they could be admitted again.
//!
//! Redis answers a refusal with the wait until a one-unit call could be
//! admitted. Other instances spending the same key can only push that
//! moment later, never earlier, so refusing the key here until then never
//! refuses a call Redis would admit (unless the quota is raised meanwhile).

use std::collections::HashMap;

use parking_lot::Mutex;
use steadfast_core::time::Instant;

/// The most keys remembered; past it, expired ones are dropped, and a new
/// key is not remembered while all are live.
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct Refusals {
    until: Mutex<HashMap<Box<[u8]>, Instant>>,
}

impl Refusals {
    /// The instant `key` may be admitted again, if it is refused until later than `now`.
    pub(crate) fn refused_until(&self, key: &[u8], now: Instant) -> Option<Instant> {
        let mut map = self.until.lock();
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
        let mut map = self.until.lock();
        if map.len() >= MAX_KEYS {
            map.retain(|_, at| *at > now);
            if map.len() >= MAX_KEYS {
                return;
            }
        }
        map.insert(key.into(), until);
    }
}
