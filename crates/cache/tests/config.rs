//! The config from a file (TOML, round trip), `Cache::from_config`, the
//! serialized snapshot, and keys kept out of events unless asked for.

mod common;

use std::time::Duration;

use common::{TestCache, builder, fetch, secs};
use steadfast_cache::{Cache, CacheConfig, Store};
use steadfast_core::Inspect;
use steadfast_core::testing::{Events, ScriptedOp, Step, TestError};
use tokio::time::advance;

/// Every field set away from its default.
fn full() -> CacheConfig {
    let mut config = CacheConfig::default();
    config.name = "profiles".into();
    config.fresh_for = secs(30);
    config.stale_for = secs(300);
    config.fail_safe_max_age = Some(secs(3_600));
    config.fail_safe_throttle = secs(45);
    config.degrade_on_rejection = true;
    config.soft_timeout = Some(Duration::from_millis(100));
    config.hard_timeout = Some(Duration::from_millis(2_500));
    config.eager_refresh = Some(0.75);
    config.max_entries = 500;
    config.max_weight = Some(1 << 20);
    config.pass_through_unkeyed = true;
    config.log_keys = true;
    config
}

#[test]
fn the_config_round_trips_through_toml() {
    let config = full();
    let text = toml::to_string(&config).unwrap();
    assert_eq!(
        text,
        r#"name = "profiles"
fresh_for = "30s"
stale_for = "5m"
fail_safe_max_age = "1h"
fail_safe_throttle = "45s"
degrade_on_rejection = true
soft_timeout = "100ms"
hard_timeout = "2500ms"
eager_refresh = 0.75
max_entries = 500
max_weight = 1048576
pass_through_unkeyed = true
log_keys = true
"#
    );
    assert_eq!(toml::from_str::<CacheConfig>(&text).unwrap(), config);

    // The defaults, with their `None`s left out, come back as they went.
    let defaults = CacheConfig::default();
    let text = toml::to_string(&defaults).unwrap();
    assert!(!text.contains("soft_timeout"), "{text}");
    assert_eq!(toml::from_str::<CacheConfig>(&text).unwrap(), defaults);
}

#[test]
fn a_config_file_builds_a_cache_through_from_config() {
    let config: CacheConfig = toml::from_str(
        r#"
        name = "profiles"
        fresh_for = "30s"
        stale_for = "5m"
        fail_safe_max_age = "1h"
        soft_timeout = "100ms"
        hard_timeout = "2s"
        log_keys = true
        "#,
    )
    .unwrap();
    let cache = TestCache::from_config(config.clone()).unwrap();
    assert_eq!(cache.config(), &config);

    // Each rule still names its field.
    let mut bad = config.clone();
    bad.soft_timeout = Some(secs(3));
    assert_eq!(
        TestCache::from_config(bad).unwrap_err().field(),
        "soft_timeout"
    );
    // A weight bound needs a weigher, which only the builder can give.
    let mut weighed = config;
    weighed.max_weight = Some(1_000);
    assert_eq!(
        TestCache::from_config(weighed).unwrap_err().field(),
        "max_weight"
    );
    // A typo is an error, not a silent default.
    assert!(toml::from_str::<CacheConfig>(r#"fresh_four = "30s""#).is_err());
}

#[test]
fn log_keys_from_a_config_needs_a_key_format() {
    /// A key type that is not `Debug`.
    #[derive(Clone, PartialEq, Eq, Hash)]
    struct Opaque(u32);

    let mut config = CacheConfig::default();
    config.log_keys = true;
    let error = Cache::<Opaque, u32, TestError>::builder_from(config.clone())
        .build()
        .unwrap_err();
    assert_eq!(error.field(), "log_keys");
    // Without it, the same config builds.
    config.log_keys = false;
    Cache::<Opaque, u32, TestError>::builder_from(config)
        .build()
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_snapshot_serializes_with_its_documented_field_names() {
    let cache = builder().name("profiles").build().unwrap();
    let op = ScriptedOp::<u32, TestError>::always_ok(1);
    fetch(&cache, 1, &op).await.unwrap();
    fetch(&cache, 1, &op).await.unwrap();
    cache.store().run_pending_tasks();
    let json = serde_json::to_value(cache.snapshot()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "name": "profiles",
            "entries": 1,
            "tags": 0,
            "in_flight": 0,
            "hits": 1,
            "stale_hits": 0,
            "misses": 1,
            "stale_fallbacks": 0,
            "fetches": 1,
            "coalesced": 0,
            "refreshes": 0,
            "fetch_errors": 0,
            "bypassed": 0,
            "missing_keys": 0
        })
    );
}

/// The fail-safe WARN and a tag invalidation's DEBUG of a cache of `u32`
/// keys, key 7 failing.
async fn fail_safe_events(cache: &TestCache) -> Vec<steadfast_core::testing::EventRecord> {
    let (events, _guard) = Events::capture();
    let op = ScriptedOp::new([Step::ok(1), Step::err(TestError::new("down"))]);
    fetch(cache, 7, &op).await.unwrap();
    advance(secs(20)).await;
    assert!(fetch(cache, 7, &op).await.unwrap().is_stale());
    cache.invalidate_tag("user:alice@example.com");
    events
        .records()
        .into_iter()
        .filter(|r| r.message.starts_with("fetch failed") || r.message == "cache tag invalidated")
        .collect()
}

fn fail_safe() -> steadfast_cache::CacheBuilder<u32, u32, TestError> {
    builder().fresh_for(secs(10)).fail_safe(secs(60), secs(5))
}

#[tokio::test(start_paused = true)]
async fn events_name_the_cache_and_never_the_key_by_default() {
    let records = fail_safe_events(&fail_safe().build().unwrap()).await;
    assert_eq!(records.len(), 2, "{records:?}");
    for record in &records {
        assert_eq!(record.field("policy"), Some("cache"));
        assert_eq!(record.field("key"), None, "{record:?}");
        assert_eq!(record.field("tag"), None, "{record:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn with_log_keys_events_name_the_key_and_the_tag() {
    for cache in [
        fail_safe().log_keys(true).build().unwrap(),
        TestCache::from_config({
            let mut config = fail_safe().build().unwrap().config().clone();
            config.log_keys = true;
            config
        })
        .unwrap(),
    ] {
        let records = fail_safe_events(&cache).await;
        assert_eq!(records.len(), 2, "{records:?}");
        assert_eq!(records[0].level, tracing::Level::WARN);
        assert_eq!(records[0].field("key"), Some("7"));
        assert_eq!(records[1].field("tag"), Some("user:alice@example.com"));
    }
}
