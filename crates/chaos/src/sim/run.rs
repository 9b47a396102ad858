//! Running a scenario: the clients' calls at their arrival times, each
//! through the pipeline under test, and what they and the dependency saw.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

use super::dependency::{Dependency, bucket_of};
use super::report::{PhaseReport, Report};
use super::scenario::{Answer, Arrivals, Scenario};
use crate::rng::Draws;

/// One client call: when it was meant to start, how long it took, what it got.
#[derive(Clone, Copy, Debug)]
struct Record {
    at: Duration,
    took: Duration,
    answer: Option<Answer>,
}

/// Runs `scenario`: each client call, at its arrival time, runs
/// `call(dependency, key)` under the client's timeout; `None`, or no
/// answer in time, is an error the client sees.
///
/// Run it on tokio's paused clock (`#[tokio::test(start_paused = true)]`,
/// or a current-thread runtime built with `start_paused(true)`): time then
/// moves only when every task waits, so a ten-minute outage replays in
/// about a second and the same seed gives the same figures. Latency is
/// measured from each call's intended start (open loop: a slow answer never
/// delays the next arrival, so nothing hides an overload).
pub async fn run<F, Fut>(scenario: &Scenario, call: F) -> Report
where
    F: Fn(Dependency, u64) -> Fut,
    Fut: Future<Output = Option<Answer>> + Send + 'static,
{
    let dependency = Dependency::new(scenario);
    let start = Instant::now();
    let end = scenario.duration();
    let draws = Draws::new(scenario.seed);
    let records = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    let mut at = Duration::ZERO;
    loop {
        at += gap(scenario.arrivals, &draws);
        if at >= end {
            break;
        }
        tokio::time::sleep_until(start + at).await;
        let key = draws.next() % scenario.keys.max(1);
        let answer = call(dependency.clone(), key);
        let (records, timeout) = (Arc::clone(&records), scenario.client_timeout);
        tasks.push(tokio::spawn(async move {
            let answer = tokio::time::timeout(timeout, answer).await.ok().flatten();
            let took = start.elapsed().saturating_sub(at);
            records.lock().push(Record { at, took, answer });
        }));
    }
    for task in tasks {
        drop(task.await);
    }
    // Let the dependency finish the work left in it.
    tokio::time::sleep(scenario.client_timeout).await;
    let records = std::mem::take(&mut *records.lock());
    let attempts = dependency.inner.attempts.lock().clone();
    report(scenario, &records, &attempts)
}

/// The time to the next arrival.
fn gap(arrivals: Arrivals, draws: &Draws) -> Duration {
    match arrivals {
        Arrivals::Constant { per_second } => Duration::from_secs_f64(1.0 / per_second),
        Arrivals::Poisson { per_second } => {
            let u = draws.unit().max(f64::MIN_POSITIVE);
            Duration::from_secs_f64(-u.ln() / per_second)
        }
    }
}

#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)] // counts far below 2^52
fn report(scenario: &Scenario, records: &[Record], attempts: &[u64]) -> Report {
    let bucket = scenario.bucket;
    let buckets = bucket_of(scenario.duration(), bucket) + 1;
    let (mut calls, mut errors) = (vec![0_u64; buckets], vec![0_u64; buckets]);
    for record in records {
        let b = bucket_of(record.at, bucket).min(buckets - 1);
        calls[b] += 1;
        if matches!(record.answer, None | Some(Answer::Fallback)) {
            errors[b] += 1;
        }
    }
    let attempts_in = |b: usize| attempts.get(b).copied().unwrap_or(0);
    let mut phases = Vec::new();
    let mut from = Duration::ZERO;
    let mut after_fault = false;
    for phase in &scenario.phases {
        let to = from + phase.duration;
        let mut took: Vec<Duration> = Vec::new();
        let (mut n, mut failed, mut degraded, mut fallbacks) = (0_u64, 0_u64, 0_u64, 0_u64);
        for record in records.iter().filter(|r| r.at >= from && r.at < to) {
            n += 1;
            took.push(record.took);
            match record.answer {
                None => failed += 1,
                Some(Answer::Degraded) => degraded += 1,
                Some(Answer::Fallback) => {
                    failed += 1;
                    fallbacks += 1;
                }
                Some(Answer::Fresh) => {}
            }
        }
        took.sort_unstable();
        let quantile = |p: f64| {
            took.get(((took.len().saturating_sub(1)) as f64 * p) as usize)
                .copied()
                .unwrap_or_default()
        };
        let (first, last) = (bucket_of(from, bucket), bucket_of(to, bucket));
        let reached: u64 = (first..last).map(attempts_in).sum();
        // Detected: the first bucket in which the pipeline sent the
        // dependency fewer than half as many attempts as it had calls.
        let detect = phase
            .condition
            .is_fault()
            .then(|| {
                (first..last)
                    .find(|&b| calls[b] > 0 && (attempts_in(b) as f64) < 0.5 * calls[b] as f64)
                    .map(|b| {
                        bucket.saturating_mul(u32::try_from(b + 1 - first).unwrap_or(u32::MAX))
                    })
            })
            .flatten();
        // Recovered: from the phase's start to the end of its last bucket
        // with 1 % or more errors; never, if that is its last bucket.
        let recover = (after_fault && !phase.condition.is_fault())
            .then(|| {
                let bad = |b: usize| calls[b] > 0 && errors[b] as f64 >= 0.01 * calls[b] as f64;
                match (first..last).rev().find(|&b| bad(b)) {
                    None => Some(Duration::ZERO),
                    Some(b) if b + 1 == last => None,
                    Some(b) => Some(
                        bucket.saturating_mul(u32::try_from(b + 1 - first).unwrap_or(u32::MAX)),
                    ),
                }
            })
            .flatten();
        phases.push(PhaseReport {
            name: phase.name.clone(),
            condition: phase.condition,
            duration: phase.duration,
            calls: n,
            errors: failed,
            degraded,
            fallbacks,
            attempts: reached,
            p50: quantile(0.50),
            p95: quantile(0.95),
            p99: quantile(0.99),
            detect,
            recover,
            recovery_phase: after_fault && !phase.condition.is_fault(),
        });
        after_fault = phase.condition.is_fault();
        from = to;
    }
    Report { phases }
}
