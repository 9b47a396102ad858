//! Many tasks on the multi-thread runtime against one quota admit exactly the quota.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use steadfast_core::{Context, Error, Inspect, Policy};
use steadfast_ratelimit::{KeyedRateLimiter, Quota, RateLimiter};

/// 1,000 units that refill one per ~9 hours: nothing refills during a test.
fn quota() -> Quota {
    Quota::new(1_000, Duration::from_secs(86_400 * 365))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn direct_admits_exactly_the_quota() {
    let limiter = RateLimiter::new(quota()).unwrap();
    let admitted = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (limiter, admitted) = (limiter.clone(), admitted.clone());
            tokio::spawn(async move {
                for _ in 0..200 {
                    let r: Result<(), Error<()>> = limiter.call(|| async { Ok(()) }).await;
                    if r.is_ok() {
                        admitted.fetch_add(1, Ordering::Relaxed);
                    }
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(admitted.load(Ordering::Relaxed), 1_000);
    let snapshot = limiter.snapshot();
    assert_eq!(
        (snapshot.admitted, snapshot.rejected),
        (1_000, 16 * 200 - 1_000)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keyed_admits_exactly_the_quota_per_key() {
    let limiter = KeyedRateLimiter::<u32>::new(quota()).unwrap();
    let admitted: Arc<Vec<AtomicU64>> = Arc::new((0..4).map(|_| AtomicU64::new(0)).collect());
    let tasks: Vec<_> = (0..16u32)
        .map(|task| {
            let (limiter, admitted) = (limiter.clone(), admitted.clone());
            tokio::spawn(async move {
                for i in 0..500u32 {
                    let key = (task + i) % 4;
                    let ctx = Context::new().with_key(&key).with_cost(1 + i % 3);
                    let r: Result<(), Error<()>> =
                        limiter.call_with(ctx, || async { Ok(()) }).await;
                    if r.is_ok() {
                        admitted[key as usize].fetch_add(u64::from(1 + i % 3), Ordering::Relaxed);
                    }
                    if i % 8 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    for (key, units) in admitted.iter().enumerate() {
        // Costs of 1..=3 against 1,000 units: the last unit may stay unused
        // only when every call left is larger than what is left.
        let units = units.load(Ordering::Relaxed);
        assert!((998..=1_000).contains(&units), "key {key}: {units} units");
        let key = u32::try_from(key).unwrap();
        assert_eq!(limiter.peek(&key).remaining, 1_000 - units);
    }
    assert_eq!(limiter.snapshot().keys_tracked, 4);
}

#[test]
fn threads_without_a_runtime_admit_exactly_the_quota() {
    let limiter = KeyedRateLimiter::<u8>::new(quota()).unwrap();
    let admitted = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..1_000 {
                    if limiter.check(&7).is_ok() {
                        admitted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(admitted.load(Ordering::Relaxed), 1_000);
    assert_eq!(limiter.snapshot().admitted, 1_000);
    assert_eq!(limiter.snapshot().rejected, 3_000);
}
