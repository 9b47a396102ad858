//! Runs one benchmarked case N times, for instruction counting under
//! `valgrind --tool=callgrind` (see `benches/icount.sh`).
//!
//! Instruction counts do not move with machine load, so they back up the
//! criterion ratios on a busy machine: `icount.sh` runs each case twice with
//! different N and reports the difference per call, which cancels start-up.
//!
//! `cargo run --release -p steadfast-benches --bin icount -- CASE N`

use std::hint::black_box;
use std::time::Duration;

use steadfast::retry::{HedgeConfig, Retry};
use steadfast::{Identity, Pipeline, Policy, Timeout};
use steadfast_benches::fixtures::NeverRetry;
use steadfast_benches::{op, runtime};
use tower::ServiceExt;

/// The cases, named `GROUP/ID` as in the criterion benches.
const CASES: &[&str] = &[
    "baseline/bare",
    "timeout_ready/steadfast",
    "timeout_ready/tokio",
    "compose_identity_5/steadfast",
    "compose_identity_5/bare",
    "compose_execute_5/steadfast",
    "retry_first_success/steadfast",
    "retry_first_success/steadfast-no-budget",
    "retry_first_success/tower",
    "retry_hedge_first_wins/steadfast",
    "breaker_closed/steadfast",
    "breaker_closed/steadfast-consecutive",
    "breaker_closed/steadfast-standard",
    "breaker_closed/steadfast-count",
    "breaker_closed/steadfast-time",
    "breaker_closed/steadfast-slow",
    "breaker_closed/steadfast-all",
    "breaker_closed/recloser",
    "breaker_open_reject/steadfast",
    "breaker_open_reject/recloser",
    "ratelimit_direct/steadfast",
    "ratelimit_direct/governor",
    "ratelimit_keyed_10k/steadfast",
    "ratelimit_keyed_10k/governor",
    "cache_hit/steadfast",
    "cache_hit/steadfast_quick_cache",
    "cache_hit/moka",
    "cache_hit/quick_cache",
    "cache_hit_tagged/steadfast",
    "cache_hit_tagged/steadfast_after_invalidation",
    "bulkhead_uncontended/steadfast",
    "fallback_success/steadfast",
    "pipeline_5/steadfast",
    "pipeline_5_parts/timeout",
    "pipeline_5_parts/retry",
    "pipeline_5_parts/breaker",
    "pipeline_5_parts/bulkhead",
    "pipeline_5_parts/ratelimit",
    "pipeline_inner/retry",
    "pipeline_inner/breaker",
    "pipeline_inner/bulkhead",
    "pipeline_inner/ratelimit",
    "tower_http_overhead/bare",
    "tower_http_overhead/steadfast",
    "tower_http_overhead/identity-layer",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(case), Some(n)) = (args.next(), args.next().and_then(|n| n.parse::<u64>().ok()))
    else {
        eprintln!("usage: icount CASE N\ncases: {}", CASES.join(" "));
        std::process::exit(2);
    };
    if ratelimit::run(&case, n) {
        return;
    }
    let rt = runtime();
    if breaker::run(&rt, &case, n) || cache::run(&rt, &case, n) || pipeline::run(&rt, &case, n) {
        return;
    }
    let limit = Duration::from_secs(1);
    let timeout = Timeout::new(limit).expect("a 1 s limit is valid");
    let pipeline = Pipeline::new(Identity)
        .then(Identity)
        .then(Identity)
        .then(Identity)
        .then(Identity);
    let noops = steadfast_benches::fixtures::noop_5();
    let retry = Retry::default();
    let retry_no_budget = Retry::builder()
        .no_budget()
        .build()
        .expect("a valid retry config");
    let tower_retry = tower::retry::Retry::new(NeverRetry, tower::service_fn(|(): ()| op()));
    let hedged = Retry::builder()
        .hedging(HedgeConfig::delayed(Duration::from_millis(50)))
        .build()
        .expect("a valid hedging config");
    // As in `benches/benches/bulkhead.rs` and `benches/benches/degrade.rs`.
    let bulkhead = steadfast::bulkhead::Bulkhead::new(1_000).expect("a limit of 1000 is valid");
    let fallback = steadfast::degrade::Fallback::from_fn(
        |_: steadfast::Error<steadfast_benches::BenchError>| 0u64,
    );
    rt.block_on(async {
        match case.as_str() {
            "baseline/bare" | "compose_identity_5/bare" => {
                for _ in 0..n {
                    black_box(op().await).ok();
                }
            }
            "timeout_ready/steadfast" => {
                for _ in 0..n {
                    black_box(timeout.call(op).await).ok();
                }
            }
            "timeout_ready/tokio" => {
                for _ in 0..n {
                    black_box(tokio::time::timeout(black_box(limit), op()).await).ok();
                }
            }
            "compose_identity_5/steadfast" => {
                for _ in 0..n {
                    black_box(pipeline.call(op).await).ok();
                }
            }
            "compose_execute_5/steadfast" => {
                for _ in 0..n {
                    black_box(noops.call(op).await).ok();
                }
            }
            "retry_first_success/steadfast" => {
                for _ in 0..n {
                    black_box(retry.call(op).await).ok();
                }
            }
            "retry_first_success/steadfast-no-budget" => {
                for _ in 0..n {
                    black_box(retry_no_budget.call(op).await).ok();
                }
            }
            "retry_first_success/tower" => {
                for _ in 0..n {
                    black_box(tower_retry.clone().oneshot(()).await).ok();
                }
            }
            "retry_hedge_first_wins/steadfast" => {
                for _ in 0..n {
                    black_box(hedged.call(op).await).ok();
                }
            }
            "bulkhead_uncontended/steadfast" => {
                for _ in 0..n {
                    black_box(bulkhead.call(op).await).ok();
                }
            }
            "fallback_success/steadfast" => {
                for _ in 0..n {
                    black_box(fallback.call(op).await).ok();
                }
            }
            other => {
                eprintln!("unknown case {other}; cases: {}", CASES.join(" "));
                std::process::exit(2);
            }
        }
    });
}

