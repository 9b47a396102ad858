//! The cache backplane: two instances' caches, one channel on Redis.

mod support;

use std::time::{Duration, Instant};

use steadfast_cache::{Cache, FetchOptions};
use steadfast_redis::{BusConfig, SharedCache};
use support::{SHARED, Server, free_port, prefix};

type Shared = SharedCache<
    u32,
    String,
    String,
    steadfast_core::DefaultClassifier,
    steadfast_cache::MokaStore<u32, String>,
>;

fn cache() -> Cache<u32, String, String> {
    Cache::builder()
        .fresh_for(Duration::from_secs(600))
        .fail_safe(Duration::from_secs(3_600), Duration::from_secs(5))
        .build()
        .unwrap()
}

fn instance(url: &str, channel: &str) -> Shared {
    SharedCache::new(url, &BusConfig::new(channel), cache()).unwrap()
}

/// Polls `condition` (real time: the bus is Redis's) for up to two seconds.
async fn eventually(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while !condition().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn both_subscribed(a: &Shared, b: &Shared) {
    eventually("both subscribed", async || {
        a.bus_snapshot().subscribed && b.bus_snapshot().subscribed
    })
    .await;
}

async fn fill(cache: &Shared, key: u32, value: &str) {
    let value = value.to_owned();
    cache
        .cache()
        .get_or_fetch(&key, || async move { Ok(value) })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_value_on_one_instance_is_not_served_as_fresh_by_the_other() {
    let channel = prefix("bus-set");
    let (a, b) = (instance(SHARED, &channel), instance(SHARED, &channel));
    both_subscribed(&a, &b).await;
    fill(&a, 1, "old").await;
    fill(&b, 1, "old").await;

    a.insert(1, "new".to_owned()).await;
    // B's copy goes out of date: its next read fetches.
    eventually("B's copy expired", async || {
        b.cache().get(&1).await.is_none()
    })
    .await;
    let read = b
        .get_or_fetch(&1, || async { Ok("new".to_owned()) })
        .await
        .unwrap();
    assert_eq!((read.value().as_str(), read.is_fetched()), ("new", true));
    // B's fetch told A, whose copy A now fetches again; A's own messages
    // never come back to it.
    eventually("A heard B", async || a.bus_snapshot().received == 1).await;
    assert_eq!(b.bus_snapshot().received, 1);
    assert_eq!((a.bus_snapshot().sent, b.bus_snapshot().sent), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidations_of_keys_tags_and_everything_reach_the_other_instance() {
    let channel = prefix("bus-invalidate");
    let (a, b) = (instance(SHARED, &channel), instance(SHARED, &channel));
    both_subscribed(&a, &b).await;
    for key in 1..=3 {
        let tagged = FetchOptions::new().tag(format!("shelf-{}", key % 2));
        b.cache()
            .get_or_fetch_with(&key, tagged, move || async move { Ok(format!("v{key}")) })
            .await
            .unwrap();
    }
    a.invalidate(&1).await;
    eventually("key 1 gone on B", async || {
        b.cache().get(&1).await.is_none()
    })
    .await;
    assert!(b.cache().get(&2).await.is_some());

    a.invalidate_tag("shelf-0").await;
    eventually("shelf-0 gone on B", async || {
        b.cache().get(&2).await.is_none()
    })
    .await;
    assert!(b.cache().get(&3).await.is_some());

    a.invalidate_all().await;
    eventually("everything gone on B", async || {
        b.cache().get(&3).await.is_none()
    })
    .await;
    assert_eq!(b.bus_snapshot().received, 3);
    assert_eq!(b.bus_snapshot().malformed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_each_cache_serves_and_after_it_starts_afresh() {
    let port = free_port();
    let server = Server::start(port);
    let channel = prefix("bus-down");
    let (a, b) = (
        instance(&server.url(), &channel),
        instance(&server.url(), &channel),
    );
    both_subscribed(&a, &b).await;
    fill(&b, 7, "kept").await;

    server.kill();
    eventually("B lost its subscription", async || {
        !b.bus_snapshot().subscribed
    })
    .await;
    // Its own cache still serves.
    assert_eq!(b.cache().get(&7).await.unwrap().value(), "kept");
    // A's invalidation cannot be sent: counted, not waited on.
    a.invalidate(&7).await;
    eventually("A's message failed", async || {
        a.bus_snapshot().send_failed >= 1
    })
    .await;
    assert!(b.cache().get(&7).await.is_some());

    // Back: B subscribes again and, having missed messages, starts afresh.
    let _server = Server::start(port);
    eventually("B subscribed again", async || {
        b.bus_snapshot().resubscribed == 1
    })
    .await;
    assert!(b.cache().get(&7).await.is_none());
    // A's failed message waited in its recovery queue and goes out now.
    eventually("A's message recovered", async || {
        let s = a.bus_snapshot();
        s.recovered == 1 && s.recovery_queued == 0
    })
    .await;
}

#[tokio::test]
async fn a_bad_url_or_name_is_an_error() {
    assert!(SharedCache::new("not a url", &BusConfig::new("x"), cache()).is_err());
    assert!(SharedCache::new(SHARED, &BusConfig::new(""), cache()).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bus_with_an_endless_timeout_waits_for_redis_and_then_publishes() {
    // `Duration::MAX` once overflowed the clock inside the publisher task,
    // which died and never published again.
    let port = free_port();
    let mut config = BusConfig::new(prefix("bus-endless"));
    config.timeout = Duration::MAX;
    let shared = SharedCache::new(&format!("redis://127.0.0.1:{port}"), &config, cache()).unwrap();
    shared.invalidate(&1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _server = Server::start(port);
    eventually("the message went out once Redis was up", async || {
        shared.bus_snapshot().sent == 1
    })
    .await;
}
