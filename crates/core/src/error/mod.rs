//! One error for every policy: the operation's own error, or a named rejection.
//!
//! Every policy in a pipeline speaks [`Error<E>`], so composing policies never
//! nests errors: a timeout outside a retry outside a breaker yields
//! `Result<T, Error<E>>`, whichever of them refused the call.

mod config;
mod missing_key;
mod rejection;

use std::time::Duration;

pub use config::ConfigError;
pub use missing_key::MissingKey;
pub use rejection::{
    BulkheadFull, BulkheadReason, CircuitOpen, ProbeOrigin, RateLimited, Shed, TimedOut,
};

/// The error of a call made through steadfast policies.
///
/// Either the operation failed with its own error ([`Error::Inner`], kept as
/// is), or a policy refused or cancelled the call. Rejections carry the
/// policy's name, [`retry_after`](Error::retry_after) where one is known, and
/// a [`message`](Error::message) fit to show a person.
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::{Error, RateLimited};
///
/// let err: Error<std::io::Error> =
///     RateLimited::new("api-per-user", Duration::from_millis(2_400)).into();
/// assert!(err.is_rejection());
/// assert_eq!(err.retry_after(), Some(Duration::from_millis(2_400)));
/// assert_eq!(err.policy_name(), Some("api-per-user"));
/// assert_eq!(err.message(), "Too many requests. Try again in 3 s.");
/// assert_eq!(err.to_string(), "api-per-user: rate limited, retry after 2.4s");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error<E> {
    /// The operation itself failed; its error is kept as is.
    #[error(transparent)]
    Inner(E),
    /// A timeout cancelled the call.
    #[error(transparent)]
    Timeout(TimedOut),
    /// A circuit breaker refused the call.
    #[error(transparent)]
    CircuitOpen(CircuitOpen),
    /// A rate limiter refused the call.
    #[error(transparent)]
    RateLimited(RateLimited),
    /// A bulkhead was full.
    #[error(transparent)]
    BulkheadFull(BulkheadFull),
    /// A load shedder refused the call.
    #[error(transparent)]
    Shed(Shed),
    /// A keyed policy found no key of its own in the call's context.
    #[error(transparent)]
    MissingKey(MissingKey),
}

/// Which kind of [`Error`] this is, without its payload; cheap to match on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::Inner`].
    Inner,
    /// [`Error::Timeout`].
    Timeout,
    /// [`Error::CircuitOpen`].
    CircuitOpen,
    /// [`Error::RateLimited`].
    RateLimited,
    /// [`Error::BulkheadFull`].
    BulkheadFull,
    /// [`Error::Shed`].
    Shed,
    /// [`Error::MissingKey`].
    MissingKey,
}

