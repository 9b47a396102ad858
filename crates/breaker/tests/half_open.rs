//! Half-open probing: at most K concurrent trials, closing after enough
//! successes, re-opening on a failed trial; dropped and hung trials.

mod common;

use std::time::Duration;

use common::*;
use futures::FutureExt;
use steadfast_breaker::{Breaker, BreakerConfig, HalfOpen, Reason, State};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Error, Inspect, Policy};
use tokio::time::advance;

/// A breaker tripped by one failure, open 10 s, with `half_open`.
async fn tripped(half_open: HalfOpen) -> (Breaker, Log) {
    let (builder, log) = logged(
        Breaker::builder_from(BreakerConfig::empty())
            .consecutive_failures(1)
            .open_for(secs(10))
            .half_open(half_open),
    );
    let b = builder.build().unwrap();
    fail(&b).await.unwrap_err();
    advance(secs(10)).await;
    (b, log)
}

#[tokio::test(start_paused = true)]
async fn admits_k_trials_and_closes_after_k_successes() {
    let (b, log) = tripped(HalfOpen::new(3)).await;
    let hang = ScriptedOp::<u32, TestError>::new([Step::ok(1).after(secs(1))]);
    // Three trials start and wait; the fourth call is refused.
    let mut trials: Vec<_> = (0..3).map(|_| Box::pin(b.call(hang.clone()))).collect();
    for t in &mut trials {
        assert!(t.as_mut().now_or_never().is_none());
    }
    assert_eq!(b.state(), State::HalfOpen);
    assert_eq!(b.snapshot().trials_in_flight, 3);
    let refused = ok(&b).await;
    assert!(is_open(&refused));
    assert_eq!(retry_after(&refused), None);
    for t in trials {
        t.await.unwrap();
    }
    assert_eq!(b.state(), State::Closed);
    let moves: Vec<_> = log.take().into_iter().map(|t| (t.1, t.2)).collect();
    assert_eq!(
        moves,
        [
            (State::Open, Reason::ConsecutiveFailures),
            (State::HalfOpen, Reason::OpenElapsed),
            (State::Closed, Reason::TrialsSucceeded),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_trial_success_keeps_its_slot_until_k_have_succeeded() {
    let (b, _) = tripped(HalfOpen::new(2)).await;
    ok(&b).await.unwrap(); // 1 of 2
    assert_eq!(b.state(), State::HalfOpen);
    ok(&b).await.unwrap(); // 2 of 2
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_failed_trial_reopens() {
    let (b, log) = tripped(HalfOpen::new(3)).await;
    ok(&b).await.unwrap();
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Open);
    assert_eq!(log.take().last().unwrap().2, Reason::TrialFailed);
}

#[tokio::test(start_paused = true)]
async fn success_rate_mode_tolerates_some_failed_trials() {
    // 4 trials, 75 % must succeed: 3 successes close; a second failure re-opens.
    let (b, _) = tripped(HalfOpen::new(4).with_success_rate(0.75)).await;
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::HalfOpen);
    ok(&b).await.unwrap();
    ok(&b).await.unwrap();
    ok(&b).await.unwrap();
    assert_eq!(b.state(), State::Closed);

    let (b, _) = tripped(HalfOpen::new(4).with_success_rate(0.75)).await;
    fail(&b).await.unwrap_err();
    ok(&b).await.unwrap();
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_trial_gives_its_slot_back() {
    let (b, _) = tripped(HalfOpen::new(1)).await;
    let hang = ScriptedOp::<u32, TestError>::hanging();
    let mut trial = Box::pin(b.call(hang.clone()));
    assert!(trial.as_mut().now_or_never().is_none());
    assert!(is_open(&ok(&b).await), "the only slot is taken");
    drop(trial);
    assert_eq!(hang.cancelled(), 1);
    assert_eq!(b.snapshot().trials_in_flight, 0);
    ok(&b).await.unwrap(); // the slot is free again
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn an_unpolled_trial_future_gives_its_slot_back() {
    let (b, _) = tripped(HalfOpen::new(1)).await;
    let never_polled = b.call(|| async { Ok::<u32, TestError>(1) });
    drop(never_polled);
    ok(&b).await.unwrap();
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn an_ignored_trial_gives_its_slot_back_and_counts_nothing() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(1)
        .open_for(secs(10))
        .classifier(|r: &Result<u32, u32>| match r {
            Err(404) => steadfast_core::Outcome::Ignore,
            Err(_) => steadfast_core::Outcome::Failure,
            Ok(_) => steadfast_core::Outcome::Success,
        })
        .build()
        .unwrap();
    let _ = b.call(|| async { Err::<u32, u32>(500) }).await;
    advance(secs(10)).await;
    assert_eq!(
        b.call(|| async { Err::<u32, u32>(404) }).await,
        Err(Error::Inner(404))
    );
    assert_eq!(b.state(), State::HalfOpen);
    b.call(|| async { Ok::<u32, u32>(1) }).await.unwrap();
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_hung_trial_counts_as_failed_after_the_trial_deadline() {
    let (b, log) = tripped(HalfOpen::new(1).with_trial_deadline(secs(5))).await;
    let hang = ScriptedOp::<u32, TestError>::hanging();
    let mut trial = Box::pin(b.call(hang.clone()));
    assert!(trial.as_mut().now_or_never().is_none());
    advance(secs(5).checked_sub(Duration::from_millis(1)).unwrap()).await;
    assert!(is_open(&ok(&b).await));
    assert_eq!(b.state(), State::HalfOpen, "not wedged yet: still in time");
    advance(Duration::from_millis(1)).await;
    // The next look sees the deadline passed: the trial failed, re-open.
    let refused = ok(&b).await;
    assert_eq!(retry_after(&refused), Some(secs(10)));
    assert_eq!(b.state(), State::Open);
    assert_eq!(log.take().last().unwrap().2, Reason::TrialTimedOut);
    // The hung call finishing late changes nothing.
    drop(trial);
    advance(secs(10)).await;
    ok(&b).await.unwrap();
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn with_the_standard_preset_one_unlucky_trial_does_not_reopen() {
    let b = Breaker::builder().jitter_seed(1).build().unwrap();
    for _ in 0..5 {
        fail(&b).await.unwrap_err();
    }
    assert_eq!(b.state(), State::Open);
    // The first open lasts at most 5 s.
    advance(secs(5)).await;
    // Three trials: the first fails, the other two succeed.
    let op = ScriptedOp::<u32, TestError>::new([
        Step::err(TestError::new("blip")),
        Step::ok(1),
        Step::ok(1),
    ]);
    assert!(b.call(op.clone()).await.is_err());
    assert_eq!(b.state(), State::HalfOpen);
    b.call(op.clone()).await.unwrap();
    b.call(op.clone()).await.unwrap();
    assert_eq!(b.state(), State::Closed);

    // Two failed trials of three re-open it, for the doubled duration.
    for _ in 0..5 {
        fail(&b).await.unwrap_err();
    }
    advance(secs(5)).await;
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::HalfOpen);
    fail(&b).await.unwrap_err();
    assert_eq!(b.state(), State::Open);
}
