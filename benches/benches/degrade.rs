//! Degrade: a call through a fallback policy that succeeds, beside the bare
//! operation and tower-resilience's fallback.
//!
//! `cargo bench -p steadfast-benches --bench degrade -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, criterion_group, criterion_main};
use steadfast::degrade::Fallback;
use steadfast::{Error, Policy};
use steadfast_benches::{BenchError, iter_async, op, runtime};
use tower::ServiceExt;

fn fallback_success(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("fallback_success");

    let fallback = Fallback::from_fn(|_: Error<BenchError>| 0u64);
    group.bench_function("steadfast", |b| iter_async(b, &rt, || fallback.call(op)));
    group.bench_function("bare", |b| iter_async(b, &rt, op));

    let layer = tower_resilience::fallback::FallbackLayer::<(), u64, BenchError>::value(0);
    let resilience = tower::Layer::layer(&layer, tower::service_fn(|(): ()| op()));
    group.bench_function("tower-resilience", |b| {
        iter_async(b, &rt, || resilience.clone().oneshot(()));
    });
    group.finish();
}

criterion_group!(benches, fallback_success);
criterion_main!(benches);
