//! The fault-injecting policy: which calls it picks, and what it does to them.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use steadfast_core::{ConfigError, Context, Error, Inspect, Name, Next, Policy, time};
use tokio::time::Instant;

use crate::fault::Fault;
use crate::rng::Draws;

type Picks = Arc<dyn Fn(&Context<'_>) -> bool + Send + Sync>;

struct Inner<T, E> {
    name: Name,
    fault: Fault<T, E>,
    enabled: AtomicBool,
    /// The rate, as `f64` bits: changed at run time.
    rate: AtomicU64,
    /// Injects only from `.0` to `.1` after `start`.
    window: Option<(Duration, Duration)>,
    start: Instant,
    picks: Option<Picks>,
    draws: Draws,
    seen: AtomicU64,
    injected: AtomicU64,
}

/// A policy that injects a [`Fault`] into a fraction of the calls through
/// it: to test that a pipeline holds up, in a test or in staging. See the
/// [crate docs](crate).
///
/// Clones share the switch, the rate, the draws and the counters, so one
/// clone in the pipeline and one in a test or an admin endpoint is the
/// usual shape: [`set_enabled`](Self::set_enabled) and
/// [`set_rate`](Self::set_rate) act on every clone at once. Disabled, a
/// call runs untouched after one relaxed load.
pub struct Chaos<T, E> {
    inner: Arc<Inner<T, E>>,
}

impl<T, E> Clone for Chaos<T, E> {
    fn clone(&self) -> Self {
        Chaos {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T, E> fmt::Debug for Chaos<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chaos")
            .field("name", &self.inner.name)
            .field("fault", &self.inner.fault)
            .field("enabled", &self.is_enabled())
            .field("rate", &self.rate())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Chaos`] policy.
pub struct ChaosBuilder<T, E> {
    name: Name,
    fault: Fault<T, E>,
    enabled: bool,
    rate: f64,
    window: Option<(Duration, Duration)>,
    picks: Option<Picks>,
    seed: u64,
}

impl<T, E> fmt::Debug for ChaosBuilder<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChaosBuilder")
            .field("name", &self.name)
            .field("fault", &self.fault)
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl<T, E> Chaos<T, E> {
    /// A policy injecting `fault` into every call (rate 1), enabled, seed 0.
    pub fn builder(fault: Fault<T, E>) -> ChaosBuilder<T, E> {
        ChaosBuilder {
            name: Name::from("chaos"),
            fault,
            enabled: true,
            rate: 1.0,
            window: None,
            picks: None,
            seed: 0,
        }
    }

    /// Turns injection on or off, for every clone.
    pub fn set_enabled(&self, enabled: bool) {
        self.inner.enabled.store(enabled, Relaxed);
    }

    /// Whether injection is on.
    pub fn is_enabled(&self) -> bool {
        self.inner.enabled.load(Relaxed)
    }

    /// Sets the fraction of picked calls that get the fault, for every clone.
    pub fn set_rate(&self, rate: f64) -> Result<(), ConfigError> {
        check_rate(rate)?;
        self.inner.rate.store(rate.to_bits(), Relaxed);
        Ok(())
    }

    /// The fraction of calls that get the fault.
    pub fn rate(&self) -> f64 {
        f64::from_bits(self.inner.rate.load(Relaxed))
    }

    /// Whether this call gets the fault (counted).
    fn picks(&self, ctx: &Context<'_>) -> bool {
        let inner = &*self.inner;
        if let Some((from, to)) = inner.window {
            let at = time::now().saturating_duration_since(inner.start);
            if at < from || at >= to {
                return false;
            }
        }
        if let Some(picks) = &inner.picks
            && !picks(ctx)
        {
            return false;
        }
        inner.seen.fetch_add(1, Relaxed);
        let rate = self.rate();
        let hit = rate >= 1.0 || (rate > 0.0 && inner.draws.unit() < rate);
        if hit {
            inner.injected.fetch_add(1, Relaxed);
        }
        hit
    }
}

fn check_rate(rate: f64) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&rate) {
        Ok(())
    } else {
        Err(ConfigError::new("chaos", "rate", "must be within 0 and 1").with_value(rate))
    }
}

impl<T, E> ChaosBuilder<T, E> {
    /// The name in errors (an injected rejection names it) and snapshots.
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.name = name.into();
        self
    }

    /// The fraction of calls that get the fault, from 0 to 1. Default 1.
    pub fn rate(mut self, rate: f64) -> Self {
        self.rate = rate;
        self
    }

    /// Whether the policy starts enabled. Default on.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Injects only from `from` to `to` after the policy is built (on
    /// tokio's clock: a test on the paused clock scripts an outage "from
    /// 10 s to 40 s" exactly).
    pub fn between(mut self, from: Duration, to: Duration) -> Self {
        self.window = Some((from, to));
        self
    }

    /// Injects only into calls whose [`Context`] key is a `K` that `picks`
    /// accepts (one tenant, one region); calls without such a key are
    /// left alone.
    pub fn only_keys<K: 'static>(
        mut self,
        picks: impl Fn(&K) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.picks = Some(Arc::new(move |ctx: &Context<'_>| {
            ctx.key::<K>().is_some_and(&picks)
        }));
        self
    }

    /// The seed of the draws that pick calls and delays: the same seed and
    /// the same calls in the same order pick the same. Default 0.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The policy, or the [`ConfigError`] naming the field that cannot be.
    pub fn build(self) -> Result<Chaos<T, E>, ConfigError> {
        check_rate(self.rate)?;
        if let Fault::Latency(latency) = &self.fault {
            latency.validate()?;
        }
        if let Some((from, to)) = self.window
            && from > to
        {
            return Err(ConfigError::new(
                "chaos",
                "between",
                "the window's start must not be after its end",
            )
            .with_value((from, to)));
        }
        Ok(Chaos {
            inner: Arc::new(Inner {
                name: self.name,
                fault: self.fault,
                enabled: AtomicBool::new(self.enabled),
                rate: AtomicU64::new(self.rate.to_bits()),
                window: self.window,
                start: time::now(),
                picks: self.picks,
                draws: Draws::new(self.seed),
                seen: AtomicU64::new(0),
                injected: AtomicU64::new(0),
            }),
        })
    }
}

impl<T: Send, E: Send> Policy<T, E> for Chaos<T, E> {
    // Runs the rest of the call at most once.
    const REPEATS: bool = false;

    // The trait's signature, spelled out: the future must be `Send`.
    #[allow(clippy::manual_async_fn)]
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
        async move {
            if !self.is_enabled() || !self.picks(&ctx) {
                return next.invoke(ctx).await;
            }
            let inner = &*self.inner;
            match &inner.fault {
                Fault::Error(make) => Err(make(&inner.name)),
                Fault::Outcome(make) => Ok(make()),
                Fault::Latency(latency) => {
                    // Boxed, on the injected path only: the timer would
                    // otherwise sit in every call's future, injected or not.
                    let delay = latency.draw(&inner.draws);
                    let delayed: Pin<Box<dyn Future<Output = Result<T, Error<E>>> + Send + 'a>> =
                        Box::pin(async move {
                            time::sleep(delay).await;
                            next.invoke(ctx).await
                        });
                    delayed.await
                }
            }
        }
    }
}

/// What a chaos policy has done.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ChaosSnapshot {
    /// The policy's name.
    pub name: Name,
    /// Whether injection is on.
    pub enabled: bool,
    /// The fraction of picked calls that get the fault.
    pub rate: f64,
    /// Calls that could have got the fault (enabled, in the window, of a
    /// picked key).
    pub seen: u64,
    /// Calls that got it.
    pub injected: u64,
}

impl<T, E> Inspect for Chaos<T, E> {
    type Snapshot = ChaosSnapshot;

    fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    fn snapshot(&self) -> ChaosSnapshot {
        ChaosSnapshot {
            name: self.inner.name.clone(),
            enabled: self.is_enabled(),
            rate: self.rate(),
            seen: self.inner.seen.load(Relaxed),
            injected: self.inner.injected.load(Relaxed),
        }
    }
}
