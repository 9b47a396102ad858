//! A limiter's configuration, validated when built.

use std::time::Duration;

use steadfast_core::{ConfigError, Name};

use crate::clock::TimeSource;
use crate::quota::{Algorithm, Quota};
use crate::warmup::WarmUp;

const POLICY: &str = "ratelimit";

/// What a limiter does with a call over its quota.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Mode {
    /// Reject at once with `Error::RateLimited` and the exact `retry_after()`.
    #[default]
    Reject,
    /// Wait until admitted, at most `max_wait`; a call that would wait longer
    /// is rejected at once (it does not wait in vain). Waiters are admitted
    /// in arrival order (GCRA), and a waiter whose future is dropped hands
    /// its reservation back.
    Wait {
        /// The longest a call may wait. Must be greater than zero.
        #[cfg_attr(
            feature = "serde",
            serde(
                deserialize_with = "steadfast_core::duration_serde::deserialize",
                serialize_with = "crate::serde_text::duration"
            )
        )]
        max_wait: Duration,
    },
}

/// A named tier and its quota.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct TierConfig {
    /// The tier's name ("pro"); unique within a limiter.
    pub name: Name,
    /// The tier's quota.
    pub quota: Quota,
}

/// When a key counts as abusive: rejected more than `threshold` times
/// within `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct AbuseConfig {
    /// Rejections tolerated per window. Must be greater than zero.
    pub threshold: u32,
    /// The window the rejections are counted in. Must be greater than zero.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub window: Duration,
}

/// A rate limiter's configuration; see the [crate docs](crate).
///
/// With the `serde` feature it deserializes:
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use steadfast_ratelimit::{KeyedRateLimiter, RateLimiterConfig};
///
/// let config: RateLimiterConfig = serde_json::from_str(r#"{
///     "name": "api",
///     "quota": { "limit": 60, "period": "1m" },
///     "tiers": [{ "name": "pro", "quota": { "limit": 500, "period": "1m" } }],
///     "mode": { "kind": "wait", "max_wait": "2s" },
///     "max_keys": 100000
/// }"#).unwrap();
/// let limiter = KeyedRateLimiter::<u64>::from_config(config).unwrap();
/// assert_eq!(limiter.tier_names(), ["default", "pro"]);
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct RateLimiterConfig {
    /// Shown in errors, events and snapshots. Default `"ratelimit"`.
    #[cfg_attr(feature = "serde", serde(default = "default_name"))]
    pub name: Name,
    /// The algorithm. Default GCRA.
    #[cfg_attr(feature = "serde", serde(default))]
    pub algorithm: Algorithm,
    /// The quota of the default tier (tier 0, named `"default"`).
    pub quota: Quota,
    /// More tiers, numbered from 1 in this order (keyed limiters only). A
    /// key's tier is chosen in code, by number or by name
    /// ([`tier_of`](crate::RateLimiterBuilder::tier_of),
    /// [`tier_named`](crate::RateLimiterBuilder::tier_named)); the quotas
    /// come from here.
    #[cfg_attr(feature = "serde", serde(default))]
    pub tiers: Vec<TierConfig>,
    /// Reject or wait. Default reject.
    #[cfg_attr(feature = "serde", serde(default))]
    pub mode: Mode,
    /// The most keys tracked at once; the idlest are evicted past it (keyed
    /// limiters only). Default: no maximum (idle keys are still forgotten).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_keys: Option<usize>,
    /// How often a background task forgets idle keys, when the limiter is
    /// built inside a tokio runtime (keyed limiters only). Default 10 s;
    /// `None` (`"off"` in a file) leaves it to the amortised sweep new keys
    /// trigger.
    #[cfg_attr(
        feature = "serde",
        serde(
            default = "default_sweep",
            deserialize_with = "crate::serde_text::deserialize_interval",
            serialize_with = "crate::serde_text::interval"
        )
    )]
    pub sweep_interval: Option<Duration>,
    /// Ramp the rate up after start and after idleness. Default none.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub warm_up: Option<WarmUp>,
    /// When to report a key as abusive (keyed limiters only). Default none.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub abuse: Option<AbuseConfig>,
    /// Where the limiter reads the time. Default [`TimeSource::Auto`].
    #[cfg_attr(
        feature = "serde",
        serde(default, serialize_with = "crate::serde_text::time_source")
    )]
    pub time_source: TimeSource,
    /// What a keyed limiter does with a call whose context has no key of its
    /// type: `false` (the default) refuses it with `Error::MissingKey`;
    /// `true` limits every such call by one bucket they share, with the
    /// default tier's quota (keyed limiters only). See the
    /// [crate docs](crate#calls-without-a-key).
    #[cfg_attr(feature = "serde", serde(default))]
    pub share_unkeyed: bool,
    /// Whether events name the key (the abuse WARN). Default `false`: keys
    /// are user ids, IPs and emails, so events name the policy only
    /// (keyed limiters only).
    #[cfg_attr(feature = "serde", serde(default))]
    pub log_keys: bool,
    /// Shadow mode: as a policy the limiter decides and counts as usual
    /// (its snapshot's `rejected` counts the calls it would refuse) but
    /// refuses nothing, so a new limit can be rolled out and watched before
    /// it bites. `check`, `check_n` and `peek` still answer what the limit
    /// decides. Default `false`.
    #[cfg_attr(feature = "serde", serde(default))]
    pub shadow: bool,
}

