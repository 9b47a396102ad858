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
    bulkhead(&rt);
    degrade(&rt);
    retry(&rt);
    ratelimit(&rt);
    breaker(&rt);
    cache(&rt);
    pipeline(&rt);

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
    let noops = steadfast_benches::fixtures::noop_5();
    report(
        "compose_execute_5/steadfast",
        allocs_per_call(&rt, CALLS, || noops.call(op)),
    );

    // Not a hot path: shown so the counter is seen to count (the erased
    // pipeline allocates its future and its erased continuation).
    // The owned call: one allocation, the `Arc` it shares with background calls.
    report(
        "compose_identity_5_owned/steadfast",
        allocs_per_call(&rt, CALLS, || pipeline.call_owned(op)),
    );
    let boxed = pipeline.boxed::<u64, steadfast_benches::BenchError>();
    report(
        "compose_identity_5_boxed/steadfast",
        allocs_per_call(&rt, CALLS, || boxed.call(op)),
    );
}

/// The bulkhead cases of `benches/benches/bulkhead.rs`.
fn bulkhead(rt: &tokio::runtime::Runtime) {
    use steadfast::bulkhead::Bulkhead;
    let bulkhead = Bulkhead::new(1_000).expect("a limit of 1000 is valid");
    report(
        "bulkhead_uncontended/steadfast",
        allocs_per_call(rt, CALLS, || bulkhead.call(op)),
    );
    let semaphore = tokio::sync::Semaphore::new(1_000);
    report(
        "bulkhead_uncontended/tokio",
        allocs_per_call(rt, CALLS, || async {
            let _permit = semaphore.acquire().await.expect("never closed");
            op().await
        }),
    );
}

/// The retry cases of `benches/benches/retry.rs`.
fn retry(rt: &tokio::runtime::Runtime) {
    use steadfast::retry::{HedgeConfig, Retry};
    use steadfast_benches::BenchError;
    use tower::ServiceExt;

    #[derive(Clone, Copy)]
    struct NeverRetry;
    impl<Req: Clone, Res, E> tower::retry::Policy<Req, Res, E> for NeverRetry {
        type Future = std::future::Ready<()>;
        fn retry(&mut self, _: &mut Req, _: &mut Result<Res, E>) -> Option<Self::Future> {
            None
        }
        fn clone_request(&mut self, req: &Req) -> Option<Req> {
            Some(req.clone())
        }
    }

    let retry = Retry::default();
    report(
        "retry_first_success/steadfast",
        allocs_per_call(rt, CALLS, || retry.call(op)),
    );
    let backoff = backon::ExponentialBuilder::default().with_max_times(2);
    report(
        "retry_first_success/backon",
        allocs_per_call(rt, CALLS, || backon::Retryable::retry(op, backoff)),
    );
    let tower_retry = tower::retry::Retry::new(NeverRetry, tower::service_fn(|(): ()| op()));
    report(
        "retry_first_success/tower",
        allocs_per_call(rt, CALLS, || tower_retry.clone().oneshot(())),
    );
    let layer = tower_resilience::retry::RetryLayer::<(), u64, BenchError>::builder()
        .max_attempts(3)
        .exponential_backoff(Duration::from_millis(100))
        .build();
    let resilience = tower::Layer::layer(&layer, tower::service_fn(|(): ()| op()));
    report(
        "retry_first_success/tower-resilience",
        allocs_per_call(rt, CALLS, || resilience.clone().oneshot(())),
    );
    let policy = execution_policy::ExecutionPolicyBuilder::<u64, BenchError>::new()
        .retry(execution_policy::Retry::exponential().max_attempts(3))
        .build();
    report(
        "retry_first_success/execution-policy",
        allocs_per_call(rt, CALLS, || policy.run(async || op().await)),
    );
    let hedged = Retry::builder()
        .hedging(HedgeConfig::delayed(Duration::from_millis(50)))
        .build()
        .expect("a valid hedging config");
    report(
        "retry_hedge_first_wins/steadfast",
        allocs_per_call(rt, CALLS, || hedged.call(op)),
    );
}

