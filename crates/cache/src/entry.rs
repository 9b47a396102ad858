//! One stored value and its timeline.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::tags::TagState;

/// A stored value with its timeline, tags and refresh state, as a
/// [`Store`](crate::Store) holds it (behind an `Arc`).
///
/// Times are nanoseconds on the cache's own clock (tokio's, counted from a
/// fixed point before the cache's creation), so the whole timeline runs on tokio's paused clock in tests.
// `repr(C)`, in this order: the fields a fresh hit reads sit right after the
// `Arc`'s counters (which the store's clone writes), so a hit touches as few
// cache lines of the entry as the allocation's alignment allows (measured:
// fewer slow runs of `cache_hit`; see docs/performance.md).
#[repr(C)]
pub struct Entry<V> {
    value: V,
    generation: u64,
    fresh_until: u64,
    eager_at: u64,
    stored_at: u64,
    /// An `invalidate(key)` raced the store of this entry: never serve it.
    revoked: AtomicBool,
    stale_until: u64,
    keep_until: u64,
    tags: Box<[Arc<TagState>]>,
    /// A refresh may be claimed from this time on; `CLAIMED` while one runs.
    refresh_at: AtomicU64,
    /// Fail-safe: until this time the value is served without a fetch.
    throttled_until: AtomicU64,
}

const CLAIMED: u64 = u64::MAX;
const NEVER: u64 = u64::MAX;

/// Where `now` falls on an entry's timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Before `fresh_until`.
    Fresh,
    /// In the stale window: served at once, refreshed once.
    Stale,
    /// Past the stale window, but a recent failure throttles fetches: served.
    Throttled,
    /// Past the stale window, kept only to stand in for a failed fetch.
    Expired,
    /// Past everything: as good as absent.
    Gone,
}

