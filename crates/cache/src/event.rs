//! What a cache tells a hook as it works, so metrics and tests need not poll.

use std::sync::Arc;

/// One thing a cache did; see [`CacheBuilder::on_event`](crate::CacheBuilder::on_event).
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheEvent<'a, K> {
    /// A lookup served a fresh value.
    Hit {
        /// The key.
        key: &'a K,
    },
    /// A lookup served a stale value (in the stale window, or within a
    /// fail-safe throttle).
    StaleHit {
        /// The key.
        key: &'a K,
    },
    /// A lookup found nothing servable: a fetch follows or is joined.
    Miss {
        /// The key.
        key: &'a K,
    },
    /// A fetch's value was stored (a miss filled, or a refresh done).
    Stored {
        /// The key.
        key: &'a K,
    },
    /// A fetch failed and a stale value stands in for it: a fail-safe
    /// episode began (once per episode, as the WARN event).
    FailSafe {
        /// The key, where the cache knows it.
        key: Option<&'a K>,
    },
}

/// The hook: called in the cache's own code, so keep it quick (count,
/// send on a channel).
pub(crate) type EventHook<K> = Arc<dyn Fn(&CacheEvent<'_, K>) + Send + Sync>;
