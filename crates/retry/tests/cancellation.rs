//! Dropping the call's future at each await point leaks nothing.

// Token counts are whole millionths: comparing them exactly is sound.
#![allow(clippy::float_cmp)]

mod common;

use std::pin::pin;

use common::{BOOM, ms};
use futures::FutureExt;
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Inspect, Policy};
use steadfast_retry::{Backoff, BudgetConfig, HedgeConfig, Retry};

fn retry() -> Retry {
    Retry::builder()
        .max_attempts(3)
        .backoff(Backoff::constant(ms(100)))
        .budget(BudgetConfig::new().ratio(0.0).capacity(10))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn dropped_during_the_first_attempt() {
    let retry = retry();
    let op = ScriptedOp::<u32, TestError>::hanging();
    {
        let mut call = pin!(retry.call(op.clone()));
        assert!(call.as_mut().now_or_never().is_none());
        assert_eq!(op.in_flight(), 1);
    }
    assert_eq!((op.in_flight(), op.cancelled()), (0, 1));
    assert_eq!(retry.snapshot().budget.unwrap().tokens, 10.0);
}

#[tokio::test(start_paused = true)]
async fn dropped_during_the_backoff() {
    let retry = retry();
    let op = ScriptedOp::<u32, TestError>::new([Step::err(BOOM), Step::ok(1)]);
    {
        let mut call = pin!(retry.call(op.clone()));
        assert!(call.as_mut().now_or_never().is_none());
        tokio::time::advance(ms(50)).await;
        assert!(call.as_mut().now_or_never().is_none());
    }
    assert_eq!(op.invocations(), 1);
    let snap = retry.snapshot();
    assert_eq!((snap.retries, snap.budget.unwrap().tokens), (0, 10.0));
}

#[tokio::test(start_paused = true)]
async fn dropped_during_a_retry() {
    let retry = retry();
    let op = ScriptedOp::<u32, TestError>::new([Step::err(BOOM), Step::hang()]);
    {
        let mut call = pin!(retry.call(op.clone()));
        assert!(call.as_mut().now_or_never().is_none());
        tokio::time::advance(ms(100)).await;
        assert!(call.as_mut().now_or_never().is_none());
        assert_eq!(op.in_flight(), 1);
    }
    assert_eq!(
        (op.invocations(), op.in_flight(), op.cancelled()),
        (2, 0, 1)
    );
    let snap = retry.snapshot();
    // The retry started, so it stays spent.
    assert_eq!((snap.retries, snap.budget.unwrap().tokens), (1, 9.0));
}

#[tokio::test(start_paused = true)]
async fn dropped_while_hedging() {
    let retry = Retry::builder()
        .hedging(HedgeConfig::delayed(ms(10)).max_hedged(2))
        .build()
        .unwrap();
    let op = ScriptedOp::<u32, TestError>::hanging();
    {
        let mut call = pin!(retry.call(op.clone()));
        assert!(call.as_mut().now_or_never().is_none());
        for _ in 0..2 {
            tokio::time::advance(ms(10)).await;
            assert!(call.as_mut().now_or_never().is_none());
        }
        assert_eq!(op.in_flight(), 3);
    }
    assert_eq!((op.in_flight(), op.cancelled()), (0, 3));
}
