//! The `pipeline_5` policies, built once for the criterion bench and the
//! instruction counter: timeout → retry → breaker → bulkhead → rate limit,
//! each at its defaults but the limits, all admitting.

use std::time::Duration;

use steadfast::breaker::Breaker;
use steadfast::bulkhead::Bulkhead;
use steadfast::ratelimit::{Quota, RateLimiter};
use steadfast::retry::Retry;
use steadfast::{Pipeline, Policy, Timeout};

use std::future::Future;
use std::task::{Context, Poll, Waker};

use tower::{Layer, Service};

use crate::fixtures::NeverRetry;
use crate::{BenchError, op};

/// The bulkhead's limit, never reached by one caller.
pub const BULKHEAD: u32 = 1_000;

/// A quota no benchmark loop spends: every check admits. As in
/// `ratelimit_direct`: 100 per second with a burst of `u32::MAX`. One unit
/// every 10 ms is coarse enough for the limiter's cached clock
/// (`CACHED_MIN_INTERVAL`, 4 ms), as any quota up to 250 a second is; a
/// finer one reads the time-stamp counter on every check.
pub fn open_quota() -> Quota {
    Quota::per_second(100).burst(u32::MAX)
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

/// `poll_ready` (which must be ready at once here) then `call`.
///
/// # Panics
///
/// If the service is not ready at once, or fails to be.
pub fn ready_call<S: Service<()>>(service: &mut S) -> S::Future
where
    S::Error: std::fmt::Debug,
{
    let mut cx = Context::from_waker(Waker::noop());
    match service.poll_ready(&mut cx) {
        Poll::Ready(ready) => ready.expect("the service is ready"),
        Poll::Pending => panic!("every service here is ready at once"),
    }
    service.call(())
}

/// tower-resilience's five layers: time limiter, retry, circuit breaker,
/// bulkhead, rate limiter (outermost first), all admitting. Built inside a
/// runtime (its limiter starts a timer).
///
/// # Panics
///
/// Never: every configuration is valid.
pub fn tower_resilience()
-> impl Service<(), Response = u64, Error = impl std::fmt::Debug, Future = impl Future> {
    use tower_resilience::bulkhead::BulkheadLayer;
    use tower_resilience::circuitbreaker::CircuitBreakerLayer;
    use tower_resilience::ratelimiter::RateLimiterLayer;
    use tower_resilience::retry::RetryLayer;
    use tower_resilience::timelimiter::TimeLimiterLayer;

    let service = tower::service_fn(|(): ()| op());
    let service = RateLimiterLayer::builder()
        .limit_for_period(1_000_000_000)
        .refresh_period(Duration::from_secs(1))
        .build()
        .expect("a valid rate")
        .layer(service);
    let service = BulkheadLayer::builder()
        .max_concurrent_calls(BULKHEAD as usize)
        .build()
        .expect("a valid limit")
        .layer(service);
    let service = CircuitBreakerLayer::builder()
        .build()
        .expect("the default config is valid")
        .layer(service);
    let service = RetryLayer::<(), u64, _>::builder()
        .max_attempts(3)
        .exponential_backoff(Duration::from_millis(100))
        .build()
        .layer(service);
    TimeLimiterLayer::builder()
        .timeout_duration(Duration::from_secs(1))
        .build()
        .layer(service)
}

/// tower's own timeout, rate limit, retry (a policy that never retries) and
/// concurrency limit, outermost first: its rate limit is not `Clone`, so it
/// sits outside the retry. Built inside a runtime.
pub fn tower_own()
-> impl Service<(), Response = u64, Error = impl std::fmt::Debug, Future = impl Future> {
    let service = tower::service_fn(|(): ()| op());
    let service = tower::limit::ConcurrencyLimit::new(service, BULKHEAD as usize);
    let service = tower::retry::Retry::new(NeverRetry, service);
    // Its rate limit is not `Clone`, so it sits outside the retry.
    let service = tower::limit::RateLimit::new(
        service,
        tower::limit::rate::Rate::new(1_000_000_000, Duration::from_secs(1)),
    );
    tower::timeout::Timeout::new(service, Duration::from_secs(1))
}
