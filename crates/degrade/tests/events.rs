//! Degrading is a state change: logged once when it starts and once when it
//! ends, not on every call.

mod support;

use steadfast_core::testing::Events;
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Context, Policy, Priority};
use steadfast_degrade::{LastKnownGood, LoadShedder, ShedClass, fresh};

#[tokio::test(start_paused = true)]
async fn last_known_good_logs_the_stale_episode() {
    let (events, _guard) = Events::capture();
    let lkg = LastKnownGood::<u8>::builder()
        .name("prices")
        .build()
        .unwrap();
    let op = ScriptedOp::new([
        Step::ok(1u8),
        Step::err(TestError::new("down")).times(3),
        Step::ok(2),
    ]);
    for _ in 0..5 {
        lkg.call(fresh(op.clone())).await.unwrap();
    }
    assert_eq!(
        events.state_changes(),
        [
            "WARN serving last-known-good values",
            "INFO fresh values again"
        ]
    );
}

#[tokio::test]
async fn shedding_a_class_is_logged_when_it_starts_and_ends() {
    let (events, _guard) = Events::capture();
    let shedder = LoadShedder::builder()
        .class(ShedClass::new("free", Priority::LOW).max_in_flight(1))
        .class(ShedClass::new("critical", Priority::CRITICAL))
        .build()
        .unwrap();
    let hang = ScriptedOp::<u8, TestError>::hanging();
    let quick = ScriptedOp::<u8, TestError>::always_ok(1);
    let critical = Context::new().with_priority(Priority::CRITICAL);
    let free = Context::new().with_priority(Priority::LOW);
    {
        let mut held = Box::pin(shedder.call_with(critical, hang.clone()));
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(held.as_mut().poll(&mut cx).is_pending());
        for _ in 0..3 {
            assert!(shedder.call_with(free, quick.clone()).await.is_err());
        }
    }
    assert_eq!(shedder.call_with(free, quick.clone()).await, Ok(1));
    assert_eq!(
        events.state_changes(),
        ["WARN shedding class", "INFO class no longer shed"]
    );
}

/// Keys are user ids, prompts, emails: events name the policy and never the key.
#[tokio::test(start_paused = true)]
async fn events_of_a_keyed_last_known_good_name_the_policy_never_the_key() {
    let (events, _guard) = Events::capture();
    let lkg = LastKnownGood::<u32>::builder()
        .name("profiles")
        .keyed::<String>()
        .build()
        .unwrap();
    let alice = String::from("alice@example.com");
    let bob = String::from("bob@example.com");
    let up = || async { Ok::<_, TestError>(1) };
    let down = || async { Err::<u32, _>(TestError::new("down")) };
    lkg.call_with(Context::new().with_key(&alice), fresh(up))
        .await
        .unwrap();
    // Served stale (WARN), a miss, fresh again (INFO), a call without a key.
    lkg.call_with(Context::new().with_key(&alice), fresh(down))
        .await
        .unwrap();
    assert!(
        lkg.call_with(Context::new().with_key(&bob), fresh(down))
            .await
            .is_err()
    );
    lkg.call_with(Context::new().with_key(&alice), fresh(up))
        .await
        .unwrap();
    assert!(lkg.call(fresh(up)).await.is_err());

    assert_eq!(
        events.state_changes(),
        [
            "WARN serving last-known-good values",
            "INFO fresh values again"
        ]
    );
    for record in events.records() {
        assert_eq!(record.field("policy"), Some("profiles"), "{record:?}");
        let text = format!("{record:?}");
        assert!(!text.contains("alice") && !text.contains("bob"), "{text}");
    }
}

#[tokio::test(start_paused = true)]
async fn with_log_keys_events_about_a_keys_value_carry_the_key() {
    let (events, _guard) = Events::capture();
    let lkg = LastKnownGood::<u32>::builder()
        .name("profiles")
        .keyed::<String>()
        .log_keys()
        .build()
        .unwrap();
    assert!(lkg.config().log_keys);
    let alice = String::from("alice@example.com");
    let bob = String::from("bob@example.com");
    let up = || async { Ok::<_, TestError>(1) };
    let down = || async { Err::<u32, _>(TestError::new("down")) };
    lkg.call_with(Context::new().with_key(&alice), fresh(up))
        .await
        .unwrap();
    lkg.call_with(Context::new().with_key(&alice), fresh(down))
        .await
        .unwrap();
    assert!(
        lkg.call_with(Context::new().with_key(&bob), fresh(down))
            .await
            .is_err()
    );
    let keyed: Vec<_> = events
        .records()
        .into_iter()
        .filter_map(|r| Some((r.message.clone(), r.field("key")?.to_owned())))
        .collect();
    assert_eq!(
        keyed,
        [
            (
                "serving last-known-good values".to_owned(),
                r#""alice@example.com""#.to_owned()
            ),
            (
                "no last-known-good value to serve".to_owned(),
                r#""bob@example.com""#.to_owned()
            ),
        ]
    );
}
