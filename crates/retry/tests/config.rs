//! Validation names the field; configs deserialize with the `serde` feature.

use std::time::Duration;

use steadfast_retry::{Backoff, BudgetConfig, HedgeConfig, Retry, RetryConfig};

fn field_of(builder: steadfast_retry::RetryBuilder) -> &'static str {
    builder.build().unwrap_err().field()
}

#[test]
fn bad_values_are_rejected_by_name() {
    let ms = Duration::from_millis;
    assert_eq!(field_of(Retry::builder().max_attempts(0)), "max_attempts");
    assert_eq!(
        field_of(Retry::builder().max_elapsed(Duration::ZERO)),
        "max_elapsed"
    );
    assert_eq!(
        field_of(Retry::builder().backoff(Backoff::exponential(ms(10), 0.0, ms(100)))),
        "backoff.multiplier"
    );
    assert_eq!(
        field_of(Retry::builder().backoff(Backoff::exponential(ms(10), f64::NAN, ms(100)))),
        "backoff.multiplier"
    );
    assert_eq!(
        field_of(Retry::builder().backoff(Backoff::exponential(ms(100), 2.0, ms(10)))),
        "backoff.max"
    );
    assert_eq!(
        field_of(Retry::builder().budget(BudgetConfig::new().ratio(f64::NAN))),
        "budget.ratio"
    );
    assert_eq!(
        field_of(Retry::builder().budget(BudgetConfig::new().capacity(0))),
        "budget.capacity"
    );
    assert_eq!(
        field_of(Retry::builder().hedging(HedgeConfig::delayed(Duration::ZERO))),
        "hedging.delay"
    );
    assert_eq!(
        field_of(Retry::builder().hedging(HedgeConfig::parallel().max_hedged(0))),
        "hedging.max_hedged"
    );
    let err = Retry::builder().max_attempts(0).build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid retry config: `max_attempts` must be at least 1 (got 0)"
    );
}

#[test]
fn defaults_read_back() {
    let retry = Retry::default();
    let config = retry.config();
    assert_eq!(config, &RetryConfig::default());
    assert_eq!(config.max_attempts, 3);
    assert_eq!(config.backoff, Backoff::default());
    assert_eq!(config.effective_max_delay(), Duration::from_secs(10));
    assert!(config.budget.is_some() && config.hedging.is_none());
}

#[cfg(feature = "serde")]
mod serde {
    use super::*;
    use steadfast_retry::{HedgeMode, Jitter};

    #[test]
    fn a_full_config_deserializes() {
        let config: RetryConfig = serde_json::from_str(
            r#"{
                "name": "search",
                "max_attempts": 5,
                "max_elapsed": "3s",
                "backoff": { "kind": "linear", "initial": "10ms", "step": "20ms", "max": "1s", "jitter": "equal" },
                "max_delay": "2s",
                "budget": { "ratio": 0.1, "capacity": 20 },
                "hedging": { "mode": "delayed", "delay": "75ms", "max_hedged": 2 },
                "seed": 9
            }"#,
        )
        .unwrap();
        let ms = Duration::from_millis;
        assert_eq!(config.name, "search");
        assert_eq!(config.max_attempts, 5);
        assert_eq!(config.max_elapsed, Some(ms(3_000)));
        assert_eq!(
            config.backoff,
            Backoff::linear(ms(10), ms(20), ms(1_000)).with_jitter(Jitter::Equal)
        );
        assert_eq!(config.max_delay, Some(ms(2_000)));
        assert_eq!(
            config.budget,
            Some(BudgetConfig::new().ratio(0.1).capacity(20))
        );
        let hedging = config.hedging.unwrap();
        assert_eq!(hedging.mode, HedgeMode::Delayed { delay: ms(75) });
        assert_eq!(hedging.max_hedged, 2);
        assert_eq!(config.seed, Some(9));
        assert!(Retry::from_config(config).is_ok());
    }

    #[test]
    fn an_empty_config_is_the_default_and_null_disables_the_budget() {
        let config: RetryConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(config, RetryConfig::default());
        let config: RetryConfig = serde_json::from_str(r#"{ "budget": null }"#).unwrap();
        assert_eq!(config.budget, None);
        let config: RetryConfig =
            serde_json::from_str(r#"{ "hedging": { "mode": "parallel" } }"#).unwrap();
        assert_eq!(config.hedging, Some(HedgeConfig::parallel()));
    }

    #[test]
    fn bad_configs_fail() {
        assert!(
            serde_json::from_str::<RetryConfig>(r#"{ "max_attempts": 2, "typo": 1 }"#).is_err()
        );
        assert!(serde_json::from_str::<RetryConfig>(r#"{ "max_elapsed": "30" }"#).is_err());
        let zero: RetryConfig = serde_json::from_str(r#"{ "max_attempts": 0 }"#).unwrap();
        assert_eq!(
            Retry::from_config(zero).unwrap_err().field(),
            "max_attempts"
        );
    }
}
