//! A seeded, lock-free source of draws: splitmix64 over an atomic counter,
//! so a run with the same seed and the same order of calls draws the same.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug)]
pub(crate) struct Draws(AtomicU64);

impl Draws {
    pub(crate) fn new(seed: u64) -> Self {
        Draws(AtomicU64::new(seed))
    }

    /// The next 64 random bits.
    pub(crate) fn next(&self) -> u64 {
        let mut z = self
            .0
            .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A draw in `[0, 1)`.
    pub(crate) fn unit(&self) -> f64 {
        // The top 53 bits: every value exactly representable.
        #[allow(clippy::cast_precision_loss)]
        let (top, scale) = ((self.next() >> 11) as f64, (1_u64 << 53) as f64);
        top / scale
    }
}
