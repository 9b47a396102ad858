//! Several Redis limits in one decision: one script, all or none, refunds.

mod support;

use std::time::Duration;

use steadfast_core::Inspect;
use steadfast_ratelimit::Quota;
use steadfast_redis::{RedisRateLimiter, Source, WhenDown, all_of};
use support::{SHARED, config, connected, free_port};

#[tokio::test]
async fn a_refusal_takes_nothing_and_names_the_longest_wait() {
    let mut per_user = config("all-user", Quota::per_hour(10).burst(5));
    per_user.name = "per-user".into();
    let mut global = config("all-global", Quota::per_hour(60).burst(3));
    global.name = "global".into();
    let (per_user, global) = (
        connected(SHARED, per_user).await,
        connected(SHARED, global).await,
    );
    let (alice, bob, all) = ("alice".to_owned(), "bob".to_owned(), "all".to_owned());

    let a = per_user.for_key(&alice);
    let g = global.for_key(&all);
    assert_eq!(all_of([&a, &g], 2).await.unwrap().source, Source::Redis);
    // The global burst has 1 left: Bob's 2 are refused by it, his own
    // limit keeps all 5.
    let b = per_user.for_key(&bob);
    let refused = all_of([&b, &g], 2).await.unwrap_err();
    assert_eq!(refused.policy_name(), "global");
    // One unit short at one per minute.
    let wait = refused.retry_after().unwrap();
    assert!(
        wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    assert_eq!(per_user.check_n(&bob, 5).await.unwrap().remaining, 0);
    assert_eq!(
        (global.snapshot().admitted, global.snapshot().rejected),
        (1, 1)
    );
}

#[tokio::test]
async fn a_refund_gives_every_limit_its_units_back() {
    let per_user = connected(SHARED, config("refund-user", Quota::per_hour(4).burst(4))).await;
    let global = connected(SHARED, config("refund-global", Quota::per_hour(4).burst(4))).await;
    let (carol, all) = ("carol".to_owned(), "all".to_owned());
    let (c, g) = (per_user.for_key(&carol), global.for_key(&all));
    let login = all_of([&c, &g], 3).await.unwrap();
    login.refund().await.unwrap();
    // All four units of each are back.
    all_of([&c, &g], 4).await.unwrap();
    assert!(all_of([&c, &g], 1).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_the_local_fallbacks_decide_together() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let mut a = config("fb-a", Quota::per_hour(2).burst(2));
    a.when_down = WhenDown::Local { instances: 1 };
    let mut b = config("fb-b", Quota::per_hour(5).burst(5));
    b.when_down = WhenDown::Local { instances: 1 };
    let a = RedisRateLimiter::<String>::new(&url, a).unwrap();
    let b = RedisRateLimiter::<String>::new(&url, b).unwrap();
    let key = "k".to_owned();
    let (pa, pb) = (a.for_key(&key), b.for_key(&key));
    let reservation = all_of([&pa, &pb], 2).await.unwrap();
    assert_eq!(reservation.source, Source::Local);
    // A refund gives the local limiters their units back.
    reservation.refund().await.unwrap();
    assert_eq!(all_of([&pa, &pb], 2).await.unwrap().source, Source::Local);
    // `a` is spent: refused, and `b` keeps its three.
    assert!(all_of([&pa, &pb], 1).await.is_err());
    assert_eq!(b.check_n(&key, 3).await.unwrap().source, Source::Local);
    assert!(b.check_n(&key, 1).await.is_err());
}
