//! A Redis that dies, is slow, or was never there: every check is answered
//! by the configured mode within a bounded time, and the limiter returns to
//! Redis by itself. Each test runs its own `redis-server` to kill.

mod support;

use std::time::{Duration, Instant};

use steadfast_core::Inspect;
use steadfast_ratelimit::Quota;
use steadfast_redis::{BuildError, RedisRateLimiter, Source, WhenDown};
use support::{Server, config, connected, free_port};

/// Checks until `source` answers, within `within`; each check bounded.
async fn until_source(
    limiter: &RedisRateLimiter<String>,
    key: &str,
    source: Source,
    within: Duration,
) {
    let deadline = Instant::now() + within;
    loop {
        let started = Instant::now();
        let answer = limiter.check_n(&key.to_owned(), 1).await;
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "a check took {:?}",
            started.elapsed()
        );
        if answer.map(|a| a.source) == Ok(source) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still not answered by {source:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_then_restarted_redis_falls_back_and_returns() {
    let port = free_port();
    let server = Server::start(port);
    let mut config = config("restart", Quota::per_hour(1_000).burst(1_000));
    config.when_down = WhenDown::Local { instances: 4 };
    // The first failure opens the breaker around Redis.
    config.breaker_failures = 1;
    let limiter = connected(&server.url(), config).await;
    assert_eq!(
        limiter.check_n(&"k".to_owned(), 1).await.unwrap().source,
        Source::Redis
    );
    // A fresh server: the first check loaded the script.
    assert_eq!(limiter.snapshot().script_reloads, 1);

    server.kill();
    until_source(&limiter, "k", Source::Local, Duration::from_secs(2)).await;
    assert!(limiter.snapshot().fallback_active);
    // The breaker is open now: a fallback check costs no round trip
    // (what it costs in time, the `redis` bench measures).
    let trips = limiter.snapshot().round_trips;
    for _ in 0..100 {
        assert_eq!(
            limiter.check_n(&"k".to_owned(), 1).await.unwrap().source,
            Source::Local
        );
    }
    assert_eq!(limiter.snapshot().round_trips, trips);

    // A new server knows no script: the limiter loads it again.
    let server = Server::start(port);
    until_source(&limiter, "k", Source::Redis, Duration::from_secs(10)).await;
    let s = limiter.snapshot();
    assert!(!s.fallback_active);
    assert_eq!(s.script_reloads, 2);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_queued_in_batches_when_redis_dies_are_all_answered_in_bounded_time() {
    let port = free_port();
    let server = Server::start(port);
    let mut config = config("batch-kill", Quota::per_hour(100_000).burst(100_000));
    config.when_down = WhenDown::Local { instances: 1 };
    config.timeout = Duration::from_millis(100);
    let limiter = connected(&server.url(), config).await;
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        server.kill();
    });
    // 32 tasks checking through the kill: some queued behind a round trip
    // that never comes back.
    let mut tasks = Vec::new();
    for task in 0..32 {
        let limiter = limiter.clone();
        tasks.push(tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            let mut local = 0;
            for round in 0..40 {
                let started = Instant::now();
                let answer = limiter
                    .check_n(&format!("user-{}", (task + round) % 8), 1)
                    .await;
                slowest = slowest.max(started.elapsed());
                if answer.unwrap().source == Source::Local {
                    local += 1;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            (slowest, local)
        }));
    }
    killer.await.unwrap();
    let mut local = 0;
    for task in tasks {
        let (slowest, answered_locally) = task.await.unwrap();
        // Queued behind the round trip in flight, then in its own batch:
        // each bounded by the 100 ms timeout.
        assert!(
            slowest < Duration::from_millis(400),
            "a check took {slowest:?}"
        );
        local += answered_locally;
    }
    assert!(local > 0, "the fallback answered after the kill");
    let s = limiter.snapshot();
    assert_eq!(s.admitted, 32 * 40, "every check answered, all admitted");
    assert!(s.fallback_active && s.batched > 0, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_fallback_has_this_instances_share_of_the_quota() {
    let mut config = config("share", Quota::per_hour(100).burst(10));
    config.when_down = WhenDown::Local { instances: 3 };
    // Nothing listens on this port.
    let limiter =
        RedisRateLimiter::<String>::new(&format!("redis://127.0.0.1:{}", free_port()), config)
            .unwrap();
    let key = "k".to_owned();
    let admitted = {
        let mut n = 0;
        for _ in 0..10 {
            if limiter.check_n(&key, 1).await.is_ok() {
                n += 1;
            }
        }
        n
    };
    // ceil(10 / 3): four of the burst of ten.
    assert_eq!(admitted, 4);
    assert!(limiter.snapshot().fallback_active);
    // The health report says so.
    let registry = steadfast_observe::Registry::new().register("users", limiter.clone());
    let health = registry.health();
    assert_eq!(health.status, steadfast_observe::Status::Degraded);
    assert_eq!(
        health.policies[0].reason.as_deref(),
        Some("Redis cannot answer: limiting on this instance's fallback")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_open_and_fail_closed_answer_as_they_say() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let mut open = config("open", Quota::per_hour(1).burst(1));
    open.when_down = WhenDown::Open;
    let open = RedisRateLimiter::<String>::new(&url, open).unwrap();
    for _ in 0..3 {
        assert_eq!(
            open.check_n(&"k".to_owned(), 1).await.unwrap().source,
            Source::FailedOpen
        );
    }
    let mut closed = config("closed", Quota::per_hour(1_000));
    closed.when_down = WhenDown::Closed;
    let closed = RedisRateLimiter::<String>::new(&url, closed).unwrap();
    let refused = closed.check_n(&"k".to_owned(), 1).await.unwrap_err();
    assert_eq!(refused.retry_after(), Some(Duration::from_secs(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_a_server_that_cannot_answer() {
    let server = Server::start(free_port());
    let url = format!("redis://:wrong-password@127.0.0.1:{}", server.port);
    let limiter =
        RedisRateLimiter::<String>::new(&url, config("auth", Quota::per_hour(5))).unwrap();
    assert!(!limiter.ready(Duration::from_millis(300)).await);
    assert_eq!(
        limiter.check_n(&"k".to_owned(), 1).await.unwrap().source,
        Source::Local
    );
}

#[tokio::test]
async fn a_malformed_url_and_a_bad_config_are_errors() {
    let err = RedisRateLimiter::<String>::new("not a url", config("url", Quota::per_hour(5)))
        .unwrap_err();
    assert!(matches!(err, BuildError::Url(_)), "{err}");
    let mut bad = config("bad", Quota::per_hour(5));
    bad.prefix = "has{brace".into();
    let err = RedisRateLimiter::<String>::new(support::SHARED, bad).unwrap_err();
    let BuildError::Config(err) = err else {
        panic!("a config error")
    };
    assert_eq!(err.field(), "prefix");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_redis_still_answers_these_tests() {
    // The machine's Redis is never the one killed.
    let limiter = connected(support::SHARED, config("alive", Quota::per_hour(5))).await;
    assert_eq!(
        limiter.check_n(&"k".to_owned(), 1).await.unwrap().source,
        Source::Redis
    );
}
