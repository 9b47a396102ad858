//! Last-known-good: when a call fails, serve the last value that succeeded,
//! if it is young enough, and say how old it is.
//!
//! A [`LastKnownGood`] remembers each successful value (per key, bounded) and,
//! when a later call fails, answers with the remembered value wrapped as
//! [`Served::stale`] with its age, as long as it is no older than `max_age`.
//! The answer type is [`Served<T>`]: the caller always knows whether it got
//! fresh data, so a fallback never passes stale data off as live. Wrap the
//! operation with [`fresh`](crate::fresh) so its values are marked fresh.
//!
//! A value older than `max_age` is never served (and is forgotten): the
//! failure goes through as it was.

mod served;
mod store;

use std::any::TypeId;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use steadfast_core::{
    Classifier, ConfigError, Context, DefaultClassifier, Error, Inspect, MissingKey, Name, Next,
    Outcome, Policy, classify, time,
};
use tracing::field::{DebugValue, debug};

pub use served::Served;
use store::Store;

use crate::episode::Episode;

/// Serves the last good value when a call fails; see the [module docs](self).
///
/// `T` is the value remembered, `K` the key type read from the call's
/// [`Context`] (the default `()` keeps a single value and reads no key), `C`
/// the classifier deciding what is a success worth remembering and what is a
/// failure worth covering.
///
/// # Calls without a key
///
/// Keyed by `K` ([`LastKnownGoodBuilder::keyed`]), a call that carries no
/// key of type `K` is refused with [`Error::MissingKey`] (counted in
/// `missing_keys`) before it runs: otherwise every such call would share one
/// remembered value, and one user could be served another's. To let them
/// share one value instead, opt in with
/// [`LastKnownGoodBuilder::share_unkeyed`] (or `share_unkeyed = true` in the
/// config).
///
/// # Events
///
/// Events name the policy, never a key: keys are often user ids or prompts.
/// To have the events about one key's value carry it (its `Debug`, in a
/// `key` field), opt in with [`LastKnownGoodBuilder::log_keys`] (or
/// `log_keys = true` in the config).
///
/// ```
/// use std::time::Duration;
/// use steadfast_degrade::{LastKnownGood, fresh};
/// use steadfast_core::{Policy, testing::TestError};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let prices = LastKnownGood::<u32>::builder().max_age(Duration::from_secs(300)).build()?;
/// let live = prices.call(fresh(|| async { Ok::<_, TestError>(100) })).await?;
/// assert!(!live.is_stale());
///
/// tokio::time::advance(Duration::from_secs(60)).await;
/// let down = prices.call(fresh(|| async { Err::<u32, _>(TestError::new("timeout")) })).await?;
/// assert_eq!(*down, 100);
/// assert_eq!(down.age(), Some(Duration::from_secs(60)));
/// # Ok(())
/// # }
/// ```
pub struct LastKnownGood<T, K = (), C = DefaultClassifier> {
    shared: Arc<Shared<T, K, C>>,
}

struct Shared<T, K, C> {
    config: LastKnownGoodConfig,
    classifier: C,
    store: Mutex<Store<Option<K>, T>>,
    stored: AtomicU64,
    served_stale: AtomicU64,
    misses: AtomicU64,
    missing_keys: AtomicU64,
    stale: Episode,
    /// How events write a key; `None` (no key in events) unless `log_keys`.
    key_format: Option<KeyFormat<K>>,
}

/// How a key is written in events: its `Debug`, captured where `K: Debug`
/// is known, so the policy itself needs no `Debug` bound.
type KeyFormat<K> = fn(&K, &mut fmt::Formatter<'_>) -> fmt::Result;

fn write_key<K: fmt::Debug>(key: &K, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    fmt::Debug::fmt(key, f)
}

/// A key as an event's field.
struct LoggedKey<'a, K> {
    key: &'a K,
    format: KeyFormat<K>,
}

impl<K> fmt::Debug for LoggedKey<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.format)(self.key, f)
    }
}

