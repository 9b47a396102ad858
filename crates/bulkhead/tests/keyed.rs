//! Keyed bulkheads: one per key, bounded in memory.

mod support;

use std::task::Poll;

use steadfast_bulkhead::{Bulkhead, KeyedBulkhead};
use steadfast_core::testing::{ScriptedOp, TestError};
use steadfast_core::{BulkheadReason, Context, Error, Inspect, MissingKey, Policy};
use support::{Gate, poll_once};

fn keyed(max_keys: usize) -> KeyedBulkhead<&'static str> {
    Bulkhead::builder()
        .name("per-tenant")
        .max_concurrent(1)
        .build_keyed(max_keys)
        .unwrap()
}

fn full<T: std::fmt::Debug>(result: Result<T, Error<TestError>>) -> BulkheadReason {
    match result {
        Err(Error::BulkheadFull(full)) => full.reason(),
        other => panic!("expected a full bulkhead, got {other:?}"),
    }
}

#[tokio::test]
async fn each_key_has_its_own_limit() {
    let bulkhead = keyed(10);
    let op = ScriptedOp::<u8, TestError>::hanging();
    let (a, b) = ("a", "b");
    let mut held_a = Box::pin(bulkhead.call_with(Context::new().with_key(&a), op.clone()));
    assert!(poll_once(held_a.as_mut()).is_pending());
    let again_a = bulkhead
        .call_with(Context::new().with_key(&a), op.clone())
        .await;
    assert_eq!(full(again_a), BulkheadReason::Full);
    let mut held_b = Box::pin(bulkhead.call_with(Context::new().with_key(&b), op.clone()));
    assert!(poll_once(held_b.as_mut()).is_pending());
    let s = bulkhead.snapshot();
    assert_eq!((s.keys, s.in_flight, s.rejected), (2, 2, 1));
    assert_eq!(op.invocations(), 2);
}

fn missing_key<T: std::fmt::Debug>(result: Result<T, Error<TestError>>) -> MissingKey {
    match result {
        Err(Error::MissingKey(missing)) => missing,
        other => panic!("expected a missing key, got {other:?}"),
    }
}

#[tokio::test]
async fn a_call_without_a_key_is_refused() {
    let bulkhead = keyed(10);
    let op = ScriptedOp::<u8, TestError>::always_ok(5);
    let missing = missing_key(bulkhead.call(op.clone()).await);
    assert_eq!(missing, MissingKey::new::<&'static str>("per-tenant"));
    assert_eq!(missing.policy_name(), "per-tenant");
    // A key of another type is no key of this bulkhead's.
    let number = 7u64;
    let other = bulkhead
        .call_with(Context::new().with_key(&number), op.clone())
        .await;
    missing_key(other);
    assert_eq!(op.invocations(), 0, "nothing runs for a refused call");
    let s = bulkhead.snapshot();
    assert_eq!(
        (s.keys, s.in_flight, s.rejected, s.missing_keys),
        (0, 0, 0, 2)
    );
}

#[tokio::test]
async fn calls_without_a_key_share_a_partition_only_when_opted_in() {
    let bulkhead: KeyedBulkhead<&'static str> = Bulkhead::builder()
        .name("per-tenant")
        .max_concurrent(1)
        .keyed(10)
        .share_unkeyed()
        .build()
        .unwrap();
    assert!(bulkhead.config().share_unkeyed);
    let op = ScriptedOp::<u8, TestError>::hanging();
    let mut unkeyed = Box::pin(bulkhead.call(op.clone()));
    assert!(poll_once(unkeyed.as_mut()).is_pending());
    // The shared partition is full: another caller without a key is refused.
    assert_eq!(full(bulkhead.call(op.clone()).await), BulkheadReason::Full);
    // A keyed caller has its own partition.
    let a = "a";
    let mut keyed_a = Box::pin(bulkhead.call_with(Context::new().with_key(&a), op.clone()));
    assert!(poll_once(keyed_a.as_mut()).is_pending());
    let s = bulkhead.snapshot();
    assert_eq!(
        (s.keys, s.in_flight, s.rejected, s.missing_keys),
        (1, 2, 1, 0)
    );
    drop((unkeyed, keyed_a));
    assert_eq!(bulkhead.snapshot().in_flight, 0);
}

#[tokio::test]
async fn idle_keys_make_room_and_busy_ones_do_not() {
    let bulkhead = keyed(2);
    let gate = Gate::new();
    let (op_a, op_b, op_c) = (gate.op(1), gate.op(2), gate.op(3));
    let (a, b, c) = ("a", "b", "c");
    let mut call_a = Box::pin(bulkhead.call_with(Context::new().with_key(&a), &op_a));
    let mut call_b = Box::pin(bulkhead.call_with(Context::new().with_key(&b), &op_b));
    assert!(poll_once(call_a.as_mut()).is_pending());
    assert!(poll_once(call_b.as_mut()).is_pending());
    // Both partitions are busy: a third key is refused rather than grow.
    let refused = bulkhead.call_with(Context::new().with_key(&c), &op_c).await;
    assert_eq!(full(refused), BulkheadReason::Full);
    assert_eq!(bulkhead.snapshot().keys, 2);
    gate.open(1);
    assert_eq!(poll_once(call_a.as_mut()), Poll::Ready(Ok(1)));
    drop(call_a);
    // "a" is idle now: it makes room for "c".
    let mut call_c = Box::pin(bulkhead.call_with(Context::new().with_key(&c), &op_c));
    assert!(poll_once(call_c.as_mut()).is_pending());
    let s = bulkhead.snapshot();
    assert_eq!((s.keys, s.in_flight, s.rejected), (2, 2, 1));
    gate.open(2);
    assert_eq!(poll_once(call_b.as_mut()), Poll::Ready(Ok(2)));
    assert_eq!(poll_once(call_c.as_mut()), Poll::Ready(Ok(3)));
    assert_eq!(bulkhead.snapshot().in_flight, 0);
}

#[test]
fn max_keys_must_be_positive() {
    let err = Bulkhead::builder().build_keyed::<u32>(0).unwrap_err();
    assert_eq!(err.field(), "max_keys");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_key_holds_its_limit_under_concurrency() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    let bulkhead: KeyedBulkhead<u32> = Bulkhead::builder()
        .max_concurrent(2)
        .max_queued(100)
        .build_keyed(4)
        .unwrap();
    let counters: Arc<Vec<(AtomicU32, AtomicU32)>> = Arc::new(
        (0..4)
            .map(|_| (AtomicU32::new(0), AtomicU32::new(0)))
            .collect(),
    );
    let tasks: Vec<_> = (0..200u32)
        .map(|i| {
            let bulkhead = bulkhead.clone();
            let counters = Arc::clone(&counters);
            tokio::spawn(async move {
                let key = i % 4;
                let op = || async {
                    let (now, max) = &counters[key as usize];
                    let seen = now.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(seen, Ordering::SeqCst);
                    for _ in 0..10 {
                        tokio::task::yield_now().await;
                    }
                    now.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, TestError>(())
                };
                bulkhead.call_with(Context::new().with_key(&key), op).await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(()));
    }
    for (_, max) in counters.iter() {
        assert!(max.load(Ordering::SeqCst) <= 2);
    }
    let s = bulkhead.snapshot();
    assert_eq!((s.in_flight, s.waiting, s.rejected), (0, 0, 0));
    assert!(s.keys <= 4);
}
