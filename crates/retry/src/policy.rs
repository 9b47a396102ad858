//! The [`Retry`] policy: its handle, shared state, snapshot and `Policy` impl.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use steadfast_core::tally::Tally;
use steadfast_core::{
    Classifier, ConfigError, Context, DefaultClassifier, Error, Inspect, Name, Next, Operation,
    Policy, time,
};

use crate::future::RetryFuture;
use crate::source::{DefaultContext, Owned, Piped};

use crate::budget::Budget;
use crate::rng::{GAMMA, SplitMix64, random_seed};
use crate::{BudgetSnapshot, NoRetryAfter, RetryAfter, RetryBuilder, RetryConfig, RetryEvent};

pub(crate) type Hook = Box<dyn Fn(&RetryEvent<'_>) + Send + Sync>;

/// Retries failed calls with backoff, within a budget and the call's
/// deadline, or hedges them; see the [crate docs](crate).
///
/// `C` is the [`Classifier`] deciding what is a failure, `H` the
/// [`RetryAfter`] extractor. Clones share the budget, the counters and the
/// jitter's random source.
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::{Inspect, Policy};
/// use steadfast_retry::{Backoff, Retry};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let retry = Retry::builder()
///     .max_attempts(4)
///     .backoff(Backoff::constant(Duration::from_millis(10)))
///     .build()?;
/// let tries = std::sync::atomic::AtomicU32::new(0);
/// let answer = retry
///     .call(|| async {
///         match tries.fetch_add(1, std::sync::atomic::Ordering::Relaxed) {
///             0 | 1 => Err(std::io::Error::other("connection reset")),
///             _ => Ok("pong"),
///         }
///     })
///     .await?;
/// assert_eq!(answer, "pong");
/// assert_eq!(retry.snapshot().retries, 2);
/// # Ok(())
/// # }
/// ```
pub struct Retry<C = DefaultClassifier, H = NoRetryAfter> {
    shared: Arc<Shared<C, H>>,
}

impl<C, H> Clone for Retry<C, H> {
    fn clone(&self) -> Self {
        Retry {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C, H> fmt::Debug for Retry<C, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// The counters every clone adds to.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Calls started: the only counter a first success touches, so it is a
    /// [`Tally`] (no locked instruction), bumped as the call starts (bumped
    /// as a success returns, it costs a first success a quarter more).
    pub(crate) calls: Tally,
    /// Calls that ended in failure (only ever on the slow path).
    pub(crate) failures: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) budget_exhausted: AtomicU64,
    pub(crate) hedges_started: AtomicU64,
    pub(crate) hedges_won: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Calls started and not failed: the successes, and the calls still
    /// running, credited until they fail. What the budget earns from.
    pub(crate) fn unfailed(&self) -> i64 {
        let failures = self.failures.load(Ordering::Relaxed);
        let calls = self.calls.sum();
        // Counts far below 2^63.
        i64::try_from(calls).unwrap_or(i64::MAX) - i64::try_from(failures).unwrap_or(i64::MAX)
    }
}

pub(crate) struct Shared<C, H> {
    pub(crate) config: RetryConfig,
    /// The cap on any wait, resolved from the config.
    pub(crate) max_delay: Duration,
    /// The longest hint waited out, resolved from the config.
    pub(crate) max_retry_after: Duration,
    pub(crate) classifier: C,
    pub(crate) retry_after: H,
    pub(crate) budget: Option<Budget>,
    pub(crate) hook: Option<Hook>,
    pub(crate) counters: Counters,
    /// SplitMix64's state: each call that needs jitter takes a seed from it.
    seeds: AtomicU64,
}

impl<C, H> Shared<C, H> {
    /// A fresh seed for one call's waits. SplitMix64 advances by adding
    /// [`GAMMA`], so a `fetch_add` hands every call its own point of the
    /// sequence without a lock, and a seeded policy replays exactly when its
    /// calls run in the same order.
    pub(crate) fn next_seed(&self) -> u64 {
        let state = self
            .seeds
            .fetch_add(GAMMA, Ordering::Relaxed)
            .wrapping_add(GAMMA);
        SplitMix64::mix(state)
    }

    pub(crate) fn name(&self) -> &Name {
        &self.config.name
    }

    pub(crate) fn emit(&self, event: &RetryEvent<'_>) {
        tracing::trace!(
            policy = %self.config.name,
            attempt = event.attempt,
            delay = ?event.delay,
            retry_after = ?event.retry_after,
            "retrying"
        );
        if let Some(hook) = &self.hook {
            hook(event);
        }
    }
}

/// A [`Retry`]'s counters and budget state, summed over every clone.
///
/// With the `serde` feature it serializes with these field names.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct RetrySnapshot {
    /// The policy's name.
    pub name: Name,
    /// Calls made through the policy.
    pub calls: u64,
    /// Calls that ended in failure, after every retry they were allowed.
    pub failures: u64,
    /// Attempts started: first attempts, retries and hedges.
    pub attempts: u64,
    /// Retries started (hedges not included).
    pub retries: u64,
    /// Retries and hedges refused because the budget was spent.
    pub budget_exhausted: u64,
    /// Hedged attempts started.
    pub hedges_started: u64,
    /// Calls answered by a hedged attempt rather than the first.
    pub hedges_won: u64,
    /// The budget's bucket, when the budget is on.
    pub budget: Option<BudgetSnapshot>,
}

impl Retry {
    /// A builder, starting from the defaults.
    pub fn builder() -> RetryBuilder {
        RetryBuilder::new()
    }

    /// A retry from a (deserialized) config, validated, with the default
    /// classifier and no Retry-After extractor.
    pub fn from_config(config: RetryConfig) -> Result<Self, ConfigError> {
        Retry::builder().config(config).build()
    }
}

impl Default for Retry {
    /// Three attempts, exponential backoff with full jitter, the default budget.
    fn default() -> Self {
        Retry::builder()
            .build()
            .expect("the default configuration is valid")
    }
}

impl<C, H> Retry<C, H> {
    pub(crate) fn from_parts(
        config: RetryConfig,
        classifier: C,
        retry_after: H,
        hook: Option<Hook>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let budget = config
            .budget
            .as_ref()
            .map(|b| Budget::new(config.name.clone(), b));
        Ok(Retry {
            shared: Arc::new(Shared {
                max_delay: config.effective_max_delay(),
                max_retry_after: config.effective_max_retry_after(),
                seeds: AtomicU64::new(config.seed.unwrap_or_else(random_seed)),
                config,
                classifier,
                retry_after,
                budget,
                hook,
                counters: Counters::default(),
            }),
        })
    }

    /// The effective configuration.
    pub fn config(&self) -> &RetryConfig {
        &self.shared.config
    }
}

impl<C, H> Inspect for Retry<C, H> {
    type Snapshot = RetrySnapshot;

    fn name(&self) -> &str {
        self.shared.config.name.as_str()
    }

    fn snapshot(&self) -> RetrySnapshot {
        let c = &self.shared.counters;
        let calls = c.calls.sum();
        let failures = c.failures.load(Ordering::Relaxed);
        let retries = c.retries.load(Ordering::Relaxed);
        let hedges_started = c.hedges_started.load(Ordering::Relaxed);
        RetrySnapshot {
            name: self.shared.config.name.clone(),
            calls,
            failures,
            attempts: calls + retries + hedges_started,
            retries,
            budget_exhausted: c.budget_exhausted.load(Ordering::Relaxed),
            hedges_started,
            hedges_won: c.hedges_won.load(Ordering::Relaxed),
            budget: self
                .shared
                .budget
                .as_ref()
                .map(|b| b.snapshot(c.unfailed())),
        }
    }
}

/// The call's start, read only when `max_elapsed` needs it; out of line so
/// the clock read stays off the code of calls that do not.
#[cold]
#[inline(never)]
fn started() -> time::Instant {
    time::now()
}

impl<T, E, C, H> Policy<T, E> for Retry<C, H>
where
    T: Send,
    E: Send,
    C: Classifier<T, E>,
    H: RetryAfter<T, E>,
{
    const READS_DEADLINE: bool = true;

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
        let (shared, start) = self.begin();
        RetryFuture::new(
            shared,
            ctx,
            Piped(next),
            |next: &Piped<N>, ctx| next.start(ctx),
            start,
        )
    }

    /// Runs `op` under this retry. Unlike the trait's default, the future is
    /// the retry's own, which owns `op`: its `poll` is small enough to inline
    /// into the caller's, so a first success comes back in registers.
    ///
    /// The call starts as it is made, as a breaker's admission does: it is
    /// counted, its first attempt is made (`op` invoked) and `max_elapsed`
    /// starts counting before this returns, not at the first poll. Starting
    /// at the first poll cost a first success half as much again (62
    /// instructions against 47). Inside a pipeline, the retry starts when
    /// the pipeline's future is first polled.
    #[inline]
    fn call<'a, Op>(&'a self, op: Op) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        let (shared, start) = self.begin();
        RetryFuture::new(
            shared,
            DefaultContext,
            Owned(Some(op)),
            |op: &Owned<Op>, ctx| op.start(ctx),
            start,
        )
    }

    /// Runs `op` under this retry with the given [`Context`]; see
    /// [`call`](Self::call).
    #[inline]
    fn call_with<'a, Op>(
        &'a self,
        ctx: Context<'a>,
        op: Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        let (shared, start) = self.begin();
        RetryFuture::new(
            shared,
            ctx,
            Owned(Some(op)),
            |op: &Owned<Op>, ctx| op.start(ctx),
            start,
        )
    }
}

impl<C, H> Retry<C, H> {
    /// A call's bookkeeping before its first attempt: the only one a first
    /// success does. The budget learns of calls from this counter when (if
    /// ever) a retry is asked for.
    #[inline]
    fn begin(&self) -> (&Shared<C, H>, Option<time::Instant>) {
        let shared: &Shared<C, H> = &self.shared;
        shared.counters.calls.add(1);
        let start = if shared.config.max_elapsed.is_some() {
            Some(started())
        } else {
            None
        };
        (shared, start)
    }
}
