//! The cache handle: lookups, the get-or-fetch API, invalidation, snapshot.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use steadfast_core::time::{Clock, TimeSource};
use steadfast_core::{
    Classifier, ConfigError, DefaultClassifier, Error, Inspect, Operation, Policy,
};

use crate::builder::{CacheBuilder, FreshForValue, TagsBy};
use crate::entry::{Claim, Phase, Timeline};
use crate::event::{CacheEvent, EventHook};
use crate::flight::Flights;
use crate::get::Get;
use crate::log::KeyFormat;
use crate::remember::Remember;
use crate::snapshot::{Stats, bump};
use crate::store::{Key, MokaStore, Store};
use crate::tags::Tags;
use crate::{
    Aged, CacheConfig, CacheSnapshot, Cached, Entry, FetchOptions, Freshness, StaleReason, Tag,
};

/// Where the cache's clock starts: far enough from zero that an entry can
/// be stored as older than the cache itself (a second level's copy made
/// before this instance started), near enough that no timeline overflows.
const EPOCH: u64 = 10 * 365 * 24 * 3600 * 1_000_000_000;

/// A resilient cache: get-or-fetch with single flight, tags,
/// stale-while-revalidate, stale-if-error, soft and hard timeouts and eager
/// refresh, on a bounded store (moka by default). See the
/// [crate docs](crate) for the whole picture.
///
/// `K` is the key, `V` the value (cloned on every hit: use an `Arc` for
/// anything large), `E` the error a fetch may fail with (cloned for every
/// caller that shares a failed fetch: wrap an error that is not `Clone` in
/// an `Arc`), `C` the classifier that decides which results are failures,
/// `S` the store.
///
/// Clones share one cache.
pub struct Cache<K, V, E, C = DefaultClassifier, S = MokaStore<K, V>> {
    pub(crate) inner: Arc<Inner<K, V, E, C, S>>,
}

pub(crate) struct Inner<K, V, E, C, S> {
    pub(crate) config: CacheConfig,
    clock: Clock,
    pub(crate) store: S,
    pub(crate) tags: Tags,
    pub(crate) flights: Arc<Flights<K, V, E>>,
    pub(crate) classifier: C,
    pub(crate) fresh_for_value: Option<FreshForValue<V>>,
    pub(crate) tags_by: Option<TagsBy<K, V>>,
    /// Told of hits, misses, stores and fail-safe stand-ins.
    pub(crate) on_event: Option<EventHook<K>>,
    /// How events write the key: `Some` only with `log_keys`.
    pub(crate) key_format: Option<KeyFormat<K>>,
    pub(crate) stats: Stats,
}

/// Which refreshes a caller of [`Inner::lookup`] can run, so that it claims
/// no other: a claim taken only to be given back costs two atomic writes per
/// hit, and can make a caller that could refresh miss its turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refreshes {
    /// None: a plain read.
    None,
    /// A stale entry's, in the foreground (the cache as a policy).
    Stale,
    /// Stale and eager ones, in the background (get-or-fetch).
    StaleAndEager,
}

/// What a lookup found.
pub(crate) enum Lookup<V> {
    /// A servable value.
    Served(Cached<V>),
    /// A servable value, and this caller claimed the entry's one refresh
    /// (given back when the claim is dropped).
    ServedRefresh(Cached<V>, Claim<V>),
    /// Nothing servable; maybe an expired entry that may stand in for a failed fetch.
    Miss(Option<Arc<Entry<V>>>),
}

