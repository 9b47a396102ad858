//! Fail-safe holds however a fetch ends: a failure (or a hard timeout)
//! starts the throttle and keeps the old value served, whether a caller was
//! waiting for the fetch, every caller had left at the soft timeout, the
//! caller that started it was dropped, or it was a stale or eager refresh.
//!
//! Each test stores 1 at t = 0 (fresh 10 s, fail-safe 3,600 s with a 30 s
//! throttle), lets the dependency go down, and checks the exact number of
//! upstream fetches and what `get` and a get-or-fetch return through the
//! whole throttle window, on the paused clock.

mod common;

use std::time::Duration;

use common::{SECOND, TestCache, builder, fetch, secs, settle};
use steadfast_cache::{CacheBuilder, Freshness, StaleReason};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Context, Inspect, Policy};
use tokio::time::{Instant, advance};

const THROTTLE: Duration = Duration::from_secs(30);
const SLOW_FAILURE: Duration = Duration::from_millis(500);
const SOFT: Duration = Duration::from_millis(100);

fn down() -> TestError {
    TestError::new("down")
}

/// Fresh 10 s, fail-safe 3,600 s, throttle 30 s.
fn base() -> CacheBuilder<u32, u32, TestError> {
    builder()
        .fresh_for(secs(10))
        .fail_safe(secs(3_600), THROTTLE)
}

/// 1 stored at t = 0 by a first fetch; every fetch after that is `then`.
async fn stored(
    cache: &TestCache,
    then: Step<u32, TestError>,
) -> (ScriptedOp<u32, TestError>, Instant) {
    let start = Instant::now();
    let op = ScriptedOp::new([Step::ok(1), then]);
    assert!(fetch(cache, 1, &op).await.unwrap().is_fetched());
    (op, start)
}

async fn advance_to(at: Instant) {
    let now = Instant::now();
    assert!(at >= now, "time only moves forward");
    advance(at - now).await;
}

/// What the old value is served as, `at`: fresh before `ends.fresh`,
/// revalidating before `ends.stale`, else held by the throttle.
#[derive(Clone, Copy, Default)]
struct Ends {
    fresh: Option<Instant>,
    stale: Option<Instant>,
}

/// From `from` (when the failure landed) to one nanosecond before the
/// throttle ends, once a second: `get` returns the old value — marked stale
/// with `FetchFailed` once past its fresh and stale windows (`ends`) — and
/// so does a get-or-fetch, at once and without a fetch. At the end of the
/// throttle `get` misses and the next get-or-fetch fetches once more.
async fn assert_throttled(
    cache: &TestCache,
    op: &ScriptedOp<u32, TestError>,
    start: Instant,
    from: Instant,
    ends: Ends,
) {
    let fetches = op.invocations();
    let until = from + THROTTLE;
    let mut at = from;
    while at < until {
        advance_to(at).await;
        let age = at - start;
        let expected = match ends {
            Ends {
                fresh: Some(end), ..
            } if at < end => Freshness::Fresh { age },
            Ends {
                stale: Some(end), ..
            } if at < end => Freshness::Stale {
                age,
                reason: StaleReason::Revalidating,
            },
            _ => failed_at(age),
        };
        let read = cache.get(&1).await.expect("served through the throttle");
        assert_eq!(
            (*read, read.freshness()),
            (1, expected),
            "get at {:?}",
            at - start
        );
        let asked = Instant::now();
        let served = fetch(cache, 1, op).await.unwrap();
        assert_eq!((*served, served.freshness()), (1, expected));
        assert_eq!(
            asked.elapsed(),
            Duration::ZERO,
            "no wait at {:?}",
            at - start
        );
        settle().await;
        assert_eq!(op.invocations(), fetches, "no fetch at {:?}", at - start);
        at = (at + SECOND)
            .min(until - Duration::from_nanos(1))
            .max(at + Duration::from_nanos(1));
    }
    advance_to(until).await;
    assert_eq!(cache.get(&1).await, None, "the throttle is over");
    let _ = fetch(cache, 1, op).await;
    assert_eq!(
        op.invocations(),
        fetches + 1,
        "the next call tries once more"
    );
}

