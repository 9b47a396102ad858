//! Public types are Send and Sync, policy futures are Send.

use steadfast_core::{Error, Policy};
use steadfast_ratelimit::*;

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>(_: &T) {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<RateLimiter>();
    send_sync::<KeyedRateLimiter<String>>();
    send_sync::<KeyedRateLimiter<(u64, String), MemoryStore<(u64, String)>>>();
    send_sync::<MemoryStore<u64>>();
    send_sync::<Lockout<String>>();
    send_sync::<Quota>();
    send_sync::<Algorithm>();
    send_sync::<Mode>();
    send_sync::<RateLimiterConfig>();
    send_sync::<LockoutConfig>();
    send_sync::<RateLimitState>();
    send_sync::<RateLimiterSnapshot>();
    send_sync::<LockoutSnapshot>();
    send_sync::<WarmUp>();
    send_sync::<TimeSource>();
    send_sync::<RateLimiterBuilder<Direct>>();
    send_sync::<RateLimiterBuilder<Keyed<u64, MemoryStore<u64>>>>();
    send_sync::<LockoutBuilder<u64>>();
}

#[tokio::test(start_paused = true)]
async fn policy_futures_are_send() {
    let direct = RateLimiter::builder(Quota::per_second(1))
        .wait(std::time::Duration::from_secs(1))
        .build()
        .unwrap();
    let keyed = KeyedRateLimiter::<u64>::new(Quota::per_second(1)).unwrap();
    let lockout = Lockout::<u64>::builder().build().unwrap();
    let op = || async { Ok::<_, ()>(1) };
    let f = direct.call(op);
    send(&f);
    assert_eq!(f.await, Ok(1));
    let f = keyed.call(op);
    send(&f);
    let _: Result<i32, Error<()>> = f.await;
    let user = 7u64;
    let f = lockout.call_with(steadfast_core::Context::new().with_key(&user), op);
    send(&f);
    assert_eq!(f.await, Ok(1));
    let handle = tokio::spawn(async move { direct.acquire(1).await });
    assert!(handle.await.unwrap().is_ok());
}
