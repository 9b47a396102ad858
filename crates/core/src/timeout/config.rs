use std::time::Duration;

use super::Timeout;
use crate::{ConfigError, Name};

/// A [`Timeout`]'s configuration: its limit and name.
///
/// With the `serde` feature it deserializes, the limit written as `"250ms"`
/// or `"30s"`:
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use std::time::Duration;
/// use steadfast_core::{Timeout, TimeoutConfig};
///
/// let config: TimeoutConfig = serde_json::from_str(r#"{ "limit": "250ms", "name": "db" }"#).unwrap();
/// let timeout = Timeout::from_config(config).unwrap();
/// assert_eq!(timeout.limit(), Duration::from_millis(250));
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct TimeoutConfig {
    /// How long a call may run. Must be greater than zero.
    #[cfg_attr(feature = "serde", serde(with = "crate::duration_serde"))]
    pub limit: Duration,
    /// The name shown in errors, events and snapshots. Default `"timeout"`.
    #[cfg_attr(feature = "serde", serde(default = "default_name"))]
    pub name: Name,
}

fn default_name() -> Name {
    Name::new_static("timeout")
}

impl Default for TimeoutConfig {
    /// A 30 s limit named `"timeout"`.
    fn default() -> Self {
        TimeoutConfig {
            limit: Duration::from_secs(30),
            name: default_name(),
        }
    }
}

impl TimeoutConfig {
    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.limit.is_zero() {
            return Err(
                ConfigError::new("timeout", "limit", "must be greater than zero")
                    .with_value(self.limit),
            );
        }
        Ok(())
    }
}

/// Builds a [`Timeout`]; see [`Timeout::builder`].
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct TimeoutBuilder {
    config: TimeoutConfig,
}

impl TimeoutBuilder {
    /// How long a call may run (default 30 s).
    pub fn limit(mut self, limit: Duration) -> Self {
        self.config.limit = limit;
        self
    }

    /// The name shown in errors, events and snapshots (default `"timeout"`).
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Validates the configuration and builds the timeout.
    pub fn build(self) -> Result<Timeout, ConfigError> {
        Timeout::from_config(self.config)
    }
}
