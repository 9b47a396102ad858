//! The cache as a policy: keyed per call, the rest of the pipeline as its fetch.
//!
//! In a borrowed call ([`Policy::call`]) the fetch is the rest of the
//! pipeline, which borrows the caller's stack: it cannot become a task of its
//! own, so whoever runs it must stay. The flight's leader is the caller that
//! missed first; if it goes away, a follower takes over with its own
//! pipeline. A stale hit is refreshed by the caller that claims it, in the
//! foreground, bounded by the soft timeout (others are served stale at once).
//!
//! In an owned call ([`Policy::call_owned`], and every steadfast-tower
//! service) the pipeline can run again in a task of its own
//! ([`Context::relaunch`]), so the cache does real stale-while-revalidate:
//! a stale hit answers at once and its one refresh runs in a background call
//! through the pipeline; a miss that has a stale value and a soft timeout
//! runs its fetch in a background call, and the caller waits for it at most
//! the soft timeout; the fetch goes on, and stores, when the caller leaves.
//! The background call starts at the top of the pipeline with the owned
//! call's keys: policies above the cache see one more call.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, ready};

use pin_project_lite::pin_project;

use steadfast_core::{
    Background, Classifier, Context, Error, MissingKey, Next, Outcome, Policy, Relaunch, Shed, time,
};

use crate::cache::stale;
use crate::cache::{Cache, Lookup, Refreshes};
use crate::entry::Claim;
use crate::entry::Entry;
use crate::fetch::{Either, race};
use crate::flight::{Landing, Leader, Role};
use crate::snapshot::bump;
use crate::store::{Key, Store};
use crate::{Cached, FetchOptions, Freshness, StaleReason};
use std::sync::Arc;

impl<K, V, E, C, S> Policy<V, E> for Cache<K, V, E, C, S>
where
    K: Key,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    C: Classifier<V, E> + 'static,
    S: Store<K, V>,
{
    /// Serves the call from the cache under the call's key (a
    /// [`Context::with_key`] of type `K`). A call without one is refused
    /// with [`Error::MissingKey`] (counted as `missing_keys`), or, with
    /// [`pass_through_unkeyed`](crate::CacheConfig::pass_through_unkeyed),
    /// passes straight through uncached (counted as `bypassed`).
    async fn execute<'a, N>(&'a self, ctx: Context<'a>, next: N) -> Result<V, Error<E>>
    where
        N: Next<'a, V, E>,
        V: 'a,
        E: 'a,
    {
        if let Some(key) = ctx.key::<K>() {
            self.execute_cached(key, ctx, || next.clone().invoke(ctx))
                .await
                .map(Cached::into_value)
        } else {
            self.unkeyed()?;
            next.invoke(ctx).await
        }
    }
}

/// The cache as a policy answering [`Cached<V>`]: the same, and the caller
/// learns how fresh each answer is. The operation's values are marked with
/// [`fetched`](crate::fetched).
impl<K, V, E, C, S> Policy<Cached<V>, E> for Cache<K, V, E, C, S>
where
    K: Key,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    C: Classifier<V, E> + 'static,
    S: Store<K, V>,
{
    async fn execute<'a, N>(&'a self, ctx: Context<'a>, next: N) -> Result<Cached<V>, Error<E>>
    where
        N: Next<'a, Cached<V>, E>,
        Cached<V>: 'a,
        E: 'a,
    {
        if let Some(key) = ctx.key::<K>() {
            self.execute_cached(key, ctx, || UnwrapFuture {
                future: next.clone().invoke(ctx),
            })
            .await
        } else {
            self.unkeyed()?;
            next.invoke(ctx).await
        }
    }
}

pin_project! {
    /// Maps the answer of the rest of the pipeline from `Cached<V>` to `V`.
    /// (A named future, not an `async` block: the block's state would hide
    /// the inner future's lifetime from the `Send` check, rust-lang/rust#100013.)
    struct UnwrapFuture<F> {
        #[pin]
        future: F,
    }
}

impl<F, V, E> Future for UnwrapFuture<F>
where
    F: Future<Output = Result<Cached<V>, Error<E>>>,
{
    type Output = Result<V, Error<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let result = ready!(self.project().future.poll(cx));
        Poll::Ready(result.map(Cached::into_value))
    }
}

