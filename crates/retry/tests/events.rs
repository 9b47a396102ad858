//! The on_retry hook, and the counters in the snapshot.

mod common;

use std::sync::{Arc, Mutex};

use common::{BOOM, ms};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{ErrorKind, Inspect, Outcome, Pipeline, Policy, Timeout};
use steadfast_retry::{Backoff, Retry};

#[derive(Debug, PartialEq)]
struct Seen {
    policy: String,
    attempt: u32,
    delay: std::time::Duration,
    outcome: Outcome,
    error: Option<ErrorKind>,
    retry_after: Option<std::time::Duration>,
}

#[tokio::test(start_paused = true)]
async fn the_hook_sees_each_retry() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let retry = Retry::builder()
        .name("orders")
        .max_attempts(4)
        .backoff(Backoff::exponential(ms(10), 2.0, ms(100)))
        .classifier(|r: &Result<u32, TestError>| match r {
            Ok(503) | Err(_) => Outcome::Failure,
            Ok(_) => Outcome::Success,
        })
        .retry_after(|r: &Result<u32, TestError>| matches!(r, Ok(503)).then_some(ms(50)))
        .on_retry(move |e| {
            log.lock().unwrap().push(Seen {
                policy: e.policy.to_owned(),
                attempt: e.attempt,
                delay: e.delay,
                outcome: e.outcome,
                error: e.error,
                retry_after: e.retry_after,
            });
        })
        .no_budget()
        .build()
        .unwrap();
    let pipeline = Pipeline::new(retry.clone()).then(Timeout::new(ms(30)).unwrap());
    let op = ScriptedOp::new([Step::err(BOOM), Step::ok(503), Step::hang(), Step::ok(200)]);
    assert_eq!(pipeline.call(op).await, Ok(200));
    let seen = seen.lock().unwrap();
    let expected = [
        (1, ms(10), Some(ErrorKind::Inner), None),
        (2, ms(50), None, Some(ms(50))),
        (3, ms(40), Some(ErrorKind::Timeout), None),
    ];
    assert_eq!(seen.len(), expected.len());
    for (event, (attempt, delay, error, retry_after)) in seen.iter().zip(expected) {
        // A wait the hint decides is spread over up to a fifth more.
        let delay = if retry_after.is_some() {
            assert!(event.delay >= delay && event.delay <= delay + delay / 5);
            event.delay
        } else {
            delay
        };
        assert_eq!(
            *event,
            Seen {
                policy: "orders".to_owned(),
                attempt,
                delay,
                outcome: Outcome::Failure,
                error,
                retry_after,
            }
        );
    }
    let snap = retry.snapshot();
    assert_eq!(snap.name, "orders");
    assert_eq!((snap.calls, snap.attempts, snap.retries), (1, 4, 3));
    assert_eq!(
        (snap.hedges_started, snap.hedges_won, snap.budget_exhausted),
        (0, 0, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn a_first_success_counts_one_call_and_one_attempt() {
    let retry = Retry::default();
    for _ in 0..3 {
        assert_eq!(
            retry.call(ScriptedOp::<u32, TestError>::always_ok(1)).await,
            Ok(1)
        );
    }
    let snap = retry.snapshot();
    assert_eq!((snap.calls, snap.attempts, snap.retries), (3, 3, 0));
    assert_eq!(retry.name(), "retry");
}
