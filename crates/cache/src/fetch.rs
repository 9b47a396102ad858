//! Running fetches: leading a flight, storing its value, serving a stale
//! value in place of a failed, rejected or slow one.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use steadfast_core::time::{self, nanos};
use steadfast_core::{Classifier, Error, Outcome, TimedOut, classify};

use crate::cache::{Cache, Inner, Lookup, Refreshes, stale};
use crate::entry::Claim;
use crate::flight::{Landing, Leader, Role};
use crate::snapshot::bump;
use crate::store::{Key, Store};
use crate::{Cached, Entry, FailSafe, FetchOptions, Freshness, StaleReason};

/// Which of two futures finished first.
pub(crate) enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Polls both futures; the first ready wins and the other is dropped.
pub(crate) async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(out));
        }
        if let Poll::Ready(out) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(out));
        }
        Poll::Pending
    })
    .await
}

impl<K, V, E, C, S> Inner<K, V, E, C, S>
where
    K: Key,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    C: Classifier<V, E> + 'static,
    S: Store<K, V>,
{
    /// Runs the fetch for a flight this caller leads, stores a good value,
    /// and lands the flight.
    ///
    /// `fallback` is the entry the fetch is to replace (the expired value of
    /// a miss, the entry a refresh claimed). However the fetch ends — with
    /// its callers waiting, after they left at the soft timeout, at the hard
    /// timeout, with the caller that started it dropped — a failure starts
    /// the fail-safe throttle on it here, before the flight lands: no caller
    /// can find the flight gone and the throttle not yet set. A fallback
    /// that a failure elsewhere throttled since the caller looked it up
    /// lands the flight abandoned, unfetched: its callers look again and
    /// are served it.
    pub(crate) async fn lead<Fut>(
        &self,
        leader: &Leader<K, V, E>,
        options: &FetchOptions,
        fetch: Fut,
        fallback: Option<&Arc<Entry<V>>>,
    ) -> Landing<V, E>
    where
        Fut: Future<Output = Result<V, Error<E>>>,
    {
        if fallback.is_some_and(|entry| entry.is_throttled(self.now())) {
            leader.land(Landing::Abandoned);
            return Landing::Abandoned;
        }
        bump(&self.stats.fetches);
        let hard = options.hard_timeout_override().or(self.config.hard_timeout);
        let (result, timed_out) = match hard.filter(|_| has_runtime()) {
            Some(limit) => match race(fetch, time::sleep(limit)).await {
                Either::Left(result) => (result, false),
                Either::Right(()) => (
                    Err(TimedOut::new(self.config.name.clone(), limit).into()),
                    true,
                ),
            },
            None => (fetch.await, false),
        };
        let rejected = !timed_out && result.as_ref().is_err_and(Error::is_rejection);
        let (outcome, result) = classify(&self.classifier, result);
        match (&result, outcome) {
            (Ok(value), Outcome::Success) => self.store_fetched(leader, options, value).await,
            (_, Outcome::Failure) => {
                bump(&self.stats.fetch_errors);
                if !rejected && let Some(entry) = fallback {
                    self.fail_safe(entry, Some(leader.key()), options);
                }
            }
            _ => {}
        }
        let landing = Landing::Done {
            result,
            outcome,
            rejected,
        };
        leader.land(landing.clone());
        landing
    }

    /// Stores a fetched value, unless an invalidation since the fetch
    /// started makes it unservable.
    async fn store_fetched(&self, leader: &Leader<K, V, E>, options: &FetchOptions, value: &V) {
        let flight = leader.flight();
        let mut tags = options.tag_list().to_vec();
        if let Some(tags_by) = &self.tags_by {
            tags.extend(tags_by(leader.key(), value));
        }
        let states = self.tags.resolve(&tags);
        if !self.tags.is_valid(flight.generation(), &states) {
            return;
        }
        let timeline = self.timeline(value, options);
        // A value found already aged (a second level's copy) keeps its age:
        // it is as fresh as it is, not as fresh as a new fetch.
        let stored_at = self.now().saturating_sub(nanos(options.fetched_age()));
        let entry = Arc::new(Entry::new(
            value.clone(),
            stored_at,
            timeline,
            flight.generation(),
            states,
        ));
        if flight.begin_store(&entry) {
            self.store.insert(leader.key().clone(), entry).await;
            flight.end_store();
            self.tell(&crate::CacheEvent::Stored { key: leader.key() });
        }
    }

    /// Awaits `work` (a flight's landing, or leading it); with a stale value
    /// at hand and a soft timeout, at most that long, then `None`: serve the
    /// stale value instead — if it is still young enough by then, else the
    /// work is awaited after all.
    pub(crate) async fn within_soft_timeout<F: Future>(
        &self,
        work: F,
        candidate: Option<&Arc<Entry<V>>>,
        options: &FetchOptions,
    ) -> Option<F::Output> {
        let Some(soft) = self.soft_timeout_for(candidate, options) else {
            return Some(work.await);
        };
        let mut work = pin!(work);
        match race(work.as_mut(), time::sleep(soft)).await {
            Either::Left(out) => Some(out),
            Either::Right(()) if self.soft_timeout_for(candidate, options).is_some() => None,
            Either::Right(()) => Some(work.await),
        }
    }

    /// The soft timeout, when a stale value could be served after it.
    pub(crate) fn soft_timeout_for(
        &self,
        candidate: Option<&Arc<Entry<V>>>,
        options: &FetchOptions,
    ) -> Option<Duration> {
        let soft = options
            .soft_timeout_override()
            .or(self.config.soft_timeout)
            .filter(|_| has_runtime())?;
        let entry = candidate?;
        entry
            .usable_as_fallback(self.now(), self.fallback_age(options))
            .then_some(soft)
    }

    /// The call's fail-safe (max age, throttle): its own, or the cache's.
    pub(crate) fn fail_safe_of(&self, options: &FetchOptions) -> Option<(Duration, Duration)> {
        match options.fail_safe_override() {
            Some(FailSafe::Off) => None,
            Some(FailSafe::On { max_age, throttle }) => Some((max_age, throttle)),
            None => self
                .config
                .fail_safe_max_age
                .map(|max_age| (max_age, self.config.fail_safe_throttle)),
        }
    }

    /// The age up to which a value may stand in for a failed or rejected
    /// fetch of this call.
    fn fallback_age(&self, options: &FetchOptions) -> Duration {
        match self.fail_safe_of(options) {
            Some((max_age, _)) => max_age,
            None => self.config.fresh_for.saturating_add(self.config.stale_for),
        }
    }

    /// The stale value served when the soft timeout passes first.
    pub(crate) fn soft_timeout_fallback(&self, candidate: &Entry<V>) -> Cached<V> {
        bump(&self.stats.stale_fallbacks);
        tracing::debug!(
            policy = self.config.name.as_str(),
            "fetch outlasted the soft timeout; serving a stale value"
        );
        stale(
            candidate,
            candidate.age(self.now()),
            StaleReason::SoftTimeout,
        )
    }

    /// What a caller is served from a landed flight; `None` when the flight
    /// was abandoned and the caller should look again.
    pub(crate) fn resolve(
        &self,
        landing: Landing<V, E>,
        candidate: Option<&Arc<Entry<V>>>,
        options: &FetchOptions,
    ) -> Option<Result<Cached<V>, Error<E>>> {
        let Landing::Done {
            result,
            outcome,
            rejected,
        } = landing
        else {
            return None;
        };
        if (rejected || outcome == Outcome::Failure)
            && let Some(entry) = candidate
            && let Some(served) = self.fall_back(entry, rejected, &result, options)
        {
            return Some(Ok(served));
        }
        Some(result.map(|value| Cached::new(value, Freshness::Fetched)))
    }

    /// Serves `entry` stale in place of a failed or rejected fetch, if the
    /// config allows it and the value is young enough.
    fn fall_back(
        &self,
        entry: &Entry<V>,
        rejected: bool,
        result: &Result<V, Error<E>>,
        options: &FetchOptions,
    ) -> Option<Cached<V>> {
        let now = self.now();
        if rejected {
            if !self.config.degrade_on_rejection
                || !entry.usable_as_fallback(now, self.fallback_age(options))
            {
                return None;
            }
            let kind = result.as_ref().err()?.kind();
            bump(&self.stats.stale_fallbacks);
            tracing::debug!(
                policy = self.config.name.as_str(),
                ?kind,
                "serving a stale value in place of a rejected fetch"
            );
            return Some(stale(entry, entry.age(now), StaleReason::Rejected(kind)));
        }
        // The fetch's leader throttled the entry it was to replace; this
        // caller's may be another (it looked the key up at another moment).
        if !self.fail_safe(entry, None, options) {
            return None;
        }
        bump(&self.stats.stale_fallbacks);
        Some(stale(entry, entry.age(now), StaleReason::FetchFailed))
    }

    /// Fail-safe after a failed fetch: `entry`, if young enough to stand in,
    /// is served without a fetch, and refreshed by no hit, for the throttle
    /// period from now. Warns once per episode, naming the key only with
    /// `log_keys`. Returns whether the entry stands in: `false` when
    /// fail-safe is off or the value too old.
    pub(crate) fn fail_safe(
        &self,
        entry: &Entry<V>,
        key: Option<&K>,
        options: &FetchOptions,
    ) -> bool {
        let Some((max_age, throttle)) = self.fail_safe_of(options) else {
            return false;
        };
        let now = self.now();
        if !entry.usable_as_fallback(now, max_age) {
            return false;
        }
        let until = now.saturating_add(nanos(throttle));
        if entry.throttle(now, until) {
            self.tell(&crate::CacheEvent::FailSafe { key });
            tracing::warn!(
                policy = self.config.name.as_str(),
                key = key.and_then(|key| self.log_key(key)),
                age = ?entry.age(now),
                throttle = ?throttle,
                "fetch failed; serving a stale value (fail-safe)"
            );
        }
        true
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
    /// Get-or-fetch with an owned fetch: the engine of the direct API. The
    /// first lookup is `Remember`'s (`found`), made in the caller's code so
    /// that a plain hit never enters this function.
    pub(crate) async fn remember_from<F, Fut>(
        &self,
        key: &K,
        options: FetchOptions,
        fetch: F,
        found: Lookup<V>,
    ) -> Result<Cached<V>, Error<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, Error<E>>> + Send + 'static,
    {
        let inner = &self.inner;
        let mut fetch = Some(fetch);
        let mut first = Some(found);
        loop {
            let found = match first.take() {
                Some(found) => found,
                None => inner.lookup(key, Refreshes::StaleAndEager).await,
            };
            let candidate = match found {
                Lookup::Served(value) => return Ok(value),
                Lookup::ServedRefresh(value, claim) => {
                    if let Some(fetch) = fetch.take() {
                        self.refresh_in_background(key, claim, options, fetch);
                    }
                    return Ok(value);
                }
                Lookup::Miss(candidate) => candidate,
            };
            let flight = match inner.flights.join_or_lead(key, inner.tags.generation()) {
                Role::Lead(leader) => {
                    let Some(fetch) = fetch.take() else {
                        // Only reachable when this caller's own fetch task was
                        // cancelled (its runtime shut down) and it looked again.
                        drop(leader);
                        return Err(cancelled(inner));
                    };
                    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                        // No runtime to run a task on: fetch in this call.
                        let landing = inner
                            .lead(&leader, &options, fetch(), candidate.as_ref())
                            .await;
                        if let Some(served) = inner.resolve(landing, candidate.as_ref(), &options) {
                            return served;
                        }
                        continue;
                    };
                    let flight = Arc::clone(leader.flight());
                    let task = Arc::clone(inner);
                    let options = options.clone();
                    let fetch = fetch();
                    // The task holds the expired value too: a failure after
                    // every caller left still starts the fail-safe throttle.
                    let fallback = candidate.clone();
                    drop(runtime.spawn(async move {
                        task.lead(&leader, &options, fetch, fallback.as_ref()).await;
                    }));
                    flight
                }
                Role::Follow(flight) => {
                    bump(&inner.stats.coalesced);
                    flight
                }
            };
            let Some(landing) = inner
                .within_soft_timeout(flight.wait(), candidate.as_ref(), &options)
                .await
            else {
                let entry = candidate.expect("a soft timeout is only armed with a stale value");
                return Ok(inner.soft_timeout_fallback(&entry));
            };
            if let Some(served) = inner.resolve(landing, candidate.as_ref(), &options) {
                return served;
            }
        }
    }

    /// Starts the one refresh this caller claimed, as a task; the claim goes
    /// back if the refresh cannot start, is cancelled or panics.
    pub(crate) fn refresh_in_background<F, Fut>(
        &self,
        key: &K,
        claim: Claim<V>,
        options: FetchOptions,
        fetch: F,
    ) where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, Error<E>>> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to run a background task on: leave it to a later hit.
            return;
        };
        let Role::Lead(leader) = inner.flights.join_or_lead(key, inner.tags.generation()) else {
            // A fetch for the key is already in flight: it replaces the entry.
            return;
        };
        bump(&inner.stats.refreshes);
        let fetch = fetch();
        drop(runtime.spawn(async move {
            inner
                .lead(&leader, &options, fetch, Some(claim.entry()))
                .await;
            // Given back: the next refresh may run once any throttle the
            // failure set ends.
            drop(claim);
        }));
    }
}