impl<K, V, E, C, S> Clone for Cache<K, V, E, C, S> {
    fn clone(&self) -> Self {
        Cache {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<K, V, E> Cache<K, V, E> {
    /// A builder with the default config, classifier and store.
    pub fn builder() -> CacheBuilder<K, V, E> {
        CacheBuilder::new()
    }

    /// A builder starting from `config` (a deserialized config, say).
    pub fn builder_from(config: CacheConfig) -> CacheBuilder<K, V, E> {
        CacheBuilder::new().config(config)
    }
}

impl<K, V, E> Cache<K, V, E>
where
    K: Key + fmt::Debug,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
{
    /// A cache from a (deserialized) config, validated, with the default
    /// classifier and store: every setting a file can hold, `log_keys`
    /// included (hence `K: Debug`; a key type that is not `Debug` builds
    /// with [`builder_from`](Self::builder_from), without `log_keys`).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first field that breaks its rule;
    /// `max_weight` needs a weigher, which only the builder can give.
    ///
    /// ```
    /// # #[cfg(feature = "serde")] {
    /// use steadfast_cache::{Cache, CacheConfig};
    ///
    /// let config: CacheConfig = toml::from_str(r#"
    ///     name = "profiles"
    ///     fresh_for = "30s"
    ///     fail_safe_max_age = "1h"
    /// "#).unwrap();
    /// let cache = Cache::<u64, String, std::sync::Arc<std::io::Error>>::from_config(config)?;
    /// assert_eq!(cache.config().name.as_str(), "profiles");
    /// # }
    /// # Ok::<_, steadfast_core::ConfigError>(())
    /// ```
    pub fn from_config(config: CacheConfig) -> Result<Self, ConfigError> {
        CacheBuilder::new().config(config).key_format().build()
    }
}

impl<K, V, E, C, S> Inner<K, V, E, C, S>
where
    K: Key,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    C: Classifier<V, E> + 'static,
    S: Store<K, V>,
{
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        config: CacheConfig,
        store: S,
        classifier: C,
        fresh_for_value: Option<FreshForValue<V>>,
        tags_by: Option<TagsBy<K, V>>,
        key_format: Option<KeyFormat<K>>,
        on_event: Option<EventHook<K>>,
    ) -> Self {
        let key_format = key_format.filter(|_| config.log_keys);
        Inner {
            config,
            clock: Clock::new(TimeSource::Auto),
            store,
            tags: Tags::new(),
            flights: Arc::new(Flights::new()),
            classifier,
            fresh_for_value,
            tags_by,
            key_format,
            on_event,
            stats: Stats::default(),
        }
    }

    /// Nanoseconds since [`EPOCH`] before the cache was made: tokio's clock when it was
    /// paused then (tests, exact), else the process's cached reading, up to
    /// about a millisecond behind (a clock read would be a third of a hit).
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_cached() + EPOCH
    }

    /// Tells the hook, if any, of `event`.
    #[inline]
    pub(crate) fn tell(&self, event: &CacheEvent<'_, K>) {
        if let Some(hook) = &self.on_event {
            hook(event);
        }
    }

    /// Looks `key` up and decides what the caller is served; claims a due
    /// refresh only of the kinds the caller can run.
    #[inline]
    pub(crate) async fn lookup(&self, key: &K, refreshes: Refreshes) -> Lookup<V> {
        let entry = self.store.get(key).await;
        self.judge(key, entry, refreshes)
    }

    /// What the caller of a lookup that found `entry` is served. Always
    /// inlined: `Cache::get` inlines it into its caller, so a hit comes back
    /// in registers (see [`Get`](crate::get::Get)).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn judge(
        &self,
        key: &K,
        entry: Option<Arc<Entry<V>>>,
        refreshes: Refreshes,
    ) -> Lookup<V> {
        let Some(entry) = entry else {
            bump(&self.stats.misses);
            self.tell(&CacheEvent::Miss { key });
            return Lookup::Miss(None);
        };
        if entry.is_revoked() || !self.tags.is_valid(entry.generation(), entry.tags()) {
            bump(&self.stats.misses);
            self.tell(&CacheEvent::Miss { key });
            return Lookup::Miss(None);
        }
        let now = self.now();
        let age = entry.age(now);
        match entry.phase(now) {
            Phase::Fresh => {
                self.stats.hits.add(1);
                self.tell(&CacheEvent::Hit { key });
                let served = Cached::new(entry.value().clone(), Freshness::Fresh { age });
                if refreshes == Refreshes::StaleAndEager
                    && entry.wants_eager_refresh(now)
                    && entry.claim_refresh(now)
                {
                    Lookup::ServedRefresh(served, Claim::new(entry))
                } else {
                    Lookup::Served(served)
                }
            }
            Phase::Stale => {
                bump(&self.stats.stale_hits);
                self.tell(&CacheEvent::StaleHit { key });
                let served = stale(&entry, age, StaleReason::Revalidating);
                if refreshes != Refreshes::None && entry.claim_refresh(now) {
                    Lookup::ServedRefresh(served, Claim::new(entry))
                } else {
                    Lookup::Served(served)
                }
            }
            Phase::Throttled => {
                bump(&self.stats.stale_hits);
                self.tell(&CacheEvent::StaleHit { key });
                Lookup::Served(stale(&entry, age, StaleReason::FetchFailed))
            }
            Phase::Expired => {
                bump(&self.stats.misses);
                self.tell(&CacheEvent::Miss { key });
                Lookup::Miss(Some(entry))
            }
            Phase::Gone => {
                bump(&self.stats.misses);
                self.tell(&CacheEvent::Miss { key });
                Lookup::Miss(None)
            }
        }
    }