/// The timeline of a new entry, as offsets from its store time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeline {
    pub(crate) fresh_for: Duration,
    pub(crate) stale_for: Duration,
    pub(crate) keep_for: Duration,
    pub(crate) eager_after: Option<Duration>,
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl<V> Entry<V> {
    pub(crate) fn new(
        value: V,
        now: u64,
        timeline: Timeline,
        generation: u64,
        tags: Box<[Arc<TagState>]>,
    ) -> Self {
        let at = |offset: Duration| now.saturating_add(nanos(offset));
        let fresh_until = at(timeline.fresh_for);
        let stale_until = fresh_until.saturating_add(nanos(timeline.stale_for));
        Entry {
            value,
            stored_at: now,
            fresh_until,
            stale_until,
            keep_until: at(timeline.keep_for).max(stale_until),
            eager_at: timeline.eager_after.map_or(NEVER, at),
            generation,
            tags,
            refresh_at: AtomicU64::new(0),
            throttled_until: AtomicU64::new(0),
            revoked: AtomicBool::new(false),
        }
    }

    /// A copy of this entry that is past its fresh and stale times at
    /// `now`, kept as long as this one: served only as a fail-safe stand-in
    /// for a fetch that fails.
    pub(crate) fn expired_at(&self, now: u64) -> Entry<V>
    where
        V: Clone,
    {
        let until = self.stale_until.min(now);
        Entry {
            value: self.value.clone(),
            generation: self.generation,
            fresh_until: self.fresh_until.min(until),
            eager_at: NEVER,
            stored_at: self.stored_at,
            revoked: AtomicBool::new(self.is_revoked()),
            stale_until: until,
            keep_until: self.keep_until,
            tags: self.tags.clone(),
            refresh_at: AtomicU64::new(0),
            throttled_until: AtomicU64::new(0),
        }
    }

    /// The stored value.
    pub fn value(&self) -> &V {
        &self.value
    }

    /// How long after it was stored the entry stops being of any use: a store
    /// may drop it then (moka's per-entry expiry does).
    pub fn keep_for(&self) -> Duration {
        Duration::from_nanos(self.keep_until - self.stored_at)
    }

    /// The number of tags the entry carries.
    pub fn tag_count(&self) -> usize {
        self.tags.len()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn tags(&self) -> &[Arc<TagState>] {
        &self.tags
    }

    /// Hides the entry for good.
    pub(crate) fn revoke(&self) {
        self.revoked.store(true, Ordering::Release);
    }

    #[inline]
    pub(crate) fn is_revoked(&self) -> bool {
        self.revoked.load(Ordering::Acquire)
    }

    #[inline]
    pub(crate) fn phase(&self, now: u64) -> Phase {
        if now < self.fresh_until {
            Phase::Fresh
        } else if now < self.stale_until {
            Phase::Stale
        } else if now >= self.keep_until {
            Phase::Gone
        } else if now < self.throttled_until.load(Ordering::Acquire) {
            Phase::Throttled
        } else {
            Phase::Expired
        }
    }

    /// Time since the value was stored.
    #[inline]
    pub(crate) fn age(&self, now: u64) -> Duration {
        Duration::from_nanos(now.saturating_sub(self.stored_at))
    }

    /// Whether a fresh hit at `now` is due an eager refresh.
    #[inline]
    pub(crate) fn wants_eager_refresh(&self, now: u64) -> bool {
        now >= self.eager_at
    }

    /// Claims the one refresh of this entry; `false` when one runs already
    /// or a recent failure throttles it.
    pub(crate) fn claim_refresh(&self, now: u64) -> bool {
        let at = self.refresh_at.load(Ordering::Acquire);
        at != CLAIMED
            && now >= at
            && self
                .refresh_at
                .compare_exchange(at, CLAIMED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    /// Gives a claimed refresh back, allowing the next one from `at`, and
    /// never before a fail-safe throttle set meanwhile ends (a refresh given
    /// back while another fetch's failure throttled the entry stays deferred).
    pub(crate) fn release_refresh(&self, at: u64) {
        // Sequentially consistent with `throttle`: each writes one of the two
        // words and then reads the other, so at least one sees the other's
        // write and the deferral is never lost.
        self.refresh_at.store(at, Ordering::SeqCst);
        let throttled = self.throttled_until.load(Ordering::SeqCst);
        if throttled > at {
            self.refresh_at.fetch_max(throttled, Ordering::SeqCst);
        }
    }

    /// Whether a fail-safe throttle holds at `now`: no fetch may start for it.
    pub(crate) fn is_throttled(&self, now: u64) -> bool {
        now < self.throttled_until.load(Ordering::Acquire)
    }

    /// Fail-safe: serve this value without fetching until `until`, and try no
    /// refresh before then either.
    /// Returns whether the throttle was off at `now` (a new fail-safe episode).
    pub(crate) fn throttle(&self, now: u64, until: u64) -> bool {
        let before = self.throttled_until.fetch_max(until, Ordering::SeqCst);
        // A claimed refresh is released by its owner (`release_refresh`
        // defers it past this throttle); only move a free one.
        let _ = self
            .refresh_at
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |at| {
                (at != CLAIMED).then_some(at.max(until))
            });
        before <= now
    }

    /// Whether the value is young enough at `now` to stand in for a failed fetch.
    pub(crate) fn usable_as_fallback(&self, now: u64, max_age: Duration) -> bool {
        now < self.keep_until && self.age(now) <= max_age
    }
}

/// A refresh claimed on an entry, given back when dropped: when its refresh
/// landed, was cancelled or panicked. The next refresh may run at once, or
/// once a fail-safe throttle the refresh's failure set ends.
pub(crate) struct Claim<V> {
    entry: Arc<Entry<V>>,
}

impl<V> Claim<V> {
    /// Holds the claim a lookup took on `entry`.
    pub(crate) fn new(entry: Arc<Entry<V>>) -> Self {
        Claim { entry }
    }

    /// The claimed entry.
    pub(crate) fn entry(&self) -> &Arc<Entry<V>> {
        &self.entry
    }
}

impl<V> Drop for Claim<V> {
    fn drop(&mut self) {
        self.entry.release_refresh(0);
    }
}

impl<V: fmt::Debug> fmt::Debug for Entry<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("value", &self.value)
            .field("stored_at", &self.stored_at)
            .field("fresh_until", &self.fresh_until)
            .field("stale_until", &self.stale_until)
            .field("keep_until", &self.keep_until)
            .field("tags", &self.tags.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn entry() -> Entry<u8> {
        let timeline = Timeline {
            fresh_for: Duration::from_secs(10),
            stale_for: Duration::from_secs(5),
            keep_for: Duration::from_secs(60),
            eager_after: Some(Duration::from_secs(8)),
        };
        Entry::new(1, 100 * S, timeline, 0, Box::default())
    }

    #[test]
    fn phases_follow_the_timeline_exactly() {
        let e = entry();
        assert_eq!(e.phase(100 * S), Phase::Fresh);
        assert_eq!(e.phase(110 * S - 1), Phase::Fresh);
        assert_eq!(e.phase(110 * S), Phase::Stale);
        assert_eq!(e.phase(115 * S - 1), Phase::Stale);
        assert_eq!(e.phase(115 * S), Phase::Expired);
        assert_eq!(e.phase(160 * S - 1), Phase::Expired);
        assert_eq!(e.phase(160 * S), Phase::Gone);
        assert!(!e.wants_eager_refresh(108 * S - 1));
        assert!(e.wants_eager_refresh(108 * S));
        assert_eq!(e.keep_for(), Duration::from_secs(60));
    }

    #[test]
    fn one_claim_at_a_time_and_throttle_defers_the_next() {
        let e = entry();
        assert!(e.claim_refresh(111 * S));
        assert!(!e.claim_refresh(111 * S));
        e.release_refresh(0);
        assert!(e.throttle(115 * S, 130 * S));
        assert!(!e.throttle(116 * S, 130 * S));
        assert!(!e.claim_refresh(120 * S));
        assert_eq!(e.phase(120 * S), Phase::Throttled);
        assert_eq!(e.phase(130 * S), Phase::Expired);
        assert!(e.claim_refresh(130 * S));
    }

    #[test]
    fn a_claim_given_back_during_a_throttle_stays_deferred_to_it() {
        let e = entry();
        assert!(e.claim_refresh(111 * S));
        // A failure throttles the entry while the refresh holds its claim.
        assert!(e.throttle(112 * S, 142 * S));
        e.release_refresh(0);
        assert!(!e.claim_refresh(141 * S));
        assert!(e.is_throttled(141 * S));
        assert!(!e.is_throttled(142 * S));
        assert!(e.claim_refresh(142 * S));
    }
}
