//! Brute-force protection: lock a key out after repeated failures.
//!
//! Record failures per key (a failed login for a user name or an IP):
//! `max_failures` within `window` lock the key for `lockout`; each repeated
//! lockout doubles, up to `max_lockout`; a success resets everything. A
//! locked key is rejected with `Error::RateLimited` whose
//! [`is_lockout`](steadfast_core::RateLimited::is_lockout) is true and whose
//! `retry_after()` is when the lockout ends.
//!
//! Why doubling: a fixed lockout lets an attacker try `max_failures`
//! passwords per `lockout` forever; doubling makes the n-th round cost
//! `2^n` times more, while a user who mistypes twice loses a minute.
//!
//! Use it directly (`check`, `record_failure`, `record_success`, as login
//! handlers do), or as a [`Policy`] around the login call: the call's key
//! comes from [`Context::key`], its result is classified, and a failure is
//! recorded. Rejections by other policies (a timeout) are not failures of
//! the credentials and are not recorded. A call without a key of type `K`
//! is refused with `Error::MissingKey` (a login handler that forgot
//! `with_key` must not run unguarded), and the first one logs a WARN; with
//! [`pass_through_unkeyed`](LockoutBuilder::pass_through_unkeyed) it runs
//! unguarded instead.
//!
//! Events name the lockout, not the key: keys are user names, IPs and
//! emails. [`log_keys`](LockoutBuilder::log_keys) adds the key to the
//! `key locked out` INFO event.

mod config;

use std::fmt;
use std::hash::RandomState;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

pub use config::{LockoutBuilder, LockoutConfig};
use steadfast_core::{
    Classifier, ConfigError, Context, DefaultClassifier, Error, Inspect, MissingKey, Name, Next,
    Outcome, Policy, RateLimited, classify,
};

use crate::builder::Key;
use crate::clock::{Clock, nanos};
use crate::sharded::ShardedMap;
use crate::sweeper::{self, Sweep};

/// Locks keys out after repeated failures; see the [module docs](self).
///
/// ```
/// use std::time::Duration;
/// use steadfast_ratelimit::Lockout;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let lockout = Lockout::<String>::builder()
///     .max_failures(3)
///     .window(Duration::from_secs(600))
///     .lockout(Duration::from_secs(60), Duration::from_secs(3_600))
///     .build()
///     .unwrap();
/// let user = "mallory".to_owned();
/// assert_eq!(lockout.record_failure(&user), None);
/// assert_eq!(lockout.record_failure(&user), None);
/// assert_eq!(lockout.record_failure(&user), Some(Duration::from_secs(60)));
/// let refused = lockout.check(&user).unwrap_err();
/// assert!(refused.is_lockout());
/// assert_eq!(refused.message(), "Too many failed attempts. Try again in 60 s.");
/// # }
/// ```
pub struct Lockout<K, C = DefaultClassifier> {
    inner: Arc<Inner<K>>,
    classifier: C,
}

impl<K, C: Clone> Clone for Lockout<K, C> {
    fn clone(&self) -> Self {
        Lockout {
            inner: Arc::clone(&self.inner),
            classifier: self.classifier.clone(),
        }
    }
}

impl<K, C> fmt::Debug for Lockout<K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lockout")
            .field("name", &self.inner.config.name)
            .finish_non_exhaustive()
    }
}

struct Inner<K> {
    config: LockoutConfig,
    clock: Clock,
    keys: ShardedMap<K, State, RandomState>,
    window: u64,
    first: u64,
    max: u64,
    forget_after: u64,
    lockouts: AtomicU64,
    rejected: AtomicU64,
    warned_unkeyed: AtomicBool,
}

/// A key's failures and lockouts; all zero is "never failed".
#[derive(Clone, Copy, Debug, Default)]
struct State {
    window_start: u64,
    failures: u32,
    /// Lockouts so far (the next lasts `first · 2^level`).
    level: u32,
    locked_until: u64,
}

