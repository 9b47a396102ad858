//! Configs are validated when built, naming the field, and deserialize.

use std::time::Duration;

use steadfast_bulkhead::{
    AdaptiveConfig, AimdConfig, Bulkhead, BulkheadConfig, GradientConfig, OverloadConfig,
};
use steadfast_core::ConfigError;

fn field(result: Result<Bulkhead, ConfigError>) -> &'static str {
    result.unwrap_err().field()
}

#[test]
fn bad_values_name_their_field() {
    assert_eq!(field(Bulkhead::new(0)), "max_concurrent");
    assert_eq!(
        field(Bulkhead::builder().max_queued(u32::MAX).build()),
        "max_queued"
    );
    assert_eq!(
        field(Bulkhead::builder().max_wait(Duration::ZERO).build()),
        "max_wait"
    );
    assert_eq!(
        field(
            Bulkhead::builder()
                .overload(Duration::ZERO, Duration::from_secs(1))
                .build()
        ),
        "target"
    );
    assert_eq!(
        field(
            Bulkhead::builder()
                .overload(Duration::from_millis(10), Duration::from_millis(5))
                .build()
        ),
        "interval"
    );
    assert_eq!(
        field(Bulkhead::builder().adaptive(AimdConfig::new(0, 5)).build()),
        "min_limit"
    );
    assert_eq!(
        field(Bulkhead::builder().adaptive(AimdConfig::new(5, 4)).build()),
        "max_limit"
    );
    assert_eq!(
        field(
            Bulkhead::builder()
                .max_concurrent(50)
                .adaptive(AimdConfig::new(1, 20))
                .build()
        ),
        "max_concurrent"
    );
    assert_eq!(
        field(
            Bulkhead::builder()
                .adaptive(AimdConfig::new(1, 20).backoff(1.0))
                .build()
        ),
        "backoff"
    );
    assert_eq!(
        field(
            Bulkhead::builder()
                .adaptive(AimdConfig::new(1, 20).increase(0))
                .build()
        ),
        "increase"
    );
    assert_eq!(
        field(
            Bulkhead::builder()
                .adaptive(AimdConfig::new(1, 20).latency_threshold(Duration::ZERO))
                .build()
        ),
        "latency_threshold"
    );
    assert_eq!(
        field(
            Bulkhead::builder()
                .adaptive(GradientConfig::new(1, 20).smoothing(0.0))
                .build()
        ),
        "smoothing"
    );
    assert_eq!(
        field(
            Bulkhead::builder()
                .adaptive(GradientConfig::new(1, 20).tolerance(f64::NAN))
                .build()
        ),
        "tolerance"
    );
    assert_eq!(
        field(
            Bulkhead::builder()
                .adaptive(GradientConfig::new(1, 20).long_window(0))
                .build()
        ),
        "long_window"
    );
}

#[test]
fn errors_read_well() {
    assert_eq!(
        Bulkhead::new(0).unwrap_err().to_string(),
        "invalid bulkhead config: `max_concurrent` must be at least 1 (got 0)"
    );
}

#[test]
fn the_effective_config_reads_back() {
    let bulkhead = Bulkhead::builder()
        .name("db")
        .max_concurrent(20)
        .max_queued(5)
        .max_wait(Duration::from_millis(250))
        .build()
        .unwrap();
    let config = bulkhead.config();
    assert_eq!(config.name, "db");
    assert_eq!((config.max_concurrent, config.max_queued), (20, 5));
    assert_eq!(config.max_wait, Some(Duration::from_millis(250)));
    assert_eq!(config.overload, None);
}

#[test]
fn configs_deserialize_with_durations_as_text() {
    let config: BulkheadConfig = serde_json::from_str(
        r#"{
            "name": "db",
            "max_concurrent": 20,
            "max_queued": 100,
            "max_wait": "250ms",
            "overload": { "target": "5ms", "interval": "100ms" },
            "adaptive": { "algorithm": "aimd", "min_limit": 4, "max_limit": 64, "latency_threshold": "300ms" }
        }"#,
    )
    .unwrap();
    assert_eq!(config.max_wait, Some(Duration::from_millis(250)));
    assert_eq!(
        config.overload,
        Some(OverloadConfig::new(
            Duration::from_millis(5),
            Duration::from_millis(100)
        ))
    );
    assert_eq!(
        config.adaptive,
        Some(AdaptiveConfig::Aimd(
            AimdConfig::new(4, 64).latency_threshold(Duration::from_millis(300))
        ))
    );
    assert!(Bulkhead::from_config(config).is_ok());

    let defaults: BulkheadConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(defaults, BulkheadConfig::default());
    let gradient: BulkheadConfig =
        serde_json::from_str(r#"{ "adaptive": { "algorithm": "gradient", "tolerance": 2.0 } }"#)
            .unwrap();
    assert_eq!(
        gradient.adaptive,
        Some(AdaptiveConfig::Gradient(
            GradientConfig::default().tolerance(2.0)
        ))
    );
    let typo = serde_json::from_str::<BulkheadConfig>(r#"{ "max_concurent": 3 }"#).unwrap_err();
    assert!(typo.to_string().contains("unknown field"), "{typo}");
}
