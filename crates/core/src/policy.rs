//! The one trait every steadfast policy implements.

use std::future::Future;

use crate::next::{FlatLeaf, Leaf};
use crate::{Context, Error, Next, Operation, OwnedContext, OwnedKeys, Then};

/// A resilience policy: something that runs an async call on the caller's behalf
/// and may refuse, cancel, repeat or replace it.
///
/// Callers use [`call`](Policy::call) or [`call_with`](Policy::call_with);
/// policy authors implement [`execute`](Policy::execute), which receives the
/// call's [`Context`] and the rest of the pipeline as a [`Next`].
///
/// Every policy speaks `Result<T, Error<E>>`, where `E` is the operation's own
/// error, so policies nest without nesting their errors, and the future
/// of a pipeline is one concrete type: no boxing, no allocation per call.
///
/// Policies are cheap to clone (shared state sits behind an `Arc`) and
/// `Send + Sync`; clones share state, so one breaker guards one dependency for
/// every task.
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::{Policy, Timeout};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let timeout = Timeout::new(Duration::from_millis(50)).unwrap();
/// let answer = timeout.call(|| async { Ok::<_, std::io::Error>(42) }).await;
/// assert_eq!(answer.unwrap(), 42);
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a policy for calls returning `Result<{T}, {E}>`",
    label = "not a `Policy<{T}, {E}>`",
    note = "a constructor that returns `Result<_, ConfigError>` (`Timeout::new`, a builder's `build`) needs `?` or `.unwrap()` before it is a policy",
    note = "policies are `Send + Sync`: state inside goes behind an `Arc` with atomics or a `Mutex`"
)]
pub trait Policy<T, E>: Send + Sync {
    /// Whether this policy reads the deadline an enclosing timeout sets (a
    /// retry does, so it never sleeps past it). Defaults to `false`.
    const READS_DEADLINE: bool = false;

    /// Whether this policy may run the rest of the call more than once (a
    /// retry, a hedge) or again in a background call (a cache's refresh).
    /// Defaults to `true`, the safe answer for a policy that does not say;
    /// a policy that invokes its `next` at most once sets `false`, and a
    /// pipeline repeats when any of its policies does.
    ///
    /// Callers that must keep a copy of the request to repeat it read this:
    /// steadfast-tower's HTTP layer buffers a request body only when its
    /// policy may repeat the call, and streams it otherwise.
    const REPEATS: bool = true;

    /// Runs the call: decides, then invokes `next` (zero, one or many times).
    fn execute<'a, N>(
        &'a self,
        ctx: Context<'a>,
        next: N,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a;

