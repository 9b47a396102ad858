//! A time limit on each call.
//!
//! [`Timeout`] cancels a call that runs past its limit and rejects it with
//! [`Error::Timeout`], carrying the limit.
//!
//! # Why it is cheap
//!
//! Most calls finish before any timer matters, and many are ready the first
//! time they are polled (a cache hit, a fast path). So the timeout polls the
//! operation first and reads the clock and registers a timer only when the
//! operation first returns `Pending`; the limit counts from that first poll.
//! Around a ready operation it costs a branch, where `tokio::time::timeout`
//! reads the clock and builds a timer entry for every call.
//!
//! The exception: when something inside reads the deadline (a retry that must
//! not sleep past it, an operation built with
//! [`with_attempt`](crate::with_attempt)), the deadline is computed when the
//! call starts, with one clock read, and passed down in the
//! [`Context`]. That is decided at compile time.
//!
//! # Total or per attempt
//!
//! Outside a retry, a timeout bounds the whole call, backoff included; inside
//! it, each attempt. See [`compose`](crate::compose) for the usual order.

mod config;
mod future;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use config::{TimeoutBuilder, TimeoutConfig};
pub use future::TimeoutFuture;

use crate::{ConfigError, Context, Error, Inspect, Name, Next, Policy, TimedOut, time};

/// Cancels calls that take longer than a limit; see the [module docs](self).
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::{Error, Policy, Timeout};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let timeout = Timeout::builder()
///     .limit(Duration::from_millis(200))
///     .name("ai-timeout")
///     .build()?;
/// let slow = timeout
///     .call(|| async {
///         tokio::time::sleep(Duration::from_secs(5)).await;
///         Ok::<_, std::io::Error>("answer")
///     })
///     .await;
/// match slow {
///     Err(Error::Timeout(t)) => assert_eq!(t.limit(), Duration::from_millis(200)),
///     other => panic!("expected a timeout, got {other:?}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Timeout {
    limit: Duration,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    name: Name,
    config: TimeoutConfig,
    timeouts: AtomicU64,
    // The cached reading, for the deadline passed down to policies that
    // read it: tokio's `Instant::now()` costs 20-30 ns here, a third of a
    // five-policy pipeline. Made on first use, so a timeout nothing inside
    // reads starts no clock thread.
    clock: std::sync::OnceLock<time::Clock>,
}

/// A [`Timeout`]'s name, limit and how many calls it has cancelled.
///
/// With the `serde` feature it serializes (for `/health` or metrics) as an
/// object with stable field names: `name` (a string), `limit` (a duration
/// as configs write it, `"250ms"`), `timeouts` (a number). A field may be
/// added; none is renamed or removed within a 0.x minor version.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use std::time::Duration;
/// use steadfast_core::{Inspect, Timeout};
///
/// let timeout = Timeout::new(Duration::from_millis(250)).unwrap();
/// let json = serde_json::to_string(&timeout.snapshot()).unwrap();
/// assert_eq!(json, r#"{"name":"timeout","limit":"250ms","timeouts":0}"#);
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct TimeoutSnapshot {
    /// The timeout's name.
    pub name: Name,
    /// The limit.
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::duration_serde::serialize")
    )]
    pub limit: Duration,
    /// Calls cancelled so far, by every clone.
    pub timeouts: u64,
}

impl Timeout {
    /// A timeout named `"timeout"` with the given limit.
    ///
    /// Fails with a [`ConfigError`] when `limit` is zero.
    pub fn new(limit: Duration) -> Result<Self, ConfigError> {
        Timeout::builder().limit(limit).build()
    }

    /// A builder, to set a name as well.
    pub fn builder() -> TimeoutBuilder {
        TimeoutBuilder::default()
    }

    /// A timeout from a (deserialized) config, validated.
    pub fn from_config(config: TimeoutConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Timeout {
            limit: config.limit,
            shared: Arc::new(Shared {
                name: config.name.clone(),
                timeouts: AtomicU64::new(0),
                config,
                clock: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The limit.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// The effective configuration.
    pub fn config(&self) -> &TimeoutConfig {
        &self.shared.config
    }

    /// `limit` from now on the cached clock.
    #[inline]
    fn estimated_deadline(&self) -> time::Instant {
        let clock = match self.shared.clock.get() {
            Some(clock) => clock,
            None => self.shared.first_clock(),
        };
        // One addition in nanoseconds: saturating at about 584 years from
        // the clock's start, which an instant holds without overflow.
        clock.instant_at(clock.now_cached().saturating_add(time::nanos(self.limit)))
    }

    fn on_timeout(&self) -> TimedOut {
        self.shared.timeouts.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(policy = %self.shared.name, limit = ?self.limit, "call timed out");
        TimedOut::new(self.shared.name.clone(), self.limit)
    }
}

impl Shared {
    /// Makes the clock, once: out of line, so the reading stays small.
    #[cold]
    #[inline(never)]
    fn first_clock(&self) -> &time::Clock {
        self.clock
            .get_or_init(|| time::Clock::new(time::TimeSource::Auto))
    }
}

impl Inspect for Timeout {
    type Snapshot = TimeoutSnapshot;

    fn name(&self) -> &str {
        self.shared.name.as_str()
    }

    fn snapshot(&self) -> TimeoutSnapshot {
        TimeoutSnapshot {
            name: self.shared.name.clone(),
            limit: self.limit,
            timeouts: self.shared.timeouts.load(Ordering::Relaxed),
        }
    }
}

impl<T: Send, E: Send> Policy<T, E> for Timeout {
    // Runs the rest of the call at most once.
    const REPEATS: bool = false;

    #[inline]
    fn execute<'a, N>(
        &'a self,
        ctx: Context<'a>,
        next: N,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        if N::READS_DEADLINE {
            // The deadline inner policies plan by comes from the cached
            // clock (up to about a millisecond behind, never ahead), so it
            // errs early: a retry may skip a backoff that would have fit,
            // never sleep past the limit. The timer, armed only if the call
            // waits, reads the precise clock.
            let deadline = self.estimated_deadline();
            TimeoutFuture::new(next.invoke(ctx.with_deadline(deadline)), self)
        } else {
            TimeoutFuture::new(next.invoke(ctx), self)
        }
    }
}
