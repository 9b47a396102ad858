//! Several limits in one decision: all reserve, or none does.

use std::fmt;
use std::time::Duration;

use steadfast_core::{Name, RateLimited};

use crate::algorithm::{self, Decision};
use crate::builder::Key;
use crate::store::StateStore;
use crate::{KeyedRateLimiter, RateLimiter};

/// One limit of an [`all_of`] decision: a [`RateLimiter`], or a
/// [`KeyedRateLimiter`] with the call's key ([`KeyedRateLimiter::for_key`]).
pub trait Limit: Sync + sealed::Sealed {
    /// Takes `cost` units now, or says how many ns until it could.
    #[doc(hidden)]
    fn take(&self, cost: u32) -> Result<(), u64>;
    /// Gives back `cost` units taken and not used.
    #[doc(hidden)]
    fn give_back(&self, cost: u32);
    /// Ns until `cost` units could be taken, consuming nothing
    /// (`None` when they could now; `u64::MAX` when they never can).
    #[doc(hidden)]
    fn wait_for(&self, cost: u32) -> Option<u64>;
    /// The limiter's name.
    #[doc(hidden)]
    fn limit_name(&self) -> &Name;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::RateLimiter {}
    impl<K, S> Sealed for super::KeyedLimit<'_, K, S> {}
}

/// A keyed limiter with one key, as one limit of an [`all_of`] decision.
pub struct KeyedLimit<'a, K, S> {
    limiter: &'a KeyedRateLimiter<K, S>,
    key: &'a K,
}

impl<K, S> fmt::Debug for KeyedLimit<'_, K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedLimit").finish_non_exhaustive()
    }
}

impl<K: Key, S: StateStore<K>> KeyedRateLimiter<K, S> {
    /// This limiter with `key`, as one limit of an [`all_of`] decision.
    pub fn for_key<'a>(&'a self, key: &'a K) -> KeyedLimit<'a, K, S> {
        KeyedLimit { limiter: self, key }
    }
}

impl<K: Key, S: StateStore<K>> Limit for KeyedLimit<'_, K, S> {
    fn take(&self, cost: u32) -> Result<(), u64> {
        self.limiter.try_admit(self.key, cost, true)
    }

    fn give_back(&self, cost: u32) {
        self.limiter.refund(self.key, cost);
    }

    fn wait_for(&self, cost: u32) -> Option<u64> {
        let engine = self.limiter.engine();
        let (params, now) = engine.begin(self.limiter.tier_index(self.key));
        let state = self.limiter.state_word(self.key);
        match algorithm::decide(engine.algorithm, params, state, now, u64::from(cost)) {
            Decision::Admit(_) => None,
            Decision::Deny(wait) => Some(wait),
        }
    }

    fn limit_name(&self) -> &Name {
        &self.limiter.engine().name
    }
}

impl Limit for RateLimiter {
    fn take(&self, cost: u32) -> Result<(), u64> {
        self.try_admit(cost)
    }

    fn give_back(&self, cost: u32) {
        self.refund(cost);
    }

    fn wait_for(&self, cost: u32) -> Option<u64> {
        let engine = self.engine();
        let (params, now) = engine.begin(0);
        match algorithm::decide(
            engine.algorithm,
            params,
            self.state_word(),
            now,
            u64::from(cost),
        ) {
            Decision::Admit(_) => None,
            Decision::Deny(wait) => Some(wait),
        }
    }

    fn limit_name(&self) -> &Name {
        &self.engine().name
    }
}

/// Units taken from every limit of an [`all_of`] decision.
///
/// Dropping it keeps them spent; [`refund`](Self::refund) gives them back
/// to every limit (a failed login that should not count, a request
/// cancelled before any work).
pub struct Reservation<'a, const N: usize> {
    limits: [&'a dyn Limit; N],
    cost: u32,
}

impl<const N: usize> fmt::Debug for Reservation<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("limits", &N)
            .field("cost", &self.cost)
            .finish()
    }
}

impl<const N: usize> Reservation<'_, N> {
    /// Gives the units back to every limit.
    pub fn refund(self) {
        for limit in self.limits {
            limit.give_back(self.cost);
        }
    }
}

/// Takes `cost` units from every one of `limits`, or from none.
///
/// The limits are tried in order; when one refuses, the units already taken
/// from those before it are given back, so a refusal consumes nothing. The
/// refusal's `retry_after` is the longest wait among all the limits that
/// cannot admit `cost` now, each read without consuming, and names that
/// limit. Between a take and its give-back another call may find a limit a
/// little emptier than it ends up: it is refused, never over-admitted.
///
/// ```
/// use steadfast_ratelimit::{KeyedRateLimiter, Quota, RateLimiter, all_of};
///
/// let per_user = KeyedRateLimiter::<&str>::new(Quota::per_minute(10)).unwrap();
/// let global = RateLimiter::new(Quota::per_minute(2)).unwrap();
/// let (alice, bob, carol) = (per_user.for_key(&"alice"), per_user.for_key(&"bob"), per_user.for_key(&"carol"));
///
/// all_of([&alice, &global], 1).unwrap();
/// let login = all_of([&bob, &global], 1).unwrap();
/// // The global limit is spent: Carol is refused, and her own limit keeps its unit.
/// assert!(all_of([&carol, &global], 1).is_err());
/// assert_eq!(per_user.peek(&"carol").remaining, 10);
/// // Bob's login failed in a way that should not count.
/// login.refund();
/// all_of([&carol, &global], 1).unwrap();
/// ```
pub fn all_of<const N: usize>(
    limits: [&dyn Limit; N],
    cost: u32,
) -> Result<Reservation<'_, N>, RateLimited> {
    take_all(&limits, cost)?;
    Ok(Reservation { limits, cost })
}

/// [`all_of`] for limits counted only at run time: takes `cost` from every
/// one of `limits`, or from none, with the same refusal. There is no
/// reservation to refund: each limit's own `refund` gives its units back.
pub fn take_all(limits: &[&dyn Limit], cost: u32) -> Result<(), RateLimited> {
    for (i, limit) in limits.iter().enumerate() {
        if let Err(wait) = limit.take(cost) {
            for taken in &limits[..i] {
                taken.give_back(cost);
            }
            return Err(refusal(limits, cost, limit.limit_name(), wait));
        }
    }
    Ok(())
}

/// The longest wait among the limits that cannot admit `cost` now.
#[cold]
fn refusal(limits: &[&dyn Limit], cost: u32, first: &Name, wait: u64) -> RateLimited {
    let mut longest = (wait, first);
    for limit in limits {
        if let Some(w) = limit.wait_for(cost)
            && w > longest.0
        {
            longest = (w, limit.limit_name());
        }
    }
    match longest.0 {
        algorithm::NEVER => RateLimited::never(longest.1.clone()),
        wait => RateLimited::new(longest.1.clone(), Duration::from_nanos(wait)),
    }
}
