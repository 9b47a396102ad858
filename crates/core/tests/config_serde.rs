//! Configs deserialize with durations as people write them, and are validated.

use std::time::Duration;

use steadfast_core::{Timeout, TimeoutConfig};

#[test]
fn a_timeout_config_reads_durations_as_text() {
    let config: TimeoutConfig =
        serde_json::from_str(r#"{ "limit": "1.5s", "name": "payments" }"#).unwrap();
    assert_eq!(config.limit, Duration::from_millis(1_500));
    assert_eq!(config.name, "payments");
    let timeout = Timeout::from_config(config).unwrap();
    assert_eq!(timeout.limit(), Duration::from_millis(1_500));
}

#[test]
fn the_name_defaults() {
    let config: TimeoutConfig = serde_json::from_str(r#"{ "limit": "250ms" }"#).unwrap();
    assert_eq!(config.name, "timeout");
}

#[test]
fn bad_text_is_an_error_not_a_default() {
    let bare_number = serde_json::from_str::<TimeoutConfig>(r#"{ "limit": "30" }"#).unwrap_err();
    assert!(
        bare_number.to_string().contains("has no unit"),
        "{bare_number}"
    );
    let unknown_field =
        serde_json::from_str::<TimeoutConfig>(r#"{ "limit": "1s", "limt": "2s" }"#).unwrap_err();
    assert!(
        unknown_field.to_string().contains("unknown field"),
        "{unknown_field}"
    );
}

#[test]
fn a_deserialized_zero_limit_is_rejected_when_built() {
    let config: TimeoutConfig = serde_json::from_str(r#"{ "limit": "0s" }"#).unwrap();
    assert_eq!(Timeout::from_config(config).unwrap_err().field(), "limit");
}
