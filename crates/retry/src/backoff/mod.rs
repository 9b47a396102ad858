//! Backoff: how long to wait before each retry.
//!
//! A [`Backoff`] is a schedule (constant, linear or exponential) and a
//! [`Jitter`] that spreads the waits of many callers apart, so clients that
//! failed together do not retry together. [`Backoff::delays`] turns it into
//! [`Delays`], an iterator of waits that is usable on its own (a reconnect
//! loop, a poller) and reproducible from a seed.
//!
//! ```
//! use std::time::Duration;
//! use steadfast_retry::{Backoff, Jitter};
//!
//! let backoff = Backoff::exponential(Duration::from_millis(100), 2.0, Duration::from_secs(1));
//! let waits: Vec<_> = backoff.delays(7).unwrap().take(5).collect();
//! assert_eq!(waits, [100, 200, 400, 800, 1000].map(Duration::from_millis));
//!
//! // Full jitter: each wait is drawn from zero up to the schedule's value.
//! let jittered = backoff.with_jitter(Jitter::Full);
//! let first: Vec<_> = jittered.delays(7).unwrap().take(5).collect();
//! let again: Vec<_> = jittered.delays(7).unwrap().take(5).collect();
//! assert_eq!(first, again); // same seed, same waits
//! assert!(first.iter().zip(&waits).all(|(j, w)| j <= w));
//! ```
//!
//! # Choosing one
//!
//! - **Exponential with full jitter** (the default) for remote calls: it
//!   backs off fast from an overloaded dependency and spreads callers evenly.
//! - **Equal jitter** when a retry must never come sooner than half the
//!   schedule (a dependency with a known recovery time).
//! - **Decorrelated jitter** grows from the previous wait rather than the
//!   attempt number, which spreads long-running retry loops best.
//! - **Constant** or **linear** for local, cheap, rarely contended resources
//!   (a lock file, a local socket), or in tests.

mod delays;

use std::time::Duration;

use steadfast_core::ConfigError;

pub use delays::Delays;

/// How the waits of a [`Backoff`] are randomised.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Jitter {
    /// The schedule's waits, exactly.
    None,
    /// A wait drawn uniformly from zero to the schedule's value.
    #[default]
    Full,
    /// Half the schedule's value, plus a draw from zero to the other half.
    Equal,
    /// A draw from the first wait to three times the previous wait, capped by
    /// the maximum; each wait grows from the last one actually taken.
    Decorrelated,
}

/// A schedule of waits between attempts, and its [`Jitter`].
///
/// Build one with [`Backoff::constant`], [`Backoff::linear`] or
/// [`Backoff::exponential`], then [`with_jitter`](Backoff::with_jitter).
/// Values are checked by [`validate`](Backoff::validate), which
/// [`delays`](Backoff::delays) and the retry builder call.
///
/// With the `serde` feature it deserializes, tagged by `kind`:
/// `{ "kind": "exponential", "initial": "100ms", "multiplier": 2.0, "max": "10s", "jitter": "full" }`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)
)]
#[non_exhaustive]
pub enum Backoff {
    /// The same wait every time.
    #[non_exhaustive]
    Constant {
        /// The wait.
        #[cfg_attr(feature = "serde", serde(with = "steadfast_core::duration_serde"))]
        delay: Duration,
        /// How waits are randomised (default [`Jitter::Full`]).
        #[cfg_attr(feature = "serde", serde(default))]
        jitter: Jitter,
    },
    /// `initial`, then one `step` longer each time, up to `max`.
    #[non_exhaustive]
    Linear {
        /// The first wait.
        #[cfg_attr(feature = "serde", serde(with = "steadfast_core::duration_serde"))]
        initial: Duration,
        /// Added for each further retry.
        #[cfg_attr(feature = "serde", serde(with = "steadfast_core::duration_serde"))]
        step: Duration,
        /// The longest wait. Must be at least `initial`.
        #[cfg_attr(feature = "serde", serde(with = "steadfast_core::duration_serde"))]
        max: Duration,
        /// How waits are randomised (default [`Jitter::Full`]).
        #[cfg_attr(feature = "serde", serde(default))]
        jitter: Jitter,
    },
    /// `initial`, then `multiplier` times longer each time, up to `max`.
    #[non_exhaustive]
    Exponential {
        /// The first wait. Must be greater than zero.
        #[cfg_attr(feature = "serde", serde(with = "steadfast_core::duration_serde"))]
        initial: Duration,
        /// The growth factor. Must be a finite number of at least 1.
        multiplier: f64,
        /// The longest wait. Must be at least `initial`.
        #[cfg_attr(feature = "serde", serde(with = "steadfast_core::duration_serde"))]
        max: Duration,
        /// How waits are randomised (default [`Jitter::Full`]).
        #[cfg_attr(feature = "serde", serde(default))]
        jitter: Jitter,
    },
}

impl Default for Backoff {
    /// Exponential from 100 ms, doubling, up to 10 s, full jitter.
    fn default() -> Self {
        Backoff::exponential(Duration::from_millis(100), 2.0, Duration::from_secs(10))
            .with_jitter(Jitter::Full)
    }
}

