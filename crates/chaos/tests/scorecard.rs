//! The scorecard's claims, asserted on its deterministic runs (a smaller
//! scale than the published table: the same phases and ratios).

#[path = "../examples/scorecard/pipelines.rs"]
#[allow(dead_code)]
mod pipelines;

use std::time::Duration;

use steadfast_chaos::sim::Report;

async fn report(name: &str) -> Report {
    pipelines::run(name, &pipelines::scenario(0.1, 1)).await
}

#[tokio::test(start_paused = true)]
async fn steadfasts_default_retry_adds_nothing_in_a_total_outage_and_naive_retry_triples() {
    let naive = report("naive retry").await;
    let ours = report("steadfast retry").await;
    let outage = |r: &Report| r.phase("total outage").unwrap().amplification();
    assert!(outage(&ours) <= 1.1, "{}", outage(&ours));
    assert!(outage(&naive) >= 2.9, "{}", outage(&naive));
}

#[tokio::test(start_paused = true)]
async fn naive_retry_stays_down_after_an_overload_and_steadfast_pipelines_recover_within_one_open_period()
 {
    let naive = report("naive retry").await;
    for phase in ["after the latency", "after the capacity loss"] {
        assert_eq!(naive.phase(phase).unwrap().recover, None, "{phase}");
        assert!(naive.phase(phase).unwrap().error_rate() > 0.9, "{phase}");
    }
    for name in ["steadfast retry", "retry + breaker", "cache + fallback"] {
        let ours = report(name).await;
        for phase in [
            "after the outage",
            "after the latency",
            "after the capacity loss",
        ] {
            let recovered = ours.phase(phase).unwrap().recover;
            assert!(
                recovered.is_some_and(|t| t <= pipelines::BREAKER_OPEN),
                "{name}, {phase}: {recovered:?}"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_full_pipeline_with_a_warm_cache_keeps_errors_under_one_percent_through_an_outage() {
    let full = report("cache + fallback").await;
    let outage = full.phase("total outage").unwrap();
    assert!(outage.error_rate() < 0.01, "{}", outage.error_rate());
    assert!(outage.degraded > 0, "stale values served");
    // And the dependency is spared: the cache and the breaker answer.
    assert!(outage.amplification() < 0.1, "{}", outage.amplification());
}

#[tokio::test(start_paused = true)]
async fn the_same_seed_replays_the_same_figures() {
    let (a, b) = (
        report("retry + breaker").await,
        report("retry + breaker").await,
    );
    assert_eq!(a, b);
    assert!(a.phase("healthy").unwrap().p99 > Duration::ZERO);
}
