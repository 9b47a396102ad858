//! Dropping a call at any await point leaves nothing behind.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{BoxPolicy, Identity, Inspect, Pipeline, Policy, Timeout};

fn poll_once<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    f.poll(&mut Context::from_waker(&waker))
}

/// An operation that takes 10 ms, 3 steps of which are awaited through a pipeline.
fn slow_op() -> ScriptedOp<u8, TestError> {
    ScriptedOp::new([Step::ok(1u8).after(Duration::from_millis(10))])
}

#[tokio::test(start_paused = true)]
async fn dropping_a_static_pipeline_at_every_point_cancels_the_operation() {
    let total = Timeout::new(Duration::from_secs(1)).unwrap();
    let attempt = Timeout::new(Duration::from_millis(500)).unwrap();
    let pipeline = Pipeline::new(total.clone())
        .then(Identity)
        .then(attempt.clone());
    // Drop before the first poll, then after 1, 2 … polls with time moving on.
    for polls in 0..4u32 {
        let op = slow_op();
        {
            let mut call = Box::pin(pipeline.call(op.clone()));
            for _ in 0..polls {
                assert!(poll_once(call.as_mut()).is_pending());
                tokio::time::advance(Duration::from_millis(3)).await;
            }
        }
        assert_eq!(op.in_flight(), 0, "dropped after {polls} polls");
        assert_eq!(
            op.cancelled(),
            u64::from(polls > 0),
            "dropped after {polls} polls"
        );
        assert_eq!(op.completed(), 0);
    }
    // Nothing fired later for calls that are gone.
    tokio::time::advance(Duration::from_secs(5)).await;
    assert_eq!(
        (total.snapshot().timeouts, attempt.snapshot().timeouts),
        (0, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_a_boxed_pipeline_cancels_the_operation() {
    let policy =
        BoxPolicy::<u8, TestError>::identity().then(Timeout::new(Duration::from_secs(1)).unwrap());
    let op = slow_op();
    let mut call = Box::pin(policy.call(op.clone()));
    assert!(poll_once(call.as_mut()).is_pending());
    assert_eq!(op.in_flight(), 1);
    drop(call);
    assert_eq!((op.in_flight(), op.cancelled()), (0, 1));
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_pipeline_can_be_called_again() {
    let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(1)).unwrap());
    let op = slow_op();
    drop(Box::pin(pipeline.call(op.clone())));
    assert_eq!(pipeline.call(op.clone()).await, Ok(1));
    assert_eq!(
        (op.invocations(), op.completed(), op.in_flight()),
        (1, 1, 0)
    );
}
