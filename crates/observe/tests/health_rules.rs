//! The health rules for a cache serving stale answers and a shedder
//! shedding a class, asserted exactly, and back to healthy.

use std::time::Duration;

use steadfast_cache::{Cache, FetchOptions};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Context, Identity, Policy, Priority};
use steadfast_degrade::{LoadShedder, ShedClass};
use steadfast_observe::{Registry, Status};

#[tokio::test(start_paused = true)]
async fn a_cache_serving_stale_is_degraded_until_a_report_sees_none() {
    let cache: Cache<u32, u32, TestError> = Cache::builder()
        .name("catalogue")
        .fresh_for(Duration::from_secs(10))
        .fail_safe(Duration::from_secs(60), Duration::from_secs(5))
        .build()
        .unwrap();
    let registry = Registry::new().register("catalogue", cache.clone());
    let op = ScriptedOp::new([Step::ok(1), Step::err(TestError("down"))]);
    let fetch = || cache.get_or_fetch_through(&1, FetchOptions::new(), &Identity, op.clone());
    fetch().await.unwrap();
    assert_eq!(registry.health().status, Status::Healthy);

    tokio::time::advance(Duration::from_secs(20)).await;
    assert!(fetch().await.unwrap().is_stale());
    assert!(fetch().await.unwrap().is_stale());
    let report = registry.health();
    assert_eq!(report.status, Status::Degraded);
    assert!(report.ready);
    assert_eq!(
        report.policies[0].reason.as_deref(),
        Some("served stale answers 2 times since the last report")
    );
    // Nothing stale since that report: healthy again.
    let report = registry.health();
    assert_eq!(
        (report.status, report.policies[0].reason.as_deref()),
        (Status::Healthy, None)
    );
}

#[tokio::test(start_paused = true)]
async fn a_shedder_shedding_a_class_is_degraded_until_the_class_is_admitted_again() {
    let shedder = LoadShedder::builder()
        .name("api")
        .class(ShedClass::new("free", Priority::LOW).max_in_flight(1))
        .class(ShedClass::new("paid", Priority::HIGH))
        .build()
        .unwrap();
    let registry = Registry::new().register("api", shedder.clone());
    let free = Context::new().with_priority(Priority::LOW);
    let hang = ScriptedOp::<u8, TestError>::hanging();
    let held = tokio::spawn({
        let (shedder, hang) = (shedder.clone(), hang.clone());
        async move {
            shedder
                .call_with(Context::new().with_priority(Priority::LOW), hang)
                .await
        }
    });
    tokio::task::yield_now().await;
    let shed = shedder
        .call_with(free, ScriptedOp::<u8, TestError>::always_ok(1))
        .await;
    assert!(shed.is_err());
    let report = registry.health();
    assert_eq!(report.status, Status::Degraded);
    assert_eq!(report.policies[0].reason.as_deref(), Some("shedding free"));

    // A class is shedding until one of its calls is admitted again.
    held.abort();
    let _ = held.await;
    assert_eq!(registry.health().status, Status::Degraded);
    shedder
        .call_with(free, ScriptedOp::<u8, TestError>::always_ok(1))
        .await
        .unwrap();
    let report = registry.health();
    assert_eq!(
        (report.status, report.policies[0].reason.as_deref()),
        (Status::Healthy, None)
    );
}

#[test]
fn a_limiter_in_shadow_mode_stays_healthy_and_says_what_it_would_have_refused() {
    let mut config =
        steadfast_ratelimit::RateLimiterConfig::new(steadfast_ratelimit::Quota::per_hour(1));
    config.shadow = true;
    let limiter = steadfast_ratelimit::RateLimiter::from_config(config).unwrap();
    let registry = Registry::new().register("new-limit", limiter.clone());
    let _ = limiter.check();
    let _ = limiter.check();
    let _ = limiter.check();
    let report = registry.health();
    assert_eq!(report.status, Status::Healthy);
    assert_eq!(
        report.policies[0].reason.as_deref(),
        Some("shadow mode: would have refused 2 calls since the last report")
    );
}