/// The breaker cases, built as in `benches/benches/breaker.rs`.
mod breaker {
    use std::hint::black_box;
    use std::time::Duration;

    use steadfast::Policy;
    use steadfast_benches::fixtures::{closed_breaker, open_breaker};
    use steadfast_benches::{BenchError, op};

    fn fail() -> std::future::Ready<Result<u64, BenchError>> {
        std::future::ready(Err(BenchError))
    }

    /// Runs `case` `n` times if it is a breaker case; returns whether it was.
    pub(super) fn run(rt: &tokio::runtime::Runtime, case: &str, n: u64) -> bool {
        let Some((group, id)) = case.split_once('/') else {
            return false;
        };
        match (group, id) {
            ("breaker_closed", "recloser") => {
                let recloser = recloser::AsyncRecloser::from(recloser::Recloser::default());
                rt.block_on(async {
                    for _ in 0..n {
                        black_box(recloser.call(op()).await).ok();
                    }
                });
            }
            ("breaker_closed", id) => {
                let Some(breaker) = closed_breaker(id) else {
                    return false;
                };
                rt.block_on(async {
                    for _ in 0..n {
                        black_box(breaker.call(op).await).ok();
                    }
                });
            }
            ("breaker_open_reject", "steadfast") => {
                let breaker = open_breaker(rt);
                rt.block_on(async {
                    for _ in 0..n {
                        black_box(breaker.call(op).await).ok();
                    }
                });
            }
            ("breaker_open_reject", "recloser") => {
                let recloser = recloser::AsyncRecloser::from(
                    recloser::Recloser::custom()
                        .closed_len(1)
                        .open_wait(Duration::from_secs(3_600))
                        .build(),
                );
                rt.block_on(async {
                    for _ in 0..20 {
                        let _ = recloser.call(fail()).await;
                    }
                    assert!(recloser.call(op()).await.is_err(), "recloser is open");
                    for _ in 0..n {
                        black_box(recloser.call(op()).await).ok();
                    }
                });
            }
            _ => return false,
        }
        true
    }
}

/// The rate limiter cases, built as in `benches/benches/ratelimit.rs`
/// (outside any runtime, as criterion builds them).
mod ratelimit {
    use std::hint::black_box;
    use std::num::NonZeroU32;

    use governor::{Quota as GovQuota, RateLimiter as GovLimiter};
    use steadfast::ratelimit::{KeyedRateLimiter, Quota, RateLimiter};

    const KEYS: u64 = 10_000;
    const RATE: u32 = 100;

    fn steadfast_quota() -> Quota {
        Quota::per_second(RATE).burst(u32::MAX)
    }

    fn governor_quota() -> GovQuota {
        GovQuota::per_second(NonZeroU32::new(RATE).expect("non-zero")).allow_burst(NonZeroU32::MAX)
    }

    /// Runs `case` `n` times if it is a rate limiter case; returns whether it was.
    pub(super) fn run(case: &str, n: u64) -> bool {
        match case {
            "ratelimit_direct/steadfast" => {
                let ours = RateLimiter::new(steadfast_quota()).expect("a valid quota");
                for _ in 0..n {
                    black_box(ours.check()).ok();
                }
            }
            "ratelimit_direct/governor" => {
                let theirs = GovLimiter::direct(governor_quota());
                for _ in 0..n {
                    black_box(theirs.check()).ok();
                }
            }
            "ratelimit_keyed_10k/steadfast" => {
                let ours = KeyedRateLimiter::<u64>::new(steadfast_quota()).expect("a valid quota");
                for key in 0..KEYS {
                    ours.check(&key).expect("admitted");
                }
                let mut key = 0;
                for _ in 0..n {
                    key = (key + 1) % KEYS;
                    black_box(ours.check(black_box(&key))).ok();
                }
            }
            "ratelimit_keyed_10k/governor" => {
                let theirs = GovLimiter::keyed(governor_quota());
                for key in 0..KEYS {
                    theirs.check_key(&key).expect("admitted");
                }
                let mut key = 0;
                for _ in 0..n {
                    key = (key + 1) % KEYS;
                    black_box(theirs.check_key(black_box(&key))).ok();
                }
            }
            _ => return false,
        }
        true
    }
}

