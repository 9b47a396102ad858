//! Wait mode on the paused clock: exact instants, arrival order, give-back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use steadfast_core::{Context, Error, Inspect, Policy, time};
use steadfast_ratelimit::{Algorithm, KeyedRateLimiter, Quota, RateLimiter};

const MS: Duration = Duration::from_millis(1);

fn waiting_limiter(max_wait: Duration) -> RateLimiter {
    // 10 per second, burst 2: one unit every 100 ms.
    RateLimiter::builder(Quota::per_second(10).burst(2))
        .wait(max_wait)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_waiter_is_admitted_at_the_exact_instant() {
    let limiter = waiting_limiter(Duration::from_secs(1));
    let start = time::now();
    limiter.acquire(2).await.unwrap();
    assert_eq!(time::now(), start, "the burst is admitted at once");
    limiter.acquire(1).await.unwrap();
    assert_eq!(time::now() - start, 100 * MS);
    limiter.acquire(2).await.unwrap();
    assert_eq!(time::now() - start, 300 * MS);
}

#[tokio::test(start_paused = true)]
async fn waiters_are_admitted_in_arrival_order() {
    let limiter = waiting_limiter(Duration::from_secs(10));
    limiter.check_n(2).unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let start = time::now();
    let tasks: Vec<_> = (0..6u32)
        .map(|i| {
            let (limiter, order) = (limiter.clone(), order.clone());
            // Costs differ so a task that overtook another would show.
            let cost = 1 + i % 2;
            tokio::spawn(async move {
                limiter.acquire(cost).await.unwrap();
                order.lock().unwrap().push((i, time::now() - start));
            })
        })
        .collect();
    // Let every task reserve before any wakes.
    tokio::task::yield_now().await;
    assert_eq!(limiter.snapshot().waiting, 6);
    for task in tasks {
        task.await.unwrap();
    }
    let order = order.lock().unwrap().clone();
    let expected: Vec<(u32, Duration)> =
        [(0, 100), (1, 300), (2, 400), (3, 600), (4, 700), (5, 900)]
            .into_iter()
            .map(|(i, ms)| (i, ms * MS))
            .collect();
    assert_eq!(order, expected);
    assert_eq!(limiter.snapshot().waiting, 0);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_waiter_gives_its_reservation_back() {
    let limiter = waiting_limiter(Duration::from_secs(10));
    limiter.check_n(2).unwrap();
    let start = time::now();
    // Reserve the 100 ms and 200 ms slots, then drop the first waiter.
    let mut first = Box::pin(limiter.acquire(1));
    assert!(first.as_mut().now_or_never().is_none());
    let second = tokio::spawn({
        let limiter = limiter.clone();
        async move {
            limiter.acquire(1).await.unwrap();
            time::now()
        }
    });
    tokio::task::yield_now().await;
    assert_eq!(limiter.snapshot().waiting, 2);
    drop(first);
    assert_eq!(limiter.snapshot().waiting, 1);
    assert_eq!(
        limiter.snapshot().admitted,
        2,
        "one check and one kept reservation"
    );
    // The first waiter's unit went back (the arrival time moved from 400 ms
    // back to 300 ms), so the next caller is due at 200 ms beside the second
    // waiter (a burst of 2), not at 300 ms.
    limiter.acquire(1).await.unwrap();
    assert_eq!(time::now() - start, 200 * MS);
    assert_eq!(second.await.unwrap() - start, 200 * MS);
}

#[tokio::test(start_paused = true)]
async fn past_the_maximum_wait_it_is_rejected_at_once() {
    let limiter = waiting_limiter(250 * MS);
    limiter.check_n(2).unwrap();
    let start = time::now();
    limiter.acquire(2).await.unwrap();
    assert_eq!(time::now() - start, 200 * MS, "waited for two units");
    // Another waiter takes the slot 200 ms from now...
    let waiter = tokio::spawn({
        let limiter = limiter.clone();
        async move { limiter.acquire(2).await }
    });
    tokio::task::yield_now().await;
    // ...so one more unit would wait 300 ms, past the 250 ms maximum.
    let refused = limiter.acquire(1).await.unwrap_err();
    assert_eq!(refused.retry_after(), Some(300 * MS));
    assert_eq!(time::now() - start, 200 * MS, "rejected without waiting");
    assert_eq!(limiter.snapshot().rejected, 1);
    // A cost above the burst can never be admitted: refused at once too.
    let never = limiter.acquire(3).await.unwrap_err();
    assert!(never.is_never());
    assert_eq!(never.retry_after(), None);
    assert_eq!(time::now() - start, 200 * MS);
    waiter.await.unwrap().unwrap();
    assert_eq!(time::now() - start, 400 * MS);
}

#[tokio::test(start_paused = true)]
async fn the_policy_waits_within_the_deadline() {
    let limiter = waiting_limiter(Duration::from_secs(5));
    limiter.check_n(2).unwrap();
    // An enclosing deadline 150 ms away: a 100 ms wait fits, 200 ms does not.
    let deadline = time::now() + 150 * MS;
    let ok: Result<u8, Error<()>> = limiter
        .call_with(Context::new().with_deadline(deadline), || async { Ok(1) })
        .await;
    assert_eq!(ok, Ok(1));
    let start = time::now();
    let refused: Result<u8, Error<()>> = limiter
        .call_with(
            Context::new().with_cost(2).with_deadline(start + 150 * MS),
            || async { Ok(1) },
        )
        .await;
    assert!(matches!(refused, Err(Error::RateLimited(_))));
    assert_eq!(time::now(), start);
}

#[tokio::test(start_paused = true)]
async fn keyed_waiters_wait_per_key() {
    let limiter = KeyedRateLimiter::<u32>::builder(Quota::per_second(10).burst(1))
        .wait(Duration::from_secs(1))
        .build()
        .unwrap();
    let start = time::now();
    limiter.acquire(&1, 1).await.unwrap();
    limiter.acquire(&2, 1).await.unwrap();
    assert_eq!(time::now(), start, "keys do not wait for each other");
    limiter.acquire(&1, 1).await.unwrap();
    assert_eq!(time::now() - start, 100 * MS);
    // A dropped keyed waiter hands back too.
    let mut dropped = Box::pin(limiter.acquire(&1, 1));
    assert!(dropped.as_mut().now_or_never().is_none());
    drop(dropped);
    limiter.acquire(&1, 1).await.unwrap();
    assert_eq!(time::now() - start, 200 * MS);
    assert_eq!(limiter.snapshot().waiting, 0);
}

#[tokio::test(start_paused = true)]
async fn window_waiters_recheck_until_admitted() {
    let limiter = RateLimiter::builder(Quota::new(2, Duration::from_secs(1)))
        .algorithm(Algorithm::FixedWindow)
        .wait(Duration::from_secs(2))
        .build()
        .unwrap();
    let start = time::now();
    limiter.acquire(2).await.unwrap();
    limiter.acquire(1).await.unwrap();
    assert_eq!(time::now() - start, Duration::from_secs(1));
    let refused = limiter.acquire(3).await.unwrap_err();
    assert!(refused.is_never());
    assert_eq!(
        time::now() - start,
        Duration::from_secs(1),
        "refused at once"
    );
}

#[tokio::test(start_paused = true)]
async fn an_enclosing_timeout_cuts_every_kind_of_wait() {
    use steadfast_core::{Pipeline, Timeout};
    // A fixed window of 1 per second re-checks rather than reserves: under
    // a 300 ms timeout its 1 s wait cannot fit, so it is refused at once.
    let windowed = RateLimiter::builder(Quota::per_second(1))
        .algorithm(Algorithm::FixedWindow)
        .wait(Duration::from_secs(10))
        .build()
        .unwrap();
    let keyed = KeyedRateLimiter::<u32>::builder(Quota::per_second(1).burst(1))
        .wait(Duration::from_secs(10))
        .build()
        .unwrap();
    let shared = KeyedRateLimiter::<u32>::builder(Quota::per_second(1).burst(1))
        .wait(Duration::from_secs(10))
        .share_unkeyed(true)
        .build()
        .unwrap();
    let timeout = Timeout::new(300 * MS).unwrap();
    let op = || async { Ok::<u8, ()>(1) };
    let key = 1u32;
    let ctx = || Context::new().with_key(&key);
    let windowed = Pipeline::new(timeout.clone()).then(windowed);
    let keyed = Pipeline::new(timeout.clone()).then(keyed);
    let shared = Pipeline::new(timeout).then(shared);
    assert_eq!(windowed.call(op).await, Ok(1));
    assert_eq!(keyed.call_with(ctx(), op).await, Ok(1));
    assert_eq!(shared.call(op).await, Ok(1));
    let start = time::now();
    assert!(matches!(
        windowed.call(op).await,
        Err(Error::RateLimited(_))
    ));
    assert!(matches!(
        keyed.call_with(ctx(), op).await,
        Err(Error::RateLimited(_))
    ));
    assert!(matches!(shared.call(op).await, Err(Error::RateLimited(_))));
    assert_eq!(time::now(), start, "every refusal came at once");
    // Once the wait fits the deadline, each waits exactly its turn.
    tokio::time::advance(800 * MS).await;
    let at = time::now();
    assert_eq!(keyed.call_with(ctx(), op).await, Ok(1));
    assert_eq!(time::now() - at, 200 * MS);
}
