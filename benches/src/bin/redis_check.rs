//! The Redis limiter's throughput and latency beside raw `INCR` round trips
//! on the same connection setup, and what a check costs once Redis is down.
//!
//! `cargo run --release -p steadfast-benches --bin redis_check -- [SECONDS]`
//!
//! Needs Redis at 127.0.0.1:6379 (and `redis-server` for the fallback
//! figures, which run a private one and kill it). For 1, 16 and 64
//! concurrent tasks on a two-worker runtime, each case runs for SECONDS
//! (default 2): checks per second, p50 and p99 per check, and the ratio to
//! `INCR` at the same concurrency. Then the fallback: the time from the
//! server's death to the first check answered locally, and the cost of a
//! check on the fallback beside the in-memory keyed limiter's.

// Counts and nanoseconds stay far below 2^52.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::hint::black_box;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use steadfast::Inspect;
use steadfast::ratelimit::{KeyedRateLimiter, Quota};
use steadfast::redis::{RedisLimiterConfig, RedisRateLimiter, Source, WhenDown};

const URL: &str = "redis://127.0.0.1:6379";

/// Runs `tasks` copies of `op` for `secs`; returns (ops per second, p50, p99).
async fn drive<F, Fut>(tasks: usize, secs: f64, op: F) -> (f64, Duration, Duration)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut handles = Vec::new();
    for t in 0..tasks {
        let op = Arc::clone(&op);
        handles.push(tokio::spawn(async move {
            let mut took = Vec::new();
            let mut i = t as u64 * 1_000_000_000;
            while Instant::now() < end {
                let start = Instant::now();
                op(i).await;
                took.push(start.elapsed());
                i += 1;
            }
            took
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("a task ends"));
    }
    all.sort_unstable();
    let q = |p: f64| all[((all.len() - 1) as f64 * p) as usize];
    (all.len() as f64 / secs, q(0.5), q(0.99))
}

fn limiter_config(prefix: &str) -> RedisLimiterConfig {
    // Generous, so every check is admitted: the cost measured is the check's.
    let mut config = RedisLimiterConfig::new(Quota::per_second(1_000_000).burst(1_000_000));
    prefix.clone_into(&mut config.prefix);
    config.timeout = Duration::from_secs(1);
    config
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("steadfast-bench:{stamp}");
    throughput(&prefix, secs).await;
    fallback(&prefix).await;
    propagation(&prefix).await;
}

/// The cache backplane: from `invalidate` on one instance to the key gone
/// from the other's cache, over 200 invalidations.
async fn propagation(prefix: &str) {
    use steadfast::cache::Cache;
    use steadfast::redis::{BusConfig, SharedCache};

    let cache = || {
        Cache::<u64, u64, String>::builder()
            .fresh_for(Duration::from_secs(600))
            .build()
            .expect("a valid cache")
    };
    let config = BusConfig::new(format!("{prefix}:bus"));
    let a = SharedCache::new(URL, &config, cache()).expect("a bus");
    let b = SharedCache::new(URL, &config, cache()).expect("a bus");
    while !(a.bus_snapshot().subscribed && b.bus_snapshot().subscribed) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut took = Vec::new();
    for key in 0..200_u64 {
        b.cache().insert(key, key).await;
        let start = Instant::now();
        a.invalidate(&key).await;
        while b.cache().get(&key).await.is_some() {
            tokio::task::yield_now().await;
        }
        took.push(start.elapsed());
    }
    took.sort_unstable();
    let q = |p: f64| took[((took.len() - 1) as f64 * p) as usize];
    println!(
        "backplane: invalidate on one instance to gone on the other, p50 {:?}, p99 {:?} (200 keys)",
        q(0.5),
        q(0.99)
    );
}

/// Checks per second and latency beside `INCR` and the bare script.
async fn throughput(prefix: &str, secs: f64) {
    let limiter =
        RedisRateLimiter::<u64>::new(URL, limiter_config(prefix)).expect("a valid config");
    assert!(
        limiter.ready(Duration::from_secs(5)).await,
        "Redis at {URL}"
    );
    let client = redis::Client::open(URL).unwrap();
    let conn = redis::aio::ConnectionManager::new(client)
        .await
        .expect("Redis answers");

    let mut load = conn.clone();
    let sha: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(include_str!("../../../crates/redis/src/gcra.lua"))
        .query_async(&mut load)
        .await
        .expect("SCRIPT LOAD");

    println!("redis_ratelimit_check, {secs} s per case, keys spread over 1000 users");
    println!(
        "tasks | steadfast checks/s | p50 | p99 | INCR/s | p50 | p99 | ratio | bare EVALSHA/s | ratio"
    );
    for tasks in [1, 16, 64] {
        let l = limiter.clone();
        let ours = drive(tasks, secs, move |i| {
            let l = l.clone();
            async move {
                let admitted = l.check_n(&(i % 1_000), 1).await.expect("admitted");
                assert_eq!(admitted.source, Source::Redis);
            }
        })
        .await;
        let c = conn.clone();
        let key_prefix = format!("{prefix}:incr");
        let raw = drive(tasks, secs, move |i| {
            let mut c = c.clone();
            let key = format!("{key_prefix}:{{{}}}", i % 1_000);
            async move {
                let n: i64 = redis::cmd("INCR")
                    .arg(key)
                    .query_async(&mut c)
                    .await
                    .expect("INCR");
                black_box(n);
            }
        })
        .await;
        // The script alone, no limiter around it: what the limiter adds.
        let (c, sha, key_prefix) = (conn.clone(), sha.clone(), format!("{prefix}:bare"));
        let bare = drive(tasks, secs, move |i| {
            let mut c = c.clone();
            let cmd = redis::cmd("EVALSHA")
                .arg(&sha)
                .arg(1)
                .arg(format!("{key_prefix}:{{{}}}", i % 1_000))
                .arg(1)
                .arg(1_000_000)
                .arg(1)
                .clone();
            async move {
                let r: (u8, i64, i64, i64) = cmd.query_async(&mut c).await.expect("EVALSHA");
                black_box(r);
            }
        })
        .await;
        println!(
            "{tasks} | {:.0} | {:?} | {:?} | {:.0} | {:?} | {:?} | {:.2} | {:.0} | {:.2}",
            ours.0,
            ours.1,
            ours.2,
            raw.0,
            raw.1,
            raw.2,
            ours.0 / raw.0,
            bare.0,
            ours.0 / bare.0
        );
    }
}

/// The switch to the fallback, and a check's cost on it.
async fn fallback(prefix: &str) {
    let port = free_port();
    let mut server = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server");
    let mut config = limiter_config(prefix);
    config.timeout = Duration::from_millis(50);
    config.when_down = WhenDown::Local { instances: 2 };
    let limiter =
        RedisRateLimiter::<u64>::new(&format!("redis://127.0.0.1:{port}"), config).unwrap();
    assert!(limiter.ready(Duration::from_secs(5)).await);
    limiter.check_n(&1, 1).await.unwrap();
    server.kill().ok();
    server.wait().ok();
    let died = Instant::now();
    let mut checks = 0;
    while limiter.check_n(&1, 1).await.map(|a| a.source) != Ok(Source::Local) {
        checks += 1;
    }
    println!(
        "fallback switch: {:?} from the kill to the first local answer ({checks} checks before it)",
        died.elapsed()
    );
    // Let the breaker open, then time checks on the fallback.
    for _ in 0..10 {
        let _ = limiter.check_n(&1, 1).await;
    }
    let memory =
        KeyedRateLimiter::<u64>::new(Quota::per_second(1_000_000).burst(1_000_000)).unwrap();
    let bytes =
        KeyedRateLimiter::<Vec<u8>>::new(Quota::per_second(1_000_000).burst(1_000_000)).unwrap();
    for round in 0..3 {
        let n = 200_000u64;
        let start = Instant::now();
        for i in 0..n {
            black_box(limiter.check_n(&(i % 1_000), 1).await).ok();
        }
        let ours = start.elapsed().as_nanos() as f64 / n as f64;
        let start = Instant::now();
        for i in 0..n {
            black_box(memory.check_n(&(i % 1_000), 1)).ok();
        }
        let theirs = start.elapsed().as_nanos() as f64 / n as f64;
        // The same limiter with the fallback's keys: formatted per check.
        let start = Instant::now();
        for i in 0..n {
            let key = format!("{prefix}:{{{}}}", i % 1_000).into_bytes();
            black_box(bytes.check_n(&key, 1)).ok();
            black_box(bytes.peek(&key));
        }
        let same_keys = start.elapsed().as_nanos() as f64 / n as f64;
        println!(
            "round {round}: a check on the fallback {ours:.0} ns; the in-memory keyed limiter {theirs:.0} ns on u64 keys, {same_keys:.0} ns on the fallback's formatted keys (check and peek)"
        );
    }
    assert!(limiter.snapshot().fallback_active);
}
