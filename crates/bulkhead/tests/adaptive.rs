//! Adaptive limits driven by scripted latencies on the paused clock: a
//! latency rise lowers the limit within a bounded number of samples, recovery
//! raises it, and it never leaves min..max.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use steadfast_bulkhead::{AimdConfig, Bulkhead, GradientConfig};
use steadfast_core::testing::TestError;
use steadfast_core::{Inspect, Policy};

/// Runs `calls` concurrent calls that each take `latency`; every call records
/// the limit it saw. Returns the limit after the round.
async fn round(
    bulkhead: &Bulkhead,
    calls: usize,
    latency: Duration,
    seen: &Arc<Mutex<Vec<u32>>>,
) -> u32 {
    let tasks: Vec<_> = (0..calls)
        .map(|_| {
            let bulkhead = bulkhead.clone();
            let seen = Arc::clone(seen);
            tokio::spawn(async move {
                bulkhead
                    .call(|| {
                        let bulkhead = bulkhead.clone();
                        let seen = Arc::clone(&seen);
                        async move {
                            seen.lock().unwrap().push(bulkhead.snapshot().limit);
                            tokio::time::sleep(latency).await;
                            Ok::<_, TestError>(())
                        }
                    })
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    bulkhead.snapshot().limit
}

const FAST: Duration = Duration::from_millis(10);

#[tokio::test(start_paused = true)]
async fn aimd_falls_on_slow_calls_and_climbs_back() {
    let aimd = AimdConfig::new(2, 20)
        .backoff(0.5)
        .latency_threshold(Duration::from_millis(50));
    let bulkhead = Bulkhead::builder()
        .max_concurrent(10)
        .max_queued(1_000)
        .adaptive(aimd)
        .build()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut limit = 0;
    for _ in 0..3 {
        limit = round(&bulkhead, 40, FAST, &seen).await;
    }
    assert_eq!(limit, 20, "busy and fast: up to the maximum");

    // 100 ms is past the threshold: 20 → 10 → 5 → 2 in three samples.
    let slow = round(&bulkhead, 3, Duration::from_millis(100), &seen).await;
    assert_eq!(slow, 2);

    let recovering = round(&bulkhead, 40, FAST, &seen).await;
    assert!(recovering > 2, "recovery raises the limit: {recovering}");
    for _ in 0..5 {
        limit = round(&bulkhead, 40, FAST, &seen).await;
    }
    assert_eq!(limit, 20);
    assert!(seen.lock().unwrap().iter().all(|l| (2..=20).contains(l)));
}

#[tokio::test(start_paused = true)]
async fn gradient_falls_on_a_latency_rise_and_climbs_back() {
    let gradient = GradientConfig::new(2, 40).long_window(200);
    let bulkhead = Bulkhead::builder()
        .max_concurrent(20)
        .max_queued(1_000)
        .adaptive(gradient)
        .build()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut before = 0;
    for _ in 0..5 {
        before = round(&bulkhead, 80, FAST, &seen).await;
    }
    assert_eq!(before, 40, "busy at steady latency: up to the maximum");

    // Five times slower: within 40 samples the limit is below half.
    let risen = round(&bulkhead, 40, Duration::from_millis(50), &seen).await;
    assert!(
        risen < before / 2,
        "{risen} after a latency rise, from {before}"
    );

    let mut recovered = risen;
    for _ in 0..5 {
        recovered = round(&bulkhead, 80, FAST, &seen).await;
    }
    assert!(
        recovered > risen * 2,
        "{recovered} after recovery, from {risen}"
    );
    assert!(seen.lock().unwrap().iter().all(|l| (2..=40).contains(l)));
}

#[tokio::test(start_paused = true)]
async fn failures_lower_an_aimd_limit() {
    let bulkhead = Bulkhead::builder()
        .max_concurrent(8)
        .adaptive(AimdConfig::new(1, 8).backoff(0.5))
        .build()
        .unwrap();
    let failing = || async { Err::<(), _>(TestError::new("down")) };
    for expected in [4, 2, 1, 1] {
        assert!(bulkhead.call(failing).await.is_err());
        assert_eq!(bulkhead.snapshot().limit, expected);
    }
}
