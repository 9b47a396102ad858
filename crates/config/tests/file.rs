//! Reading config files: layout, presets, inheritance, every problem at its path.

use std::time::Duration;

use steadfast_breaker::BreakerConfig;
use steadfast_config::{Config, PolicyConfig, Stage};

fn stage<'c>(config: &'c Config, pipeline: &str, i: usize) -> &'c Stage {
    &config.pipelines[pipeline].stages[i]
}

fn inline(stage: &Stage) -> &PolicyConfig {
    match stage {
        Stage::Inline { spec, .. } => &spec.config,
        Stage::Named(name) => panic!("expected an inline stage, got the named policy {name}"),
    }
}

const FILE: &str = r#"
[defaults]
timeout = { limit = "2s" }
retry = { max_attempts = 3, backoff = { kind = "exponential", initial = "50ms", multiplier = 2.0, max = "1s" } }

[presets.breaker.flaky]
preset = "ai_api"
consecutive_failures = 3

[policies.db]
breaker = { preset = "database", critical = true }

[policies.users]
rate_limit = { keyed = true, quota = { limit = 100, period = "1m" } }

[pipelines.orders]
stages = ["users", "timeout", "retry", "db"]
retry = { max_attempts = 5 }

[pipelines.summary]
breaker = "flaky"
timeout = false
trace = true
"#;

#[test]
fn defaults_presets_and_named_policies_resolve_as_documented() {
    let config = Config::from_toml(FILE).unwrap();
    // orders: its own stages, the named policies shared.
    let orders = &config.pipelines["orders"];
    assert_eq!(orders.stages.len(), 4);
    assert_eq!(stage(&config, "orders", 0), &Stage::Named("users".into()));
    assert_eq!(stage(&config, "orders", 3), &Stage::Named("db".into()));
    let PolicyConfig::Timeout(timeout) = inline(stage(&config, "orders", 1)) else {
        panic!()
    };
    assert_eq!(
        (timeout.limit, timeout.name.as_str()),
        (Duration::from_secs(2), "orders.timeout")
    );
    // The pipeline's max_attempts over the default's; the default's backoff kept.
    let PolicyConfig::Retry(retry) = inline(stage(&config, "orders", 2)) else {
        panic!()
    };
    assert_eq!(retry.max_attempts, 5);
    assert_eq!(retry.backoff.max_delay(), Duration::from_secs(1));
    // A named policy is named for its key, and keeps `critical`.
    let db = &config.policies["db"];
    assert!(db.critical);
    let mut expected = BreakerConfig::database();
    expected.name = "db".into();
    assert_eq!(db.config, PolicyConfig::Breaker(expected));
    assert!(matches!(
        config.policies["users"].config,
        PolicyConfig::RateLimit { keyed: true, .. }
    ));

    // summary: no `stages`, so the documented order; `timeout = false`
    // drops the default; a user preset over a built-in one.
    let summary = &config.pipelines["summary"];
    assert!(summary.trace);
    let sections: Vec<&str> = summary
        .stages
        .iter()
        .map(|s| match s {
            Stage::Inline { section, .. } => section.as_str(),
            Stage::Named(n) => n.as_str(),
        })
        .collect();
    assert_eq!(sections, ["retry", "breaker"]);
    let PolicyConfig::Breaker(breaker) = inline(stage(&config, "summary", 1)) else {
        panic!()
    };
    let mut expected = BreakerConfig::ai_api();
    expected.name = "summary.breaker".into();
    expected.consecutive_failures = Some(3);
    assert_eq!(breaker, &expected);
}

#[test]
fn a_resolved_config_round_trips_through_serde() {
    let config = Config::from_toml(FILE).unwrap();
    let json = serde_json::to_string_pretty(&config).unwrap();
    let back: Config = serde_json::from_str(&json).unwrap();
    assert_eq!(back, config);
}

#[test]
fn every_problem_is_reported_at_its_path() {
    let err = Config::from_toml(
        r#"
        colour = "blue"

        [defaults]
        retry = { max_attempts = 0 }

        [presets.breaker.loop_a]
        preset = "loop_b"
        [presets.breaker.loop_b]
        preset = "loop_a"
        [presets.breaker.database]
        consecutive_failures = 1
        [presets.cache.x]

        [policies.two]
        breaker = "standard"
        bulkhead = { max_concurrent = 1 }
        [policies.none]
        [policies.pool]
        bulkhead = { max_concurrent = 0, keyed = true }

        [pipelines.a]
        stages = ["timeout", "nowhere", "retry", "retry", "bulkhead"]
        breaker = "loop_a"
        bulkhead = { max_concurrnt = 3 }

        [pipelines.b]
        timeout = { limit = "soon" }
        breaker = { preset = "nope" }
        rate_limit = { quota = { limit = 0, period = "1s" } }
        retries = 2
        "#,
    )
    .unwrap_err();
    let problems: Vec<String> = err.problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "colour: unknown field `colour`, expected one of `defaults`, `presets`, `policies`, `pipelines`",
            "presets.breaker.database: a built-in preset has this name; choose another",
            "presets.cache: unknown kind `cache`, expected one of `timeout`, `retry`, `breaker`, `rate_limit`, `bulkhead`",
            "policies.none: set the policy's kind: one of `timeout`, `retry`, `breaker`, `rate_limit`, `bulkhead`",
            "policies.pool.bulkhead.keyed: only a rate limit is keyed",
            "policies.two: a named policy is one policy: set one kind only",
            "presets.breaker.loop_a.preset: presets start from one another too deeply (is there a cycle?)",
            "pipelines.a.stages[0]: `timeout` is not set: add a `timeout` section to the pipeline or to `defaults`",
            "pipelines.a.stages[1]: no section or named policy `nowhere`",
            "defaults.retry.max_attempts: must be at least 1 (got 0)",
            "pipelines.a.stages[3]: `retry` is already a stage of this pipeline",
            "pipelines.a.bulkhead.max_concurrnt: unknown field `max_concurrnt`, expected one of `name`, `max_concurrent`, `max_queued`, `max_wait`, `overload`, `adaptive`",
            "pipelines.b.retries: unknown field `retries`, expected one of `timeout`, `retry`, `breaker`, `rate_limit`, `bulkhead`, `attempt_timeout`, `stages`, `trace`, `histogram`",
            "pipelines.b.breaker.preset: no breaker preset named `nope`; expected one of `standard`, `database`, `ai_api`, `empty`, `loop_a`, `loop_b`",
            "pipelines.b.timeout.limit: duration `soon` has an unknown unit `soon` (use ns, us, ms, s, m, h, d)",
            "pipelines.b.rate_limit.quota: limit must be greater than zero (got 0)",
        ]
    );
}

#[test]
fn a_syntax_error_says_where() {
    let err = Config::from_toml("[pipelines.a\n").unwrap_err();
    assert_eq!(err.paths(), [""]);
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[test]
fn any_serde_format_reads_the_same_layout() {
    let json: serde_json::Value = serde_json::from_str(
        r#"{ "pipelines": { "api": { "timeout": { "limit": "250ms" }, "bulkhead": { "max_concurrent": 8 } } } }"#,
    )
    .unwrap();
    let config = Config::from_value(&json).unwrap();
    assert_eq!(config.pipelines["api"].stages.len(), 2);
}
