//! What a limiter allows: a [`Quota`] (so many units per period, with a
//! burst) under an [`Algorithm`].

use std::time::Duration;

use steadfast_core::ConfigError;

use crate::algorithm::MAX_SPAN;
use crate::clock::nanos;

/// The largest limit the window algorithms count to: their per-key state
/// packs two counts into one `u64` word beside the window number.
pub const MAX_WINDOW_LIMIT: u32 = (1 << 20) - 1;

/// How a limiter decides; [`Gcra`](Algorithm::Gcra) unless told otherwise.
///
/// See `docs/ratelimit.md` for choosing one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Algorithm {
    /// The generic cell rate algorithm: a steady rate plus a burst, as nginx's
    /// `limit_req ... nodelay`. Smooth, exact, one word of state per key.
    #[default]
    Gcra,
    /// A sliding-window counter: at most `limit` per `period`, the previous
    /// window's count weighted by how much of it still overlaps, so there is
    /// no double burst at the boundary. The burst is not used.
    SlidingWindow,
    /// A fixed window: at most `limit` per calendar window of `period`
    /// (windows start when the limiter is built). Simplest; allows up to
    /// twice the limit across a boundary. The burst is not used.
    FixedWindow,
}

/// So many units per period, with a burst: "60 per minute, bursts of 10".
///
/// For [`Algorithm::Gcra`] the units refill steadily, one every
/// `period / limit`, into a bucket that holds `burst` units (by default
/// `burst == limit`: a full period's worth may arrive at once). nginx's
/// `limit_req rate=10r/s burst=20 nodelay` admits 21 requests at once (the
/// request plus 20 excess), so it is `Quota::per_second(10).burst(21)`.
///
/// For the window algorithms, `limit` per `period` is the whole rule.
///
/// ```
/// use std::time::Duration;
/// use steadfast_ratelimit::Quota;
///
/// let quota = Quota::per_minute(60).burst(10);
/// assert_eq!(quota.limit(), 60);
/// assert_eq!(quota.period(), Duration::from_secs(60));
/// assert_eq!(quota.burst_size(), 10);
/// assert_eq!(quota.interval(), Duration::from_secs(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Quota {
    limit: u32,
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    period: Duration,
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    burst: Option<u32>,
}

impl Quota {
    /// `limit` units per `period`, burst `limit`.
    pub const fn new(limit: u32, period: Duration) -> Quota {
        Quota {
            limit,
            period,
            burst: None,
        }
    }

    /// `limit` units per second.
    pub const fn per_second(limit: u32) -> Quota {
        Quota::new(limit, Duration::from_secs(1))
    }

    /// `limit` units per minute.
    pub const fn per_minute(limit: u32) -> Quota {
        Quota::new(limit, Duration::from_secs(60))
    }

    /// `limit` units per hour.
    pub const fn per_hour(limit: u32) -> Quota {
        Quota::new(limit, Duration::from_secs(3_600))
    }

    /// The most units admitted at once from a full bucket (GCRA only).
    #[must_use]
    pub const fn burst(mut self, burst: u32) -> Quota {
        self.burst = Some(burst);
        self
    }

    /// Units per period.
    pub const fn limit(&self) -> u32 {
        self.limit
    }

    /// The period.
    pub const fn period(&self) -> Duration {
        self.period
    }

    /// The burst: as set, or the limit.
    pub const fn burst_size(&self) -> u32 {
        match self.burst {
            Some(b) => b,
            None => self.limit,
        }
    }

