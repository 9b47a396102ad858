//! Instances whose clocks disagree still agree on a shared quota: the
//! scripts read Redis's clock, never the caller's.

mod support;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use steadfast_ratelimit::Quota;
use support::{SHARED, config, connected};

/// One instance on a runtime of its own whose clock runs `skew` ahead of
/// the machine's: `turns` checks of one key, each after the other instance's
/// check (the barrier), returning what each check said.
fn instance(
    config: steadfast_redis::RedisLimiterConfig,
    skew: Duration,
    turns: usize,
    barrier: Arc<Barrier>,
) -> std::thread::JoinHandle<(Duration, Vec<Result<(), Duration>>)> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async move {
            // Move this runtime's clock ahead, then let it run in real time
            // from there: every timer and instant here is `skew` ahead.
            tokio::time::advance(skew).await;
            tokio::time::resume();
            let ahead = tokio::time::Instant::now()
                .into_std()
                .saturating_duration_since(std::time::Instant::now());
            let limiter = connected(SHARED, config).await;
            let key = "skewed-user".to_owned();
            let mut said = Vec::new();
            for _ in 0..turns {
                barrier.wait();
                said.push(
                    limiter
                        .check_n(&key, 1)
                        .await
                        .map(|_| ())
                        .map_err(|refused| refused.retry_after().unwrap_or(Duration::MAX)),
                );
            }
            (ahead, said)
        })
    })
}

#[test]
fn two_instances_an_hour_apart_admit_exactly_the_quota_and_name_the_same_wait() {
    // Ten units an hour: nothing refills during the test.
    let config = config("skew", Quota::per_hour(10).burst(10));
    let barrier = Arc::new(Barrier::new(2));
    let a = instance(config.clone(), Duration::ZERO, 7, Arc::clone(&barrier));
    let b = instance(config, Duration::from_secs(3_600), 7, barrier);
    let (a_ahead, a_said) = a.join().unwrap();
    let (b_ahead, b_said) = b.join().unwrap();
    assert!(a_ahead < Duration::from_secs(1), "{a_ahead:?}");
    assert!(b_ahead >= Duration::from_secs(3_599), "{b_ahead:?}");

    let admitted = a_said.iter().chain(&b_said).filter(|r| r.is_ok()).count();
    assert_eq!(admitted, 10, "exactly the quota between them");
    // Each refusal names the wait Redis computed from its own clock: the
    // next unit, six minutes after the first admission, as both see it.
    let waits: Vec<Duration> = a_said
        .iter()
        .chain(&b_said)
        .filter_map(|r| r.err())
        .collect();
    assert_eq!(waits.len(), 4);
    for wait in &waits {
        assert!(
            *wait > Duration::from_secs(355) && *wait <= Duration::from_secs(360),
            "{waits:?}"
        );
    }
    let spread = waits
        .iter()
        .max()
        .unwrap()
        .saturating_sub(*waits.iter().min().unwrap());
    assert!(spread < Duration::from_secs(2), "{waits:?}");
}