/// The rate limit cases of `benches/benches/ratelimit.rs`, and the heap
/// bytes per tracked key of both keyed limiters with a million `u64` keys.
fn ratelimit(rt: &tokio::runtime::Runtime) {
    use std::num::NonZeroU32;

    use steadfast::Inspect;
    use steadfast::ratelimit::{KeyedRateLimiter, Quota, RateLimiter};

    let quota = Quota::per_second(100).burst(u32::MAX);
    let gov_quota = governor::Quota::per_second(NonZeroU32::new(100).expect("non-zero"))
        .allow_burst(NonZeroU32::MAX);

    let ours = RateLimiter::new(quota).expect("a valid quota");
    report(
        "ratelimit_direct/steadfast",
        allocs_per_call(rt, CALLS, || std::future::ready(ours.check())),
    );
    let theirs = governor::RateLimiter::direct(gov_quota);
    report(
        "ratelimit_direct/governor",
        allocs_per_call(rt, CALLS, || std::future::ready(theirs.check())),
    );

    let keys = 10_000u64;
    let ours = KeyedRateLimiter::<u64>::new(quota).expect("a valid quota");
    let theirs = governor::RateLimiter::keyed(gov_quota);
    for key in 0..keys {
        ours.check(&key).expect("admitted");
        theirs.check_key(&key).expect("admitted");
    }
    let mut key = 0;
    report(
        "ratelimit_keyed_10k/steadfast",
        allocs_per_call(rt, CALLS, || {
            key = (key + 1) % keys;
            std::future::ready(ours.check(&key))
        }),
    );
    report(
        "ratelimit_keyed_10k/governor",
        allocs_per_call(rt, CALLS, || {
            key = (key + 1) % keys;
            std::future::ready(theirs.check_key(&key))
        }),
    );
    let policy = RateLimiter::new(quota).expect("a valid quota");
    report(
        "ratelimit_policy/steadfast",
        allocs_per_call(rt, CALLS, || policy.call(op)),
    );

    // Memory: heap bytes still held after a million distinct keys, per key.
    // A slow quota, so no key is back to full (and forgotten) during the run.
    let quota = Quota::per_hour(1);
    let gov_quota = governor::Quota::per_hour(NonZeroU32::MIN);
    let million = 1_000_000u64;
    let mut ours = None;
    let info = allocation_counter::measure(|| {
        let limiter = KeyedRateLimiter::<u64>::builder(quota)
            .sweep_interval(None)
            .build()
            .expect("a valid quota");
        for key in 0..million {
            limiter.check(&key).expect("admitted");
        }
        ours = Some(limiter);
    });
    let ours = ours.expect("built above");
    bytes_per_key(
        "ratelimit_keyed_memory/steadfast",
        info.bytes_current,
        million,
    );
    println!(
        "ratelimit_keyed_memory/steadfast snapshot_bytes_per_key={:.1}",
        ours.snapshot().bytes_per_key().unwrap_or_default()
    );
    let mut theirs = None;
    let info = allocation_counter::measure(|| {
        let limiter = governor::RateLimiter::keyed(gov_quota);
        for key in 0..million {
            limiter.check_key(&key).expect("admitted");
        }
        theirs = Some(limiter);
    });
    bytes_per_key(
        "ratelimit_keyed_memory/governor",
        info.bytes_current,
        million,
    );
    drop((ours, theirs));
}

#[allow(clippy::cast_precision_loss)]
fn bytes_per_key(case: &str, bytes: i64, keys: u64) {
    println!("{case} bytes_per_key={:.1}", bytes as f64 / keys as f64);
}

/// The breaker cases of `benches/benches/breaker.rs`.
fn breaker(rt: &tokio::runtime::Runtime) {
    use steadfast::breaker::{Breaker, BreakerConfig};
    use tower::ServiceExt;

    let like_recloser = Breaker::builder_from(BreakerConfig::empty())
        .failure_rate_over_calls(0.5, 100, 100)
        .build()
        .expect("a valid rule");
    report(
        "breaker_closed/steadfast",
        allocs_per_call(rt, CALLS, || like_recloser.call(op)),
    );
    let standard = Breaker::from_config(BreakerConfig::standard()).expect("a valid preset");
    report(
        "breaker_closed/steadfast-standard",
        allocs_per_call(rt, CALLS, || standard.call(op)),
    );
    let all = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(5)
        .failure_rate_over_calls(0.5, 100, 20)
        .failure_rate_over_time(0.5, Duration::from_secs(10), 20)
        .slow_calls(Duration::from_secs(1), 0.5, 100, 20)
        .build()
        .expect("valid");
    report(
        "breaker_closed/steadfast-all",
        allocs_per_call(rt, CALLS, || all.call(op)),
    );
    let failsafe = failsafe::Config::new().build();
    report(
        "breaker_closed/failsafe",
        allocs_per_call(rt, CALLS, || {
            use failsafe::futures::CircuitBreaker as _;
            failsafe.call(op())
        }),
    );
    let recloser = recloser::AsyncRecloser::from(recloser::Recloser::default());
    report(
        "breaker_closed/recloser",
        allocs_per_call(rt, CALLS, || recloser.call(op())),
    );
    let layer = tower_resilience::circuitbreaker::CircuitBreakerLayer::builder()
        .build()
        .expect("the default config is valid");
    let resilience = layer.layer_fn(tower::service_fn(|(): ()| op()));
    report(
        "breaker_closed/tower-resilience",
        allocs_per_call(rt, CALLS, || resilience.clone().oneshot(())),
    );

    let open = steadfast_benches::fixtures::open_breaker(rt);
    report(
        "breaker_open_reject/steadfast",
        allocs_per_call(rt, CALLS, || open.call(op)),
    );
}

