//! The operation adapter for the cache as a policy answering [`Cached<V>`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use steadfast_core::{Attempt, Operation};

use crate::{Cached, Freshness};

/// An operation whose values are marked [`Freshness::Fetched`]; see [`fetched`].
#[derive(Clone, Copy, Debug)]
pub struct Fetched<Op>(Op);

/// Marks an operation's values as just fetched, so a pipeline with the
/// cache in it answers [`Cached<V>`] and the caller learns how fresh each
/// answer is.
///
/// ```
/// use steadfast_cache::{Cache, fetched};
/// use steadfast_core::{Context, Policy};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let cache = Cache::<u32, String, std::sync::Arc<std::io::Error>>::builder().build()?;
/// let op = || async { Ok("Ada".to_string()) };
/// let first = cache.call_with(Context::new().with_key(&7u32), fetched(op)).await?;
/// let second = cache.call_with(Context::new().with_key(&7u32), fetched(op)).await?;
/// assert!(first.is_fetched() && !second.is_fetched() && !second.is_stale());
/// # Ok(())
/// # }
/// ```
pub fn fetched<Op>(op: Op) -> Fetched<Op> {
    Fetched(op)
}

pin_project! {
    /// The future of a [`Fetched`] operation.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct FetchedFuture<F> {
        #[pin]
        future: F,
    }
}

impl<F, V, E> Future for FetchedFuture<F>
where
    F: Future<Output = Result<V, E>>,
{
    type Output = Result<Cached<V>, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let result = ready!(self.project().future.poll(cx));
        Poll::Ready(result.map(|value| Cached::new(value, Freshness::Fetched)))
    }
}

impl<Op, V, E> Operation<Cached<V>, E> for Fetched<Op>
where
    Op: Operation<V, E>,
{
    type Future = FetchedFuture<Op::Future>;

    const READS_DEADLINE: bool = Op::READS_DEADLINE;

    #[inline]
    fn invoke(&self, attempt: Attempt) -> Self::Future {
        FetchedFuture {
            future: self.0.invoke(attempt),
        }
    }
}
