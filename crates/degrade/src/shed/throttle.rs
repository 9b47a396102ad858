//! Client-side adaptive throttling, as in Google's SRE book ("Handling
//! Overload"): a client that sees its dependency refuse work starts refusing
//! some of it locally, before it costs the dependency anything.
//!
//! Over a sliding window the client counts `requests` (every call it tried,
//! throttled ones included) and `accepts` (calls the dependency accepted:
//! not classified as failures). A new call is refused locally with
//! probability
//!
//! ```text
//! max(0, (requests − K × accepts) / (requests + 1))
//! ```
//!
//! With `K = 2` the client lets through up to twice what the dependency
//! accepts: while it accepts at least half, nothing is throttled; as it
//! accepts less, more is refused here, and as it recovers, the accepts climb
//! and throttling fades. A lower `K` throttles sooner.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use steadfast_core::time::{self, Instant};
use steadfast_core::{
    Classifier, ConfigError, Context, DefaultClassifier, Error, Inspect, Name, Next, Outcome,
    Policy, Shed, classify,
};

use crate::episode::Episode;
use crate::rng::Rng;

/// The window is kept as this many buckets, each a tenth of it.
const BUCKETS: u32 = 10;

/// An [`AdaptiveThrottle`]'s configuration.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct AdaptiveThrottleConfig {
    /// The name shown in errors, events and snapshots. Default `"throttle"`.
    pub name: Name,
    /// The multiplier `K`: how many calls per accepted one are let through;
    /// at least 1. Default 2.
    pub k: f64,
    /// The sliding window requests and accepts are counted over, kept in ten
    /// buckets. Default 1 min.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub window: Duration,
    /// The seed of the random draws (reproducible runs). Default fixed.
    pub seed: u64,
}

impl Default for AdaptiveThrottleConfig {
    fn default() -> Self {
        AdaptiveThrottleConfig {
            name: Name::new_static("throttle"),
            k: 2.0,
            window: Duration::from_secs(60),
            seed: 0x5EED_0F57_EADF_A5ED,
        }
    }
}

impl AdaptiveThrottleConfig {
    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.k >= 1.0 && self.k.is_finite()) {
            return Err(
                ConfigError::new("throttle", "k", "must be a finite number of at least 1")
                    .with_value(self.k),
            );
        }
        if self.window < Duration::from_millis(10) {
            return Err(
                ConfigError::new("throttle", "window", "must be at least 10ms")
                    .with_value(self.window),
            );
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    epoch: u64,
    requests: u64,
    accepts: u64,
}

#[derive(Debug)]
struct Window {
    origin: Instant,
    width: Duration,
    buckets: [Bucket; BUCKETS as usize],
}

impl Window {
    fn epoch(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(elapsed / self.width.as_nanos()).unwrap_or(u64::MAX)
    }

    /// The current bucket, emptied if it held an older epoch.
    fn current(&mut self, now: Instant) -> &mut Bucket {
        let epoch = self.epoch(now);
        let slot = usize::try_from(epoch % u64::from(BUCKETS)).expect("below 10");
        let bucket = &mut self.buckets[slot];
        if bucket.epoch != epoch {
            *bucket = Bucket {
                epoch,
                ..Bucket::default()
            };
        }
        bucket
    }

    /// Requests and accepts over the window ending now.
    fn totals(&self, now: Instant) -> (u64, u64) {
        let epoch = self.epoch(now);
        self.buckets
            .iter()
            .filter(|b| b.epoch <= epoch && epoch - b.epoch < u64::from(BUCKETS))
            .fold((0, 0), |(r, a), b| (r + b.requests, a + b.accepts))
    }
}

/// Throttles calls locally as the dependency refuses them; see the
/// [module docs](self).
///
/// ```
/// use steadfast_core::Policy;
/// use steadfast_degrade::AdaptiveThrottle;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let throttle = AdaptiveThrottle::new()?;
/// let n = throttle.call(|| async { Ok::<_, std::io::Error>(1) }).await?;
/// assert_eq!(n, 1);
/// # Ok(())
/// # }
/// ```
pub struct AdaptiveThrottle<C = DefaultClassifier> {
    shared: Arc<Shared<C>>,
}

struct Shared<C> {
    config: AdaptiveThrottleConfig,
    classifier: C,
    window: Mutex<Window>,
    rng: Rng,
    throttled: AtomicU64,
    episode: Episode,
}

