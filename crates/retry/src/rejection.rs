//! What a retry does with each rejection an inner policy can make.
//!
//! The classifier decides whether a rejection is a failure at all; this
//! decides whether retrying it can help, and when.

use std::time::Duration;

use steadfast_core::Error;

/// Whether and when a rejected attempt may be retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Retry after the backoff's wait.
    Backoff,
    /// Retry no sooner than this: the rejecting policy knows it would refuse
    /// an earlier attempt. Not retried when the wait does not fit the maximum
    /// delay or the deadline.
    NotBefore(Duration),
    /// Retrying cannot help.
    Stop,
}

/// The default for each rejection:
///
/// - a timeout: the next attempt may be faster, retried;
/// - a full bulkhead: permits free up as calls finish, retried;
/// - an open circuit or shed load: retried only after its `retry_after`,
///   and not at all when the rejection gives none;
/// - rate limited: retried after its `retry_after`.
pub(crate) fn rule<E>(error: &Error<E>) -> Rule {
    match error {
        Error::Inner(_) | Error::Timeout(_) | Error::BulkheadFull(_) => Rule::Backoff,
        Error::CircuitOpen(_) | Error::Shed(_) | Error::RateLimited(_) => {
            error.retry_after().map_or(Rule::Stop, Rule::NotBefore)
        }
        // A rejection this crate does not know yet: retrying blind could
        // feed the very overload that caused it.
        _ => Rule::Stop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steadfast_core::{BulkheadFull, CircuitOpen, RateLimited, Shed, TimedOut};

    #[test]
    fn defaults() {
        let s = Duration::from_secs;
        let cases: [(Error<()>, Rule); 8] = [
            (Error::Inner(()), Rule::Backoff),
            (TimedOut::new("t", s(1)).into(), Rule::Backoff),
            (BulkheadFull::new("b").into(), Rule::Backoff),
            (CircuitOpen::new("c", None).into(), Rule::Stop),
            (
                CircuitOpen::new("c", Some(s(2))).into(),
                Rule::NotBefore(s(2)),
            ),
            (RateLimited::new("r", s(3)).into(), Rule::NotBefore(s(3))),
            (Shed::new("s", None).into(), Rule::Stop),
            (Shed::new("s", Some(s(4))).into(), Rule::NotBefore(s(4))),
        ];
        for (error, expected) in cases {
            assert_eq!(rule(&error), expected, "{error:?}");
        }
    }
}
