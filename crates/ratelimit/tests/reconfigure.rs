//! New quotas for running limiters: keys and buckets keep what they spent.

use std::sync::Arc;
use std::time::Duration;

use steadfast_core::Inspect;
use steadfast_ratelimit::{
    Algorithm, KeyedRateLimiter, MemoryStore, Quota, RateLimiter, TierConfig,
};

fn keyed(quota: Quota) -> KeyedRateLimiter<String, Arc<MemoryStore<String>>> {
    KeyedRateLimiter::builder(quota)
        .store(Arc::new(MemoryStore::new()))
        .build_with_store()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn both_limiters_share_every_key_and_the_new_refill_applies() {
    let old = keyed(Quota::per_second(1).burst(2));
    let (alice, bob) = ("alice".to_owned(), "bob".to_owned());
    old.check(&alice).unwrap();
    old.check(&alice).unwrap();
    old.check(&bob).unwrap();
    let mut config = old.config().clone();
    config.quota = Quota::per_second(10).burst(2);
    let new = old.reconfigured(config).unwrap();
    // Alice's burst is spent in both; a call still inside the old limiter
    // spends from the same key.
    assert!(new.check(&alice).is_err());
    old.check(&bob).unwrap();
    assert!(new.check(&bob).is_err());
    assert_eq!(new.snapshot().keys_tracked, 2);
    // A GCRA key owes time: Alice's two units were paid off at 1 s each,
    // so she waits that out (her retry-after says so), then gets the new
    // quota's burst, refilled every 100 ms rather than every second.
    let wait = new.check(&alice).unwrap_err().retry_after().unwrap();
    assert_eq!(wait, Duration::from_millis(1_900));
    tokio::time::advance(Duration::from_secs(2)).await;
    new.check(&alice).unwrap();
    new.check(&alice).unwrap();
    assert!(new.check(&alice).is_err());
    tokio::time::advance(Duration::from_millis(100)).await;
    new.check(&alice).unwrap();
}

#[test]
fn what_the_state_means_cannot_change() {
    let limiter = keyed(Quota::per_second(5));
    let mut config = limiter.config().clone();
    config.algorithm = Algorithm::SlidingWindow;
    assert_eq!(
        limiter.reconfigured(config).unwrap_err().field(),
        "algorithm"
    );
    let mut config = limiter.config().clone();
    config.tiers.push(TierConfig {
        name: "paid".into(),
        quota: Quota::per_second(50),
    });
    assert_eq!(limiter.reconfigured(config).unwrap_err().field(), "tiers");
    let mut config = limiter.config().clone();
    config.max_keys = Some(10);
    assert_eq!(
        limiter.reconfigured(config).unwrap_err().field(),
        "max_keys"
    );
    let mut config = limiter.config().clone();
    config.name = "other".into();
    assert_eq!(limiter.reconfigured(config).unwrap_err().field(), "name");

    let direct = RateLimiter::new(Quota::per_second(5)).unwrap();
    let mut config = direct.config().clone();
    config.algorithm = Algorithm::FixedWindow;
    assert_eq!(
        direct.reconfigured(config).unwrap_err().field(),
        "algorithm"
    );
}

#[tokio::test(start_paused = true)]
async fn a_direct_limiter_carries_its_word_and_counters_over() {
    let old = RateLimiter::new(Quota::per_second(2).burst(2)).unwrap();
    old.check().unwrap();
    old.check().unwrap();
    assert!(old.check().is_err());
    let mut config = old.config().clone();
    config.quota = Quota::per_second(2).burst(4);
    let new = old.reconfigured(config).unwrap();
    let s = new.snapshot();
    assert_eq!((s.admitted, s.rejected), (2, 1));
    new.check().unwrap();
    new.check().unwrap();
    assert!(new.check().is_err());
}
