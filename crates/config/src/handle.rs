//! A built policy of any kind the config knows.

use std::sync::Arc;

use steadfast_breaker::Breaker;
use steadfast_bulkhead::Bulkhead;
use steadfast_core::{BoxPolicy, ConfigError, Policy, Timeout};
use steadfast_observe::{Observe, PolicyReport};
use steadfast_ratelimit::{KeyedRateLimiter, MemoryStore, RateLimiter};
use steadfast_retry::Retry;

use crate::spec::PolicyConfig;

/// A keyed limiter of the call's `String` key, its store shared so a
/// reconfigured limiter keeps the keys.
pub(crate) type Keyed = KeyedRateLimiter<String, Arc<MemoryStore<String>>>;

/// One built policy.
#[derive(Clone, Debug)]
pub(crate) enum Handle {
    Timeout(Timeout),
    Retry(Retry),
    Breaker(Breaker),
    Limit(RateLimiter),
    Keyed(Keyed),
    Bulkhead(Bulkhead),
}

/// What a reload does with a policy that exists before and after.
pub(crate) enum Change {
    /// Its config is unchanged: the same policy.
    Keep,
    /// Changed in place when the reload is applied (breaker, bulkhead).
    InPlace,
    /// A new policy carrying the old one's state (rate limiters), or a
    /// fresh one (timeouts and retries: nothing to carry).
    Replace(Handle),
}

impl Handle {
    /// Builds a policy from a config the parser validated.
    pub(crate) fn build(config: &PolicyConfig) -> Result<Handle, ConfigError> {
        Ok(match config {
            PolicyConfig::Timeout(c) => Handle::Timeout(Timeout::from_config(c.clone())?),
            PolicyConfig::Retry(c) => Handle::Retry(Retry::from_config(c.clone())?),
            PolicyConfig::Breaker(c) => Handle::Breaker(Breaker::from_config(c.clone())?),
            PolicyConfig::Bulkhead(c) => Handle::Bulkhead(Bulkhead::from_config(c.clone())?),
            PolicyConfig::RateLimit {
                config,
                keyed: false,
            } => Handle::Limit(RateLimiter::from_config(config.clone())?),
            PolicyConfig::RateLimit {
                config,
                keyed: true,
            } => {
                let store = match config.max_keys {
                    Some(max) => MemoryStore::with_max_keys(max),
                    None => MemoryStore::new(),
                };
                Handle::Keyed(
                    KeyedRateLimiter::builder_from(config.clone())
                        .store(Arc::new(store))
                        .build_with_store()?,
                )
            }
        })
    }

    /// How this policy, built from `old`, becomes one of `new`; checked,
    /// nothing applied. `None` when the kind changed: build afresh.
    pub(crate) fn plan(
        &self,
        old: &PolicyConfig,
        new: &PolicyConfig,
    ) -> Option<Result<Change, ConfigError>> {
        if old == new {
            return Some(Ok(Change::Keep));
        }
        Some(match (self, new) {
            (Handle::Timeout(_), PolicyConfig::Timeout(_))
            | (Handle::Retry(_), PolicyConfig::Retry(_)) => Handle::build(new).map(Change::Replace),
            (Handle::Breaker(b), PolicyConfig::Breaker(c)) => {
                b.check_reconfigure(c).map(|()| Change::InPlace)
            }
            (Handle::Bulkhead(b), PolicyConfig::Bulkhead(c)) => {
                b.check_reconfigure(c).map(|()| Change::InPlace)
            }
            (
                Handle::Limit(l),
                PolicyConfig::RateLimit {
                    config,
                    keyed: false,
                },
            ) => l
                .reconfigured(config.clone())
                .map(|l| Change::Replace(Handle::Limit(l))),
            (
                Handle::Keyed(l),
                PolicyConfig::RateLimit {
                    config,
                    keyed: true,
                },
            ) => l
                .reconfigured(config.clone())
                .map(|l| Change::Replace(Handle::Keyed(l))),
            _ => return None,
        })
    }

    /// Applies an [`Change::InPlace`] plan.
    pub(crate) fn apply_in_place(&self, new: &PolicyConfig) -> Result<(), ConfigError> {
        match (self, new) {
            (Handle::Breaker(b), PolicyConfig::Breaker(c)) => b.reconfigure(c.clone()),
            (Handle::Bulkhead(b), PolicyConfig::Bulkhead(c)) => b.reconfigure(c),
            _ => Ok(()),
        }
    }

    /// `inner` inside this policy, type-erased.
    pub(crate) fn wrap<T: Send + 'static, E: Send + 'static>(
        &self,
        inner: Option<BoxPolicy<T, E>>,
    ) -> BoxPolicy<T, E> {
        fn join<T: Send + 'static, E: Send + 'static, P: Policy<T, E> + 'static>(
            outer: P,
            inner: Option<BoxPolicy<T, E>>,
        ) -> BoxPolicy<T, E> {
            match inner {
                Some(inner) => BoxPolicy::new(steadfast_core::Then::new(outer, inner)),
                None => BoxPolicy::new(outer),
            }
        }
        match self {
            Handle::Timeout(p) => join(p.clone(), inner),
            Handle::Retry(p) => join(p.clone(), inner),
            Handle::Breaker(p) => join(p.clone(), inner),
            Handle::Limit(p) => join(p.clone(), inner),
            Handle::Keyed(p) => join(p.clone(), inner),
            Handle::Bulkhead(p) => join(p.clone(), inner),
        }
    }

    /// Its snapshot, for the health report and the metrics.
    pub(crate) fn report(&self) -> PolicyReport {
        match self {
            Handle::Timeout(p) => p.report(),
            Handle::Retry(p) => p.report(),
            Handle::Breaker(p) => p.report(),
            Handle::Limit(p) => p.report(),
            Handle::Keyed(p) => p.report(),
            Handle::Bulkhead(p) => p.report(),
        }
    }
}
