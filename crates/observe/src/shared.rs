//! The report of a policy whose state lives in a shared store (Redis).

use steadfast_core::Name;

/// A policy whose state is shared by every instance through a store
/// (steadfast-redis's limiter), as the registry reads it: its counters and
/// whether it is answering from its local fallback because the store
/// cannot. Stores' crates convert their snapshots into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedSnapshot {
    /// The policy's name.
    pub name: Name,
    /// The store, as events and reasons name it (`"Redis"`).
    pub store: &'static str,
    /// Calls admitted.
    pub admitted: u64,
    /// Calls refused.
    pub rejected: u64,
    /// Requests to the store that failed or timed out.
    pub store_errors: u64,
    /// Whether calls are answered by the local fallback now.
    pub fallback_active: bool,
}