impl<T, K, C> Clone for LastKnownGood<T, K, C> {
    fn clone(&self) -> Self {
        LastKnownGood {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T, K, C> fmt::Debug for LastKnownGood<T, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LastKnownGood")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// A [`LastKnownGood`]'s configuration.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use steadfast_degrade::LastKnownGoodConfig;
///
/// let config: LastKnownGoodConfig =
///     serde_json::from_str(r#"{ "name": "prices", "max_age": "5m", "max_entries": 1000 }"#).unwrap();
/// assert_eq!(config.max_age, std::time::Duration::from_secs(300));
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct LastKnownGoodConfig {
    /// The name shown in events and snapshots. Default `"last-known-good"`.
    pub name: Name,
    /// The oldest value that may be served. Greater than zero. Default 5 min.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "steadfast_core::duration_serde::deserialize",
            serialize_with = "crate::serde_text::duration"
        )
    )]
    pub max_age: Duration,
    /// Values remembered at most (one per key); the one stored longest ago
    /// is dropped first. At least 1. Default 10,000.
    pub max_entries: usize,
    /// For a keyed policy: whether calls without a key share one remembered
    /// value rather than being refused with
    /// [`Error::MissingKey`]. Default
    /// `false`. A single-value policy (`K = ()`) reads no key and ignores it.
    pub share_unkeyed: bool,
    /// Whether events about one key's value carry the key (its `Debug`, in
    /// a `key` field). Default `false`: keys are often user ids or prompts,
    /// so events name the policy only.
    pub log_keys: bool,
}

impl Default for LastKnownGoodConfig {
    fn default() -> Self {
        LastKnownGoodConfig {
            name: Name::new_static("last-known-good"),
            max_age: Duration::from_secs(300),
            max_entries: 10_000,
            share_unkeyed: false,
            log_keys: false,
        }
    }
}

impl LastKnownGoodConfig {
    /// Checks every field; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_age.is_zero() {
            return Err(ConfigError::new(
                "last-known-good",
                "max_age",
                "must be greater than zero",
            )
            .with_value(self.max_age));
        }
        if self.max_entries == 0 {
            return Err(
                ConfigError::new("last-known-good", "max_entries", "must be at least 1")
                    .with_value(self.max_entries),
            );
        }
        Ok(())
    }
}

/// A [`LastKnownGood`]'s counters.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct LastKnownGoodSnapshot {
    /// The policy's name.
    pub name: Name,
    /// Values remembered now.
    pub entries: usize,
    /// Successful values stored.
    pub stored: u64,
    /// Failures answered with a remembered value.
    pub served_stale: u64,
    /// Failures with nothing young enough to serve.
    pub misses: u64,
    /// Calls refused because they carried no key (keyed, without
    /// `share_unkeyed`).
    pub missing_keys: u64,
    /// Whether the last failure-or-success seen was answered from memory.
    pub serving_stale: bool,
}

/// Builds a [`LastKnownGood`]; see [`LastKnownGood::builder`].
#[derive(Debug)]
#[must_use]
pub struct LastKnownGoodBuilder<T, K = (), C = DefaultClassifier> {
    config: LastKnownGoodConfig,
    classifier: C,
    _types: std::marker::PhantomData<fn() -> (T, K)>,
}

