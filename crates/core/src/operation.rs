//! Operations: the caller's async call, as a factory of fresh futures.
//!
//! A policy may run an operation more than once (a retry, a hedge), so an
//! operation is not a future but something that makes one each time it is
//! invoked. Any `Fn() -> impl Future<Output = Result<T, E>>` closure is an
//! operation; wrap a closure with [`with_attempt`] to learn which attempt is
//! running.
//!
//! Operations are `Fn`, not `FnMut`: a policy hands `&op` down through every
//! layer of a pipeline and a hedge runs two attempts of it at once, which a
//! `FnMut` would forbid. State an operation must change between attempts goes
//! behind a `Mutex` or an atomic, or is read from the [`Attempt`].

use std::future::Future;

use crate::context::Attempt;

/// An async call that a policy may invoke once or many times.
///
/// Implemented for every `Fn() -> Fut` closure whose future yields
/// `Result<T, E>`, and for [`WithAttempt`]. Futures must be `Send` so pipelines
/// run on tokio's multi-thread runtime.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an operation a policy can run",
    label = "expected a closure `|| async {{ ... }}` returning `Result<{T}, {E}>`",
    note = "an operation is a factory, `Fn() -> impl Future<Output = Result<T, E>> + Send`, so a retry can start it again: pass `|| async {{ ... }}` rather than a future",
    note = "when the closure's error type is not spelled anywhere, name it: `Ok::<_, MyError>(value)`",
    note = "an operation that returns `Result<T, steadfast_core::Error<E>>` (an inner pipeline) runs with `call_flat`"
)]
pub trait Operation<T, E>: Send + Sync {
    /// The future one invocation returns.
    type Future: Future<Output = Result<T, E>> + Send;

    /// Whether the operation reads [`Attempt::deadline`]; if so, enclosing
    /// timeouts compute their deadline when the call starts (one read of the
    /// cached clock per call).
    const READS_DEADLINE: bool = false;

    /// Starts one attempt.
    fn invoke(&self, attempt: Attempt) -> Self::Future;
}

impl<F, Fut, T, E> Operation<T, E> for F
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<T, E>> + Send,
{
    type Future = Fut;

    #[inline]
    fn invoke(&self, _attempt: Attempt) -> Fut {
        self()
    }
}

/// An operation that is told which attempt it is running; see [`with_attempt`].
#[derive(Clone, Copy, Debug)]
pub struct WithAttempt<F>(F);

/// Wraps a closure that takes the [`Attempt`], so it can tell a first try from a
/// retry or a hedge, or forward the deadline an enclosing timeout set.
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::{Policy, Timeout, with_attempt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let timeout = Timeout::new(Duration::from_secs(1))?;
/// let seen = timeout
///     .call(with_attempt(|attempt| async move {
///         Ok::<_, std::io::Error>((attempt.number(), attempt.deadline().is_some()))
///     }))
///     .await?;
/// assert_eq!(seen, (1, true));
/// # Ok(())
/// # }
/// ```
pub fn with_attempt<F, Fut, T, E>(f: F) -> WithAttempt<F>
where
    F: Fn(Attempt) -> Fut + Send + Sync,
    Fut: Future<Output = Result<T, E>> + Send,
{
    WithAttempt(f)
}

impl<F, Fut, T, E> Operation<T, E> for WithAttempt<F>
where
    F: Fn(Attempt) -> Fut + Send + Sync,
    Fut: Future<Output = Result<T, E>> + Send,
{
    type Future = Fut;

    const READS_DEADLINE: bool = true;

    #[inline]
    fn invoke(&self, attempt: Attempt) -> Fut {
        (self.0)(attempt)
    }
}
