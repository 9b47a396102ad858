//! The keyed limiter: a quota per key (user, IP, API key, endpoint, tuple),
//! chosen per call from the key's tier, with bounded memory.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use steadfast_core::{ConfigError, Inspect, MissingKey, Name, RateLimited};

use crate::abuse::Abuse;
use crate::algorithm::{self, Decision};
use crate::builder::{Key, Keyed, RateLimiterBuilder, TierFn, TierNameFn};
use crate::config::RateLimiterConfig;
use crate::direct::RateLimiter;
use crate::engine::Engine;
use crate::quota::Quota;
use crate::snapshot::{RateLimitState, RateLimiterSnapshot};
use crate::store::{Change, Expiry, MemoryStore, StateStore, Tally};
use crate::sweeper::{self, Sweep};
use crate::wait::{self, Slot};

/// A rate limiter with a quota per key; the key comes with each call.
///
/// One limiter serves every key and every tier: the state of a key is one
/// `u64` word in a [`StateStore`] ([`MemoryStore`] by default), created on
/// the key's first call and forgotten once it is back to full. Clones share
/// the state.
///
/// ```
/// use std::time::Duration;
/// use steadfast_ratelimit::{KeyedRateLimiter, Quota};
///
/// #[derive(Clone, Debug, PartialEq, Eq, Hash)]
/// struct User { id: u64, pro: bool }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let limiter = KeyedRateLimiter::<User>::builder(Quota::per_minute(60))
///     .tier("pro", Quota::per_minute(500))
///     .tier_of(|user: &User| usize::from(user.pro))
///     .build()
///     .unwrap();
/// let free = User { id: 1, pro: false };
/// let pro = User { id: 2, pro: true };
/// assert!(limiter.check_n(&free, 60).is_ok());
/// assert!(limiter.check(&free).is_err());
/// assert!(limiter.check_n(&pro, 500).is_ok());
/// assert_eq!(limiter.peek(&pro).remaining, 0);
/// # }
/// ```
pub struct KeyedRateLimiter<K, S = MemoryStore<K>> {
    inner: Arc<Inner<K, S>>,
}

impl<K, S> Clone for KeyedRateLimiter<K, S> {
    fn clone(&self) -> Self {
        KeyedRateLimiter {
            inner: Arc::clone(&self.inner),
        }
    }
}

pub(crate) struct Inner<K, S> {
    pub(crate) engine: Engine,
    pub(crate) store: S,
    pub(crate) tier_of: Option<TierFn<K>>,
    pub(crate) abuse: Option<Arc<Abuse<K>>>,
    /// The shared bucket of calls that carry no key of type `K`, when the
    /// config opts in ([`RateLimiterConfig::share_unkeyed`]).
    pub(crate) unkeyed: Option<RateLimiter>,
    pub(crate) warned_unkeyed: AtomicBool,
    /// Set once a reconfigured limiter took over the store (on its first
    /// sweep, so a replacement never put in service retires nothing):
    /// this one's sweeper stops, as it would judge keys by the old quota.
    pub(crate) retired: AtomicBool,
    /// The limiter this one was reconfigured from, retired at its first sweep.
    pub(crate) supersedes: Option<std::sync::Weak<Inner<K, S>>>,
}

impl<K, S> fmt::Debug for KeyedRateLimiter<K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimiter")
            .field("name", &self.inner.engine.name)
            .field("algorithm", &self.inner.engine.algorithm)
            .finish_non_exhaustive()
    }
}

impl<K: Key> KeyedRateLimiter<K> {
    /// A builder; `quota` is the default tier's.
    pub fn builder(quota: Quota) -> RateLimiterBuilder<Keyed<K, MemoryStore<K>>> {
        RateLimiterBuilder::new_keyed(quota)
    }

    /// A limiter allowing `quota` per key, rejecting what is over.
    pub fn new(quota: Quota) -> Result<Self, ConfigError> {
        KeyedRateLimiter::builder(quota).build()
    }

    /// A limiter from a (deserialized) config, validated. Every key is in
    /// the default tier; to choose tiers, start with
    /// [`builder_from`](Self::builder_from).
    pub fn from_config(config: RateLimiterConfig) -> Result<Self, ConfigError> {
        KeyedRateLimiter::builder_from(config).build()
    }

    /// A builder starting from `config` (a deserialized file), for what only
    /// code can give: the tier chooser
    /// ([`tier_of`](RateLimiterBuilder::tier_of),
    /// [`tier_named`](RateLimiterBuilder::tier_named)), the abuse callback,
    /// a store.
    pub fn builder_from(config: RateLimiterConfig) -> RateLimiterBuilder<Keyed<K, MemoryStore<K>>> {
        RateLimiterBuilder::from_config_keyed(config)
    }
}

