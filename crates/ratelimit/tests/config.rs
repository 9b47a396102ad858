//! Configs are validated into ConfigError naming the field, and deserialize.

use std::time::Duration;

use steadfast_ratelimit::{
    Algorithm, KeyedRateLimiter, Lockout, LockoutConfig, Mode, Quota, RateLimiter,
    RateLimiterConfig, TimeSource, WarmUp,
};

#[test]
fn bad_values_name_their_field() {
    let cases = [
        (
            RateLimiter::new(Quota::per_second(0)).unwrap_err(),
            "quota",
            "limit must be greater than zero",
        ),
        (
            RateLimiter::new(Quota::per_second(5).burst(0)).unwrap_err(),
            "quota",
            "burst must be greater than zero",
        ),
        (
            RateLimiter::new(Quota::new(5, Duration::ZERO)).unwrap_err(),
            "quota",
            "period must be greater than zero",
        ),
        (
            RateLimiter::builder(Quota::per_second(5))
                .wait(Duration::ZERO)
                .build()
                .unwrap_err(),
            "mode.max_wait",
            "must be greater than zero (use Mode::Reject not to wait)",
        ),
        (
            KeyedRateLimiter::<u8>::builder(Quota::per_second(5))
                .max_keys(0)
                .build()
                .unwrap_err(),
            "max_keys",
            "must be greater than zero",
        ),
        (
            KeyedRateLimiter::<u8>::builder(Quota::per_second(5))
                .tier("pro", Quota::per_second(0))
                .build()
                .unwrap_err(),
            "tiers",
            "limit must be greater than zero",
        ),
        (
            KeyedRateLimiter::<u8>::builder(Quota::per_second(5))
                .abuse(3, Duration::ZERO)
                .build()
                .unwrap_err(),
            "abuse.window",
            "must be greater than zero",
        ),
    ];
    for (err, field, rule) in cases {
        assert_eq!(
            (err.policy(), err.field(), err.rule()),
            ("ratelimit", field, rule),
            "{err}"
        );
    }
    let err = RateLimiter::new(Quota::per_second(0)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid ratelimit config: `quota` limit must be greater than zero (got 0)"
    );
    // Keyed-only settings on a direct limiter are refused, not ignored.
    let mut config = RateLimiterConfig::new(Quota::per_second(5));
    config.max_keys = Some(10);
    assert_eq!(
        RateLimiter::from_config(config).unwrap_err().field(),
        "max_keys"
    );
}

#[test]
fn the_effective_config_reads_back() {
    let limiter = RateLimiter::builder(Quota::per_minute(90).burst(5))
        .name("ai")
        .algorithm(Algorithm::Gcra)
        .wait(Duration::from_secs(2))
        .warm_up(WarmUp::new(0.25, Duration::from_secs(30)))
        .time_source(TimeSource::Precise)
        .build()
        .unwrap();
    let config = limiter.config();
    assert_eq!(config.name, "ai");
    assert_eq!(
        config.mode,
        Mode::Wait {
            max_wait: Duration::from_secs(2)
        }
    );
    assert_eq!(limiter.quota(), Quota::per_minute(90).burst(5));
    assert_eq!(
        config.warm_up,
        Some(WarmUp::new(0.25, Duration::from_secs(30)))
    );
}

#[test]
fn configs_deserialize() {
    let config: RateLimiterConfig = serde_json::from_str(
        r#"{
            "name": "per-user",
            "algorithm": "sliding_window",
            "quota": { "limit": 60, "period": "1m" },
            "tiers": [{ "name": "pro", "quota": { "limit": 500, "period": "1m" } }],
            "mode": { "kind": "wait", "max_wait": "250ms" },
            "max_keys": 1000,
            "sweep_interval": "30s",
            "warm_up": { "from": 0.5, "period": "10s", "idle": "1m" },
            "abuse": { "threshold": 100, "window": "1m" },
            "time_source": "precise"
        }"#,
    )
    .unwrap();
    assert_eq!(config.algorithm, Algorithm::SlidingWindow);
    assert_eq!(config.quota, Quota::per_minute(60));
    assert_eq!(
        config.mode,
        Mode::Wait {
            max_wait: Duration::from_millis(250)
        }
    );
    assert_eq!(config.sweep_interval, Some(Duration::from_secs(30)));
    assert_eq!(config.time_source, TimeSource::Precise);
    let limiter = KeyedRateLimiter::<u64>::from_config(config).unwrap();
    assert_eq!(limiter.tier_quota("pro"), Some(Quota::per_minute(500)));

    let minimal: RateLimiterConfig =
        serde_json::from_str(r#"{ "quota": { "limit": 10, "period": "1s", "burst": 20 } }"#)
            .unwrap();
    assert_eq!(
        minimal,
        RateLimiterConfig::new(Quota::per_second(10).burst(20))
    );
    assert!(
        serde_json::from_str::<RateLimiterConfig>(r#"{ "quota": { "limit": 10, "period": "1" } }"#)
            .is_err()
    );

    let lockout: LockoutConfig =
        serde_json::from_str(r#"{ "max_failures": 3, "lockout": "30s", "max_lockout": "1h" }"#)
            .unwrap();
    assert_eq!(lockout.max_failures, 3);
    assert_eq!(lockout.window, LockoutConfig::default().window);
    assert!(Lockout::<String>::from_config(lockout).is_ok());
}
