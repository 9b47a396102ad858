//! Additive increase, multiplicative decrease.

use std::time::Duration;

use steadfast_core::ConfigError;

use super::Sample;

/// The settings of an AIMD limit; see [`adaptive`](crate::adaptive).
///
/// A call that fails, or takes longer than `latency_threshold`, multiplies the
/// limit by `backoff` (rounded down, never below `min_limit`). A call that
/// succeeds in time while at least half the limit is in use adds `increase`
/// (never above `max_limit`); an idle bulkhead does not grow a limit it is
/// not using.
///
/// ```
/// use std::time::Duration;
/// use steadfast_bulkhead::AimdConfig;
///
/// let aimd = AimdConfig::new(2, 64).latency_threshold(Duration::from_millis(250));
/// assert_eq!((aimd.min_limit, aimd.max_limit), (2, 64));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct AimdConfig {
    /// The lowest limit (at least 1). Default 1.
    pub min_limit: u32,
    /// The highest limit. Default 200.
    pub max_limit: u32,
    /// The factor a drop multiplies the limit by, in `(0, 1)`. Default 0.9.
    pub backoff: f64,
    /// What a success in time adds to the limit (at least 1). Default 1.
    pub increase: u32,
    /// A call slower than this counts as a drop. Default 1 s.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub latency_threshold: Duration,
}

impl Default for AimdConfig {
    fn default() -> Self {
        AimdConfig {
            min_limit: 1,
            max_limit: 200,
            backoff: 0.9,
            increase: 1,
            latency_threshold: Duration::from_secs(1),
        }
    }
}

impl AimdConfig {
    /// AIMD between `min_limit` and `max_limit`, other settings default.
    pub fn new(min_limit: u32, max_limit: u32) -> Self {
        AimdConfig {
            min_limit,
            max_limit,
            ..AimdConfig::default()
        }
    }

    /// Sets the factor a drop multiplies the limit by.
    #[must_use]
    pub fn backoff(mut self, backoff: f64) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets what a success in time adds to the limit.
    #[must_use]
    pub fn increase(mut self, increase: u32) -> Self {
        self.increase = increase;
        self
    }

    /// Sets the latency above which a call counts as a drop.
    #[must_use]
    pub fn latency_threshold(mut self, threshold: Duration) -> Self {
        self.latency_threshold = threshold;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !(self.backoff > 0.0 && self.backoff < 1.0) {
            return Err(ConfigError::new(
                "bulkhead",
                "backoff",
                "must be between 0 and 1, exclusive",
            )
            .with_value(self.backoff));
        }
        if self.increase == 0 {
            return Err(
                ConfigError::new("bulkhead", "increase", "must be at least 1")
                    .with_value(self.increase),
            );
        }
        if self.latency_threshold.is_zero() {
            return Err(ConfigError::new(
                "bulkhead",
                "latency_threshold",
                "must be greater than zero",
            )
            .with_value(self.latency_threshold));
        }
        Ok(())
    }
}

/// A running AIMD limit.
#[derive(Debug)]
pub(crate) struct Aimd {
    config: AimdConfig,
    limit: u32,
}

impl Aimd {
    pub(crate) fn new(config: AimdConfig, initial: u32) -> Self {
        let limit = initial.clamp(config.min_limit, config.max_limit);
        Aimd { config, limit }
    }

    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )] // a product of a u32 and a ratio below 1, floored: fits in u32
    pub(crate) fn update(&mut self, sample: Sample) -> u32 {
        let c = &self.config;
        if sample.failed || sample.latency > c.latency_threshold {
            let cut = (f64::from(self.limit) * c.backoff).floor() as u32;
            self.limit = cut.max(c.min_limit);
        } else if u64::from(sample.in_flight) * 2 >= u64::from(self.limit) {
            self.limit = self.limit.saturating_add(c.increase).min(c.max_limit);
        }
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(ms: u64, in_flight: u32, failed: bool) -> Sample {
        Sample {
            latency: Duration::from_millis(ms),
            in_flight,
            failed,
        }
    }

    #[test]
    fn drops_cut_and_busy_successes_add() {
        let config = AimdConfig::new(2, 20).latency_threshold(Duration::from_millis(100));
        let mut aimd = Aimd::new(config, 10);
        assert_eq!(aimd.update(sample(10, 5, false)), 11);
        assert_eq!(aimd.update(sample(10, 1, false)), 11, "idle: no growth");
        assert_eq!(
            aimd.update(sample(101, 5, false)),
            9,
            "slow: 11 * 0.9 floored"
        );
        assert_eq!(aimd.update(sample(10, 5, true)), 8, "failed");
        for _ in 0..30 {
            aimd.update(sample(500, 5, false));
        }
        assert_eq!(aimd.limit, 2, "never below min");
        for _ in 0..30 {
            aimd.update(sample(1, 20, false));
        }
        assert_eq!(aimd.limit, 20, "never above max");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn stays_within_bounds(
            min in 1u32..20,
            span in 0u32..50,
            backoff in 0.01f64..0.99,
            samples in prop::collection::vec((0u64..300, 0u32..100, any::<bool>()), 0..100),
        ) {
            let config = AimdConfig::new(min, min + span)
                .backoff(backoff)
                .latency_threshold(Duration::from_millis(150));
            let mut aimd = Aimd::new(config, min);
            for (ms, in_flight, failed) in samples {
                let limit = aimd.update(sample(ms, in_flight, failed));
                prop_assert!((min..=min + span).contains(&limit));
            }
        }
    }
}