/// Whether tokio's runtime is here to run timers (a fetch outside one, on
/// another executor, runs without the soft and hard timeouts).
fn has_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// The error for a fetch whose task was cancelled before it finished.
fn cancelled<K, V, E, C, S>(inner: &Inner<K, V, E, C, S>) -> Error<E> {
    Error::Shed(steadfast_core::Shed::new(inner.config.name.clone(), None))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use tokio::time::advance;

    use super::*;
    use crate::Cache;

    #[tokio::test(start_paused = true)]
    async fn a_fetch_whose_fallback_was_throttled_since_lands_abandoned_unfetched() {
        let cache = Cache::<u32, u32, &'static str>::builder()
            .fresh_for(Duration::from_secs(10))
            .fail_safe(Duration::from_secs(60), Duration::from_secs(30))
            .build()
            .unwrap();
        let inner = &cache.inner;
        cache.insert(1, 7).await;
        advance(Duration::from_secs(11)).await;
        let Lookup::Miss(Some(entry)) = inner.lookup(&1, Refreshes::StaleAndEager).await else {
            panic!("an expired entry is a miss with a fallback");
        };
        // Another fetch fails, and throttles the entry, after this caller
        // looked it up and before it leads.
        assert!(inner.fail_safe(&entry, None, &FetchOptions::new()));
        let Role::Lead(leader) = inner.flights.join_or_lead(&1, inner.tags.generation()) else {
            panic!("no flight for the key");
        };
        let polled = AtomicBool::new(false);
        let fetch = async {
            polled.store(true, Ordering::Relaxed);
            Ok(9)
        };
        let landing = inner
            .lead(&leader, &FetchOptions::new(), fetch, Some(&entry))
            .await;
        assert!(matches!(landing, Landing::Abandoned));
        assert!(!polled.load(Ordering::Relaxed), "never fetched");
        let snapshot = inner.snapshot();
        assert_eq!((snapshot.fetches, snapshot.in_flight), (0, 0));
        // Looking again, the caller is served the old value.
        let Lookup::Served(served) = inner.lookup(&1, Refreshes::StaleAndEager).await else {
            panic!("a throttled entry is served");
        };
        assert_eq!(
            served.freshness(),
            Freshness::Stale {
                age: Duration::from_secs(11),
                reason: StaleReason::FetchFailed
            }
        );
    }
}
