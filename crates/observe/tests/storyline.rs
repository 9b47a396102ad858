//! A scripted storyline on the paused clock, then the health report and a
//! Prometheus scrape, asserted exactly.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use metrics_exporter_prometheus::PrometheusBuilder;
use steadfast_breaker::{Breaker, BreakerConfig};
use steadfast_bulkhead::Bulkhead;
use steadfast_cache::Cache;
use steadfast_core::Policy;
use steadfast_observe::{Registry, Status};
use steadfast_ratelimit::{Quota, RateLimiter};
use tower::ServiceExt;

fn fail() -> std::future::Ready<Result<u8, std::io::Error>> {
    std::future::ready(Err(std::io::Error::other("down")))
}

fn ok() -> std::future::Ready<Result<u8, std::io::Error>> {
    std::future::ready(Ok(1))
}

fn breaker() -> Breaker {
    Breaker::builder_from(BreakerConfig::empty())
        .name("payments")
        .consecutive_failures(2)
        .open_for(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn health_follows_the_breaker_and_the_limiter() {
    let payments = breaker();
    let limiter = RateLimiter::builder(Quota::per_minute(2))
        .name("api")
        .build()
        .unwrap();
    let pool = Bulkhead::new(4).unwrap();
    let registry = Registry::new()
        .critical("payments", payments.clone())
        .register("api", limiter.clone())
        .register("db-pool", pool.clone());

    let healthy = serde_json::to_string(&registry.health()).unwrap();
    assert_eq!(
        healthy,
        r#"{"status":"healthy","ready":true,"policies":[{"name":"payments","kind":"breaker","critical":true,"status":"healthy"},{"name":"api","kind":"ratelimit","critical":false,"status":"healthy"},{"name":"db-pool","kind":"bulkhead","critical":false,"status":"healthy"}]}"#
    );

    // Two failures open the critical breaker; the limiter refuses one call.
    for _ in 0..2 {
        let _ = payments.call(fail).await;
    }
    for _ in 0..3 {
        let _ = limiter.call(ok).await;
    }
    let report = registry.health();
    assert_eq!((report.status, report.ready), (Status::Unhealthy, false));
    assert_eq!(
        serde_json::to_string(&report.policies[..2]).unwrap(),
        r#"[{"name":"payments","kind":"breaker","critical":true,"status":"unhealthy","reason":"circuit open; next probe in 30 s"},{"name":"api","kind":"ratelimit","critical":false,"status":"degraded","reason":"refused 1 call since the last report"}]"#
    );

    // After the open period the breaker probes: degraded, and ready again.
    tokio::time::advance(Duration::from_secs(30)).await;
    let _ = limiter.call(ok).await; // refused again: the minute is not over
    let report = registry.health();
    assert_eq!((report.status, report.ready), (Status::Degraded, true));
    assert_eq!(
        report.policies[0].reason.as_deref(),
        Some("circuit half-open: probing the dependency")
    );

    // A successful probe closes it; the limiter is quiet: healthy.
    let _ = payments.call(ok).await;
    tokio::time::advance(Duration::from_secs(60)).await;
    let report = registry.health();
    assert_eq!(report.status, Status::Healthy, "{report:?}");
}

#[tokio::test(start_paused = true)]
async fn a_scrape_shows_every_series_exactly() {
    let payments = breaker();
    let limiter = RateLimiter::builder(Quota::per_minute(2))
        .name("api")
        .build()
        .unwrap();
    let catalogue: Cache<u32, u8, String> = Cache::builder()
        .name("catalogue")
        .fresh_for(Duration::from_secs(10))
        .fail_safe(Duration::from_secs(600), Duration::from_secs(5))
        .build()
        .unwrap();
    let registry = Registry::new()
        .critical("payments", payments.clone())
        .register("api", limiter.clone())
        .register("catalogue", catalogue.clone());
    // The breaker trips, refuses three calls, and recovers after 30 s.
    for _ in 0..2 {
        let _ = payments.call(fail).await;
    }
    for _ in 0..3 {
        let _ = payments.call(ok).await; // refused: open
    }
    tokio::time::advance(Duration::from_secs(30)).await;
    payments.call(ok).await.unwrap();
    // The limiter admits two and refuses three.
    for _ in 0..5 {
        let _ = limiter.call(ok).await;
    }
    // The cache misses once, hits once, then serves stale twice while the
    // source is down.
    let fetch = |down: bool| {
        catalogue.get_or_fetch(&1, move || async move {
            if down { Err("down".to_owned()) } else { Ok(1) }
        })
    };
    fetch(false).await.unwrap();
    fetch(false).await.unwrap();
    tokio::time::advance(Duration::from_secs(20)).await;
    assert!(fetch(true).await.unwrap().is_stale());
    assert!(fetch(true).await.unwrap().is_stale());

    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || registry.record_metrics());
    let mut lines: Vec<&str> = Vec::new();
    let text = handle.render();
    lines.extend(
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty()),
    );
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            r#"steadfast_breaker_calls_rejected_total{policy="payments"} 3"#,
            r#"steadfast_breaker_failure_rate{policy="payments"} -1"#,
            r#"steadfast_breaker_opened_total{policy="payments"} 1"#,
            r#"steadfast_breaker_state{policy="payments",state="closed"} 1"#,
            r#"steadfast_breaker_state{policy="payments",state="disabled"} 0"#,
            r#"steadfast_breaker_state{policy="payments",state="half_open"} 0"#,
            r#"steadfast_breaker_state{policy="payments",state="isolated"} 0"#,
            r#"steadfast_breaker_state{policy="payments",state="open"} 0"#,
            // moka counts entries lazily, after its pending maintenance runs.
            r#"steadfast_cache_entries{policy="catalogue"} 0"#,
            r#"steadfast_cache_fetch_errors_total{policy="catalogue"} 1"#,
            r#"steadfast_cache_requests_total{policy="catalogue",result="hit"} 1"#,
            r#"steadfast_cache_requests_total{policy="catalogue",result="miss"} 1"#,
            r#"steadfast_cache_requests_total{policy="catalogue",result="stale"} 2"#,
            r#"steadfast_ratelimit_keys{policy="api"} 1"#,
            r#"steadfast_ratelimit_requests_total{policy="api",result="admitted"} 2"#,
            r#"steadfast_ratelimit_requests_total{policy="api",result="rejected"} 3"#,
        ]
    );
}

