//! Configuration: every bad value is a `ConfigError` naming its field; presets
//! validate; with `serde`, configs deserialize.

use std::time::Duration;

use steadfast_breaker::{
    Breaker, BreakerConfig, CountWindow, HalfOpen, OpenDuration, TimeWindow, Window,
};

fn field(builder: steadfast_breaker::BreakerBuilder) -> (&'static str, String) {
    let err = builder.build().unwrap_err();
    assert_eq!(err.policy(), "breaker");
    (err.field(), err.to_string())
}

#[test]
fn the_builder_starts_from_the_standard_preset() {
    let built = Breaker::builder().build().unwrap();
    assert_eq!(built.config(), Breaker::new().config());
    assert_eq!(built.config(), BreakerConfig::standard());
    // A setter changes its part only.
    let named = Breaker::builder().name("payments").consecutive_failures(3);
    let mut expected = BreakerConfig::standard();
    expected.name = "payments".into();
    expected.consecutive_failures = Some(3);
    assert_eq!(named.config(), &expected);
    // Cleared, the trip rules are only those set next.
    let only = Breaker::builder()
        .clear_trip_rules()
        .failure_rate_over_calls(0.5, 10, 5)
        .build()
        .unwrap();
    assert_eq!(only.config().consecutive_failures, None);
    assert_eq!(only.config().failure_rates.len(), 1);
    // Nothing set after clearing: the error names the first trip rule.
    let err = Breaker::builder().clear_trip_rules().build().unwrap_err();
    assert_eq!(err.field(), "consecutive_failures");
}

#[test]
fn bad_values_name_their_field() {
    let b = || Breaker::builder().clear_trip_rules();
    let s = Duration::from_secs;
    let cases = [
        (b(), "consecutive_failures"),
        (b().consecutive_failures(0), "consecutive_failures"),
        (b().failure_rate_over_calls(0.0, 10, 5), "failure_rates"),
        (
            b().failure_rate_over_calls(f64::NAN, 10, 5),
            "failure_rates",
        ),
        (b().failure_rate_over_calls(1.5, 10, 5), "failure_rates"),
        (b().failure_rate_over_calls(0.5, 0, 0), "failure_rates"),
        (b().failure_rate_over_calls(0.5, 10, 11), "failure_rates"),
        (b().failure_rate_over_calls(0.5, 10, 0), "failure_rates"),
        (
            b().failure_rate_over_time(0.5, Duration::from_millis(5), 1),
            "failure_rates",
        ),
        (b().failure_rate_over_time(0.5, s(10), 0), "failure_rates"),
        (
            b().failure_rate(0.5, Window::Time(TimeWindow::new(s(10), 5).with_buckets(0))),
            "failure_rates",
        ),
        (b().slow_calls(Duration::ZERO, 0.5, 10, 5), "slow_call_rate"),
        (b().slow_calls(s(1), -0.1, 10, 5), "slow_call_rate"),
        (
            b().consecutive_failures(1).open_for(Duration::ZERO),
            "open_duration",
        ),
        (
            b().consecutive_failures(1)
                .open_duration(OpenDuration::growing(s(10), 0.5, s(60))),
            "open_duration",
        ),
        (
            b().consecutive_failures(1)
                .open_duration(OpenDuration::growing(s(10), f64::INFINITY, s(60))),
            "open_duration",
        ),
        (
            b().consecutive_failures(1)
                .open_duration(OpenDuration::growing(s(10), 2.0, s(5))),
            "open_duration",
        ),
        (
            b().consecutive_failures(1)
                .open_duration(OpenDuration::fixed(s(1)).with_jitter(1.0)),
            "open_duration",
        ),
        (b().consecutive_failures(1).trials(0), "half_open"),
        (b().consecutive_failures(1).trials(1025), "half_open"),
        (
            b().consecutive_failures(1)
                .half_open(HalfOpen::new(2).with_success_rate(0.0)),
            "half_open",
        ),
        (
            b().consecutive_failures(1)
                .half_open(HalfOpen::new(2).with_trial_deadline(Duration::ZERO)),
            "half_open",
        ),
    ];
    for (builder, expected) in cases {
        let (got, message) = field(builder);
        assert_eq!(got, expected, "{message}");
        assert!(
            message.starts_with("invalid breaker config: `"),
            "{message}"
        );
    }
}

