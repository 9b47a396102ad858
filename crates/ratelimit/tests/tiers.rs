//! One limiter, a quota per tier, changed at run time without losing state.

use std::time::Duration;

use steadfast_core::Inspect;
use steadfast_ratelimit::{KeyedRateLimiter, Quota};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Caller {
    Anonymous(u32),
    Authenticated(u32),
    Pro(u32),
    Operator(u32),
}

fn tier(caller: &Caller) -> usize {
    match caller {
        Caller::Anonymous(_) => 0,
        Caller::Authenticated(_) => 1,
        Caller::Pro(_) => 2,
        Caller::Operator(_) => 3,
    }
}

fn limiter() -> KeyedRateLimiter<Caller> {
    KeyedRateLimiter::builder(Quota::per_minute(60))
        .tier("authenticated", Quota::per_minute(200))
        .tier("pro", Quota::per_minute(500))
        .tier("operator", Quota::per_minute(1_000))
        .tier_of(tier)
        .build()
        .unwrap()
}

/// How many single calls `caller` gets through at once.
fn admitted_at_once(limiter: &KeyedRateLimiter<Caller>, caller: &Caller) -> u32 {
    let mut admitted = 0;
    while limiter.check(caller).is_ok() {
        admitted += 1;
    }
    admitted
}

#[tokio::test(start_paused = true)]
async fn each_tier_gets_its_own_quota() {
    let limiter = limiter();
    assert_eq!(
        limiter.tier_names(),
        ["default", "authenticated", "pro", "operator"]
    );
    assert_eq!(admitted_at_once(&limiter, &Caller::Anonymous(1)), 60);
    assert_eq!(admitted_at_once(&limiter, &Caller::Authenticated(1)), 200);
    assert_eq!(admitted_at_once(&limiter, &Caller::Pro(1)), 500);
    assert_eq!(admitted_at_once(&limiter, &Caller::Operator(1)), 1_000);
    // Per key, not per tier: another anonymous caller has its own quota.
    assert_eq!(admitted_at_once(&limiter, &Caller::Anonymous(2)), 60);
    assert_eq!(limiter.snapshot().keys_tracked, 5);
    // Each refills at its own rate: one unit a second for anonymous, five for pro.
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(admitted_at_once(&limiter, &Caller::Anonymous(1)), 1);
    assert_eq!(admitted_at_once(&limiter, &Caller::Pro(1)), 8);
}

#[tokio::test(start_paused = true)]
async fn quotas_change_at_run_time_and_keys_keep_their_state() {
    let limiter = limiter();
    let pro = Caller::Pro(7);
    assert!(limiter.check_n(&pro, 400).is_ok());
    assert_eq!(limiter.peek(&pro).remaining, 100);
    // Pro becomes 600/min with bursts of 300: the 400 units spent still
    // count (the state is the same word), against the new burst.
    limiter
        .set_tier_quota("pro", Quota::per_minute(600).burst(300))
        .unwrap();
    assert_eq!(
        limiter.tier_quota("pro"),
        Some(Quota::per_minute(600).burst(300))
    );
    assert_eq!(limiter.peek(&pro).limit, 300);
    assert!(
        limiter.check(&pro).is_err(),
        "400 spent units are over a 300 burst"
    );
    // The 400 units were timed at the old 120 ms each (48 s of arrival
    // time); one more new unit (100 ms) fits the new 30 s burst at 18.1 s.
    tokio::time::advance(Duration::from_secs(18)).await;
    assert_eq!(
        limiter.check(&pro).unwrap_err().retry_after(),
        Some(Duration::from_millis(100))
    );
    tokio::time::advance(Duration::from_millis(100)).await;
    assert!(limiter.check(&pro).is_ok());
    // The default tier too.
    limiter.set_quota(Quota::per_minute(2)).unwrap();
    assert_eq!(admitted_at_once(&limiter, &Caller::Anonymous(9)), 2);
    // A bad quota is refused and changes nothing.
    let err = limiter
        .set_tier_quota("pro", Quota::per_minute(0))
        .unwrap_err();
    assert_eq!(err.field(), "quota");
    let err = limiter
        .set_tier_quota("platinum", Quota::per_minute(5))
        .unwrap_err();
    assert_eq!(err.field(), "tier");
    assert_eq!(
        limiter.tier_quota("pro"),
        Some(Quota::per_minute(600).burst(300))
    );
}

#[tokio::test(start_paused = true)]
async fn a_tier_number_past_the_last_uses_the_default() {
    let limiter = KeyedRateLimiter::<u32>::builder(Quota::per_minute(3))
        .tier("wide", Quota::per_minute(100))
        .tier_of(|key: &u32| *key as usize)
        .build()
        .unwrap();
    let mut admitted = 0;
    while limiter.check(&99).is_ok() {
        admitted += 1;
    }
    assert_eq!(admitted, 3);
}
