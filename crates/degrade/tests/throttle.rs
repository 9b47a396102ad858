//! Client-side adaptive throttling (SRE book, K = 2): requests vs accepts
//! over a sliding window.

use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{ErrorKind, Inspect, Policy};
use steadfast_degrade::{AdaptiveThrottle, AdaptiveThrottleConfig};

fn throttle(window: Duration) -> AdaptiveThrottle {
    let mut config = AdaptiveThrottleConfig::default();
    config.window = window;
    AdaptiveThrottle::from_config(config).unwrap()
}

#[tokio::test(start_paused = true)]
async fn nothing_is_throttled_while_half_the_calls_are_accepted() {
    let throttle = throttle(Duration::from_secs(60));
    // ok, err, ok, err…: requests never exceed twice the accepts.
    let alternating = ScriptedOp::<u8, TestError>::new((0..100).map(|i| {
        if i % 2 == 0 {
            Step::ok(1)
        } else {
            Step::err(TestError::new("x"))
        }
    }));
    for _ in 0..100 {
        let _ = throttle.call(alternating.clone()).await;
    }
    let s = throttle.snapshot();
    assert_eq!((s.requests, s.accepts, s.throttled), (100, 50, 0));
    assert_eq!(alternating.invocations(), 100);
    assert!(s.reject_probability.abs() < f64::EPSILON);
}

#[tokio::test(start_paused = true)]
async fn a_refusing_dependency_is_throttled_with_the_sre_probability() {
    let throttle = throttle(Duration::from_secs(60));
    let op = ScriptedOp::<u8, TestError>::always_err(TestError::new("overloaded"));
    let mut throttled = 0;
    for _ in 0..200 {
        if let Err(e) = throttle.call(op.clone()).await
            && e.kind() == ErrorKind::Shed
        {
            throttled += 1;
        }
    }
    let s = throttle.snapshot();
    // Every call counts as a request, throttled or not; none was accepted.
    assert_eq!((s.requests, s.accepts, s.throttled), (200, 0, throttled));
    assert_eq!(op.invocations(), 200 - throttled);
    assert!((s.reject_probability - 200.0 / 201.0).abs() < 1e-12);
    // The probability climbs to 199/200 quickly: nearly all are refused.
    assert!(throttled > 150, "{throttled}");

    // The window slides on: with nothing counted, nothing is throttled.
    tokio::time::advance(Duration::from_secs(61)).await;
    let s = throttle.snapshot();
    assert_eq!((s.requests, s.accepts), (0, 0));
    let ok = ScriptedOp::<u8, TestError>::always_ok(1);
    assert_eq!(throttle.call(ok.clone()).await, Ok(1));
}

#[tokio::test(start_paused = true)]
async fn recovery_brings_the_probability_down() {
    let throttle = throttle(Duration::from_secs(10));
    let failing = ScriptedOp::<u8, TestError>::always_err(TestError::new("overloaded"));
    for _ in 0..20 {
        let _ = throttle.call(failing.clone()).await;
    }
    let before = throttle.snapshot().reject_probability;
    let ok = ScriptedOp::<u8, TestError>::always_ok(1);
    for _ in 0..40 {
        tokio::time::advance(Duration::from_millis(100)).await;
        let _ = throttle.call(ok.clone()).await;
    }
    let after = throttle.snapshot();
    assert!(
        after.reject_probability < before,
        "{} vs {before}",
        after.reject_probability
    );
}

#[test]
fn config_is_validated() {
    let mut config = AdaptiveThrottleConfig::default();
    config.k = 0.5;
    assert_eq!(
        AdaptiveThrottle::from_config(config).unwrap_err().field(),
        "k"
    );
    let mut config = AdaptiveThrottleConfig::default();
    config.window = Duration::from_millis(1);
    assert_eq!(
        AdaptiveThrottle::from_config(config).unwrap_err().field(),
        "window"
    );
    let parsed: AdaptiveThrottleConfig =
        serde_json::from_str(r#"{ "k": 1.5, "window": "2m" }"#).unwrap();
    assert_eq!(parsed.window, Duration::from_secs(120));
}
