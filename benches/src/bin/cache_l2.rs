//! The cache with a Redis second level and backplane, beside amalgam-cache
//! (a port of .NET FusionCache) on the same Redis.
//!
//! `cargo run --release -p steadfast-benches --bin cache_l2 -- [ITERATIONS]`
//!
//! Needs Redis at 127.0.0.1:6379. Each case runs ITERATIONS times (default
//! 200) and reports its p50 and p99:
//!
//! - `l1_hit`: a read of a fresh entry in the instance's memory, on a cache
//!   that has its L2 and backplane configured (one sample is the mean of
//!   1,000 reads cycling over 1,000 keys, so the figure is per read, in ns);
//! - `l2_hit`: a read that misses memory and finds the value in Redis;
//! - `miss`: a read that misses both and runs a trivial factory;
//! - `propagation`: instance B holds key k in memory, instance A invalidates
//!   it; the time from A's call until B's memory no longer serves it, polled
//!   after every `yield_now`, each wait bounded at 1 s (timeouts counted);
//! - `propagation_bus_only`: the same with A's invalidation told over the
//!   backplane alone, no L2 write.
//!
//! Every case is bounded at 10 s, so a Redis that stops answering ends the
//! run rather than hanging it; with the default iterations it takes a few
//! seconds.

// Counts and nanoseconds stay far below 2^52.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use amalgam::EntryOptions;
use amalgam::provider::{
    Backplane, DistributedCache, DistributedSerializer, PostcardSerializer, RedisBackplane,
    RedisDistributedCache,
};
use steadfast::redis::SecondLevelConfig;
use steadfast_benches::backplane::{Latencies, Shared, measure, shared_pair, until_gone};

const URL: &str = "redis://127.0.0.1:6379";
/// The longest one case may take.
const CASE_BOUND: Duration = Duration::from_secs(10);
/// Keys of the L1 hit case, and reads per L1 hit sample.
const L1_KEYS: u64 = 1_000;
const L1_BATCH: u64 = 1_000;
/// How long an entry stays fresh: every case reads well within it.
const FRESH: Duration = Duration::from_secs(600);

/// One library's figures; `None` where a case is not measured (yet).
#[derive(Debug, Default)]
struct Figures {
    l1_hit: Option<Latencies>,
    l2_hit: Option<Latencies>,
    miss: Option<Latencies>,
    propagation: Option<Latencies>,
    propagation_bus_only: Option<Latencies>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let iterations: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is past 1970")
        .as_nanos();
    let prefix = format!("steadfast-bench:cache_l2:{stamp}");
    println!(
        "cargo run --release -p steadfast-benches --bin cache_l2 -- {iterations}  (Redis at {URL}, namespace {prefix})"
    );
    let started = Instant::now();
    let ours = steadfast(iterations, &prefix).await;
    let theirs = amalgam(iterations, &prefix).await;
    print_table(&ours, &theirs);
    println!("({:.1} s in all)", started.elapsed().as_secs_f64());
}

/// `case`, or `None` (reported as not measured) when it takes over [`CASE_BOUND`].
async fn bounded(name: &str, case: impl Future<Output = Latencies>) -> Option<Latencies> {
    let figure = tokio::time::timeout(CASE_BOUND, case).await.ok();
    if figure.is_none() {
        eprintln!("{name}: over {CASE_BOUND:?}, left out");
    }
    figure
}

/// `iterations` samples of the mean time of [`L1_BATCH`] calls of `read(i)`,
/// `i` cycling over `0..L1_KEYS`.
async fn l1_samples<F, Fut>(iterations: u64, mut read: F) -> Latencies
where
    F: FnMut(u64) -> Fut,
    Fut: Future,
{
    let mut took = Vec::new();
    let mut i = 0;
    for _ in 0..iterations {
        let start = Instant::now();
        for _ in 0..L1_BATCH {
            black_box(read(i).await);
            i = (i + 1) % L1_KEYS;
        }
        took.push(start.elapsed() / L1_BATCH as u32);
    }
    Latencies::new(took, 0)
}

