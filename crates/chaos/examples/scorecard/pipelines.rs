//! The scenario and the pipelines the scorecard compares; the example and
//! the crate's scorecard tests share them.

use std::sync::Arc;
use std::time::Duration;

use steadfast_breaker::Breaker;
use steadfast_bulkhead::{Bulkhead, GradientConfig};
use steadfast_cache::{Cache, FetchOptions};
use steadfast_chaos::sim::{
    self, Answer, Arrivals, Condition, Dependency, DependencyError, DependencySpec, Phase, Report,
    Scenario,
};
use steadfast_core::{Pipeline, Policy, Timeout};
use steadfast_retry::{Backoff, Jitter, Retry};

/// How long one attempt may take before the client's code gives up on it.
pub(crate) const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(100);
/// How long the breakers stay open.
pub(crate) const BREAKER_OPEN: Duration = Duration::from_secs(5);

/// The pipelines, in the scorecard's order.
pub(crate) const PIPELINES: [&str; 6] = [
    "no policy",
    "naive retry",
    "steadfast retry",
    "retry + breaker",
    "cache + fallback",
    "adaptive concurrency",
];

/// The scripted run. `scale` multiplies the rates and the dependency's
/// capacity (1 for the published scorecard, smaller for tests); the phases
/// and every ratio stay the same.
pub(crate) fn scenario(scale: f64, seed: u64) -> Scenario {
    let s = |secs: u64| Duration::from_secs(secs);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let capacity = (50.0 * scale).round().max(1.0) as usize;
    Scenario {
        // 50 servers × 20 ms: 2,500 requests a second at most.
        dependency: DependencySpec {
            capacity,
            service_time: Duration::from_millis(20),
            queue: capacity * 10,
        },
        // 60 % of the dependency's throughput.
        arrivals: Arrivals::Poisson {
            per_second: 1_500.0 * scale,
        },
        client_timeout: Duration::from_secs(1),
        keys: 100,
        phases: vec![
            Phase::new("healthy", s(10), Condition::Healthy),
            Phase::new("total outage", s(10), Condition::Outage),
            Phase::new("after the outage", s(15), Condition::Healthy),
            Phase::new("50 % errors", s(10), Condition::Errors(0.5)),
            Phase::new("after the errors", s(10), Condition::Healthy),
            Phase::new("latency × 10", s(10), Condition::Slow(10.0)),
            Phase::new("after the latency", s(15), Condition::Healthy),
            Phase::new("capacity halved", s(10), Condition::Capacity(0.5)),
            Phase::new("after the capacity loss", s(15), Condition::Healthy),
        ],
        seed,
        bucket: Duration::from_secs(1),
    }
}

fn attempt_timeout() -> Timeout {
    Timeout::new(ATTEMPT_TIMEOUT).expect("a positive timeout")
}

fn breaker(seed: u64) -> Breaker {
    Breaker::builder()
        .name("dependency")
        .consecutive_failures(10)
        .open_for(BREAKER_OPEN)
        .jitter_seed(seed)
        .build()
        .expect("a valid breaker")
}

fn steadfast_retry(seed: u64) -> Retry {
    Retry::builder()
        .seed(seed)
        .build()
        .expect("the default retry")
}

/// Runs `pipeline` (a policy around one call of the dependency) through
/// `scenario`.
async fn through<P>(scenario: &Scenario, pipeline: P) -> Report
where
    P: Policy<(), DependencyError> + Clone + 'static,
{
    sim::run(scenario, move |dependency: Dependency, _key| {
        let pipeline = pipeline.clone();
        async move {
            pipeline
                .call(|| dependency.call())
                .await
                .ok()
                .map(|()| Answer::Fresh)
        }
    })
    .await
}

/// One pipeline's run, by its name in [`PIPELINES`].
pub(crate) async fn run(name: &str, scenario: &Scenario) -> Report {
    let seed = scenario.seed;
    match name {
        "no policy" => {
            sim::run(scenario, |dependency: Dependency, _key| async move {
                dependency.call().await.ok().map(|()| Answer::Fresh)
            })
            .await
        }
        "naive retry" => {
            // Three attempts at once, no budget, no backoff, no jitter.
            let retry = Retry::builder()
                .max_attempts(3)
                .backoff(Backoff::constant(Duration::ZERO).with_jitter(Jitter::None))
                .no_budget()
                .build()
                .expect("a valid retry");
            through(scenario, Pipeline::new(retry).then(attempt_timeout())).await
        }
        "steadfast retry" => {
            let pipeline = Pipeline::new(steadfast_retry(seed)).then(attempt_timeout());
            through(scenario, pipeline).await
        }
        "retry + breaker" => {
            let pipeline = Pipeline::new(steadfast_retry(seed))
                .then(breaker(seed))
                .then(attempt_timeout());
            through(scenario, pipeline).await
        }
        "cache + fallback" => cached(scenario).await,
        "adaptive concurrency" => {
            // The limit follows the dependency's latency; calls past it
            // wait at most 20 ms, then are shed.
            let bulkhead = Bulkhead::builder()
                .name("dependency")
                .adaptive(GradientConfig::new(1, 200))
                .max_queued(50)
                .max_wait(Duration::from_millis(20))
                .build()
                .expect("a valid bulkhead");
            through(scenario, Pipeline::new(bulkhead).then(attempt_timeout())).await
        }
        other => panic!("no pipeline named {other:?}"),
    }
}

/// The full pipeline: a cache (fresh 5 s, fail-safe for an hour, stale
/// values served when the breaker refuses) in front of retry + breaker +
/// timeout, and a fallback answer when nothing else can.
async fn cached(scenario: &Scenario) -> Report {
    let seed = scenario.seed;
    let cache: Cache<u64, u64, DependencyError> = Cache::builder()
        .name("catalogue")
        .fresh_for(Duration::from_secs(5))
        .fail_safe(Duration::from_secs(3_600), Duration::from_secs(1))
        .degrade_on_rejection(true)
        .build()
        .expect("a valid cache");
    let inner = Pipeline::new(steadfast_retry(seed))
        .then(breaker(seed))
        .then(attempt_timeout());
    let (cache, inner) = (Arc::new(cache), Arc::new(inner));
    sim::run(scenario, move |dependency: Dependency, key| {
        let (cache, inner) = (Arc::clone(&cache), Arc::clone(&inner));
        async move {
            let fetch = move || {
                let dependency = dependency.clone();
                async move { dependency.call().await.map(|()| key) }
            };
            match cache
                .get_or_fetch_through(&key, FetchOptions::new(), &*inner, fetch)
                .await
            {
                Ok(value) if value.is_stale() => Some(Answer::Degraded),
                Ok(_) => Some(Answer::Fresh),
                // The last resort: "temporarily unavailable, try again soon".
                Err(_) => Some(Answer::Fallback),
            }
        }
    })
    .await
}
