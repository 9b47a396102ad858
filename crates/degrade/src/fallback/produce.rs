//! What a fallback answers with: a value from a closure, sync or async.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use steadfast_core::Error;

/// Produces the fallback answer from the error it replaces.
///
/// Implemented by [`FromFn`] (a sync closure returning the value) and
/// [`FromAsync`] (a closure returning a future that may itself fail); build
/// them with [`Fallback::from_fn`](crate::Fallback::from_fn) and
/// [`Fallback::from_async`](crate::Fallback::from_async).
///
/// The closure takes the whole [`Error<E>`] (the operation's own error or a
/// policy's rejection), by value, and returns the answer itself (`from_fn`)
/// or a future of `Result<T, Error<E>>` (`from_async`):
///
/// ```
/// use steadfast_core::{Error, Policy, testing::TestError};
/// use steadfast_degrade::Fallback;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let canned = Fallback::from_fn(|_: Error<TestError>| "try again soon".to_owned());
/// let backup = Fallback::from_async(|_: Error<TestError>| async { Ok("from the backup".to_owned()) });
/// let fail = || async { Err::<String, _>(TestError::new("down")) };
/// assert_eq!(canned.call(fail).await.unwrap(), "try again soon");
/// assert_eq!(backup.call(fail).await.unwrap(), "from the backup");
/// # }
/// ```
///
/// A closure of another shape (taking `E` rather than `Error<E>`, or a
/// reference) is not a fallback, and the compiler says so at the call:
///
/// ```compile_fail
/// use steadfast_core::{Policy, testing::TestError};
/// use steadfast_degrade::Fallback;
///
/// # async fn run() {
/// let wrong = Fallback::from_fn(|_: TestError| "try again soon".to_owned());
/// let _ = wrong.call(|| async { Err::<String, _>(TestError::new("down")) }).await;
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a fallback answering `Result<{T}, Error<{E}>>`",
    label = "this fallback's closure does not have the shape of a fallback for this call",
    note = "`Fallback::from_fn` takes `Fn(Error<{E}>) -> {T}`: the whole `steadfast_core::Error<{E}>`, by value, and returns the answer",
    note = "`Fallback::from_async` takes `Fn(Error<{E}>) -> impl Future<Output = Result<{T}, Error<{E}>>> + Send`"
)]
pub trait Produce<T, E>: Send + Sync {
    /// The future of an answer that is not ready at once; [`NoFuture`] for a
    /// sync fallback.
    type Future: Future<Output = Result<T, Error<E>>> + Send;

    /// Answers for a call that failed with `error`.
    fn produce(&self, error: Error<E>) -> Produced<T, E, Self::Future>;
}

/// A fallback's answer: ready now, or a future of one.
#[derive(Debug)]
pub enum Produced<T, E, F> {
    /// The answer, at once.
    Now(Result<T, Error<E>>),
    /// A future of the answer.
    Later(F),
}

/// The future type of a fallback that always answers at once: it cannot be
/// made, so a call's future carries no room and no drop check for it.
pub struct NoFuture<O>(Infallible, PhantomData<fn() -> O>);

impl<O> std::fmt::Debug for NoFuture<O> {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {}
    }
}

impl<O> Future for NoFuture<O> {
    type Output = O;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<O> {
        match self.0 {}
    }
}

/// A sync fallback: `Fn(Error<E>) -> T`.
#[derive(Clone, Copy, Debug)]
pub struct FromFn<F>(pub(crate) F);

impl<F, T, E> Produce<T, E> for FromFn<F>
where
    F: Fn(Error<E>) -> T + Send + Sync,
{
    type Future = NoFuture<Result<T, Error<E>>>;

    #[inline]
    fn produce(&self, error: Error<E>) -> Produced<T, E, Self::Future> {
        Produced::Now(Ok((self.0)(error)))
    }
}

/// An async fallback: `Fn(Error<E>) -> impl Future<Output = Result<T, Error<E>>>`
/// (a backup service, a cache lookup); it may fail in turn.
#[derive(Clone, Copy, Debug)]
pub struct FromAsync<F>(pub(crate) F);

impl<F, Fut, T, E> Produce<T, E> for FromAsync<F>
where
    F: Fn(Error<E>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<T, Error<E>>> + Send,
{
    type Future = Fut;

    #[inline]
    fn produce(&self, error: Error<E>) -> Produced<T, E, Fut> {
        Produced::Later((self.0)(error))
    }
}
