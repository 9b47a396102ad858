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

use criterion::{Criterion, criterion_group, criterion_main};
use steadfast::breaker::Breaker;
use steadfast::retry::Retry;
use steadfast::tower::PolicyLayer;
use steadfast::tower::http::HttpPolicyLayer;
use steadfast::{Pipeline, Policy};
use steadfast_benches::pipeline::{
    bulkhead, limiter, pipeline, ready_call, timeout, tower_own, tower_resilience,
};
use steadfast_benches::{iter_async, op, runtime};
use tower::{Layer, ServiceExt};

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
