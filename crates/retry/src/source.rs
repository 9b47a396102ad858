//! What a call under a [`Retry`](crate::Retry) starts its attempts from, and
//! where its [`Context`] comes from: the two things that differ between
//! `Retry::call` and a retry inside a pipeline.

use std::future::Future;

use steadfast_core::{Context, Error, Leaf, LiftErr, Next, Operation};

/// What a call starts its attempts from: the rest of a pipeline
/// ([`Piped`]) or the caller's own operation ([`Owned`]).
pub(crate) trait Source: Sized {
    /// What the sequential retry loop, once the first attempt has failed,
    /// starts the next attempts from. The loop is its own (boxed) future, so
    /// it cannot borrow from the call's.
    fn for_retries(&mut self) -> Self;
}

/// Where a call's [`Context`] comes from: the caller (`execute`,
/// `call_with`), or the default, for `Retry::call`, which is known at
/// compile time and so is not stored in the call's future: every word the
/// future holds is a store on every call.
pub(crate) trait CallContext<'a>: Copy {
    /// The call's context.
    fn get(self) -> Context<'a>;
}

impl<'a> CallContext<'a> for Context<'a> {
    #[inline]
    fn get(self) -> Context<'a> {
        self
    }
}

/// The default [`Context`], as a type.
#[derive(Clone, Copy)]
pub(crate) struct DefaultContext;

impl<'a> CallContext<'a> for DefaultContext {
    #[inline]
    fn get(self) -> Context<'a> {
        Context::new()
    }
}

/// The rest of a pipeline: each attempt invokes a clone of it.
pub(crate) struct Piped<N>(pub(crate) N);

impl<N: Clone> Piped<N> {
    /// Starts an attempt.
    #[inline]
    pub(crate) fn start<'a, T, E>(
        &self,
        ctx: Context<'a>,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + use<'a, N, T, E>
    where
        N: Next<'a, T, E>,
    {
        self.0.clone().invoke(ctx)
    }
}

impl<N: Clone> Source for Piped<N> {
    fn for_retries(&mut self) -> Self {
        Piped(self.0.clone())
    }
}

/// The caller's operation, owned by the call (`Retry::call`). A sequential
/// call's retry loop takes it along when the first attempt fails; nothing
/// else starts an attempt after that.
pub(crate) struct Owned<Op>(pub(crate) Option<Op>);

impl<Op> Owned<Op> {
    /// Starts an attempt.
    #[inline]
    pub(crate) fn start<T, E>(&self, ctx: Context<'_>) -> LiftErr<Op::Future>
    where
        Op: Operation<T, E>,
    {
        match &self.0 {
            Some(op) => Leaf::new(op).start(ctx),
            None => unreachable!("only the retry loop starts attempts once it holds the operation"),
        }
    }
}

impl<Op> Source for Owned<Op> {
    fn for_retries(&mut self) -> Self {
        Owned(self.0.take())
    }
}
