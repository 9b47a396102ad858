//! Dropping a call at any await point leaks nothing: a queued caller leaves
//! the queue, a running call frees its permit, a permit handed to a caller
//! that is being dropped passes to the next one.

mod support;

use std::task::Poll;
use std::time::Duration;

use steadfast_bulkhead::Bulkhead;
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Inspect, Policy};
use support::{Gate, poll_once};

#[tokio::test(start_paused = true)]
async fn dropping_at_every_point_leaves_nothing_behind() {
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .max_queued(4)
        .max_wait(Duration::from_millis(50))
        .build()
        .unwrap();
    let op = ScriptedOp::<u8, TestError>::new([Step::ok(1).after(Duration::from_millis(10))]);
    for polls in 0..4u32 {
        {
            let mut call = Box::pin(bulkhead.call(op.clone()));
            for _ in 0..polls {
                assert!(poll_once(call.as_mut()).is_pending());
                tokio::time::advance(Duration::from_millis(3)).await;
            }
            if polls > 0 {
                assert_eq!(bulkhead.snapshot().in_flight, 1);
            }
        }
        let s = bulkhead.snapshot();
        assert_eq!(
            (s.in_flight, s.waiting),
            (0, 0),
            "dropped after {polls} polls"
        );
        assert_eq!(op.in_flight(), 0);
    }
}

#[tokio::test(start_paused = true)]
async fn a_dropped_waiter_leaves_the_queue_from_any_place() {
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .max_queued(10)
        .max_wait(Duration::from_secs(1))
        .build()
        .unwrap();
    let gate = Gate::new();
    let ops: Vec<_> = (0..5).map(|id| gate.op(id)).collect();
    let mut calls: Vec<_> = ops
        .iter()
        .map(|op| Some(Box::pin(bulkhead.call(op))))
        .collect();
    for call in calls.iter_mut().flatten() {
        assert!(poll_once(call.as_mut()).is_pending());
    }
    // Drop the middle, the last and the first waiter.
    for i in [2, 4, 1] {
        calls[i] = None;
    }
    assert_eq!(bulkhead.snapshot().waiting, 1);
    gate.open(2);
    let mut first = calls[0].take().unwrap();
    assert_eq!(poll_once(first.as_mut()), Poll::Ready(Ok(0)));
    let mut third = calls[3].take().unwrap();
    assert_eq!(poll_once(third.as_mut()), Poll::Ready(Ok(3)));
    assert_eq!(gate.started(), [0, 3]);
    // Their timers are gone with them: nothing fires later.
    tokio::time::advance(Duration::from_secs(2)).await;
    let s = bulkhead.snapshot();
    assert_eq!((s.in_flight, s.waiting, s.queue_timeouts), (0, 0, 0));
}

#[tokio::test]
async fn a_permit_handed_to_a_dropped_waiter_passes_to_the_next() {
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .max_queued(10)
        .build()
        .unwrap();
    let gate = Gate::new();
    let ops: Vec<_> = (0..3).map(|id| gate.op(id)).collect();
    let mut a = Box::pin(bulkhead.call(&ops[0]));
    let mut b = Box::pin(bulkhead.call(&ops[1]));
    let mut c = Box::pin(bulkhead.call(&ops[2]));
    for call in [a.as_mut(), b.as_mut(), c.as_mut()] {
        assert!(poll_once(call).is_pending());
    }
    gate.open(1);
    // a finishes and hands its permit to b, which is dropped before it
    // notices: the permit must reach c.
    assert_eq!(poll_once(a.as_mut()), Poll::Ready(Ok(0)));
    assert_eq!(bulkhead.snapshot().waiting, 1);
    drop(b);
    assert_eq!(bulkhead.snapshot().in_flight, 1);
    assert!(poll_once(c.as_mut()).is_pending());
    assert_eq!(gate.started(), [0, 2]);
    gate.open(1);
    assert_eq!(poll_once(c.as_mut()), Poll::Ready(Ok(2)));
    let s = bulkhead.snapshot();
    assert_eq!((s.in_flight, s.waiting), (0, 0));
}
