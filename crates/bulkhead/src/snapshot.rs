//! What a bulkhead reports about itself.

use steadfast_core::Name;

/// A bulkhead's limit, load and refusals, for `/health` and metrics.
///
/// For a [`KeyedBulkhead`](crate::KeyedBulkhead), `limit` is each key's
/// starting limit, `in_flight` and `waiting` are summed over its keys, and
/// `keys` counts them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkheadSnapshot {
    /// The bulkhead's name.
    pub name: Name,
    /// The concurrency limit now (it moves when adaptive).
    pub limit: u32,
    /// Calls holding a permit.
    pub in_flight: u32,
    /// Callers queued for a permit.
    pub waiting: u32,
    /// Whether a caller found no permit since the last time one was free
    /// with nobody waiting.
    pub saturated: bool,
    /// Calls refused because every permit was taken and the queue was full
    /// (or, for a keyed bulkhead, every key slot was busy).
    pub rejected: u64,
    /// Callers refused after waiting `max_wait` in the queue.
    pub queue_timeouts: u64,
    /// Callers refused by CoDel overload rejection.
    pub overloaded: u64,
    /// Partitions held (1 for an unkeyed bulkhead).
    pub keys: usize,
}
