//! Breaker: a closed call that succeeds, a call refused by an open breaker,
//! and the closed call on two threads, through steadfast and its peers.
//!
//! `cargo bench -p steadfast-benches --bench breaker -- --warm-up-time 1 --measurement-time 3`
//!
//! Every case awaits the same `steadfast_benches::op`. Peers run with their
//! defaults, as their users would: recloser trips at 50 % over the last 100
//! calls, failsafe on consecutive failures with backoff, tower-resilience on
//! its default sliding window. `steadfast` runs recloser's rule (50 % over
//! the last 100 calls), so the two compare like for like; the
//! `steadfast-<mode>` ids repeat the closed call in each trip-rule mode:
//! `consecutive` (5 in a row), `count` (50 % over 100 calls, 20 minimum),
//! `time` (50 % over 10 s, 20 minimum), `slow` (50 % slower than 1 s over 100
//! calls), `standard` (the default preset: consecutive and time) and `all`
//! (every rule at once).

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use failsafe::futures::CircuitBreaker as _;
use steadfast::Policy;
use steadfast::breaker::Breaker;
use steadfast_benches::fixtures::{BREAKER_MODES, closed_breaker, open_breaker};
use steadfast_benches::{BenchError, iter_async, iter_contended, op, runtime};
use tower::ServiceExt;

/// recloser's default rule: 50 % failures over the last 100 calls.
fn like_recloser() -> Breaker {
    closed_breaker("steadfast").expect("a known id")
}

/// steadfast in each trip-rule mode, by bench id.
fn modes() -> Vec<(&'static str, Breaker)> {
    BREAKER_MODES[1..]
        .iter()
        .map(|&id| (id, closed_breaker(id).expect("a known id")))
        .collect()
}

fn recloser() -> recloser::AsyncRecloser {
    recloser::AsyncRecloser::from(recloser::Recloser::default())
}

fn tower_resilience() -> impl tower::Service<
    (),
    Response = u64,
    Error = impl std::fmt::Debug,
    Future = impl Future<Output = Result<u64, impl std::fmt::Debug>>,
> + Clone {
    let layer = tower_resilience::circuitbreaker::CircuitBreakerLayer::builder()
        .build()
        .expect("the default config is valid");
    layer.layer_fn(tower::service_fn(|(): ()| op()))
}

fn breaker_closed(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("breaker_closed");
    let breaker = like_recloser();
    group.bench_function("steadfast", |b| iter_async(b, &rt, || breaker.call(op)));
    for (id, breaker) in modes() {
        group.bench_function(id, |b| iter_async(b, &rt, || breaker.call(op)));
    }
    let failsafe = failsafe::Config::new().build();
    group.bench_function("failsafe", |b| iter_async(b, &rt, || failsafe.call(op())));
    let recloser = recloser();
    group.bench_function("recloser", |b| iter_async(b, &rt, || recloser.call(op())));
    let resilience = tower_resilience();
    group.bench_function("tower-resilience", |b| {
        iter_async(b, &rt, || resilience.clone().oneshot(()));
    });
    group.bench_function("bare", |b| iter_async(b, &rt, op));
    group.finish();
}

fn fail() -> std::future::Ready<Result<u64, BenchError>> {
    std::future::ready(Err(BenchError))
}

fn breaker_open_reject(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("breaker_open_reject");

    let breaker = open_breaker(&rt);
    let failsafe = failsafe::Config::new().build();
    let recloser = recloser::AsyncRecloser::from(
        recloser::Recloser::custom()
            .closed_len(1)
            .open_wait(Duration::from_secs(3_600))
            .build(),
    );
    let layer = tower_resilience::circuitbreaker::CircuitBreakerLayer::builder()
        .build()
        .expect("the default config is valid");
    let resilience = layer.layer_fn(tower::service_fn(|(): ()| op()));
    rt.block_on(async {
        for _ in 0..20 {
            let _ = failsafe.call(fail()).await;
            let _ = recloser.call(fail()).await;
        }
        resilience.force_open().await;
        assert!(failsafe.call(op()).await.is_err(), "failsafe is open");
        assert!(recloser.call(op()).await.is_err(), "recloser is open");
        assert!(
            resilience.clone().oneshot(()).await.is_err(),
            "tower-resilience is open"
        );
    });

    group.bench_function("steadfast", |b| iter_async(b, &rt, || breaker.call(op)));
    group.bench_function("failsafe", |b| iter_async(b, &rt, || failsafe.call(op())));
    group.bench_function("recloser", |b| iter_async(b, &rt, || recloser.call(op())));
    group.bench_function("tower-resilience", |b| {
        iter_async(b, &rt, || resilience.clone().oneshot(()));
    });
    group.finish();
}

fn breaker_closed_contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("breaker_closed_contended");
    let breaker = like_recloser();
    group.bench_function("steadfast", |b| iter_contended(b, || breaker.call(op)));
    let failsafe = failsafe::Config::new().build();
    group.bench_function("failsafe", |b| iter_contended(b, || failsafe.call(op())));
    let recloser = recloser();
    group.bench_function("recloser", |b| iter_contended(b, || recloser.call(op())));
    let resilience = tower_resilience();
    group.bench_function("tower-resilience", |b| {
        iter_contended(b, || resilience.clone().oneshot(()));
    });
    group.finish();
}

criterion_group!(
    benches,
    breaker_closed,
    breaker_open_reject,
    breaker_closed_contended
);
criterion_main!(benches);
