//! The cache builder: config fields, classifier, value-driven expiry and
//! tags, the store.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::event::{CacheEvent, EventHook};
use std::time::Duration;

use steadfast_core::{Classifier, ConfigError, DefaultClassifier, Name};

use crate::cache::{Cache, Inner};
use crate::log::KeyFormat;
use crate::store::{BuildStore, Capacity, Key, MokaStore, Store, Weigher};
use crate::{CacheConfig, Tag};

/// The builder's type parameters that no field holds.
type Types<K, E, S> = PhantomData<fn() -> (K, E, S)>;

/// Computes an entry's fresh time from its value; `None` keeps the default.
pub(crate) type FreshForValue<V> = Arc<dyn Fn(&V) -> Option<Duration> + Send + Sync>;
/// Computes tags for an entry from its key and value.
pub(crate) type TagsBy<K, V> = Arc<dyn Fn(&K, &V) -> Vec<Tag> + Send + Sync>;

/// Builds a [`Cache`]; every setter has a documented default in
/// [`CacheConfig`], and [`build`](CacheBuilder::build) validates the whole.
///
/// ```
/// use std::time::Duration;
/// use steadfast_cache::Cache;
///
/// let cache = Cache::<String, u64, std::sync::Arc<std::io::Error>>::builder()
///     .name("prices")
///     .fresh_for(Duration::from_secs(30))
///     .stale_for(Duration::from_secs(300))
///     .fail_safe(Duration::from_secs(3600), Duration::from_secs(30))
///     .soft_timeout(Duration::from_millis(100))
///     .hard_timeout(Duration::from_secs(2))
///     .max_entries(50_000)
///     .build()?;
/// # Ok::<_, steadfast_core::ConfigError>(())
/// ```
pub struct CacheBuilder<K, V, E, C = DefaultClassifier, S = MokaStore<K, V>> {
    config: CacheConfig,
    classifier: C,
    fresh_for_value: Option<FreshForValue<V>>,
    tags_by: Option<TagsBy<K, V>>,
    weigher: Option<Weigher<K, V>>,
    key_format: Option<KeyFormat<K>>,
    on_event: Option<EventHook<K>>,
    _types: Types<K, E, S>,
}

impl<K, V, E> CacheBuilder<K, V, E> {
    /// The default config, classifier and store.
    pub fn new() -> Self {
        CacheBuilder {
            config: CacheConfig::default(),
            classifier: DefaultClassifier,
            fresh_for_value: None,
            tags_by: None,
            weigher: None,
            key_format: None,
            on_event: None,
            _types: PhantomData,
        }
    }
}

impl<K, V, E> Default for CacheBuilder<K, V, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V, E, C, S> CacheBuilder<K, V, E, C, S> {
    /// Replaces the whole config (read from a file, say).
    pub fn config(mut self, config: CacheConfig) -> Self {
        self.config = config;
        self
    }

