//! Hedging: several attempts at once, the first acceptable answer wins.
//!
//! All attempts run inside the one future the policy returns (no task is
//! spawned), so dropping it drops every attempt. The first attempt is held
//! inline in [`RetryFuture`](crate::future); everything else — the hedge
//! timer, the hedges, the launcher's state — lives in a boxed [`Companion`]
//! made only when it is needed: when the first attempt is still pending
//! after its first poll (delayed and parallel modes) or fails. So a call
//! whose first attempt is ready at once allocates nothing and registers no
//! timer, and one that answers before the hedge delay registers one timer.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use pin_project_lite::pin_project;
use steadfast_core::time::{self, Instant, Sleep};
use steadfast_core::{Classifier, Context, Error, Outcome, classify};

use crate::policy::{Counters, Shared};
use crate::rejection::{Rule, rule};
use crate::sequential::deadline;
use crate::{HedgeConfig, HedgeMode, RetryAfter};

pin_project! {
    /// An attempt's future, tagged with its number.
    pub(crate) struct Numbered<F> {
        #[pin]
        future: F,
        number: u32,
    }
}

impl<F: Future> Future for Numbered<F> {
    type Output = (u32, F::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        this.future.poll(cx).map(|out| (*this.number, out))
    }
}

/// Decides whether another hedge may start, and counts the ones that do.
struct Launcher<'s, C, H> {
    shared: &'s Shared<C, H>,
    deadline: Option<Instant>,
    /// Attempts started so far, the first included.
    started: u32,
    total: u32,
    /// Set when the budget, the deadline or a non-retryable failure says no more.
    closed: bool,
}

impl<C, H> Launcher<'_, C, H> {
    fn can_start(&self) -> bool {
        !self.closed && self.started < self.total
    }

    /// Claims the next hedge's number, or closes the launcher.
    fn claim(&mut self) -> Option<u32> {
        if !self.can_start() {
            return None;
        }
        let now = time::now();
        if self.deadline.is_some_and(|d| now >= d) {
            self.closed = true;
            return None;
        }
        if let Some(budget) = &self.shared.budget {
            let unfailed = self.shared.counters.unfailed();
            let Some(permit) = budget.try_acquire(unfailed) else {
                Counters::add(&self.shared.counters.budget_exhausted);
                tracing::trace!(policy = %self.shared.name(), "hedge refused: budget spent");
                self.closed = true;
                return None;
            };
            permit.commit();
        }
        self.started += 1;
        Counters::add(&self.shared.counters.hedges_started);
        tracing::trace!(policy = %self.shared.name(), attempt = self.started, "starting a hedge");
        Some(self.started)
    }
}

pin_project! {
    /// What a hedged call needs beyond its first attempt; boxed, made lazily.
    /// `want_timer` asks to arm the timer at the next poll where every
    /// attempt is pending.
    pub(crate) struct Companion<'s, C, H, F> {
        launcher: Launcher<'s, C, H>,
        hedges: FuturesUnordered<Numbered<F>>,
        #[pin]
        timer: Option<Sleep>,
        want_timer: bool,
        delay: Option<Duration>,
    }
}

fn retryable<T, E>(result: &Result<T, Error<E>>) -> bool {
    match result {
        Ok(_) | Err(Error::Inner(_)) => true,
        Err(rejection) => rule(rejection) != Rule::Stop,
    }
}

/// What the caller of [`Hedging::poll`] already did with the first attempt.
pub(crate) enum Entry<R> {
    /// Nothing: poll everything.
    Poll,
    /// Polled it for this wake-up: it is pending.
    FirstPending,
    /// It finished with this failure.
    FirstFailed(R),
}

/// The hedging half of [`RetryFuture`](crate::future): the call's parts,
/// borrowed for one poll.
pub(crate) struct Hedging<'p, 'a, C, H, N, M> {
    pub(crate) shared: &'a Shared<C, H>,
    pub(crate) config: &'a HedgeConfig,
    pub(crate) ctx: Context<'a>,
    pub(crate) source: &'p N,
    /// Starts an attempt from the source, a zero-sized closure that names the
    /// attempt's future type for the hedges' set.
    pub(crate) make: &'p M,
    pub(crate) start: Option<Instant>,
}

/// What a call holds beyond its first attempt, once it needs it: a hedged
/// call's [`Companion`], or a sequential call's retry loop. One boxed trait
/// object for both keeps the call's future small (a pointer pair) and its
/// drop glue out of every caller's code.
pub(crate) trait Extra<'a, C, H, F, R> {
    /// The hedges of a hedged call.
    fn hedges(self: Pin<&mut Self>) -> Pin<&mut Companion<'a, C, H, F>>;

    /// Polls the retry loop of a sequential call.
    fn poll_retrying(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<R>;
}

impl<'a, C, H, F, R> Extra<'a, C, H, F, R> for Companion<'a, C, H, F> {
    fn hedges(self: Pin<&mut Self>) -> Pin<&mut Companion<'a, C, H, F>> {
        self
    }

    fn poll_retrying(self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<R> {
        unreachable!("a hedged call has no retry loop")
    }
}

pub(crate) type BoxedExtra<'a, C, H, F, R> = Pin<Box<dyn Extra<'a, C, H, F, R> + Send + 'a>>;

/// Where a hedged call keeps its companion once made.
pub(crate) type CompanionSlot<'a, C, H, F, T, E> =
    Option<BoxedExtra<'a, C, H, F, Result<T, Error<E>>>>;

