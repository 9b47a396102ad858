//! The one trait every steadfast policy implements.

use std::future::Future;

use crate::next::Leaf;
use crate::{Context, Error, Next, Operation, Then};

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
pub trait Policy<T, E>: Send + Sync {
    /// Whether this policy reads the deadline an enclosing timeout sets (a
    /// retry does, so it never sleeps past it). Defaults to `false`.
    const READS_DEADLINE: bool = false;

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