impl Backoff {
    /// The same `delay` before every retry, without jitter.
    pub const fn constant(delay: Duration) -> Self {
        Backoff::Constant {
            delay,
            jitter: Jitter::None,
        }
    }

    /// `initial`, `initial + step`, `initial + 2 step`, … up to `max`, without jitter.
    pub const fn linear(initial: Duration, step: Duration, max: Duration) -> Self {
        Backoff::Linear {
            initial,
            step,
            max,
            jitter: Jitter::None,
        }
    }

    /// `initial`, `initial × multiplier`, … up to `max`, without jitter.
    pub const fn exponential(initial: Duration, multiplier: f64, max: Duration) -> Self {
        Backoff::Exponential {
            initial,
            multiplier,
            max,
            jitter: Jitter::None,
        }
    }

    /// The same schedule with `jitter`.
    #[must_use]
    pub const fn with_jitter(mut self, jitter: Jitter) -> Self {
        match &mut self {
            Backoff::Constant { jitter: j, .. }
            | Backoff::Linear { jitter: j, .. }
            | Backoff::Exponential { jitter: j, .. } => *j = jitter,
        }
        self
    }

    /// The jitter.
    pub const fn jitter(&self) -> Jitter {
        match self {
            Backoff::Constant { jitter, .. }
            | Backoff::Linear { jitter, .. }
            | Backoff::Exponential { jitter, .. } => *jitter,
        }
    }

    /// The schedule's first wait, before jitter.
    pub const fn initial(&self) -> Duration {
        match self {
            Backoff::Constant { delay, .. } => *delay,
            Backoff::Linear { initial, .. } | Backoff::Exponential { initial, .. } => *initial,
        }
    }

    /// The longest wait the schedule gives, jitter included.
    pub const fn max_delay(&self) -> Duration {
        match self {
            Backoff::Constant { delay, .. } => *delay,
            Backoff::Linear { max, .. } | Backoff::Exponential { max, .. } => *max,
        }
    }

    /// Checks the values; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match *self {
            Backoff::Constant { .. } => Ok(()),
            Backoff::Linear { initial, max, .. } => check_max(initial, max),
            Backoff::Exponential {
                initial,
                multiplier,
                max,
                ..
            } => {
                if initial.is_zero() {
                    return Err(ConfigError::new(
                        "retry",
                        "backoff.initial",
                        "must be greater than zero for an exponential backoff",
                    )
                    .with_value(initial));
                }
                if !multiplier.is_finite() || multiplier < 1.0 {
                    return Err(ConfigError::new(
                        "retry",
                        "backoff.multiplier",
                        "must be a finite number of at least 1",
                    )
                    .with_value(multiplier));
                }
                check_max(initial, max)
            }
        }
    }

    /// The waits of this schedule, one per retry, jittered from `seed`.
    ///
    /// The iterator never ends; take as many as there are retries. The same
    /// seed gives the same waits.
    pub fn delays(&self, seed: u64) -> Result<Delays, ConfigError> {
        self.validate()?;
        Ok(Delays::new(*self, seed))
    }
}

fn check_max(initial: Duration, max: Duration) -> Result<(), ConfigError> {
    if max < initial {
        return Err(
            ConfigError::new("retry", "backoff.max", "must be at least `backoff.initial`")
                .with_value(max),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let ms = Duration::from_millis;
        let bad = [
            (Backoff::exponential(ms(0), 2.0, ms(10)), "backoff.initial"),
            (
                Backoff::exponential(ms(1), 0.0, ms(10)),
                "backoff.multiplier",
            ),
            (
                Backoff::exponential(ms(1), 0.5, ms(10)),
                "backoff.multiplier",
            ),
            (
                Backoff::exponential(ms(1), f64::NAN, ms(10)),
                "backoff.multiplier",
            ),
            (
                Backoff::exponential(ms(1), f64::INFINITY, ms(10)),
                "backoff.multiplier",
            ),
            (Backoff::exponential(ms(20), 2.0, ms(10)), "backoff.max"),
            (Backoff::linear(ms(20), ms(1), ms(10)), "backoff.max"),
        ];
        for (backoff, field) in bad {
            let err = backoff.delays(0).unwrap_err();
            assert_eq!(err.field(), field, "{backoff:?}");
        }
        assert!(Backoff::constant(Duration::ZERO).validate().is_ok());
        assert!(Backoff::default().validate().is_ok());
    }

    #[test]
    fn accessors() {
        let b = Backoff::linear(
            Duration::from_millis(5),
            Duration::from_millis(5),
            Duration::from_millis(50),
        )
        .with_jitter(Jitter::Equal);
        assert_eq!(b.jitter(), Jitter::Equal);
        assert_eq!(b.initial(), Duration::from_millis(5));
        assert_eq!(b.max_delay(), Duration::from_millis(50));
        assert_eq!(Backoff::default().jitter(), Jitter::Full);
    }
}
