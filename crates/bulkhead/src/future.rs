//! The future of a call under a bulkhead, written by hand so that the fast
//! path (a free permit) is a compare-and-swap, the call, and a
//! compare-and-swap, with no await machinery around them.
//!
//! Only that path is in `poll`, which inlines into the awaiting code, so a
//! call's answer comes back in registers. Waiting for a permit, a refusal,
//! and a call under an adaptive limit once started (its poll and its
//! sample) are out of line, in `poll_rest`, which answers through an
//! out-parameter (see `steadfast-retry`'s future for why).

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

impl<'a, N, S, F, T, E> RunFuture<'_, 'a, N, S, F>
where
    S: Fn(N, Context<'a>) -> F,
    F: Future<Output = Result<T, Error<E>>>,
{
    /// Starts the call once a permit is held; under an adaptive limit
    /// (`adaptive`, the partition's), the clock too.
    #[inline]
    fn begin(self: Pin<&mut Self>, adaptive: bool) {
        let mut this = self.project();
        *this.stage = Stage::Running;
        *this.permit = Some(Permit(this.partition));
        let (next, ctx) = this.next.take().expect("the call starts once");
        if adaptive {
            *this.started_at = Some(time::now());
        }
        this.call.set(Some((this.start)(next, ctx)));
    }

    /// A full bulkhead: queue for a permit (or be refused by the next poll).
    #[cold]
    #[inline(never)]
    fn wait(self: Pin<&mut Self>) {
        let this = self.project();
        // The only place a bulkhead reads the deadline (hence its
        // `READS_DEADLINE`): a caller that must wait.
        let deadline = this.next.as_ref().and_then(|(_, ctx)| ctx.deadline());
        *this.acquire = Some(Box::pin(this.partition.semaphore.acquire(deadline)));
        *this.stage = Stage::Waiting;
    }

    /// [`poll_rest`](Self::poll_rest) out of line, its answer left in `out`
    /// rather than returned: returned, it would share the fast path's result
    /// slot in memory, and the awaiting code's copy of that slot would stall
    /// on the narrower writes that filled it (see `steadfast-retry`'s
    /// future). This way a call that finds a permit answers in registers.
    #[inline(never)]
    fn poll_rest_into(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, out: &mut Option<F::Output>) {
        if let Poll::Ready(answer) = self.poll_rest(cx) {
            *out = Some(answer);
        }
    }

    /// Everything but a call on a fixed limit that holds its permit: the
    /// wait for a permit, a refusal, a call under an adaptive limit (timed
    /// and sampled).
    fn poll_rest(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.as_mut().project();
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
            let adaptive = this.partition.is_adaptive();
            self.as_mut().begin(adaptive);
        }
        let mut this = self.project();
        assert!(
            *this.stage == Stage::Running,
            "a bulkhead call was polled after it completed"
        );
        let call = this
            .call
            .as_mut()
            .as_pin_mut()
            .expect("a running call holds its future");
        let result = ready!(call.poll(cx));
        this.call.set(None);
        *this.stage = Stage::Done;
        if let Some(started_at) = this.started_at.take() {
            this.partition
                .sample(this.name, started_at.elapsed(), result.is_err());
        }
        *this.permit = None;
        Poll::Ready(result)
    }
}

impl<'a, N, S, F, T, E> Future for RunFuture<'_, 'a, N, S, F>
where
    S: Fn(N, Context<'a>) -> F,
    F: Future<Output = Result<T, Error<E>>>,
{
    type Output = Result<T, Error<E>>;

    /// Inline: taking a permit (or queueing), and a call under a fixed limit
    /// that holds one — a compare-and-swap, the call, a compare-and-swap.
    /// The rest is out of line, in `poll_rest`.
    // `always`: with a plain `#[inline]`, LLVM kept this `poll` out of line
    // in the benchmark (its two compare-and-swap loops weigh on the inline
    // cost) and the answer crossed the call through memory:
    // `bulkhead_uncontended` 23.0 ns against 16.1 ns inlined.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.as_mut().project();
        if *this.stage == Stage::Start {
            if this.partition.semaphore.try_acquire() {
                let adaptive = this.partition.is_adaptive();
                self.as_mut().begin(adaptive);
            } else {
                self.as_mut().wait();
            }
        }
        let mut this = self.as_mut().project();
        if *this.stage == Stage::Running && this.started_at.is_none() {
            let call = this
                .call
                .as_mut()
                .as_pin_mut()
                .expect("a running call holds its future");
            let result = ready!(call.poll(cx));
            this.call.set(None);
            *this.stage = Stage::Done;
            *this.permit = None;
            return Poll::Ready(result);
        }
        let mut out = None;
        self.poll_rest_into(cx, &mut out);
        match out {
            Some(answer) => Poll::Ready(answer),
            None => Poll::Pending,
        }
    }
}