/// The degrade cases of `benches/benches/degrade.rs`.
fn degrade(rt: &tokio::runtime::Runtime) {
    use steadfast::degrade::Fallback;
    let fallback = Fallback::from_fn(|_: steadfast::Error<steadfast_benches::BenchError>| 0u64);
    report(
        "fallback_success/steadfast",
        allocs_per_call(rt, CALLS, || fallback.call(op)),
    );
    report("fallback_success/bare", allocs_per_call(rt, CALLS, op));
}

/// The cache cases of `benches/benches/cache.rs`: hits on 10,000 filled
/// entries, keys cycling.
fn cache(rt: &tokio::runtime::Runtime) {
    use std::cell::Cell;
    use std::sync::Arc;

    use steadfast::cache::{MokaStore, QuickCacheStore};
    use steadfast_benches::cache::{moka_raw, next_key, ours, quick_cache_raw};

    let counter = Cell::new(0);
    let ours_moka = ours::<MokaStore<u64, Arc<u64>>>(rt, false);
    report(
        "cache_hit/steadfast",
        allocs_per_call(rt, CALLS, || {
            let key = next_key(&counter);
            let cache = &ours_moka;
            async move { cache.get(&key).await.expect("a hit") }
        }),
    );
    drop(ours_moka);
    let ours_quick = ours::<QuickCacheStore<u64, Arc<u64>>>(rt, false);
    report(
        "cache_hit/steadfast_quick_cache",
        allocs_per_call(rt, CALLS, || {
            let key = next_key(&counter);
            let cache = &ours_quick;
            async move { cache.get(&key).await.expect("a hit") }
        }),
    );
    drop(ours_quick);
    let moka = moka_raw(rt);
    report(
        "cache_hit/moka",
        allocs_per_call(rt, CALLS, || {
            let key = next_key(&counter);
            let cache = &moka;
            async move { cache.get(&key).await.expect("a hit") }
        }),
    );
    drop(moka);
    let quick = quick_cache_raw();
    report(
        "cache_hit/quick_cache",
        allocs_per_call(rt, CALLS, || {
            let key = next_key(&counter);
            let cache = &quick;
            async move { cache.get(&key).expect("a hit") }
        }),
    );
    drop(quick);
    let tagged = ours::<MokaStore<u64, Arc<u64>>>(rt, true);
    report(
        "cache_hit_tagged/steadfast",
        allocs_per_call(rt, CALLS, || {
            let key = next_key(&counter);
            let cache = &tagged;
            async move { cache.get(&key).await.expect("a hit") }
        }),
    );
}

/// `pipeline_5` through each way in, and `tower_http_overhead`'s request.
fn pipeline(rt: &tokio::runtime::Runtime) {
    use steadfast::tower::PolicyLayer;
    use steadfast::tower::http::HttpPolicyLayer;
    use steadfast_benches::pipeline::{limiter, pipeline};
    use tower::{Layer, ServiceExt};

    let direct = pipeline();
    report(
        "pipeline_5/steadfast",
        allocs_per_call(rt, CALLS, || direct.call(op)),
    );
    let layered = PolicyLayer::new(pipeline()).layer(tower::service_fn(|(): ()| op()));
    report(
        "pipeline_5/steadfast-tower",
        allocs_per_call(rt, CALLS, || layered.clone().oneshot(())),
    );
    let route = || axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    let get = || {
        http::Request::get("/")
            .body(axum::body::Body::empty())
            .expect("a valid request")
    };
    let bare = route();
    report(
        "tower_http_overhead/bare",
        allocs_per_call(rt, CALLS, || bare.clone().oneshot(get())),
    );
    let identity = route().layer(tower::layer::util::Identity::new());
    report(
        "tower_http_overhead/identity-layer",
        allocs_per_call(rt, CALLS, || identity.clone().oneshot(get())),
    );
    let guarded = route().layer(HttpPolicyLayer::new(
        Pipeline::new(limiter()).then(steadfast::breaker::Breaker::new()),
    ));
    report(
        "tower_http_overhead/steadfast",
        allocs_per_call(rt, CALLS, || guarded.clone().oneshot(get())),
    );
}
