//! Fallbacks: answer a failed call with the next best thing.
//!
//! A [`Fallback`] runs the call and, when it fails, answers with a value made
//! by a closure that sees the error: a canned message ("AI temporarily
//! unavailable, try again soon"), a default, a call to a backup service.
//!
//! # Which failures
//!
//! By default every `Err` that the [`Classifier`] calls a failure (with the
//! [`DefaultClassifier`], every `Err`, rejections included). With
//! [`FallbackBuilder::only_on`], only the chosen kinds: answer an open circuit
//! or a timeout, but let the operation's own errors through. An `Ok` is never
//! replaced; an operation whose `Ok` can mean failure (an HTTP 503 body)
//! should turn it into an `Err` first.
//!
//! # Fallbacks that do not lie
//!
//! A fallback answer is not the real answer. Make it say so (a message that
//! tells the user to try again, a flag in the response), or use
//! [`LastKnownGood`](crate::LastKnownGood), whose answers carry their age.

mod future;
mod produce;
mod trigger;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use steadfast_core::{
    Classifier, Context, DefaultClassifier, Error, ErrorKind, Inspect, Name, Next, Outcome, Policy,
    classify,
};

use future::FallbackFuture;
pub use produce::{FromAsync, FromFn, NoFuture, Produce, Produced};
pub use trigger::KindSet;

/// Answers failed calls with a fallback value; see the [module docs](self).
///
/// ```
/// use steadfast_degrade::Fallback;
/// use steadfast_core::{Policy, testing::TestError};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let fallback = Fallback::from_fn(|_| "AI temporarily unavailable, try again soon".to_owned());
/// let answer = fallback.call(|| async { Err::<String, _>(TestError::new("model overloaded")) }).await;
/// assert_eq!(answer.unwrap(), "AI temporarily unavailable, try again soon");
/// # }
/// ```
pub struct Fallback<P, C = DefaultClassifier> {
    shared: Arc<Shared<P, C>>,
}

struct Shared<P, C> {
    name: Name,
    produce: P,
    classifier: C,
    only_on: Option<KindSet>,
    served: AtomicU64,
    passed: AtomicU64,
}

impl<P, C> Clone for Fallback<P, C> {
    fn clone(&self) -> Self {
        Fallback {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<P, C> fmt::Debug for Fallback<P, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fallback")
            .field("name", &self.shared.name)
            .field("only_on", &self.shared.only_on)
            .finish_non_exhaustive()
    }
}

/// A [`Fallback`]'s name and counters.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct FallbackSnapshot {
    /// The fallback's name.
    pub name: Name,
    /// Failed calls answered with the fallback.
    pub served: u64,
    /// Failed calls passed through unanswered (not a failure for the
    /// classifier, or not one of the chosen kinds).
    pub passed_through: u64,
}

impl Fallback<(), DefaultClassifier> {
    /// A builder, to set a name, the kinds answered or a classifier.
    pub fn builder() -> FallbackBuilder {
        FallbackBuilder::default()
    }

    /// A fallback named `"fallback"` answering every failure with `f(error)`.
    ///
    /// `f` takes the whole [`Error<E>`], by value; see [`Produce`] for the
    /// shapes a fallback closure may have.
    pub fn from_fn<F, T, E>(f: F) -> Fallback<FromFn<F>>
    where
        F: Fn(Error<E>) -> T + Send + Sync,
    {
        Fallback::builder().from_fn(f)
    }

    /// A fallback named `"fallback"` answering every failure with the
    /// future `f(error)`, which may fail in turn.
    pub fn from_async<F, Fut, T, E>(f: F) -> Fallback<FromAsync<F>>
    where
        F: Fn(Error<E>) -> Fut + Send + Sync,
        Fut: Future<Output = Result<T, Error<E>>> + Send,
    {
        Fallback::builder().from_async(f)
    }
}

impl<P, C> Fallback<P, C> {
    /// Whether to answer `error`; the error is handed back unchanged.
    fn judge<T, E>(&self, error: Error<E>) -> (bool, Error<E>)
    where
        C: Classifier<T, E>,
    {
        let shared = &*self.shared;
        if let Some(kinds) = shared.only_on
            && !kinds.contains(error.kind())
        {
            return (false, error);
        }
        let (outcome, result) = classify(&shared.classifier, Err::<T, _>(error));
        let Err(error) = result else {
            unreachable!("classify hands back the result it was given")
        };
        (outcome == Outcome::Failure, error)
    }

