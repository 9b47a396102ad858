//! What a caller gets back: the value and how fresh it is.

use std::ops::Deref;
use std::time::Duration;

use steadfast_core::ErrorKind;

/// A value from the cache, with how it was obtained.
///
/// It dereferences to the value; [`freshness`](Cached::freshness) tells a
/// service whether to add a `Warning` or `Age` header, or to show "data as
/// of 5 minutes ago".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cached<V> {
    value: V,
    freshness: Freshness,
}

/// How a [`Cached`] value was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Freshness {
    /// Served from a fresh entry stored `age` ago.
    Fresh {
        /// Time since the value was stored.
        age: Duration,
    },
    /// Served from an entry past its fresh time.
    Stale {
        /// Time since the value was stored.
        age: Duration,
        /// Why a stale value was served.
        reason: StaleReason,
    },
    /// Fetched for this call (or for a call it joined).
    Fetched,
}

/// Why a stale value was served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StaleReason {
    /// Within the stale window: served at once while one refresh runs.
    Revalidating,
    /// The fetch failed (or a recent one did, within the fail-safe throttle).
    FetchFailed,
    /// An inner policy rejected the fetch: which kind of rejection (an open
    /// circuit, a rate limit, a full bulkhead, a timeout, …).
    Rejected(ErrorKind),
    /// The fetch took longer than the soft timeout; it goes on in the background.
    SoftTimeout,
}

impl<V> Cached<V> {
    /// A value with how fresh it is: what a fallback around a cache
    /// answers to keep the freshness visible (`Cached::new(default,
    /// Freshness::Stale { .. })`), or a test's expected answer.
    ///
    /// ```
    /// use std::time::Duration;
    /// use steadfast_cache::{Cached, Freshness, StaleReason};
    ///
    /// let served = Cached::new(
    ///     "yesterday's summary",
    ///     Freshness::Stale { age: Duration::from_secs(90), reason: StaleReason::FetchFailed },
    /// );
    /// assert!(served.is_stale());
    /// assert_eq!(served.age(), Duration::from_secs(90));
    /// ```
    pub const fn new(value: V, freshness: Freshness) -> Self {
        Cached { value, freshness }
    }

    /// How the value was obtained.
    pub fn freshness(&self) -> Freshness {
        self.freshness
    }

    /// Whether the value was served stale.
    pub fn is_stale(&self) -> bool {
        matches!(self.freshness, Freshness::Stale { .. })
    }

    /// Whether the value was fetched for this call.
    pub fn is_fetched(&self) -> bool {
        matches!(self.freshness, Freshness::Fetched)
    }

    /// Time since the value was stored; zero when fetched for this call.
    pub fn age(&self) -> Duration {
        match self.freshness {
            Freshness::Fresh { age } | Freshness::Stale { age, .. } => age,
            Freshness::Fetched => Duration::ZERO,
        }
    }

    /// The value.
    pub fn into_value(self) -> V {
        self.value
    }

    /// The value, by reference.
    pub fn value(&self) -> &V {
        &self.value
    }
}

impl<V> Deref for Cached<V> {
    type Target = V;

    fn deref(&self) -> &V {
        &self.value
    }
}
