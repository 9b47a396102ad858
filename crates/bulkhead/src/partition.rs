//! One bulkhead's worth of state: the semaphore, an adaptive limit if any,
//! and the code that runs a call under them. A [`Bulkhead`](crate::Bulkhead)
//! has one; a [`KeyedBulkhead`](crate::KeyedBulkhead) has one per key.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use steadfast_core::{BulkheadFull, BulkheadReason, Context, Error, Leaf, Name, Next, Operation};

use crate::BulkheadConfig;
use crate::adaptive::{Algorithm, Sample};
use crate::future::RunFuture;
use crate::semaphore::{CoDel, QueueRules, Semaphore};

/// Refusals, by reason; shared by every partition of a keyed bulkhead.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) rejected: AtomicU64,
    pub(crate) queue_timeouts: AtomicU64,
    pub(crate) overloaded: AtomicU64,
}

impl Counters {
    /// Counts a refusal and builds its error.
    #[cold]
    pub(crate) fn reject(&self, name: &Name, reason: BulkheadReason) -> BulkheadFull {
        let counter = match reason {
            BulkheadReason::QueueTimeout => &self.queue_timeouts,
            BulkheadReason::Overloaded => &self.overloaded,
            _ => &self.rejected,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(policy = %name, ?reason, "bulkhead refused a call");
        BulkheadFull::with_reason(name.clone(), reason)
    }

    pub(crate) fn read(&self) -> (u64, u64, u64) {
        (
            self.rejected.load(Ordering::Relaxed),
            self.queue_timeouts.load(Ordering::Relaxed),
            self.overloaded.load(Ordering::Relaxed),
        )
    }
}

#[derive(Debug)]
pub(crate) struct Partition {
    pub(crate) semaphore: Semaphore,
    adaptive: Option<Mutex<Algorithm>>,
}

impl Partition {
    /// A partition from a validated config; `key` is how its events write
    /// the key, when the user opted in to keys in events.
    pub(crate) fn new(config: &BulkheadConfig, key: Option<Box<str>>) -> Self {
        let rules = QueueRules {
            max_queued: config.max_queued,
            max_wait: config.max_wait,
            codel: config.overload.map(|o| CoDel {
                target: o.target,
                interval: o.interval,
            }),
        };
        Partition {
            semaphore: Semaphore::new(config.name.clone(), key, config.max_concurrent, rules),
            adaptive: config
                .adaptive
                .as_ref()
                .map(|a| Mutex::new(Algorithm::new(a, config.max_concurrent))),
        }
    }

    /// Whether the limit adapts (then each call is timed and sampled).
    #[inline]
    pub(crate) fn is_adaptive(&self) -> bool {
        self.adaptive.is_some()
    }

    /// Learns from one finished call, still holding its permit.
    pub(crate) fn sample(&self, name: &Name, latency: Duration, failed: bool) {
        let Some(adaptive) = &self.adaptive else {
            return;
        };
        let sample = Sample {
            latency,
            in_flight: self.semaphore.counts().in_flight,
            failed,
        };
        let limit = adaptive.lock().update(sample);
        let old = self.semaphore.counts().limit;
        if limit != old {
            tracing::debug!(policy = %name, old, new = limit, "bulkhead limit adapted");
            self.semaphore.set_limit(limit);
        }
    }

    /// Runs one call under this partition.
    #[inline]
    pub(crate) fn run<'p, 'a, T, E, N>(
        &'p self,
        name: &'p Name,
        counters: &'p Counters,
        ctx: Context<'a>,
        next: N,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + use<'p, 'a, T, E, N>
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        RunFuture::new(self, name, counters, ctx, next, |next: N, ctx| {
            next.invoke(ctx)
        })
    }

    /// Runs `op` under this partition: [`run`](Self::run) for a caller's
    /// own operation, which the future owns and invokes once a permit is
    /// held.
    #[inline]
    pub(crate) fn run_op<'p, 'a, T, E, Op>(
        &'p self,
        name: &'p Name,
        counters: &'p Counters,
        ctx: Context<'a>,
        op: Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + use<'p, 'a, T, E, Op>
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        // The attempt's future borrows nothing from `op`, so `op` can go once
        // it has started.
        RunFuture::new(self, name, counters, ctx, op, |op: Op, ctx| {
            Leaf::new(&op).start(ctx)
        })
    }
}
