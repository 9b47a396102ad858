//! Priority load shedding: under a scripted overload, lower classes are shed
//! before higher ones, exactly at their thresholds; critical work never.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Context, Error, ErrorKind, Inspect, Policy, Priority};
use steadfast_degrade::{LoadShedder, LoadShedderConfig, ShedClass};

fn poll_once<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    f.poll(&mut TaskContext::from_waker(&waker))
}

const CLASSES: [(&str, Priority); 4] = [
    ("background", Priority::BACKGROUND),
    ("free", Priority::LOW),
    ("paid", Priority::HIGH),
    ("critical", Priority::CRITICAL),
];

fn shedder() -> LoadShedder {
    LoadShedder::builder()
        .name("api")
        // Given out of order on purpose: classes are sorted by priority.
        .class(ShedClass::new("paid", Priority::HIGH).max_in_flight(6))
        .class(ShedClass::new("background", Priority::BACKGROUND).max_in_flight(2))
        .class(ShedClass::new("critical", Priority::CRITICAL))
        .class(ShedClass::new("free", Priority::LOW).max_in_flight(4))
        .build()
        .unwrap()
}

#[tokio::test]
async fn classes_are_shed_in_order_exactly_at_their_thresholds() {
    let shedder = shedder();
    let hang = ScriptedOp::<u8, TestError>::hanging();
    let quick = ScriptedOp::<u8, TestError>::always_ok(1);
    let mut held = Vec::new();
    let thresholds = [2, 4, 6, u32::MAX];
    for load in 0..10u32 {
        assert_eq!(shedder.snapshot().in_flight, load);
        for ((name, priority), threshold) in CLASSES.iter().zip(thresholds) {
            let ctx = Context::new().with_priority(*priority);
            let result = shedder.call_with(ctx, quick.clone()).await;
            if load >= threshold {
                let err = result.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Shed, "{name} at {load}");
                assert_eq!(err.message(), "Server busy, please try again shortly.");
                assert_eq!(err.policy_name(), Some("api"));
            } else {
                assert_eq!(result, Ok(1), "{name} at {load}");
            }
        }
        // One more critical call held in flight: the load rises by one.
        let ctx = Context::new().with_priority(Priority::CRITICAL);
        let mut call = Box::pin(shedder.call_with(ctx, hang.clone()));
        assert!(poll_once(call.as_mut()).is_pending());
        held.push(call);
    }
    let s = shedder.snapshot();
    let shed: Vec<_> = s
        .classes
        .iter()
        .map(|c| (c.name.as_str(), c.shed))
        .collect();
    assert_eq!(
        shed,
        [("background", 8), ("free", 6), ("paid", 4), ("critical", 0)]
    );
    assert!(s.classes[0].shedding && !s.classes[3].shedding);
    drop(held);
    assert_eq!(shedder.snapshot().in_flight, 0, "dropped calls leave");
    let ctx = Context::new().with_priority(Priority::BACKGROUND);
    assert_eq!(shedder.call_with(ctx, quick.clone()).await, Ok(1));
    assert!(!shedder.snapshot().classes[0].shedding);
}

