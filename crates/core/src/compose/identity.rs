use std::future::Future;

use crate::{Context, Error, Next, Policy};

/// The policy that does nothing: it runs the call as is.
///
/// Useful as the neutral element of a pipeline built conditionally, and as
/// proof that composition compiles away (see the `compose_identity_5` bench).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity;

impl<T: Send, E: Send> Policy<T, E> for Identity {
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
}
