//! [`Remember`]: the future of [`Cache::get_or_fetch`](crate::Cache::get_or_fetch)
//! and its variants.
//!
//! Its first poll looks the key up and judges the entry in the caller's own
//! code, as [`Get`](crate::get::Get) does, so a hit — what nearly every call
//! is — answers without crossing a call through memory. Anything else (a
//! hit that claims a background refresh, a miss, a flight to join, a fetch
//! to lead) continues in `Cache::remember_from`, an `async fn` made only
//! then, which starts from the lookup already made.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use steadfast_core::{Classifier, Error};

use crate::cache::{Cache, Lookup, Refreshes};
use crate::get::poll_lookup;
use crate::store::{Key, Store};
use crate::{Cached, Entry, FetchOptions};

pin_project! {
    /// Where a get-or-fetch is.
    #[project = StepProj]
    enum Step<L, G> {
        /// Waiting for the store's lookup (`None` until the first poll
        /// starts it: a future does nothing before it is polled).
        Looking { #[pin] found: Option<L> },
        /// Past the first lookup: the rest of the get-or-fetch.
        Fetching { #[pin] rest: G },
    }
}

pin_project! {
    /// A get-or-fetch; see the [module docs](self).
    #[must_use = "futures do nothing unless polled"]
    pub(crate) struct Remember<'a, K, V, E, C, S, F, LM, L, G, M> {
        cache: &'a Cache<K, V, E, C, S>,
        key: &'a K,
        // Starts the store's lookup.
        look: Option<LM>,
        // Taken when the call leaves its first step.
        options: Option<FetchOptions>,
        fetch: Option<F>,
        // `remember_from`, named as a closure so that its future's type is
        // known before it is made.
        rest: Option<M>,
        #[pin]
        step: Step<L, G>,
    }
}

impl<'a, K, V, E, C, S, F, LM, L, G, M> Remember<'a, K, V, E, C, S, F, LM, L, G, M>
where
    LM: FnOnce(&'a Cache<K, V, E, C, S>, &'a K) -> L,
    M: FnOnce(&'a Cache<K, V, E, C, S>, &'a K, FetchOptions, F, Lookup<V>) -> G,
{
    /// A get-or-fetch of `key`: `look` starts the store's lookup, `rest`
    /// takes over after anything but a plain hit.
    #[inline]
    pub(crate) fn new(
        cache: &'a Cache<K, V, E, C, S>,
        key: &'a K,
        options: FetchOptions,
        fetch: F,
        look: LM,
        rest: M,
    ) -> Self {
        Remember {
            cache,
            key,
            look: Some(look),
            options: Some(options),
            fetch: Some(fetch),
            rest: Some(rest),
            step: Step::Looking { found: None },
        }
    }
}

impl<'a, K, V, E, C, S, F, Fut, LM, L, G, M> Future for Remember<'a, K, V, E, C, S, F, LM, L, G, M>
where
    K: Key,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    C: Classifier<V, E> + 'static,
    S: Store<K, V>,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<V, Error<E>>> + Send + 'static,
    LM: FnOnce(&'a Cache<K, V, E, C, S>, &'a K) -> L,
    L: Future<Output = Option<Arc<Entry<V>>>>,
    G: Future<Output = Result<Cached<V>, Error<E>>>,
    M: FnOnce(&'a Cache<K, V, E, C, S>, &'a K, FetchOptions, F, Lookup<V>) -> G,
{
    type Output = Result<Cached<V>, Error<E>>;

    #[allow(clippy::inline_always)] // a hit must stay in the caller's code: see the module docs
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let StepProj::Looking { found } = this.step.as_mut().project() {
            let entry = ready!(poll_lookup(this.look, found, *this.cache, *this.key, cx));
            match this
                .cache
                .inner
                .judge(this.key, entry, Refreshes::StaleAndEager)
            {
                Lookup::Served(value) => return Poll::Ready(Ok(value)),
                // A hit that claims a refresh, or a miss: `remember_from`
                // handles both from the lookup already made.
                found => {
                    let (Some(options), Some(fetch), Some(rest)) =
                        (this.options.take(), this.fetch.take(), this.rest.take())
                    else {
                        unreachable!("a get-or-fetch leaves its first step once");
                    };
                    let rest = rest(*this.cache, *this.key, options, fetch, found);
                    this.step.set(Step::Fetching { rest });
                }
            }
        }
        let mut answer = None;
        poll_rest(this.step, cx, &mut answer);
        match answer {
            Some(answer) => Poll::Ready(answer),
            None => Poll::Pending,
        }
    }
}

/// Polls the rest of a get-or-fetch, out of line and answering through
/// `answer`: an answer returned from a call would share a hit's slot in
/// memory, and the caller's copy of that slot would stall on the hit's
/// narrower writes.
#[inline(never)]
fn poll_rest<L, G: Future>(
    step: Pin<&mut Step<L, G>>,
    cx: &mut Context<'_>,
    answer: &mut Option<G::Output>,
) {
    match step.project() {
        StepProj::Fetching { rest } => {
            if let Poll::Ready(out) = rest.poll(cx) {
                *answer = Some(out);
            }
        }
        StepProj::Looking { .. } => unreachable!("the first step ends before the rest is polled"),
    }
}
