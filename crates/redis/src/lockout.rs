//! Brute-force lockout shared by every instance through Redis.

use std::fmt::Display;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use steadfast_core::{
    Classifier, Context, DefaultClassifier, Error, MissingKey, Next, Outcome, Policy, RateLimited,
    classify,
};
use steadfast_ratelimit::{Lockout, LockoutConfig};

use crate::WhenDown;
use crate::connection::Connection;
use crate::limiter::BuildError;
use crate::script::{LOCKOUT, Script};

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

struct Shared<K> {
    config: LockoutConfig,
    prefix: String,
    connection: Connection,
    script: Script,
    guard: crate::limiter::Guard,
    when_down: WhenDown,
    local: Lockout<String>,
    lockouts: AtomicU64,
    rejected: AtomicU64,
    fallback_checks: AtomicU64,
    key: PhantomData<fn(&K)>,
}

impl<K> std::fmt::Debug for Shared<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

/// [`steadfast_ratelimit::Lockout`]'s rules with the record of each key in
/// Redis, so a key locked out on one instance is locked out on all: after
/// `max_failures` within `window`, locked for `lockout`, doubling with each
/// lockout up to `max_lockout`, forgotten `forget_after` a lockout ends (a
/// success forgets at once). Keys are `<prefix>:{<key>}`; a record expires
/// when it no longer matters.
///
/// While Redis cannot answer (a breaker and a timeout around it, as for
/// [`RedisRateLimiter`](crate::RedisRateLimiter)), `when_down` decides:
/// `Local` keeps the record in this instance's memory, `Open` locks
/// nobody out, `Closed` refuses every check.
///
/// As a [`Policy`] (keyed by the call's [`Context`] key, `K`), it refuses a
/// locked-out key and records each call's outcome as `C` classifies it (by
/// default an error is a failure): a login endpoint's pipeline. A success
/// costs a round trip only when the key has a record to forget.
pub struct RedisLockout<K, C = DefaultClassifier> {
    shared: Arc<Shared<K>>,
    classifier: C,
}

impl<K, C: Clone> Clone for RedisLockout<K, C> {
    fn clone(&self) -> Self {
        RedisLockout {
            shared: Arc::clone(&self.shared),
            classifier: self.classifier.clone(),
        }
    }
}

impl<K, C> std::fmt::Debug for RedisLockout<K, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLockout")
            .field("name", &self.shared.config.name)
            .finish_non_exhaustive()
    }
}

impl<K: Display> RedisLockout<K> {
    /// A lockout on the Redis at `url`, its keys under `prefix`. It connects
    /// in the background (as the limiter does); until then, and whenever
    /// Redis cannot answer within `timeout`, `when_down` decides.
    pub fn new(
        url: &str,
        prefix: &str,
        config: LockoutConfig,
        timeout: Duration,
        when_down: WhenDown,
    ) -> Result<Self, BuildError> {
        let local = Lockout::<String>::from_config(config.clone())?;
        if prefix.is_empty() || prefix.contains(['{', '}']) {
            return Err(steadfast_core::ConfigError::new(
                "redis-lockout",
                "prefix",
                "must be non-empty and hold no `{` or `}`",
            )
            .into());
        }
        if timeout.is_zero() {
            return Err(steadfast_core::ConfigError::new(
                "redis-lockout",
                "timeout",
                "must be greater than zero",
            )
            .into());
        }
        let connection = Connection::single(url, timeout).map_err(BuildError::Url)?;
        let (guard, _) = crate::limiter::guard(&config.name, 3, Duration::from_secs(1), timeout)?;
        connection.get();
        Ok(RedisLockout {
            shared: Arc::new(Shared {
                guard,
                prefix: prefix.to_owned(),
                connection,
                script: Script::new(LOCKOUT),
                when_down,
                local,
                lockouts: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
                fallback_checks: AtomicU64::new(0),
                config,
                key: PhantomData,
            }),
            classifier: DefaultClassifier,
        })
    }
}

impl<K: Display, C> RedisLockout<K, C> {
    /// The same lockout, the outcomes of calls through it as a policy
    /// judged by `classifier` (a wrong password an error, a server error
    /// not counted: [`Outcome::Ignore`]).
    pub fn classifier<C2>(self, classifier: C2) -> RedisLockout<K, C2> {
        RedisLockout {
            shared: self.shared,
            classifier,
        }
    }

    /// Waits up to `within` for the connection to Redis.
    pub async fn ready(&self, within: Duration) -> bool {
        self.shared.connection.ready(within).await
    }

    fn redis_key(&self, key: &K) -> String {
        format!("{}:{{{key}}}", self.shared.prefix)
    }