async fn get(app: &axum::Router, path: &str) -> (u16, String) {
    let response = app
        .clone()
        .oneshot(
            http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test(start_paused = true)]
async fn ready_flips_to_503_and_back() {
    let payments = breaker();
    let registry = Arc::new(Registry::new().critical("payments", payments.clone()));
    let recorder = PrometheusBuilder::new().build_recorder();
    let app = steadfast_observe::axum::router(Arc::clone(&registry), recorder.handle());

    assert_eq!(get(&app, "/ready").await.0, 200);
    payments.isolate();
    let (status, body) = get(&app, "/ready").await;
    assert_eq!(status, 503);
    assert_eq!(
        body,
        r#"{"status":"unhealthy","ready":false,"policies":[{"name":"payments","kind":"breaker","critical":true,"status":"unhealthy","reason":"circuit held open by the operator"}]}"#
    );
    // Liveness answers 200 whatever the dependencies do.
    assert_eq!(get(&app, "/health").await.0, 200);
    payments.reset();
    assert_eq!(get(&app, "/ready").await.0, 200);
    assert_eq!(get(&app, "/metrics").await.0, 200);
}

#[tokio::test(start_paused = true)]
async fn a_saturated_bulkhead_and_a_spent_retry_budget_are_degraded() {
    let pool = Bulkhead::new(1).unwrap();
    let retry = steadfast_retry::Retry::default();
    let registry = Registry::new()
        .register("db-pool", pool.clone())
        .register("retry", retry.clone());

    let held = tokio::spawn({
        let pool = pool.clone();
        async move {
            pool.call(std::future::pending::<Result<u8, std::io::Error>>)
                .await
        }
    });
    tokio::task::yield_now().await;
    // A second caller finds no permit.
    assert!(pool.call(ok).await.is_err());
    // Every call fails: the budget's tokens run out.
    for _ in 0..20 {
        let _ = retry.call(fail).await;
    }
    let report = registry.health();
    assert_eq!(report.status, Status::Degraded);
    assert_eq!(
        report.policies[0].reason.as_deref(),
        Some("bulkhead saturated: 1 of 1 in flight, 0 waiting, 1 refused so far")
    );
    assert_eq!(
        report.policies[1].reason.as_deref(),
        Some("retry budget spent: failures are not retried")
    );
    held.abort();
    let _ = held.await;
    assert_eq!(registry.health().policies[0].status, Status::Healthy);
}
