//! Configs round-trip through TOML (what a service reads its policies from)
//! and snapshots serialize with stable field names.

use std::time::Duration;

use steadfast_bulkhead::{
    AimdConfig, Bulkhead, BulkheadConfig, GradientConfig, KeyedBulkhead, KeyedBulkheadConfig,
};
use steadfast_core::testing::{ScriptedOp, TestError};
use steadfast_core::{Inspect, Policy};

fn round_trip<C>(config: &C) -> C
where
    C: serde::Serialize + serde::de::DeserializeOwned,
{
    let text = toml::to_string(config).expect("a config serializes to TOML");
    toml::from_str(&text).unwrap_or_else(|e| panic!("{text}\nreads back: {e}"))
}

#[test]
fn every_bulkhead_config_round_trips_through_toml() {
    let fixed = Bulkhead::builder()
        .name("db")
        .max_concurrent(20)
        .max_queued(100)
        .max_wait(Duration::from_millis(250))
        .overload(Duration::from_millis(5), Duration::from_millis(100))
        .config()
        .clone();
    let aimd = Bulkhead::builder()
        .max_concurrent(8)
        .adaptive(
            AimdConfig::new(2, 64)
                .backoff(0.75)
                .increase(2)
                .latency_threshold(Duration::from_millis(1_500)),
        )
        .config()
        .clone();
    let gradient = Bulkhead::builder()
        .max_concurrent(8)
        .adaptive(
            GradientConfig::new(4, 128)
                .smoothing(0.1)
                .tolerance(2.0)
                .long_window(300)
                .queue_size(6),
        )
        .config()
        .clone();
    for config in [BulkheadConfig::default(), fixed, aimd, gradient] {
        assert_eq!(round_trip(&config), config);
        Bulkhead::from_config(round_trip(&config)).unwrap();
    }
}

#[test]
fn a_bulkhead_config_reads_from_a_toml_file() {
    let config: BulkheadConfig = toml::from_str(
        r#"
        name = "db"
        max_concurrent = 20
        max_queued = 100
        max_wait = "250ms"

        [overload]
        target = "5ms"
        interval = "100ms"

        [adaptive]
        algorithm = "aimd"
        min_limit = 4
        max_limit = 64
        latency_threshold = "1s"
        "#,
    )
    .unwrap();
    let expected = Bulkhead::builder()
        .name("db")
        .max_concurrent(20)
        .max_queued(100)
        .max_wait(Duration::from_millis(250))
        .overload(Duration::from_millis(5), Duration::from_millis(100))
        .adaptive(AimdConfig::new(4, 64).latency_threshold(Duration::from_secs(1)))
        .config()
        .clone();
    assert_eq!(config, expected);
    let written = toml::to_string(&config).unwrap();
    assert!(written.contains(r#"max_wait = "250ms""#), "{written}");
}

#[test]
fn a_keyed_bulkhead_config_round_trips_and_builds() {
    let config = Bulkhead::builder()
        .name("per-tenant")
        .max_concurrent(4)
        .max_queued(8)
        .keyed(1_000)
        .share_unkeyed()
        .log_keys()
        .config()
        .clone();
    assert_eq!(round_trip(&config), config);
    assert_eq!(
        round_trip(&KeyedBulkheadConfig::default()),
        KeyedBulkheadConfig::default()
    );

    let read: KeyedBulkheadConfig = toml::from_str(
        r#"
        max_keys = 1000
        share_unkeyed = true
        log_keys = true

        [bulkhead]
        name = "per-tenant"
        max_concurrent = 4
        max_queued = 8
        "#,
    )
    .unwrap();
    assert_eq!(read, config);
    let keyed = KeyedBulkhead::<String>::from_config(read).unwrap();
    assert_eq!(keyed.config(), &config);
}

#[test]
fn from_config_names_the_broken_field() {
    let no_keys: KeyedBulkheadConfig = toml::from_str("max_keys = 0").unwrap();
    let err = KeyedBulkhead::<u64>::from_config(no_keys).unwrap_err();
    assert_eq!(err.field(), "max_keys");
    let no_permits: KeyedBulkheadConfig = toml::from_str("[bulkhead]\nmax_concurrent = 0").unwrap();
    let err = KeyedBulkhead::<u64>::from_config(no_permits).unwrap_err();
    assert_eq!(err.field(), "max_concurrent");
    let unknown = toml::from_str::<KeyedBulkheadConfig>("max_key = 3");
    assert!(unknown.is_err(), "unknown fields are refused");
}

#[tokio::test]
async fn snapshots_serialize_with_stable_field_names() {
    let bulkhead = Bulkhead::builder()
        .name("db")
        .max_concurrent(2)
        .build()
        .unwrap();
    bulkhead
        .call(ScriptedOp::<u8, TestError>::always_ok(1))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(bulkhead.snapshot()).unwrap(),
        serde_json::json!({
            "name": "db",
            "limit": 2,
            "in_flight": 0,
            "waiting": 0,
            "saturated": false,
            "rejected": 0,
            "queue_timeouts": 0,
            "overloaded": 0,
            "missing_keys": 0,
            "keys": 1,
        })
    );

    let keyed: KeyedBulkhead<u64> = Bulkhead::builder()
        .name("per-tenant")
        .max_concurrent(3)
        .build_keyed(16)
        .unwrap();
    let refused = keyed.call(ScriptedOp::<u8, TestError>::always_ok(1)).await;
    assert!(refused.is_err());
    assert_eq!(
        serde_json::to_value(keyed.snapshot()).unwrap(),
        serde_json::json!({
            "name": "per-tenant",
            "limit": 3,
            "in_flight": 0,
            "waiting": 0,
            "saturated": false,
            "rejected": 0,
            "queue_timeouts": 0,
            "overloaded": 0,
            "missing_keys": 1,
            "keys": 0,
        })
    );
}

/// The document shown in `docs/bulkhead.md`.
#[test]
fn the_guides_toml_reads() {
    #[derive(serde::Deserialize)]
    struct Policies {
        db: BulkheadConfig,
        per_tenant: KeyedBulkheadConfig,
    }
    let policies: Policies = toml::from_str(
        r#"
        [db]                      # BulkheadConfig
        name = "db"
        max_concurrent = 20
        max_queued = 100
        max_wait = "250ms"
        overload = { target = "5ms", interval = "100ms" }
        adaptive = { algorithm = "gradient", min_limit = 4, max_limit = 64 }

        [per_tenant]              # KeyedBulkheadConfig
        max_keys = 10000
        share_unkeyed = false
        log_keys = false
        bulkhead = { name = "per-tenant", max_concurrent = 4, max_queued = 8 }
        "#,
    )
    .unwrap();
    Bulkhead::from_config(policies.db).unwrap();
    let per_tenant = KeyedBulkhead::<String>::from_config(policies.per_tenant).unwrap();
    assert_eq!(per_tenant.config().bulkhead.max_concurrent, 4);
}
