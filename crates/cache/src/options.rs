//! Per-call options for what a fetch stores.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::Tag;

/// How the value a call fetches is stored and fetched: its tags, and its own
/// fresh time, stale window, soft and hard timeouts and fail-safe in place
/// of the cache's.
///
/// What is stored (tags, fresh time, stale window, fail-safe age) and the
/// hard timeout follow the options of the caller that runs the fetch;
/// callers that join it share its entry. What each caller is served — a
/// stale value at its soft timeout, or in place of a failed fetch — follows
/// its own.
///
/// ```
/// use std::time::Duration;
/// use steadfast_cache::FetchOptions;
///
/// let options = FetchOptions::new()
///     .tag("user:42")
///     .tag("dashboard")
///     .fresh_for(Duration::from_secs(10));
/// assert_eq!(options.tag_list().len(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchOptions {
    tags: Vec<Tag>,
    fresh_for: Option<Duration>,
    stale_for: Option<Duration>,
    hard_timeout: Option<Duration>,
    soft_timeout: Option<Duration>,
    fail_safe: Option<FailSafe>,
    /// Set by an aged fetch ([`Cache::get_or_fetch_aged`](crate::Cache::get_or_fetch_aged)):
    /// how old the value it found already was.
    age: Option<AgeCell>,
}

/// A call's own fail-safe, in place of the cache's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailSafe {
    /// No fail-safe for the call ([`FetchOptions::without_fail_safe`]).
    Off,
    /// A value up to `max_age` old stands in for a failed fetch, and no
    /// fetch is tried again for `throttle` ([`FetchOptions::fail_safe`]).
    On {
        /// The oldest value that may stand in.
        max_age: Duration,
        /// How long a failure holds further fetches back.
        throttle: Duration,
    },
}

/// Where an aged fetch leaves its value's age for the store that follows.
#[derive(Clone, Default)]
pub(crate) struct AgeCell(Arc<AtomicU64>);

impl AgeCell {
    pub(crate) fn set(&self, age: Duration) {
        let nanos = u64::try_from(age.as_nanos()).unwrap_or(u64::MAX);
        self.0.store(nanos, Ordering::Release);
    }

    pub(crate) fn get(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Acquire))
    }
}

impl fmt::Debug for AgeCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

// Options are equal whatever a fetch has written into their cell: it is
// the fetch's output, not a setting.
impl PartialEq for AgeCell {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for AgeCell {}

impl FetchOptions {
    /// No tags, the cache's own fresh time.
    pub fn new() -> Self {
        FetchOptions::default()
    }

    /// Adds a tag to the stored entry.
    pub fn tag(mut self, tag: impl Into<Tag>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Adds several tags to the stored entry.
    pub fn tags<T: Into<Tag>>(mut self, tags: impl IntoIterator<Item = T>) -> Self {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Sets the entry's fresh time, in place of the cache's (and of any
    /// [`fresh_for_value`](crate::CacheBuilder::fresh_for_value)).
    pub fn fresh_for(mut self, fresh_for: Duration) -> Self {
        self.fresh_for = Some(fresh_for);
        self
    }

    /// Sets the entry's stale window (served while it is refreshed), in
    /// place of the cache's `stale_for`.
    pub fn stale_for(mut self, stale_for: Duration) -> Self {
        self.stale_for = Some(stale_for);
        self
    }

    /// Bounds this call's fetch by `limit`, in place of the cache's
    /// `hard_timeout`: a fetch that outlasts it fails with `Error::Timeout`
    /// (a stale value at hand stands in, as with the cache's own).
    pub fn hard_timeout(mut self, limit: Duration) -> Self {
        self.hard_timeout = Some(limit);
        self
    }

    /// Serves a stale value at hand once this call's fetch has taken
    /// `limit`, in place of the cache's `soft_timeout` (the fetch goes on
    /// and updates the entry).
    pub fn soft_timeout(mut self, limit: Duration) -> Self {
        self.soft_timeout = Some(limit);
        self
    }

    /// Fail-safe for this call's entry, in place of the cache's: a value
    /// up to `max_age` old stands in for a failed fetch, and no fetch is
    /// tried again for `throttle`.
    pub fn fail_safe(mut self, max_age: Duration, throttle: Duration) -> Self {
        self.fail_safe = Some(FailSafe::On { max_age, throttle });
        self
    }

    /// No fail-safe for this call, whatever the cache's: a failed fetch's
    /// error reaches the caller (a value in the stale window is still
    /// served while it is refreshed).
    pub fn without_fail_safe(mut self) -> Self {
        self.fail_safe = Some(FailSafe::Off);
        self
    }

    /// The soft timeout set, if any.
    pub fn soft_timeout_override(&self) -> Option<Duration> {
        self.soft_timeout
    }

    /// The fail-safe set, if any.
    pub fn fail_safe_override(&self) -> Option<FailSafe> {
        self.fail_safe
    }

    /// The stale window set, if any.
    pub fn stale_for_override(&self) -> Option<Duration> {
        self.stale_for
    }

    /// The hard timeout set, if any.
    pub fn hard_timeout_override(&self) -> Option<Duration> {
        self.hard_timeout
    }

    /// The tags set so far.
    pub fn tag_list(&self) -> &[Tag] {
        &self.tags
    }

    /// The fresh time set, if any.
    pub fn fresh_for_override(&self) -> Option<Duration> {
        self.fresh_for
    }

    /// These options with a fresh cell for an aged fetch to fill.
    pub(crate) fn with_age_cell(mut self) -> (Self, AgeCell) {
        let cell = AgeCell::default();
        self.age = Some(cell.clone());
        (self, cell)
    }

    /// How old the fetched value already was, as an aged fetch reported.
    pub(crate) fn fetched_age(&self) -> Duration {
        self.age.as_ref().map_or(Duration::ZERO, AgeCell::get)
    }
}
