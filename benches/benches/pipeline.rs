//! Five policies composed: timeout → retry → breaker → bulkhead → rate
//! limit around the op, all admitting; the same five alone; and an axum
//! handler called in process with and without a steadfast HTTP layer.
//!
//! `cargo bench -p steadfast-benches --bench pipeline -- --warm-up-time 1 --measurement-time 2`
//!
//! - `pipeline_5`: `steadfast` calls the pipeline directly;
//!   `steadfast-tower` is the same pipeline as one `PolicyLayer` service;
//!   `tower-resilience` its five layers (time limiter, retry, circuit
//!   breaker, bulkhead, rate limiter); `tower` tower's own timeout, retry
//!   (a policy that never retries), concurrency limit and rate limit. Every
//!   tower service is driven as `poll_ready` then `call` on one service, as
//!   a server's connection task does.
//! - `pipeline_5_parts`: each of the five policies alone around the same op
//!   (`timeout`, `retry`, `breaker`, `bulkhead`, `ratelimit`) and `bare`, so
//!   the pipeline's figure reads against their sum from the same run.
//! - `tower_http_overhead`: `GET /` through an axum `Router` in process:
//!   `bare` (no layer), `identity-layer` (tower's no-op layer: what axum's
//!   layering costs by itself) and `steadfast` (an `HttpPolicyLayer` of a
//!   rate limiter and a breaker).

use std::future::Future;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use steadfast::breaker::Breaker;
use steadfast::retry::Retry;
use steadfast::tower::PolicyLayer;
use steadfast::tower::http::HttpPolicyLayer;
use steadfast::{Pipeline, Policy};
use steadfast_benches::fixtures::NeverRetry;
use steadfast_benches::pipeline::{BULKHEAD, bulkhead, limiter, pipeline, timeout};
use steadfast_benches::{iter_async, op, runtime};
use tower::{Layer, Service, ServiceExt};

/// `poll_ready` (which must be ready at once here) then `call`.
fn ready_call<S: Service<()>>(service: &mut S) -> S::Future
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

fn tower_resilience()
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

fn tower_own()
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

fn pipeline_5(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("pipeline_5");

    let direct = pipeline();
    group.bench_function("steadfast", |b| iter_async(b, &rt, || direct.call(op)));

    let mut layered = PolicyLayer::new(pipeline()).layer(tower::service_fn(|(): ()| op()));
    group.bench_function("steadfast-tower", |b| {
        iter_async(b, &rt, || ready_call(&mut layered));
    });

    let mut resilience = rt.block_on(async { tower_resilience() });
    group.bench_function("tower-resilience", |b| {
        iter_async(b, &rt, || ready_call(&mut resilience));
    });

    let mut own = rt.block_on(async { tower_own() });
    group.bench_function("tower", |b| iter_async(b, &rt, || ready_call(&mut own)));
    group.finish();
}

fn pipeline_5_parts(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("pipeline_5_parts");
    group.bench_function("bare", |b| iter_async(b, &rt, op));
    let timeout = timeout();
    group.bench_function("timeout", |b| iter_async(b, &rt, || timeout.call(op)));
    let retry = Retry::default();
    group.bench_function("retry", |b| iter_async(b, &rt, || retry.call(op)));
    let breaker = Breaker::new();
    group.bench_function("breaker", |b| iter_async(b, &rt, || breaker.call(op)));
    let bulkhead = bulkhead();
    group.bench_function("bulkhead", |b| iter_async(b, &rt, || bulkhead.call(op)));
    let limiter = limiter();
    group.bench_function("ratelimit", |b| iter_async(b, &rt, || limiter.call(op)));
    group.finish();
}

fn get() -> http::Request<axum::body::Body> {
    http::Request::get("/")
        .body(axum::body::Body::empty())
        .expect("a valid request")
}

fn tower_http_overhead(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("tower_http_overhead");
    let route = || axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));

    let bare = route();
    // axum wraps any layer's service in a route of its own: the cost of
    // layering at all, whatever the layer does.
    let identity = route().layer(tower::layer::util::Identity::new());
    group.bench_function("identity-layer", |b| {
        iter_async(b, &rt, || {
            let call = identity.clone().oneshot(get());
            async move { call.await.map(|response| response.status()) }
        });
    });
    group.bench_function("bare", |b| {
        iter_async(b, &rt, || {
            let call = bare.clone().oneshot(get());
            async move { call.await.map(|response| response.status()) }
        });
    });

    let policy = Pipeline::new(limiter()).then(Breaker::new());
    let guarded = route().layer(HttpPolicyLayer::new(policy));
    group.bench_function("steadfast", |b| {
        iter_async(b, &rt, || {
            let call = guarded.clone().oneshot(get());
            async move { call.await.map(|response| response.status()) }
        });
    });
    group.finish();
}

criterion_group!(benches, pipeline_5, pipeline_5_parts, tower_http_overhead);
criterion_main!(benches);