impl<K, S> KeyedRateLimiter<K, S> {
    pub(crate) fn inner(&self) -> &Inner<K, S> {
        &self.inner
    }

    pub(crate) fn inner_arc(&self) -> &Arc<Inner<K, S>> {
        &self.inner
    }

    pub(crate) fn from_inner(inner: Arc<Inner<K, S>>) -> Self {
        KeyedRateLimiter { inner }
    }
}

impl<K: Key, S: StateStore<K>> KeyedRateLimiter<K, S> {
    pub(crate) fn from_parts(
        config: RateLimiterConfig,
        kind: Keyed<K, S>,
    ) -> Result<Self, ConfigError> {
        let unkeyed = if config.share_unkeyed {
            Some(RateLimiter::from_config(config.unkeyed_bucket())?)
        } else {
            None
        };
        let abuse = config.abuse.map(|abuse| {
            Arc::new(Abuse::new(
                &abuse,
                kind.on_abuse.clone(),
                config.name.clone(),
                config.log_keys,
            ))
        });
        let sweep_interval = config.sweep_interval;
        let engine = Engine::new(config);
        let tier_of = match kind.tier_named {
            Some(named) => Some(by_name(named, engine.tiers.names())),
            None => kind.tier_of,
        };
        let inner = Arc::new(Inner {
            engine,
            store: kind.store.expect("the builder sets the store"),
            tier_of,
            abuse,
            unkeyed,
            warned_unkeyed: AtomicBool::new(false),
            retired: AtomicBool::new(false),
            supersedes: None,
        });
        if let Some(interval) = sweep_interval {
            sweeper::spawn(&inner, interval);
        }
        Ok(KeyedRateLimiter { inner })
    }

    /// Admits one unit for `key` now, or says when it could be.
    #[inline]
    pub fn check(&self, key: &K) -> Result<(), RateLimited> {
        self.check_n(key, 1)
    }

    /// Admits `cost` units for `key` now, or says when they could be. A
    /// cost above the key's burst (or window limit) can never be admitted
    /// ([`RateLimited::is_never`]).
    #[inline]
    pub fn check_n(&self, key: &K, cost: u32) -> Result<(), RateLimited> {
        match self.inner.admit(key, u64::from(cost), true) {
            Ok(()) => Ok(()),
            // Built out of line, straight into the caller's result: the
            // admitted path writes only the discriminant.
            Err(wait) => self.inner.refuse(key, wait),
        }
    }

    /// Admits `cost` units for `key` as the limiter's [`Mode`](crate::Mode)
    /// says: at once or refused, or waiting up to the maximum.
    pub async fn acquire(&self, key: &K, cost: u32) -> Result<(), RateLimited> {
        self.acquire_within(key, cost, None).await
    }

    pub(crate) async fn acquire_within(
        &self,
        key: &K,
        cost: u32,
        deadline: Option<steadfast_core::time::Instant>,
    ) -> Result<(), RateLimited> {
        match self.inner.engine.max_wait(deadline) {
            None => self.check_n(key, cost),
            Some(max_wait) => {
                let slot = KeySlot {
                    inner: &self.inner,
                    key,
                };
                wait::acquire(&slot, u64::from(cost), max_wait).await
            }
        }
    }

