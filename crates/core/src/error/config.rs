//! The configuration error every builder returns.

use std::borrow::Cow;
use std::fmt;

/// A configuration value was rejected when a policy was built.
///
/// It names the policy kind, the field and the rule that was broken, and the
/// value that broke it, so the message can be acted on without reading code:
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::Timeout;
///
/// let err = Timeout::builder().limit(Duration::ZERO).build().unwrap_err();
/// assert_eq!(err.field(), "limit");
/// assert_eq!(err.to_string(), "invalid timeout config: `limit` must be greater than zero (got 0ns)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    policy: &'static str,
    field: &'static str,
    rule: Cow<'static, str>,
    value: Option<String>,
}

impl ConfigError {
    /// A rejected `field` of a `policy` kind's config, breaking `rule`.
    ///
    /// `rule` reads after the field name: "must be greater than zero".
    pub fn new(
        policy: &'static str,
        field: &'static str,
        rule: impl Into<Cow<'static, str>>,
    ) -> Self {
        ConfigError {
            policy,
            field,
            rule: rule.into(),
            value: None,
        }
    }

    /// Records the offending value, shown as "(got …)".
    #[must_use]
    pub fn with_value(mut self, value: impl fmt::Debug) -> Self {
        self.value = Some(format!("{value:?}"));
        self
    }

    /// The kind of policy whose config was rejected ("timeout", "breaker").
    pub fn policy(&self) -> &'static str {
        self.policy
    }

    /// The field that was rejected.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The rule the field broke.
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// The rejected value, formatted with `Debug`, when one was recorded.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} config: `{}` {}",
            self.policy, self.field, self.rule
        )?;
        if let Some(value) = &self.value {
            write!(f, " (got {value})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
