//! The `pipeline_5` policies, built once for the criterion bench and the
//! instruction counter: timeout → retry → breaker → bulkhead → rate limit,
//! each at its defaults but the limits, all admitting.

use std::time::Duration;

use steadfast::breaker::Breaker;
use steadfast::bulkhead::Bulkhead;
use steadfast::ratelimit::{Quota, RateLimiter};
use steadfast::retry::Retry;
use steadfast::{Pipeline, Policy, Timeout};

use crate::BenchError;

/// The bulkhead's limit, never reached by one caller.
pub const BULKHEAD: u32 = 1_000;

/// A quota no benchmark loop spends: every check admits.
pub fn open_quota() -> Quota {
    Quota::per_second(1_000_000_000).burst(u32::MAX)
}

/// A 1 s timeout.
///
/// # Panics
///
/// Never: the limit is valid.
pub fn timeout() -> Timeout {
    Timeout::new(Duration::from_secs(1)).expect("a valid timeout")
}

/// A direct limiter on [`open_quota`].
///
/// # Panics
///
/// Never: the quota is valid.
pub fn limiter() -> RateLimiter {
    RateLimiter::new(open_quota()).expect("a valid quota")
}

/// A bulkhead of [`BULKHEAD`] permits.
///
/// # Panics
///
/// Never: the limit is valid.
pub fn bulkhead() -> Bulkhead {
    Bulkhead::new(BULKHEAD).expect("a valid limit")
}

/// The five, outermost first.
pub fn pipeline() -> impl Policy<u64, BenchError> + Clone + 'static {
    Pipeline::new(timeout())
        .then(Retry::default())
        .then(Breaker::new())
        .then(bulkhead())
        .then(limiter())
}
