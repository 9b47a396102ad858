//! The rest of a pipeline, as seen from one policy.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, ready};

use pin_project_lite::pin_project;

use crate::{Context, Error, Operation, Policy};

/// What a policy wraps: the policies inside it and, at the bottom, the operation.
///
/// In a static pipeline a `Next` is a pair of references, so cloning it is a
/// copy: a policy may invoke it once (a timeout), many times (a retry) or
/// several times at once (a hedge) without allocating or borrowing from
/// itself. (It is `Clone` rather than `Copy` only so that a
/// [`BoxPolicy`](crate::BoxPolicy) can share an erased one behind an `Arc`.)
/// Policy authors call [`Next::invoke`]; they never implement this trait.
pub trait Next<'a, T, E>: Clone + Send + Sync + 'a {
    /// Whether anything inside reads the call's deadline: a retry that must not
    /// sleep past it, an operation that forwards it. An enclosing timeout
    /// computes its deadline eagerly only when this holds.
    const READS_DEADLINE: bool;

    /// Runs the rest of the pipeline once with `ctx`.
    fn invoke(self, ctx: Context<'a>) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a;
}

/// The bottom of a pipeline: the caller's operation, its error lifted into [`Error`].
#[derive(Debug)]
pub struct Leaf<'a, Op>(pub(crate) &'a Op);

impl<Op> Clone for Leaf<'_, Op> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<Op> Copy for Leaf<'_, Op> {}

impl<'a, Op> Leaf<'a, Op> {
    /// The bottom of a pipeline around `op`.
    ///
    /// Policies build one only when they run an operation themselves rather
    /// than through [`Policy::call`] (a policy whose own `call` avoids the
    /// generic one's future, say).
    #[inline]
    pub fn new(op: &'a Op) -> Self {
        Leaf(op)
    }

    /// Starts one attempt: what [`Next::invoke`] does, as a named future
    /// that borrows nothing from the `Leaf`.
    #[inline]
    pub fn start<T, E>(&self, ctx: Context<'_>) -> LiftErr<Op::Future>
    where
        Op: Operation<T, E>,
    {
        LiftErr {
            future: self.0.invoke(ctx.to_attempt()),
        }
    }
}

impl<'a, T, E, Op> Next<'a, T, E> for Leaf<'a, Op>
where
    Op: Operation<T, E> + 'a,
    T: 'a,
    E: 'a,
{
    const READS_DEADLINE: bool = <Op as Operation<T, E>>::READS_DEADLINE;

    #[inline]
    fn invoke(self, ctx: Context<'a>) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a {
        self.start(ctx)
    }
}

/// The bottom of a pipeline around an operation that already speaks
/// [`Error<E>`] (an inner pipeline, a cached fetch): its rejections pass up
/// as they are, so errors do not nest. Made by
/// [`Policy::call_flat`](crate::Policy::call_flat).
#[derive(Debug)]
pub struct FlatLeaf<'a, Op>(&'a Op);

impl<Op> Clone for FlatLeaf<'_, Op> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<Op> Copy for FlatLeaf<'_, Op> {}

impl<'a, Op> FlatLeaf<'a, Op> {
    /// The bottom of a pipeline around `op`, whose error is already an [`Error`].
    #[inline]
    pub fn new(op: &'a Op) -> Self {
        FlatLeaf(op)
    }
}

impl<'a, T, E, Op> Next<'a, T, E> for FlatLeaf<'a, Op>
where
    Op: Operation<T, Error<E>> + 'a,
    T: 'a,
    E: 'a,
{
    const READS_DEADLINE: bool = <Op as Operation<T, Error<E>>>::READS_DEADLINE;

    #[inline]
    fn invoke(self, ctx: Context<'a>) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a {
        self.0.invoke(ctx.to_attempt())
    }
}

pin_project! {
    /// One attempt of the operation at the bottom of a pipeline: its
    /// `Err(e)` becomes `Err(Error::Inner(e))`. Made by [`Leaf::start`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct LiftErr<F> {
        #[pin]
        future: F,
    }
}

impl<F, T, E> Future for LiftErr<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<T, Error<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        Poll::Ready(ready!(self.project().future.poll(cx)).map_err(Error::Inner))
    }
}

/// An inner policy bound to what lies inside it: the `Next` an outer policy sees.
#[derive(Debug)]
pub struct Bound<'a, P, N> {
    pub(crate) policy: &'a P,
    pub(crate) next: N,
}

impl<P, N: Clone> Clone for Bound<'_, P, N> {
    #[inline]
    fn clone(&self) -> Self {
        Bound {
            policy: self.policy,
            next: self.next.clone(),
        }
    }
}

impl<P, N: Copy> Copy for Bound<'_, P, N> {}

impl<'a, T, E, P, N> Next<'a, T, E> for Bound<'a, P, N>
where
    P: Policy<T, E> + 'a,
    N: Next<'a, T, E>,
    T: 'a,
    E: 'a,
{
    const READS_DEADLINE: bool = <P as Policy<T, E>>::READS_DEADLINE || N::READS_DEADLINE;

    #[inline]
    fn invoke(self, ctx: Context<'a>) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a {
        self.policy.execute(ctx, self.next)
    }
}
