//! Ratios of a steadfast case to its peer, timed in alternation, so that the
//! machine's drift hits both sides alike.
//!
//! criterion measures one case for seconds, then the next. On a shared VM
//! the speed of the machine drifts by tens of percent over such spans (the
//! same binary's `compose_identity_5/bare` has measured 1.7 ns in one minute
//! and 2.5 ns in the next), so a ratio of two medians taken seconds apart
//! carries that drift. Here each round times the two cases back to back for
//! about `MS` milliseconds each (alternating which goes first) with the same
//! loop as the criterion benches, and the figure is the median of the
//! per-round ratios, with its spread.
//!
//! `cargo run --release -p steadfast-benches --bin paired -- [FILTER] [ROUNDS]`
//!
//! prints `GROUP STEADFAST_ID/PEER_ID ratio=MEDIAN (p10 P10, p90 P90)
//! steadfast=NS peer=NS`, for every pair whose name contains FILTER.

// Iteration counts and nanoseconds here stay far below 2^52.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::cell::Cell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use steadfast::cache::MokaStore;
use steadfast::retry::Retry;
use steadfast::{Identity, Pipeline, Policy, Timeout};
use steadfast_benches::cache::{moka_raw, next_key, ours};
use steadfast_benches::fixtures::{BREAKER_MODES, NeverRetry, closed_breaker, open_breaker};
use steadfast_benches::{op, runtime, time_async};
use tower::ServiceExt;

/// Milliseconds per case per round.
const MS: u64 = 25;
/// Rounds unless told.
const ROUNDS: usize = 40;

/// Which pairs to run, and how many rounds.
struct Run {
    filter: String,
    rounds: usize,
}

impl Run {
    /// Times `ours` and `peer` in alternating rounds and prints the ratio.
    /// Each is `|iters| time taken`, built like the criterion benches' loops
    /// (fixtures are locals the closures borrow), so both harnesses run the
    /// same code.
    fn pair(
        &self,
        name: &str,
        mut ours: impl FnMut(u64) -> Duration,
        mut peer: impl FnMut(u64) -> Duration,
    ) {
        if !name.contains(&self.filter) {
            return;
        }
        let (ours_iters, peer_iters) = (calibrate(&mut ours), calibrate(&mut peer));
        let (mut ratios, mut ours_ns, mut peer_ns) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..self.rounds {
            let (o, p) = if round % 2 == 0 {
                let o = nanos(ours(ours_iters), ours_iters);
                (o, nanos(peer(peer_iters), peer_iters))
            } else {
                let p = nanos(peer(peer_iters), peer_iters);
                (nanos(ours(ours_iters), ours_iters), p)
            };
            ratios.push(o / p);
            ours_ns.push(o);
            peer_ns.push(p);
        }
        let (ratios, ours_ns, peer_ns) = (sorted(ratios), sorted(ours_ns), sorted(peer_ns));
        println!(
            "{name} ratio={:.3} (p10 {:.3}, p90 {:.3}) steadfast={:.2}ns peer={:.2}ns",
            quantile(&ratios, 0.5),
            quantile(&ratios, 0.1),
            quantile(&ratios, 0.9),
            quantile(&ours_ns, 0.5),
            quantile(&peer_ns, 0.5),
        );
    }
}

/// Iterations that take about `MS` milliseconds.
fn calibrate(case: &mut impl FnMut(u64) -> Duration) -> u64 {
    let mut iters = 1_000;
    loop {
        let took = case(iters);
        if took >= Duration::from_millis(MS / 5) {
            let per = took.as_secs_f64() / iters as f64;
            return ((MS as f64 / 1_000.0) / per).max(1.0) as u64;
        }
        iters *= 4;
    }
}

fn nanos(took: Duration, iters: u64) -> f64 {
    took.as_secs_f64() * 1e9 / iters as f64
}

/// The value at quantile `q` of sorted `values`.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index]
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

