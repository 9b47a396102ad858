use std::future::Future;

use crate::{Context, Error, Leaf, Next, Operation, Policy, Then};

/// The policy that does nothing: it runs the call as is.
///
/// Useful as the neutral element of a pipeline built conditionally, and as
/// proof that composition compiles away (see the `compose_identity_5` bench):
/// called on its own or as layers of a [`Pipeline`](crate::Pipeline), it
/// returns the operation's own future, its error lifted into [`Error`].
///
/// Like `Retry::call` and `Breaker::call`, `Identity::call` starts the
/// call as it is made: `op` is invoked (its future created, not polled)
/// before `call` returns, not at the first poll. There is nothing else to
/// start, and a future that waited for its first poll would carry a state
/// the operation's own future does not (`docs/performance.md` measures it).
///
/// ```
/// use steadfast_core::{Identity, Pipeline, Policy};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let enabled = false; // say, read from configuration
/// let pipeline = Pipeline::new(Identity).then(Identity);
/// let answer = pipeline.call(|| async { Ok::<_, std::io::Error>(enabled) }).await;
/// assert!(!answer.unwrap());
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity;

impl<T: Send, E: Send> Policy<T, E> for Identity {
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
        next.invoke(ctx)
    }

    #[inline]
    fn call<'a, Op>(&'a self, op: Op) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        Leaf::new(&op).start(Context::new())
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
        Leaf::new(&op).start(ctx)
    }

    // Nothing to do around the inner policy: the call is its.
    #[inline]
    fn call_as_outer<'a, I, Op>(
        then: &'a Then<Self, I>,
        op: Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        I: Policy<T, E>,
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        then.inner().call(op)
    }

    #[inline]
    fn call_with_as_outer<'a, I, Op>(
        then: &'a Then<Self, I>,
        ctx: Context<'a>,
        op: Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        I: Policy<T, E>,
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        then.inner().call_with(ctx, op)
    }
}
