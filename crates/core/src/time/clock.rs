//! A clock for hot paths: nanoseconds since a base, in one `u64`.
//!
//! # Why not [`now()`](super::now) on every call
//!
//! [`now()`](super::now) is tokio's `Instant::now()`, which is std's
//! `Instant::now()` (a `clock_gettime` call) outside a paused test runtime.
//! Measured on the benchmark machine (a VM) it costs 24–30 ns: more than a
//! whole rate-limit check, and a third of a cache hit. A [`Clock`] has three
//! speeds:
//!
//! - **cached** (about 1–2 ns, [`Clock::now_cached`]): a time-stamp reading,
//!   stored in nanoseconds so a read is one load and one subtraction, that
//!   one background thread per process (`steadfast-clock`) refreshes every
//!   millisecond. It lags real time by up to a tick plus the thread's
//!   wake-up delay: for decisions that a millisecond does not change (a rate
//!   limit refilling every few milliseconds, a cache entry fresh for seconds).
//! - **precise** (about 13 ns, [`Clock::now`]): the CPU's time-stamp counter
//!   via `quanta`, read on every call.
//! - **tokio**: when tokio's clock is paused at the moment the clock is made
//!   (every `#[tokio::test(start_paused = true)]`), both reads follow tokio's
//!   clock, so tests drive it with `tokio::time::advance`, exactly.
//!
//! The thread exists only while some clock uses the cached reading;
//! [`TimeSource::Precise`] and [`TimeSource::Tokio`] opt out of it.

use std::time::Duration;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::{Instant, now};

/// How often the `steadfast-clock` thread refreshes the cached time.
const CACHED_TICK: Duration = Duration::from_millis(1);

/// Where a [`Clock`] reads the time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum TimeSource {
    /// Tokio's clock when it is paused when the clock is made (tests);
    /// otherwise the time-stamp counter, and the cached reading where the
    /// caller asks for it.
    #[default]
    Auto,
    /// Always tokio's clock, through [`now()`](super::now) (about 30 ns a read here).
    Tokio,
    /// Always the CPU's time-stamp counter via `quanta` (about 13 ns a read
    /// here), anchored to tokio's clock; no background thread.
    Precise,
}

/// Nanoseconds since the clock was made, from a chosen [`TimeSource`].
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::time::{Clock, TimeSource};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let clock = Clock::new(TimeSource::Auto);
/// tokio::time::advance(Duration::from_millis(3)).await;
/// // On a paused test clock both reads follow tokio, exactly.
/// assert_eq!((clock.now(), clock.now_cached()), (3_000_000, 3_000_000));
/// # }
/// ```
/// Clones read the same scale: the same base, so a reading of one can be
/// compared with a reading of another.
#[derive(Clone, Debug)]
pub struct Clock {
    /// The shared cached reading, when this clock may use it: outside the
    /// source so the hot path tests one pointer.
    cached: Option<Arc<Cached>>,
    /// This clock's base on the cached reading's scale: a cached time is
    /// `cached.nanos - cached_base`, one load and one subtraction.
    cached_base: u64,
    base: Instant,
    source: Source,
}

#[derive(Clone, Debug)]
enum Source {
    Tokio,
    Fast { clock: quanta::Clock, base_raw: u64 },
}

/// The time-stamp counter as last read by the `steadfast-clock` thread,
/// already in nanoseconds since `anchor_raw`.
#[derive(Debug)]
struct Cached {
    nanos: AtomicU64,
    anchor_raw: u64,
}

/// The thread's shared reading while any limiter holds it.
static CACHED: Mutex<Weak<Cached>> = Mutex::new(Weak::new());

/// The cached reading, starting the thread that refreshes it if none runs.
fn cached(clock: &quanta::Clock) -> Option<Arc<Cached>> {
    let mut slot = CACHED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(cached) = slot.upgrade() {
        return Some(cached);
    }
    let anchor_raw = clock.raw();
    let cached = Arc::new(Cached {
        nanos: AtomicU64::new(0),
        anchor_raw,
    });
    let weak = Arc::downgrade(&cached);
    let thread_clock = clock.clone();
    // Ends once no limiter holds the reading; a later limiter starts another.
    let spawned = std::thread::Builder::new()
        .name("steadfast-clock".into())
        .spawn(move || {
            while let Some(cached) = weak.upgrade() {
                let nanos = thread_clock.delta_as_nanos(cached.anchor_raw, thread_clock.raw());
                cached.nanos.store(nanos, Ordering::Relaxed);
                drop(cached);
                std::thread::sleep(CACHED_TICK);
            }
        });
    // No thread (a sandbox that forbids them): read the counter every time.
    spawned.ok()?;
    *slot = Arc::downgrade(&cached);
    Some(cached)
}

