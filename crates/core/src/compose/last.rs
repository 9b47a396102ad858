use std::future::Future;

use crate::{Context, Error, Next, Operation, Policy};

/// The innermost policy of a [`Pipeline`](crate::Pipeline): the end of its
/// chain, which [`Pipeline::then`](crate::Pipeline::then) replaces with a
/// [`Then`](crate::Then) around the next one.
///
/// It is its policy, as is: every method forwards, so a pipeline of one
/// policy keeps that policy's own `call`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Last<P>(P);

impl<P> Last<P> {
    /// `policy`, as the end of a chain.
    pub const fn new(policy: P) -> Self {
        Last(policy)
    }

    /// The policy.
    pub fn get_ref(&self) -> &P {
        &self.0
    }

    /// Takes the policy out.
    pub fn into_inner(self) -> P {
        self.0
    }
}

impl<T, E, P: Policy<T, E>> Policy<T, E> for Last<P> {
    const REPEATS: bool = P::REPEATS;
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
        self.0.execute(ctx, next)
    }

    #[inline]
    fn call<'a, Op>(&'a self, op: Op) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        self.0.call(op)
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
        self.0.call_with(ctx, op)
    }
}
