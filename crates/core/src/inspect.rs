//! The naming and snapshot convention every policy follows.

/// A policy with a name and a cheap snapshot of its state and counters.
///
/// Services build `/health`, `/ready` and metrics from snapshots: a breaker's
/// state and failure rate, a bulkhead's in-flight count, a cache's hit ratio.
/// A snapshot is a plain value (`Clone + Debug`), taken without blocking the
/// policy's hot path.
pub trait Inspect {
    /// The plain value [`snapshot`](Inspect::snapshot) returns.
    type Snapshot: Clone + std::fmt::Debug + Send + Sync + 'static;

    /// The policy's name, as shown in errors, events and snapshots.
    fn name(&self) -> &str;

    /// The policy's state and counters now.
    fn snapshot(&self) -> Self::Snapshot;
}
