//! What an operator's tooling costs: a health report and a Prometheus scrape
//! of 100 registered policies (20 each of breaker, bulkhead, rate limiter,
//! retry and timeout).
//!
//! `cargo bench -p steadfast-benches --bench observe -- --warm-up-time 1 --measurement-time 2`
//!
//! - `observe_health_100`: `Registry::health()`.
//! - `observe_scrape_100`: `Registry::record_metrics()` into a Prometheus
//!   recorder, then its text rendered, as one `/metrics` request does.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use metrics_exporter_prometheus::PrometheusBuilder;
use steadfast::breaker::Breaker;
use steadfast::observe::Registry;
use steadfast::retry::Retry;
use steadfast_benches::pipeline::{bulkhead, limiter, timeout};

fn registry() -> Registry {
    let mut registry = Registry::new();
    for i in 0..20 {
        registry = registry
            .register(format!("breaker-{i}"), Breaker::new())
            .register(format!("bulkhead-{i}"), bulkhead())
            .register(format!("limiter-{i}"), limiter())
            .register(format!("retry-{i}"), Retry::default())
            .register(format!("timeout-{i}"), timeout());
    }
    registry
}

fn observe(c: &mut Criterion) {
    let registry = registry();
    assert_eq!(registry.len(), 100);
    c.benchmark_group("observe_health_100")
        .bench_function("steadfast", |b| b.iter(|| black_box(registry.health())));

    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    c.benchmark_group("observe_scrape_100")
        .bench_function("steadfast", |b| {
            b.iter(|| {
                metrics::with_local_recorder(&recorder, || registry.record_metrics());
                black_box(handle.render())
            });
        });
}

criterion_group!(benches, observe);
criterion_main!(benches);
