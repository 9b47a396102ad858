//! The last T of time, in buckets that expire without a sweep.
//!
//! # Layout
//!
//! Bucket `i` holds the calls of every epoch `e` (the number of whole bucket
//! lengths since the breaker was built) with `e % buckets == i`, as two
//! words: `tag = generation:24 | epoch:40` and `counts = calls:32 | marks:32`.
//! A recorder whose tag matches adds to `counts` with one `fetch_add`. One
//! whose epoch is newer claims the bucket (tag → `CLAIMED`), zeroes it and
//! publishes its tag; others wait the few instructions that takes. A reader
//! sums the buckets whose tag is of the current generation and within the
//! window; older buckets are simply not counted, so expiry costs nothing and
//! a reset is a change of generation.
//!
//! # The clock
//!
//! Reading tokio's clock costs about 25 ns here, more than the rest of a
//! closed call. So a call that completed in its first poll (it took no time)
//! is counted in the epoch of the breaker's last clock reading, and every
//! 64th such call refreshes that reading. Calls that waited, failures and
//! transitions read the clock. A dependency worth a breaker answers over the
//! network, so its calls wait and are placed exactly; see `docs/breaker.md`.

use std::sync::atomic::{
    AtomicBool, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed, SeqCst},
};

use steadfast_core::time::{self, Instant};

const EPOCH_BITS: u32 = 40;
const EPOCH_MASK: u64 = (1 << EPOCH_BITS) - 1;
const CLAIMED: u64 = u64::MAX;
/// How many clock-less records may share one clock reading.
const REFRESH_EVERY: u64 = 64;

#[derive(Debug)]
struct Bucket {
    tag: AtomicU64,
    counts: AtomicU64,
}

#[derive(Debug)]
pub(crate) struct TimeRing {
    origin: Instant,
    bucket_nanos: u64,
    buckets: Box<[Bucket]>,
    /// The latest clock reading: `epoch << 10 | epoch % buckets`, so the
    /// hot path finds its bucket without a division.
    latest: AtomicU64,
    /// Set when a mark is added; cleared by a reader that finds none.
    dirty: AtomicBool,
}

fn tag(period: u64, epoch: u64) -> u64 {
    (period & 0xFF_FFFF) << EPOCH_BITS | (epoch & EPOCH_MASK)
}

impl TimeRing {
    pub(crate) fn new(origin: Instant, bucket: std::time::Duration, buckets: u32) -> Self {
        TimeRing {
            origin,
            bucket_nanos: u64::try_from(bucket.as_nanos()).unwrap_or(u64::MAX).max(1),
            // Tag 0 (generation 0, epoch 0) with zero counts is a valid empty bucket.
            buckets: (0..buckets)
                .map(|_| Bucket {
                    tag: AtomicU64::new(0),
                    counts: AtomicU64::new(0),
                })
                .collect(),
            latest: AtomicU64::new(0),
            dirty: AtomicBool::new(false),
        }
    }

    pub(crate) fn epoch_at(&self, now: Instant) -> u64 {
        let nanos = u64::try_from(now.saturating_duration_since(self.origin).as_nanos())
            .unwrap_or(u64::MAX);
        nanos / self.bucket_nanos
    }

    /// Notes a clock reading; returns its epoch.
    #[inline]
    pub(crate) fn observe(&self, now: Instant) -> u64 {
        let epoch = self.epoch_at(now);
        let packed = self.pack(epoch);
        if packed > self.latest.load(Relaxed) {
            self.latest.fetch_max(packed, Relaxed);
        }
        epoch
    }

    fn pack(&self, epoch: u64) -> u64 {
        ((epoch & (u64::MAX >> 10)) << 10) | (epoch % self.buckets.len() as u64)
    }

    /// Records one call of generation `period`, at `now` when the caller read
    /// the clock, else at the latest reading.
    #[inline]
    pub(crate) fn record(&self, period: u64, mark: bool, now: Option<Instant>) {
        let packed = match now {
            Some(now) => self.pack(self.observe(now)),
            None => self.latest.load(Relaxed),
        };
        let epoch = packed >> 10;
        let want = tag(period, epoch);
        #[allow(clippy::cast_possible_truncation)] // below 1000
        let bucket = &self.buckets[(packed & 0x3FF) as usize];
        if bucket.tag.load(Acquire) != want && !Self::claim(bucket, want) {
            return; // this call belongs to a bucket already reused: too old to count
        }
        let before = bucket.counts.fetch_add(1 << 32 | u64::from(mark), AcqRel);
        if mark {
            self.dirty.store(true, SeqCst);
        } else if now.is_none() && ((before >> 32) + 1).is_multiple_of(REFRESH_EVERY) {
            self.observe(time::now());
        }
    }

    /// Records a success of generation `period` that did not read the
    /// clock, at the latest reading; returns whether no mark may be in the
    /// window (then no rate can fire).
    #[inline]
    pub(crate) fn record_success(&self, period: u64) -> bool {
        let packed = self.latest.load(Relaxed);
        let want = tag(period, packed >> 10);
        #[allow(clippy::cast_possible_truncation)] // below 1000
        let Some(bucket) = self.buckets.get((packed & 0x3FF) as usize) else {
            return false; // never: the index is below the bucket count
        };
        // Read before the `fetch_add`, a full barrier on x86 that a later
        // load would wait behind. A mark added meanwhile is checked by its
        // own recorder (a failure always checks the rates).
        let clean = !self.dirty.load(Relaxed);
        if bucket.tag.load(Acquire) != want && !Self::claim(bucket, want) {
            return clean; // too old to count
        }
        let before = bucket.counts.fetch_add(1 << 32, AcqRel);
        if ((before >> 32) + 1).is_multiple_of(REFRESH_EVERY) {
            self.refresh();
        }
        clean
    }

