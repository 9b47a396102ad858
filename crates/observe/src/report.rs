//! What a registry reads from each policy: its snapshot, by kind.

use steadfast_breaker::BreakerSnapshot;
use steadfast_bulkhead::BulkheadSnapshot;
use steadfast_cache::CacheSnapshot;
use steadfast_core::{Inspect, TimeoutSnapshot};
use steadfast_degrade::LoadShedderSnapshot;
use steadfast_ratelimit::RateLimiterSnapshot;
use steadfast_retry::RetrySnapshot;

use crate::shared::SharedSnapshot;

/// One policy's snapshot, by kind.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PolicyReport {
    /// A circuit breaker.
    Breaker(BreakerSnapshot),
    /// A bulkhead (plain or keyed).
    Bulkhead(BulkheadSnapshot),
    /// A rate limiter (direct or keyed).
    RateLimiter(RateLimiterSnapshot),
    /// A retry.
    Retry(RetrySnapshot),
    /// A cache.
    Cache(CacheSnapshot),
    /// A timeout.
    Timeout(TimeoutSnapshot),
    /// A priority load shedder.
    Shedder(LoadShedderSnapshot),
    /// A policy on a shared store (a Redis-backed rate limiter).
    Shared(SharedSnapshot),
}

impl PolicyReport {
    /// The kind, as metrics and health reports name it: `breaker`,
    /// `bulkhead`, `ratelimit`, `retry`, `cache`, `timeout`, `shedder`,
    /// `shared`.
    pub fn kind(&self) -> &'static str {
        match self {
            PolicyReport::Breaker(_) => "breaker",
            PolicyReport::Bulkhead(_) => "bulkhead",
            PolicyReport::RateLimiter(_) => "ratelimit",
            PolicyReport::Retry(_) => "retry",
            PolicyReport::Cache(_) => "cache",
            PolicyReport::Timeout(_) => "timeout",
            PolicyReport::Shedder(_) => "shedder",
            PolicyReport::Shared(_) => "shared",
        }
    }
}

macro_rules! from_snapshot {
    ($($snapshot:ident => $variant:ident),* $(,)?) => {$(
        impl From<$snapshot> for PolicyReport {
            fn from(snapshot: $snapshot) -> Self {
                PolicyReport::$variant(snapshot)
            }
        }
    )*};
}

from_snapshot! {
    BreakerSnapshot => Breaker,
    BulkheadSnapshot => Bulkhead,
    RateLimiterSnapshot => RateLimiter,
    RetrySnapshot => Retry,
    CacheSnapshot => Cache,
    TimeoutSnapshot => Timeout,
    LoadShedderSnapshot => Shedder,
    SharedSnapshot => Shared,
}

/// A policy a [`Registry`](crate::Registry) can observe: every steadfast
/// policy whose snapshot is one of [`PolicyReport`]'s kinds.
pub trait Observe: Send + Sync {
    /// The snapshot now.
    fn report(&self) -> PolicyReport;
}

impl<P> Observe for P
where
    P: Inspect + Send + Sync,
    P::Snapshot: Into<PolicyReport>,
{
    fn report(&self) -> PolicyReport {
        self.snapshot().into()
    }
}
