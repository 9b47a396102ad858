//! Single flight: concurrent misses share one fetch, and no caller depends on
//! the caller that started it still being there.

mod common;

use common::{SECOND, TestCache, builder, fetch, settle};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Context, Inspect, Policy};
use tokio::time::advance;

#[tokio::test(start_paused = true)]
async fn a_hundred_concurrent_misses_run_one_fetch() {
    let cache = builder().build().unwrap();
    let op = ScriptedOp::new([Step::<u32, TestError>::ok(42).after(SECOND)]);
    let callers: Vec<_> = (0..100)
        .map(|_| {
            let (cache, op) = (cache.clone(), op.clone());
            tokio::spawn(async move { fetch(&cache, 1, &op).await })
        })
        .collect();
    for caller in callers {
        let value = caller.await.unwrap().unwrap();
        assert_eq!((*value, value.is_fetched()), (42, true));
    }
    assert_eq!(op.invocations(), 1);
    let snapshot = cache.snapshot();
    assert_eq!(
        (snapshot.fetches, snapshot.coalesced, snapshot.misses),
        (1, 99, 100)
    );
    assert_eq!(snapshot.in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn the_first_caller_dropped_mid_fetch_leaves_the_others_served() {
    let cache = builder().build().unwrap();
    let op = ScriptedOp::new([Step::<u32, TestError>::ok(42).after(SECOND)]);
    let first = {
        let (cache, op) = (cache.clone(), op.clone());
        tokio::spawn(async move { fetch(&cache, 1, &op).await })
    };
    settle().await;
    let others: Vec<_> = (0..10)
        .map(|_| {
            let (cache, op) = (cache.clone(), op.clone());
            tokio::spawn(async move { fetch(&cache, 1, &op).await })
        })
        .collect();
    settle().await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());

    advance(SECOND).await;
    for caller in others {
        assert_eq!(*caller.await.unwrap().unwrap(), 42);
    }
    assert_eq!(
        (op.invocations(), op.completed(), op.cancelled()),
        (1, 1, 0)
    );
    assert_eq!(
        *cache.get(&1).await.unwrap(),
        42,
        "the fetch stored its value"
    );
}

#[tokio::test(start_paused = true)]
async fn a_lone_caller_dropped_mid_fetch_still_stores_the_value() {
    let cache = builder().build().unwrap();
    let op = ScriptedOp::new([Step::<u32, TestError>::ok(5).after(SECOND)]);
    let caller = {
        let (cache, op) = (cache.clone(), op.clone());
        tokio::spawn(async move { fetch(&cache, 1, &op).await })
    };
    settle().await;
    caller.abort();
    advance(SECOND).await;
    settle().await;
    assert_eq!(*cache.get(&1).await.unwrap(), 5);
    assert_eq!(op.invocations(), 1);
}

async fn through_policy(cache: &TestCache, key: u32, op: &ScriptedOp<u32, TestError>) -> u32 {
    cache
        .call_with(Context::new().with_key(&key), op.clone())
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn as_a_policy_a_follower_takes_over_from_a_dropped_leader() {
    let cache = builder().build().unwrap();
    let op = ScriptedOp::new([
        Step::<u32, TestError>::ok(1).after(SECOND * 10),
        Step::ok(2).after(SECOND),
    ]);
    let leader = {
        let (cache, op) = (cache.clone(), op.clone());
        tokio::spawn(async move { through_policy(&cache, 1, &op).await })
    };
    settle().await;
    let followers: Vec<_> = (0..5)
        .map(|_| {
            let (cache, op) = (cache.clone(), op.clone());
            tokio::spawn(async move { through_policy(&cache, 1, &op).await })
        })
        .collect();
    settle().await;
    leader.abort();
    let _ = leader.await;
    settle().await;

    advance(SECOND).await;
    for follower in followers {
        assert_eq!(follower.await.unwrap(), 2);
    }
    // The leader's fetch was cancelled with it; one follower fetched for all.
    assert_eq!((op.invocations(), op.cancelled()), (2, 1));
    assert_eq!(cache.snapshot().in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn as_a_policy_concurrent_misses_run_one_fetch() {
    let cache = builder().build().unwrap();
    let op = ScriptedOp::new([Step::<u32, TestError>::ok(7).after(SECOND)]);
    let callers: Vec<_> = (0..100)
        .map(|_| {
            let (cache, op) = (cache.clone(), op.clone());
            tokio::spawn(async move { through_policy(&cache, 3, &op).await })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap(), 7);
    }
    assert_eq!(op.invocations(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_fetch_is_shared_not_repeated() {
    let cache = builder().build().unwrap();
    let op = ScriptedOp::new([
        Step::<u32, TestError>::err(TestError::new("down")).after(SECOND),
        Step::ok(1),
    ]);
    let callers: Vec<_> = (0..10)
        .map(|_| {
            let (cache, op) = (cache.clone(), op.clone());
            tokio::spawn(async move { fetch(&cache, 1, &op).await })
        })
        .collect();
    for caller in callers {
        let error = caller.await.unwrap().unwrap_err();
        assert_eq!(error.into_inner(), Some(TestError::new("down")));
    }
    assert_eq!(op.invocations(), 1);
    assert_eq!(cache.snapshot().fetch_errors, 1);
    // Nothing was stored: the next call fetches.
    assert_eq!(*fetch(&cache, 1, &op).await.unwrap(), 1);
}

#[test]
fn without_a_runtime_the_caller_fetches() {
    // Outside a tokio runtime the fetch cannot be a task: the caller runs it.
    let cache = builder().build().unwrap();
    let op = ScriptedOp::<u32, TestError>::always_ok(1);
    let value = futures::executor::block_on(fetch(&cache, 1, &op)).unwrap();
    assert!(value.is_fetched());
    let again = futures::executor::block_on(fetch(&cache, 1, &op)).unwrap();
    assert!(!again.is_fetched());
}

#[tokio::test(start_paused = true)]
async fn dropping_a_call_at_any_await_point_leaves_no_flight_or_claim() {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context as TaskContext, Poll, Waker};

    let cache = builder()
        .fresh_for(SECOND)
        .stale_for(SECOND * 100)
        .soft_timeout(SECOND / 10)
        .build()
        .unwrap();
    cache.insert(1, 0).await;
    advance(SECOND).await;
    for polls in 0..4 {
        // A stale key (a claimed refresh) and a missing key (a flight), through the policy.
        for key in [1u32, 2] {
            let op = ScriptedOp::new([Step::<u32, TestError>::ok(9).after(SECOND)]);
            {
                let mut call = pin!(through_policy(&cache, key, &op));
                let mut cx = TaskContext::from_waker(Waker::noop());
                for _ in 0..polls {
                    assert!(matches!(call.as_mut().poll(&mut cx), Poll::Pending));
                }
            }
            assert_eq!(
                cache.snapshot().in_flight,
                0,
                "key {key} after {polls} polls"
            );
        }
    }
    // The claim came back: the stale key refreshes at the next call.
    let op = ScriptedOp::new([Step::<u32, TestError>::ok(5)]);
    assert_eq!(through_policy(&cache, 1, &op).await, 5);
    assert_eq!(op.invocations(), 1);
}

#[tokio::test(start_paused = true)]
async fn callers_past_the_soft_timeout_share_one_failing_fetch_and_its_throttle() {
    use std::time::Duration;
    use steadfast_cache::{Freshness, StaleReason};
    let soft = Duration::from_millis(100);
    let cache = builder()
        .fresh_for(SECOND * 10)
        .fail_safe(SECOND * 3_600, SECOND * 30)
        .soft_timeout(soft)
        .hard_timeout(SECOND * 2)
        .build()
        .unwrap();
    let op = ScriptedOp::new([
        Step::<u32, TestError>::ok(1),
        Step::err(TestError::new("down")).after(Duration::from_millis(500)),
    ]);
    fetch(&cache, 1, &op).await.unwrap();
    advance(SECOND * 10).await;
    let callers: Vec<_> = (0..10)
        .map(|_| {
            let (cache, op) = (cache.clone(), op.clone());
            tokio::spawn(async move { fetch(&cache, 1, &op).await })
        })
        .collect();
    for caller in callers {
        let served = caller.await.unwrap().unwrap();
        assert_eq!(
            (*served, served.freshness()),
            (
                1,
                Freshness::Stale {
                    age: SECOND * 10 + soft,
                    reason: StaleReason::SoftTimeout
                }
            )
        );
    }
    let snapshot = cache.snapshot();
    assert_eq!(
        (
            snapshot.fetches,
            snapshot.coalesced,
            snapshot.stale_fallbacks
        ),
        (2, 9, 10)
    );
    // The fetch fails after every caller left, and still throttles.
    advance(Duration::from_millis(400)).await;
    settle().await;
    let read = cache.get(&1).await.unwrap();
    assert_eq!(
        read.freshness(),
        Freshness::Stale {
            age: SECOND * 10 + Duration::from_millis(500),
            reason: StaleReason::FetchFailed
        }
    );
    assert_eq!((op.invocations(), op.cancelled()), (2, 0));
    assert_eq!(cache.snapshot().in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn dropping_a_get_or_fetch_at_any_await_point_cancels_nothing_and_leaks_nothing() {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context as TaskContext, Waker};

    let cache = builder()
        .fresh_for(SECOND)
        .stale_for(SECOND * 100)
        .build()
        .unwrap();
    for polls in 0..4u32 {
        cache.insert(10 + polls, 0).await;
    }
    advance(SECOND).await;
    for polls in 0..4u32 {
        // A stale key (a background refresh) and a missing key (a flight).
        for key in [10 + polls, 20 + polls] {
            let op = ScriptedOp::new([Step::<u32, TestError>::ok(9).after(SECOND)]);
            {
                let mut call = pin!(fetch(&cache, key, &op));
                let mut cx = TaskContext::from_waker(Waker::noop());
                // A stale hit answers at its first poll; a miss waits.
                for _ in 0..polls {
                    if call.as_mut().poll(&mut cx).is_ready() {
                        assert_eq!(key, 10 + polls, "only the stale key answers at once");
                        break;
                    }
                }
            }
            settle().await;
            advance(SECOND).await;
            settle().await;
            let what = format!("key {key} dropped after {polls} polls");
            assert_eq!(cache.snapshot().in_flight, 0, "{what}");
            assert_eq!((op.in_flight(), op.cancelled()), (0, 0), "{what}");
            if polls == 0 {
                assert_eq!(
                    op.invocations(),
                    0,
                    "{what}: a future does nothing unpolled"
                );
            } else {
                assert_eq!(op.invocations(), 1, "{what}");
                let stored = cache.get(&key).await.unwrap();
                assert_eq!((*stored, stored.is_stale()), (9, false), "{what}: stored");
            }
        }
    }
}
