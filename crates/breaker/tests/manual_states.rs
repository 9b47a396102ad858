//! Isolated, disabled, reset and metrics-only.

mod common;

use common::*;
use steadfast_breaker::{Breaker, BreakerConfig, Reason, State};
use steadfast_core::Inspect;
use tokio::time::advance;

#[tokio::test(start_paused = true)]
async fn isolate_holds_open_until_reset() {
    let (builder, log) = logged(
        Breaker::builder_from(BreakerConfig::empty())
            .consecutive_failures(1)
            .open_for(secs(1)),
    );
    let b = builder.build().unwrap();
    b.isolate();
    let refused = ok(&b).await;
    assert!(is_open(&refused));
    assert_eq!(retry_after(&refused), None, "no probe is scheduled");
    advance(secs(3_600)).await;
    assert!(is_open(&ok(&b).await));
    assert_eq!(b.state(), State::Isolated);
    b.reset();
    ok(&b).await.unwrap();
    let moves: Vec<_> = log.take().into_iter().map(|t| (t.1, t.2)).collect();
    assert_eq!(
        moves,
        [
            (State::Isolated, Reason::Isolated),
            (State::Closed, Reason::Reset)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn disable_admits_and_records_but_never_trips() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(1)
        .failure_rate_over_calls(0.5, 10, 1)
        .build()
        .unwrap();
    b.disable();
    for _ in 0..5 {
        fail(&b).await.unwrap_err();
    }
    let snap = b.snapshot();
    assert_eq!(snap.state, State::Disabled);
    assert_eq!((snap.calls_in_window, snap.failure_rate), (5, Some(1.0)));
    assert_eq!(snap.consecutive_failures, 5);
    b.reset();
    let snap = b.snapshot();
    assert_eq!((snap.state, snap.calls_in_window), (State::Closed, 0));
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn reset_closes_an_open_breaker_and_restores_the_base_duration() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(1)
        .open_duration(steadfast_breaker::OpenDuration::growing(
            secs(10),
            2.0,
            secs(100),
        ))
        .build()
        .unwrap();
    fail(&b).await.unwrap_err();
    advance(secs(10)).await;
    fail(&b).await.unwrap_err(); // re-open: 20 s
    assert_eq!(b.snapshot().time_until_half_open, Some(secs(20)));
    b.reset();
    ok(&b).await.unwrap();
    fail(&b).await.unwrap_err();
    assert_eq!(b.snapshot().time_until_half_open, Some(secs(10)));
}

#[tokio::test(start_paused = true)]
async fn metrics_only_reports_the_state_it_would_be_in_but_never_refuses() {
    let (builder, log) = logged(
        Breaker::builder_from(BreakerConfig::empty())
            .consecutive_failures(2)
            .open_for(secs(10))
            .metrics_only(true),
    );
    let b = builder.build().unwrap();
    fail(&b).await.unwrap_err();
    fail(&b).await.unwrap_err();
    let snap = b.snapshot();
    assert!(snap.metrics_only);
    assert_eq!(snap.state, State::Open);
    // Would be refused: goes through, counted as a would-be rejection.
    assert_eq!(ok(&b).await, Ok(1));
    assert_eq!(fail(&b).await, Err(steadfast_core::Error::Inner(BOOM)));
    assert_eq!(b.snapshot().rejected, 2);
    assert_eq!(
        b.state(),
        State::Open,
        "calls that would be refused are not counted"
    );
    advance(secs(10)).await;
    ok(&b).await.unwrap(); // the would-be trial
    assert_eq!(b.state(), State::Closed);
    assert_eq!(log.take().len(), 3);
    // Isolated too is only reported.
    b.isolate();
    assert_eq!(ok(&b).await, Ok(1));
    assert_eq!(b.snapshot().state, State::Isolated);
}

#[tokio::test(start_paused = true)]
async fn is_refusing_says_whether_a_call_now_would_be_refused() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(1)
        .open_for(secs(10))
        .build()
        .unwrap();
    assert!(!b.is_refusing());
    fail(&b).await.unwrap_err();
    assert!(b.is_refusing());
    tokio::time::advance(secs(10)).await;
    // Half-open: a trial may be admitted.
    assert!(!b.is_refusing());
    b.isolate();
    assert!(b.is_refusing());
    b.reset();
    assert!(!b.is_refusing());
}
