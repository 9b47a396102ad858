use std::future::Future;

use crate::next::Bound;
use crate::{Context, Error, Next, Operation, Policy};

/// Two policies nested: `Outer` around `Inner`. Built by [`Pipeline::then`](crate::Pipeline::then).
///
/// A call through it is the outer policy's to start
/// ([`Policy::call_as_outer`]): an [`Identity`](crate::Identity) outside hands
/// the call to the inner policy as is.
#[derive(Clone, Copy, Debug, Default)]
pub struct Then<Outer, Inner> {
    outer: Outer,
    inner: Inner,
}

impl<Outer, Inner> Then<Outer, Inner> {
    /// `outer` around `inner`.
    pub const fn new(outer: Outer, inner: Inner) -> Self {
        Then { outer, inner }
    }

    /// The outer policy.
    pub fn outer(&self) -> &Outer {
        &self.outer
    }

    /// The inner policy.
    pub fn inner(&self) -> &Inner {
        &self.inner
    }

    /// Takes the two policies out: `(outer, inner)`.
    pub fn into_parts(self) -> (Outer, Inner) {
        (self.outer, self.inner)
    }
}

impl<T, E, Outer, Inner> Policy<T, E> for Then<Outer, Inner>
where
    Outer: Policy<T, E>,
    Inner: Policy<T, E>,
{
    const REPEATS: bool = <Outer as Policy<T, E>>::REPEATS || <Inner as Policy<T, E>>::REPEATS;
    const READS_DEADLINE: bool =
        <Outer as Policy<T, E>>::READS_DEADLINE || <Inner as Policy<T, E>>::READS_DEADLINE;

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
        self.outer.execute(
            ctx,
            Bound {
                policy: &self.inner,
                next,
            },
        )
    }

    #[inline]
    fn call<'a, Op>(&'a self, op: Op) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        Outer::call_as_outer(self, op)
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
        Outer::call_with_as_outer(self, ctx, op)
    }
}
