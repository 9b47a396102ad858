//! What a Redis-backed limiter has done.

use steadfast_core::Name;

/// A [`RedisRateLimiter`](crate::RedisRateLimiter)'s counters and state.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisLimiterSnapshot {
    /// The limiter's name.
    pub name: Name,
    /// Checks admitted (by Redis or by the fallback).
    pub admitted: u64,
    /// Checks refused (by Redis, by the local refusal of a key Redis
    /// refused, or by the fallback).
    pub rejected: u64,
    /// Of those refused, how many without a round trip.
    pub local_refusals: u64,
    /// Round trips to Redis (answered or not).
    pub round_trips: u64,
    /// Checks Redis answered in a batch (several checks that queued while
    /// another round trip was in flight, sent as one).
    pub batched: u64,
    /// Round trips that failed or timed out.
    pub redis_errors: u64,
    /// Times the script was loaded again (Redis had lost it: a restart).
    pub script_reloads: u64,
    /// Whether checks are answered by the fallback now.
    pub fallback_active: bool,
    /// Checks the fallback answered.
    pub fallback_checks: u64,
}

/// A Redis-backed limiter in a steadfast-observe registry: degraded while
/// on its fallback.
impl From<RedisLimiterSnapshot> for steadfast_observe::PolicyReport {
    fn from(s: RedisLimiterSnapshot) -> Self {
        steadfast_observe::PolicyReport::Shared(steadfast_observe::SharedSnapshot {
            name: s.name,
            store: "Redis",
            admitted: s.admitted,
            rejected: s.rejected,
            store_errors: s.redis_errors,
            fallback_active: s.fallback_active,
        })
    }
}
