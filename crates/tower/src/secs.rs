//! Durations as the whole seconds headers and metadata carry.

use std::time::Duration;

/// Whole seconds, rounded up: a client told "0" would come back at once and
/// be refused again.
#[allow(dead_code)] // Used by the `http` and `grpc` features.
pub(crate) fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}
