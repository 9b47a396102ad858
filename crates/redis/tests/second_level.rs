//! The second level: values one instance fetched, read from Redis by the
//! others; tag and clear invalidations stamped in Redis and checked at read.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use redis::AsyncCommands;
use steadfast_cache::{Cache, FetchOptions, Freshness};
use steadfast_redis::{BusConfig, BusError, SecondLevelConfig, SharedCache};
use support::{SHARED, free_port, prefix};

type Shared = SharedCache<
    u32,
    String,
    String,
    steadfast_core::DefaultClassifier,
    steadfast_cache::MokaStore<u32, String>,
>;

const FRESH: Duration = Duration::from_secs(60);

fn cache() -> Cache<u32, String, String> {
    Cache::builder()
        .fresh_for(FRESH)
        .fail_safe(Duration::from_secs(3_600), Duration::from_secs(5))
        .build()
        .unwrap()
}

/// One instance: its own first level, the shared channel and prefix.
async fn instance(url: &str, name: &str) -> Shared {
    let shared = SharedCache::new(url, &BusConfig::new(name), cache())
        .unwrap()
        .with_second_level(url, &SecondLevelConfig::new(name))
        .unwrap();
    assert!(shared.ready(Duration::from_secs(5)).await, "Redis answers");
    shared
}

/// A fetch that counts its runs and returns `value`.
fn counted(
    runs: &Arc<AtomicU32>,
    value: &str,
) -> impl FnOnce() -> std::future::Ready<Result<String, String>> + Send + 'static {
    let (runs, value) = (Arc::clone(runs), value.to_owned());
    move || {
        runs.fetch_add(1, Ordering::Relaxed);
        std::future::ready(Ok(value))
    }
}

