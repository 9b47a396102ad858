use std::time::Duration;

use super::{Backoff, Jitter};
use crate::rng::SplitMix64;

/// The waits of a [`Backoff`], one per retry; see [`Backoff::delays`].
///
/// An endless iterator: the schedule holds at its maximum once it gets
/// there. Durations are computed in whole nanoseconds and saturate rather
/// than overflow.
#[derive(Clone, Debug)]
pub struct Delays {
    backoff: Backoff,
    rng: SplitMix64,
    /// The schedule's next value before jitter, in nanoseconds.
    base: u64,
    /// The last wait given, for decorrelated jitter.
    prev: u64,
    /// Waits given so far.
    taken: u32,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Delays {
    pub(crate) fn new(backoff: Backoff, seed: u64) -> Self {
        let initial = nanos(backoff.initial());
        Delays {
            backoff,
            rng: SplitMix64::new(seed),
            base: initial,
            prev: initial,
            taken: 0,
        }
    }

    /// How many waits this iterator has given.
    pub fn taken(&self) -> u32 {
        self.taken
    }

    /// The schedule's value after `base`, before jitter.
    fn grow(&self, base: u64) -> u64 {
        match self.backoff {
            Backoff::Constant { .. } => base,
            Backoff::Linear { step, max, .. } => base.saturating_add(nanos(step)).min(nanos(max)),
            Backoff::Exponential {
                multiplier, max, ..
            } => {
                let max = nanos(max);
                // Precision: a u64 of nanoseconds converts to f64 exactly up
                // to 2^53 ns (104 days); beyond that a wait is off by < 1 ppm.
                #[allow(clippy::cast_precision_loss)]
                let (next, max_f) = (base as f64 * multiplier, max as f64);
                if next >= max_f {
                    max
                } else {
                    // In range: 0 <= next < max <= u64::MAX, checked above.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let next = next as u64;
                    next
                }
            }
        }
    }

    fn jittered(&mut self, base: u64) -> u64 {
        match self.backoff.jitter() {
            Jitter::None => base,
            Jitter::Full => self.rng.between(0, base),
            Jitter::Equal => {
                let half = base / 2;
                half + self.rng.between(0, base - half)
            }
            Jitter::Decorrelated => {
                let floor = nanos(self.backoff.initial());
                let cap = nanos(self.backoff.max_delay());
                let hi = self.prev.saturating_mul(3).min(cap).max(floor);
                self.rng.between(floor, hi)
            }
        }
    }
}

impl Iterator for Delays {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let base = self.base;
        self.base = self.grow(base);
        let wait = self.jittered(base);
        self.prev = wait;
        self.taken = self.taken.saturating_add(1);
        Some(Duration::from_nanos(wait))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn first(backoff: Backoff, n: usize) -> Vec<Duration> {
        backoff.delays(1).expect("valid").take(n).collect()
    }

    #[test]
    fn schedules_without_jitter() {
        assert_eq!(first(Backoff::constant(MS(50)), 3), [MS(50); 3]);
        assert_eq!(
            first(Backoff::linear(MS(10), MS(15), MS(50)), 5),
            [10, 25, 40, 50, 50].map(MS)
        );
        assert_eq!(
            first(Backoff::exponential(MS(10), 3.0, MS(200)), 5),
            [10, 30, 90, 200, 200].map(MS)
        );
        assert_eq!(
            first(Backoff::exponential(MS(100), 1.5, MS(1000)), 4),
            [MS(100), MS(150), MS(225), Duration::from_micros(337_500)]
        );
    }

    #[test]
    fn huge_values_saturate() {
        let mut d = Backoff::exponential(Duration::from_secs(1), 1e6, Duration::MAX)
            .delays(0)
            .expect("valid");
        let waits: Vec<_> = d.by_ref().take(6).collect();
        assert_eq!(waits[5], Duration::from_nanos(u64::MAX));
        assert_eq!(d.taken(), 6);
    }

    fn any_backoff() -> impl Strategy<Value = (Backoff, Jitter)> {
        let jitter = prop_oneof![
            Just(Jitter::None),
            Just(Jitter::Full),
            Just(Jitter::Equal),
            Just(Jitter::Decorrelated)
        ];
        let shape = prop_oneof![
            (0u64..10_000).prop_map(|d| Backoff::constant(MS(d))),
            (0u64..1_000, 0u64..1_000, 0u64..10_000).prop_map(|(i, s, extra)| Backoff::linear(
                MS(i),
                MS(s),
                MS(i + extra)
            )),
            (1u64..1_000, 1.0f64..4.0, 0u64..10_000)
                .prop_map(|(i, m, extra)| Backoff::exponential(MS(i), m, MS(i + extra))),
        ];
        (shape, jitter)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn jitter_stays_within_its_bounds((shape, jitter) in any_backoff(), seed: u64) {
            let plain: Vec<_> = first(shape, 12);
            let jittered: Vec<_> = shape.with_jitter(jitter).delays(seed).unwrap().take(12).collect();
            let again: Vec<_> = shape.with_jitter(jitter).delays(seed).unwrap().take(12).collect();
            prop_assert_eq!(&jittered, &again);
            let mut prev = shape.initial();
            for (wait, base) in jittered.iter().zip(&plain) {
                let (lo, hi) = match jitter {
                    Jitter::None => (*base, *base),
                    Jitter::Full => (Duration::ZERO, *base),
                    Jitter::Equal => (*base / 2, *base),
                    Jitter::Decorrelated => {
                        let hi = (prev * 3).min(shape.max_delay()).max(shape.initial());
                        (shape.initial(), hi)
                    }
                };
                prop_assert!(*wait >= lo && *wait <= hi, "{wait:?} outside {lo:?}..={hi:?}");
                prop_assert!(*wait <= shape.max_delay());
                prev = *wait;
            }
        }
    }
}