impl<E> Error<E> {
    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Inner(_) => ErrorKind::Inner,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::CircuitOpen(_) => ErrorKind::CircuitOpen,
            Error::RateLimited(_) => ErrorKind::RateLimited,
            Error::BulkheadFull(_) => ErrorKind::BulkheadFull,
            Error::Shed(_) => ErrorKind::Shed,
            Error::MissingKey(_) => ErrorKind::MissingKey,
        }
    }

    /// Whether a policy refused or cancelled the call (anything but [`Error::Inner`]).
    pub fn is_rejection(&self) -> bool {
        !matches!(self, Error::Inner(_))
    }

    /// Whether a policy in this process refused the call before it reached
    /// the dependency, so the refusal says nothing about the dependency's
    /// health: a full bulkhead, a rate limit or lockout, a shed, a missing
    /// key, or an inner breaker's open circuit.
    ///
    /// A timeout is not one: the dependency was called and was too slow.
    /// Breakers ignore local refusals by default, so a full bulkhead inside a
    /// breaker never opens it.
    pub fn is_local_refusal(&self) -> bool {
        matches!(
            self,
            Error::CircuitOpen(_)
                | Error::RateLimited(_)
                | Error::BulkheadFull(_)
                | Error::Shed(_)
                | Error::MissingKey(_)
        )
    }

    /// The operation's own error, if that is what this is.
    pub fn inner(&self) -> Option<&E> {
        match self {
            Error::Inner(e) => Some(e),
            _ => None,
        }
    }

    /// Takes the operation's own error out; `None` for a rejection.
    pub fn into_inner(self) -> Option<E> {
        match self {
            Error::Inner(e) => Some(e),
            _ => None,
        }
    }

    /// Converts the operation's error with `f`, keeping rejections as they are.
    pub fn map_inner<F, O>(self, f: F) -> Error<O>
    where
        F: FnOnce(E) -> O,
    {
        match self {
            Error::Inner(e) => Error::Inner(f(e)),
            Error::Timeout(r) => Error::Timeout(r),
            Error::CircuitOpen(r) => Error::CircuitOpen(r),
            Error::RateLimited(r) => Error::RateLimited(r),
            Error::BulkheadFull(r) => Error::BulkheadFull(r),
            Error::Shed(r) => Error::Shed(r),
            Error::MissingKey(r) => Error::MissingKey(r),
        }
    }

    /// How long to wait before the same call may succeed, when the policy knows.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Inner(_) => None,
            Error::Timeout(r) => r.retry_after(),
            Error::CircuitOpen(r) => r.retry_after(),
            Error::RateLimited(r) => r.retry_after(),
            Error::BulkheadFull(r) => r.retry_after(),
            Error::Shed(r) => r.retry_after(),
            Error::MissingKey(r) => r.retry_after(),
        }
    }

    /// The name of the policy that rejected the call; `None` for [`Error::Inner`].
    pub fn policy_name(&self) -> Option<&str> {
        match self {
            Error::Inner(_) => None,
            Error::Timeout(r) => Some(r.policy_name()),
            Error::CircuitOpen(r) => Some(r.policy_name()),
            Error::RateLimited(r) => Some(r.policy_name()),
            Error::BulkheadFull(r) => Some(r.policy_name()),
            Error::Shed(r) => Some(r.policy_name()),
            Error::MissingKey(r) => Some(r.policy_name()),
        }
    }

    /// A message for a person, fit for an HTTP body.
    ///
    /// The operation's own error is not shown (it may hold internal details);
    /// log it with `Display` instead.
    pub fn message(&self) -> String {
        match self {
            Error::Inner(_) => "Something went wrong. Please try again.".to_owned(),
            Error::Timeout(r) => r.message(),
            Error::CircuitOpen(r) => r.message(),
            Error::RateLimited(r) => r.message(),
            Error::BulkheadFull(r) => r.message(),
            Error::Shed(r) => r.message(),
            Error::MissingKey(r) => r.message(),
        }
    }
}

impl<E> Error<E> {
    /// Splits the operation's own error from a rejection: `Ok` holds the
    /// rejection with the operation's error type gone (an HTTP layer turns it
    /// into a response for any `E`), `Err` the operation's error untouched.
    ///
    /// ```
    /// use std::time::Duration;
    /// use steadfast_core::{Error, ErrorKind, RateLimited};
    ///
    /// let refused: Error<std::io::Error> = RateLimited::new("api", Duration::from_secs(1)).into();
    /// assert_eq!(refused.into_rejection().unwrap().kind(), ErrorKind::RateLimited);
    ///
    /// let failed = Error::Inner(std::io::Error::other("disk"));
    /// assert_eq!(failed.into_rejection().unwrap_err().to_string(), "disk");
    /// ```
    pub fn into_rejection(self) -> Result<Error<std::convert::Infallible>, E> {
        match self {
            Error::Inner(inner) => Err(inner),
            Error::Timeout(r) => Ok(Error::Timeout(r)),
            Error::CircuitOpen(r) => Ok(Error::CircuitOpen(r)),
            Error::RateLimited(r) => Ok(Error::RateLimited(r)),
            Error::BulkheadFull(r) => Ok(Error::BulkheadFull(r)),
            Error::Shed(r) => Ok(Error::Shed(r)),
            Error::MissingKey(r) => Ok(Error::MissingKey(r)),
        }
    }
}

