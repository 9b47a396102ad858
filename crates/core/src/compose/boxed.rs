use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::{Context, Error, Identity, Next, Policy, Then};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A policy whose type is erased, for pipelines built at run time from configuration.
///
/// It allocates per call (the erased future, and the erased rest of the
/// pipeline per attempt); static [`Pipeline`](crate::Pipeline)s do not.
/// Clones share the policy inside.
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::{BoxPolicy, Policy, Timeout};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let limits_ms = [5_000u64, 500]; // read from configuration
/// let mut policy = BoxPolicy::<u8, std::io::Error>::identity();
/// for ms in limits_ms {
///     policy = policy.then(Timeout::new(Duration::from_millis(ms))?);
/// }
/// assert_eq!(policy.call(|| async { Ok(7) }).await?, 7);
/// # Ok(())
/// # }
/// ```
pub struct BoxPolicy<T, E> {
    inner: Arc<dyn DynPolicy<T, E>>,
}

impl<T, E> Clone for BoxPolicy<T, E> {
    fn clone(&self) -> Self {
        BoxPolicy {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T, E> fmt::Debug for BoxPolicy<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxPolicy").finish_non_exhaustive()
    }
}

impl<T: Send + 'static, E: Send + 'static> BoxPolicy<T, E> {
    /// Erases `policy`'s type.
    pub fn new<P: Policy<T, E> + 'static>(policy: P) -> Self {
        BoxPolicy {
            inner: Arc::new(policy),
        }
    }

    /// The erased [`Identity`]: a start for pipelines built in a loop.
    pub fn identity() -> Self {
        BoxPolicy::new(Identity)
    }

    /// Adds `inner` inside this policy, keeping the result erased.
    pub fn then<P: Policy<T, E> + 'static>(self, inner: P) -> Self {
        BoxPolicy::new(Then::new(self, inner))
    }
}

impl<T: Send, E: Send> Policy<T, E> for BoxPolicy<T, E> {
    // Nothing is known statically about what is inside.
    const READS_DEADLINE: bool = true;

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
        self.inner.execute_dyn(
            ctx,
            DynNext {
                inner: Arc::new(next),
            },
        )
    }
}

/// The object-safe face of [`Policy`].
trait DynPolicy<T, E>: Send + Sync {
    fn execute_dyn<'a>(
        &'a self,
        ctx: Context<'a>,
        next: DynNext<'a, T, E>,
    ) -> BoxFuture<'a, Result<T, Error<E>>>
    where
        T: 'a,
        E: 'a;
}

impl<T: Send, E: Send, P: Policy<T, E>> DynPolicy<T, E> for P {
    fn execute_dyn<'a>(
        &'a self,
        ctx: Context<'a>,
        next: DynNext<'a, T, E>,
    ) -> BoxFuture<'a, Result<T, Error<E>>>
    where
        T: 'a,
        E: 'a,
    {
        Box::pin(self.execute(ctx, next))
    }
}

/// The object-safe face of [`Next`].
trait DynInvoke<'a, T, E>: Send + Sync + 'a {
    fn invoke_boxed(&self, ctx: Context<'a>) -> BoxFuture<'a, Result<T, Error<E>>>;
}

impl<'a, T, E, N: Next<'a, T, E>> DynInvoke<'a, T, E> for N {
    fn invoke_boxed(&self, ctx: Context<'a>) -> BoxFuture<'a, Result<T, Error<E>>> {
        Box::pin(self.clone().invoke(ctx))
    }
}

/// The rest of a pipeline with its type erased.
struct DynNext<'a, T, E> {
    inner: Arc<dyn DynInvoke<'a, T, E>>,
}

impl<T, E> Clone for DynNext<'_, T, E> {
    fn clone(&self) -> Self {
        DynNext {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<'a, T: Send + 'a, E: Send + 'a> Next<'a, T, E> for DynNext<'a, T, E> {
    const READS_DEADLINE: bool = true;

    fn invoke(self, ctx: Context<'a>) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a {
        self.inner.invoke_boxed(ctx)
    }
}
