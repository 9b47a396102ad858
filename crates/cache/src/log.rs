//! What the cache's events say about keys and tags: nothing, unless the
//! config's `log_keys` asks for them (keys and tags are often user ids, IPs
//! or emails).

use std::fmt;

use crate::cache::Inner;

/// How a key is written in events: its `Debug`, captured where `K: Debug`
/// is known (the builder's `log_keys`, `Cache::from_config`).
pub(crate) type KeyFormat<K> = fn(&K, &mut fmt::Formatter<'_>) -> fmt::Result;

impl<K, V, E, C, S> Inner<K, V, E, C, S> {
    /// The tag as an event's field, or `None` (no field) without `log_keys`.
    pub(crate) fn log_tag<'a>(&self, tag: &'a str) -> Option<&'a str> {
        self.key_format.is_some().then_some(tag)
    }
}
