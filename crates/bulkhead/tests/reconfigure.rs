//! Reconfiguring a running bulkhead: a new limit, the same permits and queue.

mod support;

use steadfast_bulkhead::Bulkhead;
use steadfast_core::testing::{ScriptedOp, TestError};
use steadfast_core::{Inspect, Policy};
use support::poll_once;

#[tokio::test]
async fn a_higher_limit_admits_the_queue_and_a_lower_one_drains_first() {
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .max_queued(4)
        .build()
        .unwrap();
    let op = ScriptedOp::<u8, TestError>::hanging();
    let mut calls: Vec<_> = (0..3)
        .map(|_| Box::pin(bulkhead.call(op.clone())))
        .collect();
    for call in &mut calls {
        assert!(poll_once(call.as_mut()).is_pending());
    }
    let s = bulkhead.snapshot();
    assert_eq!((s.limit, s.in_flight, s.waiting), (1, 1, 2));

    let mut config = bulkhead.config().clone();
    config.max_concurrent = 3;
    bulkhead.reconfigure(&config).unwrap();
    let s = bulkhead.snapshot();
    assert_eq!((s.limit, s.in_flight, s.waiting), (3, 3, 0));
    for call in &mut calls[1..] {
        assert!(poll_once(call.as_mut()).is_pending());
    }
    assert_eq!(op.invocations(), 3);

    // Down to 1: nobody is cancelled, and a newcomer waits until two finish.
    config.max_concurrent = 1;
    bulkhead.reconfigure(&config).unwrap();
    let mut late = Box::pin(bulkhead.call(op.clone()));
    assert!(poll_once(late.as_mut()).is_pending());
    let s = bulkhead.snapshot();
    assert_eq!((s.limit, s.in_flight, s.waiting), (1, 3, 1));
    calls.truncate(1);
    let s = bulkhead.snapshot();
    assert_eq!((s.in_flight, s.waiting), (1, 1));
    drop(calls);
    let s = bulkhead.snapshot();
    assert_eq!((s.in_flight, s.waiting), (1, 0));
}

#[test]
fn only_the_limit_of_a_fixed_bulkhead_may_change() {
    let bulkhead = Bulkhead::builder().max_concurrent(2).build().unwrap();
    let mut config = bulkhead.config().clone();
    config.max_wait = Some(std::time::Duration::from_secs(1));
    let err = bulkhead.reconfigure(&config).unwrap_err();
    assert_eq!(err.field(), "max_wait");
    let mut config = bulkhead.config().clone();
    config.max_concurrent = 0;
    assert_eq!(
        bulkhead.reconfigure(&config).unwrap_err().field(),
        "max_concurrent"
    );
    assert_eq!(bulkhead.snapshot().limit, 2);
}
