//! Counts heap allocations per call of every benchmarked operation.
//!
//! `cargo run --release -p steadfast-benches --bin allocs` prints one line per
//! case: `GROUP/ID allocs_per_call=N.NN`.

use std::hint::black_box;
use std::time::Duration;

use steadfast::{Identity, Pipeline, Policy, Timeout};
use steadfast_benches::{allocs_per_call, op, runtime};

const CALLS: u64 = 100_000;

fn report(case: &str, allocs: f64) {
    println!("{case} allocs_per_call={allocs:.2}");
}

fn main() {
    let rt = runtime();

    report("baseline/bare", allocs_per_call(&rt, CALLS, op));

    let limit = Duration::from_secs(1);
    let timeout = Timeout::new(limit).expect("a 1 s limit is valid");
    report(
        "timeout_ready/steadfast",
        allocs_per_call(&rt, CALLS, || timeout.call(op)),
    );
    report(
        "timeout_ready/tokio",
        allocs_per_call(&rt, CALLS, || tokio::time::timeout(black_box(limit), op())),
    );

    let pipeline = Pipeline::new(Identity)
        .then(Identity)
        .then(Identity)
        .then(Identity)
        .then(Identity);
    report(
        "compose_identity_5/steadfast",
        allocs_per_call(&rt, CALLS, || pipeline.call(op)),
    );
    report("compose_identity_5/bare", allocs_per_call(&rt, CALLS, op));

    // Not a hot path: shown so the counter is seen to count (the erased
    // pipeline allocates its future and its erased continuation).
    let boxed = pipeline.boxed::<u64, steadfast_benches::BenchError>();
    report(
        "compose_identity_5_boxed/steadfast",
        allocs_per_call(&rt, CALLS, || boxed.call(op)),
    );
}
