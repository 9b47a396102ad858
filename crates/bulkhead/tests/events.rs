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

/// Keys are user or tenant ids, IPs, emails: events name the bulkhead and
/// never the key.
#[tokio::test]
async fn events_of_a_keyed_bulkhead_name_the_policy_never_the_key() {
    let (events, _guard) = Events::capture();
    let bulkhead: steadfast_bulkhead::KeyedBulkhead<String> = Bulkhead::builder()
        .name("per-tenant")
        .max_concurrent(1)
        .build_keyed(1)
        .unwrap();
    let alice = String::from("alice@example.com");
    let bob = String::from("bob@example.com");
    let op = ScriptedOp::<u8, TestError>::hanging();
    let ctx = |key| steadfast_core::Context::new().with_key(key);
    let mut held = Box::pin(bulkhead.call_with(ctx(&alice), op.clone()));
    assert!(poll_once(held.as_mut()).is_pending());
    // Saturated, refused, a new key with no room, a call without a key.
    assert!(bulkhead.call_with(ctx(&alice), op.clone()).await.is_err());
    assert!(bulkhead.call_with(ctx(&bob), op.clone()).await.is_err());
    assert!(bulkhead.call(op.clone()).await.is_err());
    drop(held);
    // Alice's idle partition is dropped to make room for Bob's.
    let quick = ScriptedOp::<u8, TestError>::always_ok(1);
    assert_eq!(bulkhead.call_with(ctx(&bob), quick).await, Ok(1));

    let records = events.records();
    assert!(records.len() >= 4, "{records:?}");
    for record in &records {
        assert_eq!(record.field("policy"), Some("per-tenant"), "{record:?}");
        let text = format!("{record:?}");
        assert!(!text.contains("alice") && !text.contains("bob"), "{text}");
    }
}

#[tokio::test]
async fn with_log_keys_a_partitions_saturation_events_carry_its_key() {
    let (events, _guard) = Events::capture();
    let bulkhead: steadfast_bulkhead::KeyedBulkhead<String> = Bulkhead::builder()
        .name("per-tenant")
        .max_concurrent(1)
        .keyed(8)
        .log_keys()
        .build()
        .unwrap();
    assert!(bulkhead.config().log_keys);
    let alice = String::from("alice@example.com");
    let op = ScriptedOp::<u8, TestError>::hanging();
    let ctx = steadfast_core::Context::new().with_key(&alice);
    let mut held = Box::pin(bulkhead.call_with(ctx, op.clone()));
    assert!(poll_once(held.as_mut()).is_pending());
    assert!(bulkhead.call_with(ctx, op.clone()).await.is_err());
    drop(held);
    let changes: Vec<_> = events
        .records()
        .into_iter()
        .filter(|r| r.level <= tracing::Level::INFO)
        .map(|r| (r.message.clone(), r.field("key").map(str::to_owned)))
        .collect();
    let key = Some(r#""alice@example.com""#.to_owned());
    assert_eq!(
        changes,
        [
            ("bulkhead saturated".to_owned(), key.clone()),
            ("bulkhead no longer saturated".to_owned(), key),
        ]
    );
}
