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
#[derive(Clone, Debug, PartialEq)]
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
}

impl RateLimiterSnapshot {
    /// Heap bytes per tracked key, when any key is tracked.
    #[allow(clippy::cast_precision_loss)]
    pub fn bytes_per_key(&self) -> Option<f64> {
        (self.keys_tracked > 0).then(|| self.heap_bytes as f64 / self.keys_tracked as f64)
    }
}
