//! The config round-trips through TOML, as a config file holds it, and the
//! snapshot serializes with its documented field names.

use std::time::Duration;

use steadfast_core::Inspect;
use steadfast_retry::{Backoff, BudgetConfig, Retry, RetryConfig};

fn round_trip(config: &RetryConfig) -> RetryConfig {
    let text = toml::to_string(config).expect("a retry config writes as TOML");
    toml::from_str(&text).unwrap_or_else(|e| panic!("reads back: {e}\n{text}"))
}

#[test]
fn configs_round_trip_through_toml() {
    let default = RetryConfig::default();
    assert_eq!(round_trip(&default), default);

    let tuned = Retry::builder()
        .name("payments-retry")
        .max_attempts(4)
        .backoff(Backoff::constant(Duration::from_millis(250)))
        .max_delay(Duration::from_secs(2))
        .max_retry_after(Duration::from_secs(30))
        .budget(BudgetConfig::default())
        .seed(7)
        .build()
        .unwrap()
        .config()
        .clone();
    assert_eq!(round_trip(&tuned), tuned);
    let text = toml::to_string(&tuned).unwrap();
    assert!(text.contains("max_delay = \"2s\""), "{text}");
    assert!(text.contains("max_retry_after = \"30s\""), "{text}");
}

#[tokio::test(start_paused = true)]
async fn the_snapshot_serializes_with_its_field_names() {
    let retry = Retry::builder().name("r").build().unwrap();
    let json = serde_json::to_value(retry.snapshot()).unwrap();
    for field in [
        "name",
        "calls",
        "failures",
        "attempts",
        "retries",
        "budget_exhausted",
        "hedges_started",
        "hedges_won",
        "budget",
    ] {
        assert!(json.get(field).is_some(), "{field} in {json}");
    }
    assert_eq!(json["name"], "r");
    assert_eq!(
        json["budget"],
        serde_json::json!({ "tokens": 5.0, "capacity": 5, "exhausted": false })
    );
}
