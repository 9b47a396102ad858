//! The bulkhead policy.

use std::future::Future;
use std::sync::Arc;

use steadfast_core::{ConfigError, Context, Error, Inspect, Next, Operation, Policy};

use crate::partition::{Counters, Partition};
use crate::{BulkheadBuilder, BulkheadConfig, BulkheadSnapshot};

/// Caps how many calls reach a dependency at once; see the [crate docs](crate).
///
/// Clones share the permits, the queue and the counters: build one bulkhead
/// per dependency and clone it into every task.
///
/// # Deadlines
///
/// Inside a [`Timeout`](steadfast_core::Timeout) (or anything else that sets
/// the call's deadline), a caller that finds every permit taken is queued
/// only if the bulkhead can answer it before the deadline, with a permit or
/// with its own refusal, so the timeout never fires on a caller still
/// waiting in the queue:
///
/// - with `max_wait`, the wait fits when `max_wait` ends no later than the
///   deadline; when it does not, the caller is refused at once with
///   [`BulkheadReason::QueueTimeout`](steadfast_core::BulkheadReason::QueueTimeout)
///   (counted in `queue_timeouts`): a 100 ms timeout around a queue whose
///   `max_wait` is 10 s answers "busy" at once rather than a timeout after
///   100 ms;
/// - without `max_wait`, the caller waits at most until the deadline and is
///   then refused with `QueueTimeout` at that instant;
/// - a deadline already passed is refused at once.
///
/// A caller that finds a free permit never looks at the deadline. Declaring
/// that it reads the deadline costs an enclosing timeout one read of the
/// cached clock when the call starts.
///
/// ```
/// use steadfast_bulkhead::Bulkhead;
/// use steadfast_core::{Error, Policy};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let db = Bulkhead::builder().name("db").max_concurrent(20).max_queued(50).build()?;
/// let rows = db.call(|| async { Ok::<_, std::io::Error>(3) }).await?;
/// assert_eq!(rows, 3);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Bulkhead {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    partition: Partition,
    counters: Counters,
    config: BulkheadConfig,
}

impl Bulkhead {
    /// A bulkhead named `"bulkhead"` admitting `max_concurrent` calls at once
    /// and refusing the rest at once.
    pub fn new(max_concurrent: u32) -> Result<Self, ConfigError> {
        Bulkhead::builder().max_concurrent(max_concurrent).build()
    }

    /// A builder for every setting.
    pub fn builder() -> BulkheadBuilder {
        BulkheadBuilder::default()
    }

    /// A bulkhead from a (deserialized) config, validated.
    pub fn from_config(config: BulkheadConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Bulkhead {
            shared: Arc::new(Shared {
                partition: Partition::new(&config, None),
                counters: Counters::default(),
                config,
            }),
        })
    }

    /// The configuration it was built with. Its `max_concurrent` is the
    /// limit it started with: the [snapshot](Inspect::snapshot)'s `limit` is
    /// the one now (moved by [`reconfigure`](Self::reconfigure), or by the
    /// adaptive algorithm).
    pub fn config(&self) -> &BulkheadConfig {
        &self.shared.config
    }

    /// Changes the limit of a running (fixed-limit) bulkhead to `config`'s
    /// `max_concurrent`, keeping its permits, queue and counters: a higher
    /// limit admits queued callers at once; a lower one admits nobody new
    /// until the calls in flight drop below it (none is cancelled).
    ///
    /// Only `max_concurrent` may change, and not on an adaptive bulkhead
    /// (its algorithm moves the limit); a config changing anything else, or
    /// an invalid one, is refused with a [`ConfigError`] naming the field,
    /// and nothing changes.
    ///
    /// ```
    /// use steadfast_bulkhead::Bulkhead;
    /// use steadfast_core::Inspect;
    ///
    /// let pool = Bulkhead::new(20).unwrap();
    /// let mut bigger = pool.config().clone();
    /// bigger.max_concurrent = 40;
    /// pool.reconfigure(&bigger).unwrap();
    /// assert_eq!(pool.snapshot().limit, 40);
    ///
    /// bigger.max_queued = 10;
    /// assert_eq!(pool.reconfigure(&bigger).unwrap_err().field(), "max_queued");
    /// ```
    pub fn reconfigure(&self, config: &BulkheadConfig) -> Result<(), ConfigError> {
        self.check_reconfigure(config)?;
        tracing::info!(
            policy = %self.shared.config.name,
            limit = config.max_concurrent,
            "bulkhead reconfigured"
        );
        self.shared
            .partition
            .semaphore
            .set_limit(config.max_concurrent);
        Ok(())
    }

    /// Whether [`reconfigure`](Self::reconfigure) would accept `config`,
    /// without applying it.
    pub fn check_reconfigure(&self, config: &BulkheadConfig) -> Result<(), ConfigError> {
        config.validate()?;
        let built = &self.shared.config;
        let fixed = |field: &'static str| {
            Err(ConfigError::new(
                "bulkhead",
                field,
                "cannot change on a running bulkhead (only `max_concurrent` can); build a new bulkhead for that",
            ))
        };
        if config.name != built.name {
            return fixed("name");
        }
        if config.max_queued != built.max_queued {
            return fixed("max_queued");
        }
        if config.max_wait != built.max_wait {
            return fixed("max_wait");
        }
        if config.overload != built.overload {
            return fixed("overload");
        }
        if config.adaptive != built.adaptive {
            return fixed("adaptive");
        }
        if built.adaptive.is_some() && config.max_concurrent != built.max_concurrent {
            return Err(ConfigError::new(
                "bulkhead",
                "max_concurrent",
                "cannot change on an adaptive bulkhead: its algorithm moves the limit",
            ));
        }
        Ok(())
    }
}

impl Inspect for Bulkhead {
    type Snapshot = BulkheadSnapshot;

    fn name(&self) -> &str {
        self.shared.config.name.as_str()
    }

    fn snapshot(&self) -> BulkheadSnapshot {
        let counts = self.shared.partition.semaphore.counts();
        let (rejected, queue_timeouts, overloaded) = self.shared.counters.read();
        BulkheadSnapshot {
            name: self.shared.config.name.clone(),
            limit: counts.limit,
            in_flight: counts.in_flight,
            waiting: counts.waiting,
            saturated: counts.saturated,
            rejected,
            queue_timeouts,
            overloaded,
            missing_keys: 0,
            keys: 1,
        }
    }
}

impl<T: Send, E: Send> Policy<T, E> for Bulkhead {
    // Runs the rest of the call at most once.
    const REPEATS: bool = false;

    /// A caller that must queue is refused at once when its wait cannot
    /// fit the call's deadline; see [deadlines](Bulkhead#deadlines).
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
        let shared = &*self.shared;
        shared
            .partition
            .run(&shared.config.name, &shared.counters, ctx, next)
    }

    // Called on its own, the bulkhead's future owns the operation and is
    // returned as it is, rather than inside the trait's generic `async`
    // wrapper, whose `poll` is too large to inline: the answer then comes
    // back in registers. Same behaviour as the default: nothing happens
    // until the first poll, and the operation is invoked once a permit is
    // held.
    #[inline]
    fn call<'a, Op>(&'a self, op: Op) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        self.call_with(Context::new(), op)
    }

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
        let shared = &*self.shared;
        shared
            .partition
            .run_op(&shared.config.name, &shared.counters, ctx, op)
    }
}
