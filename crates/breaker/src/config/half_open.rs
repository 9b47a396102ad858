//! How a half-open breaker probes the dependency.

use std::time::Duration;

use steadfast_core::ConfigError;

/// Trial calls in the half-open state.
///
/// At most `trials` trial calls run at once; other calls are refused. The
/// breaker closes once `ceil(success_rate × trials)` trials have succeeded,
/// and re-opens as soon as that can no longer happen. With the default
/// `success_rate = 1` it closes after `trials` successes and re-opens on the
/// first failed trial. A trial whose future is dropped, or whose outcome is
/// ignored, gives its slot back; a trial still running after
/// `trial_deadline` counts as failed, so a hung call cannot wedge the
/// breaker half-open.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields, default))]
#[non_exhaustive]
pub struct HalfOpen {
    /// Trial calls admitted (1 ..= 1024).
    pub trials: u32,
    /// The share of `trials` that must succeed to close, in (0, 1].
    pub success_rate: f64,
    /// How long a trial may run before it counts as failed.
    #[cfg_attr(feature = "serde", serde(with = "steadfast_core::duration_serde"))]
    pub trial_deadline: Duration,
}

impl Default for HalfOpen {
    /// One trial, which must succeed, within 30 s.
    fn default() -> Self {
        HalfOpen {
            trials: 1,
            success_rate: 1.0,
            trial_deadline: Duration::from_secs(30),
        }
    }
}

impl HalfOpen {
    /// `trials` trials, all of which must succeed, within 30 s each.
    pub fn new(trials: u32) -> Self {
        HalfOpen {
            trials,
            ..HalfOpen::default()
        }
    }

    /// Close once this share of the trials succeeded.
    #[must_use]
    pub fn with_success_rate(mut self, success_rate: f64) -> Self {
        self.success_rate = success_rate;
        self
    }

    /// A trial still running after `deadline` counts as failed.
    #[must_use]
    pub fn with_trial_deadline(mut self, deadline: Duration) -> Self {
        self.trial_deadline = deadline;
        self
    }

    pub(crate) const MAX_TRIALS: u32 = 1024;

    /// Successes needed to close: `ceil(success_rate × trials)`, at least 1.
    pub(crate) fn needed(&self) -> u32 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let needed = (self.success_rate * f64::from(self.trials) - 1e-9).ceil() as u32;
        needed.clamp(1, self.trials)
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let err = |rule: &'static str| ConfigError::new("breaker", "half_open", rule);
        if self.trials == 0 || self.trials > Self::MAX_TRIALS {
            return Err(err("`trials` must be between 1 and 1024").with_value(self.trials));
        }
        if !(self.success_rate > 0.0 && self.success_rate <= 1.0) {
            return Err(err("`success_rate` must be greater than 0 and at most 1")
                .with_value(self.success_rate));
        }
        if self.trial_deadline.is_zero() {
            return Err(
                err("`trial_deadline` must be greater than zero").with_value(self.trial_deadline)
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needed_successes() {
        assert_eq!(HalfOpen::new(3).needed(), 3);
        assert_eq!(HalfOpen::new(10).with_success_rate(0.8).needed(), 8);
        assert_eq!(HalfOpen::new(3).with_success_rate(0.5).needed(), 2);
        assert_eq!(HalfOpen::new(4).with_success_rate(0.01).needed(), 1);
    }
}