impl<T, K, C> LastKnownGoodBuilder<T, K, C>
where
    K: Hash + Eq + Clone,
{
    /// The name shown in events and snapshots (default `"last-known-good"`).
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.config.name = name.into();
        self
    }

    /// The oldest value that may be served (default 5 min).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.config.max_age = max_age;
        self
    }

    /// Values remembered at most, one per key (default 10,000).
    pub fn max_entries(mut self, max_entries: usize) -> Self {
        self.config.max_entries = max_entries;
        self
    }

    /// For a keyed policy, lets calls without a key share one remembered
    /// value instead of being refused with
    /// [`Error::MissingKey`]. Every such
    /// caller may then be served the value another one stored.
    pub fn share_unkeyed(mut self) -> Self {
        self.config.share_unkeyed = true;
        self
    }

    /// Puts the key (its `Debug`) in the events about its value, as a `key`
    /// field. Off by default: keys are often user ids or prompts.
    pub fn log_keys(mut self) -> Self {
        self.config.log_keys = true;
        self
    }

    /// Keys values by `K2`, read from the call's context; a call without a
    /// `K2` key is refused unless [`share_unkeyed`](Self::share_unkeyed).
    pub fn keyed<K2: Hash + Eq + Clone>(self) -> LastKnownGoodBuilder<T, K2, C> {
        LastKnownGoodBuilder {
            config: self.config,
            classifier: self.classifier,
            _types: std::marker::PhantomData,
        }
    }

    /// Decides what is a success worth remembering and a failure worth covering.
    pub fn classifier<C2>(self, classifier: C2) -> LastKnownGoodBuilder<T, K, C2> {
        LastKnownGoodBuilder {
            config: self.config,
            classifier,
            _types: std::marker::PhantomData,
        }
    }

    /// Validates the configuration and builds the policy.
    pub fn build(self) -> Result<LastKnownGood<T, K, C>, ConfigError>
    where
        K: fmt::Debug,
    {
        LastKnownGood::with_classifier(self.config, self.classifier)
    }
}

impl<T> LastKnownGood<T> {
    /// A builder, for a single value (`K = ()`); call `keyed::<K>()` for one per key.
    pub fn builder() -> LastKnownGoodBuilder<T> {
        LastKnownGoodBuilder {
            config: LastKnownGoodConfig::default(),
            classifier: DefaultClassifier,
            _types: std::marker::PhantomData,
        }
    }
}

impl<T, K: Hash + Eq + Clone> LastKnownGood<T, K> {
    /// A policy from a (deserialized) config, validated. `K: Debug` is only
    /// used when the config's `log_keys` puts keys in events.
    pub fn from_config(config: LastKnownGoodConfig) -> Result<Self, ConfigError>
    where
        K: fmt::Debug,
    {
        LastKnownGood::with_classifier(config, DefaultClassifier)
    }
}

impl<T, K: Hash + Eq + Clone, C> LastKnownGood<T, K, C> {
    /// A policy from a config and a classifier, validated.
    pub fn with_classifier(config: LastKnownGoodConfig, classifier: C) -> Result<Self, ConfigError>
    where
        K: fmt::Debug,
    {
        config.validate()?;
        Ok(LastKnownGood {
            shared: Arc::new(Shared {
                key_format: config.log_keys.then_some(write_key::<K> as KeyFormat<K>),
                store: Mutex::new(Store::new(config.max_entries)),
                config,
                classifier,
                stored: AtomicU64::new(0),
                served_stale: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                missing_keys: AtomicU64::new(0),
                stale: Episode::default(),
            }),
        })
    }

    /// The effective configuration.
    pub fn config(&self) -> &LastKnownGoodConfig {
        &self.shared.config
    }

    /// Forgets every remembered value.
    pub fn clear(&self) {
        *self.shared.store.lock() = Store::new(self.shared.config.max_entries);
    }
}

impl<T: Clone, K: Hash + Eq + Clone, C> LastKnownGood<T, K, C> {
    fn remember(&self, key: Option<&K>, value: &T) {
        let shared = &*self.shared;
        let now = time::now();
        shared.store.lock().insert(key.cloned(), value.clone(), now);
        shared.stored.fetch_add(1, Ordering::Relaxed);
        if shared.stale.end() {
            tracing::info!(policy = %shared.config.name, "fresh values again");
        }
    }

    /// The remembered value for `key`, if young enough.
    fn recall(&self, key: Option<&K>) -> Option<Served<T>> {
        let shared = &*self.shared;
        let key = key.cloned();
        let mut store = shared.store.lock();
        let (value, stored_at) = store.get(&key)?;
        let age = time::now().saturating_duration_since(stored_at);
        if age > shared.config.max_age {
            store.remove(&key);
            return None;
        }
        Some(Served::stale(value.clone(), age))
    }

