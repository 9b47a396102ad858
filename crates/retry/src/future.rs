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
//! that never left the fast path is one test of `rest`: a plain `Option` of
//! the box, whose drop neither writes `None` back nor calls out of line
//! (a wrapper that did cost a first success two instructions).
//!
//! The same future serves both ways in. Through a pipeline it starts its
//! attempts from the [`Next`](steadfast_core::Next) it was given; through
//! [`Policy::call`](steadfast_core::Policy::call) it owns the caller's
//! operation ([`Owned`](crate::source::Owned)), so `Retry::call` returns this future itself rather
//! than the trait's generic `async` wrapper, whose `poll` is too large to be
//! inlined into the caller. An answer that crosses a call that is not
//! inlined comes back through memory, written field by field and then copied
//! whole by the awaiting code, and that copy waits for the writes to reach
//! the cache (a failed store-to-load forward): about 10 ns, three times the
//! rest of a first success.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;
use steadfast_core::time::Instant;
use steadfast_core::{Classifier, Context, Error, Outcome, classify};

use crate::RetryAfter;
use crate::hedge::{BoxedExtra, Companion, Entry, Extra, Hedging};
use crate::policy::{Counters, Shared};
use crate::source::{CallContext, Source};

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

pin_project! {
    /// The future of one call: its first attempt inline, the rest boxed.
    pub(crate) struct RetryFuture<'a, C, H, X, N, M, F, R> {
        shared: &'a Shared<C, H>,
        ctx: X,
        // What attempts start from: a `Piped` next or an `Owned` operation.
        source: N,
        make: M,
        start: Option<Instant>,
        // `None` once it has finished (or been dropped, for a loser).
        #[pin]
        first: Option<F>,
        // The call's `Extra`, once it has one.
        rest: Option<BoxedExtra<'a, C, H, F, R>>,
    }
}

impl<'a, C, H, X, N, M, F, R> RetryFuture<'a, C, H, X, N, M, F, R>
where
    X: CallContext<'a>,
    M: Fn(&N, Context<'a>) -> F,
{
    /// A call whose first attempt starts now.
    #[inline]
    pub(crate) fn new(
        shared: &'a Shared<C, H>,
        ctx: X,
        source: N,
        make: M,
        start: Option<Instant>,
    ) -> Self {
        let first = make(&source, ctx.get().with_attempt(1).with_hedge(false));
        RetryFuture {
            shared,
            ctx,
            source,
            make,
            start,
            first: Some(first),
            rest: None,
        }
    }
}

impl<'a, T, E, C, H, X, N, M, F> RetryFuture<'a, C, H, X, N, M, F, Result<T, Error<E>>>
where
    X: CallContext<'a>,
    T: Send + 'a,
    E: Send + 'a,
    N: Source + Send + Sync + 'a,
    M: Fn(&N, Context<'a>) -> F + Clone + Send + Sync + 'a,
    C: Classifier<T, E>,
    H: RetryAfter<T, E>,
    F: Future<Output = Result<T, Error<E>>> + Send + 'a,
{
    /// [`poll_rest`](Self::poll_rest) out of line, its answer left in `out`
    /// rather than returned: returned, it would share the fast path's result
    /// slot in memory, and the awaiting code's copy of that slot would stall
    /// on the fast path's narrower writes. This way a first success stays in
    /// registers.
    #[inline(never)]
    fn poll_rest_into(
        self: Pin<&mut Self>,
        entry: Entry<Result<T, Error<E>>>,
        cx: &mut TaskContext<'_>,
        out: &mut Option<Result<T, Error<E>>>,
    ) {
        let shared = self.shared;
        if let Poll::Ready(answer) = self.poll_rest(entry, cx) {
            // The classifier is asked again here, off the fast path, rather
            // than threading each way out of the retry loop and the hedges
            // through a counter. A first success never comes here.
            let (outcome, answer) = classify(&shared.classifier, answer);
            if outcome == Outcome::Failure {
                Counters::add(&shared.counters.failures);
            }
            *out = Some(answer);
        }
    }

    /// Everything but a lone first attempt that is pending or not a failure:
    /// starting the retries, hedging, polling what is boxed. Out of line, so
    /// the `poll` of a call that needs none of it stays small.
    #[inline]
    fn poll_rest(
        self: Pin<&mut Self>,
        entry: Entry<Result<T, Error<E>>>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Result<T, Error<E>>> {
        let this = self.project();
        let shared: &'a Shared<C, H> = this.shared;
        let Some(config) = shared.config.hedging.as_ref() else {
            if let Some(extra) = this.rest.as_mut() {
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
            let attempts = crate::sequential::run(
                shared,
                this.ctx.get(),
                this.source.for_retries(),
                this.make.clone(),
                failed,
                *this.start,
            );
            let mut extra: BoxedExtra<'a, C, H, F, Result<T, Error<E>>> =
                Box::pin(Retrying { attempts });
            let polled = extra.as_mut().poll_retrying(cx);
            *this.rest = Some(extra);
            return polled;
        };
        let hedging = Hedging {
            shared,
            config,
            ctx: this.ctx.get(),
            source: &*this.source,
            make: &*this.make,
            start: *this.start,
        };
        hedging.poll(this.first, this.rest, entry, cx)
    }
}

impl<'a, T, E, C, H, X, N, M, F> Future for RetryFuture<'a, C, H, X, N, M, F, Result<T, Error<E>>>
where
    X: CallContext<'a>,
    T: Send + 'a,
    E: Send + 'a,
    N: Source + Send + Sync + 'a,
    M: Fn(&N, Context<'a>) -> F + Clone + Send + Sync + 'a,
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
        let entry = if this.rest.is_none()
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
        let mut out = None;
        self.poll_rest_into(entry, cx, &mut out);
        match out {
            Some(answer) => Poll::Ready(answer),
            None => Poll::Pending,
        }
    }
}
