//! The decisions, as pure functions of one state word, the time and the cost.
//!
//! Every algorithm keeps a key's whole state in one `u64` whose value `0`
//! means "full" (never seen, or idle long enough). That is what lets one
//! `AtomicU64` hold a direct limiter, a map of `K -> u64` hold a keyed one,
//! and a shared store (the [`StateStore`](crate::StateStore) seam) run the
//! same code: read the word, decide, write it back if it did not change.
//!
//! Times are nanoseconds on the limiter's [clock](crate::TimeSource).

mod gcra;
#[cfg(test)]
mod props;
mod window;

use crate::clock::nanos;
use crate::quota::{Algorithm, Quota};

/// Returned as the wait of a call that can never be admitted (its cost is
/// above the burst or the limit). Real waits stay far below it: a quota's
/// span (GCRA's burst times interval, a window's period) is at most
/// [`MAX_SPAN`], and no wait is longer than two spans.
pub(crate) const NEVER: u64 = u64::MAX;

/// The longest span a quota may cover, in ns (2^62, about 146 years):
/// twice it, plus any time on the clock a service reaches, still fits in a
/// `u64`, so no decision or peek overflows.
pub(crate) const MAX_SPAN: u64 = 1 << 62;

/// A quota compiled for the hot path.
///
/// GCRA: `a` is the refill interval of one unit, `b` the burst in units.
/// Windows: `a` is the window length, `b` the limit per window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) a: u64,
    pub(crate) b: u64,
}

impl Params {
    pub(crate) fn new(algorithm: Algorithm, quota: &Quota) -> Params {
        match algorithm {
            Algorithm::Gcra => Params {
                a: quota.interval_nanos(),
                b: u64::from(quota.burst_size()),
            },
            Algorithm::SlidingWindow | Algorithm::FixedWindow => Params {
                a: nanos(quota.period()).max(1),
                b: u64::from(quota.limit()),
            },
        }
    }

    /// The same quota at `factor / 65536` of its rate (warm-up): GCRA
    /// refills more slowly and holds a smaller burst; windows allow less.
    pub(crate) fn scaled(self, algorithm: Algorithm, factor: u64) -> Params {
        if factor >= 1 << 16 {
            return self;
        }
        let factor = factor.max(1);
        let shrink = |units: u64| ((u128::from(units) * u128::from(factor)) >> 16).max(1);
        match algorithm {
            Algorithm::Gcra => {
                let b = u64::try_from(shrink(self.b)).unwrap_or(self.b);
                // A slower interval over a burst that cannot shrink below 1
                // would span more than the quota did: capped at MAX_SPAN.
                let a = u64::try_from((u128::from(self.a) << 16) / u128::from(factor))
                    .unwrap_or(u64::MAX)
                    .min(MAX_SPAN / b);
                Params { a, b }
            }
            Algorithm::SlidingWindow | Algorithm::FixedWindow => Params {
                a: self.a,
                b: u64::try_from(shrink(self.b)).unwrap_or(self.b),
            },
        }
    }
}

/// What a check decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Admitted: write this state.
    Admit(u64),
    /// Refused: admitted after this many ns at the earliest ([`NEVER`] if the cost can never fit).
    Deny(u64),
}

/// A key's state, read without consuming.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Peek {
    /// Units a call could take now.
    pub(crate) remaining: u64,
    /// Nanoseconds until the state is back to full.
    pub(crate) reset_after: u64,
    /// Nanoseconds until one unit is available (0 when one is now).
    pub(crate) retry_after: u64,
}

/// Decides a call of `cost` units at `now` against `state`.
// Part of every check: measured faster forced inline (see Engine::begin).
#[allow(clippy::inline_always)]
#[inline(always)]
pub(crate) fn decide(algorithm: Algorithm, p: Params, state: u64, now: u64, cost: u64) -> Decision {
    match algorithm {
        Algorithm::Gcra => gcra::decide(p, state, now, cost),
        Algorithm::SlidingWindow => window::decide_sliding(p, state, now, cost),
        Algorithm::FixedWindow => window::decide_fixed(p, state, now, cost),
    }
}

/// The state without consuming.
pub(crate) fn peek(algorithm: Algorithm, p: Params, state: u64, now: u64) -> Peek {
    match algorithm {
        Algorithm::Gcra => gcra::peek(p, state, now),
        Algorithm::SlidingWindow => window::peek_sliding(p, state, now),
        Algorithm::FixedWindow => window::peek_fixed(p, state, now),
    }
}

/// Hands back `cost` units a call took and did not use (a refund).
pub(crate) fn refund(algorithm: Algorithm, p: Params, state: u64, now: u64, cost: u64) -> u64 {
    match algorithm {
        Algorithm::Gcra => gcra::give_back(p, state, cost),
        Algorithm::SlidingWindow | Algorithm::FixedWindow => window::give_back(p, state, now, cost),
    }
}

/// When `state` is back to full (a value `<= now` means it is already):
/// a key in that state may be forgotten, and the smallest is the idlest.
#[inline]
pub(crate) fn full_at(algorithm: Algorithm, p: Params, state: u64, now: u64) -> u64 {
    match algorithm {
        Algorithm::Gcra => state,
        Algorithm::SlidingWindow => window::full_at(p, state, now, 2),
        Algorithm::FixedWindow => window::full_at(p, state, now, 1),
    }
}

pub(crate) use gcra::{Reservation, give_back, reserve};

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn scaling_slows_gcra_and_shrinks_windows() {
        let q = Quota::per_second(10).burst(20);
        let p = Params::new(Algorithm::Gcra, &q);
        assert_eq!(
            p,
            Params {
                a: 100_000_000,
                b: 20
            }
        );
        assert_eq!(
            p.scaled(Algorithm::Gcra, 1 << 15),
            Params {
                a: 200_000_000,
                b: 10
            }
        );
        assert_eq!(p.scaled(Algorithm::Gcra, 1 << 16), p);
        let w = Params::new(
            Algorithm::FixedWindow,
            &Quota::new(100, Duration::from_secs(60)),
        );
        assert_eq!(
            w,
            Params {
                a: 60_000_000_000,
                b: 100
            }
        );
        assert_eq!(w.scaled(Algorithm::FixedWindow, 1 << 14).b, 25);
        assert_eq!(w.scaled(Algorithm::FixedWindow, 1).b, 1);
    }
}