    /// The shared bucket for calls without a key, when the config opts in;
    /// see the crate docs.
    pub(crate) fn unkeyed(&self) -> Option<&RateLimiter> {
        let inner = &self.inner;
        let unkeyed = inner.unkeyed.as_ref()?;
        if !inner.warned_unkeyed.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                policy = %inner.engine.name,
                key_type = std::any::type_name::<K>(),
                "a call carried no key of the limiter's key type; such calls share one bucket"
            );
        }
        Some(unkeyed)
    }

    /// The refusal of a call without a key (no shared bucket configured).
    #[cold]
    pub(crate) fn missing_key(&self) -> MissingKey {
        let inner = &self.inner;
        if !inner.warned_unkeyed.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                policy = %inner.engine.name,
                key_type = std::any::type_name::<K>(),
                "a call carried no key of the limiter's key type; such calls are refused"
            );
        }
        MissingKey::new::<K>(inner.engine.name.clone())
    }

    /// The key's state now, consuming nothing: for `RateLimit-*` headers.
    pub fn peek(&self, key: &K) -> RateLimitState {
        let inner = &*self.inner;
        let tier = inner.tier(key);
        // The time a check would use now, so peek and check agree.
        let (_, now) = inner.engine.begin(tier);
        inner.engine.state_of(tier, inner.store.get(key), now)
    }

    /// The tiers' names: `"default"` first, then those added, in order.
    pub fn tier_names(&self) -> Vec<&str> {
        self.inner
            .engine
            .tiers
            .names()
            .iter()
            .map(Name::as_str)
            .collect()
    }

    /// The quota of the tier named `tier`.
    pub fn tier_quota(&self, tier: &str) -> Option<Quota> {
        let tiers = &self.inner.engine.tiers;
        tiers.index(tier).and_then(|i| tiers.quota(i))
    }

    /// The tier `key` belongs to: its name and quota (for a
    /// `RateLimit-Policy` header naming the quota a client is under).
    pub fn tier_of(&self, key: &K) -> (&str, Quota) {
        let tiers = &self.inner.engine.tiers;
        let index = self.inner.tier(key);
        // An index past the tiers (a `tier_of` closure's slip) counts as the default.
        let names = tiers.names();
        match (names.get(index), tiers.quota(index)) {
            (Some(name), Some(quota)) => (name.as_str(), quota),
            _ => ("default", self.inner.engine.config.quota),
        }
    }

    /// Replaces the default tier's quota at run time; keys keep their state.
    pub fn set_quota(&self, quota: Quota) -> Result<(), ConfigError> {
        self.inner.engine.tiers.set(0, quota)?;
        match &self.inner.unkeyed {
            Some(unkeyed) => unkeyed.set_quota(quota),
            None => Ok(()),
        }
    }

    /// Replaces the quota of the tier named `tier` at run time; keys keep
    /// their state.
    pub fn set_tier_quota(&self, tier: &str, quota: Quota) -> Result<(), ConfigError> {
        let tiers = &self.inner.engine.tiers;
        let Some(index) = tiers.index(tier) else {
            return Err(
                ConfigError::new("ratelimit", "tier", "must name a configured tier")
                    .with_value(tier),
            );
        };
        if index == 0 {
            return self.set_quota(quota);
        }
        tiers.set(index, quota)
    }

    /// Forgets every key that is back to full now (the background sweeper
    /// and new keys already do this; useful where no tokio runtime runs).
    pub fn sweep(&self) -> usize {
        self.inner.sweep()
    }

    /// The store of the keys' state.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// The configuration the limiter was built with.
    pub fn config(&self) -> &RateLimiterConfig {
        &self.inner.engine.config
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// [`check_n`](Self::check_n) for the policy: the wait stays in a
    /// register and the rejection is built only when needed.
    #[inline]
    pub(crate) fn try_admit(&self, key: &K, cost: u32, count_rejection: bool) -> Result<(), u64> {
        self.inner.admit(key, u64::from(cost), count_rejection)
    }

    pub(crate) fn rejection(&self, key: &K, wait: u64) -> RateLimited {
        self.inner.reject(key, wait)
    }

    /// Gives back `cost` units an admitted call of `key` took and did not
    /// use (a failed login that should not count, a request cancelled
    /// before any work); its admission is uncounted. Giving back more than
    /// was taken only refills the key to full.
    pub fn refund(&self, key: &K, cost: u32) {
        let inner = &*self.inner;
        let (params, now) = inner.engine.begin(inner.tier(key));
        let algorithm = inner.engine.algorithm;
        inner.store.give_back(key, |state| {
            crate::algorithm::refund(algorithm, params, state, now, u64::from(cost))
        });
    }

    pub(crate) fn tier_index(&self, key: &K) -> usize {
        self.inner.tier(key)
    }

    pub(crate) fn state_word(&self, key: &K) -> u64 {
        self.inner.store.get(key)
    }
}

impl<K: Key, S: StateStore<K>> Inner<K, S> {
    /// The hot path: `Err` carries the wait in ns, so the result stays in
    /// registers and the rejection is built out of line.
    #[inline]
    fn admit(&self, key: &K, cost: u64, count_rejection: bool) -> Result<(), u64> {
        let engine = &self.engine;
        let tier = self.tier(key);
        if let Some(plain) = engine.begin_plain(tier, cost) {
            return self.store.update(
                key,
                plain.now,
                |tat| match plain.decide(tat) {
                    Ok(new) => Change {
                        state: Some(new),
                        tally: Tally::Admitted,
                        value: Ok(()),
                    },
                    Err(over) => Change {
                        state: None,
                        tally: if count_rejection {
                            Tally::Rejected
                        } else {
                            Tally::Neither
                        },
                        value: Err(engine.plain_wait(cost, over)),
                    },
                },
                self,
            );
        }
        self.admit_general(key, tier, cost, count_rejection)
    }

