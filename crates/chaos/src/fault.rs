//! What a chaos policy injects: an error, a delay, or an answer of its own.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use steadfast_core::{ConfigError, Error, Name, Shed};

use crate::rng::Draws;

type MakeError<E> = Arc<dyn Fn(&Name) -> Error<E> + Send + Sync>;
type MakeValue<T> = Arc<dyn Fn() -> T + Send + Sync>;

/// A fault a [`Chaos`](crate::Chaos) policy injects into the calls it picks.
pub enum Fault<T, E> {
    /// The call fails with this error, without running the rest.
    Error(MakeError<E>),
    /// The call waits this long, then runs the rest.
    Latency(Latency),
    /// The call answers this value, without running the rest (a `503`
    /// response from a service that answers rather than fails).
    Outcome(MakeValue<T>),
}

impl<T, E> Clone for Fault<T, E> {
    fn clone(&self) -> Self {
        match self {
            Fault::Error(make) => Fault::Error(Arc::clone(make)),
            Fault::Latency(latency) => Fault::Latency(*latency),
            Fault::Outcome(make) => Fault::Outcome(Arc::clone(make)),
        }
    }
}

impl<T, E> fmt::Debug for Fault<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Error(_) => f.write_str("Error(..)"),
            Fault::Latency(latency) => f.debug_tuple("Latency").field(latency).finish(),
            Fault::Outcome(_) => f.write_str("Outcome(..)"),
        }
    }
}

impl<T, E> Fault<T, E> {
    /// The operation's own error, as `make` builds it.
    pub fn error(make: impl Fn() -> E + Send + Sync + 'static) -> Self {
        Fault::Error(Arc::new(move |_| Error::Inner(make())))
    }

    /// A rejection, as a shedding policy would answer (`Error::Shed`
    /// naming the chaos policy): what a caller sees when a policy refuses.
    pub fn rejection() -> Self {
        Fault::Error(Arc::new(|name| Error::Shed(Shed::new(name.clone(), None))))
    }

    /// Any error of the pipeline's type, as `make` builds it from the chaos
    /// policy's name (a `CircuitOpen`, a `RateLimited` with a wait…).
    pub fn error_with(make: impl Fn(&Name) -> Error<E> + Send + Sync + 'static) -> Self {
        Fault::Error(Arc::new(make))
    }

    /// A delay before the rest of the call.
    pub fn latency(latency: Latency) -> Self {
        Fault::Latency(latency)
    }

    /// An answer of the chaos policy's own, as `make` builds it.
    pub fn outcome(make: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Fault::Outcome(Arc::new(make))
    }
}

/// How long an injected delay lasts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latency {
    /// Always this long.
    Fixed(Duration),
    /// Uniform between `low` and `high`.
    Uniform {
        /// The shortest.
        low: Duration,
        /// The longest.
        high: Duration,
    },
    /// Long-tailed (log-normal): half the delays below `median`, one in a
    /// hundred above `p99`; none above ten times `p99`.
    LongTail {
        /// The median delay.
        median: Duration,
        /// The 99th percentile.
        p99: Duration,
    },
}

/// The standard normal's 99th percentile.
const Z99: f64 = 2.326_347_874;

impl Latency {
    /// Always `delay`.
    pub fn fixed(delay: Duration) -> Self {
        Latency::Fixed(delay)
    }

    /// Uniform between `low` and `high`.
    pub fn uniform(low: Duration, high: Duration) -> Self {
        Latency::Uniform { low, high }
    }

    /// Long-tailed around `median`, with `p99` its 99th percentile.
    pub fn long_tail(median: Duration, p99: Duration) -> Self {
        Latency::LongTail { median, p99 }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        const POLICY: &str = "chaos";
        match *self {
            Latency::Uniform { low, high } if low > high => Err(ConfigError::new(
                POLICY,
                "latency",
                "a uniform latency's low must not exceed its high",
            )
            .with_value(self)),
            Latency::LongTail { median, p99 } if median.is_zero() || p99 < median => {
                Err(ConfigError::new(
                    POLICY,
                    "latency",
                    "a long tail needs a positive median and a p99 at least the median",
                )
                .with_value(self))
            }
            _ => Ok(()),
        }
    }

    /// One delay, drawn from `draws`.
    pub(crate) fn draw(&self, draws: &Draws) -> Duration {
        match *self {
            Latency::Fixed(delay) => delay,
            Latency::Uniform { low, high } => low + high.saturating_sub(low).mul_f64(draws.unit()),
            Latency::LongTail { median, p99 } => {
                // Box-Muller: a standard normal from two uniform draws.
                let (u1, u2) = (draws.unit().max(f64::MIN_POSITIVE), draws.unit());
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let sigma = (p99.as_secs_f64() / median.as_secs_f64()).ln() / Z99;
                let secs = median.as_secs_f64() * (sigma * z).exp();
                let cap = p99.saturating_mul(10);
                Duration::try_from_secs_f64(secs).map_or(cap, |d| d.min(cap))
            }
        }
    }
}