#[tokio::test]
async fn priorities_fall_into_the_class_at_or_below_them() {
    let shedder = LoadShedder::builder()
        .class(ShedClass::new("free", Priority::LOW).max_in_flight(1))
        .class(ShedClass::new("paid", Priority::HIGH).max_in_flight(2))
        .build()
        .unwrap();
    let hang = ScriptedOp::<u8, TestError>::hanging();
    let mut held =
        Box::pin(shedder.call_with(Context::new().with_priority(Priority::HIGH), hang.clone()));
    assert!(poll_once(held.as_mut()).is_pending());
    let quick = ScriptedOp::<u8, TestError>::always_ok(1);
    // Below every class: the lowest class. Between classes: the lower one.
    for priority in [Priority::BACKGROUND, Priority::NORMAL] {
        let result = shedder
            .call_with(Context::new().with_priority(priority), quick.clone())
            .await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::Shed, "{priority:?}");
    }
    for priority in [Priority::HIGH, Priority::CRITICAL] {
        let result = shedder
            .call_with(Context::new().with_priority(priority), quick.clone())
            .await;
        assert_eq!(result, Ok(1), "{priority:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn latency_thresholds_shed_lower_classes_first_and_expire() {
    let shedder = LoadShedder::builder()
        .class(ShedClass::new("free", Priority::LOW).max_latency(Duration::from_millis(100)))
        .class(ShedClass::new("paid", Priority::HIGH).max_latency(Duration::from_millis(300)))
        .class(ShedClass::new("critical", Priority::CRITICAL))
        .latency_smoothing(1.0)
        .latency_expiry(Duration::from_secs(1))
        .build()
        .unwrap();
    let critical = Context::new().with_priority(Priority::CRITICAL);
    let free = Context::new().with_priority(Priority::LOW);
    let paid = Context::new().with_priority(Priority::HIGH);
    let quick = ScriptedOp::<u8, TestError>::always_ok(1);
    let slow =
        |ms| ScriptedOp::<u8, TestError>::new([Step::ok(1).after(Duration::from_millis(ms))]);

    shedder.call_with(critical, slow(99)).await.unwrap();
    assert_eq!(shedder.snapshot().latency, Some(Duration::from_millis(99)));
    assert_eq!(shedder.call_with(free, quick.clone()).await, Ok(1));
    shedder.call_with(critical, slow(100)).await.unwrap();
    assert!(matches!(
        shedder.call_with(free, quick.clone()).await,
        Err(Error::Shed(_))
    ));
    assert_eq!(shedder.call_with(paid, slow(100)).await, Ok(1));
    shedder.call_with(critical, slow(300)).await.unwrap();
    assert!(matches!(
        shedder.call_with(paid, quick.clone()).await,
        Err(Error::Shed(_))
    ));
    assert_eq!(shedder.call_with(critical, quick.clone()).await, Ok(1));
    // That last quick call brought the latency to 0: everyone is back.
    assert_eq!(shedder.call_with(free, quick.clone()).await, Ok(1));

    // A slow measurement, then silence: it expires and free calls are tried again.
    shedder.call_with(critical, slow(500)).await.unwrap();
    assert!(shedder.call_with(free, quick.clone()).await.is_err());
    tokio::time::advance(Duration::from_millis(1_001)).await;
    assert_eq!(shedder.snapshot().latency, None);
    assert_eq!(shedder.call_with(free, quick.clone()).await, Ok(1));
}

#[test]
fn config_is_validated() {
    let field = |config: LoadShedderConfig| LoadShedder::from_config(config).unwrap_err().field();
    assert_eq!(field(LoadShedderConfig::default()), "classes");
    let inverted = LoadShedder::builder()
        .class(ShedClass::new("free", Priority::LOW).max_in_flight(10))
        .class(ShedClass::new("paid", Priority::HIGH).max_in_flight(5))
        .build()
        .unwrap_err();
    assert_eq!(inverted.field(), "max_in_flight");
    assert_eq!(
        inverted.to_string(),
        "invalid shedder config: `max_in_flight` of class paid must be at least that of the less important class free (got Some(5))"
    );
    let unbounded_low = LoadShedder::builder()
        .class(ShedClass::new("free", Priority::LOW))
        .class(ShedClass::new("paid", Priority::HIGH).max_in_flight(5))
        .build()
        .unwrap_err();
    assert_eq!(unbounded_low.field(), "max_in_flight");
    let same = LoadShedder::builder()
        .class(ShedClass::new("a", Priority::LOW))
        .class(ShedClass::new("b", Priority::LOW))
        .build()
        .unwrap_err();
    assert_eq!(same.field(), "min_priority");
    let zero = LoadShedder::builder()
        .class(ShedClass::new("a", Priority::LOW).max_in_flight(0))
        .build()
        .unwrap_err();
    assert_eq!(zero.field(), "max_in_flight");
    let smoothing = LoadShedder::builder()
        .class(ShedClass::new("a", Priority::LOW))
        .latency_smoothing(0.0)
        .build()
        .unwrap_err();
    assert_eq!(smoothing.field(), "latency_smoothing");
}

#[test]
fn config_deserializes() {
    let config: LoadShedderConfig = serde_json::from_str(
        r#"{
            "name": "api",
            "classes": [
                { "name": "free", "min_priority": 64, "max_in_flight": 50, "max_latency": "500ms" },
                { "name": "critical", "min_priority": 255 }
            ],
            "retry_after": "2s"
        }"#,
    )
    .unwrap();
    assert_eq!(config.classes[0].min_priority, Priority::LOW);
    assert_eq!(
        config.classes[0].max_latency,
        Some(Duration::from_millis(500))
    );
    assert_eq!(config.retry_after, Some(Duration::from_secs(2)));
    assert!(LoadShedder::from_config(config).is_ok());
}
