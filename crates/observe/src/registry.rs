//! The registry of named policies.

use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::health::{HealthReport, PolicyHealth, Seen, Status, judge};
use crate::report::{Observe, PolicyReport};

struct Entry {
    name: String,
    critical: bool,
    policy: Arc<dyn Observe>,
}

/// Named policies, registered once, read at every report or scrape.
///
/// A registry holds a clone of each policy (clones share state), so it reads
/// what every caller's calls did. It is cheap to share: wrap it in an `Arc`
/// for handlers.
///
/// ```
/// use steadfast_breaker::Breaker;
/// use steadfast_bulkhead::Bulkhead;
/// use steadfast_observe::{Registry, Status};
///
/// let payments = Breaker::builder().build().unwrap();
/// let pool = Bulkhead::new(20).unwrap();
/// let registry = Registry::new()
///     .critical("payments", payments.clone())
///     .register("db-pool", pool.clone());
///
/// let health = registry.health();
/// assert_eq!(health.status, Status::Healthy);
/// assert!(health.ready);
/// payments.isolate();
/// let health = registry.health();
/// assert_eq!((health.status, health.ready), (Status::Unhealthy, false));
/// ```
#[derive(Default)]
pub struct Registry {
    entries: Vec<Entry>,
    // What the last health report saw, per entry.
    seen: Mutex<Vec<Seen>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field(
                "policies",
                &self.entries.iter().map(|e| &e.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Registers `policy` under `name`: an open circuit makes the service
    /// `degraded`, still ready.
    #[must_use]
    pub fn register(self, name: impl Into<String>, policy: impl Observe + 'static) -> Self {
        self.add(name.into(), false, Arc::new(policy))
    }

    /// Registers `policy` under `name` as guarding a dependency the service
    /// cannot work without: an open circuit makes the service `unhealthy`
    /// and not ready.
    #[must_use]
    pub fn critical(self, name: impl Into<String>, policy: impl Observe + 'static) -> Self {
        self.add(name.into(), true, Arc::new(policy))
    }

    fn add(mut self, name: String, critical: bool, policy: Arc<dyn Observe>) -> Self {
        let seen = Seen::of(&policy.report());
        self.entries.push(Entry {
            name,
            critical,
            policy,
        });
        self.seen.get_mut().push(seen);
        self
    }

    /// How many policies are registered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every policy's name and snapshot now, in registration order.
    pub fn reports(&self) -> Vec<(&str, PolicyReport)> {
        self.entries
            .iter()
            .map(|e| (e.name.as_str(), e.policy.report()))
            .collect()
    }

    /// The health of every policy and of the service.
    ///
    /// Rules (see `docs/observability.md`): a breaker open or isolated is
    /// `degraded`, `unhealthy` when registered as critical; half-open is
    /// `degraded`; a saturated bulkhead, a limiter that refused calls since
    /// the last report, a cache that served stale answers since the last
    /// report, a spent retry budget and a shedder shedding a class are
    /// `degraded`. "Since the last report" counts from the previous call to
    /// `health` (or registration).
    pub fn health(&self) -> HealthReport {
        let mut seen = self.seen.lock();
        let mut policies = Vec::with_capacity(self.entries.len());
        for (entry, before) in self.entries.iter().zip(seen.iter_mut()) {
            let report = entry.policy.report();
            let (status, reason) = judge(&report, entry.critical, *before);
            *before = Seen::of(&report);
            policies.push(PolicyHealth {
                name: entry.name.clone(),
                kind: report.kind(),
                critical: entry.critical,
                status,
                reason,
            });
        }
        let status = policies
            .iter()
            .map(|p| p.status)
            .max()
            .unwrap_or(Status::Healthy);
        let ready = !policies
            .iter()
            .any(|p| p.critical && p.status == Status::Unhealthy);
        HealthReport {
            status,
            ready,
            policies,
        }
    }
}