impl<C> Clone for AdaptiveThrottle<C> {
    fn clone(&self) -> Self {
        AdaptiveThrottle {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C> fmt::Debug for AdaptiveThrottle<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaptiveThrottle")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// An [`AdaptiveThrottle`]'s window and counters.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct AdaptiveThrottleSnapshot {
    /// The throttle's name.
    pub name: Name,
    /// Calls tried over the window, throttled ones included.
    pub requests: u64,
    /// Calls the dependency accepted over the window.
    pub accepts: u64,
    /// The probability the next call is refused locally.
    pub reject_probability: f64,
    /// Calls refused locally, ever.
    pub throttled: u64,
}

impl AdaptiveThrottle {
    /// A throttle with the default config (`K = 2`, a one-minute window).
    pub fn new() -> Result<Self, ConfigError> {
        AdaptiveThrottle::from_config(AdaptiveThrottleConfig::default())
    }

    /// A throttle from a (deserialized) config, validated.
    pub fn from_config(config: AdaptiveThrottleConfig) -> Result<Self, ConfigError> {
        AdaptiveThrottle::with_classifier(config, DefaultClassifier)
    }
}

impl<C> AdaptiveThrottle<C> {
    /// A throttle whose classifier decides what the dependency accepted
    /// (anything but a failure).
    pub fn with_classifier(
        config: AdaptiveThrottleConfig,
        classifier: C,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let now = time::now();
        Ok(AdaptiveThrottle {
            shared: Arc::new(Shared {
                window: Mutex::new(Window {
                    origin: now,
                    width: config.window / BUCKETS,
                    buckets: [Bucket::default(); BUCKETS as usize],
                }),
                rng: Rng::new(config.seed),
                config,
                classifier,
                throttled: AtomicU64::new(0),
                episode: Episode::default(),
            }),
        })
    }

    /// The effective configuration.
    pub fn config(&self) -> &AdaptiveThrottleConfig {
        &self.shared.config
    }

    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    fn probability(&self, requests: u64, accepts: u64) -> f64 {
        let k = self.shared.config.k;
        ((requests as f64 - k * accepts as f64) / (requests as f64 + 1.0)).max(0.0)
    }

    /// Counts the request and decides whether to let it through.
    fn admit(&self) -> Result<(), Shed> {
        let shared = &*self.shared;
        let now = time::now();
        let probability = {
            let mut window = shared.window.lock();
            let (requests, accepts) = window.totals(now);
            window.current(now).requests += 1;
            self.probability(requests, accepts)
        };
        if probability > 0.0 && shared.rng.next_f64() < probability {
            shared.throttled.fetch_add(1, Ordering::Relaxed);
            if shared.episode.start() {
                tracing::warn!(policy = %shared.config.name, probability, "client-side throttling started");
            }
            return Err(Shed::new(shared.config.name.clone(), None));
        }
        if probability == 0.0 && shared.episode.end() {
            tracing::info!(policy = %shared.config.name, "client-side throttling ended");
        }
        Ok(())
    }

    fn accepted(&self) {
        let now = time::now();
        self.shared.window.lock().current(now).accepts += 1;
    }
}

impl<C> Inspect for AdaptiveThrottle<C> {
    type Snapshot = AdaptiveThrottleSnapshot;

    fn name(&self) -> &str {
        self.shared.config.name.as_str()
    }

    fn snapshot(&self) -> AdaptiveThrottleSnapshot {
        let (requests, accepts) = self.shared.window.lock().totals(time::now());
        AdaptiveThrottleSnapshot {
            name: self.shared.config.name.clone(),
            requests,
            accepts,
            reject_probability: self.probability(requests, accepts),
            throttled: self.shared.throttled.load(Ordering::Relaxed),
        }
    }
}

impl<C, T, E> Policy<T, E> for AdaptiveThrottle<C>
where
    C: Classifier<T, E>,
    T: Send,
    E: Send,
{
    // Runs the rest of the call at most once.
    const REPEATS: bool = false;

    async fn execute<'a, N>(&'a self, ctx: Context<'a>, next: N) -> Result<T, Error<E>>
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        self.admit()?;
        let (outcome, result) = classify(&self.shared.classifier, next.invoke(ctx).await);
        if outcome != Outcome::Failure {
            self.accepted();
        }
        result
    }
}
