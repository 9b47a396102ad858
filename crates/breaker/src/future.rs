//! The named futures of calls through a breaker, for code that stores them.
//!
//! [`BreakerFuture`] is what [`Policy::execute`](steadfast_core::Policy::execute)
//! and [`Policy::call`](steadfast_core::Policy::call) return; its inner
//! future is the rest of the pipeline or, for a direct call, a
//! [`DirectFuture`] around the operation's own future.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use steadfast_core::time::{self, Instant};
use steadfast_core::{Classifier, Error, Outcome, classify};

use crate::core::{Core, Kind, Ticket};

pin_project! {
    /// The future of a call through a [`Breaker`](crate::Breaker).
    ///
    /// Admission was decided when it was made: a refused call resolves to
    /// [`Error::CircuitOpen`] on its first poll without running the
    /// operation. An admitted call reads the clock only if it waits (and the
    /// breaker has a time window or a slow-call rule): its duration counts
    /// from its first `Pending`. Dropped before it completes, it records
    /// nothing and gives back a half-open trial slot.
    #[must_use = "futures do nothing unless polled"]
    pub struct BreakerFuture<'a, F, C> {
        #[pin]
        inner: Option<F>,
        core: &'a Core,
        classifier: &'a C,
        ticket: Ticket,
        started: Option<Instant>,
    }

    impl<F, C> PinnedDrop for BreakerFuture<'_, F, C> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if this.ticket.is_trial() {
                this.core.release(*this.ticket);
            }
        }
    }
}

impl<F, C> std::fmt::Debug for BreakerFuture<'_, F, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BreakerFuture")
            .field("breaker", &self.core.name)
            .field("ticket", &self.ticket.kind())
            .finish_non_exhaustive()
    }
}

impl<'a, F, C> BreakerFuture<'a, F, C> {
    /// A call admitted with `ticket` (`inner` is `None` when it was refused).
    #[inline]
    pub(crate) fn new(inner: Option<F>, ticket: Ticket, core: &'a Core, classifier: &'a C) -> Self {
        BreakerFuture {
            inner,
            core,
            classifier,
            ticket,
            started: None,
        }
    }
}

/// How a [`BreakerFuture`] judges what its inner future returned: the rest
/// of a pipeline returns `Result<T, Error<E>>`; an operation called
/// directly returns `Result<T, E>` (as [`Direct`]), classified in place
/// without a move. Implemented for those two only.
pub trait Judge<C>: sealed::Sealed + Sized {
    /// The call's result as the caller sees it.
    type Output;
    /// The outcome, and the value back; a local refusal is ignored unless
    /// `count_local_refusals`.
    fn judge(self, classifier: &C, count_local_refusals: bool) -> (Outcome, Self);
    /// The result to hand back.
    fn into_output(self) -> Self::Output;
}

impl<C: Classifier<T, E>, T, E> Judge<C> for Result<T, Error<E>> {
    type Output = Result<T, Error<E>>;

    #[inline]
    fn judge(self, classifier: &C, count_local_refusals: bool) -> (Outcome, Self) {
        if let Err(rejection) = &self
            && rejection.is_local_refusal()
            && !count_local_refusals
        {
            return (Outcome::Ignore, self);
        }
        classify(classifier, self)
    }

    #[inline]
    fn into_output(self) -> Self::Output {
        self
    }
}

mod sealed {
    pub trait Sealed {}
    impl<T, E> Sealed for Result<T, steadfast_core::Error<E>> {}
    impl<T, E> Sealed for super::Direct<T, E> {}
}

/// The output of an operation called directly through [`Policy::call`](steadfast_core::Policy::call).
#[derive(Debug)]
pub struct Direct<T, E>(Result<T, E>);

impl<C: Classifier<T, E>, T, E> Judge<C> for Direct<T, E> {
    type Output = Result<T, Error<E>>;

    // An operation called directly makes no rejection.
    #[inline]
    fn judge(self, classifier: &C, _count_local_refusals: bool) -> (Outcome, Self) {
        (classifier.classify(&self.0), self)
    }

    // Lifted only at the end, so the small `Result<T, E>` stays in
    // registers while the outcome is recorded.
    #[inline]
    fn into_output(self) -> Self::Output {
        self.0.map_err(Error::Inner)
    }
}

pin_project! {
    /// An operation's future, its output marked as [`Direct`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct DirectFuture<F> {
        #[pin]
        inner: F,
    }
}

impl<F> DirectFuture<F> {
    pub(crate) fn new(inner: F) -> Self {
        DirectFuture { inner }
    }
}

impl<F: Future<Output = Result<T, E>>, T, E> Future for DirectFuture<F> {
    type Output = Direct<T, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx).map(Direct)
    }
}

impl<F, C, T, E> Future for BreakerFuture<'_, F, C>
where
    F: Future,
    F::Output: Judge<C, Output = Result<T, Error<E>>>,
{
    type Output = Result<T, Error<E>>;

    // Inlined into the caller so the result stays in registers: returned
    // through memory, a `Result<T, Error<E>>` written piecewise and read
    // back whole stalls store forwarding, which cost more than the whole
    // breaker in the closed-call benchmark.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            let ticket = std::mem::replace(this.ticket, Ticket::NONE);
            return Poll::Ready(Err(refused(this.core, ticket)));
        };
        let Poll::Ready(result) = inner.poll(cx) else {
            if this.started.is_none() && this.core.wants_clock {
                *this.started = Some(time::now());
            }
            return Poll::Pending;
        };
        this.inner.set(None);
        let (outcome, result) = result.judge(
            *this.classifier,
            this.core.count_local_refusals.load(Relaxed),
        );
        let ticket = std::mem::replace(this.ticket, Ticket::NONE);
        // A success that never waited is the hot path: recorded inline,
        // without a clock or a duration. Anything else is out of line.
        match *this.started {
            None if outcome == Outcome::Success => this.core.record_success(ticket),
            started => this.core.record_finished(ticket, outcome, started),
        }
        Poll::Ready(result.into_output())
    }
}

/// The error of a refused call (or a panic for a future polled again).
///
/// Inlined: built in place, the error leaves its padding undefined, so the
/// closed path's result is not copied byte by byte behind it.
#[allow(clippy::inline_always)]
#[inline(always)]
fn refused<E>(core: &Core, ticket: Ticket) -> Error<E> {
    let Kind::Rejected(retry_after) = ticket.kind() else {
        panic!("BreakerFuture polled after it completed");
    };
    Error::CircuitOpen(core.rejection(retry_after))
}
