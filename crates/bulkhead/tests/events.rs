//! Saturation is a state change: one INFO event when it starts, one when it ends.

mod support;

use steadfast_bulkhead::Bulkhead;
use steadfast_core::Policy;
use steadfast_core::testing::Events;
use steadfast_core::testing::{ScriptedOp, TestError};
use support::poll_once;

#[tokio::test]
async fn saturation_start_and_end_are_logged_once_each() {
    let (events, _guard) = Events::capture();
    let bulkhead = Bulkhead::builder()
        .name("db")
        .max_concurrent(1)
        .build()
        .unwrap();
    let op = ScriptedOp::<u8, TestError>::hanging();
    let mut held = Box::pin(bulkhead.call(op.clone()));
    assert!(poll_once(held.as_mut()).is_pending());
    assert!(
        events.state_changes().is_empty(),
        "at the limit is not saturated yet"
    );
    for _ in 0..3 {
        assert!(bulkhead.call(op.clone()).await.is_err());
    }
    drop(held);
    let quick = ScriptedOp::<u8, TestError>::always_ok(1);
    assert_eq!(bulkhead.call(quick.clone()).await, Ok(1));
    assert_eq!(
        events.state_changes(),
        [
            "INFO bulkhead saturated",
            "INFO bulkhead no longer saturated"
        ]
    );
}
