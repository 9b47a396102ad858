//! Retry and breaker at their defaults through an outage, on the paused
//! clock: the dependency sees a bounded number of probes at each half-open
//! moment, and once it is healthy again the callers' errors stop within the
//! bound docs/breaker.md states.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use steadfast::breaker::Breaker;
use steadfast::retry::Retry;
use steadfast::{Pipeline, Policy};
use tokio::time::Instant;

/// What happened in one run, in seconds since it started.
#[derive(Default)]
struct Record {
    /// When each attempt reached the dependency.
    attempts: Vec<f64>,
    /// When each call that failed ended.
    errors: Vec<f64>,
}

/// Clients at 20 calls/s for `outage + 200 s` through retry and breaker at
/// their defaults (seeded); the dependency fails every attempt for the first
/// `outage`, then answers every one in 20 ms.
async fn run(outage: Duration, seed: u64) -> Record {
    let pipeline = Pipeline::new(Retry::builder().seed(seed).build().unwrap())
        .then(Breaker::builder().jitter_seed(seed).build().unwrap());
    let record = Arc::new(Mutex::new(Record::default()));
    let start = Instant::now();
    let secs = move || start.elapsed().as_secs_f64();
    let mut calls = tokio::task::JoinSet::new();
    let total = (outage + Duration::from_secs(200)).as_secs() * 20;
    for i in 0..u32::try_from(total).unwrap() {
        tokio::time::sleep_until(start + Duration::from_millis(50) * i).await;
        let (pipeline, record) = (pipeline.clone(), Arc::clone(&record));
        calls.spawn(async move {
            let op = || {
                let record = Arc::clone(&record);
                async move {
                    record.lock().unwrap().attempts.push(secs());
                    if start.elapsed() < outage {
                        Err("down")
                    } else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(1)
                    }
                }
            };
            if pipeline.call(op).await.is_err() {
                record.lock().unwrap().errors.push(secs());
            }
        });
    }
    calls.join_all().await;
    Arc::try_unwrap(record).ok().unwrap().into_inner().unwrap()
}

/// The bound the standard preset documents: the open in progress when the
/// dependency recovers lasts at most `min(120 s, 1.12 × outage + 5 s)`; the
/// trials and the callers' last retry waits (up to the 10 s default maximum
/// delay, spread by a fifth) come on top.
fn recovery_bound(outage: Duration) -> f64 {
    (1.12 * outage.as_secs_f64() + 5.0).min(120.0) + 12.0
}

#[tokio::test(start_paused = true)]
async fn errors_stop_within_the_bound_after_the_dependency_recovers() {
    for (outage_s, seed) in [(30, 1), (60, 2), (100, 3), (600, 4)] {
        let outage = Duration::from_secs(outage_s);
        let record = run(outage, seed).await;
        let last_error = record.errors.iter().copied().fold(0.0, f64::max);
        let recovered_after = last_error - outage.as_secs_f64();
        println!("{outage_s} s outage: last error {recovered_after:.1} s after recovery");
        assert!(
            recovered_after <= recovery_bound(outage),
            "{outage_s} s outage: errors until {recovered_after:.1} s after recovery"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn each_half_open_moment_lets_at_most_three_probes_through() {
    let outage = Duration::from_secs(300);
    let record = run(outage, 5).await;
    let during: Vec<f64> = record
        .attempts
        .iter()
        .copied()
        .filter(|t| *t < outage.as_secs_f64())
        .collect();
    // The breaker trips on the fifth failure in a row; the first calls'
    // retries land within the first seconds. After that, attempts come only
    // at half-open moments, at least 4.5 s apart, each at most 3 trials.
    let after_trip: Vec<f64> = during.iter().copied().filter(|t| *t >= 20.0).collect();
    assert!(!after_trip.is_empty());
    for t in &after_trip {
        let burst = after_trip
            .iter()
            .filter(|u| **u >= *t && **u < t + 1.0)
            .count();
        assert!(burst <= 3, "{burst} attempts in the second from {t:.2} s");
    }
    // 20 calls a second for 280 s would be 5,600 attempts without a breaker.
    assert!(
        after_trip.len() <= 3 * 12,
        "{} attempts after the trip",
        after_trip.len()
    );
}
