//! Configs round-trip through TOML, as a config file holds them, and the
//! snapshot serializes with its documented field names.

use steadfast_breaker::{Breaker, BreakerConfig};
use steadfast_core::Inspect;

fn round_trip(config: &BreakerConfig) -> BreakerConfig {
    let text = toml::to_string(config).expect("a breaker config writes as TOML");
    toml::from_str(&text).unwrap_or_else(|e| panic!("reads back: {e}\n{text}"))
}

#[test]
fn every_preset_round_trips_through_toml() {
    let mut counting = BreakerConfig::ai_api();
    counting.count_local_refusals = true;
    counting.jitter_seed = Some(7);
    for config in [
        BreakerConfig::standard(),
        BreakerConfig::database(),
        BreakerConfig::ai_api(),
        counting,
    ] {
        assert_eq!(round_trip(&config), config);
        Breaker::from_config(round_trip(&config)).unwrap();
    }
    let text = toml::to_string(&BreakerConfig::database()).unwrap();
    assert!(text.contains("name = \"database\""), "{text}");
    assert!(text.contains("count_local_refusals = false"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn the_snapshot_serializes_with_its_field_names() {
    let breaker = Breaker::from_config(BreakerConfig::standard()).unwrap();
    let json = serde_json::to_value(breaker.snapshot()).unwrap();
    assert_eq!(json["name"], "breaker");
    assert_eq!(json["state"], "closed");
    for field in [
        "metrics_only",
        "failure_rate",
        "slow_call_rate",
        "calls_in_window",
        "consecutive_failures",
        "time_until_half_open",
        "trials_in_flight",
        "rejected",
        "opened",
    ] {
        assert!(json.get(field).is_some(), "{field} in {json}");
    }
}
