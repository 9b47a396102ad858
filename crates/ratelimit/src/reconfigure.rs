//! New quotas for a running limiter, keeping what it has counted.
//!
//! A limiter's state words are times on its clock's scale (a GCRA key's
//! theoretical arrival time) or counts in its windows; a limiter made from
//! a new config with the old clock and the old store reads them under the
//! new quotas. What the words mean cannot change: the algorithm, the clock
//! source, and (for keyed limiters) the tiers' names, which `tier_of`
//! indexes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use steadfast_core::ConfigError;

use crate::abuse::Abuse;
use crate::config::RateLimiterConfig;
use crate::engine::Engine;
use crate::keyed::{Inner as KeyedInner, KeyedRateLimiter};
use crate::store::StateStore;
use crate::{Key, RateLimiter, sweeper};

fn fixed(field: &'static str) -> ConfigError {
    ConfigError::new(
        "ratelimit",
        field,
        "cannot change on a running limiter (its state would lose its meaning); build a new limiter for that",
    )
}

/// What must stay as it was for `old`'s state to mean the same under `new`.
fn check_fits(old: &RateLimiterConfig, new: &RateLimiterConfig) -> Result<(), ConfigError> {
    if new.name != old.name {
        return Err(fixed("name").with_value(new.name.as_str()));
    }
    if new.algorithm != old.algorithm {
        return Err(fixed("algorithm").with_value(new.algorithm));
    }
    if new.time_source != old.time_source {
        return Err(fixed("time_source").with_value(new.time_source));
    }
    Ok(())
}

impl RateLimiter {
    /// A limiter with `config`'s quota that carries on from this one: the
    /// same clock and, copied at this instant, the same state word and
    /// counters, so a bucket this one emptied is still empty. Hand the new
    /// limiter to new calls in place of this one (a reloaded pipeline does).
    ///
    /// The copy is taken once: a call this limiter admits after it (one
    /// that started before the swap) is not seen by the new one. A keyed
    /// limiter with a shared store
    /// ([`KeyedRateLimiter::reconfigured`]) has no such gap.
    ///
    /// The name, the algorithm and the time source cannot change: a config
    /// changing one, or an invalid one, is refused with a [`ConfigError`]
    /// naming the field.
    ///
    /// ```
    /// use steadfast_ratelimit::{Quota, RateLimiter, RateLimiterConfig};
    ///
    /// let limiter = RateLimiter::new(Quota::per_second(10).burst(2)).unwrap();
    /// assert!(limiter.check().is_ok());
    /// assert!(limiter.check().is_ok());
    /// let mut config = limiter.config().clone();
    /// config.quota = Quota::per_second(10).burst(3);
    /// let bigger = limiter.reconfigured(config).unwrap();
    /// // The two units spent are still spent: one of the three is left.
    /// assert!(bigger.check().is_ok());
    /// assert!(bigger.check().is_err());
    /// ```
    pub fn reconfigured(&self, config: RateLimiterConfig) -> Result<RateLimiter, ConfigError> {
        config.validate_direct()?;
        let old = self.inner();
        check_fits(&old.engine.config, &config)?;
        let engine = Engine::with_clock(config, old.engine.clock.clone());
        Ok(RateLimiter::from_engine(engine, old.cell_words()))
    }
}

