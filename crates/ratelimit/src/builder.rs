//! The by-value builders of [`RateLimiter`] and [`KeyedRateLimiter`].

use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use steadfast_core::{ConfigError, Name};

use crate::clock::TimeSource;
use crate::config::{AbuseConfig, Mode, RateLimiterConfig, TierConfig};
use crate::direct::RateLimiter;
use crate::keyed::KeyedRateLimiter;
use crate::quota::{Algorithm, Quota};
use crate::store::{MemoryStore, StateStore};
use crate::warmup::WarmUp;

/// What a keyed limiter can be keyed by: user ids, IPs, API keys, tuples.
///
/// `Debug` so an abusive key can be named in the WARN event, where the
/// config opts in ([`log_keys`](RateLimiterBuilder::log_keys)).
pub trait Key: Hash + Eq + Clone + fmt::Debug + Send + Sync + 'static {}

impl<K: Hash + Eq + Clone + fmt::Debug + Send + Sync + 'static> Key for K {}

pub(crate) type TierFn<K> = Arc<dyn Fn(&K) -> usize + Send + Sync>;
/// A tier chooser by name; turned into a [`TierFn`] at build, once the
/// tiers' names are known.
pub(crate) type TierNameFn<K> = Arc<dyn Fn(&K) -> &str + Send + Sync>;
pub(crate) type AbuseFn<K> = Arc<dyn Fn(&K, u32) + Send + Sync>;

/// Marks a builder of a direct [`RateLimiter`].
#[derive(Debug, Clone, Copy)]
pub struct Direct;

/// Marks a builder of a [`KeyedRateLimiter`] over store `S`.
pub struct Keyed<K, S> {
    pub(crate) tier_of: Option<TierFn<K>>,
    pub(crate) tier_named: Option<TierNameFn<K>>,
    pub(crate) on_abuse: Option<AbuseFn<K>>,
    pub(crate) store: Option<S>,
    key: PhantomData<fn(&K)>,
}

impl<K, S> fmt::Debug for Keyed<K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyed")
            .field("tier_of", &self.tier_of.is_some())
            .field("tier_named", &self.tier_named.is_some())
            .field("on_abuse", &self.on_abuse.is_some())
            .field("store", &self.store.is_some())
            .finish()
    }
}

/// Builds a [`RateLimiter`] (`M = Direct`) or a [`KeyedRateLimiter`]
/// (`M = Keyed<K, S>`); setters take and return the builder.
#[derive(Debug)]
#[must_use]
pub struct RateLimiterBuilder<M = Direct> {
    config: RateLimiterConfig,
    kind: M,
}

impl<M> RateLimiterBuilder<M> {
    /// The name shown in errors, events and snapshots (default `"ratelimit"`).
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.config.name = name.into();
        self
    }

    /// The algorithm (default [`Algorithm::Gcra`]).
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.config.algorithm = algorithm;
        self
    }

    /// Wait for a turn, at most `max_wait`, instead of rejecting at once.
    pub fn wait(mut self, max_wait: Duration) -> Self {
        self.config.mode = Mode::Wait { max_wait };
        self
    }

    /// Reject or wait (default reject).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.config.mode = mode;
        self
    }

    /// Ramp the rate up after start and after idleness.
    pub fn warm_up(mut self, warm_up: WarmUp) -> Self {
        self.config.warm_up = Some(warm_up);
        self
    }

    /// Where to read the time (default [`TimeSource::Auto`]).
    pub fn time_source(mut self, source: TimeSource) -> Self {
        self.config.time_source = source;
        self
    }

    /// The configuration so far.
    pub fn config(&self) -> &RateLimiterConfig {
        &self.config
    }
}

impl RateLimiterBuilder<Direct> {
    pub(crate) fn new(quota: Quota) -> Self {
        RateLimiterBuilder::from_config(RateLimiterConfig::new(quota))
    }

    /// A builder starting from `config` (a deserialized file); see
    /// [`RateLimiter::builder_from`].
    pub(crate) fn from_config(config: RateLimiterConfig) -> Self {
        RateLimiterBuilder {
            config,
            kind: Direct,
        }
    }

    /// Validates the configuration and builds the limiter.
    pub fn build(self) -> Result<RateLimiter, ConfigError> {
        RateLimiter::from_config(self.config)
    }
}

impl<K: Key> RateLimiterBuilder<Keyed<K, MemoryStore<K>>> {
    pub(crate) fn new_keyed(quota: Quota) -> Self {
        RateLimiterBuilder::from_config_keyed(RateLimiterConfig::new(quota))
    }

    /// A builder starting from `config`; see [`KeyedRateLimiter::builder_from`].
    pub(crate) fn from_config_keyed(config: RateLimiterConfig) -> Self {
        RateLimiterBuilder {
            config,
            kind: Keyed {
                tier_of: None,
                tier_named: None,
                on_abuse: None,
                store: None,
                key: PhantomData,
            },
        }
    }
}

impl<K: Key, S: StateStore<K>> RateLimiterBuilder<Keyed<K, S>> {
    /// Adds a tier with its own quota; tiers are numbered from 1 in the
    /// order added (0 is the default tier, the builder's quota).
    pub fn tier(mut self, name: impl Into<Name>, quota: Quota) -> Self {
        self.config.tiers.push(TierConfig {
            name: name.into(),
            quota,
        });
        self
    }

