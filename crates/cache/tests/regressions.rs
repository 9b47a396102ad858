//! Regressions found by an adversarial review of the cache: each test failed
//! against the code before its fix. Paused clock only; no real sleeps.

mod common;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::{SECOND, TestCache, builder, fetch, fetch_with, secs, settle};
use steadfast_cache::{Entry, FetchOptions, Freshness, MokaStore, StaleReason, Store};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{CircuitOpen, Context, Error, ErrorKind, Inspect, Next, Policy};
use tokio::time::advance;

// ---------------------------------------------------------------------------
// 1. Was: a caller that arrives *after* an invalidation has returned joined
//    the flight that started before it, and was served the pre-invalidation value.
// ---------------------------------------------------------------------------

async fn joiner_after(invalidate: impl AsyncFnOnce(&TestCache)) -> (u32, u32) {
    let cache = builder().build().unwrap();
    let op = ScriptedOp::new([Step::<u32, TestError>::ok(1).after(SECOND), Step::ok(2)]);
    let first = {
        let (cache, op) = (cache.clone(), op.clone());
        tokio::spawn(
            async move { fetch_with(&cache, 7, FetchOptions::new().tag("user:7"), &op).await },
        )
    };
    settle().await;
    invalidate(&cache).await;
    // Asked strictly after the invalidation returned (think: after the write
    // committed and the writer invalidated).
    let second = {
        let (cache, op) = (cache.clone(), op.clone());
        tokio::spawn(
            async move { fetch_with(&cache, 7, FetchOptions::new().tag("user:7"), &op).await },
        )
    };
    settle().await;
    advance(SECOND).await;
    let first = *first.await.unwrap().unwrap();
    let second = *second.await.unwrap().unwrap();
    (first, second)
}

#[tokio::test(start_paused = true)]
async fn a_caller_after_invalidate_key_does_not_join_the_older_fetch() {
    let (first, second) = joiner_after(async |cache: &TestCache| cache.invalidate(&7).await).await;
    assert_eq!(
        first, 1,
        "the caller that asked before gets what it asked for"
    );
    assert_eq!(
        second, 2,
        "a caller that asked after invalidate(key) must not get the value fetched before it"
    );
}

#[tokio::test(start_paused = true)]
async fn a_caller_after_invalidate_tag_does_not_join_the_older_fetch() {
    let (_, second) = joiner_after(async |cache: &TestCache| cache.invalidate_tag("user:7")).await;
    assert_eq!(
        second, 2,
        "a caller that asked after invalidate_tag must not get the value fetched before it"
    );
}

#[tokio::test(start_paused = true)]
async fn a_caller_after_invalidate_all_does_not_join_the_older_fetch() {
    let (_, second) = joiner_after(async |cache: &TestCache| cache.invalidate_all().await).await;
    assert_eq!(
        second, 2,
        "a caller that asked after invalidate_all must not get the value fetched before it"
    );
}

#[tokio::test(start_paused = true)]
async fn as_a_policy_a_caller_after_invalidate_does_not_join_the_older_fetch() {
    let cache: TestCache = builder().build().unwrap();
    let op = ScriptedOp::new([Step::<u32, TestError>::ok(1).after(SECOND), Step::ok(2)]);
    let call = |cache: TestCache, op: ScriptedOp<u32, TestError>| async move {
        cache
            .call_with(Context::new().with_key(&7u32), op)
            .await
            .unwrap()
    };
    let first = tokio::spawn(call(cache.clone(), op.clone()));
    settle().await;
    cache.invalidate(&7).await;
    let second = tokio::spawn(call(cache.clone(), op.clone()));
    settle().await;
    advance(SECOND).await;
    assert_eq!(first.await.unwrap(), 1);
    assert_eq!(
        second.await.unwrap(),
        2,
        "served the pre-invalidation value"
    );
}

// ---------------------------------------------------------------------------
// 2. Was: a background refresh whose fetch panicked never gave its claim back:
//    the entry was never refreshed again for the rest of its stale window.
// ---------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_panicking_background_refresh_gives_its_claim_back() {
    let cache: TestCache = builder()
        .fresh_for(secs(10))
        .stale_for(secs(600))
        .build()
        .unwrap();
    cache.insert(1, 1).await;
    advance(secs(10)).await;

    // The first stale hit claims the refresh; its fetch panics in its task.
    let hit = cache
        .get_or_fetch(&1, || async { panic!("review: the refresh panics") })
        .await
        .unwrap();
    assert!(hit.is_stale());
    settle().await;
    assert_eq!(
        cache.snapshot().in_flight,
        0,
        "the flight itself was landed"
    );

    // Much later, still in the stale window: the next hit should refresh.
    advance(secs(60)).await;
    let calls = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&calls);
    let hit = cache
        .get_or_fetch(&1, move || async move {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(2)
        })
        .await
        .unwrap();
    assert!(hit.is_stale());
    settle().await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a stale hit after the panicked refresh must start a new refresh"
    );
}

// ---------------------------------------------------------------------------
// 3. Was: the soft timeout served a value older than fail_safe_max_age (the age
//    was checked when the wait started, not when the stale value was served).
// ---------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn the_soft_timeout_never_serves_a_value_older_than_fail_safe_max_age() {
    let cache: TestCache = builder()
        .fresh_for(secs(10))
        .fail_safe(secs(60), secs(5))
        .soft_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    cache.insert(1, 1).await;
    advance(Duration::from_millis(59_950)).await;
    let op = ScriptedOp::new([Step::<u32, TestError>::ok(2).after(SECOND)]);
    let served = fetch(&cache, 1, &op).await.unwrap();
    assert!(
        served.age() <= secs(60),
        "fail_safe_max_age is 60 s, yet served {:?}",
        served.freshness()
    );
}

