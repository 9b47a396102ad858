//! Reconfiguring a running breaker: new thresholds, the same state.

mod common;

use common::*;
use steadfast_breaker::{Breaker, BreakerConfig, HalfOpen, OpenDuration, State};
use steadfast_core::Inspect;
use tokio::time::advance;

fn breaker() -> Breaker {
    Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(3)
        .failure_rate_over_calls(0.5, 10, 10)
        .open_for(secs(10))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_stays_open_and_the_next_open_uses_the_new_duration() {
    let b = breaker();
    for _ in 0..3 {
        fail(&b).await.unwrap_err();
    }
    assert_eq!(b.state(), State::Open);
    let mut config = b.config();
    config.open_duration = OpenDuration::fixed(secs(60));
    config.half_open = HalfOpen::new(1);
    b.reconfigure(config.clone()).unwrap();
    assert_eq!(b.config(), config);
    // The open period it was given is kept: 10 s, not 60 s.
    assert_eq!(b.state(), State::Open);
    assert!(is_open(&ok(&b).await));
    advance(secs(10)).await;
    assert_eq!(b.state(), State::HalfOpen);
    // A failed trial opens it again, now for 60 s.
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Open);
    assert_eq!(retry_after(&ok(&b).await), Some(secs(60)));
    assert_eq!(b.snapshot().opened, 2);
}

#[tokio::test(start_paused = true)]
async fn new_limits_judge_the_calls_after_them_with_the_counts_kept() {
    let b = breaker();
    fail(&b).await.unwrap_err();
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Closed);
    let mut config = b.config();
    config.consecutive_failures = Some(2);
    b.reconfigure(config).unwrap();
    // The two failures so far still count: the next one is the third.
    assert_eq!(b.state(), State::Closed);
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn a_new_rate_threshold_applies_to_the_same_window() {
    let b = breaker();
    // 2 failures in 10 calls: 20 %, under the 50 % rule.
    for i in 0..10 {
        if i % 5 == 0 {
            fail(&b).await.unwrap_err();
        } else {
            ok(&b).await.unwrap();
        }
    }
    assert_eq!(b.state(), State::Closed);
    let mut config = b.config();
    config.failure_rates[0].rate = 0.2;
    b.reconfigure(config).unwrap();
    // One more failure keeps 2 of the last 10 failing: 20 %, which now trips.
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn a_change_of_shape_is_refused_and_changes_nothing() {
    let b = breaker();
    let before = b.config();
    let mut wider = before.clone();
    wider.failure_rates[0] = steadfast_breaker::FailureRate::new(
        0.5,
        steadfast_breaker::Window::Count(steadfast_breaker::CountWindow::new(20, 10)),
    );
    wider.consecutive_failures = Some(1);
    let err = b.reconfigure(wider.clone()).unwrap_err();
    assert_eq!(err.field(), "failure_rates");
    assert_eq!(b.check_reconfigure(&wider).unwrap_err(), err);
    assert_eq!(b.config(), before);
    // The old limit of 3 still holds.
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Closed);

    let mut invalid = before.clone();
    invalid.consecutive_failures = Some(0);
    let err = b.reconfigure(invalid).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid breaker config: `consecutive_failures` must be at least 1 (got 0)"
    );
    assert_eq!(b.config(), before);
}
