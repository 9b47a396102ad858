//! Cache backplane latency, shared by the `redis_check` and `cache_l2` bins:
//! from an invalidation on one instance to the key gone from another's
//! cache, polled in a tight loop and bounded, and the percentiles of many.

// Counts stay far below 2^52.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::future::Future;
use std::time::{Duration, Instant};

use steadfast::cache::{Cache, MokaStore};
use steadfast::redis::{BusConfig, SharedCache};

/// The longest one propagation is waited for before it counts as a timeout.
pub const BOUND: Duration = Duration::from_secs(1);
/// A case gives up after this many timeouts: the backplane is not delivering.
pub const GIVE_UP_AFTER: usize = 5;

/// The times of the runs that finished, and how many did not.
#[derive(Clone, Debug, Default)]
pub struct Latencies {
    sorted: Vec<Duration>,
    /// Runs that hit their bound (left out of the percentiles).
    pub timeouts: usize,
}

impl Latencies {
    /// The times `took`, and `timeouts` runs that did not finish.
    pub fn new(mut took: Vec<Duration>, timeouts: usize) -> Self {
        took.sort_unstable();
        Latencies {
            sorted: took,
            timeouts,
        }
    }

    /// The `p` quantile (0.5 for the median) of the runs that finished, or
    /// `None` when none did.
    pub fn quantile(&self, p: f64) -> Option<Duration> {
        let last = self.sorted.len().checked_sub(1)?;
        Some(self.sorted[(last as f64 * p) as usize])
    }

    /// Runs that finished.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether no run finished.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }
}

/// The time from now until `gone()` first answers `true`, asking again after
/// a `yield_now` each time; `None` once [`BOUND`] has passed.
pub async fn until_gone<F, Fut>(mut gone: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if gone().await {
            return Some(start.elapsed());
        }
        if start.elapsed() >= BOUND {
            return None;
        }
        tokio::task::yield_now().await;
    }
}

/// Runs `run(i)` for `i` in `0..iterations`, each answering the time one
/// propagation took or `None` on a timeout; stops early after
/// [`GIVE_UP_AFTER`] timeouts.
pub async fn measure<F, Fut>(iterations: u64, mut run: F) -> Latencies
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Option<Duration>>,
{
    let mut took = Vec::new();
    let mut timeouts = 0;
    for i in 0..iterations {
        match run(i).await {
            Some(t) => took.push(t),
            None => timeouts += 1,
        }
        if timeouts >= GIVE_UP_AFTER {
            break;
        }
    }
    Latencies::new(took, timeouts)
}

/// steadfast's cache joined to a bus, as both bins use it.
pub type Shared = SharedCache<u64, u64, String, steadfast::DefaultClassifier, MokaStore<u64, u64>>;

/// Two instances of steadfast's cache joined to the bus `name` at `url`,
/// once both are subscribed (at most 5 s).
///
/// # Panics
///
/// When the bus cannot be made or does not subscribe within 5 s.
pub async fn shared_pair(url: &str, name: &str) -> (Shared, Shared) {
    let cache = || {
        Cache::<u64, u64, String>::builder()
            .fresh_for(Duration::from_secs(600))
            .build()
            .expect("a valid cache")
    };
    let config = BusConfig::new(name);
    let a = SharedCache::new(url, &config, cache()).expect("a bus");
    let b = SharedCache::new(url, &config, cache()).expect("a bus");
    let subscribed = tokio::time::timeout(Duration::from_secs(5), async {
        while !(a.bus_snapshot().subscribed && b.bus_snapshot().subscribed) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(subscribed.is_ok(), "the bus subscribes at {url}");
    (a, b)
}

/// steadfast's backplane: B holds key `i`, A invalidates it; the time from
/// A's call until B's cache no longer has it, over `iterations` keys.
pub async fn steadfast_propagation(url: &str, name: &str, iterations: u64) -> Latencies {
    let (a, b) = shared_pair(url, name).await;
    measure(iterations, |key| {
        let (a, b) = (&a, &b);
        async move {
            b.cache().insert(key, key).await;
            let start = Instant::now();
            a.invalidate(&key).await;
            until_gone(|| async { b.cache().get(&key).await.is_none() })
                .await
                .map(|_| start.elapsed())
        }
    })
    .await
}