// ---------------------------------------------------------------------------
// 4. Was: outside a tokio runtime (a path the code supports: "fetch in this
//    call"), a configured hard timeout panicked (no timers there).
// ---------------------------------------------------------------------------

#[test]
fn without_a_runtime_a_hard_timeout_does_not_panic() {
    let cache: TestCache = builder().hard_timeout(SECOND).build().unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures::executor::block_on(cache.get_or_fetch(&1, || async { Ok(1) })).map(|v| *v)
    }));
    assert!(
        matches!(outcome, Ok(Ok(1))),
        "get_or_fetch panicked outside a runtime with a hard timeout set"
    );
}

// ---------------------------------------------------------------------------
// 5. With a store whose insert takes time (the seam is async for a networked
//    store), an `insert` made while a fetch was storing was overwritten by the
//    fetch's revoked entry: the inserted value was lost.
// ---------------------------------------------------------------------------

struct SlowStore(Arc<MokaStore<u32, u32>>);

impl Store<u32, u32> for SlowStore {
    fn get(&self, key: &u32) -> impl Future<Output = Option<Arc<Entry<u32>>>> + Send {
        self.0.get(key)
    }

    fn insert(&self, key: u32, entry: Arc<Entry<u32>>) -> impl Future<Output = ()> + Send {
        let store = Arc::clone(&self.0);
        async move {
            // Writes of the fetched value (1) take a round trip.
            if *entry.value() == 1 {
                tokio::time::sleep(SECOND).await;
            }
            store.insert(key, entry).await;
        }
    }

    fn remove(&self, key: &u32) -> impl Future<Output = ()> + Send {
        self.0.remove(key)
    }

    fn clear(&self) -> impl Future<Output = ()> + Send {
        self.0.clear()
    }

    fn entry_count(&self) -> u64 {
        self.0.entry_count()
    }
}

#[tokio::test(start_paused = true)]
async fn an_insert_racing_a_slow_store_write_is_kept() {
    let cache = builder()
        .store::<SlowStore>()
        .build_with_store(SlowStore(Arc::new(MokaStore::new(100))))
        .unwrap();
    let caller = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.get_or_fetch(&3, || async { Ok(1) }).await })
    };
    settle().await; // the fetch is done; its store write is under way
    cache.insert(3, 99).await;
    assert_eq!(*cache.get(&3).await.unwrap(), 99);
    advance(SECOND).await;
    settle().await;
    caller.await.unwrap().unwrap();
    assert_eq!(
        cache.get(&3).await.map(|v| *v),
        Some(99),
        "insert documents that it wins over a fetch in flight"
    );
}

// ---------------------------------------------------------------------------
// 6. Was: with degrade_on_rejection off, a *rejected* background refresh
//    throttled the entry, so past the stale window a rejection was answered
//    from the stale value (as FetchFailed), while the same rejection on a
//    miss went through as an error.
// ---------------------------------------------------------------------------

#[derive(Clone)]
struct AlwaysOpen;

impl<T: Send, E: Send> Policy<T, E> for AlwaysOpen {
    async fn execute<'a, N>(&'a self, _ctx: Context<'a>, _next: N) -> Result<T, Error<E>>
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        Err(CircuitOpen::new("db", Some(secs(5))).into())
    }
}

#[tokio::test(start_paused = true)]
async fn a_rejected_refresh_does_not_degrade_when_degrade_on_rejection_is_off() {
    let cache: TestCache = builder()
        .fresh_for(secs(10))
        .stale_for(secs(5))
        .fail_safe(secs(60), secs(30))
        .build()
        .unwrap();
    assert!(!cache.config().degrade_on_rejection);
    cache.insert(1, 100).await;
    let op = ScriptedOp::<u32, TestError>::always_ok(1);
    let through = |cache: TestCache, op: ScriptedOp<u32, TestError>| async move {
        cache
            .get_or_fetch_through(&1, FetchOptions::new(), &AlwaysOpen, op)
            .await
    };

    advance(secs(10)).await;
    // A stale hit: served at once, its background refresh is rejected.
    assert!(through(cache.clone(), op.clone()).await.unwrap().is_stale());
    settle().await;

    // Past the stale window: with degrade_on_rejection off, the rejection
    // should go through (as it does for a key with no refresh history).
    advance(secs(10)).await;
    let answer = through(cache.clone(), op.clone()).await;
    assert!(
        matches!(&answer, Err(e) if e.kind() == ErrorKind::CircuitOpen),
        "expected the rejection, got {:?}",
        answer.map(|v| v.freshness())
    );
}

// ---------------------------------------------------------------------------
// 7. Was: as a policy, one stale hit whose inline refresh outlasted the soft
//    timeout was counted twice (a stale hit *and* a stale fallback).
// ---------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn one_stale_answer_is_counted_once_as_a_policy() {
    let cache: TestCache = builder()
        .fresh_for(secs(10))
        .stale_for(secs(60))
        .soft_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    cache.insert(1, 1).await;
    advance(secs(10)).await;
    let slow = ScriptedOp::new([Step::<u32, TestError>::ok(3).after(SECOND)]);
    let answer = cache
        .call_with(
            Context::new().with_key(&1u32),
            steadfast_cache::fetched(slow),
        )
        .await
        .unwrap();
    assert_eq!(
        answer.freshness(),
        Freshness::Stale {
            age: secs(10) + Duration::from_millis(100),
            reason: StaleReason::SoftTimeout
        }
    );
    let snapshot = cache.snapshot();
    assert_eq!(
        (
            snapshot.stale_hits,
            snapshot.stale_fallbacks,
            snapshot.stale_served()
        ),
        (1, 0, 1),
        "one call, one stale answer"
    );
}
