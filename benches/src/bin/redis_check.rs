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
    let took =
        steadfast_benches::backplane::steadfast_propagation(URL, &format!("{prefix}:bus"), 200)
            .await;
    println!(
        "backplane: invalidate on one instance to gone on the other, p50 {:?}, p99 {:?} ({} keys, {} timed out after {:?})",
        took.quantile(0.5).unwrap_or_default(),
        took.quantile(0.99).unwrap_or_default(),
        took.len(),
        took.timeouts,
        steadfast_benches::backplane::BOUND,
    );
}

/// Redis's own CPU time so far (user + system), from `INFO cpu`.
async fn redis_cpu(conn: &mut redis::aio::ConnectionManager) -> Duration {
    let info: String = redis::cmd("INFO")
        .arg("cpu")
        .query_async(conn)
        .await
        .expect("INFO");
    let field = |name: &str| {
        info.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Duration::from_secs_f64(field("used_cpu_user") + field("used_cpu_sys"))
}

/// One case's figures at one concurrency.
struct Case {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    /// Redis's CPU time per operation.
    redis_cpu: Duration,
}

/// Drives `op` as [`drive`] does and reads Redis's CPU time around it.
async fn measure<F, Fut>(
    info: &mut redis::aio::ConnectionManager,
    tasks: usize,
    secs: f64,
    op: F,
) -> Case
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let before = redis_cpu(info).await;
    let (per_second, p50, p99) = drive(tasks, secs, op).await;
    let used = redis_cpu(info).await.saturating_sub(before);
    Case {
        per_second,
        p50,
        p99,
        redis_cpu: used.div_f64((per_second * secs).max(1.0)),
    }
}

/// A limiter's checks of `i % 1000`, each admitted by Redis.
fn checks(
    limiter: &RedisRateLimiter<u64>,
) -> impl Fn(u64) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
+ Send
+ Sync
+ 'static {
    let limiter = limiter.clone();
    move |i| {
        let l = limiter.clone();
        Box::pin(async move {
            let admitted = l.check_n(&(i % 1_000), 1).await.expect("admitted");
            assert_eq!(admitted.source, Source::Redis);
        })
    }
}

/// Checks per second and latency beside `INCR` and the bare script.
async fn throughput(prefix: &str, secs: f64) {
    let batched =
        RedisRateLimiter::<u64>::new(URL, limiter_config(prefix)).expect("a valid config");
    let mut config = limiter_config(&format!("{prefix}:single"));
    config.batch = false;
    let single = RedisRateLimiter::<u64>::new(URL, config).expect("a valid config");
    for limiter in [&batched, &single] {
        assert!(
            limiter.ready(Duration::from_secs(5)).await,
            "Redis at {URL}"
        );
    }
    let client = redis::Client::open(URL).unwrap();
    let conn = redis::aio::ConnectionManager::new(client)
        .await
        .expect("Redis answers");
    let mut info = conn.clone();

    let mut load = conn.clone();
    let sha: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(include_str!("../../../crates/redis/src/gcra.lua"))
        .query_async(&mut load)
        .await
        .expect("SCRIPT LOAD");

    println!("redis_ratelimit_check, {secs} s per case, keys spread over 1000 users");
    println!(
        "tasks | case | ops/s | p50 | p99 | checks per round trip | Redis CPU per op | ops/s ÷ INCR's"
    );
    for tasks in [1, 16, 64] {
        let before = batched.snapshot();
        let ours = measure(&mut info, tasks, secs, checks(&batched)).await;
        let after = batched.snapshot();
        let per_trip = (after.admitted - before.admitted) as f64
            / (after.round_trips - before.round_trips).max(1) as f64;
        let one_by_one = measure(&mut info, tasks, secs, checks(&single)).await;
        let c = conn.clone();
        let key_prefix = format!("{prefix}:incr");
        let raw = measure(&mut info, tasks, secs, move |i| {
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
        let bare = measure(&mut info, tasks, secs, move |i| {
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
        let line = |name: &str, case: &Case, per_trip: &str| {
            println!(
                "{tasks} | {name} | {:.0} | {:.0?} | {:.0?} | {per_trip} | {:.1?} | {:.2}",
                case.per_second,
                case.p50,
                case.p99,
                case.redis_cpu,
                case.per_second / raw.per_second
            );
        };
        line("steadfast", &ours, &format!("{per_trip:.1}"));
        line("steadfast, batch off", &one_by_one, "1.0");
        line("bare EVALSHA of gcra.lua", &bare, "1.0");
        line("INCR", &raw, "-");
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
