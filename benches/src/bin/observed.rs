//! The hot paths while an operator watches: each case timed with a
//! Prometheus recorder installed and a registry of its policy scraped every
//! 10 ms on another thread ("scraped"), against the same case with the
//! scraper paused ("alone"), in alternating rounds as `paired` does.
//!
//! `cargo run --release -p steadfast-benches --bin observed -- [ROUNDS]`
//!
//! prints `CASE scraped/alone ratio=MEDIAN (p10 P10, p90 P90)`. A real
//! Prometheus scrapes every 15 s or so; 10 ms is 1 500 times that, so the
//! scraper's share of the machine is far above any deployment's.

// Counts and ratios here stay far below 2^52.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::PrometheusBuilder;
use steadfast::Policy;
use steadfast::breaker::Breaker;
use steadfast::cache::MokaStore;
use steadfast::observe::Registry;
use steadfast::ratelimit::{Quota, RateLimiter};
use steadfast::retry::Retry;
use steadfast_benches::cache::{next_key, ours};
use steadfast_benches::{op, runtime, time_async};

const MS: u64 = 25;

fn ratio(rounds: usize, name: &str, scraping: &AtomicBool, mut case: impl FnMut(u64) -> Duration) {
    // Calibrate to about MS per timing.
    let mut iters = 1_000;
    loop {
        let took = case(iters);
        if took >= Duration::from_millis(MS) / 2 {
            break;
        }
        iters *= 2;
    }
    let mut ratios = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let mut timed = [0.0_f64; 2];
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for on in order {
            scraping.store(on, Ordering::Relaxed);
            let took = case(iters).as_nanos() as f64;
            timed[usize::from(!on)] = took;
        }
        ratios.push(timed[0] / timed[1]);
    }
    scraping.store(false, Ordering::Relaxed);
    ratios.sort_by(f64::total_cmp);
    let q = |p: f64| ratios[((ratios.len() - 1) as f64 * p).round() as usize];
    println!(
        "{name} scraped/alone ratio={:.3} (p10 {:.3}, p90 {:.3})",
        q(0.5),
        q(0.1),
        q(0.9)
    );
}

fn main() {
    let rounds = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(30);
    let rt = runtime();
    let breaker = Breaker::new();
    let limiter =
        RateLimiter::new(Quota::per_second(1_000_000_000).burst(u32::MAX)).expect("a valid quota");
    let retry = Retry::default();
    let cache = ours::<MokaStore<u64, Arc<u64>>>(&rt, false);
    let registry = Registry::new()
        .register("breaker", breaker.clone())
        .register("limiter", limiter.clone())
        .register("retry", retry.clone())
        .register("cache", cache.clone());

    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).expect("the first recorder");
    let scraping = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let scraper = {
        let (scraping, stop) = (Arc::clone(&scraping), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut scrapes = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                if scraping.load(Ordering::Relaxed) {
                    registry.record_metrics();
                    black_box(handle.render());
                    scrapes += 1;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            scrapes
        })
    };

    ratio(rounds, "breaker_closed", &scraping, |n| {
        time_async(&rt, n, || breaker.call(op))
    });
    ratio(rounds, "ratelimit_direct", &scraping, |n| {
        let start = Instant::now();
        for _ in 0..n {
            black_box(limiter.check()).ok();
        }
        start.elapsed()
    });
    ratio(rounds, "retry_first_success", &scraping, |n| {
        time_async(&rt, n, || retry.call(op))
    });
    let keys = std::cell::Cell::new(0);
    ratio(rounds, "cache_hit", &scraping, |n| {
        time_async(&rt, n, || {
            let key = next_key(&keys);
            let cache = &cache;
            async move { cache.get(&key).await }
        })
    });

    stop.store(true, Ordering::Relaxed);
    let done = scraper.join().expect("the scraper ends");
    println!("scrapes: {done}");
}
