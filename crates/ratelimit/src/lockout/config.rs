use std::marker::PhantomData;
use std::time::Duration;

use steadfast_core::{ConfigError, DefaultClassifier, Name};

use super::Lockout;
use crate::builder::Key;
use crate::clock::TimeSource;

const POLICY: &str = "lockout";

/// A [`Lockout`]'s configuration.
///
/// With the `serde` feature it deserializes (durations as `"15m"`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields, default))]
#[non_exhaustive]
pub struct LockoutConfig {
    /// Shown in errors, events and snapshots. Default `"lockout"`.
    pub name: Name,
    /// Failures within `window` that lock a key. Default 5; must be greater than zero.
    pub max_failures: u32,
    /// The window failures are counted in, from the first. Default 15 min.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub window: Duration,
    /// The first lockout; each repeated one doubles it. Default 1 min.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub lockout: Duration,
    /// The longest lockout. Default 1 h; at least `lockout`.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub max_lockout: Duration,
    /// How long after a lockout ends, without a new one, the doubling starts
    /// over (a success resets it at once). Default 1 h.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub forget_after: Duration,
    /// The most keys tracked at once; the idlest are evicted past it.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub max_keys: Option<usize>,
    /// How often a background task forgets idle keys (inside a tokio
    /// runtime). Default 10 s; `None` (`"off"` in a file) leaves it to the
    /// amortised sweep new keys trigger.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "crate::serde_text::deserialize_interval",
            serialize_with = "crate::serde_text::interval"
        )
    )]
    pub sweep_interval: Option<Duration>,
    /// Where to read the time.
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::serde_text::time_source")
    )]
    pub time_source: TimeSource,
    /// What the lockout does with a call whose context has no key of its
    /// type: `false` (the default) refuses it with `Error::MissingKey`;
    /// `true` runs it unguarded (there is no key to lock).
    pub pass_through_unkeyed: bool,
    /// Whether events name the key (the INFO event of a lockout). Default
    /// `false`: keys are user names, IPs and emails, so events name the
    /// policy only.
    pub log_keys: bool,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        LockoutConfig {
            name: Name::new_static("lockout"),
            max_failures: 5,
            window: Duration::from_secs(15 * 60),
            lockout: Duration::from_secs(60),
            max_lockout: Duration::from_secs(3_600),
            forget_after: Duration::from_secs(3_600),
            max_keys: None,
            sweep_interval: Some(Duration::from_secs(10)),
            time_source: TimeSource::Auto,
            pass_through_unkeyed: false,
            log_keys: false,
        }
    }
}

impl LockoutConfig {
    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_failures == 0 {
            return Err(
                ConfigError::new(POLICY, "max_failures", "must be greater than zero").with_value(0),
            );
        }
        for (field, value) in [
            ("window", self.window),
            ("lockout", self.lockout),
            ("forget_after", self.forget_after),
        ] {
            if value.is_zero() {
                return Err(
                    ConfigError::new(POLICY, field, "must be greater than zero").with_value(value)
                );
            }
        }
        if self.max_lockout < self.lockout {
            return Err(
                ConfigError::new(POLICY, "max_lockout", "must be at least `lockout`")
                    .with_value(self.max_lockout),
            );
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
        Ok(())
    }
}

/// Builds a [`Lockout`]; see [`Lockout::builder`].
#[derive(Debug)]
#[must_use]
pub struct LockoutBuilder<K, C = DefaultClassifier> {
    config: LockoutConfig,
    classifier: C,
    key: PhantomData<fn(&K)>,
}

impl<K: Key> LockoutBuilder<K> {
    pub(super) fn new(config: LockoutConfig) -> Self {
        LockoutBuilder {
            config,
            classifier: DefaultClassifier,
            key: PhantomData,
        }
    }
}

impl<K: Key, C> LockoutBuilder<K, C> {
    /// The name (default `"lockout"`).
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Failures within the window that lock a key (default 5).
    pub fn max_failures(mut self, max_failures: u32) -> Self {
        self.config.max_failures = max_failures;
        self
    }

    /// The window failures are counted in (default 15 min).
    pub fn window(mut self, window: Duration) -> Self {
        self.config.window = window;
        self
    }

    /// The first lockout (default 1 min) and the longest (default 1 h).
    pub fn lockout(mut self, first: Duration, max: Duration) -> Self {
        self.config.lockout = first;
        self.config.max_lockout = max;
        self
    }

    /// How long after a lockout the doubling starts over (default 1 h).
    pub fn forget_after(mut self, forget_after: Duration) -> Self {
        self.config.forget_after = forget_after;
        self
    }

    /// The most keys tracked at once.
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.config.max_keys = Some(max_keys);
        self
    }

    /// Where to read the time.
    pub fn time_source(mut self, source: TimeSource) -> Self {
        self.config.time_source = source;
        self
    }

    /// How often a background task forgets idle keys (`None`: only as new
    /// keys arrive). Default 10 s.
    pub fn sweep_interval(mut self, interval: Option<Duration>) -> Self {
        self.config.sweep_interval = interval;
        self
    }

    /// Runs a call whose context has no key of type `K` unguarded, instead
    /// of refusing it with `Error::MissingKey` (the default).
    pub fn pass_through_unkeyed(mut self, enabled: bool) -> Self {
        self.config.pass_through_unkeyed = enabled;
        self
    }

    /// Names the key in events (default: the policy only; keys are user
    /// names, IPs and emails).
    pub fn log_keys(mut self, enabled: bool) -> Self {
        self.config.log_keys = enabled;
        self
    }

    /// Decides which results of the guarded call are failures (used as a
    /// policy; default: every `Err` of the operation).
    pub fn classifier<C2>(self, classifier: C2) -> LockoutBuilder<K, C2> {
        LockoutBuilder {
            config: self.config,
            classifier,
            key: PhantomData,
        }
    }

    /// Validates the configuration and builds the lockout.
    pub fn build(self) -> Result<Lockout<K, C>, ConfigError> {
        Lockout::from_parts(self.config, self.classifier)
    }
}
