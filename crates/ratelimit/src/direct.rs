//! The direct limiter: one quota for everything that passes, no keys.

use std::fmt;
use std::sync::Arc;

use steadfast_core::{ConfigError, Inspect, RateLimited};

use crate::algorithm::{self, Decision};
use crate::builder::{Direct as DirectKind, RateLimiterBuilder};
use crate::config::RateLimiterConfig;
use crate::engine::Engine;
use crate::quota::Quota;
use crate::reconfigure::CellWords;
use crate::snapshot::{RateLimitState, RateLimiterSnapshot};
use crate::store::{Change, Tally};
// std's atomics, or loom's in the loom models.
use crate::sync::{AtomicU64, Ordering};
use crate::wait::{self, Slot};

/// A rate limiter with one quota for every call: an outbound API's limit,
/// a worker's pace.
///
/// The state is one `AtomicU64` updated by a compare-and-swap around the
/// pure decision (see the [crate docs](crate)); a check reads the clock, the
/// word and the quota, and writes the word. Clones share the state.
///
/// ```
/// use steadfast_ratelimit::{Quota, RateLimiter};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let limiter = RateLimiter::new(Quota::per_second(10).burst(3)).unwrap();
/// assert!(limiter.check().is_ok());
/// assert!(limiter.check_n(2).is_ok());
/// let refused = limiter.check().unwrap_err();
/// assert_eq!(refused.retry_after(), Some(std::time::Duration::from_millis(100)));
/// # }
/// ```
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    cell: Cell,
    pub(crate) engine: Engine,
}

/// The state word and the counters, on one cache line of their own: a
/// check that writes the word finds the counters in the same line.
#[repr(align(64))]
struct Cell {
    word: AtomicU64,
    admitted: AtomicU64,
    rejected: AtomicU64,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("name", &self.inner.engine.name)
            .field("state", &self.peek())
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// A limiter named `"ratelimit"` allowing `quota`, rejecting what is over.
    pub fn new(quota: Quota) -> Result<Self, ConfigError> {
        RateLimiter::builder(quota).build()
    }

    /// A builder, for a name, an algorithm, wait mode, warm-up.
    pub fn builder(quota: Quota) -> RateLimiterBuilder<DirectKind> {
        RateLimiterBuilder::new(quota)
    }

    /// A builder starting from `config` (a deserialized file).
    pub fn builder_from(config: RateLimiterConfig) -> RateLimiterBuilder<DirectKind> {
        RateLimiterBuilder::from_config(config)
    }

    /// A limiter from a (deserialized) config, validated.
    pub fn from_config(config: RateLimiterConfig) -> Result<Self, ConfigError> {
        config.validate_direct()?;
        let empty = CellWords {
            word: 0,
            admitted: 0,
            rejected: 0,
        };
        Ok(RateLimiter::from_engine(Engine::new(config), empty))
    }

