//! The Redis-backed limiter.

use std::fmt::Display;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use steadfast_breaker::{Breaker, BreakerConfig, OpenDuration};
use steadfast_core::{
    ConfigError, Context, Error, Inspect, MissingKey, Next, Pipeline, Policy, RateLimited, Timeout,
    time,
};
use steadfast_ratelimit::{Algorithm, KeyedRateLimiter};

use crate::config::{RedisLimiterConfig, WhenDown};
use crate::connection::{Conn, Connection};
use crate::refusals::Refusals;
use crate::script::{Answer, Script};
use crate::snapshot::RedisLimiterSnapshot;

/// Where an admitted call's decision came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// Redis: the quota every instance shares.
    Redis,
    /// This instance's share of the quota, while Redis is down ([`WhenDown::Local`]).
    Local,
    /// Nothing: Redis is down and the limiter fails open ([`WhenDown::Open`]).
    FailedOpen,
}

/// An admitted call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Admitted {
    /// Where the decision came from.
    pub source: Source,
    /// Units left in the key's burst, as the deciding side counts them.
    pub remaining: u64,
}

/// Why a limiter could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A config field was rejected.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The Redis URL is malformed (an unreachable server is not an error:
    /// the limiter starts on its `when_down` mode and connects when it can).
    #[error("invalid Redis URL: {0}")]
    Url(#[source] redis::RedisError),
}

/// A breaker and a timeout around every round trip to Redis.
pub(crate) type Guard = Pipeline<steadfast_core::Then<Breaker, steadfast_core::Last<Timeout>>>;

/// The guard around Redis for the policy `name`, and its breaker (a clone:
/// the same state, for a cheap look at whether it is open). Redis refusing
/// a key is an answer, not a failure: only errors and timeouts reach the
/// breaker.
pub(crate) fn guard(
    name: &steadfast_core::Name,
    failures: u32,
    open: Duration,
    timeout: Duration,
) -> Result<(Guard, Breaker), ConfigError> {
    let breaker = Breaker::builder_from(BreakerConfig::empty())
        .name(format!("{name}-redis"))
        .consecutive_failures(failures)
        .open_duration(OpenDuration::fixed(open))
        .build()?;
    Ok((
        Pipeline::new(breaker.clone()).then(Timeout::new(timeout)?),
        breaker,
    ))
}

pub(crate) struct Shared {
    pub(crate) config: RedisLimiterConfig,
    pub(crate) interval_us: u64,
    pub(crate) connection: Connection,
    script: Script,
    /// Several checks at once (`gcra_batch.lua`).
    pub(crate) batch_script: Script,
    /// Checks waiting for the round trip in flight.
    pub(crate) batcher: crate::batch::Batcher,
    /// The several-limits script (`all_of.lua`), sent through this limiter
    /// when it is the first of an `all_of`.
    pub(crate) all_of: Script,
    pub(crate) guard: Guard,
    /// The breaker inside `guard` (a clone: the same state).
    breaker: Breaker,
    pub(crate) local: Option<KeyedRateLimiter<Vec<u8>>>,
    refusals: Refusals,
    on_fallback: AtomicBool,
    pub(crate) counters: Counters,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) admitted: AtomicU64,
    pub(crate) rejected: AtomicU64,
    local_refusals: AtomicU64,
    round_trips: AtomicU64,
    pub(crate) batched: AtomicU64,
    redis_errors: AtomicU64,
    fallback_checks: AtomicU64,
}

/// A keyed GCRA rate limit every instance shares through Redis; see the
/// [crate docs](crate).
///
/// `K` is the key's type as calls carry it in their [`Context`] (a user
/// id, an IP): it is written into the Redis key with `Display`. Clones
/// share the connection, the counters and the fallback.
pub struct RedisRateLimiter<K> {
    shared: Arc<Shared>,
    key: PhantomData<fn(&K)>,
}

impl<K> Clone for RedisRateLimiter<K> {
    fn clone(&self) -> Self {
        RedisRateLimiter {
            shared: Arc::clone(&self.shared),
            key: PhantomData,
        }
    }
}

