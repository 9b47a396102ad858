//! The README's pipeline, sized as written, under load on the paused clock:
//! a healthy dependency is served, and the bulkhead's own refusals never
//! open the breaker.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use steadfast::breaker::{Breaker, BreakerConfig, State};
use steadfast::bulkhead::Bulkhead;
use steadfast::retry::Retry;
use steadfast::{Error, ErrorKind, Pipeline, Policy, Timeout};
use tokio::time::Instant;

struct Load {
    ok: u64,
    errors: u64,
    bulkhead_full: u64,
    breaker: State,
}

/// `rate` calls a second for 10 s, open-loop, through the README's pipeline
/// around a healthy dependency answering in `latency`.
async fn readme_pipeline_at(rate: u32, latency: Duration) -> Load {
    let breaker = Breaker::from_config(BreakerConfig::ai_api()).unwrap();
    let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(10)).unwrap())
        .then(Retry::builder().max_attempts(3).seed(1).build().unwrap())
        .then(breaker.clone())
        .then(Bulkhead::new(16).unwrap())
        .then(Timeout::new(Duration::from_secs(2)).unwrap());
    let (ok, errors, full) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let start = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..rate * 10 {
        tokio::time::sleep_until(start + Duration::from_secs(1) / rate * i).await;
        let pipeline = pipeline.clone();
        let (ok, errors, full) = (Arc::clone(&ok), Arc::clone(&errors), Arc::clone(&full));
        calls.spawn(async move {
            let answer: Result<u32, Error<&str>> = pipeline
                .call(|| async move {
                    tokio::time::sleep(latency).await;
                    Ok(1)
                })
                .await;
            match answer {
                Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                Err(e) => {
                    if e.kind() == ErrorKind::BulkheadFull {
                        full.fetch_add(1, Ordering::Relaxed);
                    }
                    errors.fetch_add(1, Ordering::Relaxed)
                }
            };
        });
    }
    calls.join_all().await;
    Load {
        ok: ok.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        bulkhead_full: full.load(Ordering::Relaxed),
        breaker: breaker.state(),
    }
}

#[tokio::test(start_paused = true)]
async fn within_its_sizing_every_call_is_served() {
    // 16 permits hold 800 calls/s of 20 ms each (Little's law: 800 × 0.02 =
    // 16 in flight); at 500 calls/s ten are in flight.
    let load = readme_pipeline_at(500, Duration::from_millis(20)).await;
    assert_eq!((load.ok, load.errors), (5_000, 0));
    assert_eq!(load.breaker, State::Closed);
}

#[tokio::test(start_paused = true)]
async fn past_its_sizing_the_bulkhead_refuses_and_the_breaker_stays_closed() {
    // 1,000 calls/s of 20 ms: 20 would be in flight against 16 permits. The
    // bulkhead refuses the excess (the retry tries again 100 ms or so later),
    // and its refusals say nothing about the dependency: the breaker stays
    // closed and the dependency keeps serving.
    let load = readme_pipeline_at(1_000, Duration::from_millis(20)).await;
    println!(
        "1,000 calls/s × 20 ms: {} ok, {} errors ({} bulkhead full)",
        load.ok, load.errors, load.bulkhead_full
    );
    assert_eq!(load.breaker, State::Closed);
    assert_eq!(load.errors, load.bulkhead_full);
    assert_eq!(load.ok + load.errors, 10_000);
    assert!(load.ok >= 8_000, "{} of 10,000 served", load.ok);
}
