//! The retry budget through the policy: on by default, shared by clones,
//! refilled by successes only, tunable, can be disabled, given back when a
//! waiting retry is dropped.

// Token counts are whole millionths: comparing them exactly is sound.
#![allow(clippy::float_cmp)]

mod common;

use std::pin::pin;

use common::{BOOM, ms};
use futures::FutureExt;
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Error, Inspect, Policy};
use steadfast_retry::{Backoff, BudgetConfig, Retry};

/// A bucket of 10 retries that successes do not refill.
fn reserve_of_ten() -> BudgetConfig {
    BudgetConfig::new().ratio(0.0).capacity(10)
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
        (budget.tokens, budget.capacity, budget.exhausted),
        (5.0, 5, false)
    );
    let config = Retry::default().config().budget.unwrap();
    assert_eq!((config.ratio, config.capacity), (0.2, 5));
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
            snap.failures,
            snap.attempts,
            snap.retries,
            snap.budget_exhausted
        ),
        (6, 6, 16, 10, 1)
    );
    let budget = snap.budget.unwrap();
    assert_eq!((budget.tokens, budget.exhausted), (0.0, true));

    // Time alone gives nothing back: only successes refill the bucket.
    tokio::time::advance(ms(3_600_000)).await;
    assert_eq!(retry.call(op.clone()).await, Err(Error::Inner(BOOM)));
    assert_eq!(op.invocations(), 17);
    assert!(retry.snapshot().budget.unwrap().exhausted);
}

#[tokio::test(start_paused = true)]
async fn successes_earn_retries() {
    // Half a token per success; five failing calls empty the bucket of 10.
    let retry = retry(Some(BudgetConfig::new().ratio(0.5).capacity(10)));
    let failing = ScriptedOp::<u32, TestError>::always_err(BOOM);
    for _ in 0..5 {
        let _ = retry.call(failing.clone()).await;
    }
    // A running call's share is credited until it fails; the first one's was
    // clipped by the full bucket, so taking it back leaves half a token owed.
    assert_eq!(retry.snapshot().budget.unwrap().tokens, -0.5);
    let ok = ScriptedOp::<u32, TestError>::always_ok(1);
    for _ in 0..3 {
        assert_eq!(retry.call(ok.clone()).await, Ok(1));
    }
    // 1 token, and the next failing call's own share while it runs: it
    // retries once, then is refused.
    let _ = retry.call(failing.clone()).await;
    let snap = retry.snapshot();
    assert_eq!((snap.retries, snap.budget_exhausted), (11, 1));
    assert_eq!(failing.invocations(), 15 + 2);
    assert_eq!(snap.budget.unwrap().tokens, 0.0);
    // A call that succeeds after a retry earns too.
    let flaky = ScriptedOp::<u32, TestError>::new([Step::err(BOOM), Step::ok(2)]);
    let _ = retry.call(ok.clone()).await;
    assert_eq!(retry.call(flaky.clone()).await, Ok(2));
    let snap = retry.snapshot();
    assert_eq!((snap.calls, snap.failures, snap.retries), (11, 6, 12));
    assert_eq!(snap.budget.unwrap().tokens, 0.0);
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
        assert_eq!(retry.snapshot().budget.unwrap().tokens, 9.0);
    }
    let snap = retry.snapshot();
    assert_eq!((snap.retries, snap.budget.unwrap().tokens), (0, 10.0));
    assert_eq!(op.invocations(), 1);
}
