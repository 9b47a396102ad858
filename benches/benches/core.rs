//! Core: the bare operation, the timeout beside tokio's, and five no-op
//! policies (steadfast's `Identity`, and a third party's that implements only
//! `execute`).
//!
//! `cargo bench -p steadfast-benches --bench core -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use steadfast::{Identity, Pipeline, Policy, Timeout};
use steadfast_benches::fixtures::noop_5;
use steadfast_benches::{iter_async, op, runtime};

fn baseline(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("baseline");
    group.bench_function("bare", |b| iter_async(b, &rt, op));
    group.finish();
}

fn timeout_ready(c: &mut Criterion) {
    let rt = runtime();
    let limit = Duration::from_secs(1);
    let timeout = Timeout::new(limit).expect("a 1 s limit is valid");
    let mut group = c.benchmark_group("timeout_ready");
    group.bench_function("steadfast", |b| iter_async(b, &rt, || timeout.call(op)));
    group.bench_function("tokio", |b| {
        iter_async(b, &rt, || tokio::time::timeout(black_box(limit), op()));
    });
    group.finish();
}

fn compose_identity_5(c: &mut Criterion) {
    let rt = runtime();
    let pipeline = Pipeline::new(Identity)
        .then(Identity)
        .then(Identity)
        .then(Identity)
        .then(Identity);
    let mut group = c.benchmark_group("compose_identity_5");
    group.bench_function("steadfast", |b| iter_async(b, &rt, || pipeline.call(op)));
    group.bench_function("bare", |b| iter_async(b, &rt, op));
    group.finish();
}

/// Five no-op policies that implement only `execute`, as a third-party
/// policy does: the generic composition path, which `Identity` skips.
fn compose_execute_5(c: &mut Criterion) {
    let rt = runtime();
    let pipeline = noop_5();
    let mut group = c.benchmark_group("compose_execute_5");
    group.bench_function("steadfast", |b| iter_async(b, &rt, || pipeline.call(op)));
    group.bench_function("bare", |b| iter_async(b, &rt, op));
    group.finish();
}

criterion_group!(
    benches,
    baseline,
    timeout_ready,
    compose_identity_5,
    compose_execute_5
);
criterion_main!(benches);
