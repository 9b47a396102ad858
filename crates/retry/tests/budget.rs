//! The retry budget through the policy: on by default, shared by clones,
//! tunable, can be disabled, given back when a waiting retry is dropped.

mod common;

use std::pin::pin;

use common::{BOOM, ms};
use futures::FutureExt;
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Error, Inspect, Policy};
use steadfast_retry::{Backoff, BudgetConfig, Retry};

/// A reserve of 10 retries (1 per second over 10 s) and nothing per call.
fn reserve_of_ten() -> BudgetConfig {
    BudgetConfig::new().ratio(0.0).min_per_second(1)
}

fn retry(budget: Option<BudgetConfig>) -> Retry {
    let builder = Retry::builder()
        .max_attempts(3)
        .backoff(Backoff::constant(std::time::Duration::ZERO));
    match budget {
        Some(budget) => builder.budget(budget),
        None => builder.no_budget(),
    }
    .build()
    .unwrap()
}

#[test]
fn the_budget_is_on_by_default() {
    let snap = Retry::default().snapshot();
    let budget = snap.budget.expect("on by default");
    assert_eq!(
        (budget.calls, budget.retries, budget.exhausted),
        (0, 0, false)
    );
    // 10 per second over 10 s.
    assert!((budget.allowance - 100.0).abs() < 1e-9);
    let config = Retry::default().config().budget.unwrap();
    assert!((config.ratio - 0.2).abs() < 1e-12);
    assert_eq!((config.window, config.min_per_second), (ms(10_000), 10));
}

#[tokio::test(start_paused = true)]
async fn a_spent_budget_fails_the_call_with_its_last_error() {
    let retry = retry(Some(reserve_of_ten()));
    let clone = retry.clone();
    let op = ScriptedOp::<u32, TestError>::always_err(BOOM);
    // Five calls use the ten retries, alternating between clones.
    for i in 0..5 {
        let policy = if i % 2 == 0 { &retry } else { &clone };
        assert_eq!(policy.call(op.clone()).await, Err(Error::Inner(BOOM)));
    }
    assert_eq!(op.invocations(), 15);
    // The sixth gets no retry.
    assert_eq!(clone.call(op.clone()).await, Err(Error::Inner(BOOM)));
    assert_eq!(op.invocations(), 16);
    let snap = retry.snapshot();
    assert_eq!(
        (
            snap.calls,
            snap.attempts,
            snap.retries,
            snap.budget_exhausted
        ),
        (6, 16, 10, 1)
    );
    let budget = snap.budget.unwrap();
    assert_eq!((budget.retries, budget.exhausted), (10, true));

    // Once the window has slid past, retries are allowed again.
    tokio::time::advance(ms(10_000)).await;
    assert_eq!(retry.call(op.clone()).await, Err(Error::Inner(BOOM)));
    assert_eq!(op.invocations(), 19);
    assert!(!retry.snapshot().budget.unwrap().exhausted);
}

#[tokio::test(start_paused = true)]
async fn calls_earn_retries() {
    // No reserve to speak of: half a retry per call.
    let retry = retry(Some(BudgetConfig::new().ratio(0.5).min_per_second(0)));
    let ok = ScriptedOp::<u32, TestError>::always_ok(1);
    for _ in 0..8 {
        assert_eq!(retry.call(ok.clone()).await, Ok(1));
    }
    // 8 calls, then failing calls, each of which may retry twice.
    let failing = ScriptedOp::<u32, TestError>::always_err(BOOM);
    for _ in 0..2 {
        let _ = retry.call(failing.clone()).await;
    }
    // At 9 and 10 calls (4.5 and 5 allowed) both retries went through; at
    // 11 calls (5.5 allowed) the fifth retry does and the sixth is refused.
    let _ = retry.call(failing.clone()).await;
    let snap = retry.snapshot();
    assert_eq!((snap.retries, snap.budget_exhausted), (5, 1));
    assert_eq!(failing.invocations(), 3 + 3 + 2);
}

#[tokio::test(start_paused = true)]
async fn a_disabled_budget_never_refuses() {
    let retry = retry(None);
    let op = ScriptedOp::<u32, TestError>::always_err(BOOM);
    for _ in 0..200 {
        let _ = retry.call(op.clone()).await;
    }
    let snap = retry.snapshot();
    assert_eq!((snap.retries, snap.budget_exhausted), (400, 0));
    assert!(snap.budget.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_retry_dropped_while_it_waits_gives_its_budget_back() {
    let retry = Retry::builder()
        .max_attempts(3)
        .backoff(Backoff::constant(ms(1_000)))
        .budget(reserve_of_ten())
        .build()
        .unwrap();
    let op = ScriptedOp::<u32, TestError>::new([Step::err(BOOM), Step::ok(1)]);
    {
        let mut call = pin!(retry.call(op.clone()));
        // The first attempt fails; the call now waits to retry, holding a retry.
        assert!(call.as_mut().now_or_never().is_none());
        assert_eq!(retry.snapshot().budget.unwrap().retries, 1);
    }
    let snap = retry.snapshot();
    assert_eq!((snap.retries, snap.budget.unwrap().retries), (0, 0));
    assert_eq!(op.invocations(), 1);
}
