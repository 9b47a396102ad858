//! Priority load shedding: when the service is overloaded, refuse the least
//! important work first, and say "busy" rather than time everybody out.
//!
//! A [`LoadShedder`] sorts calls into the user's own classes by the
//! [`Priority`] in their [`Context`] (critical, paid, free, background…).
//! Each class has thresholds: calls in flight, and optionally measured
//! latency. While the load is at or past a class's threshold, calls of that
//! class are refused with [`Error::Shed`], whose
//! message is fit for a person ("Server busy, please try again shortly.").
//! More important classes have higher thresholds, so they are shed later,
//! and a class with no threshold (critical work) is never shed.
//!
//! In-flight admission is one compare-and-swap on a shared counter against
//! the class's threshold, so thresholds hold exactly under concurrency.
//!
//! For shedding on the client side, before calls reach an overloaded
//! dependency, see [`AdaptiveThrottle`].

mod config;
pub mod throttle;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use steadfast_core::time::{self, Instant};
use steadfast_core::{ConfigError, Context, Error, Inspect, Name, Next, Policy, Priority, Shed};

pub use config::{LoadShedderConfig, ShedClass};
pub use throttle::{AdaptiveThrottle, AdaptiveThrottleConfig, AdaptiveThrottleSnapshot};

use crate::episode::Episode;

/// Sheds calls by priority class under load; see the [module docs](self).
///
/// ```
/// use steadfast_core::{Context, Policy, Priority};
/// use steadfast_degrade::{LoadShedder, ShedClass};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let shedder = LoadShedder::builder()
///     .class(ShedClass::new("background", Priority::BACKGROUND).max_in_flight(20))
///     .class(ShedClass::new("free", Priority::LOW).max_in_flight(50))
///     .class(ShedClass::new("paid", Priority::HIGH).max_in_flight(80))
///     .class(ShedClass::new("critical", Priority::CRITICAL))
///     .build()?;
/// let ctx = Context::new().with_priority(Priority::HIGH);
/// let answer = shedder.call_with(ctx, || async { Ok::<_, std::io::Error>("ok") }).await?;
/// assert_eq!(answer, "ok");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct LoadShedder {
    shared: Arc<Shared>,
}

struct Shared {
    config: LoadShedderConfig,
    /// The classes, least important first.
    classes: Vec<ShedClass>,
    states: Vec<ClassState>,
    in_flight: AtomicU32,
    /// Whether any class sheds on latency (then calls are timed).
    timed: bool,
    /// The measured latency (nanoseconds, exponential average) and when it
    /// was last updated.
    latency: Mutex<Option<(f64, Instant)>>,
}

#[derive(Default)]
struct ClassState {
    shed: AtomicU64,
    admitted: AtomicU64,
    shedding: Episode,
}

impl fmt::Debug for LoadShedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadShedder")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// A [`LoadShedder`]'s load and per-class counters.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct LoadShedderSnapshot {
    /// The shedder's name.
    pub name: Name,
    /// Calls in flight, every class together.
    pub in_flight: u32,
    /// The measured latency, when a class sheds on latency and a recent
    /// measurement exists; serialized as `"12ms"` or `null`.
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::serde_text::option_duration")
    )]
    pub latency: Option<Duration>,
    /// Each class, least important first.
    pub classes: Vec<ShedClassSnapshot>,
}

/// One class's counters in a [`LoadShedderSnapshot`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ShedClassSnapshot {
    /// The class's name.
    pub name: Name,
    /// Calls of the class admitted.
    pub admitted: u64,
    /// Calls of the class shed.
    pub shed: u64,
    /// Whether the class's last call was shed.
    pub shedding: bool,
}

/// Builds a [`LoadShedder`]; see [`LoadShedder::builder`].
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct LoadShedderBuilder {
    config: LoadShedderConfig,
}

impl LoadShedderBuilder {
    /// The name shown in errors, events and snapshots (default `"shedder"`).
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Adds a class.
    pub fn class(mut self, class: ShedClass) -> Self {
        self.config.classes.push(class);
        self
    }

    /// How far each call's latency moves the measured latency (default 0.2).
    pub fn latency_smoothing(mut self, smoothing: f64) -> Self {
        self.config.latency_smoothing = smoothing;
        self
    }

    /// How long a latency measurement counts (default 1 s).
    pub fn latency_expiry(mut self, expiry: Duration) -> Self {
        self.config.latency_expiry = expiry;
        self
    }

    /// A wait to suggest to shed callers.
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.config.retry_after = Some(wait);
        self
    }

    /// Validates the configuration and builds the shedder.
    pub fn build(self) -> Result<LoadShedder, ConfigError> {
        LoadShedder::from_config(self.config)
    }
}

impl LoadShedder {
    /// A builder; add at least one class.
    pub fn builder() -> LoadShedderBuilder {
        LoadShedderBuilder::default()
    }