#[test]
fn messages_carry_the_value() {
    let err = Breaker::builder_from(BreakerConfig::empty())
        .failure_rate_over_calls(1.5, 10, 5)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid breaker config: `failure_rates` rate must be greater than 0 and at most 1 (got 1.5)"
    );
}

#[test]
fn presets_build_and_read_back() {
    for config in [
        BreakerConfig::default(),
        BreakerConfig::standard(),
        BreakerConfig::database(),
        BreakerConfig::ai_api(),
    ] {
        let b = Breaker::from_config(config.clone()).unwrap();
        assert_eq!(b.config(), config);
    }
    let db = BreakerConfig::database();
    assert_eq!(db.consecutive_failures, Some(5));
    assert_eq!(
        db.open_duration,
        OpenDuration::fixed(Duration::from_secs(30))
    );
    let ai = BreakerConfig::ai_api();
    assert_eq!(ai.consecutive_failures, Some(3));
    assert_eq!(ai.open_duration.base, Duration::from_secs(60));
    assert!(ai.open_duration.multiplier > 1.0);
    let built = Breaker::builder_from(BreakerConfig::database()).name("orders-db");
    assert_eq!(built.config().name, "orders-db");
    let _ = Breaker::new();
    let _ = CountWindow::new(10, 5);
}

#[cfg(feature = "serde")]
#[test]
fn configs_deserialize() {
    let config: BreakerConfig = serde_json::from_str(
        r#"{
            "name": "payments",
            "consecutive_failures": 5,
            "failure_rates": [
                { "rate": 0.5, "window": { "count": { "calls": 100, "min_calls": 20 } } },
                { "rate": 0.25, "window": { "time": { "length": "30s", "min_throughput": 50 } } }
            ],
            "slow_call_rate": {
                "slower_than": "2s", "rate": 0.8,
                "window": { "time": { "length": "1m", "buckets": 6, "min_throughput": 10 } }
            },
            "open_duration": { "base": "5s", "multiplier": 2.0, "max": "2m", "jitter": 0.1 },
            "half_open": { "trials": 3, "success_rate": 0.67, "trial_deadline": "10s" },
            "metrics_only": true,
            "jitter_seed": 42
        }"#,
    )
    .unwrap();
    assert_eq!(config.name, "payments");
    assert_eq!(config.failure_rates.len(), 2);
    assert_eq!(
        config.failure_rates[1].window,
        Window::Time(TimeWindow::new(Duration::from_secs(30), 50))
    );
    assert_eq!(config.open_duration.max, Duration::from_secs(120));
    assert!(config.metrics_only);
    Breaker::from_config(config).unwrap();

    // Defaults fill what is left out; unknown fields and bare numbers are refused.
    let minimal: BreakerConfig = serde_json::from_str(r#"{ "name": "x" }"#).unwrap();
    assert_eq!(
        minimal.consecutive_failures,
        BreakerConfig::standard().consecutive_failures
    );
    assert!(serde_json::from_str::<BreakerConfig>(r#"{ "nmae": "x" }"#).is_err());
    assert!(
        serde_json::from_str::<BreakerConfig>(r#"{ "open_duration": { "base": "5" } }"#).is_err()
    );
    // A deserialized bad value is caught when built.
    let bad: BreakerConfig = serde_json::from_str(r#"{ "consecutive_failures": 0 }"#).unwrap();
    assert_eq!(
        Breaker::from_config(bad).unwrap_err().field(),
        "consecutive_failures"
    );
}