fn default_name() -> Name {
    Name::new_static("ratelimit")
}

#[allow(clippy::unnecessary_wraps)]
fn default_sweep() -> Option<Duration> {
    Some(Duration::from_secs(10))
}

impl RateLimiterConfig {
    /// The config of a keyed limiter's shared bucket for keyless calls
    /// (`share_unkeyed`): the default tier's quota, this limiter's name,
    /// algorithm, mode, warm-up and clock.
    pub(crate) fn unkeyed_bucket(&self) -> RateLimiterConfig {
        let mut bucket = RateLimiterConfig::new(self.quota);
        bucket.name = self.name.clone();
        bucket.algorithm = self.algorithm;
        bucket.mode = self.mode;
        bucket.warm_up = self.warm_up;
        bucket.time_source = self.time_source;
        bucket
    }

    /// A config with `quota` and every default.
    pub fn new(quota: Quota) -> Self {
        RateLimiterConfig {
            name: default_name(),
            algorithm: Algorithm::Gcra,
            quota,
            tiers: Vec::new(),
            mode: Mode::Reject,
            max_keys: None,
            sweep_interval: default_sweep(),
            warm_up: None,
            abuse: None,
            time_source: TimeSource::Auto,
            share_unkeyed: false,
            log_keys: false,
            shadow: false,
        }
    }

    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.quota.validate(self.algorithm, POLICY, "quota")?;
        for (i, tier) in self.tiers.iter().enumerate() {
            tier.quota.validate(self.algorithm, POLICY, "tiers")?;
            if tier.name == "default" || self.tiers[..i].iter().any(|t| t.name == tier.name) {
                return Err(ConfigError::new(
                    POLICY,
                    "tiers",
                    "names must be unique and not \"default\"",
                )
                .with_value(tier.name.as_str()));
            }
        }
        if let Mode::Wait { max_wait } = self.mode
            && max_wait.is_zero()
        {
            return Err(ConfigError::new(
                POLICY,
                "mode.max_wait",
                "must be greater than zero (use Mode::Reject not to wait)",
            )
            .with_value(max_wait));
        }
        if self.max_keys == Some(0) {
            return Err(
                ConfigError::new(POLICY, "max_keys", "must be greater than zero").with_value(0),
            );
        }
        if let Some(interval) = self.sweep_interval
            && interval.is_zero()
        {
            return Err(
                ConfigError::new(POLICY, "sweep_interval", "must be greater than zero")
                    .with_value(interval),
            );
        }
        if let Some(warm_up) = &self.warm_up {
            warm_up.validate(POLICY)?;
        }
        if let Some(abuse) = &self.abuse {
            if abuse.threshold == 0 {
                return Err(ConfigError::new(
                    POLICY,
                    "abuse.threshold",
                    "must be greater than zero",
                )
                .with_value(0));
            }
            if abuse.window.is_zero() {
                return Err(
                    ConfigError::new(POLICY, "abuse.window", "must be greater than zero")
                        .with_value(abuse.window),
                );
            }
        }
        Ok(())
    }

    /// Also rejects what only a keyed limiter can use.
    pub(crate) fn validate_direct(&self) -> Result<(), ConfigError> {
        self.validate()?;
        let keyed_only = |field: &'static str| {
            Err(ConfigError::new(
                POLICY,
                field,
                "applies to keyed limiters only (use KeyedRateLimiter)",
            ))
        };
        if !self.tiers.is_empty() {
            return keyed_only("tiers");
        }
        if self.max_keys.is_some() {
            return keyed_only("max_keys");
        }
        if self.abuse.is_some() {
            return keyed_only("abuse");
        }
        if self.share_unkeyed {
            return keyed_only("share_unkeyed");
        }
        if self.log_keys {
            return keyed_only("log_keys");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_fields() {
        let mut c = RateLimiterConfig::new(Quota::per_second(10));
        assert!(c.validate().is_ok());
        c.mode = Mode::Wait {
            max_wait: Duration::ZERO,
        };
        assert_eq!(c.validate().unwrap_err().field(), "mode.max_wait");
        c.mode = Mode::Reject;
        c.max_keys = Some(0);
        assert_eq!(c.validate().unwrap_err().field(), "max_keys");
        c.max_keys = Some(10);
        assert_eq!(c.validate_direct().unwrap_err().field(), "max_keys");
        c.max_keys = None;
        c.tiers = vec![
            TierConfig {
                name: "pro".into(),
                quota: Quota::per_second(5),
            },
            TierConfig {
                name: "pro".into(),
                quota: Quota::per_second(5),
            },
        ];
        assert_eq!(c.validate().unwrap_err().field(), "tiers");
        c.tiers.clear();
        c.abuse = Some(AbuseConfig {
            threshold: 0,
            window: Duration::from_secs(1),
        });
        assert_eq!(c.validate().unwrap_err().field(), "abuse.threshold");
        c.abuse = None;
        c.sweep_interval = Some(Duration::ZERO);
        assert_eq!(c.validate().unwrap_err().field(), "sweep_interval");
    }
}
