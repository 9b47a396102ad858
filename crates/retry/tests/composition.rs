//! Timeout and retry in either order: a total or a per-attempt limit.

mod common;

use common::{BOOM, Timed, ms};
use steadfast_core::testing::{ScriptedOp, Step};
use steadfast_core::{Error, ErrorKind, Inspect, Pipeline, Policy, Timeout};
use steadfast_retry::{Backoff, Retry};

fn retry(attempts: u32) -> Retry {
    Retry::builder()
        .max_attempts(attempts)
        .backoff(Backoff::constant(ms(100)))
        .no_budget()
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn timeout_outside_retry_bounds_the_whole_call() {
    // Attempts fail after 300 ms; 100 ms waits: attempts at 0, 400, 800. The
    // third is running when the total limit of 1 s fires.
    let pipeline = Pipeline::new(Timeout::new(ms(1_000)).unwrap()).then(retry(10));
    let op = Timed::new(ScriptedOp::new([Step::err(BOOM).after(ms(300))]));
    let result = pipeline.call(op.clone()).await;
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Timeout);
    assert_eq!(op.starts(), [0, 400, 800].map(ms));
    assert_eq!(op.elapsed(), ms(1_000));
    assert_eq!(op.op.cancelled(), 1, "the running attempt was dropped");
    assert_eq!(op.op.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn timeout_inside_retry_bounds_each_attempt() {
    // Every attempt hangs; each is cut at 250 ms and retried after 100 ms:
    // attempts at 0, 350, 700, the last timing out at 950.
    let retry = retry(3);
    let pipeline = Pipeline::new(retry.clone()).then(Timeout::new(ms(250)).unwrap());
    let op = Timed::new(ScriptedOp::hanging());
    let result = pipeline.call(op.clone()).await;
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Timeout);
    assert_eq!(op.starts(), [0, 350, 700].map(ms));
    assert_eq!(op.elapsed(), ms(950));
    assert_eq!(op.op.cancelled(), 3);
    assert_eq!(retry.snapshot().retries, 2);
}

#[tokio::test(start_paused = true)]
async fn a_slow_attempt_is_retried_and_the_fast_one_wins() {
    let pipeline = Pipeline::new(retry(3)).then(Timeout::new(ms(250)).unwrap());
    let op = Timed::new(ScriptedOp::new([Step::hang(), Step::ok(9).after(ms(20))]));
    assert_eq!(pipeline.call(op.clone()).await, Ok(9));
    assert_eq!(op.elapsed(), ms(250 + 100 + 20));
}

#[tokio::test(start_paused = true)]
async fn both_orders_together() {
    // Total 1 s outside, 300 ms per attempt inside: attempts at 0, 400, 800;
    // the third is cut by the total limit at 1 000.
    let pipeline = Pipeline::new(Timeout::new(ms(1_000)).unwrap())
        .then(retry(10))
        .then(Timeout::new(ms(300)).unwrap());
    let op = Timed::new(ScriptedOp::hanging());
    let result = pipeline.call(op.clone()).await;
    match result {
        Err(Error::Timeout(t)) => assert_eq!(t.limit(), ms(1_000)),
        other => panic!("expected the total timeout, got {other:?}"),
    }
    assert_eq!(op.starts(), [0, 400, 800].map(ms));
}
