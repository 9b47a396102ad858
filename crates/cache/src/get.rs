//! [`Get`]: the future of [`Cache::get`](crate::Cache::get).
//!
//! An `async fn` would do, but its `poll` is too large to be inlined into
//! the caller's, and an answer that crosses a call comes back through
//! memory: written field by field, then copied whole by the awaiting code,
//! and that copy waits for the writes to reach the cache (a failed
//! store-to-load forward, about 10 ns, paid once per layer). This future
//! polls the store and judges the entry in the caller's own code.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use steadfast_core::Classifier;

use crate::cache::{Inner, Lookup, Refreshes};
use crate::store::{Key, Store};
use crate::{Cached, Entry};

pin_project! {
    /// A `get`: the store's lookup, then the entry judged as a read that
    /// claims no refresh.
    #[must_use = "futures do nothing unless polled"]
    pub(crate) struct Get<'a, K, V, E, C, S, LM, F> {
        inner: &'a Inner<K, V, E, C, S>,
        key: &'a K,
        // Starts the store's lookup, at the first poll: a future does
        // nothing before it is polled.
        look: Option<LM>,
        #[pin]
        found: Option<F>,
    }
}

impl<'a, K, V, E, C, S, LM, F> Get<'a, K, V, E, C, S, LM, F>
where
    LM: FnOnce(&'a Inner<K, V, E, C, S>, &'a K) -> F,
{
    /// A get of `key`, whose store lookup `look` starts.
    #[inline]
    pub(crate) fn new(inner: &'a Inner<K, V, E, C, S>, key: &'a K, look: LM) -> Self {
        Get {
            inner,
            key,
            look: Some(look),
            found: None,
        }
    }
}

impl<'a, K, V, E, C, S, LM, F> Future for Get<'a, K, V, E, C, S, LM, F>
where
    K: Key,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    C: Classifier<V, E> + 'static,
    S: Store<K, V>,
    LM: FnOnce(&'a Inner<K, V, E, C, S>, &'a K) -> F,
    F: Future<Output = Option<Arc<Entry<V>>>>,
{
    type Output = Option<Cached<V>>;

    #[allow(clippy::inline_always)] // the point of this future: see the module docs
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let entry = ready!(poll_lookup(
            this.look,
            this.found,
            *this.inner,
            *this.key,
            cx
        ));
        Poll::Ready(match this.inner.judge(this.key, entry, Refreshes::None) {
            Lookup::Served(value) | Lookup::ServedRefresh(value, _) => Some(value),
            Lookup::Miss(_) => None,
        })
    }
}

/// Starts the store's lookup on the first poll (`look`, taken then), and
/// polls it: the first step of [`Get`] and of
/// [`Remember`](crate::remember::Remember).
#[inline]
pub(crate) fn poll_lookup<'a, T: ?Sized, K, LM, F>(
    look: &mut Option<LM>,
    mut found: Pin<&mut Option<F>>,
    owner: &'a T,
    key: &'a K,
    cx: &mut Context<'_>,
) -> Poll<F::Output>
where
    LM: FnOnce(&'a T, &'a K) -> F,
    F: Future,
{
    if let Some(look) = look.take() {
        found.set(Some(look(owner, key)));
    }
    match found.as_pin_mut() {
        Some(found) => found.poll(cx),
        None => unreachable!("the lookup starts at the first poll"),
    }
}
