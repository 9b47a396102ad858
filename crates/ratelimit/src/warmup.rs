//! Warm-up: the rate ramps from a fraction to full over a period, after the
//! limiter starts and again after it has been idle.
//!
//! A cold dependency (an empty cache, a scaled-up pool, a JIT) cannot take
//! the full rate at once. The ramp is linear: at `t` into the warm-up the
//! quota runs at `from + (1 − from) · t / period` of its rate, and GCRA's
//! burst shrinks by the same factor (a full burst at start would defeat the
//! ramp). The ramp belongs to the limiter, not to each key: it protects what
//! is behind the limiter, which warms once for everyone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use steadfast_core::ConfigError;

use crate::clock::nanos;

/// How a limiter warms up; see [`RateLimiterBuilder::warm_up`](crate::RateLimiterBuilder::warm_up).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct WarmUp {
    /// The fraction of the rate at the start, in `(0, 1]`.
    pub from: f64,
    /// How long the ramp to the full rate takes. Must be greater than zero.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub period: Duration,
    /// How long without any admission makes the limiter cold again. Must be
    /// greater than zero.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub idle: Duration,
}

impl WarmUp {
    /// Ramps from `from` of the rate to all of it over `period`; cold again
    /// after `period` without an admission.
    pub fn new(from: f64, period: Duration) -> WarmUp {
        WarmUp {
            from,
            period,
            idle: period,
        }
    }

    /// How long without an admission makes the limiter cold again.
    #[must_use]
    pub fn idle_after(mut self, idle: Duration) -> WarmUp {
        self.idle = idle;
        self
    }

    pub(crate) fn validate(&self, policy: &'static str) -> Result<(), ConfigError> {
        if !(self.from > 0.0 && self.from <= 1.0) {
            return Err(
                ConfigError::new(policy, "warm_up.from", "must be in (0, 1]").with_value(self.from),
            );
        }
        if self.period.is_zero() {
            return Err(
                ConfigError::new(policy, "warm_up.period", "must be greater than zero")
                    .with_value(self.period),
            );
        }
        if self.idle.is_zero() {
            return Err(
                ConfigError::new(policy, "warm_up.idle", "must be greater than zero")
                    .with_value(self.idle),
            );
        }
        Ok(())
    }
}

/// The ramp's state: when it started and when the limiter last admitted.
#[derive(Debug)]
pub(crate) struct Ramp {
    from: u64,
    period: u64,
    idle: u64,
    start: AtomicU64,
    last_admit: AtomicU64,
}

impl Ramp {
    pub(crate) fn new(warm_up: &WarmUp) -> Ramp {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let from = ((warm_up.from * 65_536.0).round() as u64).clamp(1, 1 << 16);
        Ramp {
            from,
            period: nanos(warm_up.period),
            idle: nanos(warm_up.idle),
            start: AtomicU64::new(0),
            last_admit: AtomicU64::new(0),
        }
    }

    /// The rate factor at `now`, in 1/65536: restarts the ramp when idle.
    pub(crate) fn factor(&self, now: u64) -> u64 {
        let last = self.last_admit.load(Ordering::Relaxed);
        let mut start = self.start.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= self.idle && now >= self.idle {
            // Cold again: whoever sees it first restarts the ramp.
            start = now;
            self.start.store(now, Ordering::Relaxed);
        }
        let into = now.saturating_sub(start);
        if into >= self.period {
            return 1 << 16;
        }
        let gained = u128::from((1 << 16) - self.from) * u128::from(into) / u128::from(self.period);
        self.from + u64::try_from(gained).unwrap_or(0)
    }

    /// Notes an admission; writes at most once per 1/64 of the idle time so
    /// concurrent callers do not all write one cache line.
    pub(crate) fn admitted(&self, now: u64) {
        if now.saturating_sub(self.last_admit.load(Ordering::Relaxed)) > self.idle / 64 {
            self.last_admit.store(now, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_linearly_and_restarts_after_idle() {
        let ramp = Ramp::new(&WarmUp::new(0.25, Duration::from_micros(1)));
        assert_eq!(ramp.factor(0), 16_384);
        ramp.admitted(0);
        assert_eq!(ramp.factor(500), 16_384 + 24_576);
        ramp.admitted(500);
        assert_eq!(ramp.factor(1_000), 65_536);
        ramp.admitted(1_000);
        // 1000 ns idle: cold again.
        assert_eq!(ramp.factor(2_000), 16_384);
    }

    #[test]
    fn validation() {
        assert_eq!(
            WarmUp::new(0.0, Duration::from_secs(1))
                .validate("ratelimit")
                .unwrap_err()
                .field(),
            "warm_up.from"
        );
        assert_eq!(
            WarmUp::new(0.5, Duration::ZERO)
                .validate("ratelimit")
                .unwrap_err()
                .field(),
            "warm_up.period"
        );
        assert!(
            WarmUp::new(1.0, Duration::from_secs(1))
                .validate("ratelimit")
                .is_ok()
        );
    }
}
