//! The future of a call under a [`Retry`](crate::Retry).
//!
//! Hand-written so the path every healthy call takes — one attempt that
//! succeeds — is a small `poll`: the attempt and the classifier, after one
//! counter bumped when the call started. Everything else is out of line, in
//! [`RetryFuture::poll_rest`]: a failure moves the call to a separate future
//! (the clock, the budget, the backoff, a timer), boxed when the first failure
//! happens, so it neither grows nor slows the future of a call that never
//! needs it. Hedging keeps its first attempt inline the same way, and boxes
//! the rest only when a hedge may be needed; see [`hedge`](crate::hedge).
//!
//! `poll` inlines into the future that awaits it, and the drop glue of a call
//! that never left the fast path is one test of `rest`'s tag: what `rest`
//! holds is dropped out of line.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;
use steadfast_core::time::Instant;
use steadfast_core::{Classifier, Context, Error, Next, Outcome, classify};

use crate::RetryAfter;
use crate::hedge::{BoxedExtra, Companion, Entry, Extra, Hedging};
use crate::policy::Shared;

pin_project! {
    /// A sequential call's retry loop, once its first attempt has failed.
    struct Retrying<L> {
        #[pin]
        attempts: L,
    }
}

impl<'a, C, H, F, R, L> Extra<'a, C, H, F, R> for Retrying<L>
where
    L: Future<Output = R>,
{
    fn hedges(self: Pin<&mut Self>) -> Pin<&mut Companion<'a, C, H, F>> {
        unreachable!("a sequential call has no hedges")
    }

    fn poll_retrying(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<R> {
        self.project().attempts.poll(cx)
    }
}

/// The call's [`Extra`], once it has one. Its drop glue is a test: dropping
/// what it holds is out of line, so a call that never needed any drops inline.
struct Rest<'a, C, H, F, R>(Option<BoxedExtra<'a, C, H, F, R>>);

impl<C, H, F, R> Drop for Rest<'_, C, H, F, R> {
    #[inline]
    fn drop(&mut self) {
        if let Some(extra) = self.0.take() {
            drop_extra(extra);
        }
    }
}

#[cold]
#[inline(never)]
fn drop_extra<C, H, F, R>(extra: BoxedExtra<'_, C, H, F, R>) {
    drop(extra);
}

pin_project! {
    /// The future of one call: its first attempt inline, the rest boxed.
    pub(crate) struct RetryFuture<'a, C, H, N, M, F, R> {
        shared: &'a Shared<C, H>,
        ctx: Context<'a>,
        next: N,
        make: M,
        start: Option<Instant>,
        // `None` once it has finished (or been dropped, for a loser).
        #[pin]
        first: Option<F>,
        rest: Rest<'a, C, H, F, R>,
    }
}

impl<'a, C, H, N, M, F, R> RetryFuture<'a, C, H, N, M, F, R>
where
    N: Clone,
    M: Fn(N, Context<'a>) -> F,
{
    /// A call whose first attempt starts now.
    #[inline]
    pub(crate) fn new(
        shared: &'a Shared<C, H>,
        ctx: Context<'a>,
        next: N,
        make: M,
        start: Option<Instant>,
    ) -> Self {
        let first = make(next.clone(), ctx.with_attempt(1).with_hedge(false));
        RetryFuture {
            shared,
            ctx,
            next,
            make,
            start,
            first: Some(first),
            rest: Rest(None),
        }
    }
}

impl<'a, T, E, C, H, N, M, F> RetryFuture<'a, C, H, N, M, F, Result<T, Error<E>>>
where
    T: Send + 'a,
    E: Send + 'a,
    N: Next<'a, T, E>,
    M: Fn(N, Context<'a>) -> F,
    C: Classifier<T, E>,
    H: RetryAfter<T, E>,
    F: Future<Output = Result<T, Error<E>>> + Send + 'a,
{
    /// Everything but a lone first attempt that is pending or not a failure:
    /// starting the retries, hedging, polling what is boxed. Out of line, so
    /// the `poll` of a call that needs none of it stays small.
    #[inline(never)]
    fn poll_rest(
        self: Pin<&mut Self>,
        entry: Entry<Result<T, Error<E>>>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Result<T, Error<E>>> {
        let this = self.project();
        let shared: &'a Shared<C, H> = this.shared;
        let Some(config) = shared.config.hedging.as_ref() else {
            if let Some(extra) = this.rest.0.as_mut() {
                return extra.as_mut().poll_retrying(cx);
            }
            // A sequential call whose first attempt has just failed.
            let Entry::FirstFailed(failed) = entry else {
                unreachable!("a sequential call leaves its first attempt only when it fails");
            };
            if shared.config.max_attempts == 1 {
                return Poll::Ready(failed);
            }
            let mut first = this.first;
            first.set(None);
            let attempts =
                crate::sequential::run(shared, *this.ctx, this.next.clone(), failed, *this.start);
            let mut extra: BoxedExtra<'a, C, H, F, Result<T, Error<E>>> =
                Box::pin(Retrying { attempts });
            let polled = extra.as_mut().poll_retrying(cx);
            this.rest.0 = Some(extra);
            return polled;
        };
        let hedging = Hedging {
            shared,
            config,
            ctx: *this.ctx,
            next: &*this.next,
            make: &*this.make,
            start: *this.start,
        };
        hedging.poll(this.first, &mut this.rest.0, entry, cx)
    }
}

impl<'a, T, E, C, H, N, M, F> Future for RetryFuture<'a, C, H, N, M, F, Result<T, Error<E>>>
where
    T: Send + 'a,
    E: Send + 'a,
    N: Next<'a, T, E>,
    M: Fn(N, Context<'a>) -> F,
    C: Classifier<T, E>,
    H: RetryAfter<T, E>,
    F: Future<Output = Result<T, Error<E>>> + Send + 'a,
{
    type Output = Result<T, Error<E>>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.as_mut().project();
        // Until anything else exists, the first attempt is polled here, and
        // an answer that is not a failure returns at once.
        let entry = if this.rest.0.is_none()
            && let Some(attempt) = this.first.as_pin_mut()
        {
            match attempt.poll(cx) {
                Poll::Ready(result) => {
                    let (outcome, result) = classify(&this.shared.classifier, result);
                    if outcome != Outcome::Failure {
                        return Poll::Ready(result);
                    }
                    Entry::FirstFailed(result)
                }
                Poll::Pending if this.shared.config.hedging.is_none() => return Poll::Pending,
                Poll::Pending => Entry::FirstPending,
            }
        } else {
            Entry::Poll
        };
        self.poll_rest(entry, cx)
    }
}