    /// The fallback's future for `error`, or the error back when this
    /// fallback does not answer it.
    #[cold]
    fn answer<T, E>(&self, error: Error<E>) -> Result<Produced<T, E, P::Future>, Error<E>>
    where
        P: Produce<T, E>,
        C: Classifier<T, E>,
    {
        let (wanted, error) = self.judge::<T, E>(error);
        let shared = &*self.shared;
        if !wanted {
            shared.passed.fetch_add(1, Ordering::Relaxed);
            return Err(error);
        }
        shared.served.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(policy = %shared.name, kind = ?error.kind(), "serving the fallback");
        Ok(shared.produce.produce(error))
    }
}

impl<P, C> Inspect for Fallback<P, C> {
    type Snapshot = FallbackSnapshot;

    fn name(&self) -> &str {
        self.shared.name.as_str()
    }

    fn snapshot(&self) -> FallbackSnapshot {
        FallbackSnapshot {
            name: self.shared.name.clone(),
            served: self.shared.served.load(Ordering::Relaxed),
            passed_through: self.shared.passed.load(Ordering::Relaxed),
        }
    }
}

impl<P, C, T, E> Policy<T, E> for Fallback<P, C>
where
    P: Produce<T, E>,
    C: Classifier<T, E>,
    T: Send,
    E: Send,
{
    // Runs the rest of the call at most once.
    const REPEATS: bool = false;

    #[inline]
    fn execute<'a, N>(
        &'a self,
        ctx: Context<'a>,
        next: N,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        FallbackFuture::new(self, next.invoke(ctx))
    }
}

/// Builds a [`Fallback`]; the closure comes last, with
/// [`from_fn`](FallbackBuilder::from_fn) or [`from_async`](FallbackBuilder::from_async).
///
/// ```
/// use steadfast_degrade::Fallback;
/// use steadfast_core::{Error, ErrorKind};
///
/// let fallback = Fallback::builder()
///     .name("ai-fallback")
///     .only_on([ErrorKind::CircuitOpen, ErrorKind::Timeout, ErrorKind::RateLimited])
///     .from_fn(|_: Error<std::io::Error>| "AI temporarily unavailable, try again soon");
/// ```
#[derive(Debug)]
#[must_use]
pub struct FallbackBuilder<C = DefaultClassifier> {
    name: Name,
    only_on: Option<KindSet>,
    classifier: C,
}

impl Default for FallbackBuilder {
    fn default() -> Self {
        FallbackBuilder {
            name: Name::new_static("fallback"),
            only_on: None,
            classifier: DefaultClassifier,
        }
    }
}

impl<C> FallbackBuilder<C> {
    /// The name shown in events and snapshots (default `"fallback"`).
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.name = name.into();
        self
    }

    /// Answers only failures of these kinds (`ErrorKind::Inner` for the
    /// operation's own errors); the rest pass through. Within the kinds, the
    /// classifier still decides.
    pub fn only_on(mut self, kinds: impl IntoIterator<Item = ErrorKind>) -> Self {
        self.only_on = Some(kinds.into_iter().collect());
        self
    }

    /// Decides which errors are failures worth answering (default: every `Err`).
    pub fn classifier<C2>(self, classifier: C2) -> FallbackBuilder<C2> {
        FallbackBuilder {
            name: self.name,
            only_on: self.only_on,
            classifier,
        }
    }

    /// Builds a fallback answering with `f(error)`.
    ///
    /// The bound on `f` is checked here, so a closure of the wrong shape is
    /// reported at this call, pointing at the closure.
    pub fn from_fn<F, T, E>(self, f: F) -> Fallback<FromFn<F>, C>
    where
        F: Fn(Error<E>) -> T + Send + Sync,
    {
        self.build(FromFn(f))
    }

    /// Builds a fallback answering with the future `f(error)`.
    pub fn from_async<F, Fut, T, E>(self, f: F) -> Fallback<FromAsync<F>, C>
    where
        F: Fn(Error<E>) -> Fut + Send + Sync,
        Fut: Future<Output = Result<T, Error<E>>> + Send,
    {
        self.build(FromAsync(f))
    }

    /// Builds a fallback answering with any [`Produce`].
    pub fn build<P>(self, produce: P) -> Fallback<P, C> {
        Fallback {
            shared: Arc::new(Shared {
                name: self.name,
                produce,
                classifier: self.classifier,
                only_on: self.only_on,
                served: AtomicU64::new(0),
                passed: AtomicU64::new(0),
            }),
        }
    }
}