impl<K> std::fmt::Debug for RedisRateLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("name", &self.shared.config.name)
            .field("on_fallback", &self.shared.on_fallback.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl<K: Display> RedisRateLimiter<K> {
    /// A limiter on the Redis server at `url` (`redis://127.0.0.1:6379`).
    ///
    /// It connects in the background: until it has, and whenever Redis
    /// cannot answer within the timeout, checks are answered by
    /// `config.when_down`. Call [`ready`](Self::ready) to wait for the
    /// connection at start-up. Must be made inside a tokio runtime.
    pub fn new(url: &str, config: RedisLimiterConfig) -> Result<Self, BuildError> {
        config.validate()?;
        let connection = Connection::single(url, config.timeout).map_err(BuildError::Url)?;
        Self::with_connection(connection, config)
    }

    /// A limiter on the Redis Cluster reachable at any of `nodes`
    /// (`redis://127.0.0.1:7000`, …). Each check goes to the node holding
    /// its key's slot; the key's hash tag keeps everything one key needs in
    /// that slot. Otherwise as [`new`](Self::new).
    pub fn cluster(nodes: &[&str], config: RedisLimiterConfig) -> Result<Self, BuildError> {
        config.validate()?;
        let connection = Connection::cluster(nodes, config.timeout).map_err(BuildError::Url)?;
        Self::with_connection(connection, config)
    }

    fn with_connection(
        connection: Connection,
        config: RedisLimiterConfig,
    ) -> Result<Self, BuildError> {
        let (guard, breaker) = guard(
            &config.name,
            config.breaker_failures,
            config.breaker_open,
            config.timeout,
        )?;
        let local = match config.when_down {
            WhenDown::Local { instances } => {
                let mut local =
                    steadfast_ratelimit::RateLimiterConfig::new(config.local_quota(instances));
                local.name = config.name.clone();
                Some(KeyedRateLimiter::from_config(local)?)
            }
            _ => None,
        };
        connection.get();
        let script = match config.algorithm {
            Algorithm::Gcra => crate::script::GCRA,
            _ => crate::script::WINDOW,
        };
        Ok(RedisRateLimiter {
            shared: Arc::new(Shared {
                interval_us: config.interval_us(),
                config,
                connection,
                script: Script::new(script),
                batch_script: Script::new(crate::script::GCRA_BATCH),
                batcher: crate::batch::Batcher::default(),
                all_of: Script::new(crate::script::ALL_OF),
                guard,
                breaker,
                local,
                refusals: Refusals::default(),
                on_fallback: AtomicBool::new(false),
                counters: Counters::default(),
            }),
            key: PhantomData,
        })
    }

    /// Waits up to `within` for the connection to Redis; `false` if it
    /// was not made in time (the limiter works anyway, on `when_down`).
    pub async fn ready(&self, within: Duration) -> bool {
        self.shared.connection.ready(within).await
    }

    /// The configuration.
    pub fn config(&self) -> &RedisLimiterConfig {
        &self.shared.config
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The Redis key of `key`: `<prefix>:{<key>}`, the key as the hash tag
    /// so everything one key needs is in one slot of a cluster.
    pub fn redis_key(&self, key: &K) -> Vec<u8> {
        format!("{}:{{{key}}}", self.shared.config.prefix).into_bytes()
    }

    /// Admits `cost` units for `key`, or says when they could be.
    pub async fn check_n(&self, key: &K, cost: u32) -> Result<Admitted, RateLimited> {
        let shared = &*self.shared;
        let name = &shared.config.name;
        if cost > shared.config.most() {
            shared.counters.rejected.fetch_add(1, Relaxed);
            return Err(RateLimited::never(name.clone()));
        }
        let redis_key = self.redis_key(key);
        // An open breaker around Redis: straight to the fallback, before
        // anything that is about Redis's answers.
        if shared.guard_open() {
            return self.fallback(&redis_key, cost, None);
        }
        let now = time::now();
        if shared.config.local_refusals
            && let Some(until) = shared.refusals.refused_until(&redis_key, now)
        {
            shared.counters.local_refusals.fetch_add(1, Relaxed);
            shared.counters.rejected.fetch_add(1, Relaxed);
            return Err(RateLimited::new(name.clone(), until - now));
        }
        let answer = match shared.connection.get() {
            Some(conn) if shared.batches(&conn) => {
                crate::batch::check(&self.shared, conn, &redis_key, cost).await
            }
            Some(conn) => shared.single(conn, &redis_key, cost).await,
            None => Err(None),
        };
        match answer {
            Ok(answer) => {
                self.left_fallback();
                if answer.admitted {
                    shared.counters.admitted.fetch_add(1, Relaxed);
                    Ok(Admitted {
                        source: Source::Redis,
                        remaining: answer.remaining,
                    })
                } else {
                    shared.counters.rejected.fetch_add(1, Relaxed);
                    if shared.config.local_refusals
                        && let Some(until) = now.checked_add(Duration::from_micros(answer.one_us))
                    {
                        shared.refusals.refuse(&redis_key, until, now);
                    }
                    Err(RateLimited::new(
                        name.clone(),
                        Duration::from_micros(answer.wait_us),
                    ))
                }
            }
            Err(err) => self.fallback(&redis_key, cost, err.as_deref()),
        }
    }

    /// Answers a check Redis could not, as `when_down` says.
    #[cold]
    #[allow(clippy::ptr_arg)] // the local limiter's keys are `Vec<u8>`
    fn fallback(
        &self,
        redis_key: &Vec<u8>,
        cost: u32,
        err: Option<&str>,
    ) -> Result<Admitted, RateLimited> {
        let shared = &*self.shared;
        shared.counters.fallback_checks.fetch_add(1, Relaxed);
        if !shared.on_fallback.load(Relaxed) && !shared.on_fallback.swap(true, Relaxed) {
            let error = err.unwrap_or("not connected");
            tracing::warn!(
                policy = %shared.config.name,
                error,
                mode = ?shared.config.when_down,
                "Redis cannot answer; rate limiting on the fallback"
            );
        }
        let name = &shared.config.name;
        let result = match (&shared.config.when_down, &shared.local) {
            (WhenDown::Open, _) => Ok(Admitted {
                source: Source::FailedOpen,
                remaining: 0,
            }),
            (WhenDown::Local { .. }, Some(local)) => {
                local.check_n(redis_key, cost).map(|()| Admitted {
                    source: Source::Local,
                    remaining: local.peek(redis_key).remaining,
                })
            }
            _ => Err(RateLimited::new(name.clone(), shared.config.breaker_open)),
        };
        let counter = if result.is_ok() {
            &shared.counters.admitted
        } else {
            &shared.counters.rejected
        };
        counter.fetch_add(1, Relaxed);
        result
    }

    fn left_fallback(&self) {
        let shared = &*self.shared;
        if shared.on_fallback.load(Relaxed) && shared.on_fallback.swap(false, Relaxed) {
            tracing::info!(policy = %shared.config.name, "Redis answers again; rate limiting on Redis");
        }
    }
}

impl Shared {
    /// Whether checks on `conn` queue into batches while one is in flight:
    /// GCRA on one server, with `batch` on (a cluster's keys are in many
    /// slots; one script call must keep to one).
    fn batches(&self, conn: &Conn) -> bool {
        self.config.batch
            && self.config.algorithm == Algorithm::Gcra
            && matches!(conn, Conn::Single(_))
    }

    /// One check of `key` as its own script call, through the guard.
    pub(crate) async fn single(
        &self,
        conn: Conn,
        key: &[u8],
        cost: u32,
    ) -> Result<Answer, crate::batch::Failure> {
        let (script, args) = (&self.script, &self.script_args(cost));
        let answer = self
            .guard
            .call(|| {
                let conn = conn.clone();
                async move { script.check(conn, key, args).await }
            })
            .await;
        self.count_round_trip(answer.as_ref().err());
        answer.map_err(|err| match err {
            Error::CircuitOpen(_) => None,
            err => Some(Arc::from(err.to_string())),
        })
    }

    /// Counts a round trip that was made (answered, failed or timed out;
    /// not one the open breaker refused).
    pub(crate) fn count_round_trip(&self, err: Option<&Error<redis::RedisError>>) {
        match err {
            None => {
                self.counters.round_trips.fetch_add(1, Relaxed);
            }
            Some(Error::Inner(_) | Error::Timeout(_)) => {
                self.counters.round_trips.fetch_add(1, Relaxed);
                self.counters.redis_errors.fetch_add(1, Relaxed);
            }
            Some(_) => {}
        }
    }

    /// The script's arguments for a call of `cost`.
    fn script_args(&self, cost: u32) -> [u64; 4] {
        let config = &self.config;
        match config.algorithm {
            Algorithm::Gcra => [
                self.interval_us,
                u64::from(config.quota.burst_size()),
                u64::from(cost),
                0,
            ],
            algorithm => [
                config.window_us(),
                u64::from(config.quota.limit()),
                u64::from(cost),
                u64::from(algorithm == Algorithm::SlidingWindow),
            ],
        }
    }

    /// Whether the breaker around Redis refuses calls now.
    pub(crate) fn guard_open(&self) -> bool {
        self.breaker.is_refusing()
    }
}

impl<K> Inspect for RedisRateLimiter<K> {
    type Snapshot = RedisLimiterSnapshot;

    fn name(&self) -> &str {
        self.shared.config.name.as_str()
    }

    fn snapshot(&self) -> RedisLimiterSnapshot {
        let c = &self.shared.counters;
        RedisLimiterSnapshot {
            name: self.shared.config.name.clone(),
            admitted: c.admitted.load(Relaxed),
            rejected: c.rejected.load(Relaxed),
            local_refusals: c.local_refusals.load(Relaxed),
            round_trips: c.round_trips.load(Relaxed),
            batched: c.batched.load(Relaxed),
            redis_errors: c.redis_errors.load(Relaxed),
            script_reloads: self.shared.script.reloads.load(Relaxed)
                + self.shared.batch_script.reloads.load(Relaxed),
            fallback_active: self.shared.on_fallback.load(Relaxed),
            fallback_checks: c.fallback_checks.load(Relaxed),
        }
    }
}

impl<T, E, K> Policy<T, E> for RedisRateLimiter<K>
where
    T: Send,
    E: Send,
    K: Display + Send + Sync + 'static,
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
            match self.check_n(key, ctx.cost()).await {
                Ok(_) => next.invoke(ctx).await,
                Err(refused) if self.shared.config.shadow => {
                    tracing::debug!(
                        policy = %refused.policy_name(),
                        "shadow mode: a call the limit would refuse runs"
                    );
                    next.invoke(ctx).await
                }
                Err(refused) => Err(Error::RateLimited(refused)),
            }
        }
    }
}