    /// Moves the latest reading on (every [`REFRESH_EVERY`] clock-less records).
    #[cold]
    #[inline(never)]
    fn refresh(&self) {
        self.observe(time::now());
    }

    /// Makes `bucket` hold `want`, zeroed, unless it holds a newer tag;
    /// returns whether it holds `want` now.
    #[cold]
    #[inline(never)]
    fn claim(bucket: &Bucket, want: u64) -> bool {
        loop {
            let have = bucket.tag.load(Acquire);
            if have == want {
                return true;
            }
            if have == CLAIMED {
                std::hint::spin_loop();
                continue;
            }
            if !Self::newer(want, have) {
                return false;
            }
            if bucket
                .tag
                .compare_exchange(have, CLAIMED, AcqRel, Acquire)
                .is_ok()
            {
                bucket.counts.store(0, Relaxed);
                bucket.tag.store(want, SeqCst);
                return true;
            }
        }
    }

    /// Whether `want` (generation, epoch) should replace `have` in a bucket.
    fn newer(want: u64, have: u64) -> bool {
        let (wg, we) = (want >> EPOCH_BITS, want & EPOCH_MASK);
        let (hg, he) = (have >> EPOCH_BITS, have & EPOCH_MASK);
        // Generations only grow (modulo 2^24): a bucket of an older one is
        // free to take, and a call of an older one is late and dropped.
        if wg == hg {
            we > he
        } else {
            wg.wrapping_sub(hg) & 0xFF_FFFF < 0x80_0000
        }
    }

    /// Whether a mark may be in the window (cheap; may say yes when there is none).
    #[inline]
    pub(crate) fn maybe_marked(&self) -> bool {
        self.dirty.load(Relaxed)
    }

    /// (calls, marks) of generation `period` in the window ending at `epoch`.
    pub(crate) fn stats_at(&self, period: u64, epoch: u64) -> (u64, u64) {
        let (calls, marks) = self.sum(period, epoch);
        if marks > 0 || !self.dirty.load(Relaxed) {
            return (calls, marks);
        }
        // No mark left in the window: clear the flag so successes stop
        // looking, then look once more in case a mark landed meanwhile
        // (a marker adds its mark before it sets the flag).
        self.dirty.store(false, SeqCst);
        let (calls, marks) = self.sum(period, epoch);
        if marks > 0 {
            self.dirty.store(true, SeqCst);
        }
        (calls, marks)
    }

    fn sum(&self, period: u64, epoch: u64) -> (u64, u64) {
        let n = self.buckets.len() as u64;
        let oldest = epoch.saturating_sub(n - 1);
        let (mut calls, mut marks) = (0, 0);
        for bucket in &self.buckets {
            let have = bucket.tag.load(Acquire);
            if have == CLAIMED || have >> EPOCH_BITS != period & 0xFF_FFFF {
                continue;
            }
            let e = have & EPOCH_MASK;
            if e < (oldest & EPOCH_MASK) || e > (epoch & EPOCH_MASK) {
                continue;
            }
            let counts = bucket.counts.load(Acquire);
            calls += counts >> 32;
            marks += counts & 0xFFFF_FFFF;
        }
        (calls, marks)
    }

    /// (calls, marks) in the window ending at the latest clock reading.
    pub(crate) fn stats_latest(&self, period: u64) -> (u64, u64) {
        self.stats_at(period, self.latest.load(Relaxed) >> 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn old_buckets_expire() {
        let origin = Instant::now();
        let ring = TimeRing::new(origin, Duration::from_secs(1), 10);
        let at = |s: u64| Some(origin + Duration::from_secs(s));
        ring.record(0, true, at(0));
        ring.record(0, false, at(0));
        ring.record(0, false, at(5));
        assert_eq!(ring.stats_at(0, 5), (3, 1));
        assert_eq!(ring.stats_at(0, 9), (3, 1));
        assert_eq!(ring.stats_at(0, 10), (1, 0)); // epoch 0 left the window
        ring.record(0, false, at(10)); // reuses bucket 0
        assert_eq!(ring.stats_at(0, 10), (2, 0));
        // Another generation sees nothing; a late call of the old one is dropped.
        assert_eq!(ring.stats_at(1, 10), (0, 0));
        ring.record(1, true, at(10));
        ring.record(0, true, at(10));
        assert_eq!(ring.stats_at(1, 10), (1, 1));
    }

    #[test]
    fn clockless_records_use_the_latest_reading() {
        let origin = Instant::now();
        let ring = TimeRing::new(origin, Duration::from_secs(1), 4);
        ring.record(0, false, Some(origin + Duration::from_secs(2)));
        ring.record(0, false, None);
        assert_eq!(ring.stats_latest(0), (2, 0));
        assert!(!ring.maybe_marked());
    }
}