impl<K, V, E, C, S> Cache<K, V, E, C, S>
where
    K: Key,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    C: Classifier<V, E> + 'static,
    S: Store<K, V>,
{
    /// A call without a key of type `K`: refused, unless the config lets
    /// it pass through uncached.
    fn unkeyed(&self) -> Result<(), Error<E>> {
        let inner = &self.inner;
        if inner.config.pass_through_unkeyed {
            bump(&inner.stats.bypassed);
            Ok(())
        } else {
            bump(&inner.stats.missing_keys);
            Err(MissingKey::new::<K>(inner.config.name.clone()).into())
        }
    }

    /// The identity a background job names this cache by: its shared state.
    fn id(&self) -> usize {
        std::sync::Arc::as_ptr(&self.inner).cast::<()>() as usize
    }

    /// The policy's work, with how fresh the answer is.
    async fn execute_cached<F, Fut>(
        &self,
        key: &K,
        ctx: Context<'_>,
        fetch: F,
    ) -> Result<Cached<V>, Error<E>>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<V, Error<E>>>,
    {
        if let Some(job) = ctx.background() {
            if let Some(refresh) = job.take::<RefreshJob<K, V>>(self.id()) {
                return self.run_refresh(*refresh, &fetch).await;
            }
            if let Some(lead) = job.take::<LeadJob<K, V, E>>(self.id()) {
                return self.run_lead(*lead, &fetch).await;
            }
        }
        let inner = &self.inner;
        let options = FetchOptions::new();
        // A background call that never reached the cache (a policy above it
        // refused it) abandons its flight; the caller then leads in the
        // foreground rather than hand the fetch over again.
        let mut relaunch = ctx.relaunch();
        loop {
            let candidate = match inner.lookup(key, Refreshes::Stale).await {
                Lookup::Served(value) => return Ok(value),
                Lookup::ServedRefresh(value, claim) => {
                    let job = RefreshJob {
                        key: key.clone(),
                        claim,
                    };
                    return match self.hand_over(ctx.relaunch(), job) {
                        // Answered now; the refresh runs in a background call.
                        None => Ok(value),
                        Some(job) => Ok(self.refresh_inline(key, &fetch, value, job.claim).await),
                    };
                }
                Lookup::Miss(candidate) => candidate,
            };
            match inner.flights.join_or_lead(key, inner.tags.generation()) {
                Role::Lead(leader) => {
                    let leader = match relaunch.take() {
                        // With a stale value and a soft timeout the caller may
                        // leave before the fetch ends: run it where it can go on.
                        Some(relaunch)
                            if inner
                                .soft_timeout_for(candidate.as_ref(), &options)
                                .is_some() =>
                        {
                            let flight = Arc::clone(leader.flight());
                            let job = LeadJob {
                                leader,
                                candidate: candidate.clone(),
                            };
                            match self.hand_over(Some(relaunch), job) {
                                None => {
                                    let Some(landing) = inner
                                        .within_soft_timeout(
                                            flight.wait(),
                                            candidate.as_ref(),
                                            &options,
                                        )
                                        .await
                                    else {
                                        let entry =
                                            candidate.expect("armed only with a stale value");
                                        return Ok(inner.soft_timeout_fallback(&entry));
                                    };
                                    if let Some(served) =
                                        inner.resolve(landing, candidate.as_ref(), &options)
                                    {
                                        return served;
                                    }
                                    continue;
                                }
                                Some(job) => job.leader,
                            }
                        }
                        _ => leader,
                    };
                    let run = inner.lead(&leader, &options, fetch(), candidate.as_ref());
                    let Some(landing) = inner
                        .within_soft_timeout(run, candidate.as_ref(), &options)
                        .await
                    else {
                        // The fetch ends with this call; a follower takes over.
                        let entry = candidate.expect("armed only with a stale value");
                        return Ok(inner.soft_timeout_fallback(&entry));
                    };
                    if let Some(served) = inner.resolve(landing, candidate.as_ref(), &options) {
                        return served;
                    }
                }
                Role::Follow(flight) => {
                    bump(&inner.stats.coalesced);
                    let Some(landing) = inner
                        .within_soft_timeout(flight.wait(), candidate.as_ref(), &options)
                        .await
                    else {
                        let entry = candidate.expect("armed only with a stale value");
                        return Ok(inner.soft_timeout_fallback(&entry));
                    };
                    if let Some(served) = inner.resolve(landing, candidate.as_ref(), &options) {
                        return served;
                    }
                    // The leader went away: look again, and maybe lead.
                }
            }
        }
    }

    /// Hands `job` to a background call of the pipeline; gives it back when
    /// there is none (a borrowed call, no runtime).
    fn hand_over<J: Send + 'static>(&self, relaunch: Option<&dyn Relaunch>, job: J) -> Option<J> {
        let Some(relaunch) = relaunch else {
            return Some(job);
        };
        match relaunch.relaunch(Background::new(self.id(), Box::new(job))) {
            Ok(()) => None,
            Err(job) => job.take::<J>(self.id()).map(|job| *job),
        }
    }

    /// Refreshes, in a background call, the stale entry a caller claimed and
    /// was served. What it returns goes to nobody.
    async fn run_refresh<F, Fut>(
        &self,
        job: RefreshJob<K, V>,
        fetch: &F,
    ) -> Result<Cached<V>, Error<E>>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<V, Error<E>>>,
    {
        let inner = &self.inner;
        let RefreshJob { key, claim } = job;
        let entry = Arc::clone(claim.entry());
        let Role::Lead(leader) = inner.flights.join_or_lead(&key, inner.tags.generation()) else {
            // A fetch for the key is in flight already: it replaces the entry,
            // and the claim goes back.
            return Ok(stale(
                &entry,
                entry.age(inner.now()),
                StaleReason::Revalidating,
            ));
        };
        bump(&inner.stats.refreshes);
        let landing = inner
            .lead(&leader, &FetchOptions::new(), fetch(), Some(&entry))
            .await;
        // Given back: the next refresh may run once any throttle set ends.
        drop(claim);
        inner
            .resolve(landing, Some(&entry), &FetchOptions::new())
            .unwrap_or_else(|| Err(Shed::new(inner.config.name.clone(), None).into()))
    }

    /// Runs, in a background call, the fetch of a flight a caller leads and
    /// waits for (at most the soft timeout). What it returns goes to nobody.
    async fn run_lead<F, Fut>(
        &self,
        job: LeadJob<K, V, E>,
        fetch: &F,
    ) -> Result<Cached<V>, Error<E>>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<V, Error<E>>>,
    {
        let inner = &self.inner;
        let landing = inner
            .lead(
                &job.leader,
                &FetchOptions::new(),
                fetch(),
                job.candidate.as_ref(),
            )
            .await;
        inner
            .resolve(landing, job.candidate.as_ref(), &FetchOptions::new())
            .unwrap_or_else(|| Err(Shed::new(inner.config.name.clone(), None).into()))
    }

    /// Refreshes a stale entry this caller claimed, through the pipeline,
    /// waiting at most the soft timeout; the stale value answers whatever
    /// goes wrong. The call was counted once, as a stale hit.
    async fn refresh_inline<F, Fut>(
        &self,
        key: &K,
        fetch: &F,
        served: Cached<V>,
        claim: Claim<V>,
    ) -> Cached<V>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<V, Error<E>>>,
    {
        let inner = &self.inner;
        let Role::Lead(leader) = inner.flights.join_or_lead(key, inner.tags.generation()) else {
            return served;
        };
        bump(&inner.stats.refreshes);
        let options = FetchOptions::new();
        let run = inner.lead(&leader, &options, fetch(), Some(claim.entry()));
        let landing = match inner.config.soft_timeout {
            Some(soft) => match race(run, time::sleep(soft)).await {
                Either::Left(landing) => landing,
                Either::Right(()) => {
                    // The fetch ends with this call; the claim goes back.
                    let age = claim.entry().age(inner.now());
                    return Cached::new(
                        served.into_value(),
                        Freshness::Stale {
                            age,
                            reason: StaleReason::SoftTimeout,
                        },
                    );
                }
            },
            None => run.await,
        };
        // Given back: the next refresh may run once any throttle set ends.
        drop(claim);
        match landing {
            Landing::Done {
                result: Ok(value),
                outcome: Outcome::Success | Outcome::Ignore,
                ..
            } => Cached::new(value, Freshness::Fetched),
            _ => served,
        }
    }
}

/// A stale entry's refresh, handed to a background call by the caller that
/// claimed it.
struct RefreshJob<K, V> {
    key: K,
    claim: Claim<V>,
}

/// A flight's fetch, handed to a background call by the caller that leads
/// it, which waits for the landing at most the soft timeout, then is served
/// `candidate`; a failure there starts the fail-safe throttle on `candidate`.
struct LeadJob<K: Key, V, E> {
    leader: Leader<K, V, E>,
    candidate: Option<Arc<Entry<V>>>,
}