    /// [`admit`](Self::admit) for windows, warm-up and tiers other than the default.
    #[inline(never)]
    fn admit_general(
        &self,
        key: &K,
        tier: usize,
        cost: u64,
        count_rejection: bool,
    ) -> Result<(), u64> {
        let engine = &self.engine;
        let (params, now) = engine.begin(tier);
        let decided = self.store.update(
            key,
            now,
            |state| match engine.decide(params, state, now, cost) {
                Decision::Admit(new) => Change {
                    state: Some(new),
                    tally: Tally::Admitted,
                    value: Ok(()),
                },
                Decision::Deny(wait) => Change {
                    state: None,
                    tally: if count_rejection {
                        Tally::Rejected
                    } else {
                        Tally::Neither
                    },
                    value: Err(wait),
                },
            },
            self,
        );
        if decided.is_ok() {
            engine.admitted(now);
        }
        decided
    }

    #[cold]
    #[inline(never)]
    fn refuse(&self, key: &K, wait: u64) -> Result<(), RateLimited> {
        Err(self.reject(key, wait))
    }

    #[cold]
    #[inline(never)]
    fn reject(&self, key: &K, wait: u64) -> RateLimited {
        self.rejected(key, self.engine.clock.now());
        self.engine.rejection(wait)
    }
}

impl<K: Key, S> Inner<K, S> {
    #[inline]
    fn tier(&self, key: &K) -> usize {
        match &self.tier_of {
            None => 0,
            Some(tier_of) => tier_of(key),
        }
    }

    #[cold]
    fn rejected(&self, key: &K, now: u64) {
        if let Some(abuse) = &self.abuse {
            abuse.rejected(key, now);
        }
    }
}

impl<K: Key, S> Expiry<K> for Inner<K, S> {
    fn full_at(&self, key: &K, state: u64, now: u64) -> u64 {
        algorithm::full_at(
            self.engine.algorithm,
            self.engine.tiers.params(self.tier(key)),
            state,
            now,
        )
    }
}

impl<K: Key, S: StateStore<K>> Sweep for Inner<K, S> {
    fn sweep(&self) -> usize {
        if self.retired.load(Ordering::Relaxed) {
            return 0;
        }
        if let Some(old) = self.supersedes.as_ref().and_then(std::sync::Weak::upgrade) {
            old.retired.store(true, Ordering::Relaxed);
        }
        let now = self.engine.clock.now();
        if let Some(abuse) = &self.abuse {
            abuse.sweep(now);
        }
        self.store.sweep(now, self)
    }
}

/// A tier chooser by name as one by number: the name's index among the
/// tiers (default first), or 0 for a name no tier has.
fn by_name<K: Key>(chooser: TierNameFn<K>, tiers: &[Name]) -> TierFn<K> {
    let tiers: Box<[Name]> = tiers.into();
    Arc::new(move |key: &K| {
        let name = chooser(key);
        tiers.iter().position(|n| n == name).unwrap_or(0)
    })
}

/// A key of a keyed limiter, as the waiting code sees it.
struct KeySlot<'a, K, S> {
    inner: &'a Inner<K, S>,
    key: &'a K,
}

impl<K: Key, S: StateStore<K>> Slot for KeySlot<'_, K, S> {
    fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    fn tier(&self) -> usize {
        self.inner.tier(self.key)
    }

    fn update<R>(&self, now: u64, decide: impl FnMut(u64) -> Change<R>) -> R {
        self.inner.store.update(self.key, now, decide, self.inner)
    }

    fn give_back(&self, f: impl Fn(u64) -> u64) {
        self.inner.store.give_back(self.key, f);
    }

    fn on_rejected(&self, now: u64) {
        self.inner.rejected(self.key, now);
    }
}

impl<K: Key, S: StateStore<K>> Inspect for KeyedRateLimiter<K, S> {
    type Snapshot = RateLimiterSnapshot;

    fn name(&self) -> &str {
        self.inner.engine.name.as_str()
    }

    fn snapshot(&self) -> RateLimiterSnapshot {
        let inner = &*self.inner;
        let stats = inner.store.stats();
        let (admitted, rejected, waiting) = inner.unkeyed.as_ref().map_or((0, 0, 0), |u| {
            let unkeyed = u.snapshot();
            (unkeyed.admitted, unkeyed.rejected, unkeyed.waiting)
        });
        RateLimiterSnapshot {
            name: inner.engine.name.clone(),
            algorithm: inner.engine.algorithm,
            keys_tracked: stats.tracked,
            admitted: stats.admitted + admitted,
            rejected: stats.rejected + rejected,
            waiting: inner.engine.waiting() + waiting,
            heap_bytes: stats.heap_bytes,
            shadow: inner.engine.shadow(),
        }
    }
}