    pub(crate) fn from_engine(engine: Engine, words: CellWords) -> Self {
        RateLimiter {
            inner: Arc::new(Inner {
                cell: Cell {
                    word: AtomicU64::new(words.word),
                    admitted: AtomicU64::new(words.admitted),
                    rejected: AtomicU64::new(words.rejected),
                },
                engine,
            }),
        }
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// Gives back `cost` units an admitted call took and did not use; its
    /// admission is uncounted. Giving back more than was taken only
    /// refills the bucket to full.
    pub fn refund(&self, cost: u32) {
        let engine = &self.inner.engine;
        let (params, now) = engine.begin(0);
        let algorithm = engine.algorithm;
        self.inner.give_back(|state| {
            crate::algorithm::refund(algorithm, params, state, now, u64::from(cost))
        });
    }

    pub(crate) fn state_word(&self) -> u64 {
        self.inner.cell.word.load(Ordering::Acquire)
    }

    /// Admits one unit now, or says when it could be.
    #[inline]
    pub fn check(&self) -> Result<(), RateLimited> {
        self.check_n(1)
    }

    /// Admits `cost` units now, or says when they could be; a cost above the
    /// burst (or window limit) can never be admitted and says so: the
    /// rejection's [`is_never`](RateLimited::is_never) is true and its
    /// `retry_after()` is `None`.
    #[inline]
    pub fn check_n(&self, cost: u32) -> Result<(), RateLimited> {
        match self.inner.admit(u64::from(cost)) {
            Ok(()) => Ok(()),
            // Built out of line, straight into the caller's result: the
            // admitted path writes only the discriminant.
            Err(wait) => self.inner.refuse(wait),
        }
    }

    /// Admits `cost` units as the limiter's [`Mode`](crate::Mode) says: at
    /// once or refused in reject mode; waiting up to the maximum in wait mode.
    pub async fn acquire(&self, cost: u32) -> Result<(), RateLimited> {
        match self.inner.engine.max_wait(None) {
            None => self.check_n(cost),
            Some(max_wait) => wait::acquire(&*self.inner, u64::from(cost), max_wait).await,
        }
    }

    pub(crate) async fn acquire_within(
        &self,
        cost: u32,
        deadline: Option<steadfast_core::time::Instant>,
    ) -> Result<(), RateLimited> {
        match self.inner.engine.max_wait(deadline) {
            None => self.check_n(cost),
            Some(max_wait) => wait::acquire(&*self.inner, u64::from(cost), max_wait).await,
        }
    }

    /// The state now, consuming nothing: for `RateLimit-*` headers.
    pub fn peek(&self) -> RateLimitState {
        let engine = &self.inner.engine;
        // The time a check would use now, so peek and check agree.
        let (_, now) = engine.begin(0);
        engine.state_of(0, self.inner.cell.word.load(Ordering::Relaxed), now)
    }

    /// The quota in force.
    pub fn quota(&self) -> Quota {
        let engine = &self.inner.engine;
        engine.tiers.quota(0).unwrap_or(engine.config.quota)
    }

    /// Replaces the quota at run time; the state carries over.
    pub fn set_quota(&self, quota: Quota) -> Result<(), ConfigError> {
        self.inner.engine.tiers.set(0, quota)
    }

    /// The configuration the limiter was built with.
    pub fn config(&self) -> &RateLimiterConfig {
        &self.inner.engine.config
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// [`check_n`](Self::check_n) for the policy: the wait stays in a
    /// register and the rejection is built only when needed.
    #[inline]
    pub(crate) fn try_admit(&self, cost: u32) -> Result<(), u64> {
        self.inner.admit(u64::from(cost))
    }

    pub(crate) fn rejection(&self, wait: u64) -> RateLimited {
        self.inner.reject(wait)
    }
}

impl Inner {
    /// The state word and the counters now.
    pub(crate) fn cell_words(&self) -> CellWords {
        CellWords::read(&self.cell.word, &self.cell.admitted, &self.cell.rejected)
    }

    /// The hot path: `Err` carries the wait in ns, so the result stays in
    /// registers and the rejection is built out of line.
    #[inline]
    fn admit(&self, cost: u64) -> Result<(), u64> {
        let Some(plain) = self.engine.begin_plain(0, cost) else {
            return self.admit_general(cost);
        };
        let word = &self.cell.word;
        let mut tat = word.load(Ordering::Relaxed);
        loop {
            let new = match plain.decide(tat) {
                Ok(new) => new,
                Err(over) => return Err(self.engine.plain_wait(cost, over)),
            };
            match word.compare_exchange_weak(tat, new, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    self.cell.admitted.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Err(actual) => tat = actual,
            }
        }
    }

    /// [`admit`](Self::admit) for windows and warm-up.
    #[inline(never)]
    fn admit_general(&self, cost: u64) -> Result<(), u64> {
        let (params, now) = self.engine.begin(0);
        let mut state = self.cell.word.load(Ordering::Relaxed);
        loop {
            match self.engine.decide(params, state, now, cost) {
                Decision::Admit(new) => {
                    match self.cell.word.compare_exchange_weak(
                        state,
                        new,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => {
                            self.cell.admitted.fetch_add(1, Ordering::Relaxed);
                            self.engine.admitted(now);
                            return Ok(());
                        }
                        Err(actual) => state = actual,
                    }
                }
                Decision::Deny(wait) => return Err(wait),
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn refuse(&self, wait: u64) -> Result<(), RateLimited> {
        Err(self.reject(wait))
    }

    #[cold]
    #[inline(never)]
    fn reject(&self, wait: u64) -> RateLimited {
        self.cell.rejected.fetch_add(1, Ordering::Relaxed);
        self.engine.rejection(wait)
    }
}

impl Slot for Inner {
    fn engine(&self) -> &Engine {
        &self.engine
    }

    fn tier(&self) -> usize {
        0
    }

    fn update<R>(&self, _now: u64, mut decide: impl FnMut(u64) -> Change<R>) -> R {
        let mut state = self.cell.word.load(Ordering::Relaxed);
        loop {
            let change = decide(state);
            if let Some(new) = change.state
                && let Err(actual) = self.cell.word.compare_exchange_weak(
                    state,
                    new,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
            {
                state = actual;
                continue;
            }
            match change.tally {
                Tally::Admitted => self.cell.admitted.fetch_add(1, Ordering::Relaxed),
                Tally::Rejected => self.cell.rejected.fetch_add(1, Ordering::Relaxed),
                Tally::Neither => 0,
            };
            return change.value;
        }
    }

    fn give_back(&self, f: impl Fn(u64) -> u64) {
        let _ = self
            .cell
            .word
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |state| Some(f(state)));
        self.cell.admitted.fetch_sub(1, Ordering::Relaxed);
    }

    fn on_rejected(&self, _now: u64) {}
}

impl Inspect for RateLimiter {
    type Snapshot = RateLimiterSnapshot;

    fn name(&self) -> &str {
        self.inner.engine.name.as_str()
    }

    fn snapshot(&self) -> RateLimiterSnapshot {
        let engine = &self.inner.engine;
        let now = engine.clock.now();
        let word = self.inner.cell.word.load(Ordering::Relaxed);
        let params = engine.tiers.params(0);
        RateLimiterSnapshot {
            name: engine.name.clone(),
            algorithm: engine.algorithm,
            keys_tracked: usize::from(
                algorithm::full_at(engine.algorithm, params, word, now) > now,
            ),
            admitted: self.inner.cell.admitted.load(Ordering::Relaxed),
            rejected: self.inner.cell.rejected.load(Ordering::Relaxed),
            waiting: engine.waiting(),
            heap_bytes: 0,
            shadow: engine.shadow(),
        }
    }
}