fn main() {
    let mut args = std::env::args().skip(1);
    let run = Run {
        filter: args.next().unwrap_or_default(),
        rounds: args.next().and_then(|r| r.parse().ok()).unwrap_or(ROUNDS),
    };
    let rt = runtime();

    pipeline_pairs(&run, &rt);

    let retry = Retry::default();
    let tower_retry = tower::retry::Retry::new(NeverRetry, tower::service_fn(|(): ()| op()));
    run.pair(
        "retry_first_success steadfast/tower",
        |n| time_async(&rt, n, || retry.call(op)),
        |n| time_async(&rt, n, || tower_retry.clone().oneshot(())),
    );

    let pipeline = Pipeline::new(Identity)
        .then(Identity)
        .then(Identity)
        .then(Identity)
        .then(Identity);
    run.pair(
        "compose_identity_5 steadfast/bare",
        |n| time_async(&rt, n, || pipeline.call(op)),
        |n| time_async(&rt, n, op),
    );
    let noops = steadfast_benches::fixtures::noop_5();
    run.pair(
        "compose_execute_5 steadfast/bare",
        |n| time_async(&rt, n, || noops.call(op)),
        |n| time_async(&rt, n, op),
    );

    let timeout = Timeout::new(Duration::from_secs(1)).expect("a valid limit");
    run.pair(
        "timeout_ready steadfast/tokio",
        |n| time_async(&rt, n, || timeout.call(op)),
        |n| {
            time_async(&rt, n, || {
                tokio::time::timeout(black_box(Duration::from_secs(1)), op())
            })
        },
    );

    let recloser = recloser::AsyncRecloser::from(recloser::Recloser::default());
    for id in BREAKER_MODES {
        let breaker = closed_breaker(id).expect("a known id");
        run.pair(
            &format!("breaker_closed {id}/recloser"),
            |n| time_async(&rt, n, || breaker.call(op)),
            |n| time_async(&rt, n, || recloser.call(op())),
        );
    }

    // The target: a refusal costs no more than the breaker's closed call.
    let open = open_breaker(&rt);
    let closed = closed_breaker("steadfast").expect("a known id");
    run.pair(
        "breaker_open_reject steadfast/breaker_closed steadfast",
        |n| time_async(&rt, n, || open.call(op)),
        |n| time_async(&rt, n, || closed.call(op)),
    );

    // Filling the caches takes a while: only when a cache pair is asked for.
    let cache_pairs = [
        "cache_hit steadfast/moka",
        "cache_hit_tagged steadfast/moka",
    ];
    if cache_pairs.iter().any(|name| name.contains(&run.filter)) {
        let moka = moka_raw(&rt);
        for (group, tagged) in [("cache_hit", false), ("cache_hit_tagged", true)] {
            let cache = ours::<MokaStore<u64, Arc<u64>>>(&rt, tagged);
            let (ours_keys, moka_keys) = (Cell::new(0), Cell::new(0));
            run.pair(
                &format!("{group} steadfast/moka"),
                |n| {
                    time_async(&rt, n, || {
                        let key = next_key(&ours_keys);
                        let cache = &cache;
                        async move { cache.get(&key).await }
                    })
                },
                |n| {
                    time_async(&rt, n, || {
                        let key = next_key(&moka_keys);
                        let moka = &moka;
                        async move { moka.get(&key).await }
                    })
                },
            );
        }
    }
}

/// `pipeline_5`: the direct pipeline and the same pipeline as one tower
/// service, each against tower-resilience's five layers and tower's own.
fn pipeline_pairs(run: &Run, rt: &tokio::runtime::Runtime) {
    use steadfast::tower::PolicyLayer;
    use steadfast_benches::pipeline::{pipeline, ready_call, tower_own, tower_resilience};
    use tower::Layer;

    let direct = pipeline();
    let mut layered = PolicyLayer::new(pipeline()).layer(tower::service_fn(|(): ()| op()));
    let mut resilience = rt.block_on(async { tower_resilience() });
    let mut own = rt.block_on(async { tower_own() });
    let resilience = std::cell::RefCell::new(&mut resilience);
    run.pair(
        "pipeline_5 steadfast/tower-resilience",
        |n| time_async(rt, n, || direct.call(op)),
        |n| time_async(rt, n, || ready_call(&mut **resilience.borrow_mut())),
    );
    run.pair(
        "pipeline_5 steadfast-tower/tower-resilience",
        |n| time_async(rt, n, || ready_call(&mut layered)),
        |n| time_async(rt, n, || ready_call(&mut **resilience.borrow_mut())),
    );
    run.pair(
        "pipeline_5 steadfast/tower",
        |n| time_async(rt, n, || direct.call(op)),
        |n| time_async(rt, n, || ready_call(&mut own)),
    );

    // The pipeline and each of its policies alone, each against the bare op
    // in alternation: what each adds, to set the pipeline against the sum.
    run.pair(
        "pipeline_5_parts pipeline/bare",
        |n| time_async(rt, n, || direct.call(op)),
        |n| time_async(rt, n, op),
    );
    let timeout = steadfast_benches::pipeline::timeout();
    run.pair(
        "pipeline_5_parts timeout/bare",
        |n| time_async(rt, n, || timeout.call(op)),
        |n| time_async(rt, n, op),
    );
    let retry = Retry::default();
    run.pair(
        "pipeline_5_parts retry/bare",
        |n| time_async(rt, n, || retry.call(op)),
        |n| time_async(rt, n, op),
    );
    let breaker = steadfast::breaker::Breaker::new();
    run.pair(
        "pipeline_5_parts breaker/bare",
        |n| time_async(rt, n, || breaker.call(op)),
        |n| time_async(rt, n, op),
    );
    let bulkhead = steadfast_benches::pipeline::bulkhead();
    run.pair(
        "pipeline_5_parts bulkhead/bare",
        |n| time_async(rt, n, || bulkhead.call(op)),
        |n| time_async(rt, n, op),
    );
    let limiter = steadfast_benches::pipeline::limiter();
    run.pair(
        "pipeline_5_parts ratelimit/bare",
        |n| time_async(rt, n, || limiter.call(op)),
        |n| time_async(rt, n, op),
    );
}
