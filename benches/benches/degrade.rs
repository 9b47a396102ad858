//! Degrade: a call through a fallback policy that succeeds, beside the bare
//! operation and tower-resilience's fallback; and a disabled chaos policy
//! (`chaos_disabled`) beside the bare operation.
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

/// What a chaos policy left in a production pipeline costs while off.
fn chaos_disabled(c: &mut Criterion) {
    use steadfast::chaos::{Chaos, Fault};
    let rt = runtime();
    let mut group = c.benchmark_group("chaos_disabled");
    let chaos = Chaos::builder(Fault::<u64, BenchError>::rejection())
        .enabled(false)
        .build()
        .expect("a valid chaos policy");
    group.bench_function("steadfast", |b| iter_async(b, &rt, || chaos.call(op)));
    group.bench_function("bare", |b| iter_async(b, &rt, op));
    group.finish();
}

criterion_group!(benches, fallback_success, chaos_disabled);
criterion_main!(benches);
