//! The retry budget: retries are earned by successes.
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
//! # How it works
//!
//! The budget is a bucket of retry tokens shared by every clone of a policy.
//! It starts full, at `capacity` tokens (default 5). Each retry or hedge
//! takes one token; each call that ends in success puts back `ratio` of a
//! token (default 0.2), up to the capacity. A call that would retry with no
//! whole token left fails at once with its last error, and the policy's
//! snapshot counts it in `budget_exhausted`.
//!
//! Nothing refills the bucket but successes, so the promise holds whatever
//! the call rate, for one policy per client as for one policy shared by a
//! service:
//!
//! - **In a total outage** a policy makes at most `capacity` retries in all,
//!   plus `ratio` of the most calls running through it at once, however long
//!   the outage and however many calls it carries. Over an outage in which it
//!   carries `n` calls, attempts per call are at most about
//!   `1 + capacity / n`: at most 1.1 from 50 calls on with the defaults.
//! - **In a partial outage** retries are at most `capacity + ratio ×
//!   successes` over any stretch of time: at most +20 % of the calls with the
//!   defaults, and they keep lowering the error rate as long as some calls
//!   succeed.
//! - **A quiet, healthy client** keeps a full bucket: its occasional failures
//!   are retried, since five successes earn a retry back.
//!
//! gRPC's retry throttling and the token bucket in Marc Brooker's analysis
//! of retries rest on the same idea: only success earns the right to retry.
//! Raise `capacity` for a policy carrying many calls that must ride out a
//! burst of failures (a blip of 100 failures at 1,000 calls/s retries only
//! what the bucket holds).
//!
//! # Cost
//!
//! A call that succeeds at once does not touch the bucket: the policy counts
//! calls as they start in a [`Tally`](steadfast_core::tally::Tally) (a load
//! and a store in the calling thread's own slot, no locked instruction) and
//! failed calls on the slow path. The bucket (a few integers behind a small
//! lock) is consulted only when a call asks to retry; it then credits the
//! calls started and not failed since it was last consulted, and takes back
//! the share of those that have failed since. A running call is so credited
//! until it fails, which is why the outage bound counts the calls running.

mod bucket;

use steadfast_core::ConfigError;

pub(crate) use bucket::{Budget, Permit};

/// The budget's limits; see the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct BudgetConfig {
    /// Tokens a successful call earns (default 0.2: a retry per five
    /// successes). A finite number, at least 0; counted in millionths.
    pub ratio: f64,
    /// Tokens the bucket holds, and starts with (default 5): the retries a
    /// policy makes in a total outage, in all.
    pub capacity: u32,
}

impl Default for BudgetConfig {
    /// A bucket of 5 retries, a fifth of a retry earned per success.
    fn default() -> Self {
        BudgetConfig {
            ratio: 0.2,
            capacity: 5,
        }
    }
}

impl BudgetConfig {
    /// The default budget: 5 tokens, 0.2 earned per success.
    pub fn new() -> Self {
        BudgetConfig::default()
    }

    /// Sets the tokens a successful call earns.
    #[must_use]
    pub fn ratio(mut self, ratio: f64) -> Self {
        self.ratio = ratio;
        self
    }

    /// Sets the tokens the bucket holds and starts with.
    #[must_use]
    pub fn capacity(mut self, capacity: u32) -> Self {
        self.capacity = capacity;
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
        if self.capacity == 0 {
            return Err(ConfigError::new(
                "retry",
                "budget.capacity",
                "must be at least 1: a bucket that holds no whole token allows no retry \
                 (disable the budget or set max_attempts to 1 instead)",
            )
            .with_value(self.capacity));
        }
        Ok(())
    }
}

/// The budget's state.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct BudgetSnapshot {
    /// Tokens in the bucket: whole retries it can grant now, and a fraction.
    /// Below zero when the shares of running calls, credited while the
    /// bucket was full, are taken back as they fail: successes repay it.
    pub tokens: f64,
    /// Tokens the bucket holds when full.
    pub capacity: u32,
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
            (BudgetConfig::new().ratio(f64::INFINITY), "budget.ratio"),
            (BudgetConfig::new().capacity(0), "budget.capacity"),
        ] {
            assert_eq!(config.validate().unwrap_err().field(), field);
        }
        assert!(BudgetConfig::new().ratio(0.0).validate().is_ok());
        assert!(BudgetConfig::new().capacity(1).validate().is_ok());
    }
}
