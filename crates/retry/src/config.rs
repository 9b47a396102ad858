//! A [`Retry`](crate::Retry)'s configuration.

use std::time::Duration;

use steadfast_core::{ConfigError, Name};

use crate::{Backoff, BudgetConfig};

/// When hedged attempts start; see [`HedgeConfig`] and the [crate docs](crate#hedging).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "mode", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum HedgeMode {
    /// Start another attempt when the last one has run `delay` without an
    /// answer (or at once when an attempt fails).
    Delayed {
        /// How long an attempt runs alone before the next starts. Greater than zero.
        #[cfg_attr(feature = "serde", serde(with = "steadfast_core::duration_serde"))]
        delay: Duration,
    },
    /// Start every attempt at once: as soon as the first attempt has not
    /// answered on its first poll (one that answers at once needs no company).
    Parallel,
    /// Start the next attempt only when one fails: a sequential fallback to
    /// the next provider, without backoff.
    Fallback,
}

/// Hedging: more attempts beside a slow one, the first acceptable answer wins.
///
/// With the `serde` feature it deserializes as
/// `{ "mode": "delayed", "delay": "50ms", "max_hedged": 2 }` (`"parallel"`,
/// `"fallback"` take no delay). Serde cannot reject unknown fields of a
/// flattened mode, so misspelt fields here are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct HedgeConfig {
    /// When hedged attempts start.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub mode: HedgeMode,
    /// Attempts started beside the first, at most (default 1). At least 1.
    #[cfg_attr(feature = "serde", serde(default = "one"))]
    pub max_hedged: u32,
}

#[cfg(feature = "serde")]
fn one() -> u32 {
    1
}

impl HedgeConfig {
    /// One hedge, started after `delay` without an answer.
    pub const fn delayed(delay: Duration) -> Self {
        HedgeConfig {
            mode: HedgeMode::Delayed { delay },
            max_hedged: 1,
        }
    }

    /// One hedge, started together with the first attempt.
    pub const fn parallel() -> Self {
        HedgeConfig {
            mode: HedgeMode::Parallel,
            max_hedged: 1,
        }
    }

    /// One hedge, started only when the first attempt fails.
    pub const fn fallback() -> Self {
        HedgeConfig {
            mode: HedgeMode::Fallback,
            max_hedged: 1,
        }
    }

    /// Sets how many attempts may start beside the first.
    #[must_use]
    pub const fn max_hedged(mut self, max_hedged: u32) -> Self {
        self.max_hedged = max_hedged;
        self
    }

    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_hedged == 0 {
            return Err(
                ConfigError::new("retry", "hedging.max_hedged", "must be at least 1")
                    .with_value(self.max_hedged),
            );
        }
        if let HedgeMode::Delayed { delay } = self.mode
            && delay.is_zero()
        {
            return Err(ConfigError::new(
                "retry",
                "hedging.delay",
                "must be greater than zero (use the parallel mode to start all at once)",
            )
            .with_value(delay));
        }
        Ok(())
    }
}

/// A [`Retry`](crate::Retry)'s configuration; see the [crate docs](crate) for what each part does.
///
/// With the `serde` feature it deserializes; every field is optional:
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use std::time::Duration;
/// use steadfast_retry::{Retry, RetryConfig};
///
/// let config: RetryConfig = serde_json::from_str(r#"{
///     "name": "payments-retry",
///     "max_attempts": 4,
///     "backoff": { "kind": "exponential", "initial": "50ms", "multiplier": 2.0, "max": "2s" },
///     "budget": { "ratio": 0.1 }
/// }"#).unwrap();
/// let retry = Retry::from_config(config).unwrap();
/// assert_eq!(retry.config().max_attempts, 4);
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct RetryConfig {
    /// The name shown in errors, events and snapshots. Default `"retry"`.
    pub name: Name,
    /// Attempts per call, the first included (default 3). At least 1.
    pub max_attempts: u32,
    /// No retry starts later than this after the call began (default: no limit).
    /// Greater than zero. Setting it costs one clock read per call.
    #[cfg_attr(
        feature = "serde",
        serde(with = "steadfast_core::duration_serde::option")
    )]
    pub max_elapsed: Option<Duration>,
    /// The waits between attempts (default: exponential from 100 ms, ×2, up
    /// to 10 s, full jitter).
    pub backoff: Backoff,
    /// The longest wait before a retry (default: the backoff's maximum). A
    /// backoff delay longer than this is cut to it; a Retry-After hint is
    /// never cut (see [`max_retry_after`](Self::max_retry_after)).
    #[cfg_attr(
        feature = "serde",
        serde(with = "steadfast_core::duration_serde::option")
    )]
    pub max_delay: Option<Duration>,
    /// The longest Retry-After hint (the server's, or a rejection's
    /// `retry_after`) the retry waits out (default: the maximum delay). A
    /// retry never starts before its hint; a hint longer than this ends the
    /// retrying with the error, as does one past the call's deadline.
    #[cfg_attr(
        feature = "serde",
        serde(default, with = "steadfast_core::duration_serde::option")
    )]
    pub max_retry_after: Option<Duration>,
    /// The retry budget shared by every clone (default on: 5 tokens, a fifth
    /// of a token earned per success); `None` disables it.
    pub budget: Option<BudgetConfig>,
    /// Hedging instead of sequential retries (default: off).
    pub hedging: Option<HedgeConfig>,
    /// The seed of the jitter (default: random per policy). Set it to replay
    /// the same waits.
    pub seed: Option<u64>,
}

fn default_name() -> Name {
    Name::new_static("retry")
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            name: default_name(),
            max_attempts: 3,
            max_elapsed: None,
            backoff: Backoff::default(),
            max_delay: None,
            max_retry_after: None,
            budget: Some(BudgetConfig::default()),
            hedging: None,
            seed: None,
        }
    }
}

impl RetryConfig {
    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_attempts == 0 {
            return Err(
                ConfigError::new("retry", "max_attempts", "must be at least 1")
                    .with_value(self.max_attempts),
            );
        }
        if let Some(max_elapsed) = self.max_elapsed
            && max_elapsed.is_zero()
        {
            return Err(
                ConfigError::new("retry", "max_elapsed", "must be greater than zero")
                    .with_value(max_elapsed),
            );
        }
        self.backoff.validate()?;
        if let Some(budget) = &self.budget {
            budget.validate()?;
        }
        if let Some(hedging) = &self.hedging {
            hedging.validate()?;
        }
        Ok(())
    }

    /// The longest hint waited out: [`max_retry_after`](Self::max_retry_after)
    /// or the maximum delay.
    pub fn effective_max_retry_after(&self) -> Duration {
        self.max_retry_after
            .unwrap_or_else(|| self.effective_max_delay())
    }

    /// The cap on any wait: [`max_delay`](Self::max_delay) or the backoff's maximum.
    pub fn effective_max_delay(&self) -> Duration {
        self.max_delay.unwrap_or_else(|| self.backoff.max_delay())
    }
}
