//! The last N calls, lock-free.
//!
//! # Layout
//!
//! - `cursor`: one word, `tag:23 | filled:21 | next:20`. A recorder claims the
//!   slot `next` with one compare-and-swap that also advances `next`, grows
//!   `filled` up to the window size, and fails if `tag` is not its own.
//! - `slots`: one word per call, `tag << 1 | mark`. The recorder swaps its
//!   value in; the old value says whether the slot held a mark *of this
//!   generation* (a slot written in an older generation counts as empty).
//! - `marks`: `tag:32 | count:32`, changed only when a mark appears or goes,
//!   by a compare-and-swap that fails if `tag` is not the recorder's.
//!
//! The tag is the breaker's generation (low bits), bumped on every
//! transition. A reset is three stores of the new tag; a call admitted in an
//! older generation that records late is refused by the tag checks, so the
//! count always equals the marked slots of the current generation.
//!
//! A success recorded into a full window without marks (the healthy steady
//! state) changes nothing and writes nothing: two loads. Otherwise it costs
//! one compare-and-swap, and a swap of its slot when that held a mark.

use std::sync::atomic::{
    AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed},
};

const NEXT_BITS: u32 = 20;
const FILLED_BITS: u32 = 21;
const NEXT_MASK: u64 = (1 << NEXT_BITS) - 1;
const FILLED_MASK: u64 = (1 << FILLED_BITS) - 1;
const TAG_MASK: u64 = (1 << 23) - 1;

#[derive(Debug)]
pub(crate) struct CountRing {
    size: u64,
    // `cursor` and `marks` side by side: the hot path reads both.
    cursor: AtomicU64,
    marks: AtomicU64,
    slots: Box<[AtomicU64]>,
}

fn cursor(tag: u64, filled: u64, next: u64) -> u64 {
    (tag & TAG_MASK) << (NEXT_BITS + FILLED_BITS) | filled << NEXT_BITS | next
}

impl CountRing {
    pub(crate) fn new(size: u32, period: u64) -> Self {
        let ring = CountRing {
            size: u64::from(size),
            cursor: AtomicU64::new(0),
            slots: (0..size).map(|_| AtomicU64::new(0)).collect(),
            marks: AtomicU64::new(0),
        };
        ring.reset(period);
        ring
    }

    pub(crate) fn reset(&self, period: u64) {
        self.cursor.store(cursor(period, 0, 0), Relaxed);
        self.marks.store((period & 0xFFFF_FFFF) << 32, Relaxed);
        // Slots keep their old tags: they read as empty from now on.
    }

    /// Records one call of generation `period`; returns false if the window has
    /// moved on to another generation.
    #[inline]
    pub(crate) fn record(&self, period: u64, mark: bool) -> bool {
        let tag = period & TAG_MASK;
        if !mark && self.full_and_clean(period) {
            // The window holds N unmarked calls: one more success would
            // overwrite an unmarked slot with another, which changes nothing
            // (nor does it move the cursor: the window is a multiset). So a
            // healthy breaker records a success with two loads, no write.
            return true;
        }
        let claimed = self.cursor.fetch_update(AcqRel, Acquire, |c| {
            if c >> (NEXT_BITS + FILLED_BITS) != tag {
                return None;
            }
            let next = c & NEXT_MASK;
            let filled = (c >> NEXT_BITS) & FILLED_MASK;
            let next = if next + 1 == self.size { 0 } else { next + 1 };
            Some(cursor(tag, (filled + 1).min(self.size), next))
        });
        let Ok(claimed) = claimed else { return false };
        #[allow(clippy::cast_possible_truncation)] // < 2^20
        let slot = &self.slots[(claimed & NEXT_MASK) as usize];
        let value = (period & 0x7FFF_FFFF_FFFF_FFFF) << 1 | u64::from(mark);
        let old = if mark {
            slot.swap(value, AcqRel)
        } else {
            let old = slot.load(Acquire);
            if old == value {
                return true; // an unmarked slot of this generation stays unmarked
            }
            slot.swap(value, AcqRel)
        };
        let was_marked = old == ((period & 0x7FFF_FFFF_FFFF_FFFF) << 1 | 1);
        match (was_marked, mark) {
            (false, true) => self.add_mark(period, true),
            (true, false) => self.add_mark(period, false),
            _ => {}
        }
        true
    }

    /// Records a success of generation `period`; returns whether the window
    /// was full and clean (then nothing was written, and no rate can fire).
    #[inline]
    pub(crate) fn record_success(&self, period: u64) -> bool {
        if self.full_and_clean(period) {
            return true;
        }
        self.record_unmarked(period);
        false
    }

    #[inline(never)]
    fn record_unmarked(&self, period: u64) {
        self.record(period, false);
    }

    /// Whether the window of `period` is full and holds no mark.
    #[inline]
    fn full_and_clean(&self, period: u64) -> bool {
        self.marks.load(Acquire) == (period & 0xFFFF_FFFF) << 32
            && self.cursor.load(Acquire) >> NEXT_BITS
                == ((period & TAG_MASK) << FILLED_BITS | self.size)
    }

    #[cold]
    #[inline(never)]
    fn add_mark(&self, period: u64, up: bool) {
        let tag = period & 0xFFFF_FFFF;
        let _ = self.marks.fetch_update(AcqRel, Acquire, |m| {
            if m >> 32 != tag {
                return None;
            }
            Some(if up { m + 1 } else { m - 1 })
        });
    }

    /// Whether any slot of the current generation is marked.
    #[inline]
    pub(crate) fn has_marks(&self) -> bool {
        self.marks.load(Relaxed) & 0xFFFF_FFFF != 0
    }

    /// (calls, marks) in the window.
    pub(crate) fn stats(&self) -> (u64, u64) {
        let filled = (self.cursor.load(Acquire) >> NEXT_BITS) & FILLED_MASK;
        (filled, self.marks.load(Acquire) & 0xFFFF_FFFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_n() {
        let ring = CountRing::new(3, 7);
        assert_eq!(ring.stats(), (0, 0));
        assert!(ring.record(7, true));
        assert!(ring.record(7, true));
        assert_eq!(ring.stats(), (2, 2));
        assert!(ring.record(7, false));
        assert!(ring.record(7, false)); // overwrites the first mark
        assert_eq!(ring.stats(), (3, 1));
        assert!(ring.record(7, false));
        assert_eq!(ring.stats(), (3, 0));
        assert!(!ring.has_marks());
    }

    #[test]
    fn stale_generations_are_refused_and_reset_clears() {
        let ring = CountRing::new(4, 1);
        assert!(ring.record(1, true));
        ring.reset(2);
        assert_eq!(ring.stats(), (0, 0));
        assert!(!ring.record(1, true));
        assert_eq!(ring.stats(), (0, 0));
        // The slot marked in generation 1 reads as empty in generation 2.
        for _ in 0..4 {
            assert!(ring.record(2, false));
        }
        assert_eq!(ring.stats(), (4, 0));
    }
}
