//! Sequential retries: after a failed first attempt, decide, wait, try again.
//!
//! This is the slow path; the first attempt runs in
//! [`Retry::execute`](crate::Retry). Here the clock is read, the budget
//! consulted and the backoff's random source seeded.

use std::future::Future;
use std::time::Duration;

use steadfast_core::time::{self, Instant};
use steadfast_core::{Classifier, Context, Error, Outcome, classify};

use crate::backoff::Delays;
use crate::budget::Permit;
use crate::policy::{Counters, Shared};
use crate::rejection::{Rule, rule};
use crate::rng::SplitMix64;
use crate::{RetryAfter, RetryEvent};

/// Why a failed call was not retried (for the trace event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GiveUp {
    Attempts,
    NotRetryable,
    RetryAfterTooLong,
    Deadline,
    Budget,
}

/// A retry decided on: wait `delay` from `now`, holding `permit`.
pub(crate) struct Plan<'a> {
    pub(crate) at: Instant,
    pub(crate) delay: Duration,
    pub(crate) floor: Option<Duration>,
    pub(crate) permit: Option<Permit<'a>>,
}

/// The earlier of the call's deadline and its `max_elapsed` limit.
pub(crate) fn deadline<C, H>(
    shared: &Shared<C, H>,
    ctx: &Context<'_>,
    start: Option<Instant>,
) -> Option<Instant> {
    // A limit too far away to represent is no limit.
    let elapsed_limit = start
        .zip(shared.config.max_elapsed)
        .and_then(|(s, m)| s.checked_add(m));
    match (ctx.deadline(), elapsed_limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A Retry-After floor, and whether it binds (a rejection that would refuse
/// any earlier retry), or why not to retry at all.
type Floor = Result<(Option<Duration>, bool), GiveUp>;

/// The Retry-After floor of a failed result; the result is handed back.
fn floor<T, E, H: RetryAfter<T, E>>(
    hint: &H,
    result: Result<T, Error<E>>,
) -> (Floor, Result<T, Error<E>>) {
    match result {
        Ok(value) => {
            let plain = Ok(value);
            let hint = hint.retry_after(&plain);
            (Ok((hint, false)), plain.map_err(Error::Inner))
        }
        Err(Error::Inner(error)) => {
            let plain = Err(error);
            let hint = hint.retry_after(&plain);
            (Ok((hint, false)), plain.map_err(Error::Inner))
        }
        Err(rejection) => {
            let verdict = match rule(&rejection) {
                Rule::Backoff => Ok((None, false)),
                Rule::NotBefore(d) => Ok((Some(d), true)),
                Rule::Stop => Err(GiveUp::NotRetryable),
            };
            (verdict, Err(rejection))
        }
    }
}

impl<C, H> Shared<C, H> {
    /// Decides whether failed attempt number `attempt` is retried, and when.
    pub(crate) fn plan<T, E>(
        &self,
        attempt: u32,
        delays: &mut Option<Delays>,
        deadline: Option<Instant>,
        result: Result<T, Error<E>>,
    ) -> (Result<Plan<'_>, GiveUp>, Result<T, Error<E>>)
    where
        H: RetryAfter<T, E>,
    {
        if attempt >= self.config.max_attempts {
            return (Err(GiveUp::Attempts), result);
        }
        let (verdict, result) = floor(&self.retry_after, result);
        let plan = verdict.and_then(|(floor, _binding)| {
            // A retry never starts before its hint, so a hint too long to
            // wait out ends the retrying.
            if floor.is_some_and(|f| f > self.max_retry_after) {
                return Err(GiveUp::RetryAfterTooLong);
            }
            let backoff = delays
                .get_or_insert_with(|| Delays::new(self.config.backoff, self.next_seed()))
                .next()
                .unwrap_or_default();
            let backoff = backoff.min(self.max_delay);
            let now = time::now();
            let delay = match floor {
                // The hint decides the wait: spread it, so that callers told
                // the same instant (an open circuit's probe, a limit's reset)
                // do not all come back at it.
                Some(floor) if floor >= backoff => spread_hint(
                    floor,
                    self.next_seed(),
                    deadline.map(|d| d.saturating_duration_since(now)),
                ),
                _ => backoff,
            };
            // A wait too long to represent ends past any deadline.
            let at = now.checked_add(delay);
            if let Some(d) = deadline
                && at.is_none_or(|at| at >= d)
            {
                return Err(GiveUp::Deadline);
            }
            let permit = match &self.budget {
                Some(budget) => {
                    let unfailed = self.counters.unfailed();
                    let Some(permit) = budget.try_acquire(unfailed) else {
                        Counters::add(&self.counters.budget_exhausted);
                        return Err(GiveUp::Budget);
                    };
                    Some(permit)
                }
                None => None,
            };
            Ok(Plan {
                at: now,
                delay,
                floor,
                permit,
            })
        });
        (plan, result)
    }
}

/// A wait of `floor` lengthened by a random share of up to a fifth of it,
/// drawn from `seed`: never before the hint. Where `room` (the time left
/// before the deadline) cannot hold the spread, the spread shrinks to what
/// fits, so a hint that fits is never refused for its jitter.
fn spread_hint(floor: Duration, seed: u64, room: Option<Duration>) -> Duration {
    let mut widest = floor / 5;
    if let Some(room) = room {
        // Keep the wait strictly before the deadline when the floor is.
        let fits = room
            .saturating_sub(floor)
            .saturating_sub(Duration::from_nanos(1));
        widest = widest.min(fits);
    }
    let widest = u64::try_from(widest.as_nanos()).unwrap_or(u64::MAX);
    floor.saturating_add(Duration::from_nanos(
        SplitMix64::new(seed).between(0, widest),
    ))
}

/// Retries until an attempt is not a failure or a limit says stop; the
/// first attempt (`result`) has already failed. `make` starts an attempt
/// from `source`, as in [`RetryFuture`](crate::future).
pub(crate) async fn run<'a, T, E, C, H, S, M, F>(
    shared: &'a Shared<C, H>,
    ctx: Context<'a>,
    source: S,
    make: M,
    mut result: Result<T, Error<E>>,
    start: Option<Instant>,
) -> Result<T, Error<E>>
where
    M: Fn(&S, Context<'a>) -> F,
    F: Future<Output = Result<T, Error<E>>>,
    C: Classifier<T, E>,
    H: RetryAfter<T, E>,
{
    let deadline = deadline(shared, &ctx, start);
    let mut delays = None;
    let mut attempt = 1;
    loop {
        let (plan, failed) = shared.plan(attempt, &mut delays, deadline, result);
        let plan = match plan {
            Ok(plan) => plan,
            Err(reason) => {
                tracing::trace!(policy = %shared.name(), attempt, ?reason, "not retrying");
                return failed;
            }
        };
        shared.emit(&RetryEvent {
            policy: shared.name().as_str(),
            attempt,
            delay: plan.delay,
            outcome: Outcome::Failure,
            error: failed.as_ref().err().map(Error::kind),
            retry_after: plan.floor,
        });
        // The failed result is dropped before the wait: the caller gets the
        // last attempt's, and holding this one would only grow the future.
        drop(failed);
        if !plan.delay.is_zero() {
            match plan.at.checked_add(plan.delay) {
                Some(at) => time::sleep_until(at).await,
                // Beyond the clock's range: tokio caps the wait itself.
                None => time::sleep(plan.delay).await,
            }
        }
        if let Some(permit) = plan.permit {
            permit.commit();
        }
        Counters::add(&shared.counters.retries);
        attempt += 1;
        let next_result = make(&source, ctx.with_attempt(attempt).with_hedge(false)).await;
        let (outcome, next_result) = classify(&shared.classifier, next_result);
        if outcome != Outcome::Failure {
            return next_result;
        }
        result = next_result;
    }
}