    /// One round trip of `op` (0 a success, 1 a check, 2 a failure):
    /// `(µs left locked, lockout started µs, level)`, or `None` when Redis
    /// cannot answer.
    async fn run(&self, op: u64, key: &str) -> Option<(u64, u64, u64, u64)> {
        let shared = &*self.shared;
        let conn = shared.connection.get()?;
        let c = &shared.config;
        let args = [
            op,
            u64::from(c.max_failures),
            micros(c.window),
            micros(c.lockout),
            micros(c.max_lockout),
            micros(c.forget_after),
        ];
        let (script, key, args) = (&shared.script, key.as_bytes(), &args);
        let answer: Result<(i64, i64, i64, i64), Error<redis::RedisError>> = shared
            .guard
            .call(|| {
                let conn = conn.clone();
                async move { script.run(conn, &[key], args).await }
            })
            .await;
        let positive = |n: i64| u64::try_from(n).unwrap_or(0);
        answer.ok().map(|(left, started, level, failures)| {
            (
                positive(left),
                positive(started),
                positive(level),
                positive(failures),
            )
        })
    }

    /// Rejects `key` while it is locked out, saying when the lockout ends.
    pub async fn check(&self, key: &K) -> Result<(), RateLimited> {
        self.check_record(&self.redis_key(key)).await.map(|_| ())
    }

    /// [`check`](Self::check) of a Redis key; admitted, whether the key has
    /// a record a success should forget (always, when Redis did not answer).
    async fn check_record(&self, redis_key: &String) -> Result<bool, RateLimited> {
        let shared = &*self.shared;
        let (left, recorded) =
            if let Some((left, _, level, failures)) = self.run(1, redis_key).await {
                (left, level > 0 || failures > 0)
            } else {
                shared.fallback_checks.fetch_add(1, Relaxed);
                match shared.when_down {
                    WhenDown::Open => (0, true),
                    WhenDown::Closed => (micros(Duration::from_secs(1)), true),
                    WhenDown::Local { .. } => return shared.local.check(redis_key).map(|()| true),
                }
            };
        if left == 0 {
            return Ok(recorded);
        }
        shared.rejected.fetch_add(1, Relaxed);
        Err(RateLimited::lockout(
            shared.config.name.clone(),
            Duration::from_micros(left),
        ))
    }

    /// Records a failure of `key`; returns the lockout it started, if any.
    pub async fn record_failure(&self, key: &K) -> Option<Duration> {
        let shared = &*self.shared;
        let redis_key = self.redis_key(key);
        match self.run(2, &redis_key).await {
            Some((_, started, level, _)) if started > 0 => {
                shared.lockouts.fetch_add(1, Relaxed);
                let lockout = Duration::from_micros(started);
                tracing::info!(policy = %shared.config.name, ?lockout, level, "key locked out");
                Some(lockout)
            }
            Some(_) => None,
            None => {
                shared.fallback_checks.fetch_add(1, Relaxed);
                match shared.when_down {
                    WhenDown::Local { .. } => shared.local.record_failure(&redis_key),
                    _ => None,
                }
            }
        }
    }

    /// Records a success of `key`: its failures and lockout level are forgotten.
    pub async fn record_success(&self, key: &K) {
        let redis_key = self.redis_key(key);
        if self.run(0, &redis_key).await.is_none() {
            self.shared.local.record_success(&redis_key);
        }
    }
}

impl<T, E, K, C> Policy<T, E> for RedisLockout<K, C>
where
    T: Send,
    E: Send,
    K: Display + Send + Sync + 'static,
    C: Classifier<T, E> + Send + Sync,
{
    // Runs the rest of the call at most once.
    const REPEATS: bool = false;

    // The trait's signature, spelled out: the future must be `Send`.
    #[allow(clippy::manual_async_fn)]
    fn execute<'a, N>(
        &'a self,
        ctx: Context<'a>,
        next: N,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        async move {
            let Some(key) = ctx.key::<K>() else {
                return Err(Error::MissingKey(MissingKey::new::<K>(
                    self.shared.config.name.clone(),
                )));
            };
            let redis_key = self.redis_key(key);
            let recorded = self.check_record(&redis_key).await?;
            let result = next.invoke(ctx).await;
            if matches!(result, Err(ref e) if e.is_rejection()) {
                return result;
            }
            let (outcome, result) = classify(&self.classifier, result);
            match outcome {
                Outcome::Failure => {
                    self.record_failure(key).await;
                }
                Outcome::Success if recorded => self.record_success(key).await,
                Outcome::Success | Outcome::Ignore => {}
            }
            result
        }
    }
}

impl<K, C> RedisLockout<K, C> {
    /// Lockouts started through Redis, refusals made, and checks the
    /// fallback answered.
    pub fn counts(&self) -> (u64, u64, u64) {
        let s = &*self.shared;
        (
            s.lockouts.load(Relaxed),
            s.rejected.load(Relaxed),
            s.fallback_checks.load(Relaxed),
        )
    }
}
