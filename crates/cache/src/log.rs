//! What the cache's events say about keys and tags: nothing, unless the
//! config's `log_keys` asks for them (keys and tags are often user ids, IPs
//! or emails).

use std::fmt;

use tracing::field::{DebugValue, debug};

use crate::cache::Inner;

/// How a key is written in events: its `Debug`, captured where `K: Debug`
/// is known (the builder's `log_keys`, `Cache::from_config`).
pub(crate) type KeyFormat<K> = fn(&K, &mut fmt::Formatter<'_>) -> fmt::Result;

/// A key as an event's field.
pub(crate) struct LoggedKey<'a, K> {
    key: &'a K,
    format: KeyFormat<K>,
}

impl<K> fmt::Debug for LoggedKey<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.format)(self.key, f)
    }
}

impl<K, V, E, C, S> Inner<K, V, E, C, S> {
    /// The key as an event's field, or `None` (no field) without `log_keys`.
    pub(crate) fn log_key<'a>(&self, key: &'a K) -> Option<DebugValue<LoggedKey<'a, K>>> {
        let format = self.key_format?;
        Some(debug(LoggedKey { key, format }))
    }

    /// The tag as an event's field, or `None` (no field) without `log_keys`.
    pub(crate) fn log_tag<'a>(&self, tag: &'a str) -> Option<&'a str> {
        self.key_format.is_some().then_some(tag)
    }
}
