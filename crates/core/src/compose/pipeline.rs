use std::future::Future;

use crate::{BoxPolicy, Context, Error, Next, Policy, Then};

/// Policies composed outermost first; see the [module docs](crate::compose) for the usual order.
///
/// `Pipeline::new(a).then(b).then(c)` runs a call through `a`, then `b`, then
/// `c`, then the operation. Clones share the state of every policy inside.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pipeline<P>(P);

impl<P> Pipeline<P> {
    /// A pipeline whose outermost policy is `policy`.
    pub const fn new(policy: P) -> Self {
        Pipeline(policy)
    }

    /// Adds `inner` inside every policy added so far.
    pub fn then<Inner>(self, inner: Inner) -> Pipeline<Then<P, Inner>> {
        Pipeline(Then::new(self.0, inner))
    }

    /// The composed policy.
    pub fn get_ref(&self) -> &P {
        &self.0
    }

    /// Takes the composed policy out.
    pub fn into_inner(self) -> P {
        self.0
    }

    /// Erases the pipeline's type, for pipelines chosen at run time.
    pub fn boxed<T, E>(self) -> BoxPolicy<T, E>
    where
        P: Policy<T, E> + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        BoxPolicy::new(self.0)
    }
}

impl<T, E, P: Policy<T, E>> Policy<T, E> for Pipeline<P> {
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
}