impl Clock {
    /// A clock reading `source`, starting from zero now.
    pub fn new(source: TimeSource) -> Clock {
        let (fast, may_cache) = match source {
            TimeSource::Auto => {
                let fast = !tokio_clock_is_paused();
                (fast, fast)
            }
            TimeSource::Tokio => (false, false),
            TimeSource::Precise => (true, false),
        };
        if fast {
            let clock = quanta::Clock::new();
            let cached = if may_cache { cached(&clock) } else { None };
            // Read both clocks back to back so the anchor is as tight as possible.
            let base_raw = clock.raw();
            let base = now();
            let cached_base = cached
                .as_ref()
                .map_or(0, |c| clock.delta_as_nanos(c.anchor_raw, base_raw));
            Clock {
                cached,
                cached_base,
                base,
                source: Source::Fast { clock, base_raw },
            }
        } else {
            Clock {
                cached: None,
                cached_base: 0,
                base: now(),
                source: Source::Tokio,
            }
        }
    }

    /// Nanoseconds since the clock was made (saturating: about 584 years of range).
    #[inline]
    pub fn now(&self) -> u64 {
        match &self.source {
            Source::Fast { clock, base_raw } => clock.delta_as_nanos(*base_raw, clock.raw()),
            Source::Tokio => nanos(now().saturating_duration_since(self.base)),
        }
    }

    /// The cached reading (up to about a millisecond behind, never ahead)
    /// when this clock has one; otherwise [`now`](Clock::now).
    // On every hot path that reads it: measured faster forced inline.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub fn now_cached(&self) -> u64 {
        if let Some(cached) = &self.cached {
            // Saturating: a clock made between two ticks starts ahead of
            // the cached reading and reads 0 until the next tick.
            return cached
                .nanos
                .load(Ordering::Relaxed)
                .saturating_sub(self.cached_base);
        }
        self.now()
    }

    /// Tokio's instant for a reading of this clock, to sleep until it.
    pub fn instant_at(&self, nanos: u64) -> Instant {
        self.base + Duration::from_nanos(nanos)
    }

    /// Whether this clock follows tokio's clock (and so a paused test clock).
    pub fn follows_tokio(&self) -> bool {
        matches!(self.source, Source::Tokio)
    }
}

/// A duration in whole nanoseconds, saturating.
#[inline]
pub fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Whether tokio's clock stands still while real time passes: it does only
/// when paused (`start_paused`, `tokio::time::pause`), and auto-advance
/// cannot happen during this synchronous spin.
fn tokio_clock_is_paused() -> bool {
    if tokio::runtime::Handle::try_current().is_err() {
        return false;
    }
    let before = now();
    let spin = std::time::Instant::now();
    while spin.elapsed() < Duration::from_micros(2) {
        std::hint::spin_loop();
    }
    now() == before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn auto_follows_a_paused_clock() {
        let clock = Clock::new(TimeSource::Auto);
        assert!(clock.follows_tokio());
        assert_eq!(clock.now(), 0);
        tokio::time::advance(Duration::from_millis(3)).await;
        assert_eq!(clock.now(), 3_000_000);
        assert_eq!(clock.now_cached(), 3_000_000);
        assert_eq!(clock.instant_at(3_000_000), now());
    }

    #[test]
    fn auto_is_fast_outside_a_paused_runtime() {
        let clock = Clock::new(TimeSource::Auto);
        assert!(!clock.follows_tokio());
        let a = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        let b = clock.now();
        assert!(
            b >= a + 1_000_000,
            "the fast clock moves with real time ({a} -> {b})"
        );
    }

    #[test]
    fn the_cached_reading_follows_real_time_within_its_tick() {
        let clock = Clock::new(TimeSource::Auto);
        // This test is about a clock reading real time, so it sleeps for real.
        std::thread::sleep(Duration::from_millis(20));
        let (cached, precise) = (clock.now_cached(), clock.now());
        assert!(cached <= precise, "the cached reading never runs ahead");
        assert!(
            precise - cached < 200_000_000,
            "and lags by about a tick: {cached} vs {precise}"
        );
        let precise_only = Clock::new(TimeSource::Precise);
        assert!(matches!(precise_only.source, Source::Fast { .. }));
        assert!(precise_only.cached.is_none());
    }

    #[test]
    fn nanos_saturate() {
        assert_eq!(nanos(Duration::MAX), u64::MAX);
        assert_eq!(nanos(Duration::from_micros(2)), 2_000);
    }
}