impl<K: Key, S: StateStore<K> + Clone> KeyedRateLimiter<K, S> {
    /// A limiter with `config`'s quotas and tiers that shares this one's
    /// keys: the same store (a clone of `S`, which must share its state:
    /// `Arc<MemoryStore<K>>` does) and the same clock, so every key keeps
    /// what it has spent, whichever of the two limiters a call goes
    /// through. Hand the new limiter to new calls in place of this one (a
    /// reloaded pipeline does); calls already inside this one finish in it.
    ///
    /// A key's state is kept as it is, not converted: under GCRA it is the
    /// time the units it spent are paid off, so a key that emptied its
    /// bucket under the old quota waits that time out (its `retry_after`
    /// says how long), then runs under the new one.
    ///
    /// Kept as well: the tier chooser, and the abuse counts and the shared
    /// bucket of keyless calls while their settings are unchanged (new
    /// settings start them afresh).
    ///
    /// The name, the algorithm, the time source and the tiers' names (in
    /// order) cannot change, nor `max_keys` (the store is built): a config
    /// changing one, or an invalid one, is refused with a [`ConfigError`]
    /// naming the field.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use steadfast_ratelimit::{KeyedRateLimiter, MemoryStore, Quota, RateLimiterConfig};
    ///
    /// let quota = Quota::per_minute(60).burst(2);
    /// let limiter = KeyedRateLimiter::builder(quota)
    ///     .store(Arc::new(MemoryStore::<String>::new()))
    ///     .build_with_store()
    ///     .unwrap();
    /// let alice = "alice".to_owned();
    /// assert!(limiter.check(&alice).is_ok());
    /// assert!(limiter.check(&alice).is_ok());
    /// assert!(limiter.check(&alice).is_err());
    ///
    /// let mut config = limiter.config().clone();
    /// config.quota = Quota::per_minute(60).burst(3);
    /// let bigger = limiter.reconfigured(config).unwrap();
    /// assert!(bigger.check(&alice).is_ok()); // the third unit of the new burst
    /// assert!(bigger.check(&alice).is_err());
    /// ```
    pub fn reconfigured(&self, config: RateLimiterConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let old = self.inner();
        let before = &old.engine.config;
        check_fits(before, &config)?;
        if config.max_keys != before.max_keys {
            return Err(fixed("max_keys"));
        }
        let names =
            |c: &RateLimiterConfig| c.tiers.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        if names(&config) != names(before) {
            return Err(fixed("tiers").with_value(names(&config)));
        }
        let abuse = match (&config.abuse, &old.abuse) {
            (Some(new), Some(kept))
                if before.abuse.as_ref() == Some(new) && config.log_keys == before.log_keys =>
            {
                Some(Arc::clone(kept))
            }
            (Some(new), kept) => Some(Arc::new(Abuse::new(
                new,
                kept.as_ref().and_then(|a| a.hook()),
                config.name.clone(),
                config.log_keys,
            ))),
            (None, _) => None,
        };
        let unkeyed = if config.share_unkeyed {
            let direct = config.unkeyed_bucket();
            Some(match &old.unkeyed {
                Some(kept) => kept.reconfigured(direct)?,
                None => RateLimiter::from_config(direct)?,
            })
        } else {
            None
        };
        let sweep_interval = config.sweep_interval;
        let inner = Arc::new(KeyedInner {
            engine: Engine::with_clock(config, old.engine.clock.clone()),
            store: old.store.clone(),
            tier_of: old.tier_of.clone(),
            abuse,
            unkeyed,
            warned_unkeyed: AtomicBool::new(old.warned_unkeyed.load(Ordering::Relaxed)),
            retired: AtomicBool::new(false),
            supersedes: Some(Arc::downgrade(self.inner_arc())),
        });
        if let Some(interval) = sweep_interval {
            sweeper::spawn(&inner, interval);
        }
        Ok(KeyedRateLimiter::from_inner(inner))
    }
}

/// A direct limiter's state word and counters, copied.
#[derive(Clone, Copy)]
pub(crate) struct CellWords {
    pub(crate) word: u64,
    pub(crate) admitted: u64,
    pub(crate) rejected: u64,
}

impl CellWords {
    /// Reads the direct limiter's cell (whose atomics are loom's in the
    /// loom models, see `crate::sync`).
    pub(crate) fn read(
        word: &crate::sync::AtomicU64,
        admitted: &crate::sync::AtomicU64,
        rejected: &crate::sync::AtomicU64,
    ) -> Self {
        CellWords {
            word: word.load(Ordering::Acquire),
            admitted: admitted.load(Ordering::Relaxed),
            rejected: rejected.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use crate::sweeper::Sweep;
    use crate::{KeyedRateLimiter, MemoryStore, Quota};

    #[test]
    fn the_replaced_limiter_stops_sweeping_once_its_replacement_sweeps() {
        let old = KeyedRateLimiter::<u32, _>::builder(Quota::per_second(5))
            .store(Arc::new(MemoryStore::new()))
            .build_with_store()
            .unwrap();
        let mut config = old.config().clone();
        config.quota = Quota::per_second(10);
        let new = old.reconfigured(config).unwrap();
        // Built but not yet sweeping: the old one still does.
        assert!(!old.inner().retired.load(Ordering::Relaxed));
        new.inner().sweep();
        assert!(old.inner().retired.load(Ordering::Relaxed));
        assert_eq!(old.inner().sweep(), 0);
    }
}
