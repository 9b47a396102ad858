//! A latency gradient, in the manner of Netflix's Gradient2.

use steadfast_core::ConfigError;

use super::Sample;

/// The settings of a gradient limit; see [`adaptive`](crate::adaptive).
///
/// Each finished call updates a long-term average of latency (an exponential
/// average over about `long_window` calls) and yields a gradient:
///
/// ```text
/// gradient = clamp(tolerance × long_average / latency, 0.5, 1.0)
/// target   = limit × gradient + queue_size
/// limit    = limit × (1 − smoothing) + target × smoothing
/// ```
///
/// A call slower than `tolerance` times the average pulls the limit down, by
/// up to half per step (smoothed); a call as fast as the average lets it grow
/// by `queue_size × smoothing`, if at least half the limit is in use. A
/// failed call counts as the steepest gradient, 0.5. When latency drops well
/// below the average (recovery after overload) the average is pulled down
/// faster, so the limit climbs back sooner.
///
/// ```
/// use steadfast_bulkhead::GradientConfig;
///
/// let gradient = GradientConfig::new(4, 128).tolerance(2.0);
/// assert_eq!(gradient.tolerance, 2.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct GradientConfig {
    /// The lowest limit (at least 1). Default 1.
    pub min_limit: u32,
    /// The highest limit. Default 200.
    pub max_limit: u32,
    /// How far the limit moves toward its target per call, in `(0, 1]`. Default 0.2.
    pub smoothing: f64,
    /// How much slower than the average a call may be before the limit
    /// shrinks; at least 1. Default 1.5.
    pub tolerance: f64,
    /// Calls the long-term average spans (at least 1). Default 600.
    pub long_window: u32,
    /// Headroom added to the limit when latency is normal. Default 4.
    pub queue_size: u32,
}

impl Default for GradientConfig {
    fn default() -> Self {
        GradientConfig {
            min_limit: 1,
            max_limit: 200,
            smoothing: 0.2,
            tolerance: 1.5,
            long_window: 600,
            queue_size: 4,
        }
    }
}

impl GradientConfig {
    /// A gradient between `min_limit` and `max_limit`, other settings default.
    pub fn new(min_limit: u32, max_limit: u32) -> Self {
        GradientConfig {
            min_limit,
            max_limit,
            ..GradientConfig::default()
        }
    }

    /// Sets how far the limit moves toward its target per call.
    #[must_use]
    pub fn smoothing(mut self, smoothing: f64) -> Self {
        self.smoothing = smoothing;
        self
    }

    /// Sets how much slower than the average a call may be.
    #[must_use]
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Sets how many calls the long-term average spans.
    #[must_use]
    pub fn long_window(mut self, calls: u32) -> Self {
        self.long_window = calls;
        self
    }

    /// Sets the headroom added when latency is normal.
    #[must_use]
    pub fn queue_size(mut self, queue_size: u32) -> Self {
        self.queue_size = queue_size;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !(self.smoothing > 0.0 && self.smoothing <= 1.0) {
            return Err(ConfigError::new(
                "bulkhead",
                "smoothing",
                "must be greater than 0 and at most 1",
            )
            .with_value(self.smoothing));
        }
        if !(self.tolerance >= 1.0 && self.tolerance.is_finite()) {
            return Err(ConfigError::new(
                "bulkhead",
                "tolerance",
                "must be a finite number of at least 1",
            )
            .with_value(self.tolerance));
        }
        if self.long_window == 0 {
            return Err(
                ConfigError::new("bulkhead", "long_window", "must be at least 1")
                    .with_value(self.long_window),
            );
        }
        Ok(())
    }
}

/// A running gradient limit.
#[derive(Debug)]
pub(crate) struct Gradient {
    config: GradientConfig,
    limit: f64,
    /// The long-term average latency, in nanoseconds.
    long: Option<f64>,
}

impl Gradient {
    pub(crate) fn new(config: GradientConfig, initial: u32) -> Self {
        let limit = f64::from(initial.clamp(config.min_limit, config.max_limit));
        Gradient {
            config,
            limit,
            long: None,
        }
    }

    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )] // latencies as f64 nanoseconds; the limit is clamped to u32 bounds first
    pub(crate) fn update(&mut self, sample: Sample) -> u32 {
        let c = &self.config;
        // A zero latency (a ready call on a paused clock) counts as 1 ns.
        let short = (sample.latency.as_nanos() as f64).max(1.0);
        let mut long = match self.long {
            None => short,
            Some(long) => long + (short - long) / f64::from(c.long_window),
        };
        if long > 2.0 * short {
            // Latency is back well below the average: do not wait for the
            // slow average to forget the overload.
            long *= 0.95;
        }
        self.long = Some(long);
        let gradient = if sample.failed {
            0.5
        } else {
            (c.tolerance * long / short).clamp(0.5, 1.0)
        };
        let idle = f64::from(sample.in_flight) * 2.0 < self.limit;
        if gradient >= 1.0 && idle {
            // Do not grow a limit that is not being used.
            return self.limit as u32;
        }
        let target = self.limit * gradient + f64::from(c.queue_size);
        let next = self.limit * (1.0 - c.smoothing) + target * c.smoothing;
        self.limit = next.clamp(f64::from(c.min_limit), f64::from(c.max_limit));
        self.limit as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    fn sample(ms: u64, in_flight: u32) -> Sample {
        Sample {
            latency: Duration::from_millis(ms),
            in_flight,
            failed: false,
        }
    }

    #[test]
    fn a_latency_rise_lowers_the_limit_and_recovery_raises_it() {
        let mut g = Gradient::new(GradientConfig::new(4, 100).long_window(100), 50);
        for _ in 0..20 {
            g.update(sample(10, 50));
        }
        let before = g.limit;
        // Five times slower: the gradient is 0.5 until the average catches up.
        let mut limit = 0;
        for _ in 0..20 {
            limit = g.update(sample(50, 50));
        }
        assert!(f64::from(limit) < before * 0.5, "{limit} vs {before}");
        let low = limit;
        for _ in 0..20 {
            limit = g.update(sample(10, 100));
        }
        assert!(limit > low + 10, "{limit} vs {low}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn stays_within_bounds(
            min in 1u32..20,
            span in 0u32..50,
            smoothing in 0.01f64..=1.0,
            samples in prop::collection::vec((0u64..300, 0u32..100, any::<bool>()), 0..100),
        ) {
            let config = GradientConfig::new(min, min + span).smoothing(smoothing);
            let mut g = Gradient::new(config, min + span / 2);
            for (ms, in_flight, failed) in samples {
                let limit = g.update(Sample { latency: Duration::from_millis(ms), in_flight, failed });
                prop_assert!((min..=min + span).contains(&limit));
            }
        }
    }
}
