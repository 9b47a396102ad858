//! Classification: was a call a success, a failure, or not worth counting?
//!
//! Policies that judge outcomes (a breaker, a retry, a fallback, a cache's
//! stale-if-error) take a [`Classifier`]. It looks at the whole result, so an
//! `Ok` can be a failure (an HTTP 503 inside a response) and an `Err` can be
//! ignored (a 404 says nothing about the dependency's health).

use crate::Error;

/// The verdict a classifier gives a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The dependency did its job.
    Success,
    /// The dependency failed: count it, retry it, fall back.
    Failure,
    /// Says nothing about the dependency (a client error, a cancelled request).
    Ignore,
}

/// Decides the [`Outcome`] of a call from its result.
///
/// Any `Fn(&Result<T, E>) -> Outcome` closure is a classifier:
///
/// ```
/// use steadfast_core::{Classifier, Outcome};
///
/// struct Response { status: u16 }
///
/// let by_status = |r: &Result<Response, std::io::Error>| match r {
///     Ok(resp) if resp.status >= 500 => Outcome::Failure,
///     Ok(resp) if resp.status == 404 => Outcome::Ignore,
///     Ok(_) => Outcome::Success,
///     Err(_) => Outcome::Failure,
/// };
/// assert_eq!(by_status.classify(&Ok(Response { status: 503 })), Outcome::Failure);
/// assert_eq!(by_status.classify(&Ok(Response { status: 404 })), Outcome::Ignore);
/// ```
///
/// Rejections by inner policies (a timeout inside a breaker) go to
/// [`classify_rejection`](Classifier::classify_rejection), which counts them
/// as failures unless overridden.
pub trait Classifier<T, E>: Send + Sync {
    /// The outcome of a call that reached the operation.
    fn classify(&self, result: &Result<T, E>) -> Outcome;

    /// The outcome of a call an inner policy rejected (never [`Error::Inner`]).
    fn classify_rejection(&self, rejection: &Error<E>) -> Outcome {
        let _ = rejection;
        Outcome::Failure
    }
}

impl<F, T, E> Classifier<T, E> for F
where
    F: Fn(&Result<T, E>) -> Outcome + Send + Sync,
{
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        self(result)
    }
}

/// The default classifier: every `Ok` succeeds, every `Err` and every rejection fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefaultClassifier;

impl<T, E> Classifier<T, E> for DefaultClassifier {
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        if result.is_ok() {
            Outcome::Success
        } else {
            Outcome::Failure
        }
    }
}

/// Classifies a pipeline result and hands it back unchanged.
///
/// The result is moved into a `Result<T, E>` for the classifier to see and
/// moved back: no clone, whatever `T` and `E` are.
///
/// ```
/// use steadfast_core::{DefaultClassifier, Error, Outcome, TimedOut, classify};
/// use std::time::Duration;
///
/// let (outcome, result) = classify(&DefaultClassifier, Ok::<u8, Error<()>>(1));
/// assert_eq!((outcome, result), (Outcome::Success, Ok(1)));
/// let timed_out: Result<u8, Error<()>> = Err(TimedOut::new("t", Duration::from_secs(1)).into());
/// assert_eq!(classify(&DefaultClassifier, timed_out).0, Outcome::Failure);
/// ```
#[inline]
pub fn classify<T, E, C>(
    classifier: &C,
    result: Result<T, Error<E>>,
) -> (Outcome, Result<T, Error<E>>)
where
    C: Classifier<T, E> + ?Sized,
{
    match result {
        Ok(value) => {
            let result = Ok(value);
            (classifier.classify(&result), result.map_err(Error::Inner))
        }
        Err(Error::Inner(error)) => {
            let result = Err(error);
            (classifier.classify(&result), result.map_err(Error::Inner))
        }
        Err(rejection) => (classifier.classify_rejection(&rejection), Err(rejection)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BulkheadFull;

    #[test]
    fn default_classifier() {
        assert_eq!(
            classify(&DefaultClassifier, Ok::<_, Error<()>>(())).0,
            Outcome::Success
        );
        assert_eq!(
            classify(&DefaultClassifier, Err::<(), _>(Error::Inner(()))).0,
            Outcome::Failure
        );
        let rejected: Result<(), Error<()>> = Err(BulkheadFull::new("b").into());
        assert_eq!(classify(&DefaultClassifier, rejected).0, Outcome::Failure);
    }

    #[test]
    fn closures_may_ignore_rejections() {
        struct IgnoreRejections;
        impl Classifier<u8, u8> for IgnoreRejections {
            fn classify(&self, r: &Result<u8, u8>) -> Outcome {
                if matches!(r, Err(4)) {
                    Outcome::Ignore
                } else {
                    Outcome::Success
                }
            }
            fn classify_rejection(&self, _: &Error<u8>) -> Outcome {
                Outcome::Ignore
            }
        }
        assert_eq!(
            classify(&IgnoreRejections, Err(Error::Inner(4))),
            (Outcome::Ignore, Err(Error::Inner(4)))
        );
        assert_eq!(
            classify(&IgnoreRejections, Ok(4)),
            (Outcome::Success, Ok(4))
        );
        let rejected: Result<u8, Error<u8>> = Err(BulkheadFull::new("b").into());
        assert_eq!(classify(&IgnoreRejections, rejected).0, Outcome::Ignore);
    }
}
