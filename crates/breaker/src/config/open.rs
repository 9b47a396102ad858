//! How long the breaker stays open.

use std::time::Duration;

use steadfast_core::ConfigError;

/// How long an open breaker refuses calls before it lets a trial through.
///
/// The first open lasts `base`. Each time the breaker re-opens without having
/// closed in between (a failed trial), the duration is multiplied by
/// `multiplier`, up to `max`; a successful close brings it back to `base`.
/// `multiplier = 1` (the default) keeps it fixed.
///
/// With `jitter = j`, each duration is shortened by a random share of up to
/// `j` of itself (never lengthened, so `max` holds), so that many instances
/// that opened together do not probe together.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields, default))]
#[non_exhaustive]
pub struct OpenDuration {
    /// The first open's duration (greater than zero).
    #[cfg_attr(feature = "serde", serde(with = "steadfast_core::duration_serde"))]
    pub base: Duration,
    /// Growth on each consecutive re-open (finite, at least 1).
    pub multiplier: f64,
    /// The longest an open may last (at least `base`).
    #[cfg_attr(feature = "serde", serde(with = "steadfast_core::duration_serde"))]
    pub max: Duration,
    /// The largest share of a duration taken off at random, in [0, 1).
    pub jitter: f64,
}

impl Default for OpenDuration {
    /// A fixed 30 s.
    fn default() -> Self {
        OpenDuration::fixed(Duration::from_secs(30))
    }
}

impl OpenDuration {
    /// The same duration every time.
    pub fn fixed(duration: Duration) -> Self {
        OpenDuration {
            base: duration,
            multiplier: 1.0,
            max: duration,
            jitter: 0.0,
        }
    }

    /// `base`, then `base × multiplier`, … up to `max` on consecutive re-opens.
    pub fn growing(base: Duration, multiplier: f64, max: Duration) -> Self {
        OpenDuration {
            base,
            multiplier,
            max,
            jitter: 0.0,
        }
    }

    /// The same, with up to `jitter` of each duration taken off at random.
    #[must_use]
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let err = |rule: &'static str| ConfigError::new("breaker", "open_duration", rule);
        if self.base.is_zero() {
            return Err(err("`base` must be greater than zero").with_value(self.base));
        }
        if !(self.multiplier.is_finite() && self.multiplier >= 1.0) {
            return Err(
                err("`multiplier` must be finite and at least 1").with_value(self.multiplier)
            );
        }
        if self.max < self.base {
            return Err(err("`max` must be at least `base`").with_value(self.max));
        }
        if !(self.jitter >= 0.0 && self.jitter < 1.0) {
            return Err(err("`jitter` must be at least 0 and less than 1").with_value(self.jitter));
        }
        Ok(())
    }

    /// The duration of the open that follows `reopens` consecutive earlier
    /// opens, before jitter; `unit` in [0, 1) draws the jitter.
    pub(crate) fn duration(&self, reopens: u32, unit: f64) -> Duration {
        let grown =
            self.base.as_secs_f64() * self.multiplier.powi(reopens.min(1_000).cast_signed());
        let capped = Duration::try_from_secs_f64(grown)
            .unwrap_or(self.max)
            .min(self.max);
        if self.jitter == 0.0 {
            return capped;
        }
        capped.mul_f64(1.0 - self.jitter * unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_caps() {
        let d = OpenDuration::growing(Duration::from_secs(5), 2.0, Duration::from_secs(60));
        let got: Vec<u64> = (0..6).map(|n| d.duration(n, 0.0).as_secs()).collect();
        assert_eq!(got, [5, 10, 20, 40, 60, 60]);
        assert_eq!(d.duration(u32::MAX, 0.0), Duration::from_secs(60));
    }

    #[test]
    fn jitter_only_shortens() {
        let d = OpenDuration::fixed(Duration::from_secs(10)).with_jitter(0.5);
        assert_eq!(d.duration(0, 0.0), Duration::from_secs(10));
        assert_eq!(d.duration(0, 0.5), Duration::from_millis(7_500));
        assert!(d.duration(0, 0.999_999) > Duration::from_secs(5));
    }
}
