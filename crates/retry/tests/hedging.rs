//! Hedging: delayed, parallel and fallback modes; the loser is dropped.

// Token counts are whole millionths: comparing them exactly is sound.
#![allow(clippy::float_cmp)]

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::{BOOM, Timed, ms};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Error, Inspect, Pipeline, Policy, Timeout, with_attempt};
use steadfast_retry::{BudgetConfig, HedgeConfig, Retry};

fn hedged(config: HedgeConfig) -> Retry {
    Retry::builder()
        .hedging(config)
        .no_budget()
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn delayed_hedge_wins_and_the_loser_is_dropped() {
    let retry = hedged(HedgeConfig::delayed(ms(50)));
    let op = Timed::new(ScriptedOp::new([Step::hang(), Step::ok(2).after(ms(10))]));
    assert_eq!(retry.call(op.clone()).await, Ok(2));
    assert_eq!(op.starts(), [0, 50].map(ms));
    assert_eq!(op.elapsed(), ms(60));
    assert_eq!(
        op.op.cancelled(),
        1,
        "the first attempt observed its cancellation"
    );
    assert_eq!(op.op.in_flight(), 0);
    let attempts = op.op.attempts();
    assert_eq!((attempts[0].number(), attempts[0].is_hedge()), (1, false));
    assert_eq!((attempts[1].number(), attempts[1].is_hedge()), (2, true));
    let snap = retry.snapshot();
    assert_eq!(
        (
            snap.calls,
            snap.attempts,
            snap.hedges_started,
            snap.hedges_won,
            snap.retries
        ),
        (1, 2, 1, 1, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn a_first_attempt_that_answers_before_the_delay_starts_no_hedge() {
    let retry = hedged(HedgeConfig::delayed(ms(50)));
    let op = Timed::new(ScriptedOp::new([Step::ok(1).after(ms(49))]));
    assert_eq!(retry.call(op.clone()).await, Ok(1));
    assert_eq!(op.op.invocations(), 1);
    assert_eq!(retry.snapshot().hedges_started, 0);
}

#[tokio::test(start_paused = true)]
async fn the_first_attempt_can_still_win_over_its_hedge() {
    let retry = hedged(HedgeConfig::delayed(ms(50)));
    let op = Timed::new(ScriptedOp::new([
        Step::ok(1).after(ms(70)),
        Step::ok(2).after(ms(100)),
    ]));
    assert_eq!(retry.call(op.clone()).await, Ok(1));
    assert_eq!(op.elapsed(), ms(70));
    assert_eq!(op.op.cancelled(), 1, "the hedge was dropped");
    assert_eq!(retry.snapshot().hedges_won, 0);
}

#[tokio::test(start_paused = true)]
async fn delayed_hedges_start_one_delay_apart_up_to_the_maximum() {
    let retry = hedged(HedgeConfig::delayed(ms(30)).max_hedged(3));
    let op = Timed::new(ScriptedOp::new([
        Step::hang().times(3),
        Step::ok(4).after(ms(5)),
    ]));
    assert_eq!(retry.call(op.clone()).await, Ok(4));
    assert_eq!(op.starts(), [0, 30, 60, 90].map(ms));
    assert_eq!(op.op.max_in_flight(), 4);
    assert_eq!(op.op.cancelled(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_failure_starts_the_next_hedge_at_once() {
    let retry = hedged(HedgeConfig::delayed(ms(50)));
    let op = Timed::new(ScriptedOp::new([
        Step::err(BOOM).after(ms(10)),
        Step::ok(3),
    ]));
    assert_eq!(retry.call(op.clone()).await, Ok(3));
    assert_eq!(op.starts(), [0, 10].map(ms));
}

#[tokio::test(start_paused = true)]
async fn when_every_attempt_fails_the_last_failure_is_returned() {
    let retry = hedged(HedgeConfig::delayed(ms(50)).max_hedged(2));
    let op = Timed::new(ScriptedOp::new([
        Step::err(TestError::new("first")).after(ms(200)),
        Step::err(TestError::new("second")).after(ms(100)),
        Step::err(TestError::new("third")).after(ms(300)),
    ]));
    // first: 0..200, second: 50..150, third: 100..400 (one delay after the
    // second); the third fails last.
    let result = retry.call(op.clone()).await;
    assert_eq!(result, Err(Error::Inner(TestError::new("third"))));
    assert_eq!(op.starts(), [0, 50, 100].map(ms));
    assert_eq!(op.elapsed(), ms(400));
}

#[tokio::test(start_paused = true)]
async fn parallel_mode_starts_all_at_once() {
    let retry = hedged(HedgeConfig::parallel().max_hedged(2));
    let op = Timed::new(ScriptedOp::new([
        Step::ok(1).after(ms(30)),
        Step::ok(2).after(ms(10)),
        Step::ok(3).after(ms(20)),
    ]));
    assert_eq!(retry.call(op.clone()).await, Ok(2));
    assert_eq!(op.starts(), [ms(0); 3]);
    assert_eq!(op.op.max_in_flight(), 3);
    assert_eq!(op.op.cancelled(), 2);
    assert_eq!(op.elapsed(), ms(10));
}

#[tokio::test(start_paused = true)]
async fn fallback_mode_starts_the_next_only_after_a_failure() {
    let retry = hedged(HedgeConfig::fallback().max_hedged(2));
    let op = Timed::new(ScriptedOp::new([
        Step::err(BOOM).after(ms(500)),
        Step::err(BOOM).after(ms(500)),
        Step::ok(3).after(ms(500)),
    ]));
    assert_eq!(retry.call(op.clone()).await, Ok(3));
    assert_eq!(op.starts(), [0, 500, 1_000].map(ms));
    assert_eq!(op.op.max_in_flight(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_slow_first_attempt_in_fallback_mode_starts_nothing() {
    let retry = hedged(HedgeConfig::fallback());
    let op = Timed::new(ScriptedOp::new([Step::ok(1).after(ms(10_000))]));
    assert_eq!(retry.call(op.clone()).await, Ok(1));
    assert_eq!(op.op.invocations(), 1);
}

#[tokio::test(start_paused = true)]
async fn hedges_may_call_a_secondary_provider() {
    let retry = hedged(HedgeConfig::delayed(ms(20)));
    let primary = ScriptedOp::<&str, TestError>::new([Step::ok("primary").after(ms(100))]);
    let secondary = ScriptedOp::<&str, TestError>::new([Step::ok("secondary").after(ms(10))]);
    let (p, s) = (primary.clone(), secondary.clone());
    let answer = retry
        .call(with_attempt(move |attempt| {
            use steadfast_core::Operation;
            if attempt.is_hedge() {
                s.invoke(attempt)
            } else {
                p.invoke(attempt)
            }
        }))
        .await;
    assert_eq!(answer, Ok("secondary"));
    assert_eq!((primary.cancelled(), secondary.completed()), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn hedges_count_against_the_budget() {
    // A bucket of 2 tokens that successes do not refill: two hedges, then none.
    let retry = Retry::builder()
        .hedging(HedgeConfig::delayed(ms(10)))
        .budget(BudgetConfig::new().ratio(0.0).capacity(2))
        .build()
        .unwrap();
    let op = ScriptedOp::<u32, TestError>::new([Step::ok(1).after(ms(50))]);
    for _ in 0..3 {
        assert_eq!(retry.call(op.clone()).await, Ok(1));
    }
    let snap = retry.snapshot();
    assert_eq!((snap.hedges_started, snap.budget_exhausted), (2, 1));
    assert_eq!(snap.budget.unwrap().tokens, 0.0);
    assert_eq!(op.invocations(), 5);
}

#[tokio::test(start_paused = true)]
async fn no_hedge_starts_past_the_deadline() {
    let pipeline =
        Pipeline::new(Timeout::new(ms(100)).unwrap()).then(hedged(HedgeConfig::delayed(ms(100))));
    let op = Timed::new(ScriptedOp::hanging());
    assert!(pipeline.call(op.clone()).await.is_err());
    assert_eq!(op.op.invocations(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failure_that_cannot_be_retried_starts_no_hedge() {
    let retry = Retry::builder()
        .hedging(HedgeConfig::fallback())
        .classifier(|r: &Result<u32, TestError>| match r {
            Ok(_) => steadfast_core::Outcome::Success,
            Err(_) => steadfast_core::Outcome::Ignore,
        })
        .no_budget()
        .build()
        .unwrap();
    let op = ScriptedOp::always_err(BOOM);
    assert_eq!(retry.call(op.clone()).await, Err(Error::Inner(BOOM)));
    assert_eq!(op.invocations(), 1);
}

#[test]
fn a_first_attempt_ready_at_once_touches_no_timer() {
    // This runtime has no timer: arming one would panic.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let retry = hedged(HedgeConfig::delayed(Duration::from_secs(1)));
    let calls = AtomicU32::new(0);
    let result = rt.block_on(retry.call(|| async {
        calls.fetch_add(1, Ordering::Relaxed);
        Ok::<_, TestError>(7)
    }));
    assert_eq!(result, Ok(7));
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}

#[tokio::test(start_paused = true)]
async fn a_hedge_delay_beyond_the_clock_s_range_never_fires() {
    let retry = hedged(HedgeConfig::delayed(Duration::MAX));
    let op = Timed::new(ScriptedOp::new([Step::ok(1).after(ms(5_000))]));
    assert_eq!(retry.call(op.clone()).await, Ok(1));
    assert_eq!(op.op.invocations(), 1);
}
