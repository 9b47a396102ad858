//! Several Redis limits in one decision: one script, all or none.

use std::fmt::Display;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use steadfast_core::{Error, Policy, RateLimited};

use steadfast_ratelimit::KeyedRateLimiter;

use crate::config::WhenDown;
use crate::connection::Conn;
use crate::limiter::{RedisRateLimiter, Shared, Source};

/// One limit of an [`all_of`] decision: a Redis-backed limiter with the
/// call's key ([`RedisRateLimiter::for_key`]).
pub trait SharedLimit: Sync + sealed::Sealed {
    // Sealed: only this crate implements it, and only it can call this.
    #[doc(hidden)]
    #[allow(private_interfaces)]
    fn shared(&self) -> &Shared;
    #[doc(hidden)]
    fn redis_key(&self) -> Vec<u8>;
}

mod sealed {
    pub trait Sealed {}
    impl<K> Sealed for super::RedisLimit<'_, K> {}
}

/// A Redis-backed limiter with one key.
#[derive(Debug)]
pub struct RedisLimit<'a, K> {
    limiter: &'a RedisRateLimiter<K>,
    key: &'a K,
}

impl<K: Display> RedisRateLimiter<K> {
    /// This limiter with `key`, as one limit of an [`all_of`] decision.
    pub fn for_key<'a>(&'a self, key: &'a K) -> RedisLimit<'a, K> {
        RedisLimit { limiter: self, key }
    }
}

impl<K: Display + Sync> SharedLimit for RedisLimit<'_, K> {
    #[allow(private_interfaces)]
    fn shared(&self) -> &Shared {
        self.limiter.shared()
    }

    fn redis_key(&self) -> Vec<u8> {
        self.limiter.redis_key(self.key)
    }
}

/// Units taken from every limit of an [`all_of`] decision.
pub struct RedisReservation<const N: usize> {
    keys: [Vec<u8>; N],
    intervals: [u64; N],
    cost: u32,
    /// Where the decision was made.
    pub source: Source,
    /// The connection that made it on Redis, for the refund.
    refund_with: Option<Conn>,
    /// The local limiters (and keys) that made it while Redis could not.
    refund_locally: Vec<(KeyedRateLimiter<Vec<u8>>, Vec<u8>)>,
}

/// Takes `cost` units from every one of `limits` in one round trip, or
/// from none (`all_of.lua`: atomic, on Redis's clock). A refusal's
/// `retry_after` is the longest wait among the refusing limits, read
/// without consuming, and names that limit.
///
/// The limits must count with GCRA (a window limit refuses the call,
/// with an ERROR event), be on one Redis (the first limit's connection, breaker
/// and timeout carry the call) and, on a cluster, in one slot: their keys
/// must share a hash tag (`<prefix>:{<key>}`: the same key in every limit).
/// While Redis cannot answer, each limit's `when_down` answers: any
/// `Closed` refuses; the `Local` ones decide together in memory (all or
/// none, as `steadfast_ratelimit::all_of`); `Open` ones admit.
pub async fn all_of<const N: usize>(
    limits: [&dyn SharedLimit; N],
    cost: u32,
) -> Result<RedisReservation<N>, RateLimited> {
    let keys: [Vec<u8>; N] = std::array::from_fn(|i| limits[i].redis_key());
    let intervals: [u64; N] = std::array::from_fn(|i| limits[i].shared().interval_us);
    let name = |i: usize| limits[i].shared().config.name.clone();
    for (i, limit) in limits.iter().enumerate() {
        let config = &limit.shared().config;
        if config.algorithm != steadfast_ratelimit::Algorithm::Gcra {
            tracing::error!(
                policy = %config.name,
                "all_of takes GCRA limits only; a window limit refuses the call"
            );
            return Err(RateLimited::never(name(i)));
        }
        if cost > config.quota.burst_size() {
            return Err(RateLimited::never(name(i)));
        }
    }
    let Some(first) = limits.first() else {
        return Ok(RedisReservation {
            keys,
            intervals,
            cost,
            source: Source::Redis,
            refund_with: None,
            refund_locally: Vec::new(),
        });
    };
    let first = first.shared();
    let mut args = vec![u64::from(cost)];
    for limit in &limits {
        args.push(limit.shared().interval_us);
        args.push(u64::from(limit.shared().config.quota.burst_size()));
    }
    let answer: Result<(u8, i64, i64), Option<Error<redis::RedisError>>> =
        match first.connection.get() {
            Some(_) if first.guard_open() => Err(None),
            Some(conn) => {
                let key_refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
                let (script, args) = (&first.all_of, &args);
                first
                    .guard
                    .call(|| {
                        let conn = conn.clone();
                        let key_refs = &key_refs;
                        async move { script.run(conn, key_refs, args).await }
                    })
                    .await
                    .map_err(Some)
            }
            None => Err(None),
        };
    match answer {
        Ok((1, _, _)) => {
            for limit in &limits {
                limit.shared().counters.admitted.fetch_add(1, Relaxed);
            }
            Ok(RedisReservation {
                keys,
                intervals,
                cost,
                source: Source::Redis,
                refund_with: first.connection.get(),
                refund_locally: Vec::new(),
            })
        }
        Ok((_, wait, index)) => {
            let i = usize::try_from(index - 1).unwrap_or(0).min(N - 1);
            limits[i].shared().counters.rejected.fetch_add(1, Relaxed);
            let wait = Duration::from_micros(u64::try_from(wait).unwrap_or(0));
            Err(RateLimited::new(name(i), wait))
        }
        Err(_) => fallback(&limits, keys, intervals, cost),
    }
}