    /// How to find a key's tier: its number (0 = default, then the tiers in
    /// the order added). A number past the last tier means the default tier.
    ///
    /// It runs on every check, and also while a shard of keys is swept
    /// (under that shard's lock): keep it a plain function of the key, and
    /// never call the limiter from it.
    pub fn tier_of(mut self, tier_of: impl Fn(&K) -> usize + Send + Sync + 'static) -> Self {
        self.kind.tier_of = Some(Arc::new(tier_of));
        self.kind.tier_named = None;
        self
    }

    /// How to find a key's tier by name (`"default"` or a tier's name, as in
    /// the config's `tiers`), so the quotas can come from a file while the
    /// choice stays in code. A name no tier has means the default tier.
    /// Replaces [`tier_of`](Self::tier_of), and the other way round.
    ///
    /// The name is looked up among the tiers on each check (a short scan of
    /// their names); the same rules as for `tier_of` apply.
    ///
    /// ```
    /// # #[cfg(feature = "serde")] {
    /// use steadfast_ratelimit::{KeyedRateLimiter, RateLimiterConfig};
    ///
    /// #[derive(Clone, Debug, PartialEq, Eq, Hash)]
    /// struct User { id: u64, plan: &'static str }
    ///
    /// let config: RateLimiterConfig = serde_json::from_str(r#"{
    ///     "quota": { "limit": 60, "period": "1m" },
    ///     "tiers": [{ "name": "pro", "quota": { "limit": 500, "period": "1m" } }]
    /// }"#).unwrap();
    /// let limiter = KeyedRateLimiter::<User>::builder_from(config)
    ///     .tier_named(|user: &User| user.plan)
    ///     .build()
    ///     .unwrap();
    /// let pro = User { id: 7, plan: "pro" };
    /// assert!(limiter.check_n(&pro, 500).is_ok());
    /// assert_eq!(limiter.peek(&User { id: 8, plan: "free" }).remaining, 60);
    /// # }
    /// ```
    pub fn tier_named(mut self, tier_named: impl Fn(&K) -> &str + Send + Sync + 'static) -> Self {
        self.kind.tier_named = Some(Arc::new(tier_named));
        self.kind.tier_of = None;
        self
    }

    /// Limits calls whose context has no key of type `K` by one bucket they
    /// all share (the default tier's quota), instead of refusing them with
    /// `Error::MissingKey` (the default). See the
    /// [crate docs](crate#calls-without-a-key) before opting in.
    pub fn share_unkeyed(mut self, enabled: bool) -> Self {
        self.config.share_unkeyed = enabled;
        self
    }

    /// Names the key in events (the abuse WARN). Default: the policy only;
    /// keys are user ids, IPs and emails.
    pub fn log_keys(mut self, enabled: bool) -> Self {
        self.config.log_keys = enabled;
        self
    }

    /// Tracks at most `max_keys` keys, evicting the idlest (default store only).
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.config.max_keys = Some(max_keys);
        self
    }

    /// How often a background task forgets idle keys (`None`: only as new
    /// keys arrive). Default 10 s.
    pub fn sweep_interval(mut self, interval: Option<Duration>) -> Self {
        self.config.sweep_interval = interval;
        self
    }

    /// Reports a key rejected more than `threshold` times within `window`:
    /// a WARN event naming the policy (and the key only with
    /// [`log_keys`](Self::log_keys)), and the [`on_abuse`](Self::on_abuse)
    /// callback, which is given the key, if set.
    pub fn abuse(mut self, threshold: u32, window: Duration) -> Self {
        self.config.abuse = Some(AbuseConfig { threshold, window });
        self
    }

    /// Called with the key and its rejections so far, once per abuse window,
    /// when a key crosses the [`abuse`](Self::abuse) threshold. It runs on
    /// the rejected caller's task: keep it short (flag the key, send it on a
    /// channel).
    pub fn on_abuse(mut self, hook: impl Fn(&K, u32) + Send + Sync + 'static) -> Self {
        self.kind.on_abuse = Some(Arc::new(hook));
        self
    }

    /// Keeps the keys' state in `store` instead of the default in-memory one.
    pub fn store<S2: StateStore<K>>(self, store: S2) -> RateLimiterBuilder<Keyed<K, S2>> {
        RateLimiterBuilder {
            config: self.config,
            kind: Keyed {
                tier_of: self.kind.tier_of,
                tier_named: self.kind.tier_named,
                on_abuse: self.kind.on_abuse,
                store: Some(store),
                key: PhantomData,
            },
        }
    }
}

impl<K: Key> RateLimiterBuilder<Keyed<K, MemoryStore<K>>> {
    /// Validates the configuration and builds the limiter.
    pub fn build(mut self) -> Result<KeyedRateLimiter<K>, ConfigError> {
        self.config.validate()?;
        if self.kind.store.is_none() {
            self.kind.store = Some(match self.config.max_keys {
                Some(max) => MemoryStore::with_max_keys(max),
                None => MemoryStore::new(),
            });
        }
        KeyedRateLimiter::from_parts(self.config, self.kind)
    }
}

impl<K: Key, S: StateStore<K>> RateLimiterBuilder<Keyed<K, S>> {
    /// Validates the configuration and builds the limiter over the given store.
    pub fn build_with_store(self) -> Result<KeyedRateLimiter<K, S>, ConfigError> {
        self.config.validate()?;
        if self.kind.store.is_none() {
            return Err(ConfigError::new(
                "ratelimit",
                "store",
                "must be set with `store(..)`",
            ));
        }
        KeyedRateLimiter::from_parts(self.config, self.kind)
    }
}