    /// The time one unit takes to refill (`period / limit`, rounded up to
    /// whole nanoseconds so the rate is never above the quota).
    pub fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval_nanos())
    }

    pub(crate) fn interval_nanos(&self) -> u64 {
        nanos(self.period).div_ceil(u64::from(self.limit.max(1)))
    }

    /// Checks the quota for `algorithm`; `field` names it in the error.
    pub(crate) fn validate(
        &self,
        algorithm: Algorithm,
        policy: &'static str,
        field: &'static str,
    ) -> Result<(), ConfigError> {
        if self.limit == 0 {
            return Err(
                ConfigError::new(policy, field, "limit must be greater than zero")
                    .with_value(self.limit),
            );
        }
        if self.period.is_zero() {
            return Err(
                ConfigError::new(policy, field, "period must be greater than zero")
                    .with_value(self.period),
            );
        }
        if nanos(self.period) > MAX_SPAN {
            return Err(ConfigError::new(
                policy,
                field,
                "period must be at most 2^62 ns (about 146 years)",
            )
            .with_value(self.period));
        }
        if nanos(self.period) < u64::from(self.limit) {
            return Err(ConfigError::new(
                policy,
                field,
                "period must be at least 1 ns per unit of the limit",
            )
            .with_value(self));
        }
        match algorithm {
            Algorithm::Gcra => {
                if self.burst_size() == 0 {
                    return Err(
                        ConfigError::new(policy, field, "burst must be greater than zero")
                            .with_value(self.burst_size()),
                    );
                }
                if self
                    .interval_nanos()
                    .checked_mul(u64::from(self.burst_size()))
                    .is_none_or(|t| t > MAX_SPAN)
                {
                    return Err(ConfigError::new(
                        policy,
                        field,
                        "burst times the refill interval must be at most 2^62 ns (about 146 years)",
                    )
                    .with_value(self));
                }
            }
            Algorithm::SlidingWindow | Algorithm::FixedWindow => {
                if self.limit > MAX_WINDOW_LIMIT {
                    return Err(ConfigError::new(
                        policy,
                        field,
                        format!("limit must be at most {MAX_WINDOW_LIMIT} for window algorithms"),
                    )
                    .with_value(self.limit));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_rounds_up() {
        assert_eq!(Quota::per_second(3).interval_nanos(), 333_333_334);
        assert_eq!(Quota::per_second(10).interval(), Duration::from_millis(100));
    }

    #[test]
    fn validation_names_the_rule() {
        let gcra = Algorithm::Gcra;
        let err = Quota::per_second(0)
            .validate(gcra, "ratelimit", "quota")
            .unwrap_err();
        assert_eq!(err.field(), "quota");
        assert_eq!(err.rule(), "limit must be greater than zero");
        let err = Quota::per_second(5)
            .burst(0)
            .validate(gcra, "ratelimit", "quota")
            .unwrap_err();
        assert_eq!(err.rule(), "burst must be greater than zero");
        let err = Quota::new(5, Duration::ZERO)
            .validate(gcra, "ratelimit", "quota")
            .unwrap_err();
        assert_eq!(err.rule(), "period must be greater than zero");
        let err = Quota::new(10, Duration::from_nanos(5))
            .validate(gcra, "ratelimit", "quota")
            .unwrap_err();
        assert!(err.rule().starts_with("period must be at least 1 ns"));
        let err = Quota::per_second(MAX_WINDOW_LIMIT + 1)
            .validate(Algorithm::SlidingWindow, "ratelimit", "quota")
            .unwrap_err();
        assert!(err.rule().starts_with("limit must be at most"));
        assert!(
            Quota::per_second(MAX_WINDOW_LIMIT + 1)
                .validate(gcra, "ratelimit", "quota")
                .is_ok()
        );
        // 300 years: validated, not overflowing in a peek later.
        let centuries = Quota::new(1, Duration::from_secs(300 * 365 * 86_400));
        for algorithm in [gcra, Algorithm::SlidingWindow, Algorithm::FixedWindow] {
            let err = centuries
                .validate(algorithm, "ratelimit", "quota")
                .unwrap_err();
            assert_eq!(err.field(), "quota");
            assert!(err.rule().starts_with("period must be at most 2^62 ns"));
        }
        let err = Quota::new(1_000, Duration::from_secs(100 * 365 * 86_400))
            .burst(1_000_000)
            .validate(gcra, "ratelimit", "quota")
            .unwrap_err();
        assert!(err.rule().starts_with("burst times the refill interval"));
    }
}