async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(SHARED)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Redis's clock, in microseconds.
async fn redis_now(conn: &mut redis::aio::MultiplexedConnection) -> u64 {
    let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(conn).await.unwrap();
    secs * 1_000_000 + micros
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_one_instance_fetched_is_read_from_redis_by_another() {
    let name = prefix("l2-hit");
    let (a, b) = (instance(SHARED, &name).await, instance(SHARED, &name).await);
    let runs = Arc::new(AtomicU32::new(0));

    let first = a.get_or_fetch(&7, counted(&runs, "Ada")).await.unwrap();
    assert!(first.is_fetched());
    let second = b.get_or_fetch(&7, counted(&runs, "never")).await.unwrap();
    assert_eq!(second.value(), "Ada");
    assert_eq!(
        runs.load(Ordering::Relaxed),
        1,
        "B read A's value, fetched nothing"
    );
    let (sa, sb) = (
        a.second_level_snapshot().unwrap(),
        b.second_level_snapshot().unwrap(),
    );
    assert_eq!((sa.misses, sa.writes, sa.hits), (1, 1, 0));
    assert_eq!((sb.hits, sb.misses, sb.writes), (1, 0, 0));
    // B's first level now holds it, fresh.
    let held = b.cache().get(&7).await.expect("in B's memory");
    assert!(matches!(held.freshness(), Freshness::Fresh { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_keeps_its_age_and_one_past_its_fresh_time_is_not_served() {
    let name = prefix("l2-age");
    let b = instance(SHARED, &name).await;
    let mut conn = raw().await;
    let now = redis_now(&mut conn).await;
    let bytes = postcard::to_stdvec(&"made 50 s ago".to_owned()).unwrap();
    let made = (now - 50_000_000).to_string();
    let _: () = conn
        .hset_multiple(
            format!("{name}:k:1"),
            &[("t", made.as_bytes()), ("v", &bytes), ("g", b"")],
        )
        .await
        .unwrap();
    let old = (now - 70_000_000).to_string();
    let _: () = conn
        .hset_multiple(
            format!("{name}:k:2"),
            &[("t", old.as_bytes()), ("v", &bytes), ("g", b"")],
        )
        .await
        .unwrap();
    let runs = Arc::new(AtomicU32::new(0));

    let read = b.get_or_fetch(&1, counted(&runs, "fetched")).await.unwrap();
    assert_eq!(read.value(), "made 50 s ago");
    let Freshness::Fresh { age } = b.cache().get(&1).await.unwrap().freshness() else {
        panic!("fresh: 10 s of its 60 left");
    };
    assert!(
        age >= Duration::from_secs(50) && age < Duration::from_secs(55),
        "{age:?}"
    );

    let read = b.get_or_fetch(&2, counted(&runs, "fetched")).await.unwrap();
    assert_eq!(read.value(), "fetched", "70 s old: past the fresh time");
    assert_eq!(runs.load(Ordering::Relaxed), 1);
    let snapshot = b.second_level_snapshot().unwrap();
    assert_eq!(
        (snapshot.hits, snapshot.expired, snapshot.writes),
        (1, 1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_invalidated_on_one_instance_is_not_served_from_redis_to_another() {
    let name = prefix("l2-tag");
    let (a, b) = (instance(SHARED, &name).await, instance(SHARED, &name).await);
    let runs = Arc::new(AtomicU32::new(0));
    let tagged = || FetchOptions::new().tag("shelf:3");
    a.get_or_fetch_with(&1, tagged(), counted(&runs, "v1"))
        .await
        .unwrap();
    a.get_or_fetch_with(&2, tagged(), counted(&runs, "v1"))
        .await
        .unwrap();

    a.invalidate_tag("shelf:3").await;
    // B never held either key and may not have heard the bus: Redis's
    // stamp alone keeps the old copies from being served. Key 1 is read
    // naming the tag (its stamp comes in the same round trip), key 2
    // without (the entry's own tags are looked up after).
    let one = b
        .get_or_fetch_with(&1, tagged(), counted(&runs, "v2"))
        .await
        .unwrap();
    let two = b.get_or_fetch(&2, counted(&runs, "v2")).await.unwrap();
    assert_eq!((one.value().as_str(), two.value().as_str()), ("v2", "v2"));
    assert_eq!(runs.load(Ordering::Relaxed), 4);
    let snapshot = b.second_level_snapshot().unwrap();
    assert_eq!(
        (snapshot.invalidated, snapshot.hits, snapshot.writes),
        (2, 0, 2)
    );

    // The values fetched after the invalidation are served: a third
    // instance reads them from Redis.
    let c = instance(SHARED, &name).await;
    let again = c
        .get_or_fetch_with(&1, tagged(), counted(&runs, "v3"))
        .await
        .unwrap();
    assert_eq!(again.value(), "v2");
    assert_eq!(c.second_level_snapshot().unwrap().hits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidating_a_key_or_everything_reaches_redis() {
    let name = prefix("l2-invalidate");
    let a = instance(SHARED, &name).await;
    let runs = Arc::new(AtomicU32::new(0));
    a.get_or_fetch(&1, counted(&runs, "one")).await.unwrap();
    a.insert(2, "two".to_owned()).await;
    a.invalidate(&1).await;

    let b = instance(SHARED, &name).await;
    b.get_or_fetch(&1, counted(&runs, "one again"))
        .await
        .unwrap();
    let two = b.get_or_fetch(&2, counted(&runs, "never")).await.unwrap();
    assert_eq!(two.value(), "two", "an insert is written to Redis too");
    assert_eq!(runs.load(Ordering::Relaxed), 2);
    assert_eq!(b.second_level_snapshot().unwrap().misses, 1);

    a.invalidate_all().await;
    let c = instance(SHARED, &name).await;
    c.get_or_fetch(&2, counted(&runs, "two again"))
        .await
        .unwrap();
    assert_eq!(runs.load(Ordering::Relaxed), 3);
    assert_eq!(c.second_level_snapshot().unwrap().invalidated, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_that_does_not_read_back_is_fetched_and_overwritten() {
    let name = prefix("l2-codec");
    let b = instance(SHARED, &name).await;
    let mut conn = raw().await;
    let now = redis_now(&mut conn).await.to_string();
    // Bytes no String encodes to: a length far past the end.
    let garbage: &[u8] = &[0xff, 0xff, 0xff, 0x0f, b'x'];
    let _: () = conn
        .hset_multiple(
            format!("{name}:k:5"),
            &[("t", now.as_bytes()), ("v", garbage), ("g", b"")],
        )
        .await
        .unwrap();
    let runs = Arc::new(AtomicU32::new(0));
    let read = b.get_or_fetch(&5, counted(&runs, "fetched")).await.unwrap();
    assert_eq!(
        (read.value().as_str(), runs.load(Ordering::Relaxed)),
        ("fetched", 1)
    );
    let snapshot = b.second_level_snapshot().unwrap();
    assert_eq!((snapshot.codec_failed, snapshot.writes), (1, 1));
    let c = instance(SHARED, &name).await;
    let again = c.get_or_fetch(&5, counted(&runs, "never")).await.unwrap();
    assert_eq!(again.value(), "fetched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_unreachable_the_cache_fetches_and_serves_from_memory() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let shared = SharedCache::new(&url, &BusConfig::new("nobody"), cache())
        .unwrap()
        .with_second_level(&url, &SecondLevelConfig::new("nobody"))
        .unwrap();
    let runs = Arc::new(AtomicU32::new(0));
    let started = std::time::Instant::now();
    for _ in 0..20 {
        let read = shared
            .get_or_fetch(&1, counted(&runs, "local"))
            .await
            .unwrap();
        assert_eq!(read.value(), "local");
    }
    shared.invalidate_tag("t").await;
    shared.invalidate(&1).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        runs.load(Ordering::Relaxed),
        1,
        "the first level serves the rest"
    );
    let snapshot = shared.second_level_snapshot().unwrap();
    assert!(snapshot.errors >= 1 && snapshot.hits == 0 && snapshot.writes == 0);
}

#[tokio::test]
async fn bad_second_level_configs_name_their_field() {
    let field = |config: SecondLevelConfig| {
        let shared = SharedCache::new(SHARED, &BusConfig::new("config"), cache()).unwrap();
        match shared.with_second_level(SHARED, &config) {
            Err(BusError::Config(err)) => err.field(),
            other => panic!("not a config error: {other:?}"),
        }
    };
    assert_eq!(field(SecondLevelConfig::new("")), "prefix");
    let mut zero = SecondLevelConfig::new("p");
    zero.timeout = Duration::ZERO;
    assert_eq!(field(zero), "timeout");
    let mut short = SecondLevelConfig::new("p");
    short.stamp_ttl = FRESH;
    assert_eq!(field(short), "stamp_ttl");
    let shared = SharedCache::new(SHARED, &BusConfig::new("config"), cache()).unwrap();
    assert!(matches!(
        shared.with_second_level("not a url", &SecondLevelConfig::new("p")),
        Err(BusError::Url(_))
    ));
}