impl<E> Error<Error<E>> {
    /// Takes one level of nesting out: an inner rejection becomes this
    /// error's rejection, with its kind, name, `retry_after` and message.
    ///
    /// [`Policy::call_flat`](crate::Policy::call_flat) avoids the nesting in
    /// the first place, so the policies around the call see the inner
    /// rejection as what it is.
    ///
    /// ```
    /// use std::time::Duration;
    /// use steadfast_core::{Error, ErrorKind, RateLimited};
    ///
    /// let inner: Error<std::io::Error> = RateLimited::new("per-user", Duration::from_secs(3)).into();
    /// let nested: Error<Error<std::io::Error>> = Error::Inner(inner);
    /// let flat = nested.flatten();
    /// assert_eq!(flat.kind(), ErrorKind::RateLimited);
    /// assert_eq!(flat.retry_after(), Some(Duration::from_secs(3)));
    /// ```
    pub fn flatten(self) -> Error<E> {
        match self {
            Error::Inner(inner) => inner,
            Error::Timeout(r) => Error::Timeout(r),
            Error::CircuitOpen(r) => Error::CircuitOpen(r),
            Error::RateLimited(r) => Error::RateLimited(r),
            Error::BulkheadFull(r) => Error::BulkheadFull(r),
            Error::Shed(r) => Error::Shed(r),
            Error::MissingKey(r) => Error::MissingKey(r),
        }
    }
}

macro_rules! from_rejection {
    ($($variant:ident($payload:ident)),* $(,)?) => {$(
        impl<E> From<$payload> for Error<E> {
            fn from(rejection: $payload) -> Self {
                Error::$variant(rejection)
            }
        }
    )*};
}

from_rejection!(
    MissingKey(MissingKey),
    Timeout(TimedOut),
    CircuitOpen(CircuitOpen),
    RateLimited(RateLimited),
    BulkheadFull(BulkheadFull),
    Shed(Shed),
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[derive(Debug, thiserror::Error)]
    #[error("db down")]
    struct DbDown(#[source] std::io::Error);

    #[test]
    fn inner_is_transparent_and_chains_source() {
        let err: Error<DbDown> = Error::Inner(DbDown(std::io::Error::other("refused")));
        assert_eq!(err.to_string(), "db down");
        assert_eq!(
            err.source().map(ToString::to_string),
            Some("refused".to_owned())
        );
        assert!(!err.is_rejection());
        assert_eq!(err.kind(), ErrorKind::Inner);
        assert_eq!(err.message(), "Something went wrong. Please try again.");
        assert!(err.into_inner().is_some());
    }

    /// An error, and its kind, display, retry-after and message.
    type Case = (
        Error<DbDown>,
        ErrorKind,
        &'static str,
        Option<Duration>,
        &'static str,
    );

    #[test]
    fn rejections_name_their_policy() {
        let cases: Vec<Case> = vec![
            (
                TimedOut::new("t", Duration::from_millis(250)).into(),
                ErrorKind::Timeout,
                "t: timed out after 250ms",
                None,
                "The request took too long. Please try again.",
            ),
            (
                CircuitOpen::new("b", Some(Duration::from_secs(30))).into(),
                ErrorKind::CircuitOpen,
                "b: circuit open, next probe in 30s",
                Some(Duration::from_secs(30)),
                "Service temporarily unavailable. Try again in 30 s.",
            ),
            (
                RateLimited::new("r", Duration::from_secs(3)).into(),
                ErrorKind::RateLimited,
                "r: rate limited, retry after 3s",
                Some(Duration::from_secs(3)),
                "Too many requests. Try again in 3 s.",
            ),
            (
                BulkheadFull::new("k").into(),
                ErrorKind::BulkheadFull,
                "k: bulkhead full",
                None,
                "Server busy, please try again shortly.",
            ),
            (
                Shed::new("s", None).into(),
                ErrorKind::Shed,
                "s: load shed",
                None,
                "Server busy, please try again shortly.",
            ),
        ];
        for (err, kind, display, retry_after, message) in cases {
            assert!(err.is_rejection());
            assert_eq!(err.kind(), kind);
            assert_eq!(err.to_string(), display);
            assert_eq!(err.retry_after(), retry_after);
            assert_eq!(err.message(), message);
            assert_eq!(err.policy_name().map(str::len), Some(1));
            assert!(err.source().is_none());
            assert!(err.inner().is_none());
        }
    }

    #[test]
    fn error_stays_four_words() {
        // Every layer of a pipeline moves its result: keep rejections small.
        assert_eq!(
            std::mem::size_of::<Error<()>>(),
            4 * std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn map_inner_keeps_rejections() {
        let err: Error<u8> = Error::Inner(7);
        assert_eq!(err.map_inner(u16::from), Error::Inner(7u16));
        let err: Error<u8> = BulkheadFull::new("k").into();
        assert_eq!(
            err.map_inner(u16::from),
            Error::BulkheadFull(BulkheadFull::new("k"))
        );
    }
}
