//! Configs round-trip through TOML (what a service reads its policies from)
//! and snapshots serialize with stable field names.

use std::time::Duration;

use serde_json::json;
use steadfast_core::testing::TestError;
use steadfast_core::{Context, Error, Inspect, Policy, Priority};
use steadfast_degrade::{
    AdaptiveThrottle, AdaptiveThrottleConfig, Fallback, LastKnownGood, LastKnownGoodConfig,
    LoadShedder, LoadShedderConfig, Optional, ShedClass, fresh, some,
};

fn round_trip<C>(config: &C) -> C
where
    C: serde::Serialize + serde::de::DeserializeOwned,
{
    let text = toml::to_string(config).expect("a config serializes to TOML");
    toml::from_str(&text).unwrap_or_else(|e| panic!("{text}\nreads back: {e}"))
}

fn shedder_config() -> LoadShedderConfig {
    LoadShedder::builder()
        .name("api")
        .class(
            ShedClass::new("background", Priority::BACKGROUND)
                .max_in_flight(20)
                .max_latency(Duration::from_millis(400)),
        )
        .class(
            ShedClass::new("free", Priority::LOW)
                .max_in_flight(50)
                .max_latency(Duration::from_millis(800)),
        )
        .class(ShedClass::new("critical", Priority::CRITICAL))
        .latency_smoothing(0.5)
        .latency_expiry(Duration::from_secs(2))
        .retry_after(Duration::from_secs(3))
        .build()
        .unwrap()
        .config()
        .clone()
}

#[test]
fn every_config_round_trips_through_toml() {
    let lkg = LastKnownGood::<u32>::builder()
        .name("prices")
        .max_age(Duration::from_secs(90))
        .max_entries(500)
        .keyed::<u64>()
        .share_unkeyed()
        .log_keys()
        .build()
        .unwrap()
        .config()
        .clone();
    for config in [LastKnownGoodConfig::default(), lkg] {
        assert_eq!(round_trip(&config), config);
        LastKnownGood::<u32, u64>::from_config(round_trip(&config)).unwrap();
    }

    let shedder = shedder_config();
    assert_eq!(round_trip(&shedder), shedder);
    LoadShedder::from_config(round_trip(&shedder)).unwrap();

    let mut throttle = AdaptiveThrottleConfig::default();
    throttle.k = 1.5;
    throttle.window = Duration::from_secs(30);
    throttle.seed = 7;
    for config in [AdaptiveThrottleConfig::default(), throttle] {
        assert_eq!(round_trip(&config), config);
        AdaptiveThrottle::from_config(round_trip(&config)).unwrap();
    }
}

#[test]
fn configs_read_from_a_toml_file() {
    let lkg: LastKnownGoodConfig = toml::from_str(
        r#"
        name = "prices"
        max_age = "90s"
        max_entries = 500
        share_unkeyed = true
        "#,
    )
    .unwrap();
    assert_eq!(
        (lkg.max_age, lkg.max_entries, lkg.share_unkeyed),
        (Duration::from_secs(90), 500, true)
    );

    let shedder: LoadShedderConfig = toml::from_str(
        r#"
        name = "api"
        latency_smoothing = 0.5
        latency_expiry = "2s"
        retry_after = "3s"

        [[classes]]
        name = "background"
        min_priority = 0
        max_in_flight = 20
        max_latency = "400ms"

        [[classes]]
        name = "free"
        min_priority = 64
        max_in_flight = 50
        max_latency = "800ms"

        [[classes]]
        name = "critical"
        min_priority = 255
        "#,
    )
    .unwrap();
    assert_eq!(shedder, shedder_config());

    let unknown = toml::from_str::<LastKnownGoodConfig>("max_agee = \"1s\"");
    assert!(unknown.is_err(), "unknown fields are refused");
    let zero: LastKnownGoodConfig = toml::from_str("max_age = \"0s\"").unwrap();
    let err = LastKnownGood::<u32>::from_config(zero).unwrap_err();
    assert_eq!(err.field(), "max_age");
}

#[tokio::test(start_paused = true)]
async fn snapshots_serialize_with_stable_field_names() {
    let down = || async { Err::<u32, _>(TestError::new("down")) };

    let fallback = Fallback::builder()
        .name("ai-fallback")
        .from_fn(|_: Error<TestError>| 0u32);
    fallback.call(down).await.unwrap();
    assert_eq!(
        serde_json::to_value(fallback.snapshot()).unwrap(),
        json!({ "name": "ai-fallback", "served": 1, "passed_through": 0 })
    );

    let lkg = LastKnownGood::<u32>::builder()
        .name("prices")
        .build()
        .unwrap();
    lkg.call(fresh(|| async { Ok::<_, TestError>(5) }))
        .await
        .unwrap();
    lkg.call(fresh(down)).await.unwrap();
    assert_eq!(
        serde_json::to_value(lkg.snapshot()).unwrap(),
        json!({
            "name": "prices",
            "entries": 1,
            "stored": 1,
            "served_stale": 1,
            "misses": 0,
            "missing_keys": 0,
            "serving_stale": true,
        })
    );

    let shedder = LoadShedder::from_config(shedder_config()).unwrap();
    let ctx = Context::new().with_priority(Priority::LOW);
    shedder
        .call_with(ctx, || async { Ok::<_, TestError>(1) })
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(shedder.snapshot()).unwrap(),
        json!({
            "name": "api",
            "in_flight": 0,
            "latency": "0s",
            "classes": [
                { "name": "background", "admitted": 0, "shed": 0, "shedding": false },
                { "name": "free", "admitted": 1, "shed": 0, "shedding": false },
                { "name": "critical", "admitted": 0, "shed": 0, "shedding": false },
            ],
        })
    );

    let throttle = AdaptiveThrottle::new().unwrap();
    throttle
        .call(|| async { Ok::<_, TestError>(1) })
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(throttle.snapshot()).unwrap(),
        json!({
            "name": "throttle",
            "requests": 1,
            "accepts": 1,
            "reject_probability": 0.0,
            "throttled": 0,
        })
    );

    let optional = Optional::builder().name("recommendations").build();
    let none = optional.call(some(down)).await.unwrap();
    assert_eq!(none, None);
    assert_eq!(
        serde_json::to_value(optional.snapshot()).unwrap(),
        json!({ "name": "recommendations", "skipped": 0, "failed": 1, "skipping": false })
    );
}

/// The document shown in `docs/degrade.md`.
#[test]
fn the_guides_toml_reads() {
    #[derive(serde::Deserialize)]
    struct Policies {
        prices: LastKnownGoodConfig,
        shedder: LoadShedderConfig,
        throttle: AdaptiveThrottleConfig,
    }
    let policies: Policies = toml::from_str(
        r#"
        [prices]                  # LastKnownGoodConfig
        max_age = "5m"
        max_entries = 10000
        share_unkeyed = false

        [shedder]                 # LoadShedderConfig
        latency_expiry = "1s"
        retry_after = "3s"
        classes = [
          { name = "background", min_priority = 0, max_in_flight = 100 },
          { name = "free", min_priority = 64, max_in_flight = 300 },
          { name = "critical", min_priority = 255 },
        ]

        [throttle]                # AdaptiveThrottleConfig
        k = 2.0
        window = "1m"
        "#,
    )
    .unwrap();
    LastKnownGood::<u32, u64>::from_config(policies.prices).unwrap();
    let shedder = LoadShedder::from_config(policies.shedder).unwrap();
    assert_eq!(shedder.snapshot().classes.len(), 3);
    AdaptiveThrottle::from_config(policies.throttle).unwrap();
}
