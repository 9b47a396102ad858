//! Dropping a call at any await point leaks nothing: reservations, the
//! waiters' count, the background sweeper.

use std::time::Duration;

use futures::FutureExt;
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Context, Inspect, Policy, time};
use steadfast_ratelimit::{KeyedRateLimiter, Quota, RateLimiter};

const MS: Duration = Duration::from_millis(1);

#[tokio::test(start_paused = true)]
async fn a_call_dropped_while_waiting_or_running_leaks_nothing() {
    // One unit every 100 ms, burst 1.
    let limiter = RateLimiter::builder(Quota::per_second(10).burst(1))
        .wait(Duration::from_secs(1))
        .build()
        .unwrap();
    let slow = ScriptedOp::new([Step::<u32, TestError>::ok(1).after(Duration::from_secs(5))]);
    limiter.check().unwrap();
    let start = time::now();

    // Dropped while waiting for its turn (at 100 ms).
    let mut waiting = Box::pin(limiter.call(slow.clone()));
    assert!(waiting.as_mut().now_or_never().is_none());
    assert_eq!(limiter.snapshot().waiting, 1);
    drop(waiting);
    assert_eq!(limiter.snapshot().waiting, 0);
    assert_eq!(slow.invocations(), 0);

    // Dropped while the admitted call runs: its unit is spent (the call ran).
    let mut running = Box::pin(limiter.call(slow.clone()));
    tokio::time::advance(100 * MS).await;
    assert!(running.as_mut().now_or_never().is_none());
    assert_eq!(slow.invocations(), 1);
    drop(running);
    assert_eq!(slow.in_flight(), 0);

    // The first waiter's slot went back: the next unit is due at 200 ms.
    let next = limiter.acquire(1);
    next.await.unwrap();
    assert_eq!(time::now() - start, 200 * MS);
    let snapshot = limiter.snapshot();
    assert_eq!((snapshot.admitted, snapshot.waiting), (3, 0));
}

#[tokio::test(start_paused = true)]
async fn a_keyed_waiter_dropped_at_each_point_gives_back() {
    let limiter = KeyedRateLimiter::<u8>::builder(Quota::per_second(10).burst(1))
        .wait(Duration::from_secs(1))
        .build()
        .unwrap();
    let op = ScriptedOp::new([Step::<u32, TestError>::ok(1)]);
    limiter.check(&1).unwrap();
    for _ in 0..5 {
        let mut call = Box::pin(limiter.call_with(Context::new().with_key(&1u8), op.clone()));
        assert!(call.as_mut().now_or_never().is_none());
        drop(call);
    }
    assert_eq!(limiter.snapshot().waiting, 0);
    // Five dropped reservations gave their slots back: the next is at 100 ms.
    let start = time::now();
    limiter.acquire(&1, 1).await.unwrap();
    assert_eq!(time::now() - start, 100 * MS);
    assert_eq!(op.invocations(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_sweeper_ends_with_the_limiter() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    let limiter = KeyedRateLimiter::<u8>::builder(Quota::per_second(1))
        .sweep_interval(Some(Duration::from_secs(1)))
        .build()
        .unwrap();
    let clone = limiter.clone();
    assert_eq!(metrics.num_alive_tasks(), before + 1);
    drop(limiter);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        metrics.num_alive_tasks(),
        before + 1,
        "a clone keeps it alive"
    );
    drop(clone);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(metrics.num_alive_tasks(), before);
}