    /// The timeline of an entry for `value`.
    pub(crate) fn timeline(&self, value: &V, options: &FetchOptions) -> Timeline {
        let fresh_for = options
            .fresh_for_override()
            .or_else(|| self.fresh_for_value.as_ref().and_then(|f| f(value)))
            .unwrap_or(self.config.fresh_for);
        let stale_for = options
            .stale_for_override()
            .unwrap_or(self.config.stale_for);
        Timeline {
            fresh_for,
            stale_for,
            keep_for: {
                let stale_end = fresh_for.saturating_add(stale_for);
                self.fail_safe_of(options)
                    .map_or(stale_end, |(max_age, _)| stale_end.max(max_age))
            },
            eager_after: self
                .config
                .eager_refresh
                .map(|fraction| fresh_for.mul_f64(fraction)),
        }
    }

    /// Stops a fetch in flight for `key` from storing anything from now on,
    /// and waits out a store it has already begun, so that what the caller
    /// writes to the key next lands after it.
    pub(crate) async fn settle_flight(&self, key: &K) {
        if let Some(flight) = self.flights.poison(key) {
            flight.wait_stored().await;
        }
    }

    pub(crate) fn snapshot(&self) -> CacheSnapshot {
        let read = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
        let stats = &self.stats;
        CacheSnapshot {
            name: self.config.name.clone(),
            entries: self.store.entry_count(),
            tags: self.tags.len(),
            in_flight: self.flights.len(),
            hits: stats.hits.sum(),
            stale_hits: read(&stats.stale_hits),
            misses: read(&stats.misses),
            stale_fallbacks: read(&stats.stale_fallbacks),
            fetches: read(&stats.fetches),
            coalesced: read(&stats.coalesced),
            refreshes: read(&stats.refreshes),
            fetch_errors: read(&stats.fetch_errors),
            bypassed: read(&stats.bypassed),
            missing_keys: read(&stats.missing_keys),
        }
    }
}

/// A stale value as served.
pub(crate) fn stale<V: Clone>(entry: &Entry<V>, age: Duration, reason: StaleReason) -> Cached<V> {
    Cached::new(entry.value().clone(), Freshness::Stale { age, reason })
}

