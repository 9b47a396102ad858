//! Retry-After: when the dependency says when to come back.

use std::time::Duration;

/// Reads a Retry-After hint from the operation's result: an HTTP
/// `Retry-After` header, a `429` body, a gRPC `RetryInfo`.
///
/// The hint sets a floor on the next wait (the backoff's wait is used when it
/// is longer), capped by the policy's maximum delay; a retry that could not
/// start before the call's deadline is not made. Any
/// `Fn(&Result<T, E>) -> Option<Duration>` closure is an extractor:
///
/// ```
/// use std::time::Duration;
/// use steadfast_retry::RetryAfter;
///
/// struct Response { status: u16, retry_after_secs: Option<u64> }
///
/// let from_header = |r: &Result<Response, std::io::Error>| match r {
///     Ok(resp) if resp.status == 429 || resp.status == 503 => {
///         resp.retry_after_secs.map(Duration::from_secs)
///     }
///     _ => None,
/// };
/// let busy = Ok(Response { status: 503, retry_after_secs: Some(2) });
/// assert_eq!(from_header.retry_after(&busy), Some(Duration::from_secs(2)));
/// ```
///
/// Rejections by inner policies (a rate limiter, a breaker) carry their own
/// `retry_after`, which the policy reads without an extractor.
pub trait RetryAfter<T, E>: Send + Sync {
    /// The wait the dependency asked for, if it said.
    fn retry_after(&self, result: &Result<T, E>) -> Option<Duration>;
}

impl<F, T, E> RetryAfter<T, E> for F
where
    F: Fn(&Result<T, E>) -> Option<Duration> + Send + Sync,
{
    #[inline]
    fn retry_after(&self, result: &Result<T, E>) -> Option<Duration> {
        self(result)
    }
}

/// The default extractor: the operation never gives a hint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoRetryAfter;

impl<T, E> RetryAfter<T, E> for NoRetryAfter {
    #[inline]
    fn retry_after(&self, _result: &Result<T, E>) -> Option<Duration> {
        None
    }
}
