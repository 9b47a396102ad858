//! Counters and the snapshot a service reads for metrics and health.

use std::sync::atomic::{AtomicU64, Ordering};

use steadfast_core::Name;
use steadfast_core::tally::Tally;

/// Counters bumped on the paths they describe (relaxed: they are statistics).
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Bumped on every fresh hit, so a [`Tally`] (no locked instruction).
    pub(crate) hits: Tally,
    pub(crate) stale_hits: AtomicU64,
    pub(crate) stale_fallbacks: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) fetches: AtomicU64,
    pub(crate) coalesced: AtomicU64,
    pub(crate) refreshes: AtomicU64,
    pub(crate) fetch_errors: AtomicU64,
    pub(crate) bypassed: AtomicU64,
    pub(crate) missing_keys: AtomicU64,
}

#[inline]
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A [`Cache`](crate::Cache)'s counters and contents at one moment.
///
/// With the `serde` feature it serializes (for `/health` or a metrics
/// endpoint) as an object whose field names are the fields' own, and are
/// stable: `name` (a string), then the numbers `entries`, `tags`,
/// `in_flight`, `hits`, `stale_hits`, `misses`, `stale_fallbacks`,
/// `fetches`, `coalesced`, `refreshes`, `fetch_errors`, `bypassed`,
/// `missing_keys`. A field may be added; none is renamed or removed within
/// a 0.x minor version. The derived ratios are methods, not fields.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use steadfast_cache::Cache;
/// use steadfast_core::Inspect;
///
/// let cache = Cache::<u32, u32, std::sync::Arc<std::io::Error>>::builder().name("prices").build()?;
/// let json = serde_json::to_value(cache.snapshot()).unwrap();
/// assert_eq!(json["name"], "prices");
/// assert_eq!(json["misses"], 0);
/// # }
/// # Ok::<_, steadfast_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct CacheSnapshot {
    /// The cache's name.
    pub name: Name,
    /// Entries held by the store, as it counts them (moka's count lags its
    /// batched maintenance).
    pub entries: u64,
    /// Tags carried by at least one entry (or not yet pruned).
    pub tags: usize,
    /// Fetches in progress.
    pub in_flight: usize,
    /// Calls served a fresh value.
    pub hits: u64,
    /// Calls served a stale value found at lookup: in the stale window
    /// (revalidating) or within a fail-safe throttle.
    pub stale_hits: u64,
    /// Lookups that found no servable value: a get-or-fetch then fetches or
    /// joins a fetch (and looks again if the fetch it joined is abandoned),
    /// a [`get`](crate::Cache::get) returns `None`.
    pub misses: u64,
    /// Misses answered with a stale value in place of a fetch that failed,
    /// was rejected or outlasted the soft timeout.
    pub stale_fallbacks: u64,
    /// Fetches run (each one shared by every caller that joined it).
    pub fetches: u64,
    /// Callers that joined a fetch another caller started.
    pub coalesced: u64,
    /// Background refreshes started (stale-while-revalidate and eager).
    pub refreshes: u64,
    /// Fetches that failed (an error, a failure inside `Ok`, a timeout, a rejection).
    pub fetch_errors: u64,
    /// Calls through the cache as a policy that carried no key of its type,
    /// passed straight through (with `pass_through_unkeyed`).
    pub bypassed: u64,
    /// Calls through the cache as a policy that carried no key of its type,
    /// refused with `Error::MissingKey` (the default).
    pub missing_keys: u64,
}

impl CacheSnapshot {
    /// Every call served a stale value, for whatever reason.
    pub fn stale_served(&self) -> u64 {
        self.stale_hits + self.stale_fallbacks
    }

    /// Lookups served from the cache (fresh or stale) over all lookups; zero before any.
    pub fn hit_ratio(&self) -> f64 {
        let served = self.hits + self.stale_hits;
        let total = served + self.misses;
        if total == 0 {
            0.0
        } else {
            #[allow(clippy::cast_precision_loss)] // a ratio of counters
            let ratio = served as f64 / total as f64;
            ratio
        }
    }
}
