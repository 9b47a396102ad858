//! A cache's configuration: the timeline, fail-safe, timeouts and capacity.

use std::time::Duration;

use steadfast_core::{ConfigError, Name};

const POLICY: &str = "cache";

/// A [`Cache`](crate::Cache)'s configuration.
///
/// The timeline of an entry, from the moment it is stored:
///
/// ```text
///  stored        fresh_for       + stale_for          fail_safe_max_age
///    |---- fresh ----|---- stale (served, refreshed) ----|.. kept for errors ..|
/// ```
///
/// With the `serde` feature it deserializes and serializes, durations
/// written as `"30s"` (serialized in the largest unit that keeps them
/// exact: `"90s"`, `"250ms"`, `"1h"`); a config file round-trips:
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use std::time::Duration;
/// use steadfast_cache::CacheConfig;
///
/// let config: CacheConfig = serde_json::from_str(
///     r#"{ "name": "profiles", "fresh_for": "30s", "stale_for": "5m", "fail_safe_max_age": "1h" }"#,
/// ).unwrap();
/// assert_eq!(config.stale_for, Duration::from_secs(300));
/// config.validate().unwrap();
///
/// let text = toml::to_string(&config).unwrap();
/// assert!(text.contains(r#"stale_for = "5m""#), "{text}");
/// assert_eq!(toml::from_str::<CacheConfig>(&text).unwrap(), config);
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct CacheConfig {
    /// The name shown in events, snapshots and errors. Default `"cache"`.
    pub name: Name,
    /// How long a stored value is fresh: served without a fetch. Greater than
    /// zero. Default 60 s. A call may set its own, and
    /// [`fresh_for_value`](crate::CacheBuilder::fresh_for_value) may compute it.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub fresh_for: Duration,
    /// How long after `fresh_for` a value is still served at once while one
    /// refresh runs (stale-while-revalidate). Zero turns it off. Default zero.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub stale_for: Duration,
    /// Stale-if-error: when a fetch fails, a value stored no longer ago than
    /// this is served instead, marked stale. At least `fresh_for`. `None`
    /// (the default) turns fail-safe off.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::option::deserialize",
            serialize_with = "crate::serde_text::option_duration",
            skip_serializing_if = "Option::is_none"
        )
    )]
    pub fail_safe_max_age: Option<Duration>,
    /// After a fetch fails — however it ends: with callers waiting, in the
    /// background after the soft timeout, at the hard timeout, as a refresh —
    /// how long the value it was to replace keeps being served, at once,
    /// without a fetch for the key, so a failing dependency is not hammered.
    /// Counted from the failure. Greater than zero. Default 30 s.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub fail_safe_throttle: Duration,
    /// Whether a rejection by an inner policy (open circuit, rate limited,
    /// bulkhead full, timeout) is answered from a stale value no older than
    /// `fail_safe_max_age`, which it requires. Default `false`.
    pub degrade_on_rejection: bool,
    /// With a stale value at hand, how long a caller waits for a fetch before
    /// it is served the stale value instead; the fetch goes on in the
    /// background and updates the entry. `None` (the default) waits for the
    /// fetch. Less than `hard_timeout`.
    ///
    /// A stale hit in the stale window is served at once anyway; past the
    /// window, a value is at hand only within `fail_safe_max_age`. In a
    /// pipeline the fetch cannot outlive its caller: there the soft timeout
    /// bounds the caller running the fetch, and the fetch ends with it.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::option::deserialize",
            serialize_with = "crate::serde_text::option_duration",
            skip_serializing_if = "Option::is_none"
        )
    )]
    pub soft_timeout: Option<Duration>,
    /// The longest any fetch may take; past it the fetch is cancelled and
    /// fails with [`Error::Timeout`](steadfast_core::Error::Timeout) (which
    /// fail-safe may then cover). `None` (the default) sets no bound.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::option::deserialize",
            serialize_with = "crate::serde_text::option_duration",
            skip_serializing_if = "Option::is_none"
        )
    )]
    pub hard_timeout: Option<Duration>,
    /// Eager refresh: a hit after this fraction of the fresh time starts one
    /// background refresh, so a hot key never expires under traffic. Strictly
    /// between 0 and 1. `None` (the default) turns it off.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub eager_refresh: Option<f64>,
    /// The most entries held. At least 1. Default 10,000. Ignored when
    /// `max_weight` is set.
    pub max_entries: u64,
    /// The most total weight held (bytes, say), as measured by the builder's
    /// weigher, given with [`max_weight`](crate::CacheBuilder::max_weight). At least 1.
    /// `None` (the default) bounds entries instead.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub max_weight: Option<u64>,
    /// The cache as a policy: whether a call whose context carries no key
    /// of the cache's key type passes straight through, uncached (counted as
    /// `bypassed`). Default `false`: such a call is refused with
    /// [`Error::MissingKey`](steadfast_core::Error::MissingKey) (counted as
    /// `missing_keys`), since a forgotten `with_key` would otherwise turn
    /// the cache off without a word. Turn it on only where some calls are
    /// meant to skip the cache.
    pub pass_through_unkeyed: bool,
    /// Whether the cache's events name the key (the fail-safe `WARN`) and
    /// the tag (a tag invalidation's `DEBUG`). Default `false`: keys and
    /// tags are often user ids, IPs or emails, and events name only the
    /// cache. Needs a key type that is `Debug`: turn it on with
    /// [`CacheBuilder::log_keys`](crate::CacheBuilder::log_keys), or build
    /// with [`Cache::from_config`](crate::Cache::from_config).
    pub log_keys: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            name: Name::new_static("cache"),
            fresh_for: Duration::from_secs(60),
            stale_for: Duration::ZERO,
            fail_safe_max_age: None,
            fail_safe_throttle: Duration::from_secs(30),
            degrade_on_rejection: false,
            soft_timeout: None,
            hard_timeout: None,
            eager_refresh: None,
            max_entries: 10_000,
            max_weight: None,
            pass_through_unkeyed: false,
            log_keys: false,
        }
    }
}

