//! The future of a call under a [`Retry`](crate::Retry).
//!
//! Hand-written so the path every healthy call takes — one attempt that
//! succeeds — is a small `poll`: the attempt and the classifier, after one
//! counter bumped when the call started. Everything a failure needs (the
//! clock, the budget, the backoff, a timer) lives in a separate future,
//! boxed when the first failure happens, so it neither grows nor slows the
//! future of a call that never needs it. Hedging keeps its first attempt
//! inline the same way; see [`hedge`](crate::hedge).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, ready};

use pin_project_lite::pin_project;
use steadfast_core::time::Instant;
use steadfast_core::{Classifier, Context, Error, Next, Outcome, classify};

use crate::RetryAfter;
use crate::hedge::{BoxedCompanion, Entry, Hedging};
use crate::policy::Shared;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The state of a call whose result is `Result<T, Error<E>>`.
type CallState<'a, C, H, F, T, E> = State<'a, C, H, F, Result<T, Error<E>>>;

pin_project! {
    #[project = StateProj]
    enum State<'a, C, H, F, R> {
        /// The first attempt of a sequential retry is running.
        First { #[pin] attempt: F },
        /// A hedged call: its first attempt inline, the rest made on demand.
        Hedged {
            #[pin]
            first: Option<F>,
            companion: Option<BoxedCompanion<'a, C, H, F>>,
        },
        /// Retrying after a failed first attempt, on the heap.
        Slow { future: BoxFuture<'a, R> },
    }
}

pin_project! {
    /// The future of one call: its first attempt inline, the rest boxed.
    pub(crate) struct RetryFuture<'a, C, H, N, M, F, R> {
        shared: &'a Shared<C, H>,
        ctx: Context<'a>,
        next: N,
        make: M,
        start: Option<Instant>,
        #[pin]
        state: State<'a, C, H, F, R>,
    }
}

impl<'a, C, H, N, M, F, R> RetryFuture<'a, C, H, N, M, F, R>
where
    N: Clone,
    M: Fn(N, Context<'a>) -> F,
{
    /// A call whose first attempt starts now; `hedged` picks the mode.
    #[inline]
    pub(crate) fn new(
        shared: &'a Shared<C, H>,
        ctx: Context<'a>,
        next: N,
        make: M,
        start: Option<Instant>,
        hedged: bool,
    ) -> Self {
        let attempt = make(next.clone(), ctx.with_attempt(1).with_hedge(false));
        let state = if hedged {
            State::Hedged {
                first: Some(attempt),
                companion: None,
            }
        } else {
            State::First { attempt }
        };
        RetryFuture {
            shared,
            ctx,
            next,
            make,
            start,
            state,
        }
    }
}

/// Moves the call to the boxed retry loop once its first attempt has failed.
/// Out of line: the path of a call that never fails should not carry it.
#[cold]
#[inline(never)]
fn start_retrying<'a, T, E, C, H, N, F>(
    shared: &'a Shared<C, H>,
    ctx: Context<'a>,
    next: &N,
    start: Option<Instant>,
    failed: Result<T, Error<E>>,
    mut state: Pin<&mut CallState<'a, C, H, F, T, E>>,
) where
    T: Send + 'a,
    E: Send + 'a,
    N: Next<'a, T, E>,
    C: Classifier<T, E>,
    H: RetryAfter<T, E>,
{
    let future = Box::pin(crate::sequential::run(
        shared,
        ctx,
        next.clone(),
        failed,
        start,
    ));
    state.set(State::Slow { future });
}

/// Polls a hedged call beyond its lone first attempt. Out of line, so the
/// `poll` of a call that needs none of it stays small.
#[inline(never)]
#[allow(clippy::too_many_arguments)] // the parts of one future, borrowed apart
fn poll_hedged<'a, T, E, C, H, N, M, F>(
    shared: &'a Shared<C, H>,
    ctx: Context<'a>,
    next: &N,
    make: &M,
    start: Option<Instant>,
    first: Pin<&mut Option<F>>,
    companion: &mut Option<BoxedCompanion<'a, C, H, F>>,
    entry: Entry<Result<T, Error<E>>>,
    cx: &mut TaskContext<'_>,
) -> Poll<Result<T, Error<E>>>
where
    N: Next<'a, T, E>,
    M: Fn(N, Context<'a>) -> F,
    C: Classifier<T, E>,
    H: RetryAfter<T, E>,
    F: Future<Output = Result<T, Error<E>>>,
{
    let Some(config) = shared.config.hedging.as_ref() else {
        unreachable!("a hedged call is made only when hedging is configured");
    };
    let hedging = Hedging {
        shared,
        config,
        ctx,
        next,
        make,
        start,
    };
    hedging.poll(first, companion, entry, cx)
}

impl<'a, T, E, C, H, N, M, F> Future for RetryFuture<'a, C, H, N, M, F, Result<T, Error<E>>>
where
    T: Send + 'a,
    E: Send + 'a,
    N: Next<'a, T, E>,
    M: Fn(N, Context<'a>) -> F,
    C: Classifier<T, E>,
    H: RetryAfter<T, E>,
    F: Future<Output = Result<T, Error<E>>>,
{
    type Output = Result<T, Error<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::First { attempt } => {
                    let result = ready!(attempt.poll(cx));
                    let (outcome, result) = classify(&this.shared.classifier, result);
                    if outcome != Outcome::Failure || this.shared.config.max_attempts == 1 {
                        return Poll::Ready(result);
                    }
                    start_retrying(
                        this.shared,
                        *this.ctx,
                        this.next,
                        *this.start,
                        result,
                        this.state.as_mut(),
                    );
                }
                StateProj::Hedged {
                    mut first,
                    companion,
                } => {
                    // Until a hedge exists, the first attempt is polled here,
                    // and a first answer that is not a failure returns at once.
                    let mut entry = Entry::Poll;
                    if companion.is_none()
                        && let Some(attempt) = first.as_mut().as_pin_mut()
                    {
                        entry = match attempt.poll(cx) {
                            Poll::Ready(result) => {
                                let (outcome, result) = classify(&this.shared.classifier, result);
                                if outcome != Outcome::Failure {
                                    return Poll::Ready(result);
                                }
                                Entry::FirstFailed(result)
                            }
                            Poll::Pending => Entry::FirstPending,
                        };
                    }
                    return poll_hedged(
                        this.shared,
                        *this.ctx,
                        &*this.next,
                        &*this.make,
                        *this.start,
                        first,
                        companion,
                        entry,
                        cx,
                    );
                }
                StateProj::Slow { future } => return future.as_mut().poll(cx),
            }
        }
    }
}
