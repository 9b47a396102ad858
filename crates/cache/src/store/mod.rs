//! Where entries live: the store seam, moka by default.

mod moka;
#[cfg(feature = "quick_cache")]
mod quick;

use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use crate::Entry;

pub use self::moka::MokaStore;
#[cfg(feature = "quick_cache")]
pub use self::quick::QuickCacheStore;

/// The weight of one entry (its size in bytes, say), for a store bounded by weight.
pub type Weigher<K, V> = Arc<dyn Fn(&K, &V) -> u32 + Send + Sync>;

/// How a store built by the cache is bounded.
#[derive(Clone)]
#[non_exhaustive]
pub enum Capacity<K, V> {
    /// At most this many entries.
    Entries(u64),
    /// At most this much total weight, as the weigher measures each entry.
    Weight {
        /// The bound.
        max: u64,
        /// Measures one entry.
        weigher: Weigher<K, V>,
    },
}

impl<K, V> fmt::Debug for Capacity<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capacity::Entries(max) => f.debug_tuple("Entries").field(max).finish(),
            Capacity::Weight { max, .. } => f
                .debug_struct("Weight")
                .field("max", max)
                .finish_non_exhaustive(),
        }
    }
}

/// The seam between the cache's resilience logic and the map that holds entries.
///
/// The cache decides freshness, tags and refreshes itself, at read, from the
/// [`Entry`]; a store only keeps entries by key, bounded, and may drop an
/// entry once its [`keep_for`](Entry::keep_for) has passed. Methods return
/// futures so that a store across the network (a second-level shared store)
/// fits the same seam; the in-memory stores return ready futures, which cost
/// nothing once inlined.
pub trait Store<K, V>: Send + Sync + 'static {
    /// The entry under `key`, if any.
    fn get(&self, key: &K) -> impl Future<Output = Option<Arc<Entry<V>>>> + Send;

    /// Stores `entry` under `key`, replacing any other.
    fn insert(&self, key: K, entry: Arc<Entry<V>>) -> impl Future<Output = ()> + Send;

    /// Drops the entry under `key`, if any.
    fn remove(&self, key: &K) -> impl Future<Output = ()> + Send;

    /// Drops every entry.
    fn clear(&self) -> impl Future<Output = ()> + Send;

    /// How many entries are held, cheaply (a store that defers its
    /// maintenance may count entries it is about to drop).
    fn entry_count(&self) -> u64;

    /// Runs maintenance the store defers (moka's evictions to its bound)
    /// now. Nothing by default.
    fn run_pending_tasks(&self) {}
}

/// A store the cache can build from its configured [`Capacity`].
pub trait BuildStore<K, V>: Store<K, V> + Sized {
    /// A store bounded by `capacity`.
    fn build(capacity: Capacity<K, V>) -> Self;
}

/// Bounds every key type a store needs.
pub trait Key: Hash + Eq + Clone + Send + Sync + 'static {}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> Key for K {}