impl CacheConfig {
    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.fresh_for.is_zero() {
            return Err(
                ConfigError::new(POLICY, "fresh_for", "must be greater than zero")
                    .with_value(self.fresh_for),
            );
        }
        if let Some(max_age) = self.fail_safe_max_age
            && max_age < self.fresh_for
        {
            return Err(ConfigError::new(
                POLICY,
                "fail_safe_max_age",
                "must be at least fresh_for (a value is never too old while fresh)",
            )
            .with_value(max_age));
        }
        if self.degrade_on_rejection && self.fail_safe_max_age.is_none() {
            return Err(ConfigError::new(
                POLICY,
                "degrade_on_rejection",
                "needs fail_safe_max_age: the oldest value that may answer a rejection",
            ));
        }
        if self.fail_safe_throttle.is_zero() {
            return Err(ConfigError::new(
                POLICY,
                "fail_safe_throttle",
                "must be greater than zero",
            )
            .with_value(self.fail_safe_throttle));
        }
        if let Some(soft) = self.soft_timeout
            && soft.is_zero()
        {
            return Err(
                ConfigError::new(POLICY, "soft_timeout", "must be greater than zero")
                    .with_value(soft),
            );
        }
        if let Some(hard) = self.hard_timeout {
            if hard.is_zero() {
                return Err(
                    ConfigError::new(POLICY, "hard_timeout", "must be greater than zero")
                        .with_value(hard),
                );
            }
            if let Some(soft) = self.soft_timeout
                && soft >= hard
            {
                return Err(ConfigError::new(
                    POLICY,
                    "soft_timeout",
                    "must be less than hard_timeout",
                )
                .with_value(soft));
            }
        }
        if let Some(fraction) = self.eager_refresh
            && !(fraction > 0.0 && fraction < 1.0)
        {
            return Err(ConfigError::new(
                POLICY,
                "eager_refresh",
                "must be strictly between 0 and 1",
            )
            .with_value(fraction));
        }
        if self.max_entries == 0 {
            return Err(
                ConfigError::new(POLICY, "max_entries", "must be at least 1")
                    .with_value(self.max_entries),
            );
        }
        if self.max_weight == Some(0) {
            return Err(ConfigError::new(POLICY, "max_weight", "must be at least 1")
                .with_value(self.max_weight));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(config: &CacheConfig) -> &'static str {
        config.validate().unwrap_err().field()
    }

    #[test]
    fn defaults_are_valid() {
        CacheConfig::default().validate().unwrap();
    }

    #[test]
    fn each_rule_names_its_field() {
        let base = CacheConfig::default();
        let cases = [
            (
                CacheConfig {
                    fresh_for: Duration::ZERO,
                    ..base.clone()
                },
                "fresh_for",
            ),
            (
                CacheConfig {
                    fail_safe_max_age: Some(Duration::from_secs(1)),
                    ..base.clone()
                },
                "fail_safe_max_age",
            ),
            (
                CacheConfig {
                    degrade_on_rejection: true,
                    ..base.clone()
                },
                "degrade_on_rejection",
            ),
            (
                CacheConfig {
                    fail_safe_throttle: Duration::ZERO,
                    ..base.clone()
                },
                "fail_safe_throttle",
            ),
            (
                CacheConfig {
                    soft_timeout: Some(Duration::ZERO),
                    ..base.clone()
                },
                "soft_timeout",
            ),
            (
                CacheConfig {
                    hard_timeout: Some(Duration::ZERO),
                    ..base.clone()
                },
                "hard_timeout",
            ),
            (
                CacheConfig {
                    soft_timeout: Some(Duration::from_secs(2)),
                    hard_timeout: Some(Duration::from_secs(2)),
                    ..base.clone()
                },
                "soft_timeout",
            ),
            (
                CacheConfig {
                    eager_refresh: Some(1.0),
                    ..base.clone()
                },
                "eager_refresh",
            ),
            (
                CacheConfig {
                    eager_refresh: Some(f64::NAN),
                    ..base.clone()
                },
                "eager_refresh",
            ),
            (
                CacheConfig {
                    max_entries: 0,
                    ..base.clone()
                },
                "max_entries",
            ),
            (
                CacheConfig {
                    max_weight: Some(0),
                    ..base.clone()
                },
                "max_weight",
            ),
        ];
        for (config, field) in cases {
            assert_eq!(field_of(&config), field, "{config:?}");
        }
    }
}
