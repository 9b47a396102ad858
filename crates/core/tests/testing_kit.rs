//! The scripted fake operation counts exactly what happened to it.

use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Operation, Policy, Timeout, time};

#[tokio::test(start_paused = true)]
async fn follows_the_script_then_repeats_the_last_step() {
    let op = ScriptedOp::new([
        Step::err(TestError::new("a")).times(2),
        Step::ok(1u8),
        Step::ok(2u8).after(Duration::from_millis(5)),
    ]);
    let attempt = steadfast_core::Context::new().to_attempt();
    assert_eq!(op.invoke(attempt).await, Err(TestError::new("a")));
    assert_eq!(op.invoke(attempt).await, Err(TestError::new("a")));
    assert_eq!(op.invoke(attempt).await, Ok(1));
    let start = time::now();
    assert_eq!(op.invoke(attempt).await, Ok(2));
    assert_eq!(op.invoke(attempt).await, Ok(2));
    assert_eq!(time::now() - start, Duration::from_millis(10));
    assert_eq!(
        (
            op.invocations(),
            op.completed(),
            op.cancelled(),
            op.in_flight()
        ),
        (5, 5, 0, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn counts_the_most_calls_in_flight() {
    let op = ScriptedOp::<u8, TestError>::new([Step::ok(1).after(Duration::from_millis(10))]);
    let timeout = Timeout::new(Duration::from_secs(1)).unwrap();
    let calls = (0..7).map(|_| timeout.call(op.clone()));
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(|r| r == &Ok(1)));
    assert_eq!(op.max_in_flight(), 7);
    assert_eq!(op.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_hanging_call_is_counted_as_cancelled_when_dropped() {
    let op = ScriptedOp::<u8, TestError>::hanging();
    let timeout = Timeout::new(Duration::from_millis(1)).unwrap();
    assert!(timeout.call(op.clone()).await.is_err());
    assert_eq!(
        (op.invocations(), op.cancelled(), op.completed()),
        (1, 1, 0)
    );
}

#[test]
#[should_panic(expected = "at least one step")]
fn an_empty_script_is_refused() {
    let _ = ScriptedOp::<u8, TestError>::new([]);
}
