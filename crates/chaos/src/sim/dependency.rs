//! The simulated dependency: servers of fixed capacity behind a bounded
//! queue, whose work goes on after the caller has given up on it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{Semaphore, oneshot};
use tokio::time::Instant;

use super::scenario::{Condition, Scenario};
use crate::rng::Draws;

/// Why the dependency did not answer a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DependencyError {
    /// It is down: the request fails at once.
    Down,
    /// It served the request and failed it (the `Errors` condition).
    Failed,
    /// Its queue is full: refused at once.
    Overloaded,
}

impl fmt::Display for DependencyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DependencyError::Down => "the dependency is down",
            DependencyError::Failed => "the dependency failed the request",
            DependencyError::Overloaded => "the dependency is overloaded",
        })
    }
}

impl std::error::Error for DependencyError {}

pub(crate) struct Inner {
    servers: Arc<Semaphore>,
    /// Requests queued or in service.
    in_system: AtomicUsize,
    queue: usize,
    capacity: usize,
    service_time: Duration,
    started: Instant,
    phases: Vec<(Duration, Condition)>,
    draws: Draws,
    /// Attempts that reached the dependency, per bucket of the run.
    pub(crate) attempts: Mutex<Vec<u64>>,
    pub(crate) bucket: Duration,
    pub(crate) total_attempts: AtomicU64,
}

/// The simulated dependency a pipeline's operation calls: `capacity`
/// servers each taking `service_time` per request (scaled by the phase's
/// condition), a FIFO queue of `queue` requests before it refuses, and
/// requests served whether or not their caller still waits (the work an
/// abandoned request costs is what keeps an overloaded service down).
#[derive(Clone)]
pub struct Dependency {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dependency")
            .field("capacity", &self.inner.capacity)
            .field("in_system", &self.inner.in_system.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl Dependency {
    pub(crate) fn new(scenario: &Scenario) -> Self {
        let mut at = Duration::ZERO;
        let phases = scenario
            .phases
            .iter()
            .map(|phase| {
                at += phase.duration;
                (at, phase.condition)
            })
            .collect();
        let spec = &scenario.dependency;
        Dependency {
            inner: Arc::new(Inner {
                servers: Arc::new(Semaphore::new(spec.capacity)),
                in_system: AtomicUsize::new(0),
                queue: spec.queue,
                capacity: spec.capacity,
                service_time: spec.service_time,
                started: Instant::now(),
                phases,
                draws: Draws::new(scenario.seed ^ 0xd1b5_4a32_d192_ed03),
                attempts: Mutex::new(Vec::new()),
                bucket: scenario.bucket,
                total_attempts: AtomicU64::new(0),
            }),
        }
    }

    /// The condition now.
    fn condition(&self) -> Condition {
        let at = self.inner.started.elapsed();
        self.inner
            .phases
            .iter()
            .find(|(end, _)| at < *end)
            .map_or(Condition::Healthy, |(_, condition)| *condition)
    }

    fn count_attempt(&self) {
        let inner = &*self.inner;
        inner.total_attempts.fetch_add(1, Relaxed);
        let bucket = bucket_of(inner.started.elapsed(), inner.bucket);
        let mut attempts = inner.attempts.lock();
        if attempts.len() <= bucket {
            attempts.resize(bucket + 1, 0);
        }
        attempts[bucket] += 1;
    }

    /// One request, as the phase's condition answers it.
    pub async fn call(&self) -> Result<(), DependencyError> {
        self.count_attempt();
        let condition = self.condition();
        let inner = &self.inner;
        let service = match condition {
            Condition::Outage => {
                // Connection refused: a millisecond, no server's time.
                tokio::time::sleep(Duration::from_millis(1)).await;
                return Err(DependencyError::Down);
            }
            Condition::Slow(times) => inner.service_time.mul_f64(times),
            Condition::Capacity(share) => inner.service_time.div_f64(share),
            Condition::Healthy | Condition::Errors(_) => inner.service_time,
        };
        if inner.in_system.load(Relaxed) >= inner.capacity + inner.queue {
            return Err(DependencyError::Overloaded);
        }
        inner.in_system.fetch_add(1, Relaxed);
        let fails = matches!(condition, Condition::Errors(rate) if inner.draws.unit() < rate);
        let (done, answer) = oneshot::channel();
        let (servers, me) = (Arc::clone(&inner.servers), Arc::clone(inner));
        // The server's work is its own task: it goes on if the caller leaves.
        tokio::spawn(async move {
            if let Ok(_permit) = servers.acquire().await {
                tokio::time::sleep(service).await;
            }
            me.in_system.fetch_sub(1, Relaxed);
            let _ = done.send(());
        });
        drop(answer.await);
        if fails {
            Err(DependencyError::Failed)
        } else {
            Ok(())
        }
    }
}

pub(crate) fn bucket_of(at: Duration, bucket: Duration) -> usize {
    usize::try_from(at.as_nanos() / bucket.as_nanos().max(1)).unwrap_or(usize::MAX)
}
