//! The call's deadline: never sleep past it, give up at once with the last
//! error when the next attempt could not start before it.

mod common;

use common::{BOOM, Timed, ms};
use steadfast_core::testing::{ScriptedOp, Step};
use steadfast_core::time::Instant;
use steadfast_core::{Context, Error, Pipeline, Policy, Timeout};
use steadfast_retry::{Backoff, Retry};

fn retry(backoff: Backoff) -> Retry {
    Retry::builder()
        .max_attempts(100)
        .backoff(backoff)
        .no_budget()
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_attempts_that_fit_are_made_then_the_last_error_returned() {
    // Deadline at 1 s; attempts fail at once, 200 ms apart: 0, 200, 400,
    // 600, 800. An attempt at 1 000 would start at the deadline: give up at 800.
    let pipeline =
        Pipeline::new(Timeout::new(ms(1_000)).unwrap()).then(retry(Backoff::constant(ms(200))));
    let op = Timed::new(ScriptedOp::always_err(BOOM));
    let result = pipeline.call(op.clone()).await;
    assert_eq!(
        result,
        Err(Error::Inner(BOOM)),
        "the last error, not a timeout"
    );
    assert_eq!(op.starts(), [0, 200, 400, 600, 800].map(ms));
    assert_eq!(op.elapsed(), ms(800), "gave up at once, without sleeping");
}

#[tokio::test(start_paused = true)]
async fn never_sleeps_past_the_deadline() {
    // Each attempt takes 100 ms then fails; waits are 300 ms. Attempts at 0,
    // 400, 800; the next would start at 1 200, past the 1 s deadline.
    let pipeline =
        Pipeline::new(Timeout::new(ms(1_000)).unwrap()).then(retry(Backoff::constant(ms(300))));
    let op = Timed::new(ScriptedOp::new([Step::err(BOOM).after(ms(100))]));
    assert_eq!(pipeline.call(op.clone()).await, Err(Error::Inner(BOOM)));
    assert_eq!(op.starts(), [0, 400, 800].map(ms));
    assert_eq!(op.elapsed(), ms(900));
}

#[tokio::test(start_paused = true)]
async fn every_attempt_sees_the_deadline() {
    let pipeline =
        Pipeline::new(Timeout::new(ms(1_000)).unwrap()).then(retry(Backoff::constant(ms(400))));
    let op = ScriptedOp::<u32, _>::always_err(BOOM);
    let t0 = Instant::now();
    let _ = pipeline.call(op.clone()).await;
    let attempts = op.attempts();
    assert_eq!(attempts.len(), 3);
    for (i, attempt) in attempts.iter().enumerate() {
        assert_eq!(attempt.deadline(), Some(t0 + ms(1_000)));
        assert_eq!(attempt.number(), u32::try_from(i).unwrap() + 1);
    }
}

#[tokio::test(start_paused = true)]
async fn a_deadline_given_by_the_caller_counts_too() {
    let retry = retry(Backoff::constant(ms(100)));
    let op = Timed::new(ScriptedOp::always_err(BOOM));
    let ctx = Context::new().with_deadline(Instant::now() + ms(250));
    assert_eq!(
        retry.call_with(ctx, op.clone()).await,
        Err(Error::Inner(BOOM))
    );
    assert_eq!(op.starts(), [0, 100, 200].map(ms));
}

#[tokio::test(start_paused = true)]
async fn max_elapsed_limits_when_retries_start() {
    let retry = Retry::builder()
        .max_attempts(100)
        .max_elapsed(ms(500))
        .backoff(Backoff::constant(ms(150)))
        .no_budget()
        .build()
        .unwrap();
    let op = Timed::new(ScriptedOp::always_err(BOOM));
    assert_eq!(retry.call(op.clone()).await, Err(Error::Inner(BOOM)));
    assert_eq!(op.starts(), [0, 150, 300, 450].map(ms));
    assert_eq!(op.attempts_deadlines(), [None, None, None, None]);
}

trait Deadlines {
    fn attempts_deadlines(&self) -> Vec<Option<Instant>>;
}

impl Deadlines for Timed {
    /// `max_elapsed` limits retries; it does not cancel an attempt, so the
    /// attempts see no deadline.
    fn attempts_deadlines(&self) -> Vec<Option<Instant>> {
        self.op
            .attempts()
            .iter()
            .map(steadfast_core::Attempt::deadline)
            .collect()
    }
}

#[tokio::test(start_paused = true)]
async fn a_wait_beyond_the_clock_s_range_ends_the_call_before_its_deadline() {
    let huge = std::time::Duration::MAX;
    let retry = Retry::builder()
        .backoff(Backoff::constant(huge))
        .max_delay(huge)
        .no_budget()
        .build()
        .unwrap();
    let pipeline = Pipeline::new(Timeout::new(ms(1_000)).unwrap()).then(retry);
    let op = Timed::new(ScriptedOp::always_err(BOOM));
    assert_eq!(pipeline.call(op.clone()).await, Err(Error::Inner(BOOM)));
    assert_eq!(op.starts(), [ms(0)]);
}
