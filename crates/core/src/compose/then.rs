use std::future::Future;

use crate::next::Bound;
use crate::{Context, Error, Next, Policy};

/// Two policies nested: `Outer` around `Inner`. Built by [`Pipeline::then`](crate::Pipeline::then).
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
}

impl<T, E, Outer, Inner> Policy<T, E> for Then<Outer, Inner>
where
    Outer: Policy<T, E>,
    Inner: Policy<T, E>,
{
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
}
