use std::future::Future;

use crate::{BoxPolicy, Context, Error, Last, Next, Operation, Policy, Then};

/// Policies composed outermost first; see the [module docs](crate::compose) for the usual order.
///
/// `Pipeline::new(a).then(b).then(c)` runs a call through `a`, then `b`, then
/// `c`, then the operation. Clones share the state of every policy inside.
///
/// The policies nest to the right, `Then<A, Then<B, Last<C>>>`, so that each
/// one is the outer policy of a [`Then`] and can start the call itself (see
/// [`Policy::call_as_outer`]): identity layers hand it straight down.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pipeline<P>(P);

impl<P> Pipeline<Last<P>> {
    /// A pipeline whose outermost policy is `policy`.
    pub const fn new(policy: P) -> Self {
        Pipeline(Last::new(policy))
    }
}

impl<P> Pipeline<P> {
    /// Adds `inner` inside every policy added so far.
    pub fn then<Inner>(self, inner: Inner) -> Pipeline<P::Output>
    where
        P: Append<Inner>,
    {
        Pipeline(self.0.append(inner))
    }

    /// The composed policies: `Then<A, Then<B, Last<C>>>` for `a`, `b`, `c`.
    pub fn get_ref(&self) -> &P {
        &self.0
    }

    /// Takes the composed policies out.
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

/// One step of building a [`Pipeline`]: the chain with `Inner` added
/// innermost. Implemented for [`Last`] and for [`Then`] over a chain; there
/// is nothing to implement it for outside steadfast-core.
pub trait Append<Inner> {
    /// The chain with `Inner` innermost.
    type Output;

    /// Adds `inner` innermost.
    fn append(self, inner: Inner) -> Self::Output;
}

impl<P, Inner> Append<Inner> for Last<P> {
    type Output = Then<P, Last<Inner>>;

    #[inline]
    fn append(self, inner: Inner) -> Self::Output {
        Then::new(self.into_inner(), Last::new(inner))
    }
}

impl<Outer, Rest, Inner> Append<Inner> for Then<Outer, Rest>
where
    Rest: Append<Inner>,
{
    type Output = Then<Outer, Rest::Output>;

    #[inline]
    fn append(self, inner: Inner) -> Self::Output {
        let (outer, rest) = self.into_parts();
        Then::new(outer, rest.append(inner))
    }
}