#[tokio::test(start_paused = true)]
async fn a_foreground_failure_throttles() {
    let cache = base().build().unwrap();
    let (op, start) = stored(&cache, Step::err(down()).after(SLOW_FAILURE)).await;
    advance(secs(10)).await;

    let asked = Instant::now();
    let served = fetch(&cache, 1, &op).await.unwrap();
    assert_eq!(
        asked.elapsed(),
        SLOW_FAILURE,
        "the caller waited for the fetch"
    );
    assert_eq!(
        served.freshness(),
        Freshness::Stale {
            age: secs(10) + SLOW_FAILURE,
            reason: StaleReason::FetchFailed
        }
    );
    assert_eq!(op.invocations(), 2);
    assert_throttled(&cache, &op, start, Instant::now(), Ends::default()).await;
    assert_eq!(op.invocations(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_failure_after_the_soft_timeout_throttles() {
    let cache = base()
        .soft_timeout(SOFT)
        .hard_timeout(secs(2))
        .build()
        .unwrap();
    let (op, start) = stored(&cache, Step::err(down()).after(SLOW_FAILURE)).await;
    advance(secs(10)).await;

    let asked = Instant::now();
    let served = fetch(&cache, 1, &op).await.unwrap();
    assert_eq!(asked.elapsed(), SOFT);
    assert_eq!(
        served.freshness(),
        Freshness::Stale {
            age: secs(10) + SOFT,
            reason: StaleReason::SoftTimeout
        }
    );
    // Every caller has left; the fetch fails 400 ms later, in its task.
    assert_eq!(cache.get(&1).await, None, "nothing servable while it runs");
    advance(Duration::from_millis(400)).await;
    settle().await;
    assert_eq!((op.invocations(), op.cancelled()), (2, 0));
    assert_throttled(&cache, &op, start, Instant::now(), Ends::default()).await;
    assert_eq!(op.invocations(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_hard_timeout_after_the_soft_timeout_throttles() {
    let cache = base()
        .soft_timeout(SOFT)
        .hard_timeout(secs(2))
        .build()
        .unwrap();
    let (op, start) = stored(&cache, Step::hang()).await;
    advance(secs(10)).await;

    let served = fetch(&cache, 1, &op).await.unwrap();
    assert_eq!(
        served.freshness(),
        Freshness::Stale {
            age: secs(10) + SOFT,
            reason: StaleReason::SoftTimeout
        }
    );
    advance(Duration::from_millis(1_900)).await;
    settle().await;
    assert_eq!(
        (op.invocations(), op.cancelled()),
        (2, 1),
        "the hard timeout cancelled the fetch"
    );
    assert_eq!(cache.snapshot().fetch_errors, 1);
    assert_throttled(&cache, &op, start, Instant::now(), Ends::default()).await;
    assert_eq!(op.invocations(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_failed_stale_refresh_throttles() {
    let cache = base().stale_for(secs(5)).build().unwrap();
    let (op, start) = stored(&cache, Step::err(down()).after(SLOW_FAILURE)).await;
    advance(secs(10)).await;

    let asked = Instant::now();
    let served = fetch(&cache, 1, &op).await.unwrap();
    assert_eq!(
        asked.elapsed(),
        Duration::ZERO,
        "a stale hit answers at once"
    );
    assert_eq!(
        served.freshness(),
        Freshness::Stale {
            age: secs(10),
            reason: StaleReason::Revalidating
        }
    );
    settle().await;
    advance(SLOW_FAILURE).await;
    settle().await;
    assert_eq!(cache.snapshot().refreshes, 1);
    assert_eq!(op.invocations(), 2);
    // Stale until 15 s, then held by the throttle until 40.5 s.
    let ends = Ends {
        stale: Some(start + secs(15)),
        ..Ends::default()
    };
    assert_throttled(&cache, &op, start, Instant::now(), ends).await;
    assert_eq!(op.invocations(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_failed_eager_refresh_throttles() {
    let cache = base().eager_refresh(0.5).build().unwrap();
    let (op, start) = stored(&cache, Step::err(down()).after(SLOW_FAILURE)).await;
    advance(secs(5)).await;

    let served = fetch(&cache, 1, &op).await.unwrap();
    assert_eq!(served.freshness(), Freshness::Fresh { age: secs(5) });
    settle().await;
    advance(SLOW_FAILURE).await;
    settle().await;
    assert_eq!(op.invocations(), 2);
    // Fresh until 10 s (and no hit refreshes again), then held by the
    // throttle until 35.5 s.
    let ends = Ends {
        fresh: Some(start + secs(10)),
        ..Ends::default()
    };
    assert_throttled(&cache, &op, start, Instant::now(), ends).await;
    assert_eq!(op.invocations(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_failure_after_its_caller_was_dropped_throttles_and_serves_the_others() {
    let cache = base().build().unwrap();
    let (op, start) = stored(&cache, Step::err(down()).after(SLOW_FAILURE)).await;
    advance(secs(10)).await;

    let first = {
        let (cache, op) = (cache.clone(), op.clone());
        tokio::spawn(async move { fetch(&cache, 1, &op).await })
    };
    settle().await;
    let others: Vec<_> = (0..5)
        .map(|_| {
            let (cache, op) = (cache.clone(), op.clone());
            tokio::spawn(async move { fetch(&cache, 1, &op).await })
        })
        .collect();
    settle().await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());

    advance(SLOW_FAILURE).await;
    for other in others {
        let served = other.await.unwrap().unwrap();
        assert_eq!(
            (*served, served.freshness()),
            (
                1,
                Freshness::Stale {
                    age: secs(10) + SLOW_FAILURE,
                    reason: StaleReason::FetchFailed
                }
            )
        );
    }
    assert_eq!(
        (op.invocations(), op.cancelled()),
        (2, 0),
        "one fetch, not cancelled by its caller leaving"
    );
    assert_eq!(cache.snapshot().in_flight, 0);
    assert_throttled(&cache, &op, start, Instant::now(), Ends::default()).await;
}

#[tokio::test(start_paused = true)]
async fn a_lone_caller_dropped_before_the_failure_still_throttles() {
    let cache = base().build().unwrap();
    let (op, start) = stored(&cache, Step::err(down()).after(SLOW_FAILURE)).await;
    advance(secs(10)).await;
    let caller = {
        let (cache, op) = (cache.clone(), op.clone());
        tokio::spawn(async move { fetch(&cache, 1, &op).await })
    };
    settle().await;
    caller.abort();
    let _ = caller.await;
    advance(SLOW_FAILURE).await;
    settle().await;
    assert_eq!((op.invocations(), op.cancelled()), (2, 0));
    assert_throttled(&cache, &op, start, Instant::now(), Ends::default()).await;
}

#[tokio::test(start_paused = true)]
async fn as_a_policy_a_dropped_caller_cancels_its_fetch_and_throttles_nothing() {
    // A borrowed call's fetch is the caller's own pipeline: it ends with the
    // caller, so no outcome is known and nothing is throttled.
    let cache = base().build().unwrap();
    let op = ScriptedOp::new([
        Step::ok(1),
        Step::err(down()).after(SLOW_FAILURE),
        Step::ok(2),
    ]);
    let call = |op: ScriptedOp<u32, TestError>, cache: TestCache| async move {
        cache.call_with(Context::new().with_key(&1u32), op).await
    };
    assert_eq!(call(op.clone(), cache.clone()).await, Ok(1));
    advance(secs(10)).await;
    let caller = tokio::spawn(call(op.clone(), cache.clone()));
    settle().await;
    caller.abort();
    let _ = caller.await;
    assert_eq!((op.invocations(), op.cancelled()), (2, 1));
    assert_eq!(cache.get(&1).await, None, "no throttle without an outcome");
    assert_eq!(call(op.clone(), cache.clone()).await, Ok(2));
    assert_eq!(op.invocations(), 3);
}

/// Issue 16's reproducer: fresh 10 s, fail-safe 3,600 s with a 30 s
/// throttle, soft timeout 100 ms, hard timeout 2 s; the dependency goes
/// down; one request a second for 30 s, each followed 900 ms later by a
/// plain `get`.
async fn one_request_a_second(
    failure: Step<u32, TestError>,
) -> Vec<(Duration, Freshness, Option<Freshness>)> {
    let cache = base()
        .soft_timeout(SOFT)
        .hard_timeout(secs(2))
        .build()
        .unwrap();
    let (op, start) = stored(&cache, failure).await;
    let mut seen = Vec::new();
    for second in 0..30 {
        advance_to(start + secs(10 + second)).await;
        settle().await;
        let asked = Instant::now();
        let served = fetch(&cache, 1, &op).await.unwrap();
        assert_eq!(*served, 1);
        let waited = asked.elapsed();
        advance_to(start + secs(10 + second) + Duration::from_millis(900)).await;
        settle().await;
        let read = cache.get(&1).await.map(|read| {
            assert_eq!(*read, 1);
            read.freshness()
        });
        seen.push((waited, served.freshness(), read));
    }
    assert_eq!(
        op.invocations(),
        2,
        "one fetch in the 30 s (after the first store)"
    );
    assert_eq!(op.in_flight(), 0);
    seen
}

fn failed_at(age: Duration) -> Freshness {
    Freshness::Stale {
        age,
        reason: StaleReason::FetchFailed,
    }
}

fn soft_timeout_at(age: Duration) -> Freshness {
    Freshness::Stale {
        age,
        reason: StaleReason::SoftTimeout,
    }
}

#[tokio::test(start_paused = true)]
async fn issue_16_reproducer_a_slow_failure_is_fetched_once_in_30_seconds() {
    // Each fetch fails after 500 ms, past the soft timeout.
    let seen = one_request_a_second(Step::err(down()).after(SLOW_FAILURE)).await;
    let ms = Duration::from_millis;
    // The first request waits exactly the soft timeout; the fetch fails at
    // 10.5 s and throttles until 40.5 s: every later request is answered at
    // once, and every `get` (the first at 10.9 s) returns the old value.
    assert_eq!(
        seen[0],
        (
            SOFT,
            soft_timeout_at(secs(10) + SOFT),
            Some(failed_at(secs(10) + ms(900)))
        )
    );
    for (second, &(waited, served, read)) in seen.iter().enumerate().skip(1) {
        let at = secs(10 + second as u64);
        assert_eq!(
            (waited, served, read),
            (Duration::ZERO, failed_at(at), Some(failed_at(at + ms(900)))),
            "request {second}"
        );
    }
    let stale_reads = seen.iter().filter(|(_, _, read)| read.is_some()).count();
    assert_eq!(stale_reads, 30, "30 of 30 gets served the old value");
}

#[tokio::test(start_paused = true)]
async fn issue_16_reproducer_a_hanging_dependency_is_fetched_once_in_30_seconds() {
    // Each fetch hangs until the 2 s hard timeout.
    let seen = one_request_a_second(Step::hang()).await;
    let ms = Duration::from_millis;
    // The fetch started at 10 s runs until the hard timeout at 12 s: the
    // requests at 10 s and 11 s wait exactly the soft timeout (the second
    // joins that fetch), and `get` finds nothing servable while it runs.
    // From 12 s to 42 s the throttle holds: answered at once, `get` served.
    assert_eq!(seen[0], (SOFT, soft_timeout_at(secs(10) + SOFT), None));
    assert_eq!(seen[1], (SOFT, soft_timeout_at(secs(11) + SOFT), None));
    for (second, &(waited, served, read)) in seen.iter().enumerate().skip(2) {
        let at = secs(10 + second as u64);
        assert_eq!(
            (waited, served, read),
            (Duration::ZERO, failed_at(at), Some(failed_at(at + ms(900)))),
            "request {second}"
        );
    }
    let stale_reads = seen.iter().filter(|(_, _, read)| read.is_some()).count();
    assert_eq!(stale_reads, 28);
}