/// A [`Lockout`]'s keys and counters.
///
/// With the `serde` feature it serializes as an object with stable field
/// names: `name` (a string), then the numbers `keys_tracked`, `lockouts`,
/// `rejected`. A field may be added; none is renamed or removed within a
/// 0.x minor version.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use steadfast_core::Inspect;
/// use steadfast_ratelimit::Lockout;
///
/// let lockout = Lockout::<String>::builder().name("login").build().unwrap();
/// let json = serde_json::to_string(&lockout.snapshot()).unwrap();
/// assert_eq!(json, r#"{"name":"login","keys_tracked":0,"lockouts":0,"rejected":0}"#);
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct LockoutSnapshot {
    /// The lockout's name.
    pub name: Name,
    /// Keys with failures or lockouts on record.
    pub keys_tracked: usize,
    /// Lockouts so far.
    pub lockouts: u64,
    /// Calls rejected because their key was locked out.
    pub rejected: u64,
}

impl<K: Key> Lockout<K> {
    /// A builder with the defaults of [`LockoutConfig`].
    pub fn builder() -> LockoutBuilder<K> {
        LockoutBuilder::new(LockoutConfig::default())
    }

    /// A lockout from a (deserialized) config, validated.
    pub fn from_config(config: LockoutConfig) -> Result<Self, ConfigError> {
        Lockout::from_parts(config, DefaultClassifier)
    }

    /// A builder starting from `config` (a deserialized file), for what only
    /// code can give (a classifier).
    pub fn builder_from(config: LockoutConfig) -> LockoutBuilder<K> {
        LockoutBuilder::new(config)
    }
}

impl<K: Key, C> Lockout<K, C> {
    pub(crate) fn from_parts(config: LockoutConfig, classifier: C) -> Result<Self, ConfigError> {
        config.validate()?;
        let inner = Arc::new(Inner {
            clock: Clock::new(config.time_source),
            keys: ShardedMap::new(RandomState::new(), config.max_keys),
            window: nanos(config.window),
            first: nanos(config.lockout),
            max: nanos(config.max_lockout),
            forget_after: nanos(config.forget_after),
            lockouts: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            warned_unkeyed: AtomicBool::new(false),
            config,
        });
        if let Some(interval) = inner.config.sweep_interval {
            sweeper::spawn(&inner, interval);
        }
        Ok(Lockout { inner, classifier })
    }

    /// Rejects `key` while it is locked out, saying when the lockout ends.
    pub fn check(&self, key: &K) -> Result<(), RateLimited> {
        let inner = &*self.inner;
        let Some(state) = inner.keys.get(key) else {
            return Ok(());
        };
        let now = inner.clock.now();
        if now < state.locked_until {
            inner.rejected.fetch_add(1, Ordering::Relaxed);
            return Err(RateLimited::lockout(
                inner.config.name.clone(),
                Duration::from_nanos(state.locked_until - now),
            ));
        }
        Ok(())
    }

    /// Records a failure of `key`; returns the lockout it started, if any.
    /// Failures while locked out are not counted (the caller should have
    /// been rejected).
    pub fn record_failure(&self, key: &K) -> Option<Duration> {
        let inner = &*self.inner;
        let now = inner.clock.now();
        let max_failures = inner.config.max_failures;
        let locked = inner.keys.update(
            key,
            now,
            |mut s, _| {
                if now < s.locked_until {
                    return (None, None);
                }
                if s.level > 0 && now >= s.locked_until.saturating_add(inner.forget_after) {
                    s.level = 0;
                }
                if s.failures == 0 || now.saturating_sub(s.window_start) >= inner.window {
                    s.window_start = now;
                    s.failures = 0;
                }
                s.failures += 1;
                if s.failures < max_failures {
                    return (Some(s), None);
                }
                let doubling = 1u64.checked_shl(s.level).unwrap_or(u64::MAX);
                let lockout = inner.first.saturating_mul(doubling).min(inner.max);
                s.level = s.level.saturating_add(1);
                s.failures = 0;
                s.locked_until = now.saturating_add(lockout);
                (Some(s), Some((lockout, s.level)))
            },
            |_, s, _| inner.full_at(s),
        );
        let (lockout, level) = locked?;
        inner.lockouts.fetch_add(1, Ordering::Relaxed);
        let lockout = Duration::from_nanos(lockout);
        // The key (a user name, an IP) is named only where the config opts in.
        let key = inner.config.log_keys.then_some(key);
        tracing::info!(
            policy = %inner.config.name,
            key = key.map(tracing::field::debug),
            ?lockout,
            level,
            "key locked out"
        );
        Some(lockout)
    }

