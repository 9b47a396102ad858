//! A small seedable random source for jitter.
//!
//! Jitter needs numbers that are spread well, cheap, and reproducible from a
//! seed so tests and simulations replay exactly. It does not need to be
//! unpredictable. SplitMix64 (Steele, Lea and Flood, 2014) is all of that in a
//! few lines: one 64-bit word of state, advanced by a fixed odd constant and
//! mixed on output. Its advance is a plain addition, which is why the policy
//! can hand out per-call seeds from one shared atomic with a single
//! `fetch_add` (see `Shared::next_seed`).

/// The golden-ratio increment that advances the state.
pub(crate) const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64: a seedable, reproducible source of 64-bit numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) const fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// Mixes a state word into an output word.
    pub(crate) const fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        Self::mix(self.state)
    }

    /// A number in `lo..=hi` (`lo` when `hi <= lo`).
    ///
    /// Multiply-and-shift maps 64 random bits onto the range; its bias is at
    /// most `range / 2^64`, far below anything a delay can show.
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo;
        let x = self.next_u64();
        if span == u64::MAX {
            return lo.wrapping_add(x);
        }
        let offset = (u128::from(x) * u128::from(span + 1)) >> 64;
        // offset < span + 1, so it fits and lo + offset <= hi.
        lo + u64::try_from(offset).expect("offset is below span + 1")
    }
}

/// A seed from the process's random hasher keys: different each run, no
/// dependency, no system call per policy beyond what `RandomState` does.
pub(crate) fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x5eed);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_sequence_from_seed_zero() {
        // The published SplitMix64 outputs for seed 0.
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(rng.next_u64(), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn between_degenerate_ranges() {
        let mut rng = SplitMix64::new(1);
        assert_eq!(rng.between(5, 5), 5);
        assert_eq!(rng.between(9, 3), 9);
        let _ = rng.between(0, u64::MAX);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn between_stays_in_range(seed: u64, lo in 0u64..1_000_000, span in 0u64..1_000_000) {
            let mut rng = SplitMix64::new(seed);
            for _ in 0..16 {
                let x = rng.between(lo, lo + span);
                prop_assert!((lo..=lo + span).contains(&x));
            }
        }
    }
}
