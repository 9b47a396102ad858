//! The budget's promise for a fleet, on the paused clock: in a total outage
//! the default `Retry` amplifies at most 1.1× whatever the call rate and
//! however the policies are shared, and under 50 % failures its retries
//! still lower the client error rate.
//!
//! Calls arrive open-loop (each at its own instant, whatever earlier ones
//! are doing), as a fleet's traffic does. Run with `--nocapture` to see the
//! figures.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use steadfast_core::{Inspect, Policy};

use steadfast_retry::Retry;
use tokio::task::JoinSet;

/// The dependency: fails attempt `n` (counted per client) when `fails(n)`.
#[derive(Clone)]
struct Dependency {
    attempts: Arc<AtomicU64>,
    fails: fn(u64, u64) -> bool,
    client: u64,
}

impl Dependency {
    fn new(client: u64, fails: fn(u64, u64) -> bool) -> Self {
        Dependency {
            attempts: Arc::default(),
            fails,
            client,
        }
    }

    fn attempt(&self) -> std::future::Ready<Result<u32, &'static str>> {
        let n = self.attempts.fetch_add(1, Ordering::Relaxed);
        std::future::ready(if (self.fails)(self.client, n) {
            Err("unavailable")
        } else {
            Ok(1)
        })
    }
}

fn always(_: u64, _: u64) -> bool {
    true
}

/// Half of all attempts fail, independently of each other (a fixed hash of
/// the client and the attempt: the same run every time).
fn half(client: u64, n: u64) -> bool {
    let mut x = client.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 29;
    x & 1 == 0
}

struct Run {
    calls: u64,
    attempts: u64,
    errors: u64,
    /// The most calls running at once through any one policy.
    peak_running: u64,
}

impl Run {
    /// The budget's bound on retries per policy in a total outage: its
    /// bucket, plus the share of the calls running at once, credited while
    /// they run.
    fn outage_bound(&self) -> u64 {
        5 + self.peak_running.div_ceil(5)
    }
}

impl Run {
    #[allow(clippy::cast_precision_loss)] // small counts
    fn amplification(&self) -> f64 {
        self.attempts as f64 / self.calls as f64
    }

    #[allow(clippy::cast_precision_loss)]
    fn error_rate(&self) -> f64 {
        self.errors as f64 / self.calls as f64
    }
}

