//! The fresh → stale → expired timeline on tokio's paused clock, refreshes
//! once per stale period, and eager refresh at its fraction.

mod common;

use std::time::Duration;

use common::{SECOND, almost, builder, fetch, secs, settle};
use steadfast_cache::{Freshness, StaleReason};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use tokio::time::advance;

const NANO: Duration = Duration::from_nanos(1);

#[tokio::test(start_paused = true)]
async fn fresh_then_stale_then_expired_exactly() {
    let cache = builder()
        .fresh_for(secs(10))
        .stale_for(secs(5))
        .build()
        .unwrap();
    cache.insert(1, 100).await;

    advance(almost(10)).await;
    assert_eq!(
        cache.get(&1).await.unwrap().freshness(),
        Freshness::Fresh { age: almost(10) }
    );
    advance(NANO).await;
    assert_eq!(
        cache.get(&1).await.unwrap().freshness(),
        Freshness::Stale {
            age: secs(10),
            reason: StaleReason::Revalidating
        }
    );
    advance(almost(5)).await;
    assert!(cache.get(&1).await.unwrap().is_stale());
    advance(NANO).await;
    assert_eq!(cache.get(&1).await, None);
}

#[tokio::test(start_paused = true)]
async fn a_stale_hit_is_served_at_once_and_refreshes_once_per_stale_period() {
    let cache = builder()
        .fresh_for(secs(10))
        .stale_for(secs(60))
        .build()
        .unwrap();
    let op = ScriptedOp::new([
        Step::ok(1),
        Step::<u32, TestError>::ok(2).after(SECOND),
        Step::ok(3).after(SECOND),
    ]);
    assert!(fetch(&cache, 7, &op).await.unwrap().is_fetched());

    advance(secs(10)).await;
    // Every stale hit in the period is served the old value at once.
    for _ in 0..20 {
        let hit = fetch(&cache, 7, &op).await.unwrap();
        assert_eq!((*hit, hit.is_stale()), (1, true));
    }
    settle().await;
    assert_eq!(
        op.invocations(),
        2,
        "one refresh for the whole stale period"
    );

    advance(SECOND).await;
    settle().await;
    let refreshed = fetch(&cache, 7, &op).await.unwrap();
    assert_eq!(
        refreshed.freshness(),
        Freshness::Fresh {
            age: Duration::ZERO
        }
    );
    assert_eq!(*refreshed, 2);

    // The next stale period starts 10 s after the refresh stored its value.
    advance(almost(10)).await;
    assert!(!fetch(&cache, 7, &op).await.unwrap().is_stale());
    advance(NANO).await;
    for _ in 0..5 {
        assert_eq!(*fetch(&cache, 7, &op).await.unwrap(), 2);
    }
    settle().await;
    assert_eq!(op.invocations(), 3);
    let snapshot = steadfast_core::Inspect::snapshot(&cache);
    assert_eq!(snapshot.refreshes, 2);
    assert_eq!(snapshot.fetches, 3);
}

#[tokio::test(start_paused = true)]
async fn eager_refresh_starts_at_the_configured_fraction() {
    let cache = builder()
        .fresh_for(secs(10))
        .eager_refresh(0.8)
        .build()
        .unwrap();
    let op = ScriptedOp::new([Step::ok(1), Step::<u32, TestError>::ok(2).after(SECOND)]);
    fetch(&cache, 1, &op).await.unwrap();

    advance(almost(8)).await;
    fetch(&cache, 1, &op).await.unwrap();
    settle().await;
    assert_eq!(
        op.invocations(),
        1,
        "no refresh before 80 % of the fresh time"
    );

    advance(NANO).await;
    for _ in 0..10 {
        let hit = fetch(&cache, 1, &op).await.unwrap();
        assert_eq!(
            (*hit, hit.is_stale()),
            (1, false),
            "still fresh, served at once"
        );
    }
    settle().await;
    assert_eq!(op.invocations(), 2, "one eager refresh");

    advance(SECOND).await;
    settle().await;
    // The refresh landed before the old value's fresh time ran out.
    let hit = fetch(&cache, 1, &op).await.unwrap();
    assert_eq!(
        hit.freshness(),
        Freshness::Fresh {
            age: Duration::ZERO
        }
    );
    assert_eq!(*hit, 2);
}

#[tokio::test(start_paused = true)]
async fn per_call_and_per_value_fresh_times() {
    let cache = builder()
        .fresh_for(secs(60))
        .negative(|value: &u32| *value == 0, secs(5))
        .build()
        .unwrap();
    let missing = ScriptedOp::new([Step::<u32, TestError>::ok(0)]);
    fetch(&cache, 1, &missing).await.unwrap();
    let options = steadfast_cache::FetchOptions::new().fresh_for(secs(2));
    common::fetch_with(&cache, 2, options, &ScriptedOp::always_ok(9))
        .await
        .unwrap();

    advance(secs(2)).await;
    assert!(cache.get(&1).await.is_some(), "not-found cached for 5 s");
    assert!(cache.get(&2).await.is_none(), "the call's own 2 s");
    advance(secs(3)).await;
    assert!(cache.get(&1).await.is_none());
    fetch(&cache, 1, &missing).await.unwrap();
    assert_eq!(
        missing.invocations(),
        2,
        "the negative entry expired and was fetched again"
    );
}