    /// A shedder from a (deserialized) config, validated.
    pub fn from_config(config: LoadShedderConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let classes = config.sorted();
        let timed = classes.iter().any(|c| c.max_latency.is_some());
        Ok(LoadShedder {
            shared: Arc::new(Shared {
                states: classes.iter().map(|_| ClassState::default()).collect(),
                classes,
                config,
                in_flight: AtomicU32::new(0),
                timed,
                latency: Mutex::new(None),
            }),
        })
    }

    /// The effective configuration.
    pub fn config(&self) -> &LoadShedderConfig {
        &self.shared.config
    }

    /// The class a priority falls in: the most important class whose
    /// `min_priority` it reaches, or the least important class.
    fn class_of(&self, priority: Priority) -> usize {
        let classes = &self.shared.classes;
        classes
            .iter()
            .rposition(|c| c.min_priority <= priority)
            .unwrap_or(0)
    }

    /// The measured latency, unless it has expired.
    fn latency(&self) -> Option<Duration> {
        let shared = &*self.shared;
        let (nanos, at) = (*shared.latency.lock())?;
        if time::now().saturating_duration_since(at) > shared.config.latency_expiry {
            return None;
        }
        Some(Duration::from_nanos(as_nanos(nanos)))
    }

    fn record_latency(&self, latency: Duration) {
        let shared = &*self.shared;
        #[allow(clippy::cast_precision_loss)] // nanoseconds as f64: exact below 104 days
        let sample = latency.as_nanos() as f64;
        let now = time::now();
        let mut measured = shared.latency.lock();
        let alpha = shared.config.latency_smoothing;
        let next = match *measured {
            Some((avg, at))
                if now.saturating_duration_since(at) <= shared.config.latency_expiry =>
            {
                avg + alpha * (sample - avg)
            }
            _ => sample,
        };
        *measured = Some((next, now));
    }

    /// Admits a call of `priority` (counting it in flight) or sheds it.
    fn admit(&self, priority: Priority) -> Result<InFlight<'_>, Shed> {
        let shared = &*self.shared;
        let index = self.class_of(priority);
        let class = &shared.classes[index];
        if let Some(max) = class.max_latency
            && self.latency().is_some_and(|l| l >= max)
        {
            return Err(self.shed(index, "latency"));
        }
        match class.max_in_flight {
            None => {
                shared.in_flight.fetch_add(1, Ordering::AcqRel);
            }
            Some(max) => {
                let admitted =
                    shared
                        .in_flight
                        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                            (n < max).then_some(n + 1)
                        });
                if admitted.is_err() {
                    return Err(self.shed(index, "in flight"));
                }
            }
        }
        let state = &shared.states[index];
        state.admitted.fetch_add(1, Ordering::Relaxed);
        if state.shedding.end() {
            tracing::info!(policy = %shared.config.name, class = %class.name, "class no longer shed");
        }
        Ok(InFlight {
            shedder: self,
            started: shared.timed.then(time::now),
        })
    }

    #[cold]
    fn shed(&self, index: usize, signal: &'static str) -> Shed {
        let shared = &*self.shared;
        let class = &shared.classes[index];
        let state = &shared.states[index];
        state.shed.fetch_add(1, Ordering::Relaxed);
        if state.shedding.start() {
            tracing::warn!(policy = %shared.config.name, class = %class.name, signal, "shedding class");
        }
        Shed::new(shared.config.name.clone(), shared.config.retry_after)
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // a non-negative average of u64 nanoseconds
fn as_nanos(nanos: f64) -> u64 {
    nanos as u64
}

/// A call counted in flight; uncounted when dropped, finished or not.
struct InFlight<'s> {
    shedder: &'s LoadShedder,
    started: Option<Instant>,
}

impl InFlight<'_> {
    /// The call finished: its latency counts (a dropped call's does not).
    fn finish(self) {
        if let Some(started) = self.started {
            self.shedder.record_latency(started.elapsed());
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.shedder.shared.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Inspect for LoadShedder {
    type Snapshot = LoadShedderSnapshot;

    fn name(&self) -> &str {
        self.shared.config.name.as_str()
    }

    fn snapshot(&self) -> LoadShedderSnapshot {
        let shared = &*self.shared;
        LoadShedderSnapshot {
            name: shared.config.name.clone(),
            in_flight: shared.in_flight.load(Ordering::Acquire),
            latency: if shared.timed { self.latency() } else { None },
            classes: shared
                .classes
                .iter()
                .zip(&shared.states)
                .map(|(class, state)| ShedClassSnapshot {
                    name: class.name.clone(),
                    admitted: state.admitted.load(Ordering::Relaxed),
                    shed: state.shed.load(Ordering::Relaxed),
                    shedding: state.shedding.is_on(),
                })
                .collect(),
        }
    }
}

impl<T: Send, E: Send> Policy<T, E> for LoadShedder {
    // Runs the rest of the call at most once.
    const REPEATS: bool = false;

    async fn execute<'a, N>(&'a self, ctx: Context<'a>, next: N) -> Result<T, Error<E>>
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        let in_flight = self.admit(ctx.priority())?;
        let result = next.invoke(ctx).await;
        in_flight.finish();
        result
    }
}
