//! Futures dropped at every await point never leave the breaker stuck.

use std::time::Duration;

use futures::FutureExt;
use steadfast_breaker::{Breaker, BreakerConfig, HalfOpen, State};
use steadfast_core::testing::{ScriptedOp, TestError};
use steadfast_core::{Inspect, Pipeline, Policy, Timeout};
use tokio::time::advance;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Polls `fut` once, then after each `step` of virtual time, `polls` times; then drops it.
async fn poll_then_drop<F: std::future::Future>(fut: F, polls: usize, step: Duration) {
    let mut fut = Box::pin(fut);
    for _ in 0..polls {
        if fut.as_mut().now_or_never().is_some() {
            return;
        }
        advance(step).await;
    }
    drop(fut);
}

#[tokio::test(start_paused = true)]
async fn trials_dropped_at_each_await_point_free_their_slots() {
    // An operation with three await points, 10 ms each; dropped before the
    // first poll, after each await point, or never (it completes).
    for polls in 0..=4 {
        let b = Breaker::builder_from(BreakerConfig::empty())
            .consecutive_failures(1)
            .open_for(ms(100))
            .half_open(HalfOpen::new(2))
            .slow_calls(ms(1_000), 1.0, 10, 10)
            .build()
            .unwrap();
        let _ = b
            .call(|| async { Err::<u32, _>(TestError::new("down")) })
            .await;
        advance(ms(100)).await;
        let op = || async {
            tokio::time::sleep(ms(10)).await;
            tokio::time::sleep(ms(10)).await;
            tokio::time::sleep(ms(10)).await;
            Ok::<u32, TestError>(1)
        };
        poll_then_drop(b.call(op), polls, ms(10)).await;
        poll_then_drop(b.call(op), polls, ms(10)).await;
        // Whatever point they were dropped at, both slots are free (or the
        // trials completed and closed the breaker).
        let snap = b.snapshot();
        assert_eq!(snap.trials_in_flight, 0, "dropped after {polls} polls");
        if snap.state == State::HalfOpen {
            b.call(op).await.unwrap();
            b.call(op).await.unwrap();
        }
        assert_eq!(b.state(), State::Closed, "dropped after {polls} polls");
    }
}

#[tokio::test(start_paused = true)]
async fn dropped_calls_in_a_pipeline_leave_nothing_behind() {
    let breaker = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(1)
        .open_for(ms(50))
        .half_open(HalfOpen::new(1))
        .build()
        .unwrap();
    let pipeline = Pipeline::new(Timeout::new(ms(500)).unwrap()).then(breaker.clone());
    let _ = breaker
        .call(|| async { Err::<u32, _>(TestError::new("down")) })
        .await;
    advance(ms(50)).await;
    let hang = ScriptedOp::<u32, TestError>::hanging();
    for polls in 0..4 {
        poll_then_drop(pipeline.call(hang.clone()), polls, ms(10)).await;
        assert_eq!(breaker.snapshot().trials_in_flight, 0);
    }
    assert_eq!(hang.in_flight(), 0);
    pipeline
        .call(|| async { Ok::<u32, TestError>(1) })
        .await
        .unwrap();
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_closed_call_records_nothing() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .failure_rate_over_calls(0.5, 10, 1)
        .build()
        .unwrap();
    let hang = ScriptedOp::<u32, TestError>::hanging();
    for polls in 0..3 {
        poll_then_drop(b.call(hang.clone()), polls, ms(10)).await;
    }
    assert_eq!(b.snapshot().calls_in_window, 0);
    assert_eq!(b.state(), State::Closed);
}
