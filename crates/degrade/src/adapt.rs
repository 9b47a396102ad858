//! Operation adapters for the policies whose answer is richer than the
//! operation's: [`LastKnownGood`](crate::LastKnownGood) answers
//! [`Served<T>`](crate::Served) and [`Optional`](crate::Optional) answers
//! `Option<T>`. Wrap the operation to match, and every other policy in the
//! pipeline passes the richer value through untouched.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use steadfast_core::{Attempt, Operation};

use crate::Served;

/// An operation whose values are marked fresh; see [`fresh`].
#[derive(Clone, Copy, Debug)]
pub struct Fresh<Op>(Op);

/// Marks an operation's values [`Served::fresh`], for a
/// [`LastKnownGood`](crate::LastKnownGood).
pub fn fresh<Op>(op: Op) -> Fresh<Op> {
    Fresh(op)
}

/// An operation whose values are wrapped in `Some`; see [`some`].
#[derive(Clone, Copy, Debug)]
pub struct SomeOp<Op>(Op);

/// Wraps an operation's values in `Some`, for an [`Optional`](crate::Optional).
pub fn some<Op>(op: Op) -> SomeOp<Op> {
    SomeOp(op)
}

pin_project! {
    /// The future of an adapted operation: maps its `Ok` value.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct MapOk<F, M> {
        #[pin]
        future: F,
        map: M,
    }
}

impl<F, M, T, U, E> Future for MapOk<F, M>
where
    F: Future<Output = Result<T, E>>,
    M: Fn(T) -> U,
{
    type Output = Result<U, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        Poll::Ready(ready!(this.future.poll(cx)).map(this.map))
    }
}

impl<Op, T, E> Operation<Served<T>, E> for Fresh<Op>
where
    Op: Operation<T, E>,
{
    type Future = MapOk<Op::Future, fn(T) -> Served<T>>;

    const READS_DEADLINE: bool = Op::READS_DEADLINE;

    #[inline]
    fn invoke(&self, attempt: Attempt) -> Self::Future {
        MapOk {
            future: self.0.invoke(attempt),
            map: Served::fresh,
        }
    }
}

impl<Op, T, E> Operation<Option<T>, E> for SomeOp<Op>
where
    Op: Operation<T, E>,
{
    type Future = MapOk<Op::Future, fn(T) -> Option<T>>;

    const READS_DEADLINE: bool = Op::READS_DEADLINE;

    #[inline]
    fn invoke(&self, attempt: Attempt) -> Self::Future {
        MapOk {
            future: self.0.invoke(attempt),
            map: Some,
        }
    }
}
