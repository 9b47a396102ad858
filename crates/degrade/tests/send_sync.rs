//! Public types are Send and Sync, and calls run inside tokio::spawn.

use steadfast_core::testing::{ScriptedOp, TestError};
use steadfast_core::{Error, Policy, Priority};
use steadfast_degrade::*;

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>(_: &T) {}

type Sync1 = fn(Error<TestError>) -> u8;

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<Fallback<fallback::FromFn<Sync1>>>();
    send_sync::<FallbackSnapshot>();
    send_sync::<fallback::NoFuture<u8>>();
    send_sync::<LastKnownGood<u8, String>>();
    send_sync::<LastKnownGoodConfig>();
    send_sync::<LastKnownGoodSnapshot>();
    send_sync::<Served<u8>>();
    send_sync::<LoadShedder>();
    send_sync::<LoadShedderConfig>();
    send_sync::<LoadShedderSnapshot>();
    send_sync::<ShedClass>();
    send_sync::<AdaptiveThrottle>();
    send_sync::<AdaptiveThrottleSnapshot>();
    send_sync::<Optional>();
    send_sync::<OptionalSnapshot>();
    send_sync::<Fresh<ScriptedOp<u8, TestError>>>();
    send_sync::<SomeOp<ScriptedOp<u8, TestError>>>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_futures_are_send() {
    let op = ScriptedOp::<u8, TestError>::always_ok(1);
    let fallback = Fallback::from_fn(|_: Error<TestError>| 0u8);
    let lkg = LastKnownGood::<u8>::builder().build().unwrap();
    let shedder = LoadShedder::builder()
        .class(ShedClass::new("all", Priority::BACKGROUND).max_in_flight(10))
        .build()
        .unwrap();
    let throttle = AdaptiveThrottle::new().unwrap();
    let optional = Optional::new();
    send(&fallback.call(op.clone()));
    send(&lkg.call(fresh(op.clone())));
    send(&shedder.call(op.clone()));
    send(&throttle.call(op.clone()));
    send(&optional.call(some(op.clone())));
    let handle = tokio::spawn(async move { lkg.call(fresh(op)).await });
    assert_eq!(handle.await.unwrap(), Ok(Served::fresh(1)));
}