/// Times `op(i)` once for each `i` in `0..iterations`.
async fn each<F, Fut>(iterations: u64, mut op: F) -> Latencies
where
    F: FnMut(u64) -> Fut,
    Fut: Future,
{
    let mut took = Vec::new();
    for i in 0..iterations {
        let start = Instant::now();
        black_box(op(i).await);
        took.push(start.elapsed());
    }
    Latencies::new(took, 0)
}

/// Two instances of steadfast's cache joined to the bus and the second
/// level under `name`, once both are ready (at most 5 s).
async fn steadfast_l2_pair(name: &str) -> (Shared, Shared) {
    let (a, b) = shared_pair(URL, name).await;
    let level = SecondLevelConfig::new(name);
    let a = a.with_second_level(URL, &level).expect("a second level");
    let b = b.with_second_level(URL, &level).expect("a second level");
    for shared in [&a, &b] {
        assert!(shared.ready(Duration::from_secs(5)).await, "Redis at {URL}");
    }
    (a, b)
}

/// steadfast: its cache joined to the backplane and the second level
/// (`SharedCache::with_second_level`).
async fn steadfast(iterations: u64, prefix: &str) -> Figures {
    let (a, b) = steadfast_l2_pair(&format!("{prefix}:steadfast-l2")).await;
    for key in 0..L1_KEYS {
        b.cache().insert(key, key).await;
    }
    let l1_hit = bounded(
        "steadfast l1_hit",
        l1_samples(iterations, |key| {
            let b = &b;
            async move { b.cache().get(&key).await.expect("a hit") }
        }),
    )
    .await;

    // L2 hit: A fetches every key (its memory, then Redis, then the bus);
    // B, whose memory never held them, reads each once: a miss in memory,
    // then the second level's one pipelined round trip (Redis's time, the
    // entry, the clear stamp), then B's memory filled.
    let cold = |i: u64| 1_000_000 + i;
    for i in 0..iterations {
        a.get_or_fetch(&cold(i), move || async move { Ok(cold(i)) })
            .await
            .expect("a fetch");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let l2_hit = bounded(
        "steadfast l2_hit",
        each(iterations, |i| {
            let b = &b;
            async move {
                let read = b
                    .get_or_fetch(&cold(i), || async { Ok(u64::MAX) })
                    .await
                    .expect("a read");
                assert_eq!(*read, cold(i), "{} is an L2 hit", cold(i));
            }
        }),
    )
    .await;
    assert_eq!(b.second_level_snapshot().map(|s| s.hits), Some(iterations));

    // Miss: a key in neither level; the second level's read (a round
    // trip), the fetch, the write to Redis (a second round trip, awaited),
    // then the bus told (queued).
    let absent = |i: u64| 2_000_000 + i;
    let miss = bounded(
        "steadfast miss",
        each(iterations, |i| {
            let b = &b;
            async move {
                let read = b
                    .get_or_fetch(&absent(i), move || async move { Ok(absent(i)) })
                    .await
                    .expect("a fetch");
                assert_eq!(*read, absent(i));
            }
        }),
    )
    .await;

    // Propagation: `invalidate` on A deletes the key from Redis, then tells
    // the bus; B's memory is polled.
    let propagation = bounded(
        "steadfast propagation",
        measure(iterations, |i| {
            let (a, b, key) = (&a, &b, 3_000_000 + i);
            async move {
                b.cache().insert(key, key).await;
                let start = Instant::now();
                a.invalidate(&key).await;
                until_gone(|| async { b.cache().get(&key).await.is_none() })
                    .await
                    .map(|_| start.elapsed())
            }
        }),
    )
    .await;
    // The same without a second level: the bus alone.
    let propagation_bus_only = bounded(
        "steadfast propagation_bus_only",
        steadfast_benches::backplane::steadfast_propagation(
            URL,
            &format!("{prefix}:steadfast"),
            iterations,
        ),
    )
    .await;
    Figures {
        l1_hit,
        l2_hit,
        miss,
        propagation,
        propagation_bus_only,
    }
}

/// One amalgam instance with its Redis L2 (postcard values) and Redis
/// backplane, on the run's own channel and L2 namespace.
async fn amalgam_instance(prefix: &str, id: &str) -> amalgam::Cache<u64> {
    let l2 = RedisDistributedCache::connect(URL)
        .await
        .expect("amalgam's L2 connects");
    let backplane = RedisBackplane::connect_with_channel(URL, format!("{prefix}:amalgam"))
        .await
        .expect("amalgam's backplane connects");
    let build = amalgam::Cache::<u64>::builder()
        .instance_id(id)
        // Its default is 30 s fresh and no bound on L1.
        .default_options(EntryOptions::new(FRESH))
        .max_capacity(100_000)
        // The run's namespace goes in the L2 wire version (an L2-only key
        // prefix, "v2:" by default), not `key_prefix`, which prefixes every
        // L1 key as well and so would change the L1 hit measured.
        .distributed_wire_version(format!("v2-{}", prefix.replace(':', "-")))
        .distributed(Arc::new(l2) as Arc<dyn DistributedCache>)
        .serializer(Arc::new(PostcardSerializer) as Arc<dyn DistributedSerializer<u64>>)
        .backplane(Arc::new(backplane) as Arc<dyn Backplane>)
        // Also waits for the backplane's subscription.
        .try_build_ready();
    tokio::time::timeout(Duration::from_secs(5), build)
        .await
        .expect("amalgam builds within 5 s")
        .expect("a valid amalgam config")
}

/// amalgam-cache with its Redis L2 and backplane: instances A and B on one
/// Redis, one channel, one L2 namespace.
async fn amalgam(iterations: u64, prefix: &str) -> Figures {
    let a = amalgam_instance(prefix, "a").await;
    let b = amalgam_instance(prefix, "b").await;
    let key = |case: &str, i: u64| format!("{case}:{i}");

    // Set through A as usual (its L1, L2, then the backplane); B reads them
    // warm after one read each has hydrated its L1. Keys are formatted once:
    // a timed read borrows one.
    let hot: Vec<String> = (0..L1_KEYS).map(|i| key("hot", i)).collect();
    for (i, name) in (0..L1_KEYS).zip(&hot) {
        a.set(name, i).await.expect("a set");
    }
    for name in &hot {
        assert!(b.try_get(name).await.expect("a read").is_some());
    }
    // `try_get`: the read that never runs a factory, as our `get`.
    let l1_hit = bounded(
        "amalgam l1_hit",
        l1_samples(iterations, |i| {
            let (b, name) = (&b, &hot[i as usize]);
            async move { b.try_get(name).await.expect("a read").expect("a hit") }
        }),
    )
    .await;

    // L2 hit: A writes every key to L1 and L2; B, whose L1 has never held
    // them, reads each once: an L1 miss, then the L2 read (one pipelined
    // round trip: the value and the clear markers), then B's L1 filled.
    // (amalgam can also skip L1 per read, `with_skip_memory(true, false)`,
    // as its own "through L2" figures do; a cold second instance is the
    // miss a real reader pays.)
    let cold: Vec<String> = (0..iterations).map(|i| key("l2", i)).collect();
    for (i, name) in (0..iterations).zip(&cold) {
        a.set(name, i).await.expect("a set");
    }
    // Let B hear A's set notices before timing (it holds none of the keys).
    tokio::time::sleep(Duration::from_millis(50)).await;
    let l2_hit = bounded(
        "amalgam l2_hit",
        each(iterations, |i| {
            let (b, name) = (&b, &cold[i as usize]);
            async move {
                let value = b.try_get(name).await.expect("a read");
                assert_eq!(value, Some(i), "{name} is an L2 hit");
            }
        }),
    )
    .await;

    // Miss: a key in neither level; `get_or_set` reads L1, then L2 (a round
    // trip), runs the factory, writes L1 and L2 (a second round trip, in the
    // foreground by default) and tells the backplane (in the background).
    let absent: Vec<String> = (0..iterations).map(|i| key("miss", i)).collect();
    let miss = bounded(
        "amalgam miss",
        each(iterations, |i| {
            let (b, name) = (&b, &absent[i as usize]);
            async move {
                let value = b
                    .get_or_set(name, move |_| async move { Ok::<_, Infallible>(i) })
                    .await
                    .expect("a factory run");
                assert_eq!(value, i);
            }
        }),
    )
    .await;

    let propagation = bounded(
        "amalgam propagation",
        amalgam_propagation(&a, &b, "prop", iterations, false),
    )
    .await;
    let propagation_bus_only = bounded(
        "amalgam propagation_bus_only",
        amalgam_propagation(&a, &b, "prop-bus", iterations, true),
    )
    .await;

    for cache in [a, b] {
        let _ = tokio::time::timeout(Duration::from_secs(5), cache.shutdown()).await;
    }
    Figures {
        l1_hit,
        l2_hit,
        miss,
        propagation,
        propagation_bus_only,
    }
}

/// B sets key k in its L1 alone (as our B's `cache().insert`: no L2 write,
/// no notice); A removes k (by default its L1, then L2, then the backplane;
/// with `bus_only` L2 is skipped); the time from A's call until B's L1 read
/// (L2 skipped, so each poll stays in memory) answers a miss.
async fn amalgam_propagation(
    a: &amalgam::Cache<u64>,
    b: &amalgam::Cache<u64>,
    case: &str,
    iterations: u64,
    bus_only: bool,
) -> Latencies {
    let keys: Vec<String> = (0..iterations).map(|i| format!("{case}:{i}")).collect();
    measure(iterations, |i| {
        let name = &keys[i as usize];
        async move {
            b.set(name, i)
                .options(|o| {
                    o.with_skip_distributed(true, true)
                        .with_skip_backplane_notifications(true)
                })
                .await
                .expect("a local set");
            let start = Instant::now();
            let remove = a.remove(name);
            if bus_only {
                remove
                    .options(|o| o.with_skip_distributed(true, true))
                    .await
            } else {
                remove.await
            }
            .expect("a remove");
            until_gone(|| async {
                b.try_get(name)
                    .options(|o| o.with_skip_distributed(true, true))
                    .await
                    .expect("an L1 read")
                    .is_none()
            })
            .await
            .map(|_| start.elapsed())
        }
    })
    .await
}

/// One cell: p50 / p99 in `unit`, with the timeouts if any.
fn cell(figure: Option<&Latencies>, ns: bool) -> String {
    let Some(f) = figure else {
        return "—".to_owned();
    };
    let show = |d: Option<Duration>| match d {
        None => "—".to_owned(),
        Some(d) if ns => format!("{}", d.as_nanos()),
        Some(d) => format!("{:.1}", d.as_secs_f64() * 1e6),
    };
    let mut text = format!("{} / {}", show(f.quantile(0.5)), show(f.quantile(0.99)));
    if f.timeouts > 0 {
        let _ = write!(text, " ({} timed out)", f.timeouts);
    }
    text
}

fn ratio(ours: Option<&Latencies>, theirs: Option<&Latencies>) -> String {
    let (Some(ours), Some(theirs)) = (ours, theirs) else {
        return "—".to_owned();
    };
    let r = |p| match (ours.quantile(p), theirs.quantile(p)) {
        (Some(o), Some(t)) if !t.is_zero() => format!("{:.2}", o.as_secs_f64() / t.as_secs_f64()),
        _ => "—".to_owned(),
    };
    format!("{} / {}", r(0.5), r(0.99))
}

/// One row's figure out of a library's.
type Pick = fn(&Figures) -> Option<&Latencies>;

fn print_table(ours: &Figures, theirs: &Figures) {
    println!();
    println!(
        "case | steadfast p50 / p99 | amalgam-cache p50 / p99 | ratio p50 / p99 (steadfast/amalgam)"
    );
    println!("---|---|---|---");
    let rows: [(&str, bool, Pick); 5] = [
        ("l1_hit (ns)", true, |f| f.l1_hit.as_ref()),
        ("l2_hit (µs)", false, |f| f.l2_hit.as_ref()),
        ("miss (µs)", false, |f| f.miss.as_ref()),
        ("propagation (µs)", false, |f| f.propagation.as_ref()),
        ("propagation_bus_only (µs)", false, |f| {
            f.propagation_bus_only.as_ref()
        }),
    ];
    for (name, ns, pick) in rows {
        println!(
            "{name} | {} | {} | {}",
            cell(pick(ours), ns),
            cell(pick(theirs), ns),
            ratio(pick(ours), pick(theirs))
        );
    }
}