    /// The name shown in events, snapshots and errors.
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.config.name = name.into();
        self
    }

    /// How long a stored value is fresh.
    pub fn fresh_for(mut self, fresh_for: Duration) -> Self {
        self.config.fresh_for = fresh_for;
        self
    }

    /// How long after its fresh time a value is served at once while one
    /// refresh runs (stale-while-revalidate).
    pub fn stale_for(mut self, stale_for: Duration) -> Self {
        self.config.stale_for = stale_for;
        self
    }

    /// Stale-if-error: serve a value stored up to `max_age` ago when a fetch
    /// fails, and keep serving it for `throttle` without fetching again.
    pub fn fail_safe(mut self, max_age: Duration, throttle: Duration) -> Self {
        self.config.fail_safe_max_age = Some(max_age);
        self.config.fail_safe_throttle = throttle;
        self
    }

    /// Answers rejections by inner policies from a stale value.
    pub fn degrade_on_rejection(mut self, enabled: bool) -> Self {
        self.config.degrade_on_rejection = enabled;
        self
    }

    /// With a stale value at hand, wait at most this long for a fetch.
    pub fn soft_timeout(mut self, soft_timeout: Duration) -> Self {
        self.config.soft_timeout = Some(soft_timeout);
        self
    }

    /// Cancel any fetch that takes longer than this.
    pub fn hard_timeout(mut self, hard_timeout: Duration) -> Self {
        self.config.hard_timeout = Some(hard_timeout);
        self
    }

    /// Refresh in the background on a hit after this fraction of the fresh time.
    pub fn eager_refresh(mut self, fraction: f64) -> Self {
        self.config.eager_refresh = Some(fraction);
        self
    }

    /// The cache as a policy: let a call whose context has no key of type
    /// `K` pass straight through, uncached, instead of refusing it with
    /// [`Error::MissingKey`](steadfast_core::Error::MissingKey) (the default).
    pub fn pass_through_unkeyed(mut self, enabled: bool) -> Self {
        self.config.pass_through_unkeyed = enabled;
        self
    }

    /// Name the key in the cache's events (and the tag in a tag
    /// invalidation's). Off by default: keys and tags are often user ids,
    /// IPs or emails. Events write the key with its `Debug`.
    pub fn log_keys(mut self, enabled: bool) -> Self
    where
        K: fmt::Debug,
    {
        self.config.log_keys = enabled;
        self.key_format()
    }

    /// Captures how events write a key, for a config's `log_keys`.
    pub(crate) fn key_format(mut self) -> Self
    where
        K: fmt::Debug,
    {
        self.key_format = Some(<K as fmt::Debug>::fmt);
        self
    }

    /// Hold at most this many entries.
    pub fn max_entries(mut self, max_entries: u64) -> Self {
        self.config.max_entries = max_entries;
        self
    }

    /// Hold at most this much weight, each entry weighed by `weigher`.
    pub fn max_weight(
        mut self,
        max_weight: u64,
        weigher: impl Fn(&K, &V) -> u32 + Send + Sync + 'static,
    ) -> Self {
        self.config.max_weight = Some(max_weight);
        self.weigher = Some(Arc::new(weigher));
        self
    }

    /// Computes an entry's fresh time from its value (a token's expiry, a
    /// `Cache-Control: max-age`); `None` keeps the cache's.
    pub fn fresh_for_value(
        mut self,
        fresh_for: impl Fn(&V) -> Option<Duration> + Send + Sync + 'static,
    ) -> Self {
        self.fresh_for_value = Some(Arc::new(fresh_for));
        self
    }

    /// Negative caching: a value for which `is_negative` holds ("not found")
    /// is fresh for `fresh_for` only, typically much shorter than the
    /// cache's fresh time. Replaces any [`fresh_for_value`](Self::fresh_for_value).
    pub fn negative(
        self,
        is_negative: impl Fn(&V) -> bool + Send + Sync + 'static,
        fresh_for: Duration,
    ) -> Self {
        self.fresh_for_value(move |value| is_negative(value).then_some(fresh_for))
    }

    /// Tags every stored entry by its key and value, in addition to the
    /// tags of [`FetchOptions`](crate::FetchOptions). The only way to tag
    /// entries stored through the cache as a policy.
    pub fn tags_by<T: Into<Tag>>(
        mut self,
        tags: impl Fn(&K, &V) -> Vec<T> + Send + Sync + 'static,
    ) -> Self {
        self.tags_by = Some(Arc::new(move |key, value| {
            tags(key, value).into_iter().map(Into::into).collect()
        }));
        self
    }

    /// Calls `hook` with each [`CacheEvent`]: hits, stale hits, misses,
    /// stored fetches and fail-safe stand-ins, as they happen, in the
    /// cache's own code (keep it quick: count, or send on a channel). A
    /// cache without a hook pays one test per lookup.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use steadfast_cache::{Cache, CacheEvent};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let hits = Arc::new(AtomicU64::new(0));
    /// let counted = Arc::clone(&hits);
    /// let cache = Cache::<u32, u32, String>::builder()
    ///     .on_event(move |event| {
    ///         if matches!(event, CacheEvent::Hit { .. }) {
    ///             counted.fetch_add(1, Ordering::Relaxed);
    ///         }
    ///     })
    ///     .build()
    ///     .unwrap();
    /// cache.get_or_fetch(&1, || async { Ok(7) }).await.unwrap();
    /// cache.get_or_fetch(&1, || async { Ok(7) }).await.unwrap();
    /// assert_eq!(hits.load(Ordering::Relaxed), 1);
    /// # }
    /// ```
    pub fn on_event(mut self, hook: impl Fn(&CacheEvent<'_, K>) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(hook));
        self
    }

    /// Decides which fetch results are failures (for stale-if-error) and
    /// which are stored: only successes are. Default: every `Err` fails.
    pub fn classifier<C2>(self, classifier: C2) -> CacheBuilder<K, V, E, C2, S> {
        CacheBuilder {
            config: self.config,
            classifier,
            fresh_for_value: self.fresh_for_value,
            tags_by: self.tags_by,
            weigher: self.weigher,
            key_format: self.key_format,
            on_event: self.on_event,
            _types: PhantomData,
        }
    }

    /// Uses another store type built from the configured capacity, such as
    /// [`QuickCacheStore`](crate::QuickCacheStore) (feature `quick_cache`).
    pub fn store<S2>(self) -> CacheBuilder<K, V, E, C, S2> {
        CacheBuilder {
            config: self.config,
            classifier: self.classifier,
            fresh_for_value: self.fresh_for_value,
            tags_by: self.tags_by,
            weigher: self.weigher,
            key_format: self.key_format,
            on_event: self.on_event,
            _types: PhantomData,
        }
    }
}

impl<K, V, E, C, S> CacheBuilder<K, V, E, C, S>
where
    K: Key,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    C: Classifier<V, E> + 'static,
    S: Store<K, V>,
{
    /// Validates the config and builds the cache with its store.
    pub fn build(self) -> Result<Cache<K, V, E, C, S>, ConfigError>
    where
        S: BuildStore<K, V>,
    {
        let capacity = self.capacity()?;
        self.build_with_store(S::build(capacity))
    }

    /// Validates the config and builds the cache on a store made elsewhere
    /// (whose own bound then applies).
    pub fn build_with_store(self, store: S) -> Result<Cache<K, V, E, C, S>, ConfigError> {
        self.config.validate()?;
        if self.config.log_keys && self.key_format.is_none() {
            return Err(ConfigError::new(
                "cache",
                "log_keys",
                "needs a key type that is Debug: set it with CacheBuilder::log_keys, \
                 or build with Cache::from_config",
            ));
        }
        Ok(Cache {
            inner: Arc::new(Inner::new(
                self.config,
                store,
                self.classifier,
                self.fresh_for_value,
                self.tags_by,
                self.key_format,
                self.on_event,
            )),
        })
    }

    fn capacity(&self) -> Result<Capacity<K, V>, ConfigError> {
        self.config.validate()?;
        match (self.config.max_weight, &self.weigher) {
            (Some(max), Some(weigher)) => Ok(Capacity::Weight {
                max,
                weigher: Arc::clone(weigher),
            }),
            (Some(_), None) => Err(ConfigError::new(
                "cache",
                "max_weight",
                "needs a weigher: set both with CacheBuilder::max_weight",
            )),
            (None, _) => Ok(Capacity::Entries(self.config.max_entries)),
        }
    }
}

impl<K, V, E, C, S> fmt::Debug for CacheBuilder<K, V, E, C, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
