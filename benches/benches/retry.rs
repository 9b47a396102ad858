//! Retry: a first attempt that succeeds, through steadfast and its peers; and
//! a hedged call whose first attempt wins before the hedge delay.
//!
//! `cargo bench -p steadfast-benches --bench retry -- --warm-up-time 1 --measurement-time 3`
//!
//! Every case awaits the same `steadfast_benches::op`. Each peer is set up
//! as its users would: three attempts and exponential backoff, with a budget
//! where the crate has one on by default (steadfast). tower's `Retry` runs
//! with a policy that never retries, its cheapest form.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use steadfast::Policy;
use steadfast::retry::{HedgeConfig, Retry};
use steadfast_benches::fixtures::NeverRetry;
use steadfast_benches::{BenchError, iter_async, op, runtime};
use tower::ServiceExt;

fn retry_first_success(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("retry_first_success");

    // Defaults: 3 attempts, exponential backoff with full jitter, budget on.
    let retry = Retry::default();
    group.bench_function("steadfast", |b| iter_async(b, &rt, || retry.call(op)));

    group.bench_function("backon", |b| {
        use backon::{ExponentialBuilder, Retryable};
        let backoff = ExponentialBuilder::default().with_max_times(2);
        iter_async(b, &rt, || op.retry(backoff));
    });

    let tower_retry = tower::retry::Retry::new(NeverRetry, tower::service_fn(|(): ()| op()));
    group.bench_function("tower", |b| {
        iter_async(b, &rt, || tower_retry.clone().oneshot(()));
    });

    let layer = tower_resilience::retry::RetryLayer::<(), u64, BenchError>::builder()
        .max_attempts(3)
        .exponential_backoff(Duration::from_millis(100))
        .build();
    let resilience = tower::Layer::layer(&layer, tower::service_fn(|(): ()| op()));
    group.bench_function("tower-resilience", |b| {
        iter_async(b, &rt, || resilience.clone().oneshot(()));
    });

    let policy = execution_policy::ExecutionPolicyBuilder::<u64, BenchError>::new()
        .retry(execution_policy::Retry::exponential().max_attempts(3))
        .build();
    group.bench_function("execution-policy", |b| {
        iter_async(b, &rt, || policy.run(async || op().await));
    });
    group.finish();
}

fn retry_hedge_first_wins(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("retry_hedge_first_wins");
    let hedged = Retry::builder()
        .hedging(HedgeConfig::delayed(Duration::from_millis(50)))
        .build()
        .expect("a valid hedging config");
    group.bench_function("steadfast", |b| iter_async(b, &rt, || hedged.call(op)));
    group.bench_function("bare", |b| iter_async(b, &rt, op));
    group.finish();
}

criterion_group!(benches, retry_first_success, retry_hedge_first_wins);
criterion_main!(benches);
