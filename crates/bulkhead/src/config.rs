//! A bulkhead's configuration and builder.

use std::time::Duration;

use steadfast_core::{ConfigError, Name};

use crate::adaptive::AdaptiveConfig;
use crate::{Bulkhead, KeyedBulkhead};

/// CoDel-style overload rejection: when the queue has stayed non-empty for
/// `interval`, callers that have waited longer than `target` are refused with
/// [`BulkheadReason::Overloaded`](steadfast_core::BulkheadReason::Overloaded).
///
/// A queue that fills and drains is healthy; one that never drains is a
/// standing queue, where every caller waits and nobody gains. CoDel tells them
/// apart by time: a short burst never lasts `interval`, so nobody is refused;
/// a standing queue does, and from then on nobody waits much longer than
/// `target`. Queue time cannot grow without bound.
///
/// Precisely: a caller queued at `t` while the queue has been non-empty since
/// `s` is refused at `max(t + target, s + interval)` if it has no permit by
/// then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct OverloadConfig {
    /// The queue time a caller may have once the queue is congested. Default 5 ms.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub target: Duration,
    /// How long the queue must stay non-empty to count as congested; at least
    /// `target`. Default 100 ms.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub interval: Duration,
}

impl Default for OverloadConfig {
    fn default() -> Self {
        OverloadConfig {
            target: Duration::from_millis(5),
            interval: Duration::from_millis(100),
        }
    }
}

impl OverloadConfig {
    /// CoDel with the given target and interval.
    pub fn new(target: Duration, interval: Duration) -> Self {
        OverloadConfig { target, interval }
    }
}

/// A [`Bulkhead`]'s configuration.
///
/// With the `serde` feature it deserializes, durations written as `"250ms"`:
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use steadfast_bulkhead::{Bulkhead, BulkheadConfig};
///
/// let config: BulkheadConfig = serde_json::from_str(r#"{
///     "name": "db",
///     "max_concurrent": 20,
///     "max_queued": 100,
///     "max_wait": "250ms",
///     "overload": { "target": "5ms", "interval": "100ms" },
///     "adaptive": { "algorithm": "gradient", "min_limit": 4, "max_limit": 64 }
/// }"#).unwrap();
/// let bulkhead = Bulkhead::from_config(config).unwrap();
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct BulkheadConfig {
    /// The name shown in errors, events and snapshots. Default `"bulkhead"`.
    pub name: Name,
    /// Calls allowed in flight at once (the starting limit when adaptive).
    /// At least 1. Default 10.
    pub max_concurrent: u32,
    /// Callers that may wait for a permit; 0 refuses at once when full.
    /// At most 2^31 − 1. Default 0.
    pub max_queued: u32,
    /// The longest a caller waits in the queue; `None` waits as long as it
    /// takes, or until the call's deadline when an enclosing timeout set one
    /// (see [`Bulkhead`](crate::Bulkhead#deadlines)). With a deadline, a
    /// caller is queued only if `max_wait` fits before it. Default `None`.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::option::deserialize",
            serialize_with = "crate::serde_text::option_duration",
            skip_serializing_if = "Option::is_none"
        )
    )]
    pub max_wait: Option<Duration>,
    /// CoDel overload rejection; `None` turns it off. Default `None`.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub overload: Option<OverloadConfig>,
    /// An adaptive limit; `None` keeps `max_concurrent` fixed. Default `None`.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub adaptive: Option<AdaptiveConfig>,
}

impl Default for BulkheadConfig {
    fn default() -> Self {
        BulkheadConfig {
            name: Name::new_static("bulkhead"),
            max_concurrent: 10,
            max_queued: 0,
            max_wait: None,
            overload: None,
            adaptive: None,
        }
    }
}

/// The most callers a queue may hold: `waiting` has 31 bits in the state word.
const MAX_QUEUED: u32 = (1 << 31) - 1;

impl BulkheadConfig {
    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_concurrent == 0 {
            return Err(
                ConfigError::new("bulkhead", "max_concurrent", "must be at least 1")
                    .with_value(self.max_concurrent),
            );
        }
        if self.max_queued > MAX_QUEUED {
            return Err(ConfigError::new(
                "bulkhead",
                "max_queued",
                format!("must be at most {MAX_QUEUED}"),
            )
            .with_value(self.max_queued));
        }
        if let Some(wait) = self.max_wait
            && wait.is_zero()
        {
            return Err(ConfigError::new(
                "bulkhead",
                "max_wait",
                "must be greater than zero (set max_queued to 0 to refuse at once)",
            )
            .with_value(wait));
        }
        if let Some(overload) = &self.overload {
            if overload.target.is_zero() {
                return Err(
                    ConfigError::new("bulkhead", "target", "must be greater than zero")
                        .with_value(overload.target),
                );
            }
            if overload.interval < overload.target {
                return Err(ConfigError::new(
                    "bulkhead",
                    "interval",
                    format!("must be at least target ({:?})", overload.target),
                )
                .with_value(overload.interval));
            }
        }
        if let Some(adaptive) = &self.adaptive {
            adaptive.validate()?;
            let (min, max) = (adaptive.min_limit(), adaptive.max_limit());
            if !(min..=max).contains(&self.max_concurrent) {
                return Err(ConfigError::new(
                    "bulkhead",
                    "max_concurrent",
                    format!(
                        "must be between min_limit ({min}) and max_limit ({max}) when adaptive"
                    ),
                )
                .with_value(self.max_concurrent));
            }
        }
        Ok(())
    }
}

/// Builds a [`Bulkhead`] or a [`KeyedBulkhead`]; see [`Bulkhead::builder`].
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct BulkheadBuilder {
    config: BulkheadConfig,
}

