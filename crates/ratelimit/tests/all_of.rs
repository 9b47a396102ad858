//! Several limits in one decision: all reserve or none, refunds, the
//! longest wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use steadfast_core::Inspect;
use steadfast_ratelimit::{
    Algorithm, KeyedRateLimiter, Quota, RateLimiter, RateLimiterConfig, all_of,
};

fn named(name: &'static str, quota: Quota) -> RateLimiter {
    RateLimiter::builder(quota).name(name).build().unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_refusal_takes_nothing_from_the_limits_that_admitted() {
    let per_user = KeyedRateLimiter::<u32>::new(Quota::per_minute(60).burst(5)).unwrap();
    let per_tier = KeyedRateLimiter::<&str>::new(Quota::per_minute(60).burst(3)).unwrap();
    let global = named("global", Quota::per_minute(60).burst(100));
    let (user, tier) = (per_user.for_key(&1), per_tier.for_key(&"free"));
    all_of([&user, &tier, &global], 3).unwrap();
    // The tier is spent: the user's and the global limits keep their units.
    let refused = all_of([&user, &tier, &global], 1).unwrap_err();
    assert_eq!(per_user.peek(&1).remaining, 2);
    assert_eq!(global.peek().remaining, 97);
    assert_eq!(per_tier.peek(&"free").remaining, 0);
    assert_eq!(refused.retry_after(), Some(Duration::from_secs(1)));
    // Counters: the refused call is one rejection of the tier, and no
    // admission anywhere.
    assert_eq!(
        (per_user.snapshot().admitted, global.snapshot().admitted),
        (1, 1)
    );
    assert_eq!(per_tier.snapshot().rejected, 1);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_the_longest_wait_among_the_refusing_limits() {
    let fast = named("fast", Quota::per_second(10).burst(1));
    let slow = named("slow", Quota::per_minute(1).burst(1));
    all_of([&fast, &slow], 1).unwrap();
    // Both refuse now: 100 ms for `fast`, a minute for `slow`.
    let refused = all_of([&fast, &slow], 1).unwrap_err();
    assert_eq!(refused.policy_name(), "slow");
    assert_eq!(refused.retry_after(), Some(Duration::from_secs(60)));
    // Reading the waits consumed nothing: `fast` is free again in 100 ms.
    tokio::time::advance(Duration::from_millis(100)).await;
    assert!(fast.check().is_ok());
    // A cost no limit can ever hold is never.
    assert!(all_of([&fast, &slow], 2).unwrap_err().is_never());
}

#[tokio::test(start_paused = true)]
async fn a_refund_gives_the_units_back_to_every_limit() {
    for algorithm in [
        Algorithm::Gcra,
        Algorithm::SlidingWindow,
        Algorithm::FixedWindow,
    ] {
        let mut config = RateLimiterConfig::new(Quota::per_minute(4));
        config.algorithm = algorithm;
        let per_user = KeyedRateLimiter::<u32>::from_config(config.clone()).unwrap();
        let global = RateLimiter::from_config(config).unwrap();
        let user = per_user.for_key(&9);
        let login = all_of([&user, &global], 3).unwrap();
        assert_eq!(per_user.peek(&9).remaining, 1, "{algorithm:?}");
        login.refund();
        assert_eq!(per_user.peek(&9).remaining, 4, "{algorithm:?}");
        assert_eq!(global.peek().remaining, 4, "{algorithm:?}");
        assert_eq!(global.snapshot().admitted, 0, "{algorithm:?}");
        all_of([&user, &global], 4).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_never_exceed_any_limit() {
    // Ten users of 5 each, a global 20: exactly 20 pass, none above 5.
    let per_user = Arc::new(KeyedRateLimiter::<u32>::new(Quota::per_hour(5)).unwrap());
    let global = Arc::new(RateLimiter::new(Quota::per_hour(20)).unwrap());
    let passed: Arc<Vec<AtomicU32>> = Arc::new((0..10).map(|_| AtomicU32::new(0)).collect());
    let mut tasks = Vec::new();
    for t in 0..8_u32 {
        let (per_user, global, passed) = (
            Arc::clone(&per_user),
            Arc::clone(&global),
            Arc::clone(&passed),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0..50_u32 {
                let user = (t * 7 + i) % 10;
                let limit = per_user.for_key(&user);
                if all_of([&limit, &*global], 1).is_ok() {
                    passed[user as usize].fetch_add(1, Ordering::Relaxed);
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let per: Vec<u32> = passed.iter().map(|p| p.load(Ordering::Relaxed)).collect();
    assert_eq!(per.iter().sum::<u32>(), 20);
    assert!(per.iter().all(|n| *n <= 5), "{per:?}");
    // Every unit a user was refused globally went back to that user.
    for (user, n) in per.iter().enumerate() {
        assert_eq!(
            per_user.peek(&u32::try_from(user).unwrap()).remaining,
            u64::from(5 - n)
        );
    }
}