    /// Records a success of `key`: its failures and lockout level are forgotten.
    pub fn record_success(&self, key: &K) {
        self.inner.keys.remove(key);
    }

    /// How long `key` stays locked out, if it is.
    pub fn locked_for(&self, key: &K) -> Option<Duration> {
        self.check(key).err().and_then(|r| r.retry_after())
    }

    /// The configuration the lockout was built with.
    pub fn config(&self) -> &LockoutConfig {
        &self.inner.config
    }
}

impl<K> Inner<K> {
    /// When a key's record may be forgotten: its failure window is over and
    /// its last lockout ended `forget_after` ago.
    fn full_at(&self, s: &State) -> u64 {
        let failures = if s.failures > 0 {
            s.window_start.saturating_add(self.window)
        } else {
            0
        };
        let lockout = if s.level > 0 {
            s.locked_until.saturating_add(self.forget_after)
        } else {
            0
        };
        failures.max(lockout)
    }
}

impl<K: Key> Sweep for Inner<K> {
    fn sweep(&self) -> usize {
        let now = self.clock.now();
        self.keys.sweep(now, |_, s, _| self.full_at(s))
    }
}

impl<K: Key, C> Inspect for Lockout<K, C> {
    type Snapshot = LockoutSnapshot;

    fn name(&self) -> &str {
        self.inner.config.name.as_str()
    }

    fn snapshot(&self) -> LockoutSnapshot {
        LockoutSnapshot {
            name: self.inner.config.name.clone(),
            keys_tracked: self.inner.keys.stats().0,
            lockouts: self.inner.lockouts.load(Ordering::Relaxed),
            rejected: self.inner.rejected.load(Ordering::Relaxed),
        }
    }
}

impl<T: Send, E: Send, K: Key, C: Classifier<T, E>> Policy<T, E> for Lockout<K, C> {
    // Runs the rest of the call at most once.
    const REPEATS: bool = false;

    async fn execute<'a, N>(&'a self, ctx: Context<'a>, next: N) -> Result<T, Error<E>>
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        if crate::policy::above_a_background_job(&ctx) {
            return next.invoke(ctx).await;
        }
        let Some(key) = ctx.key::<K>() else {
            let config = &self.inner.config;
            let pass = config.pass_through_unkeyed;
            if !self.inner.warned_unkeyed.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    policy = %config.name,
                    key_type = std::any::type_name::<K>(),
                    "a call carried no key of the lockout's key type; {}",
                    if pass { "it runs unguarded" } else { "it is refused" }
                );
            }
            if pass {
                return next.invoke(ctx).await;
            }
            return Err(MissingKey::new::<K>(config.name.clone()).into());
        };
        self.check(key)?;
        let result = next.invoke(ctx).await;
        if matches!(result, Err(ref e) if e.is_rejection()) {
            return result;
        }
        let (outcome, result) = classify(&self.classifier, result);
        match outcome {
            Outcome::Failure => {
                self.record_failure(key);
            }
            Outcome::Success => self.record_success(key),
            Outcome::Ignore => {}
        }
        result
    }
}
