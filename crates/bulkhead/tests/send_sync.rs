//! Public types are Send and Sync, and calls run inside tokio::spawn.

use steadfast_bulkhead::*;
use steadfast_core::Policy;
use steadfast_core::testing::{ScriptedOp, TestError};

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>(_: &T) {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<Bulkhead>();
    send_sync::<KeyedBulkhead<String>>();
    send_sync::<BulkheadBuilder>();
    send_sync::<BulkheadConfig>();
    send_sync::<BulkheadSnapshot>();
    send_sync::<OverloadConfig>();
    send_sync::<AdaptiveConfig>();
    send_sync::<AimdConfig>();
    send_sync::<GradientConfig>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_futures_are_send() {
    let bulkhead = Bulkhead::new(2).unwrap();
    let keyed = Bulkhead::builder().build_keyed::<u64>(16).unwrap();
    let op = ScriptedOp::<u8, TestError>::always_ok(1);
    send(&bulkhead.call(op.clone()));
    send(&keyed.call(op.clone()));
    let handle = tokio::spawn({
        let (bulkhead, op) = (bulkhead.clone(), op.clone());
        async move { bulkhead.call(op).await }
    });
    assert_eq!(handle.await.unwrap(), Ok(1));
}
