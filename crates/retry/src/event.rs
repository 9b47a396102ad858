//! What the `on_retry` hook is told.

use std::time::Duration;

use steadfast_core::{ErrorKind, Outcome};

/// A retry about to happen, as told to the [`on_retry`](crate::RetryBuilder::on_retry) hook.
///
/// The hook runs on the caller's task just before the wait, so keep it
/// short: count, log, record a metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryEvent<'a> {
    /// The name of the retry policy.
    pub policy: &'a str,
    /// The attempt that failed (1 for the first); the retry is `attempt + 1`.
    pub attempt: u32,
    /// The wait before the retry.
    pub delay: Duration,
    /// How the classifier judged the failed attempt (always
    /// [`Outcome::Failure`] today; a field so hooks need not assume it).
    pub outcome: Outcome,
    /// The kind of error the attempt ended with; `None` when it returned an
    /// `Ok` that the classifier counted as a failure (an HTTP 503).
    pub error: Option<ErrorKind>,
    /// The Retry-After hint that set a floor on the wait, if any.
    pub retry_after: Option<Duration>,
}