impl<K, V, E, C, S> Cache<K, V, E, C, S>
where
    K: Key,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    C: Classifier<V, E> + 'static,
    S: Store<K, V>,
{
    /// The value under `key` if one is servable now (fresh, in the stale
    /// window, or within a fail-safe throttle); never fetches.
    ///
    /// The future is the cache's own (a named `Get` future) rather than
    /// an `async fn`'s, so that it inlines into the caller and a hit comes
    /// back in registers.
    #[inline]
    pub fn get<'a>(&'a self, key: &'a K) -> impl Future<Output = Option<Cached<V>>> + Send + 'a {
        Get::new(
            &self.inner,
            key,
            |inner: &'a Inner<K, V, E, C, S>, key: &'a K| inner.store.get(key),
        )
    }

    /// The value under `key`; on a miss, `fetch` runs (once, however many
    /// callers miss together) and its value is stored.
    ///
    /// The fetch runs as its own tokio task, so it completes — and every
    /// caller waiting for it is served — even if the caller that started it
    /// is dropped; a stale hit refreshes in the background, and the soft
    /// timeout leaves a slow fetch running to update the entry. `fetch` is
    /// called only when this caller starts a fetch or a refresh. (Outside a
    /// tokio runtime the fetch runs in this call instead, without timeouts.)
    ///
    /// # Errors
    ///
    /// The fetch's error (shared by every caller of the flight) unless
    /// fail-safe serves a stale value instead; [`Error::Timeout`] naming the
    /// cache past the hard timeout; and, should the fetch's task be cancelled
    /// before it finishes (it panicked, or its runtime shut down),
    /// [`Error::Shed`] naming the cache for the caller that started it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use steadfast_cache::Cache;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let cache = Cache::<u64, String, std::sync::Arc<std::io::Error>>::builder()
    ///     .fresh_for(Duration::from_secs(60))
    ///     .build()?;
    /// let name = cache.get_or_fetch(&42, || async { Ok("Ada".to_string()) }).await?;
    /// assert!(name.is_fetched());
    /// let again = cache.get_or_fetch(&42, || async { Ok("never called".to_string()) }).await?;
    /// assert_eq!(*again, "Ada");
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_or_fetch<'a, F, Fut>(
        &'a self,
        key: &'a K,
        fetch: F,
    ) -> impl Future<Output = Result<Cached<V>, Error<E>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        self.get_or_fetch_with(key, FetchOptions::new(), fetch)
    }

    /// [`get_or_fetch`](Self::get_or_fetch) whose fetch sees the value it
    /// replaces, if the cache holds one (stale, or kept for fail-safe):
    /// for a conditional request (`If-None-Match` with the old value's
    /// `ETag`, `If-Modified-Since`). On a `304 Not Modified` the fetch
    /// returns the value it was given, which is stored again as fresh: the
    /// old value renewed.
    ///
    /// It costs one more store lookup per call than `get_or_fetch` (the
    /// value to hand over is read before the cache's own lookup); the value
    /// is cloned only when the fetch runs.
    ///
    /// ```
    /// use std::time::Duration;
    /// use steadfast_cache::Cache;
    ///
    /// #[derive(Clone)]
    /// struct Page { etag: u32, body: String }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let cache = Cache::<&str, Page, std::sync::Arc<std::io::Error>>::builder()
    ///     .fresh_for(Duration::from_secs(60))
    ///     .build()?;
    /// let fetch = |previous: Option<Page>| async move {
    ///     match previous {
    ///         // The server answers 304: the page did not change.
    ///         Some(page) if page.etag == 7 => Ok(page),
    ///         _ => Ok(Page { etag: 7, body: "hello".into() }),
    ///     }
    /// };
    /// cache.get_or_revalidate(&"/", fetch).await?;
    /// tokio::time::advance(Duration::from_secs(61)).await;
    /// let renewed = cache.get_or_revalidate(&"/", fetch).await?;
    /// assert!(renewed.is_fetched());
    /// assert_eq!(renewed.body, "hello");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_or_revalidate<F, Fut>(&self, key: &K, fetch: F) -> Result<Cached<V>, Error<E>>
    where
        F: FnOnce(Option<V>) -> Fut,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        let previous = self.inner.store.get(key).await;
        self.get_or_fetch(key, move || {
            fetch(previous.map(|entry| entry.value().clone()))
        })
        .await
    }

    /// [`get_or_fetch`](Self::get_or_fetch) with tags and a fresh time for
    /// the entry the fetch stores.
    pub fn get_or_fetch_with<'a, F, Fut>(
        &'a self,
        key: &'a K,
        options: FetchOptions,
        fetch: F,
    ) -> impl Future<Output = Result<Cached<V>, Error<E>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        self.remember(key, options, move || lift(fetch()))
    }

    /// [`get_or_fetch_with`](Self::get_or_fetch_with) whose fetch may find
    /// a value that is already old — a copy from a second-level cache
    /// shared by several instances, a response that says its `Age` — and
    /// says how old ([`Aged`]): the entry is stored as that old, so it turns
    /// stale when the value does, not a full fresh time after this fetch.
    ///
    /// ```
    /// use std::time::Duration;
    /// use steadfast_cache::{Aged, Cache, Freshness};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let cache = Cache::<u64, String, std::sync::Arc<std::io::Error>>::builder()
    ///     .fresh_for(Duration::from_secs(60))
    ///     .build()?;
    /// let options = steadfast_cache::FetchOptions::new();
    /// // Another instance stored this value 50 s ago: 10 s of freshness left.
    /// let copy = || async { Ok(Aged::with_age("Ada".to_string(), Duration::from_secs(50))) };
    /// cache.get_or_fetch_aged(&42, options, copy).await?;
    /// let hit = cache.get(&42).await.expect("stored");
    /// assert_eq!(hit.freshness(), Freshness::Fresh { age: Duration::from_secs(50) });
    /// tokio::time::advance(Duration::from_secs(11)).await;
    /// assert!(cache.get(&42).await.is_none(), "past its fresh time, and no stale window");
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_or_fetch_aged<'a, F, Fut>(
        &'a self,
        key: &'a K,
        options: FetchOptions,
        fetch: F,
    ) -> impl Future<Output = Result<Cached<V>, Error<E>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Aged<V>, E>> + Send + 'static,
    {
        let (options, cell) = options.with_age_cell();
        self.remember(key, options, move || {
            let fetched = fetch();
            async move {
                let aged = fetched.await.map_err(Error::Inner)?;
                cell.set(aged.age);
                Ok(aged.value)
            }
        })
    }

    /// [`get_or_fetch_with`](Self::get_or_fetch_with) where the fetch is
    /// `operation` run through `pipeline` (a retry, a breaker, a timeout…).
    ///
    /// This is how a cache sits in front of a pipeline with every feature on:
    /// the fetch owns clones of both, so it can run on after the caller is
    /// gone. A rejection by the pipeline (open circuit, rate limited, …) is
    /// answered from a stale value when
    /// [`degrade_on_rejection`](CacheConfig::degrade_on_rejection) is set.
    pub fn get_or_fetch_through<'a, P, Op>(
        &'a self,
        key: &'a K,
        options: FetchOptions,
        pipeline: &P,
        operation: Op,
    ) -> impl Future<Output = Result<Cached<V>, Error<E>>>
    where
        P: Policy<V, E> + Clone + 'static,
        Op: Operation<V, E> + 'static,
    {
        let pipeline = pipeline.clone();
        self.remember(key, options, move || {
            // Boxed (on the miss path only) so the caller's future is plainly
            // `Send`: the pipeline's future type carries a borrow of the
            // pipeline that the compiler cannot yet see through
            // (rust-lang/rust#100013).
            let fetch: BoxFetch<V, E> = Box::pin(async move { pipeline.call(operation).await });
            fetch
        })
    }

    /// Get-or-fetch with an owned fetch: a hit is judged in the caller's
    /// code ([`Remember`]); anything else goes on in `remember_from`.
    #[inline]
    fn remember<'a, F, Fut>(
        &'a self,
        key: &'a K,
        options: FetchOptions,
        fetch: F,
    ) -> impl Future<Output = Result<Cached<V>, Error<E>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, Error<E>>> + Send + 'static,
    {
        Remember::new(
            self,
            key,
            options,
            fetch,
            |cache: &'a Self, key: &'a K| cache.inner.store.get(key),
            |cache: &'a Self, key: &'a K, options, fetch, found| {
                cache.remember_from(key, options, fetch, found)
            },
        )
    }

    /// Stores `value` under `key` as fresh now, in place of any entry or
    /// fetch in flight for the key.
    pub async fn insert(&self, key: K, value: V) {
        self.insert_with(key, value, &FetchOptions::new()).await;
    }

    /// [`insert`](Self::insert) with tags and a fresh time.
    pub async fn insert_with(&self, key: K, value: V, options: &FetchOptions) {
        let inner = &self.inner;
        inner.settle_flight(&key).await;
        let generation = inner.tags.generation();
        let states = inner.tags.resolve(options.tag_list());
        let timeline = inner.timeline(&value, options);
        let entry = Entry::new(value, inner.now(), timeline, generation, states);
        inner.store.insert(key, Arc::new(entry)).await;
    }

    /// Marks the entry under `key` out of date without dropping it: the
    /// next read fetches, and the old value stays as a fail-safe stand-in
    /// (within its fail-safe window) should that fetch fail. What a
    /// backplane does when another instance stored a newer value. An entry
    /// without a fail-safe window is as good as dropped.
    pub async fn expire(&self, key: &K) {
        let inner = &self.inner;
        if let Some(entry) = inner.store.get(key).await {
            let expired = entry.expired_at(inner.now());
            inner.store.insert(key.clone(), Arc::new(expired)).await;
        }
    }

    /// Drops the entry under `key`; a fetch in flight for it stores nothing.
    pub async fn invalidate(&self, key: &K) {
        self.inner.settle_flight(key).await;
        self.inner.store.remove(key).await;
    }

    /// Makes every entry carrying `tag` unservable at once — in O(1),
    /// however many carry it — and stops any fetch in flight from storing a
    /// value under that tag that would be served.
    pub fn invalidate_tag(&self, tag: &str) {
        self.inner.tags.invalidate(tag);
        tracing::debug!(
            policy = self.inner.config.name.as_str(),
            tag = self.inner.log_tag(tag),
            "cache tag invalidated"
        );
    }

    /// Makes every entry unservable and drops them; fetches in flight store
    /// nothing servable.
    pub async fn invalidate_all(&self) {
        self.inner.tags.invalidate_all();
        self.inner.store.clear().await;
    }

    /// The tags an entry for `key` holding `value` carries when stored with
    /// `options`: the options' own and those the builder's
    /// [`tags_by`](crate::CacheBuilder::tags_by) gives. For a second level
    /// that must record them beside the value.
    pub fn tags_for(&self, key: &K, value: &V, options: &FetchOptions) -> Vec<Tag> {
        let mut tags = options.tag_list().to_vec();
        if let Some(tags_by) = &self.inner.tags_by {
            tags.extend(tags_by(key, value));
        }
        tags
    }

    /// The store underneath.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// The configuration the cache was built with.
    pub fn config(&self) -> &CacheConfig {
        &self.inner.config
    }
}

/// A fetch through a pipeline, erased.
type BoxFetch<V, E> = Pin<Box<dyn Future<Output = Result<V, Error<E>>> + Send>>;

/// Lifts a fetch's own error into [`Error::Inner`].
async fn lift<V, E>(fetch: impl Future<Output = Result<V, E>>) -> Result<V, Error<E>> {
    fetch.await.map_err(Error::Inner)
}

impl<K, V, E, C, S> Inspect for Cache<K, V, E, C, S>
where
    K: Key,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    C: Classifier<V, E> + 'static,
    S: Store<K, V>,
{
    type Snapshot = CacheSnapshot;

    fn name(&self) -> &str {
        self.inner.config.name.as_str()
    }

    fn snapshot(&self) -> CacheSnapshot {
        self.inner.snapshot()
    }
}

impl<K, V, E, C, S> fmt::Debug for Cache<K, V, E, C, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}