/// The cache cases, built as in `benches/benches/cache.rs`.
mod cache {
    use std::cell::Cell;
    use std::hint::black_box;
    use std::sync::Arc;

    use steadfast::cache::{MokaStore, QuickCacheStore};
    use steadfast_benches::cache::{moka_raw, next_key, ours, quick_cache_raw};

    /// Runs `case` `n` times if it is a cache case; returns whether it was.
    pub(super) fn run(rt: &tokio::runtime::Runtime, case: &str, n: u64) -> bool {
        let counter = Cell::new(0);
        match case {
            "cache_hit/steadfast"
            | "cache_hit_tagged/steadfast"
            | "cache_hit_tagged/steadfast_after_invalidation" => {
                let cache =
                    ours::<MokaStore<u64, Arc<u64>>>(rt, case.starts_with("cache_hit_tagged"));
                if case.ends_with("after_invalidation") {
                    cache.invalidate_tag("unrelated");
                }
                rt.block_on(async {
                    for _ in 0..n {
                        black_box(cache.get(&next_key(&counter)).await);
                    }
                });
            }
            "cache_hit/steadfast_quick_cache" => {
                let cache = ours::<QuickCacheStore<u64, Arc<u64>>>(rt, false);
                rt.block_on(async {
                    for _ in 0..n {
                        black_box(cache.get(&next_key(&counter)).await);
                    }
                });
            }
            "cache_hit/moka" => {
                let cache = moka_raw(rt);
                rt.block_on(async {
                    for _ in 0..n {
                        black_box(cache.get(&next_key(&counter)).await);
                    }
                });
            }
            "cache_hit/quick_cache" => {
                let cache = quick_cache_raw();
                rt.block_on(async {
                    for _ in 0..n {
                        black_box(cache.get(&next_key(&counter)));
                    }
                });
            }
            _ => return false,
        }
        true
    }
}

/// The `pipeline_5` cases, and `pipeline_inner/X`: a timeout around X, whose
/// count less `pipeline_5_parts/timeout` is what X costs inside a pipeline.
mod pipeline {
    use std::hint::black_box;

    use steadfast::breaker::Breaker;
    use steadfast::retry::Retry;
    use steadfast::tower::http::HttpPolicyLayer;
    use steadfast::{Pipeline, Policy};
    use steadfast_benches::pipeline::{bulkhead, limiter, pipeline, timeout};
    use tower::ServiceExt;

    fn route() -> axum::Router {
        axum::Router::new().route("/", axum::routing::get(|| async { "ok" }))
    }

    fn http(rt: &tokio::runtime::Runtime, router: &axum::Router, n: u64) {
        rt.block_on(async {
            for _ in 0..n {
                let request = http::Request::get("/")
                    .body(axum::body::Body::empty())
                    .expect("a valid request");
                black_box(router.clone().oneshot(request).await.map(|r| r.status())).ok();
            }
        });
    }
    use steadfast_benches::{BenchError, op};

    fn repeat<P: Policy<u64, BenchError>>(rt: &tokio::runtime::Runtime, policy: &P, n: u64) {
        rt.block_on(async {
            for _ in 0..n {
                black_box(policy.call(op).await).ok();
            }
        });
    }

    /// Runs `case` `n` times if it is a pipeline case; returns whether it was.
    pub(super) fn run(rt: &tokio::runtime::Runtime, case: &str, n: u64) -> bool {
        match case {
            "pipeline_5/steadfast" => repeat(rt, &pipeline(), n),
            "pipeline_5_parts/timeout" => repeat(rt, &timeout(), n),
            "pipeline_5_parts/retry" => repeat(rt, &Retry::default(), n),
            "pipeline_5_parts/breaker" => repeat(rt, &Breaker::new(), n),
            "pipeline_5_parts/bulkhead" => repeat(rt, &bulkhead(), n),
            "pipeline_5_parts/ratelimit" => repeat(rt, &limiter(), n),
            "pipeline_inner/retry" => {
                repeat(rt, &Pipeline::new(timeout()).then(Retry::default()), n);
            }
            "pipeline_inner/breaker" => {
                repeat(rt, &Pipeline::new(timeout()).then(Breaker::new()), n);
            }
            "pipeline_inner/bulkhead" => repeat(rt, &Pipeline::new(timeout()).then(bulkhead()), n),
            "pipeline_inner/ratelimit" => repeat(rt, &Pipeline::new(timeout()).then(limiter()), n),
            "tower_http_overhead/bare" => http(rt, &route(), n),
            "tower_http_overhead/identity-layer" => {
                http(rt, &route().layer(tower::layer::util::Identity::new()), n);
            }
            "tower_http_overhead/steadfast" => http(
                rt,
                &route().layer(HttpPolicyLayer::new(
                    Pipeline::new(limiter()).then(Breaker::new()),
                )),
                n,
            ),
            _ => return false,
        }
        true
    }
}
