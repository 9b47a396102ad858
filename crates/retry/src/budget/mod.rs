//! The retry budget: retries may add only a fraction to the calls made.
//!
//! # Why budgets and not just max attempts
//!
//! "At most 3 attempts" caps what one call can do, not what all of them do
//! together. When a dependency is down, every call fails and every call
//! retries, so 3 attempts triple the load on a service that is already
//! failing: the retries themselves keep it down (a retry storm). Stacked
//! services multiply it: 3 attempts at each of 3 layers is 27 requests at the
//! bottom.
//!
//! A budget caps retries across every call of a policy: over a sliding window
//! (default 10 s), retries may add at most a fraction (default 20 %) of the
//! calls made in it, plus a small floor (default 10 per second) so that a
//! quiet service can still retry its rare failures. In a blip, a few calls
//! fail and all are retried; in an outage, the extra load is bounded at
//! +20 % however many calls arrive. Finagle and Envoy work the same way.
//!
//! When the budget is spent, a call that would have retried fails at once
//! with its last error, and the policy's snapshot counts it in
//! `budget_exhausted`. Hedges draw from the same budget.
//!
//! # Cost
//!
//! A call that succeeds at once does not touch the budget: the policy counts
//! calls in a [`Tally`](steadfast_core::tally::Tally) it keeps anyway (a
//! load and a store in the calling thread's own slot, no locked
//! instruction). The budget itself
//! (a ring of ten time buckets behind a small lock) is consulted only when a
//! call asks to retry; it then credits the calls counted since it was last
//! consulted to the bucket of that last consultation — the earliest moment
//! they can have happened — so calls are never credited to a more recent
//! bucket than their own and the allowance is never overstated.

mod window;

use std::time::Duration;

use steadfast_core::ConfigError;

pub(crate) use window::{Budget, Permit};

/// The budget's limits; see the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct BudgetConfig {
    /// Retries allowed per call made in the window (default 0.2: +20 %).
    /// Must be a finite number, at least 0.
    pub ratio: f64,
    /// How far back calls and retries count (default 10 s). At least 1 ms.
    #[cfg_attr(feature = "serde", serde(with = "steadfast_core::duration_serde"))]
    pub window: Duration,
    /// Retries allowed per second whatever the traffic (default 10).
    pub min_per_second: u32,
}

impl Default for BudgetConfig {
    /// 20 % over a 10 s window, plus 10 retries per second.
    fn default() -> Self {
        BudgetConfig {
            ratio: 0.2,
            window: Duration::from_secs(10),
            min_per_second: 10,
        }
    }
}

impl BudgetConfig {
    /// The default budget: 20 % over 10 s, plus 10 retries per second.
    pub fn new() -> Self {
        BudgetConfig::default()
    }

    /// Sets the fraction of calls that retries may add.
    #[must_use]
    pub fn ratio(mut self, ratio: f64) -> Self {
        self.ratio = ratio;
        self
    }

    /// Sets the sliding window.
    #[must_use]
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Sets the floor of retries per second.
    #[must_use]
    pub fn min_per_second(mut self, min_per_second: u32) -> Self {
        self.min_per_second = min_per_second;
        self
    }

    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.ratio.is_finite() || self.ratio < 0.0 {
            return Err(ConfigError::new(
                "retry",
                "budget.ratio",
                "must be a finite number of at least 0",
            )
            .with_value(self.ratio));
        }
        if self.window < Duration::from_millis(1) {
            return Err(
                ConfigError::new("retry", "budget.window", "must be at least 1ms")
                    .with_value(self.window),
            );
        }
        if self.ratio == 0.0 && self.min_per_second == 0 {
            return Err(ConfigError::new(
                "retry",
                "budget.ratio",
                "and `budget.min_per_second` are both zero, which allows no retry at all \
                 (disable the budget or set max_attempts to 1 instead)",
            )
            .with_value(self.ratio));
        }
        Ok(())
    }
}

/// The budget's state: what counts in the window now and what it allows.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct BudgetSnapshot {
    /// Calls credited to the window.
    pub calls: u64,
    /// Retries and hedges granted in the window.
    pub retries: u64,
    /// Retries the window allows in all: `min_per_second × window + ratio × calls`.
    pub allowance: f64,
    /// Whether the last request for a retry was refused.
    pub exhausted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(BudgetConfig::default().validate().is_ok());
        for (config, field) in [
            (BudgetConfig::new().ratio(f64::NAN), "budget.ratio"),
            (BudgetConfig::new().ratio(-0.1), "budget.ratio"),
            (
                BudgetConfig::new().window(Duration::from_micros(999)),
                "budget.window",
            ),
            (
                BudgetConfig::new().ratio(0.0).min_per_second(0),
                "budget.ratio",
            ),
        ] {
            assert_eq!(config.validate().unwrap_err().field(), field);
        }
        assert!(BudgetConfig::new().ratio(0.0).validate().is_ok());
        assert!(BudgetConfig::new().min_per_second(0).validate().is_ok());
    }
}
