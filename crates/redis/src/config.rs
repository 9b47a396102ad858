//! A Redis-backed limiter's configuration.

use std::time::Duration;

use steadfast_core::{ConfigError, Name};
use steadfast_ratelimit::{Algorithm, Quota};

/// What a limiter does while Redis cannot answer (down, slow past the
/// timeout, or refused by the breaker around it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WhenDown {
    /// Admit every call: availability over the limit.
    Open,
    /// Refuse every call, as rate limited: the limit over availability.
    Closed,
    /// Limit each key in this instance's memory with the quota divided by
    /// `instances` (rounded up, at least one unit), so the fleet together
    /// stays near the quota. The default, with `instances: 1`.
    Local {
        /// How many instances share the quota.
        instances: u32,
    },
}

/// A [`RedisRateLimiter`](crate::RedisRateLimiter)'s configuration.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RedisLimiterConfig {
    /// The name in errors, events and snapshots. Default `"redis-ratelimit"`.
    pub name: Name,
    /// Every key of this limiter is `<prefix>:{<key>}` in Redis: give each
    /// limiter its own prefix. Default `"steadfast"`.
    pub prefix: String,
    /// The quota per key (GCRA: `limit` per `period`, `burst` at once;
    /// windows: `limit` per window of `period`).
    pub quota: Quota,
    /// How the quota is counted: GCRA (the default), or a sliding or fixed
    /// window, each its own script.
    pub algorithm: Algorithm,
    /// The longest a check waits for Redis before the `when_down` mode
    /// answers it. Default 50 ms.
    pub timeout: Duration,
    /// What to do while Redis cannot answer. Default local, one instance.
    pub when_down: WhenDown,
    /// Redis failures (errors or timeouts) in a row that open the breaker
    /// around Redis, so later checks go straight to `when_down`. Default 3.
    pub breaker_failures: u32,
    /// How long that breaker stays open before one check tries Redis
    /// again. Default 1 s.
    pub breaker_open: Duration,
    /// Whether a key Redis refused is refused here, without a round trip,
    /// until the one-unit wait Redis gave (see the crate docs). Default on.
    pub local_refusals: bool,
    /// Whether GCRA checks that arrive while a round trip is in flight go
    /// together in the next, as one script call (one server only; a
    /// cluster's checks go one by one). One task's checks are unchanged;
    /// many tasks' cost Redis a fraction of a script call each. A queued
    /// check waits at most twice `timeout`. Default on.
    pub batch: bool,
    /// Shadow mode: as a policy the limiter decides and counts (its
    /// snapshot's `rejected` counts the calls it would refuse) but refuses
    /// nothing. `check_n` still answers what the limit decides. Default off.
    pub shadow: bool,
}

impl RedisLimiterConfig {
    /// `quota` per key, every other field its default.
    pub fn new(quota: Quota) -> Self {
        RedisLimiterConfig {
            name: Name::new_static("redis-ratelimit"),
            prefix: "steadfast".to_owned(),
            quota,
            algorithm: Algorithm::Gcra,
            timeout: Duration::from_millis(50),
            when_down: WhenDown::Local { instances: 1 },
            breaker_failures: 3,
            breaker_open: Duration::from_secs(1),
            local_refusals: true,
            batch: true,
            shadow: false,
        }
    }

    /// The most units one call may cost: the burst (GCRA) or the limit
    /// (windows).
    pub(crate) fn most(&self) -> u32 {
        match self.algorithm {
            Algorithm::Gcra => self.quota.burst_size(),
            _ => self.quota.limit(),
        }
    }

    /// The window's length in whole microseconds.
    pub(crate) fn window_us(&self) -> u64 {
        u64::try_from(self.quota.period().as_micros()).unwrap_or(u64::MAX)
    }

    /// The refill interval in whole microseconds (rounded up, so the rate
    /// never exceeds the quota), as the script takes it.
    pub(crate) fn interval_us(&self) -> u64 {
        let nanos = u64::try_from(self.quota.interval().as_nanos()).unwrap_or(u64::MAX);
        nanos.div_ceil(1_000)
    }

    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        const POLICY: &str = "redis-ratelimit";
        let quota = self.quota;
        if quota.limit() == 0 || quota.period().is_zero() {
            return Err(ConfigError::new(
                POLICY,
                "quota",
                "limit and period must be greater than zero",
            )
            .with_value(quota));
        }
        let windowed = self.algorithm != Algorithm::Gcra;
        if windowed && quota.period() < Duration::from_millis(1) {
            return Err(
                ConfigError::new(POLICY, "quota", "a window must be at least 1 ms long")
                    .with_value(quota),
            );
        }
        if !windowed && quota.interval() < Duration::from_micros(1) {
            return Err(ConfigError::new(
                POLICY,
                "quota",
                "must refill at most one unit per microsecond (Redis keeps times in microseconds)",
            )
            .with_value(quota));
        }
        if !windowed && quota.interval() > Duration::from_secs(86_400 * 365) {
            return Err(ConfigError::new(
                POLICY,
                "quota",
                "must refill a unit at least once a year",
            )
            .with_value(quota));
        }
        if quota.burst_size() == 0 {
            return Err(
                ConfigError::new(POLICY, "quota", "burst must be at least 1").with_value(quota),
            );
        }
        if self.prefix.is_empty() || self.prefix.contains(['{', '}']) {
            return Err(ConfigError::new(
                POLICY,
                "prefix",
                "must be non-empty and hold no `{` or `}` (the key's hash tag is added after it)",
            )
            .with_value(&self.prefix));
        }
        if self.timeout.is_zero() {
            return Err(
                ConfigError::new(POLICY, "timeout", "must be greater than zero")
                    .with_value(self.timeout),
            );
        }
        if let WhenDown::Local { instances: 0 } = self.when_down {
            return Err(ConfigError::new(
                POLICY,
                "when_down",
                "instances must be at least 1",
            ));
        }
        if self.breaker_failures == 0 {
            return Err(ConfigError::new(
                POLICY,
                "breaker_failures",
                "must be at least 1",
            ));
        }
        if self.breaker_open.is_zero() {
            return Err(ConfigError::new(
                POLICY,
                "breaker_open",
                "must be greater than zero",
            ));
        }
        Ok(())
    }

    /// The quota of one instance while on local fallback.
    pub(crate) fn local_quota(&self, instances: u32) -> Quota {
        let share = |n: u32| n.div_ceil(instances).max(1);
        Quota::new(share(self.quota.limit()), self.quota.period())
            .burst(share(self.quota.burst_size()))
    }
}
