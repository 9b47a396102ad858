//! The cache as a policy: keyed per call, the rest of the pipeline as its fetch.
//!
//! Here the fetch is the rest of the pipeline, which borrows the caller's
//! stack: it cannot become a task of its own, so whoever runs it must stay.
//! The flight's leader is the caller that missed first; if it goes away,
//! a follower takes over with its own pipeline. A stale hit is refreshed by
//! the caller that claims it, in the foreground, bounded by the soft timeout
//! (others are served stale at once). Eager refresh and fetches that outlive
//! their caller need [`Cache::get_or_fetch_through`], whose fetch owns its
//! pipeline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, ready};

use pin_project_lite::pin_project;

use steadfast_core::{Classifier, Context, Error, Next, Outcome, Policy, time};

use crate::cache::{Cache, Lookup, Refreshes};
use crate::entry::Claim;
use crate::fetch::{Either, race};
use crate::flight::Landing;
use crate::flight::Role;
use crate::snapshot::bump;
use crate::store::{Key, Store};
use crate::{Cached, FetchOptions, Freshness, StaleReason};

impl<K, V, E, C, S> Policy<V, E> for Cache<K, V, E, C, S>
where
    K: Key,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    C: Classifier<V, E> + 'static,
    S: Store<K, V>,
{
    /// Serves the call from the cache under the call's key (a
    /// [`Context::with_key`] of type `K`); a call without one passes
    /// straight through, counted as `bypassed`.
    async fn execute<'a, N>(&'a self, ctx: Context<'a>, next: N) -> Result<V, Error<E>>
    where
        N: Next<'a, V, E>,
        V: 'a,
        E: 'a,
    {
        if let Some(key) = ctx.key::<K>() {
            self.execute_cached(key, || next.clone().invoke(ctx))
                .await
                .map(Cached::into_value)
        } else {
            bump(&self.inner.stats.bypassed);
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
            self.execute_cached(key, || UnwrapFuture {
                future: next.clone().invoke(ctx),
            })
            .await
        } else {
            bump(&self.inner.stats.bypassed);
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
    /// The policy's work, with how fresh the answer is.
    async fn execute_cached<F, Fut>(&self, key: &K, fetch: F) -> Result<Cached<V>, Error<E>>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<V, Error<E>>>,
    {
        let inner = &self.inner;
        let options = FetchOptions::new();
        loop {
            let candidate = match inner.lookup(key, Refreshes::Stale).await {
                Lookup::Served(value) => return Ok(value),
                Lookup::ServedRefresh(value, claim) => {
                    return Ok(self.refresh_inline(key, &fetch, value, claim).await);
                }
                Lookup::Miss(candidate) => candidate,
            };
            match inner.flights.join_or_lead(key, inner.tags.generation()) {
                Role::Lead(leader) => {
                    let run = inner.lead(&leader, &options, fetch());
                    let Some(landing) = inner.within_soft_timeout(run, candidate.as_ref()).await
                    else {
                        // The fetch ends with this call; a follower takes over.
                        let entry = candidate.expect("armed only with a stale value");
                        return Ok(inner.soft_timeout_fallback(&entry));
                    };
                    if let Some(served) = inner.resolve(landing, candidate.as_ref()) {
                        return served;
                    }
                }
                Role::Follow(flight) => {
                    bump(&inner.stats.coalesced);
                    let Some(landing) = inner
                        .within_soft_timeout(flight.wait(), candidate.as_ref())
                        .await
                    else {
                        let entry = candidate.expect("armed only with a stale value");
                        return Ok(inner.soft_timeout_fallback(&entry));
                    };
                    if let Some(served) = inner.resolve(landing, candidate.as_ref()) {
                        return served;
                    }
                    // The leader went away: look again, and maybe lead.
                }
            }
        }
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
        let run = inner.lead(&leader, &options, fetch());
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
        inner.after_refresh(claim.entry(), &landing);
        claim.settle();
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
