//! Every config round-trips through TOML (tiers, abuse, lockout included),
//! tiers chosen in code take their quotas from the file, and the snapshots
//! serialize with their documented field names.

use std::time::Duration;

use steadfast_core::{Context, Error, Inspect, Policy};
use steadfast_ratelimit::{
    AbuseConfig, Algorithm, KeyedRateLimiter, Lockout, LockoutConfig, Mode, Quota, RateLimiter,
    RateLimiterConfig, TierConfig, TimeSource, WarmUp,
};

fn round_trip<C>(config: &C) -> C
where
    C: serde::Serialize + serde::de::DeserializeOwned,
{
    let text = toml::to_string(config).expect("a config serializes to TOML");
    toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A config with every field away from its default.
fn everything() -> RateLimiterConfig {
    let mut config = RateLimiterConfig::new(Quota::per_minute(60).burst(10));
    config.name = "per-user".into();
    config.algorithm = Algorithm::Gcra;
    config.tiers = vec![
        TierConfig {
            name: "pro".into(),
            quota: Quota::per_minute(500),
        },
        TierConfig {
            name: "operator".into(),
            quota: Quota::new(1_000, Duration::from_millis(1_500)).burst(50),
        },
    ];
    config.mode = Mode::Wait {
        max_wait: Duration::from_millis(250),
    };
    config.max_keys = Some(100_000);
    config.sweep_interval = Some(Duration::from_secs(30));
    config.warm_up =
        Some(WarmUp::new(0.25, Duration::from_secs(30)).idle_after(Duration::from_secs(90)));
    config.abuse = Some(AbuseConfig {
        threshold: 100,
        window: Duration::from_secs(60),
    });
    config.time_source = TimeSource::Precise;
    config.share_unkeyed = true;
    config.log_keys = true;
    config
}

#[test]
fn rate_limiter_configs_round_trip_through_toml() {
    let config = everything();
    assert_eq!(round_trip(&config), config);
    let text = toml::to_string(&config).unwrap();
    assert!(text.contains(r#"max_wait = "250ms""#), "{text}");
    assert!(text.contains(r#"name = "operator""#), "{text}");
    assert!(text.contains(r#"period = "1500ms""#), "{text}");

    // The defaults, and every algorithm and mode.
    let defaults = RateLimiterConfig::new(Quota::per_second(10));
    assert_eq!(round_trip(&defaults), defaults);
    for algorithm in [Algorithm::SlidingWindow, Algorithm::FixedWindow] {
        let mut windowed = RateLimiterConfig::new(Quota::per_minute(100));
        windowed.algorithm = algorithm;
        windowed.mode = Mode::Reject;
        assert_eq!(round_trip(&windowed), windowed);
    }
    // No background sweep is written "off" (TOML has no null).
    let mut unswept = RateLimiterConfig::new(Quota::per_second(10));
    unswept.sweep_interval = None;
    assert!(
        toml::to_string(&unswept)
            .unwrap()
            .contains(r#"sweep_interval = "off""#)
    );
    assert_eq!(round_trip(&unswept), unswept);
    for source in [TimeSource::Auto, TimeSource::Tokio] {
        let mut timed = RateLimiterConfig::new(Quota::per_second(10));
        timed.time_source = source;
        assert_eq!(round_trip(&timed), timed);
    }
}

#[test]
fn lockout_configs_round_trip_through_toml() {
    let mut config = LockoutConfig::default();
    config.name = "login".into();
    config.max_failures = 3;
    config.window = Duration::from_secs(600);
    config.lockout = Duration::from_secs(30);
    config.max_lockout = Duration::from_secs(7_200);
    config.forget_after = Duration::from_secs(86_400);
    config.max_keys = Some(50_000);
    config.sweep_interval = None;
    config.time_source = TimeSource::Tokio;
    config.pass_through_unkeyed = true;
    config.log_keys = true;
    assert_eq!(round_trip(&config), config);
    assert_eq!(
        round_trip(&LockoutConfig::default()),
        LockoutConfig::default()
    );
    let text = toml::to_string(&config).unwrap();
    assert!(text.contains(r#"forget_after = "1d""#), "{text}");
    assert!(Lockout::<String>::from_config(round_trip(&config)).is_ok());
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct User {
    id: u64,
    plan: &'static str,
}

#[tokio::test(start_paused = true)]
async fn tiers_come_from_the_file_and_the_choice_from_code() {
    let config: RateLimiterConfig = toml::from_str(
        r#"
        name = "per-user"
        quota = { limit = 2, period = "1m" }

        [[tiers]]
        name = "pro"
        quota = { limit = 5, period = "1m" }
        "#,
    )
    .unwrap();
    let by_name = KeyedRateLimiter::<User>::builder_from(config.clone())
        .tier_named(|user: &User| user.plan)
        .build()
        .unwrap();
    let by_index = KeyedRateLimiter::<User>::builder_from(config)
        .tier_of(|user: &User| usize::from(user.plan == "pro"))
        .build()
        .unwrap();
    let free = User {
        id: 1,
        plan: "free",
    };
    let pro = User { id: 2, plan: "pro" };
    for limiter in [&by_name, &by_index] {
        assert_eq!(
            limiter.peek(&free).limit,
            2,
            "an unknown name is the default tier"
        );
        assert_eq!(limiter.peek(&pro).limit, 5);
        let op = || async { Ok::<_, ()>(()) };
        let mut admitted = 0;
        while limiter
            .call_with(Context::new().with_key(&pro), op)
            .await
            .is_ok()
        {
            admitted += 1;
        }
        assert_eq!(admitted, 5);
        assert!(matches!(limiter.call(op).await, Err(Error::MissingKey(_))));
    }
    // The tier's quota changes at run time by the name in the file.
    by_name.set_tier_quota("pro", Quota::per_minute(9)).unwrap();
    assert_eq!(by_name.peek(&pro).limit, 9);
}

#[tokio::test(start_paused = true)]
async fn a_direct_limiter_and_a_lockout_build_from_their_configs() {
    let direct: RateLimiterConfig =
        toml::from_str(r#"quota = { limit = 3, period = "1s" }"#).unwrap();
    let limiter = RateLimiter::builder_from(direct.clone())
        .name("outbound")
        .build()
        .unwrap();
    assert_eq!(limiter.quota(), Quota::per_second(3));
    assert_eq!(
        RateLimiter::from_config(direct).unwrap().quota(),
        Quota::per_second(3)
    );
    // Keyed-only settings are refused for a direct limiter, by name.
    let mut shared = RateLimiterConfig::new(Quota::per_second(3));
    shared.share_unkeyed = true;
    assert_eq!(
        RateLimiter::from_config(shared).unwrap_err().field(),
        "share_unkeyed"
    );
    let lockout: LockoutConfig = toml::from_str(
        r#"
        name = "login"
        max_failures = 2
        lockout = "30s"
        max_lockout = "1h"
        "#,
    )
    .unwrap();
    let lockout = Lockout::<String>::builder_from(lockout).build().unwrap();
    let user = "ada".to_owned();
    lockout.record_failure(&user);
    assert_eq!(lockout.record_failure(&user), Some(Duration::from_secs(30)));
}

#[tokio::test(start_paused = true)]
async fn snapshots_serialize_with_their_documented_names() {
    let limiter = KeyedRateLimiter::<u64>::builder(Quota::per_second(1))
        .name("per-user")
        .algorithm(Algorithm::SlidingWindow)
        .build()
        .unwrap();
    limiter.check(&7).unwrap();
    assert!(limiter.check(&7).is_err());
    let json = serde_json::to_value(limiter.snapshot()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "name": "per-user",
            "algorithm": "sliding_window",
            "keys_tracked": 1,
            "admitted": 1,
            "rejected": 1,
            "waiting": 0,
            "heap_bytes": limiter.snapshot().heap_bytes,
            "shadow": false,
        })
    );

    let lockout = Lockout::<u64>::builder()
        .name("login")
        .max_failures(1)
        .build()
        .unwrap();
    lockout.record_failure(&7);
    assert!(lockout.check(&7).is_err());
    assert_eq!(
        serde_json::to_value(lockout.snapshot()).unwrap(),
        serde_json::json!({ "name": "login", "keys_tracked": 1, "lockouts": 1, "rejected": 1 })
    );
}
