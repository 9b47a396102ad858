//! Bulkheads: cap how many calls reach a dependency at once, so one slow
//! dependency cannot take every task with it.
//!
//! # Overview
//!
//! A [`Bulkhead`] works like a connection pool in front of a dependency: at
//! most `max_concurrent` calls run at once. Callers beyond that wait in a
//! FIFO queue of at most `max_queued` (0 refuses them at once) for at most
//! `max_wait`, and are otherwise refused with
//! [`Error::BulkheadFull`](steadfast_core::Error::BulkheadFull), whose
//! [`reason`](steadfast_core::BulkheadFull::reason) tells a full queue
//! ([`BulkheadReason::Full`]) from a queue timeout
//! ([`BulkheadReason::QueueTimeout`]) and from overload
//! ([`BulkheadReason::Overloaded`]).
//!
//! - **Arrival order**: queued callers get permits first come, first served;
//!   a newcomer never overtakes the queue.
//! - **Cancellation safety**: a queued caller whose future is dropped leaves
//!   the queue; a call dropped mid-way gives its permit back; a permit handed
//!   to a waiter as it is dropped passes to the next one.
//! - **Overload** ([`OverloadConfig`]): CoDel-style, once the queue has stayed
//!   non-empty for an interval, callers that waited past a target are
//!   refused, so queue time cannot grow without bound.
//! - **Adaptive limit** ([`adaptive`]): AIMD or a latency gradient moves the
//!   limit between a minimum and a maximum as latency and failures change.
//! - **Keyed** ([`KeyedBulkhead`]): a bulkhead per tenant or per host,
//!   bounded in memory; a call without a key is refused with
//!   [`Error::MissingKey`](steadfast_core::Error::MissingKey) unless the
//!   config opts in to a shared partition.
//! - **Deadlines**: inside a timeout, a caller is queued only if its wait
//!   can end before the call's deadline, and refused at once otherwise; see
//!   [`Bulkhead`](Bulkhead#deadlines).
//! - **Observability**: [`Inspect::snapshot`](steadfast_core::Inspect::snapshot)
//!   gives the limit, in flight, waiting and refusal counts; `tracing` INFO
//!   events mark when saturation starts ("bulkhead saturated") and ends
//!   ("bulkhead no longer saturated").
//!
//! # Cost
//!
//! When a permit is free and nobody waits, a call costs one compare-and-swap
//! to take the permit and one to give it back, and allocates nothing. The
//! queue (a lock and a slab of waiters whose nodes are reused) is only
//! touched when the bulkhead is full; a caller that has to wait allocates its
//! wait state (its queue place and timer) once, so that every call's future
//! stays small. An adaptive limit adds two clock reads and a short lock per
//! call.
//!
//! # Sizing
//!
//! Size a bulkhead from what is behind it: a pool of 20 database connections
//! gets `max_concurrent(20)`; more would only queue inside the pool, where
//! nobody can see or bound the wait. Give the queue room for a short burst
//! (`max_queued` about the number of calls the dependency completes in
//! `max_wait`) and a `max_wait` well under the caller's own timeout. See
//! `docs/bulkhead.md` in the repository.
//!
//! # Usage
//!
//! ```
//! use std::time::Duration;
//! use steadfast_bulkhead::Bulkhead;
//! use steadfast_core::{BulkheadReason, Error, Inspect, Policy};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Bulkhead::builder()
//!     .name("db")
//!     .max_concurrent(20)
//!     .max_queued(100)
//!     .max_wait(Duration::from_millis(250))
//!     .overload(Duration::from_millis(5), Duration::from_millis(100))
//!     .build()?;
//!
//! match db.call(|| async { Ok::<_, std::io::Error>("row") }).await {
//!     Ok(row) => assert_eq!(row, "row"),
//!     Err(Error::BulkheadFull(full)) if full.reason() == BulkheadReason::QueueTimeout => {
//!         eprintln!("waited too long: {}", full.message())
//!     }
//!     Err(e) => eprintln!("{e}"),
//! }
//! assert_eq!(db.snapshot().in_flight, 0);
//! # Ok(())
//! # }
//! ```
//!
//! # Feature flags
//!
//! - `serde`: the configs ([`BulkheadConfig`], [`KeyedBulkheadConfig`], the
//!   adaptive ones) serialize and deserialize, durations written as
//!   `"250ms"` or `"30s"`, so a pipeline's bulkheads can be described in a
//!   TOML or JSON file; [`BulkheadSnapshot`] serializes, for `/health` and
//!   metrics.
//!
//! # Minimum supported Rust version
//!
//! Rust 1.88, edition 2024.

mod acquire;
pub mod adaptive;
mod bulkhead;
mod config;
mod future;
mod keyed;
mod partition;
mod queue;
mod semaphore;
#[cfg(feature = "serde")]
mod serde_text;
mod snapshot;
mod sync;

#[cfg(all(test, loom))]
mod loom_tests;

pub use adaptive::{AdaptiveConfig, AimdConfig, GradientConfig};
pub use bulkhead::Bulkhead;
pub use config::{
    BulkheadBuilder, BulkheadConfig, KeyedBulkheadBuilder, KeyedBulkheadConfig, OverloadConfig,
};
pub use keyed::KeyedBulkhead;
pub use snapshot::BulkheadSnapshot;
pub use steadfast_core::{BulkheadFull, BulkheadReason};
