//! Hot reload: state kept, calls undisturbed, a bad config changes nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use steadfast_breaker::State;
use steadfast_config::{Config, Configured, ConfiguredPipeline};
use steadfast_core::{Context, Error, ErrorKind, Policy};
use steadfast_observe::{PolicyReport, Status};

fn config(consecutive: u32, limit: u32) -> Config {
    Config::from_toml(&format!(
        r#"
        [policies.api]
        breaker = {{ preset = "empty", consecutive_failures = {consecutive}, critical = true }}

        [policies.users]
        rate_limit = {{ keyed = true, quota = {{ limit = {limit}, period = "1m" }} }}

        [pipelines.calls]
        stages = ["users", "timeout", "api"]
        timeout = {{ limit = "1s" }}
        "#
    ))
    .unwrap()
}

type Calls = ConfiguredPipeline<u32, &'static str>;

async fn call(pipeline: &Calls, user: &str, fail: bool) -> Result<u32, Error<&'static str>> {
    let user = user.to_owned();
    pipeline
        .call_with(Context::new().with_key(&user), || async move {
            if fail { Err("down") } else { Ok(1) }
        })
        .await
}

#[tokio::test(start_paused = true)]
async fn the_breaker_stays_open_and_the_limiter_keeps_its_keys() {
    let live = Configured::new(config(2, 3)).unwrap();
    let calls = live.pipeline::<u32, &'static str>("calls").unwrap();
    let registry = live.registry();
    call(&calls, "alice", true).await.unwrap_err();
    call(&calls, "alice", true).await.unwrap_err();
    assert_eq!(
        call(&calls, "bob", false).await.unwrap_err().kind(),
        ErrorKind::CircuitOpen
    );
    assert!(!registry.health().ready);

    let report = live.reload(config(5, 4)).unwrap();
    assert_eq!(report.changed, ["api", "users"]);
    assert_eq!(report.unchanged, ["calls.timeout"]);
    // Still open; the registry reads the same breaker.
    assert_eq!(
        call(&calls, "bob", false).await.unwrap_err().kind(),
        ErrorKind::CircuitOpen
    );
    let health = registry.health();
    assert_eq!((health.status, health.ready), (Status::Unhealthy, false));
    // The limiter is outside the breaker, so Alice's two calls spent two
    // units of the old quota (3 a minute: 40 s of her minute). The new
    // quota (4 a minute, a unit per 15 s) reads the same 40 s: one more
    // unit fits (the open breaker refuses that call), then the limiter
    // refuses.
    assert_eq!(
        call(&calls, "alice", false).await.unwrap_err().kind(),
        ErrorKind::CircuitOpen
    );
    assert_eq!(
        call(&calls, "alice", false).await.unwrap_err().kind(),
        ErrorKind::RateLimited
    );
    let PolicyReport::RateLimiter(limiter) = registry
        .reports()
        .into_iter()
        .find(|(name, _)| *name == "users")
        .unwrap()
        .1
    else {
        panic!("users is a rate limiter")
    };
    assert_eq!(limiter.keys_tracked, 2);
}

#[tokio::test(start_paused = true)]
async fn an_invalid_reload_changes_nothing() {
    let live = Configured::new(config(2, 3)).unwrap();
    let calls = live.pipeline::<u32, &'static str>("calls").unwrap();
    call(&calls, "alice", true).await.unwrap_err();
    let before = live.config();

    // A change the breaker cannot take (new windows): refused, and the
    // limiter's new quota, valid on its own, is not applied either.
    let text = r#"
        [policies.api]
        breaker = { preset = "standard" }
        [policies.users]
        rate_limit = { keyed = true, quota = { limit = 100, period = "1m" } }
        [pipelines.calls]
        stages = ["users", "timeout", "api"]
        timeout = { limit = "1s" }
    "#;
    let err = live.reload(Config::from_toml(text).unwrap()).unwrap_err();
    assert_eq!(err.paths(), ["policies.api.breaker.failure_rates"]);
    assert_eq!(live.config(), before);
    // The old limit of 2 failures still holds: one more opens it.
    call(&calls, "alice", true).await.unwrap_err();
    assert_eq!(
        call(&calls, "alice", false).await.unwrap_err().kind(),
        ErrorKind::CircuitOpen
    );
    // And the old quota of 3: Alice's fourth call is refused by the limiter.
    assert_eq!(
        call(&calls, "alice", false).await.unwrap_err().kind(),
        ErrorKind::RateLimited
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_under_load_lose_and_fail_no_call() {
    let live = Configured::new(config(1_000, 1_000_000)).unwrap();
    let calls = live.pipeline::<u32, &'static str>("calls").unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for t in 0..4 {
        let (calls, done, stop) = (calls.clone(), Arc::clone(&done), Arc::clone(&stop));
        tasks.push(tokio::spawn(async move {
            let user = format!("user-{t}");
            let mut made = 0_u64;
            // Calls go on until every reload is done: each reload lands
            // while calls are running.
            while !stop.load(Ordering::Relaxed) {
                call(&calls, &user, false).await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
                made += 1;
                tokio::task::yield_now().await;
            }
            made
        }));
    }
    while done.load(Ordering::Relaxed) == 0 {
        tokio::task::yield_now().await;
    }
    for reload in 0..200 {
        live.reload(config(1_000 + reload % 7, 1_000_000 + reload))
            .unwrap();
        tokio::task::yield_now().await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut made = 0;
    for task in tasks {
        made += task.await.unwrap();
    }
    // Every call made succeeded (each unwrap above) and none was lost.
    assert_eq!(made, done.load(Ordering::Relaxed));
    assert!(made > 0);
    let registry = live.registry();
    let PolicyReport::Breaker(breaker) = &registry.reports()[0].1 else {
        panic!("api is a breaker")
    };
    assert_eq!(breaker.state, State::Closed);
}
