//! Many tasks on the multi-thread runtime against one breaker: exact counts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use steadfast_breaker::{Breaker, BreakerConfig, HalfOpen, State};
use steadfast_core::testing::TestError;
use steadfast_core::{Error, Inspect, Policy};
use tokio::sync::{Barrier, Notify};

const TASKS: usize = 64;

#[test]
fn exactly_k_trials_are_admitted_to_a_half_open_breaker() {
    const K: u32 = 5;
    // Trip it and let the open time pass on a paused clock…
    let b = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(async {
            let b = Breaker::builder_from(BreakerConfig::empty())
                .consecutive_failures(1)
                .open_for(Duration::from_secs(10))
                .half_open(HalfOpen::new(K).with_trial_deadline(Duration::from_secs(3_600)))
                .build()
                .unwrap();
            let _ = b
                .call(|| async { Err::<u32, _>(TestError::new("down")) })
                .await;
            tokio::time::advance(Duration::from_secs(10)).await;
            assert_eq!(b.state(), State::HalfOpen);
            b
        });
    // … then storm it from 64 tasks on the multi-thread runtime.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap()
        .block_on(storm_half_open(b, K));
}

async fn storm_half_open(b: Breaker, k: u32) {
    let barrier = Arc::new(Barrier::new(TASKS + 1));
    let release = Arc::new(Notify::new());
    let admitted = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (b, barrier, release, admitted) = (
            b.clone(),
            barrier.clone(),
            release.clone(),
            admitted.clone(),
        );
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            b.call(|| async {
                admitted.fetch_add(1, Ordering::SeqCst);
                release.notified().await;
                Ok::<u32, TestError>(1)
            })
            .await
        }));
    }
    barrier.wait().await;
    // Wait until every task has either been refused or is holding a trial.
    while b.snapshot().rejected + admitted.load(Ordering::SeqCst) < TASKS as u64 {
        tokio::task::yield_now().await;
    }
    assert_eq!(admitted.load(Ordering::SeqCst), u64::from(k));
    assert_eq!(b.snapshot().trials_in_flight, k);
    assert_eq!(b.snapshot().rejected, (TASKS as u64) - u64::from(k));
    release.notify_waiters();
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::CircuitOpen(_)) => refused += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, refused), (k as usize, TASKS - k as usize));
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counts_add_up_after_a_storm_of_calls() {
    const CALLS: u64 = 500;
    // A window large enough to hold every call, and rules that never fire.
    let b = Breaker::builder_from(BreakerConfig::empty())
        .failure_rate_over_calls(1.0, 64 * 500, 64 * 500)
        .consecutive_failures(u32::MAX)
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for task in 0..TASKS as u64 {
        let b = b.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..CALLS {
                // Every third call of every task fails.
                let fails = (task * CALLS + i).is_multiple_of(3);
                let _ = b
                    .call(|| async move {
                        if fails {
                            Err(TestError::new("x"))
                        } else {
                            Ok(1u32)
                        }
                    })
                    .await;
                if i % 50 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let total = TASKS as u64 * CALLS;
    let failures = (0..total).filter(|n| n % 3 == 0).count() as u64;
    let snap = b.snapshot();
    assert_eq!(snap.calls_in_window, total);
    #[allow(clippy::cast_precision_loss)]
    let expected = failures as f64 / total as f64;
    assert_eq!(snap.failure_rate, Some(expected));
    assert_eq!(snap.state, State::Closed);
    assert_eq!(snap.rejected, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_open_breaker_refuses_every_call_of_a_storm_and_counts_them() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(1)
        .open_for(Duration::from_secs(3_600))
        .build()
        .unwrap();
    let _ = b
        .call(|| async { Err::<u32, _>(TestError::new("down")) })
        .await;
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let b = b.clone();
        tasks.push(tokio::spawn(async move {
            let mut refused = 0u64;
            for _ in 0..100 {
                if b.call(|| async { Ok::<u32, TestError>(1) }).await.is_err() {
                    refused += 1;
                }
            }
            refused
        }));
    }
    let mut refused = 0;
    for t in tasks {
        refused += t.await.unwrap();
    }
    assert_eq!(refused, TASKS as u64 * 100);
    assert_eq!(b.snapshot().rejected, TASKS as u64 * 100);
    assert_eq!(b.snapshot().opened, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_failures_trip_exactly_once() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(10)
        .failure_rate_over_calls(0.5, 20, 10)
        .failure_rate_over_time(0.5, Duration::from_secs(60), 10)
        .open_for(Duration::from_secs(3_600))
        .build()
        .unwrap();
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (b, barrier) = (b.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            for _ in 0..10 {
                let _ = b
                    .call(|| async { Err::<u32, _>(TestError::new("x")) })
                    .await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let snap = b.snapshot();
    assert_eq!(snap.state, State::Open);
    assert_eq!(snap.opened, 1);
}