impl BulkheadBuilder {
    /// The name shown in errors, events and snapshots (default `"bulkhead"`).
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Calls allowed in flight at once; the starting limit when adaptive (default 10).
    pub fn max_concurrent(mut self, max: u32) -> Self {
        self.config.max_concurrent = max;
        self
    }

    /// Callers that may wait for a permit; 0 refuses at once (the default).
    pub fn max_queued(mut self, max: u32) -> Self {
        self.config.max_queued = max;
        self
    }

    /// The longest a caller waits in the queue before it is refused with
    /// [`BulkheadReason::QueueTimeout`](steadfast_core::BulkheadReason::QueueTimeout).
    pub fn max_wait(mut self, max: Duration) -> Self {
        self.config.max_wait = Some(max);
        self
    }

    /// Turns on CoDel overload rejection; see [`OverloadConfig`].
    pub fn overload(mut self, target: Duration, interval: Duration) -> Self {
        self.config.overload = Some(OverloadConfig::new(target, interval));
        self
    }

    /// Makes the limit adaptive; see [`adaptive`](crate::adaptive).
    pub fn adaptive(mut self, adaptive: impl Into<AdaptiveConfig>) -> Self {
        self.config.adaptive = Some(adaptive.into());
        self
    }

    /// The configuration so far.
    pub fn config(&self) -> &BulkheadConfig {
        &self.config
    }

    /// Validates the configuration and builds the bulkhead.
    pub fn build(self) -> Result<Bulkhead, ConfigError> {
        Bulkhead::from_config(self.config)
    }

    /// Validates the configuration and builds a bulkhead per key of type `K`,
    /// each with these settings, keeping at most `max_keys` partitions; a
    /// call without a key is refused. Short for
    /// `self.keyed(max_keys).build::<K>()`.
    pub fn build_keyed<K>(self, max_keys: usize) -> Result<KeyedBulkhead<K>, ConfigError>
    where
        K: std::hash::Hash + Eq + Clone + std::fmt::Debug + Send + Sync + 'static,
    {
        self.keyed(max_keys).build()
    }

    /// Goes on to a bulkhead per key, each with these settings, keeping at
    /// most `max_keys` partitions.
    pub fn keyed(self, max_keys: usize) -> KeyedBulkheadBuilder {
        KeyedBulkheadBuilder {
            config: KeyedBulkheadConfig {
                bulkhead: self.config,
                max_keys,
                share_unkeyed: false,
                log_keys: false,
            },
        }
    }
}

/// A [`KeyedBulkhead`]'s configuration: each key's settings, how many keys
/// are kept, and what a call without a key gets.
///
/// With the `serde` feature it serializes and deserializes:
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use steadfast_bulkhead::{KeyedBulkhead, KeyedBulkheadConfig};
///
/// let config: KeyedBulkheadConfig = serde_json::from_str(r#"{
///     "max_keys": 10000,
///     "bulkhead": { "name": "per-tenant", "max_concurrent": 4, "max_queued": 8, "max_wait": "100ms" }
/// }"#).unwrap();
/// assert!(!config.share_unkeyed);
/// let per_tenant = KeyedBulkhead::<String>::from_config(config).unwrap();
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct KeyedBulkheadConfig {
    /// Each key's bulkhead; its name is the keyed bulkhead's.
    pub bulkhead: BulkheadConfig,
    /// Partitions kept at most. At least 1. Default 10,000.
    pub max_keys: usize,
    /// Whether calls without a key share one partition rather than being
    /// refused with [`Error::MissingKey`](steadfast_core::Error::MissingKey).
    /// Default `false`: a forgotten key is a refusal, never a partition
    /// shared by every such caller.
    pub share_unkeyed: bool,
    /// Whether a partition's events carry its key (as `Debug`, in a `key`
    /// field). Default `false`: keys are often user ids, IPs or emails, so
    /// events name the bulkhead only.
    pub log_keys: bool,
}

impl Default for KeyedBulkheadConfig {
    fn default() -> Self {
        KeyedBulkheadConfig {
            bulkhead: BulkheadConfig::default(),
            max_keys: 10_000,
            share_unkeyed: false,
            log_keys: false,
        }
    }
}

impl KeyedBulkheadConfig {
    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.bulkhead.validate()?;
        if self.max_keys == 0 {
            return Err(
                ConfigError::new("bulkhead", "max_keys", "must be at least 1")
                    .with_value(self.max_keys),
            );
        }
        Ok(())
    }
}

/// Builds a [`KeyedBulkhead`]; see [`BulkheadBuilder::keyed`].
#[derive(Clone, Debug)]
#[must_use]
pub struct KeyedBulkheadBuilder {
    config: KeyedBulkheadConfig,
}

impl KeyedBulkheadBuilder {
    /// Lets calls without a key share one partition instead of being refused
    /// with [`Error::MissingKey`](steadfast_core::Error::MissingKey). Only
    /// for callers that truly have no key: every one of them competes for
    /// that partition's permits.
    pub fn share_unkeyed(mut self) -> Self {
        self.config.share_unkeyed = true;
        self
    }

    /// Puts each partition's key (its `Debug`) in its events, as a `key`
    /// field. Off by default: keys are often user ids, IPs or emails.
    pub fn log_keys(mut self) -> Self {
        self.config.log_keys = true;
        self
    }

    /// The configuration so far.
    pub fn config(&self) -> &KeyedBulkheadConfig {
        &self.config
    }

    /// Validates the configuration and builds a bulkhead per key of type `K`.
    pub fn build<K>(self) -> Result<KeyedBulkhead<K>, ConfigError>
    where
        K: std::hash::Hash + Eq + Clone + std::fmt::Debug + Send + Sync + 'static,
    {
        KeyedBulkhead::from_config(self.config)
    }
}
