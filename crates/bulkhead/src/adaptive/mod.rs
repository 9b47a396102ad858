//! Adaptive limits: the bulkhead's concurrency limit follows what the
//! dependency can take, learned from each call's latency and outcome.
//!
//! # When to adapt
//!
//! A fixed limit is right when the capacity behind it is fixed and known: a
//! connection pool of 20 gets a bulkhead of 20. When capacity moves (a
//! dependency that autoscales, shares hardware, or slows down under load you
//! do not see), a fixed limit is either too low on good days or too high on
//! bad ones. An adaptive limit lowers itself as latency rises or calls fail,
//! which is exactly when queueing more work would make things worse, and
//! raises itself again when the dependency recovers.
//!
//! Two algorithms, both bounded by a minimum and a maximum:
//!
//! - [`AimdConfig`]: additive increase, multiplicative decrease. A call that
//!   fails or is slower than a threshold cuts the limit by a ratio; a call
//!   that succeeds while the bulkhead is at least half used adds one. Simple
//!   and predictable; needs a latency threshold.
//! - [`GradientConfig`]: in the manner of Netflix's Gradient2. It compares the
//!   latency of each call with a slow-moving average of past latency: when
//!   calls get slower than the average (beyond a tolerance), the limit shrinks
//!   in proportion; when they are as fast, the limit grows by a small
//!   headroom. No threshold to pick, and it follows a new normal.
//!
//! The first call after a limit is lowered does not have to wait for anything:
//! calls already in flight finish, and new ones are admitted once in flight
//! is below the new limit.

mod aimd;
mod gradient;

use std::time::Duration;

pub(crate) use aimd::Aimd;
pub use aimd::AimdConfig;
pub(crate) use gradient::Gradient;
pub use gradient::GradientConfig;

use steadfast_core::ConfigError;

/// One finished call, as an adaptive limit sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Sample {
    /// How long the call held its permit.
    pub(crate) latency: Duration,
    /// Calls in flight when it finished, itself included.
    pub(crate) in_flight: u32,
    /// Whether it failed (an `Err` of any kind).
    pub(crate) failed: bool,
}

/// Which algorithm adapts the limit; see the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "algorithm", rename_all = "snake_case", deny_unknown_fields)
)]
#[non_exhaustive]
pub enum AdaptiveConfig {
    /// Additive increase, multiplicative decrease.
    Aimd(AimdConfig),
    /// A latency gradient, in the manner of Netflix's Gradient2.
    Gradient(GradientConfig),
}

impl AdaptiveConfig {
    /// The lowest limit.
    pub fn min_limit(&self) -> u32 {
        match self {
            AdaptiveConfig::Aimd(c) => c.min_limit,
            AdaptiveConfig::Gradient(c) => c.min_limit,
        }
    }

    /// The highest limit.
    pub fn max_limit(&self) -> u32 {
        match self {
            AdaptiveConfig::Aimd(c) => c.max_limit,
            AdaptiveConfig::Gradient(c) => c.max_limit,
        }
    }

    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let (min, max) = (self.min_limit(), self.max_limit());
        if min == 0 {
            return Err(
                ConfigError::new("bulkhead", "min_limit", "must be at least 1").with_value(min),
            );
        }
        if max < min {
            return Err(ConfigError::new(
                "bulkhead",
                "max_limit",
                format!("must be at least min_limit ({min})"),
            )
            .with_value(max));
        }
        match self {
            AdaptiveConfig::Aimd(c) => c.validate(),
            AdaptiveConfig::Gradient(c) => c.validate(),
        }
    }
}

impl From<AimdConfig> for AdaptiveConfig {
    fn from(config: AimdConfig) -> Self {
        AdaptiveConfig::Aimd(config)
    }
}

impl From<GradientConfig> for AdaptiveConfig {
    fn from(config: GradientConfig) -> Self {
        AdaptiveConfig::Gradient(config)
    }
}

/// A running algorithm and its state.
#[derive(Debug)]
pub(crate) enum Algorithm {
    Aimd(Aimd),
    Gradient(Gradient),
}

impl Algorithm {
    pub(crate) fn new(config: &AdaptiveConfig, initial: u32) -> Self {
        match config {
            AdaptiveConfig::Aimd(c) => Algorithm::Aimd(Aimd::new(c.clone(), initial)),
            AdaptiveConfig::Gradient(c) => Algorithm::Gradient(Gradient::new(c.clone(), initial)),
        }
    }

    /// Learns from one call; returns the new limit.
    pub(crate) fn update(&mut self, sample: Sample) -> u32 {
        match self {
            Algorithm::Aimd(a) => a.update(sample),
            Algorithm::Gradient(g) => g.update(sample),
        }
    }
}