/// The decision while Redis cannot answer, by each limit's `when_down`.
#[cold]
fn fallback<const N: usize>(
    limits: &[&dyn SharedLimit; N],
    keys: [Vec<u8>; N],
    intervals: [u64; N],
    cost: u32,
) -> Result<RedisReservation<N>, RateLimited> {
    let closed = limits
        .iter()
        .find(|l| l.shared().config.when_down == WhenDown::Closed);
    if let Some(limit) = closed {
        let shared = limit.shared();
        return Err(RateLimited::new(
            shared.config.name.clone(),
            shared.config.breaker_open,
        ));
    }
    // The local ones together, all or none, as in memory.
    let local: Vec<(KeyedRateLimiter<Vec<u8>>, Vec<u8>)> = limits
        .iter()
        .zip(&keys)
        .filter_map(|(l, key)| l.shared().local.clone().map(|local| (local, key.clone())))
        .collect();
    let parts: Vec<_> = local
        .iter()
        .map(|(limiter, key)| limiter.for_key(key))
        .collect();
    let dyn_parts: Vec<&dyn steadfast_ratelimit::Limit> = parts
        .iter()
        .map(|p| p as &dyn steadfast_ratelimit::Limit)
        .collect();
    steadfast_ratelimit::take_all(&dyn_parts, cost)?;
    drop(dyn_parts);
    drop(parts);
    Ok(RedisReservation {
        keys,
        intervals,
        cost,
        source: Source::Local,
        refund_with: None,
        refund_locally: local,
    })
}

impl<const N: usize> std::fmt::Debug for RedisReservation<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisReservation")
            .field("limits", &N)
            .field("cost", &self.cost)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl<const N: usize> RedisReservation<N> {
    /// Gives the units back to every limit: in memory for a reservation
    /// the local fallbacks made, in one round trip for one Redis made (an
    /// error is returned, not retried).
    pub async fn refund(self) -> Result<(), redis::RedisError> {
        for (limiter, key) in &self.refund_locally {
            limiter.refund(key, self.cost);
        }
        let Some(conn) = self.refund_with else {
            return Ok(());
        };
        let script = crate::script::Script::new(crate::script::REFUND);
        let keys: Vec<&[u8]> = self.keys.iter().map(Vec::as_slice).collect();
        let mut args = vec![u64::from(self.cost)];
        args.extend(self.intervals);
        let _: i64 = script.run(conn, &keys, &args).await?;
        Ok(())
    }
}