impl<'a, C, H, N, M> Hedging<'_, 'a, C, H, N, M> {
    fn hedge<F>(&self, number: u32) -> Numbered<F>
    where
        M: Fn(&N, Context<'a>) -> F,
    {
        Numbered {
            future: (self.make)(self.source, self.ctx.with_attempt(number).with_hedge(true)),
            number,
        }
    }

    fn companion<F, R>(&self) -> BoxedExtra<'a, C, H, F, R>
    where
        F: Send + 'a,
        C: Sync,
        H: Sync,
    {
        let delay = match self.config.mode {
            HedgeMode::Delayed { delay } => Some(delay),
            _ => None,
        };
        Box::pin(Companion {
            launcher: Launcher {
                shared: self.shared,
                deadline: deadline(self.shared, &self.ctx, self.start),
                started: 1,
                total: self.config.max_hedged.saturating_add(1),
                closed: false,
            },
            hedges: FuturesUnordered::new(),
            timer: None,
            want_timer: delay.is_some(),
            delay,
        })
    }

    /// Polls every attempt; the first acceptable result is the answer.
    /// `entry` says what the caller already did with the first attempt.
    pub(crate) fn poll<T, E, F>(
        &self,
        mut first: Pin<&mut Option<F>>,
        companion: &mut CompanionSlot<'a, C, H, F, T, E>,
        entry: Entry<Result<T, Error<E>>>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Result<T, Error<E>>>
    where
        F: Future<Output = Result<T, Error<E>>> + Send + 'a,
        M: Fn(&N, Context<'a>) -> F,
        C: Classifier<T, E>,
        H: RetryAfter<T, E>,
    {
        let mut skip_first = false;
        match entry {
            Entry::Poll => {}
            Entry::FirstPending => skip_first = true,
            Entry::FirstFailed(result) => {
                first.set(None);
                if let Some(answer) = self.failed(result, false, companion) {
                    return Poll::Ready(answer);
                }
            }
        }
        loop {
            if !std::mem::take(&mut skip_first)
                && let Some(attempt) = first.as_mut().as_pin_mut()
                && let Poll::Ready(result) = attempt.poll(cx)
            {
                first.set(None);
                if let Some(answer) = self.finished(1, result, false, companion) {
                    return Poll::Ready(answer);
                }
                continue;
            }
            if companion.is_none() {
                // Fallback mode starts nothing until a failure.
                if self.config.mode == HedgeMode::Fallback {
                    return Poll::Pending;
                }
                let mut made = self.companion();
                if self.config.mode == HedgeMode::Parallel {
                    let c = made.as_mut().hedges().project();
                    while let Some(number) = c.launcher.claim() {
                        c.hedges.push(self.hedge(number));
                    }
                }
                *companion = Some(made);
            }
            let c = companion
                .as_mut()
                .expect("the companion was made above")
                .as_mut()
                .hedges()
                .project();
            if !c.hedges.is_empty()
                && let Poll::Ready(Some((number, result))) = c.hedges.poll_next_unpin(cx)
            {
                let first_running = first.is_some();
                if let Some(answer) = self.finished(number, result, first_running, companion) {
                    return Poll::Ready(answer);
                }
                continue;
            }
            // Armed only once every attempt is pending, one delay from now.
            let mut timer = c.timer;
            if *c.want_timer && timer.is_none() {
                *c.want_timer = false;
                if let Some(delay) = c.delay.filter(|_| c.launcher.can_start()) {
                    // A delay beyond the clock's range never elapses.
                    if let Some(at) = time::now().checked_add(delay)
                        && c.launcher.deadline.is_none_or(|d| at < d)
                    {
                        timer.set(Some(time::sleep_until(at)));
                    }
                }
            }
            if let Some(sleep) = timer.as_mut().as_pin_mut()
                && sleep.poll(cx).is_ready()
            {
                timer.set(None);
                if let Some(number) = c.launcher.claim() {
                    c.hedges.push(self.hedge(number));
                }
                *c.want_timer = true;
                continue;
            }
            return Poll::Pending;
        }
    }

    /// Judges a finished attempt: `Some` is the call's answer.
    fn finished<T, E, F>(
        &self,
        number: u32,
        result: Result<T, Error<E>>,
        first_running: bool,
        companion: &mut CompanionSlot<'a, C, H, F, T, E>,
    ) -> Option<Result<T, Error<E>>>
    where
        F: Send + 'a,
        M: Fn(&N, Context<'a>) -> F,
        C: Classifier<T, E>,
        H: Sync,
    {
        let (outcome, result) = classify(&self.shared.classifier, result);
        if outcome != Outcome::Failure {
            if number > 1 {
                Counters::add(&self.shared.counters.hedges_won);
            }
            // The caller drops the other attempts with this future.
            return Some(result);
        }
        self.failed(result, first_running, companion)
    }

    /// Handles a failed attempt: `Some` when it ends the call.
    fn failed<T, E, F>(
        &self,
        result: Result<T, Error<E>>,
        first_running: bool,
        companion: &mut CompanionSlot<'a, C, H, F, T, E>,
    ) -> Option<Result<T, Error<E>>>
    where
        F: Send + 'a,
        M: Fn(&N, Context<'a>) -> F,
        C: Sync,
        H: Sync,
    {
        let c = companion
            .get_or_insert_with(|| self.companion())
            .as_mut()
            .hedges()
            .project();
        if !retryable(&result) {
            c.launcher.closed = true;
        }
        // A failure starts the next attempt at once, in every mode.
        if let Some(number) = c.launcher.claim() {
            c.hedges.push(self.hedge(number));
            let mut timer = c.timer;
            timer.set(None);
            *c.want_timer = c.delay.is_some();
        }
        if !first_running && c.hedges.is_empty() {
            // Every attempt has failed: the last failure is the answer.
            return Some(result);
        }
        None
    }
}