    /// Runs `op` under this policy with a default [`Context`].
    ///
    /// `op` is a factory: every attempt calls it for a fresh future.
    fn call<'a, Op>(&'a self, op: Op) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        // The context is built inside the future, so its constant fields fold
        // away instead of being stored in the future's state.
        async move { self.execute(Context::new(), Leaf(&op)).await }
    }

    /// Runs `op` under this policy with the given [`Context`] (a key, a priority,
    /// a cost, a deadline).
    fn call_with<'a, Op>(
        &'a self,
        ctx: Context<'a>,
        op: Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        // The future owns `op`; the pipeline below borrows it for every attempt.
        async move { self.execute(ctx, Leaf(&op)).await }
    }

    /// Runs an operation that itself returns `Result<T, Error<E>>` (an inner
    /// pipeline called in a closure, a cached fetch) without nesting errors.
    ///
    /// The operation's rejections reach this policy, and the caller, as the
    /// rejections they are: an inner rate limit keeps its kind, policy name,
    /// `retry_after` and message, and a breaker here sees it as a local
    /// refusal rather than the dependency failing. `call` on the same
    /// operation would give `Error<Error<E>>`.
    ///
    /// Composing the policies in one [`Pipeline`](crate::Pipeline) (a
    /// pipeline is a policy: `Pipeline::new(limiter).then(inner)`) is flat
    /// too, and shares this call's [`Context`] (keys, deadline) with the
    /// inner policies, which a closure calling `inner.call` does not.
    ///
    /// ```
    /// use std::time::Duration;
    /// use steadfast_core::{Error, ErrorKind, Policy, RateLimited, Timeout};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), steadfast_core::ConfigError> {
    /// let outer = Timeout::new(Duration::from_secs(5))?;
    /// let inner_call = || async {
    ///     // An inner pipeline that refused the call.
    ///     Err::<u8, Error<std::io::Error>>(
    ///         RateLimited::new("per-user", Duration::from_secs(3)).into(),
    ///     )
    /// };
    /// let err = outer.call_flat(inner_call).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::RateLimited);
    /// assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    /// assert_eq!(err.message(), "Too many requests. Try again in 3 s.");
    /// # Ok(())
    /// # }
    /// ```
    fn call_flat<'a, Op>(&'a self, op: Op) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, Error<E>> + 'a,
        T: 'a,
        E: 'a,
    {
        async move { self.execute(Context::new(), FlatLeaf::new(&op)).await }
    }

    /// [`call_flat`](Policy::call_flat) with the given [`Context`].
    fn call_with_flat<'a, Op>(
        &'a self,
        ctx: Context<'a>,
        op: Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, Error<E>> + 'a,
        T: 'a,
        E: 'a,
    {
        async move { self.execute(ctx, FlatLeaf::new(&op)).await }
    }

    /// Runs `op` in a future that owns a clone of this policy, so it is
    /// `Send + 'static`: it may be spawned, kept by a tower service future,
    /// or outlive the caller that made it.
    ///
    /// Policies are cheap handles (clones share state), so the clone costs
    /// an `Arc` increment; a pipeline is cloned policy by policy, or keep it
    /// in an `Arc` (an `Arc<P>` is a policy too) to clone one pointer. The
    /// call allocates once, to share the policy and `op` with any background
    /// call a policy inside starts ([`Context::relaunch`]: a cache's
    /// stale-while-revalidate refresh). The borrowed [`call`](Policy::call)
    /// stays the allocation-free path.
    ///
    /// ```
    /// use std::time::Duration;
    /// use steadfast_core::{Pipeline, Policy, Timeout};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(5))?)
    ///     .then(Timeout::new(Duration::from_secs(1))?);
    /// let task = tokio::spawn(pipeline.call_owned(|| async { Ok::<_, std::io::Error>(7) }));
    /// assert_eq!(task.await??, 7);
    /// # Ok(())
    /// # }
    /// ```
    fn call_owned<Op>(&self, op: Op) -> impl Future<Output = Result<T, Error<E>>> + Send + 'static
    where
        Self: Clone + Sized + 'static,
        Op: Operation<T, E> + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        crate::owned::call_owned(self.clone(), OwnedContext::empty(), op)
    }

    /// [`call_owned`](Policy::call_owned) with keys, a priority and a cost.
    ///
    /// The keys are owned by the call, so they reach the keyed policies of
    /// any background call started from it (a cache's refresh through a
    /// per-user limiter below it).
    ///
    /// ```
    /// use std::time::Duration;
    /// use steadfast_core::{OwnedContext, Policy, Timeout};
    ///
    /// #[derive(Clone)]
    /// struct UserId(u64);
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let timeout = Timeout::new(Duration::from_secs(1))?;
    /// let ctx = OwnedContext::new((UserId(7),));
    /// let answer = tokio::spawn(timeout.call_owned_with(ctx, || async { Ok::<_, std::io::Error>(1) }));
    /// assert_eq!(answer.await??, 1);
    /// # Ok(())
    /// # }
    /// ```
    fn call_owned_with<K, Op>(
        &self,
        ctx: OwnedContext<K>,
        op: Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'static
    where
        Self: Clone + Sized + 'static,
        K: OwnedKeys,
        Op: Operation<T, E> + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        crate::owned::call_owned(self.clone(), ctx, op)
    }

    /// What [`Then::call`](Policy::call) does when this policy is the outer of
    /// the two: runs `op` under `then`. The default goes through
    /// [`execute`](Policy::execute), as [`call`](Policy::call) does.
    ///
    /// Override it only to start a call more cheaply than through `execute`;
    /// [`Identity`](crate::Identity) does, handing the call to the inner policy
    /// so that identity layers cost nothing.
    #[inline]
    fn call_as_outer<'a, I, Op>(
        then: &'a Then<Self, I>,
        op: Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Self: Sized,
        I: Policy<T, E>,
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        async move { then.execute(Context::new(), Leaf(&op)).await }
    }

    /// What [`Then::call_with`](Policy::call_with) does when this policy is the
    /// outer of the two; see [`call_as_outer`](Policy::call_as_outer).
    #[inline]
    fn call_with_as_outer<'a, I, Op>(
        then: &'a Then<Self, I>,
        ctx: Context<'a>,
        op: Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Self: Sized,
        I: Policy<T, E>,
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        async move { then.execute(ctx, Leaf(&op)).await }
    }
}

/// A shared reference to a policy is the same policy.
impl<T, E, P> Policy<T, E> for &P
where
    P: Policy<T, E> + ?Sized,
{
    const READS_DEADLINE: bool = P::READS_DEADLINE;
    const REPEATS: bool = P::REPEATS;

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
        (**self).execute(ctx, next)
    }

    // Forwarded, so a policy whose own `call` beats the default keeps it.
    #[inline]
    fn call<'a, Op>(&'a self, op: Op) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        (**self).call(op)
    }

    #[inline]
    fn call_with<'a, Op>(
        &'a self,
        ctx: Context<'a>,
        op: Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        (**self).call_with(ctx, op)
    }
}

/// A policy behind an `Arc` (a library's client holding one) is the same policy.
impl<T, E, P> Policy<T, E> for std::sync::Arc<P>
where
    P: Policy<T, E> + ?Sized,
{
    const READS_DEADLINE: bool = P::READS_DEADLINE;
    const REPEATS: bool = P::REPEATS;

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
        (**self).execute(ctx, next)
    }

    // Forwarded, so a policy whose own `call` beats the default keeps it.
    #[inline]
    fn call<'a, Op>(&'a self, op: Op) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        (**self).call(op)
    }

    #[inline]
    fn call_with<'a, Op>(
        &'a self,
        ctx: Context<'a>,
        op: Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        (**self).call_with(ctx, op)
    }
}
