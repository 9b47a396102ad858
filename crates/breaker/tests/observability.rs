//! Transitions reach the hook and `tracing` (WARN on open, INFO on close);
//! the snapshot reports state, rates and counters.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use steadfast_breaker::{Breaker, BreakerConfig, Reason, State};
use steadfast_core::Inspect;
use steadfast_core::testing::Events;
use tokio::time::advance;
use tracing::Level;

#[test]
fn transitions_are_tracing_events_naming_the_breaker() {
    let (events, _guard) = Events::capture();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let b = Breaker::builder_from(BreakerConfig::empty())
            .name("db")
            .consecutive_failures(1)
            .open_for(secs(5))
            .build()
            .unwrap();
        fail(&b).await.unwrap_err();
        advance(secs(5)).await;
        ok(&b).await.unwrap();
    });
    let records = events.records();
    let seen: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.level,
                r.message.as_str(),
                r.field("policy").unwrap_or_default(),
                r.field("to").unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (Level::WARN, "circuit breaker opened", "db", "open"),
            (
                Level::INFO,
                "circuit breaker state changed",
                "db",
                "half_open"
            ),
            (Level::INFO, "circuit breaker closed", "db", "closed"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_hook_sees_every_transition_in_order() {
    let (builder, log) = logged(
        Breaker::builder_from(BreakerConfig::empty())
            .consecutive_failures(1)
            .open_for(secs(5)),
    );
    let b = builder.build().unwrap();
    fail(&b).await.unwrap_err();
    advance(secs(5)).await;
    fail(&b).await.unwrap_err();
    b.disable();
    b.reset();
    let moves: Vec<_> = log.take().into_iter().map(|t| (t.0, t.1, t.2)).collect();
    assert_eq!(
        moves,
        [
            (State::Closed, State::Open, Reason::ConsecutiveFailures),
            (State::Open, State::HalfOpen, Reason::OpenElapsed),
            (State::HalfOpen, State::Open, Reason::TrialFailed),
            (State::Open, State::Disabled, Reason::Disabled),
            (State::Disabled, State::Closed, Reason::Reset),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_hook_may_take_a_snapshot() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let cell: Arc<Mutex<Option<Breaker>>> = Arc::default();
    let (hook_seen, hook_cell) = (Arc::clone(&seen), Arc::clone(&cell));
    let b = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(1)
        .on_transition(move |_| {
            if let Some(b) = hook_cell.lock().unwrap().as_ref() {
                hook_seen.lock().unwrap().push(b.snapshot().state);
            }
        })
        .build()
        .unwrap();
    *cell.lock().unwrap() = Some(b.clone());
    fail(&b).await.unwrap_err();
    assert_eq!(*seen.lock().unwrap(), [State::Open]);
    cell.lock().unwrap().take();
}

#[tokio::test(start_paused = true)]
async fn the_snapshot_reports_rates_and_counters() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .name("ai")
        .failure_rate_over_calls(0.9, 10, 10)
        .slow_calls(ms(100), 0.9, 10, 10)
        .open_for(secs(60))
        .build()
        .unwrap();
    assert_eq!(b.name(), "ai");
    let empty = b.snapshot();
    assert_eq!((empty.failure_rate, empty.slow_call_rate), (None, None));
    ok_after(&b, ms(200)).await.unwrap(); // slow success
    fail(&b).await.unwrap_err();
    ok(&b).await.unwrap();
    ok(&b).await.unwrap();
    let snap = b.snapshot();
    assert_eq!(snap.name, "ai");
    assert_eq!(snap.state, State::Closed);
    assert_eq!(snap.calls_in_window, 4);
    assert_eq!(snap.failure_rate, Some(0.25));
    assert_eq!(snap.slow_call_rate, Some(0.25));
    assert_eq!(snap.consecutive_failures, 0);
    assert_eq!(snap.time_until_half_open, None);
    assert_eq!((snap.rejected, snap.opened), (0, 0));

    b.isolate();
    b.reset();
    for _ in 0..10 {
        fail(&b).await.unwrap_err();
    }
    advance(secs(15)).await;
    for _ in 0..3 {
        assert!(is_open(&ok(&b).await));
    }
    let snap = b.snapshot();
    assert_eq!(snap.state, State::Open);
    assert_eq!(snap.time_until_half_open, Some(secs(45)));
    assert_eq!((snap.rejected, snap.opened), (3, 1));
    advance(secs(45)).await;
    assert_eq!(
        b.snapshot().state,
        State::HalfOpen,
        "the snapshot sees the time is up"
    );
}