    /// Answers a failure from memory, or hands it back.
    fn cover<R>(&self, key: Option<&K>, failure: R) -> Result<Served<T>, R> {
        let shared = &*self.shared;
        let Some(served) = self.recall(key) else {
            shared.misses.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                policy = %shared.config.name,
                key = self.log_key(key),
                "no last-known-good value to serve"
            );
            return Err(failure);
        };
        shared.served_stale.fetch_add(1, Ordering::Relaxed);
        if shared.stale.start() {
            tracing::warn!(
                policy = %shared.config.name,
                key = self.log_key(key),
                age = ?served.age(),
                "serving last-known-good values"
            );
        }
        Ok(served)
    }

    /// The key as an event's field: `None` (no field) without `log_keys`.
    fn log_key<'k>(&self, key: Option<&'k K>) -> Option<DebugValue<LoggedKey<'k, K>>> {
        let format = self.shared.key_format?;
        Some(debug(LoggedKey { key: key?, format }))
    }
}

impl<T, K: Hash + Eq + Clone + 'static, C> LastKnownGood<T, K, C> {
    /// Whether a call without a key is refused: keyed by a real type (not
    /// the single-value `()`), without the `share_unkeyed` opt-in. The type
    /// test folds to a constant.
    fn refuses_unkeyed(&self) -> bool {
        TypeId::of::<K>() != TypeId::of::<()>() && !self.shared.config.share_unkeyed
    }

    /// The refusal of a call without a key; counted.
    #[cold]
    fn missing_key(&self) -> MissingKey {
        let shared = &*self.shared;
        shared.missing_keys.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(policy = %shared.config.name, "refused a call without a key");
        MissingKey::new::<K>(shared.config.name.clone())
    }
}

impl<T, K: Hash + Eq + Clone, C> Inspect for LastKnownGood<T, K, C> {
    type Snapshot = LastKnownGoodSnapshot;

    fn name(&self) -> &str {
        self.shared.config.name.as_str()
    }

    fn snapshot(&self) -> LastKnownGoodSnapshot {
        let shared = &*self.shared;
        LastKnownGoodSnapshot {
            name: shared.config.name.clone(),
            entries: shared.store.lock().len(),
            stored: shared.stored.load(Ordering::Relaxed),
            served_stale: shared.served_stale.load(Ordering::Relaxed),
            misses: shared.misses.load(Ordering::Relaxed),
            missing_keys: shared.missing_keys.load(Ordering::Relaxed),
            serving_stale: shared.stale.is_on(),
        }
    }
}

impl<T, K, C, E> Policy<Served<T>, E> for LastKnownGood<T, K, C>
where
    T: Clone + Send + Sync + 'static,
    K: Hash + Eq + Clone + Send + Sync + 'static,
    C: Classifier<T, E>,
    E: Send,
{
    // Runs the rest of the call at most once.
    const REPEATS: bool = false;

    async fn execute<'a, N>(&'a self, ctx: Context<'a>, next: N) -> Result<Served<T>, Error<E>>
    where
        N: Next<'a, Served<T>, E>,
        Served<T>: 'a,
        E: 'a,
    {
        let key: Option<&'a K> = ctx.key::<K>();
        if key.is_none() && self.refuses_unkeyed() {
            return Err(self.missing_key().into());
        }
        let result = next.invoke(ctx).await;
        let result = match result {
            // Already stale (an inner policy covered it): pass it on.
            Ok(served) if served.is_stale() => return Ok(served),
            Ok(served) => Ok(served.into_inner()),
            Err(error) => Err(error),
        };
        let (outcome, result) = classify(&self.shared.classifier, result);
        match (outcome, result) {
            (Outcome::Success, Ok(value)) => {
                self.remember(key, &value);
                Ok(Served::fresh(value))
            }
            (Outcome::Failure, Ok(value)) => {
                Ok(self.cover(key, value).unwrap_or_else(Served::fresh))
            }
            (Outcome::Failure, Err(error)) => self.cover(key, error),
            (_, result) => result.map(Served::fresh),
        }
    }
}
