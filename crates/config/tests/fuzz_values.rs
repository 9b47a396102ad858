//! No field value panics: each is a problem at its path, or it builds.

use std::fmt::Write;

use proptest::prelude::*;
use steadfast_config::{Config, Configured};

const FIELDS: &[(&str, &str)] = &[
    ("timeout", "limit"),
    ("retry", "max_attempts"),
    ("retry", "max_elapsed"),
    ("retry", "max_delay"),
    ("retry", "backoff.initial"),
    ("retry", "backoff.multiplier"),
    ("retry", "budget.ratio"),
    ("retry", "budget.capacity"),
    ("breaker", "consecutive_failures"),
    ("breaker", "open_duration.base"),
    ("breaker", "open_duration.multiplier"),
    ("breaker", "open_duration.jitter"),
    ("breaker", "half_open.trials"),
    ("breaker", "half_open.success_rate"),
    ("rate_limit", "quota.limit"),
    ("rate_limit", "quota.period"),
    ("rate_limit", "quota.burst"),
    ("rate_limit", "max_keys"),
    ("bulkhead", "max_concurrent"),
    ("bulkhead", "max_queued"),
    ("bulkhead", "max_wait"),
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (0u64..5).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| if f.is_finite() {
            format!("{f:?}")
        } else {
            "nan".into()
        }),
        prop_oneof![Just("inf"), Just("-inf"), Just("-0.0"), Just("1e308")].prop_map(str::to_owned),
        (
            any::<u32>(),
            prop_oneof![
                Just("ns"),
                Just("ms"),
                Just("s"),
                Just("d"),
                Just("x"),
                Just("")
            ]
        )
            .prop_map(|(n, unit)| format!("\"{n}{unit}\"")),
        prop_oneof![
            Just("\"\""),
            Just("\"-1s\""),
            Just("\"99999999999999999999d\"")
        ]
        .prop_map(str::to_owned),
        any::<bool>().prop_map(|b| b.to_string()),
    ]
}

static BUILT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(18), ..ProptestConfig::default() })]

    #[test]
    fn any_value_of_any_field_is_a_problem_or_builds(
        picks in proptest::collection::vec((0..FIELDS.len(), value()), 1..4),
        keyed in any::<bool>(),
    ) {
        let mut text = String::from("[pipelines.p]\n");
        let mut sections = std::collections::BTreeMap::<&str, Vec<String>>::new();
        for (i, value) in &picks {
            let (section, field) = FIELDS[*i];
            sections.entry(section).or_default().push(format!("{field} = {value}"));
        }
        for (section, fields) in &sections {
            let mut fields = fields.clone();
            if *section == "rate_limit" {
                fields.push(format!("keyed = {keyed}"));
                if !fields.iter().any(|f| f.starts_with("quota.limit")) {
                    fields.push("quota.limit = 10".into());
                }
                if !fields.iter().any(|f| f.starts_with("quota.period")) {
                    fields.push("quota.period = \"1s\"".into());
                }
            }
            if *section == "timeout" && !fields.iter().any(|f| f.starts_with("limit")) {
                fields.push("limit = \"1s\"".into());
            }
            // Dotted keys may repeat a table only once each: dedupe by key.
            let mut seen = std::collections::BTreeSet::new();
            fields.retain(|f| seen.insert(f.split(" = ").next().unwrap_or("").to_owned()));
            writeln!(text, "{section} = {{ {} }}", fields.join(", ")).unwrap();
        }
        match Config::from_toml(&text) {
            Ok(config) => {
                let live = Configured::new(config).expect("a config that parsed builds");
                let _ = live.registry().health();
                BUILT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            // A syntax error would mean the generator is wrong, not the config.
            Err(errors) => prop_assert!(errors.paths().iter().all(|p| !p.is_empty()), "{text}\n{errors}"),
        }
    }
}

#[test]
fn the_generator_reaches_configs_that_build() {
    // Run after (or beside) the property: at least some of its cases build.
    any_value_of_any_field_is_a_problem_or_builds();
    assert!(BUILT.load(std::sync::atomic::Ordering::Relaxed) > 20);
}
