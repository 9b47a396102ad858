//! What a bulkhead reports about itself.

use steadfast_core::Name;

/// A bulkhead's limit, load and refusals, for `/health` and metrics.
///
/// For a [`KeyedBulkhead`](crate::KeyedBulkhead), `limit` is each key's
/// starting limit, `in_flight` and `waiting` are summed over its keys, and
/// `keys` counts them.
///
/// With the `serde` feature it serializes with these field names, which are
/// stable: `name`, `limit`, `in_flight`, `waiting`, `saturated`, `rejected`,
/// `queue_timeouts`, `overloaded`, `missing_keys`, `keys`.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use steadfast_bulkhead::Bulkhead;
/// use steadfast_core::Inspect;
///
/// let db = Bulkhead::builder().name("db").max_concurrent(20).build().unwrap();
/// let json = serde_json::to_string(&db.snapshot()).unwrap();
/// assert_eq!(
///     json,
///     r#"{"name":"db","limit":20,"in_flight":0,"waiting":0,"saturated":false,"rejected":0,"queue_timeouts":0,"overloaded":0,"missing_keys":0,"keys":1}"#
/// );
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
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
    /// Callers refused with [`BulkheadReason::QueueTimeout`](steadfast_core::BulkheadReason::QueueTimeout):
    /// after waiting `max_wait`, or at once or at their deadline because the
    /// wait could not fit it (see [`Bulkhead`](crate::Bulkhead#deadlines)).
    pub queue_timeouts: u64,
    /// Callers refused by CoDel overload rejection.
    pub overloaded: u64,
    /// Calls refused because they carried no key (a keyed bulkhead without
    /// `share_unkeyed`); always 0 for an unkeyed bulkhead.
    pub missing_keys: u64,
    /// Partitions held (1 for an unkeyed bulkhead).
    pub keys: usize,
}