/// `clients` clients, each with its own policy from `policy(client)`, each
/// making `rate` calls a second for `seconds`, open-loop.
async fn fleet(
    clients: u64,
    rate: u64,
    seconds: u64,
    fails: fn(u64, u64) -> bool,
    policy: impl Fn(u64) -> Retry,
) -> Run {
    let errors = Arc::new(AtomicU64::new(0));
    let peak = Arc::new(AtomicU64::new(0));
    let mut deps = Vec::new();
    let mut set = JoinSet::new();
    let start = tokio::time::Instant::now();
    let interval = Duration::from_secs(1) / u32::try_from(rate).unwrap();
    for client in 0..clients {
        let retry = policy(client);
        let dep = Dependency::new(client, fails);
        deps.push(dep.clone());
        let errors = Arc::clone(&errors);
        let peak = Arc::clone(&peak);
        let running = Arc::new(AtomicU64::new(0));
        set.spawn(async move {
            let mut calls = JoinSet::new();
            for i in 0..rate * seconds {
                tokio::time::sleep_until(start + interval * u32::try_from(i).unwrap()).await;
                let (retry, dep, errors) = (retry.clone(), dep.clone(), Arc::clone(&errors));
                let (running, peak) = (Arc::clone(&running), Arc::clone(&peak));
                calls.spawn(async move {
                    let now = running.fetch_add(1, Ordering::Relaxed) + 1;
                    peak.fetch_max(now, Ordering::Relaxed);
                    if retry.call(|| dep.attempt()).await.is_err() {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    running.fetch_sub(1, Ordering::Relaxed);
                });
            }
            calls.join_all().await;
        });
    }
    set.join_all().await;
    let calls = clients * rate * seconds;
    let attempts = deps
        .iter()
        .map(|d| d.attempts.load(Ordering::Relaxed))
        .sum();
    Run {
        calls,
        attempts,
        errors: errors.load(Ordering::Relaxed),
        peak_running: peak.load(Ordering::Relaxed),
    }
}

/// A default retry with its jitter seeded, so runs replay exactly.
fn default_retry(seed: u64) -> Retry {
    Retry::builder().seed(seed).build().unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_fleet_of_1000_clients_each_with_its_own_retry_in_a_total_outage() {
    // One call a second per client, for a minute of total outage.
    let run = fleet(1_000, 1, 60, always, default_retry).await;
    println!(
        "1,000 clients × 1 call/s, 60 s outage: {:.3}×",
        run.amplification()
    );
    assert_eq!(run.calls, 60_000);
    // Each client spends its bucket of 5, then retries nothing.
    assert_eq!(run.attempts, 60_000 + 1_000 * 5);
    assert!(run.amplification() <= 1.1);
    assert_eq!(run.errors, 60_000);
}

#[tokio::test(start_paused = true)]
async fn one_policy_at_any_rate_in_a_total_outage() {
    // A minute of outage; at 10,000 calls/s ten seconds make the point.
    for (rate, seconds) in [
        (1, 60),
        (5, 60),
        (10, 60),
        (50, 60),
        (100, 60),
        (1_000, 60),
        (10_000, 10),
    ] {
        let run = fleet(1, rate, seconds, always, default_retry).await;
        println!(
            "{rate:>6} calls/s for {seconds} s: {:.4}× ({} retries, at most {} calls running)",
            run.amplification(),
            run.attempts - run.calls,
            run.peak_running
        );
        assert_eq!(run.calls, rate * seconds);
        assert!(
            run.attempts - run.calls <= run.outage_bound(),
            "{rate} calls/s"
        );
        assert!(run.amplification() <= 1.1, "{rate} calls/s");
    }
}

#[tokio::test(start_paused = true)]
async fn one_shared_policy_at_1000_calls_a_second_in_a_total_outage() {
    let shared = default_retry(7);
    let run = fleet(10, 100, 60, always, |_| shared.clone()).await;
    assert_eq!(run.calls, 60_000);
    // Running calls are counted per client here; together they are at most
    // ten times the most through one client.
    assert!(run.attempts - run.calls <= 5 + (10 * run.peak_running).div_ceil(5));
    assert!(run.amplification() <= 1.0002);
}

#[tokio::test(start_paused = true)]
async fn at_50_percent_failures_retries_still_lower_the_error_rate() {
    let with = fleet(1_000, 1, 60, half, default_retry).await;
    let without = fleet(1_000, 1, 60, half, |_| {
        Retry::builder().max_attempts(1).build().unwrap()
    })
    .await;
    println!(
        "50 % failures: errors {:.3} without retry, {:.3} with ({:.3}× attempts)",
        without.error_rate(),
        with.error_rate(),
        with.amplification()
    );
    assert!(without.error_rate() > 0.49 && without.error_rate() < 0.51);
    assert!(
        with.error_rate() < without.error_rate() - 0.05,
        "{} with retry, {} without",
        with.error_rate(),
        without.error_rate()
    );
    // Retries are at most the bucket plus a fifth of the successes.
    let successes = with.calls - with.errors;
    assert!(with.attempts - with.calls <= 1_000 * 5 + successes / 5);
}

#[tokio::test(start_paused = true)]
async fn a_quiet_healthy_client_retries_its_occasional_failures() {
    // One call a minute for a day; every tenth call's first attempt fails.
    let retry = default_retry(3);
    let mut refused = 0;
    for call in 0..1_440u64 {
        let first = std::sync::atomic::AtomicBool::new(true);
        let first = &first;
        let answer = retry
            .call(move || async move {
                if call % 10 == 0 && first.swap(false, Ordering::Relaxed) {
                    Err("blip")
                } else {
                    Ok(1)
                }
            })
            .await;
        refused += u32::from(answer.is_err());
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    assert_eq!(refused, 0);
    let snap = retry.snapshot();
    assert_eq!((snap.retries, snap.budget_exhausted), (144, 0));
}
