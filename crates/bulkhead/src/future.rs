//! The future of a call under a bulkhead, written by hand so that the fast
//! path (a free permit) is a compare-and-swap, the call, and a
//! compare-and-swap, with no await machinery around them.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, ready};

use pin_project_lite::pin_project;
use steadfast_core::time::{self, Instant};
use steadfast_core::{Context, Error, Name};

use crate::partition::{Counters, Partition};
use crate::semaphore::Acquire;

/// A held permit; given back when dropped, so a call dropped mid-way frees it.
#[derive(Debug)]
struct Permit<'p>(&'p Partition);

impl Drop for Permit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.semaphore.release();
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Start,
    Waiting,
    Running,
    Done,
}

pin_project! {
    /// A call under a bulkhead: a permit (at once, after a wait, or a
    /// refusal), then the call, then the permit back and, when the limit is
    /// adaptive, a sample.
    ///
    /// `start` makes the call's future from `next` once a permit is held:
    /// the call is not even created for a refused caller.
    pub(crate) struct RunFuture<'p, 'a, N, S, F> {
        partition: &'p Partition,
        name: &'p Name,
        counters: &'p Counters,
        stage: Stage,
        next: Option<(N, Context<'a>)>,
        start: S,
        // Boxed: only a caller that finds the bulkhead full waits, and the
        // wait (a queue slot and a timer) would otherwise triple the size
        // of every call's future.
        acquire: Option<Pin<Box<Acquire<'p>>>>,
        // Declared before the permit: a dropped call is dropped before its
        // permit is given back.
        #[pin]
        call: Option<F>,
        permit: Option<Permit<'p>>,
        started_at: Option<Instant>,
    }
}

impl<'p, 'a, N, S, F> RunFuture<'p, 'a, N, S, F> {
    pub(crate) fn new(
        partition: &'p Partition,
        name: &'p Name,
        counters: &'p Counters,
        ctx: Context<'a>,
        next: N,
        start: S,
    ) -> Self {
        RunFuture {
            partition,
            name,
            counters,
            stage: Stage::Start,
            next: Some((next, ctx)),
            start,
            acquire: None,
            call: None,
            permit: None,
            started_at: None,
        }
    }
}

impl<'a, N, S, F, T, E> Future for RunFuture<'_, 'a, N, S, F>
where
    S: Fn(N, Context<'a>) -> F,
    F: Future<Output = Result<T, Error<E>>>,
{
    type Output = Result<T, Error<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let partition = *this.partition;
        if *this.stage != Stage::Running {
            if *this.stage == Stage::Start {
                if partition.semaphore.try_acquire() {
                    *this.stage = Stage::Running;
                } else {
                    *this.acquire = Some(Box::pin(partition.semaphore.acquire()));
                    *this.stage = Stage::Waiting;
                }
            }
            if *this.stage == Stage::Waiting {
                let acquire = this
                    .acquire
                    .as_mut()
                    .expect("a waiting call holds its acquire");
                let acquired = ready!(acquire.as_mut().poll(cx));
                *this.acquire = None;
                if let Err(reason) = acquired {
                    *this.stage = Stage::Done;
                    return Poll::Ready(Err(this.counters.reject(this.name, reason).into()));
                }
                *this.stage = Stage::Running;
            }
            assert!(
                *this.stage == Stage::Running,
                "a bulkhead call was polled after it completed"
            );
            *this.permit = Some(Permit(partition));
            let (next, ctx) = this.next.take().expect("the call starts once");
            if partition.is_adaptive() {
                *this.started_at = Some(time::now());
            }
            this.call.set(Some((this.start)(next, ctx)));
        }
        let call = this
            .call
            .as_mut()
            .as_pin_mut()
            .expect("a running call holds its future");
        let result = ready!(call.poll(cx));
        this.call.set(None);
        *this.stage = Stage::Done;
        if let Some(started_at) = this.started_at.take() {
            partition.sample(this.name, started_at.elapsed(), result.is_err());
        }
        *this.permit = None;
        Poll::Ready(result)
    }
}
