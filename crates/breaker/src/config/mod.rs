//! A breaker's configuration: trip rules, open duration, half-open trials.

mod half_open;
mod open;
mod presets;
mod rules;

use steadfast_core::{ConfigError, Name};

pub use half_open::HalfOpen;
pub use open::OpenDuration;
pub use rules::{CountWindow, FailureRate, SlowCallRate, TimeWindow, Window};

/// A [`Breaker`](crate::Breaker)'s configuration.
///
/// Trip rules are combinable; the first to fire opens the breaker. At least
/// one must be set. Start from a preset ([`BreakerConfig::standard`], the
/// `Default`; [`database`](BreakerConfig::database);
/// [`ai_api`](BreakerConfig::ai_api)) or from [`BreakerConfig::empty`] and the
/// builder. With the `serde` feature it deserializes:
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use steadfast_breaker::{Breaker, BreakerConfig};
///
/// let config: BreakerConfig = serde_json::from_str(r#"{
///     "name": "payments",
///     "consecutive_failures": 5,
///     "failure_rates": [
///         { "rate": 0.5, "window": { "time": { "length": "10s", "min_throughput": 20 } } }
///     ],
///     "open_duration": { "base": "5s", "multiplier": 2.0, "max": "2m", "jitter": 0.1 },
///     "half_open": { "trials": 3, "success_rate": 1.0, "trial_deadline": "10s" }
/// }"#).unwrap();
/// let breaker = Breaker::from_config(config).unwrap();
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields, default))]
#[non_exhaustive]
pub struct BreakerConfig {
    /// The name shown in errors, events and snapshots. Default `"breaker"`.
    pub name: Name,
    /// Trip after this many failures in a row (at least 1).
    pub consecutive_failures: Option<u32>,
    /// Trip when the share of failures over a window reaches a rate; each
    /// entry is its own window (a count window and a time window may be combined).
    pub failure_rates: Vec<FailureRate>,
    /// Trip when the share of slow calls over a window reaches a rate.
    pub slow_call_rate: Option<SlowCallRate>,
    /// How long the breaker stays open.
    pub open_duration: OpenDuration,
    /// How the half-open breaker probes.
    pub half_open: HalfOpen,
    /// Record and report the state the breaker would be in, but never refuse a call.
    pub metrics_only: bool,
    /// Seed for the open-duration jitter, for reproducible runs; random when `None`.
    pub jitter_seed: Option<u64>,
    /// Whether refusals by local policies inside the breaker (a full
    /// bulkhead, a rate limit or lockout, a shed, a missing key, an inner
    /// open circuit: [`Error::is_local_refusal`](steadfast_core::Error::is_local_refusal))
    /// go to the classifier. Default `false`: they say nothing about the
    /// dependency's health, so they are ignored, neither failure nor
    /// success. An inner timeout is always classified (a failure by default).
    pub count_local_refusals: bool,
}

impl Default for BreakerConfig {
    /// [`BreakerConfig::standard`].
    fn default() -> Self {
        BreakerConfig::standard()
    }
}

impl BreakerConfig {
    /// No trip rule, a fixed 30 s open and one trial: a base to build on. It
    /// does not validate until a trip rule is added.
    pub fn empty() -> Self {
        BreakerConfig {
            name: Name::new_static("breaker"),
            consecutive_failures: None,
            failure_rates: Vec::new(),
            slow_call_rate: None,
            open_duration: OpenDuration::default(),
            half_open: HalfOpen::default(),
            metrics_only: false,
            jitter_seed: None,
            count_local_refusals: false,
        }
    }

    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(n) = self.consecutive_failures
            && n == 0
        {
            return Err(
                ConfigError::new("breaker", "consecutive_failures", "must be at least 1")
                    .with_value(n),
            );
        }
        for rule in &self.failure_rates {
            rule.validate("failure_rates")?;
        }
        if let Some(rule) = &self.slow_call_rate {
            rule.validate()?;
        }
        if self.consecutive_failures.is_none()
            && self.failure_rates.is_empty()
            && self.slow_call_rate.is_none()
        {
            return Err(ConfigError::new(
                "breaker",
                "consecutive_failures",
                "or another trip rule must be set (`failure_rates`, `slow_call_rate`)",
            ));
        }
        self.open_duration.validate()?;
        self.half_open.validate()
    }
}
