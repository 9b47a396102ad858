//! Bulkhead: acquire and release one permit around the op, no waiters, beside
//! a raw tokio semaphore, tower's `ConcurrencyLimit` and tower-resilience's
//! bulkhead; then the same on two threads sharing one bulkhead.
//!
//! `cargo bench -p steadfast-benches --bench bulkhead -- --warm-up-time 1 --measurement-time 3`

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use steadfast::Policy;
use steadfast::bulkhead::Bulkhead;
use steadfast_benches::{iter_async, iter_contended, op, runtime};
use tower::ServiceExt;

/// Far more permits than callers: the bulkhead never fills.
const LIMIT: u32 = 1_000;

fn bulkhead_uncontended(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("bulkhead_uncontended");

    let bulkhead = Bulkhead::new(LIMIT).expect("a limit of 1000 is valid");
    group.bench_function("steadfast", |b| iter_async(b, &rt, || bulkhead.call(op)));

    let semaphore = tokio::sync::Semaphore::new(LIMIT as usize);
    group.bench_function("tokio", |b| {
        iter_async(b, &rt, || async {
            let _permit = semaphore.acquire().await.expect("never closed");
            op().await
        });
    });

    let limit =
        tower::limit::ConcurrencyLimit::new(tower::service_fn(|(): ()| op()), LIMIT as usize);
    group.bench_function("tower", |b| {
        iter_async(b, &rt, || limit.clone().oneshot(()));
    });

    let layer = tower_resilience::bulkhead::BulkheadLayer::builder()
        .max_concurrent_calls(LIMIT as usize)
        .build()
        .expect("a limit of 1000 is valid");
    let resilience = tower::Layer::layer(&layer, tower::service_fn(|(): ()| op()));
    group.bench_function("tower-resilience", |b| {
        iter_async(b, &rt, || resilience.clone().oneshot(()));
    });
    group.finish();
}

fn bulkhead_contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("bulkhead_contended");
    let bulkhead = Bulkhead::new(LIMIT).expect("a limit of 1000 is valid");
    group.bench_function("steadfast", |b| iter_contended(b, || bulkhead.call(op)));
    let semaphore = Arc::new(tokio::sync::Semaphore::new(LIMIT as usize));
    group.bench_function("tokio", |b| {
        iter_contended(b, || async {
            let _permit = semaphore.acquire().await.expect("never closed");
            op().await
        });
    });
    group.finish();
}

criterion_group!(benches, bulkhead_uncontended, bulkhead_contended);
criterion_main!(benches);
