//! A fixed limit: admission, refusal, arrival order, queue timeouts, snapshot.

mod support;

use std::time::Duration;

use steadfast_bulkhead::Bulkhead;
use steadfast_core::testing::{ScriptedOp, TestError};
use steadfast_core::{BulkheadReason, Error, ErrorKind, Inspect, Policy};
use support::{Gate, poll_once};

#[tokio::test]
async fn refuses_at_once_when_full_and_queueing_is_off() {
    let bulkhead = Bulkhead::builder()
        .name("db")
        .max_concurrent(2)
        .build()
        .unwrap();
    let op = ScriptedOp::<u8, TestError>::hanging();
    let mut a = Box::pin(bulkhead.call(op.clone()));
    let mut b = Box::pin(bulkhead.call(op.clone()));
    assert!(poll_once(a.as_mut()).is_pending());
    assert!(poll_once(b.as_mut()).is_pending());
    let refused = bulkhead.call(op.clone()).await.unwrap_err();
    match &refused {
        Error::BulkheadFull(full) => {
            assert_eq!(full.reason(), BulkheadReason::Full);
            assert_eq!(full.policy_name(), "db");
        }
        other => panic!("expected a full bulkhead, got {other:?}"),
    }
    assert_eq!(refused.message(), "Server busy, please try again shortly.");
    let snapshot = bulkhead.snapshot();
    assert_eq!(
        (
            snapshot.limit,
            snapshot.in_flight,
            snapshot.waiting,
            snapshot.rejected
        ),
        (2, 2, 0, 1)
    );
    assert!(snapshot.saturated);
    assert_eq!(op.invocations(), 2);
    drop((a, b));
    let snapshot = bulkhead.snapshot();
    assert_eq!((snapshot.in_flight, snapshot.saturated), (0, false));
}

#[tokio::test]
async fn queued_callers_are_admitted_in_arrival_order() {
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .max_queued(10)
        .build()
        .unwrap();
    let gate = Gate::new();
    let ops: Vec<_> = (0..5).map(|id| gate.op(id)).collect();
    let mut calls: Vec<_> = ops.iter().map(|op| Box::pin(bulkhead.call(op))).collect();
    for call in &mut calls {
        assert!(poll_once(call.as_mut()).is_pending());
    }
    assert_eq!(gate.started(), [0]);
    assert_eq!(bulkhead.snapshot().waiting, 4);
    // A newcomer while callers wait must not overtake them, even once a
    // permit is free and its waiter has not been polled yet.
    gate.open(1);
    assert_eq!(poll_once(calls[0].as_mut()), std::task::Poll::Ready(Ok(0)));
    let late = gate.op(99);
    let mut late = Box::pin(bulkhead.call(&late));
    assert!(poll_once(late.as_mut()).is_pending());
    for (i, call) in (0u32..).zip(calls.iter_mut()).skip(1) {
        assert!(poll_once(call.as_mut()).is_pending());
        gate.open(1);
        assert_eq!(poll_once(call.as_mut()), std::task::Poll::Ready(Ok(i)));
    }
    assert!(poll_once(late.as_mut()).is_pending());
    assert_eq!(gate.started(), [0, 1, 2, 3, 4, 99]);
}

#[tokio::test]
async fn a_full_queue_refuses_with_full() {
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .max_queued(2)
        .build()
        .unwrap();
    let op = ScriptedOp::<u8, TestError>::hanging();
    let mut held: Vec<_> = (0..3)
        .map(|_| Box::pin(bulkhead.call(op.clone())))
        .collect();
    for call in &mut held {
        assert!(poll_once(call.as_mut()).is_pending());
    }
    let err = bulkhead.call(op.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BulkheadFull);
    assert_eq!(
        err.to_string(),
        "bulkhead: bulkhead full",
        "a full queue is the plain full reason"
    );
    let s = bulkhead.snapshot();
    assert_eq!(
        (s.in_flight, s.waiting, s.rejected, s.queue_timeouts),
        (1, 2, 1, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn queue_timeouts_are_exact() {
    let bulkhead = Bulkhead::builder()
        .name("pool")
        .max_concurrent(1)
        .max_queued(5)
        .max_wait(Duration::from_millis(100))
        .build()
        .unwrap();
    let op = ScriptedOp::<u8, TestError>::hanging();
    let mut holder = Box::pin(bulkhead.call(op.clone()));
    assert!(poll_once(holder.as_mut()).is_pending());
    let mut waiter = Box::pin(bulkhead.call(op.clone()));
    assert!(poll_once(waiter.as_mut()).is_pending());
    tokio::time::advance(Duration::from_millis(99)).await;
    assert!(poll_once(waiter.as_mut()).is_pending());
    tokio::time::advance(Duration::from_millis(1)).await;
    match poll_once(waiter.as_mut()) {
        std::task::Poll::Ready(Err(Error::BulkheadFull(full))) => {
            assert_eq!(full.reason(), BulkheadReason::QueueTimeout);
            assert_eq!(full.to_string(), "pool: bulkhead queue timeout");
        }
        other => panic!("expected a queue timeout, got {other:?}"),
    }
    let s = bulkhead.snapshot();
    assert_eq!(
        (s.in_flight, s.waiting, s.queue_timeouts, s.rejected),
        (1, 0, 1, 0)
    );
    assert_eq!(op.invocations(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_permit_that_arrives_before_the_deadline_wins() {
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .max_queued(5)
        .max_wait(Duration::from_millis(100))
        .build()
        .unwrap();
    let gate = Gate::new();
    let (first, second) = (gate.op(1), gate.op(2));
    let mut holder = Box::pin(bulkhead.call(&first));
    assert!(poll_once(holder.as_mut()).is_pending());
    let mut waiter = Box::pin(bulkhead.call(&second));
    assert!(poll_once(waiter.as_mut()).is_pending());
    tokio::time::advance(Duration::from_millis(60)).await;
    gate.open(1);
    assert_eq!(poll_once(holder.as_mut()), std::task::Poll::Ready(Ok(1)));
    // Granted at 60 ms; polled only after the deadline: the permit still counts.
    tokio::time::advance(Duration::from_millis(200)).await;
    assert!(
        poll_once(waiter.as_mut()).is_pending(),
        "running the operation"
    );
    assert_eq!(gate.started(), [1, 2]);
    gate.open(1);
    assert_eq!(poll_once(waiter.as_mut()), std::task::Poll::Ready(Ok(2)));
    assert_eq!(bulkhead.snapshot().queue_timeouts, 0);
}

#[tokio::test]
async fn errors_pass_through_and_free_the_permit() {
    let bulkhead = Bulkhead::new(1).unwrap();
    let op = ScriptedOp::<u8, TestError>::always_err(TestError::new("boom"));
    assert_eq!(
        bulkhead.call(op.clone()).await,
        Err(Error::Inner(TestError::new("boom")))
    );
    assert_eq!(
        bulkhead.call(op.clone()).await,
        Err(Error::Inner(TestError::new("boom")))
    );
    assert_eq!(bulkhead.snapshot().in_flight, 0);
}

#[tokio::test]
async fn clones_share_permits() {
    let a = Bulkhead::new(1).unwrap();
    let b = a.clone();
    let op = ScriptedOp::<u8, TestError>::hanging();
    let mut held = Box::pin(a.call(op.clone()));
    assert!(poll_once(held.as_mut()).is_pending());
    assert_eq!(
        b.call(op.clone()).await.unwrap_err().kind(),
        ErrorKind::BulkheadFull
    );
    assert_eq!(b.snapshot().in_flight, 1);
}
