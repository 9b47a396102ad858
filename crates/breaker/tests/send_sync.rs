//! Public types are `Send` and `Sync` where they must be, and futures are `Send`.

use steadfast_breaker::{
    Breaker, BreakerBuilder, BreakerConfig, BreakerSnapshot, OwnedPermit, Permit, State, Transition,
};
use steadfast_core::Policy;

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>(_: &T) {}

#[test]
fn types_are_send_and_sync() {
    send_sync::<Breaker>();
    send_sync::<BreakerBuilder>();
    send_sync::<BreakerConfig>();
    send_sync::<BreakerSnapshot>();
    send_sync::<Permit<'static>>();
    send_sync::<OwnedPermit>();
    send_sync::<State>();
    send_sync::<Transition>();
}

#[test]
fn call_futures_are_send() {
    let b = Breaker::new();
    let fut = b.call(|| async { Ok::<u8, std::io::Error>(1) });
    send(&fut);
    let pipeline = steadfast_core::Pipeline::new(b.clone()).then(b.clone());
    let fut = pipeline.call(|| async { Ok::<u8, std::io::Error>(1) });
    send(&fut);
}
