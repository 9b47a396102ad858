//! What a limiter reports: a key's state ([`RateLimitState`]) and the
//! limiter's counters ([`RateLimiterSnapshot`]).

use std::time::Duration;

use steadfast_core::Name;

use crate::quota::Algorithm;

/// A key's state, read without consuming anything; see
/// [`KeyedRateLimiter::peek`](crate::KeyedRateLimiter::peek).
///
/// [`headers`](RateLimitState::headers) renders it as HTTP headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitState {
    /// The most units a full state admits at once (GCRA: the burst; windows: the limit).
    pub limit: u64,
    /// Units a call could take now.
    pub remaining: u64,
    /// Time until the state is back to full.
    pub reset_after: Duration,
    /// Time until one unit is available (zero when one is now).
    pub retry_after: Duration,
}

/// A limiter's name, keys and counters; see [`Inspect`](steadfast_core::Inspect).
///
/// With the `serde` feature it serializes (for `/health` or metrics) as an
/// object with stable field names: `name` (a string), `algorithm`
/// (`"gcra"`, `"sliding_window"`, `"fixed_window"`), then the numbers
/// `keys_tracked`, `admitted`, `rejected`, `waiting`, `heap_bytes`, and
/// the boolean `shadow`. A field
/// may be added; none is renamed or removed within a 0.x minor version.
/// [`bytes_per_key`](Self::bytes_per_key) is a method, not a field.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use steadfast_core::Inspect;
/// use steadfast_ratelimit::{Quota, RateLimiter};
///
/// let limiter = RateLimiter::builder(Quota::per_second(5)).name("outbound").build().unwrap();
/// let json = serde_json::to_string(&limiter.snapshot()).unwrap();
/// assert_eq!(
///     json,
///     r#"{"name":"outbound","algorithm":"gcra","keys_tracked":0,"admitted":0,"rejected":0,"waiting":0,"heap_bytes":0,"shadow":false}"#
/// );
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct RateLimiterSnapshot {
    /// The limiter's name.
    pub name: Name,
    /// Its algorithm.
    pub algorithm: Algorithm,
    /// Keys with state now (1 for a direct limiter that is not full, else 0).
    pub keys_tracked: usize,
    /// Calls admitted so far (a waiter counts when it reserves; a dropped
    /// waiter's reservation is taken back).
    pub admitted: u64,
    /// Calls rejected so far.
    pub rejected: u64,
    /// Calls waiting for their turn now.
    pub waiting: u64,
    /// Heap bytes held for tracked keys (0 for a direct limiter).
    pub heap_bytes: usize,
    /// Shadow mode: `rejected` counts calls it would have refused and let run.
    pub shadow: bool,
}

impl RateLimiterSnapshot {
    /// Heap bytes per tracked key, when any key is tracked.
    #[allow(clippy::cast_precision_loss)]
    pub fn bytes_per_key(&self) -> Option<f64> {
        (self.keys_tracked > 0).then(|| self.heap_bytes as f64 / self.keys_tracked as f64)
    }
}
