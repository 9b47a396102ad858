//! What direct and keyed limiters share: name, algorithm, quotas, clock,
//! warm-up, mode, and the waiters' count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use steadfast_core::{Name, RateLimited, time::Instant};

use crate::algorithm::{self, Decision, Params, Peek};
use crate::clock::{Clock, nanos};
use crate::config::{Mode, RateLimiterConfig};
use crate::quota::Algorithm;
use crate::snapshot::RateLimitState;
use crate::tiers::Tiers;
use crate::warmup::Ramp;

#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) name: Name,
    pub(crate) algorithm: Algorithm,
    pub(crate) tiers: Tiers,
    pub(crate) clock: Clock,
    ramp: Option<Ramp>,
    pub(crate) mode: Mode,
    pub(crate) waiting: AtomicU64,
    pub(crate) config: RateLimiterConfig,
}

impl Engine {
    /// From a validated config.
    pub(crate) fn new(config: RateLimiterConfig) -> Engine {
        let mut tiers = vec![(Name::new_static("default"), config.quota)];
        tiers.extend(config.tiers.iter().map(|t| (t.name.clone(), t.quota)));
        Engine {
            name: config.name.clone(),
            algorithm: config.algorithm,
            tiers: Tiers::new(config.algorithm, tiers),
            clock: Clock::new(config.time_source),
            ramp: config.warm_up.as_ref().map(Ramp::new),
            mode: config.mode,
            waiting: AtomicU64::new(0),
            config,
        }
    }

    /// The quota of `tier` and the time for a decision now (the quota
    /// scaled during warm-up; the time cached where that is exact enough).
    // Measured: not inlined, the returned tuple went through memory and
    // cost a store-forwarding stall on every check.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn begin(&self, tier: usize) -> (Params, u64) {
        let params = self.tiers.params(tier);
        let now = match self.algorithm {
            Algorithm::Gcra => self.clock.now_for_interval(params.a),
            Algorithm::SlidingWindow | Algorithm::FixedWindow => self.clock.now(),
        };
        (self.scale(params, now), now)
    }

    /// The quota of `tier` at `now`.
    pub(crate) fn params_at(&self, tier: usize, now: u64) -> Params {
        self.scale(self.tiers.params(tier), now)
    }

    // Part of every check: measured faster forced inline (see Engine::begin).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn scale(&self, params: Params, now: u64) -> Params {
        match &self.ramp {
            None => params,
            Some(ramp) => params.scaled(self.algorithm, ramp.factor(now)),
        }
    }

    // Part of every check: measured faster forced inline (see Engine::begin).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn decide(&self, params: Params, state: u64, now: u64, cost: u64) -> Decision {
        algorithm::decide(self.algorithm, params, state, now, cost)
    }

    /// Notes an admission (for the warm-up's idleness).
    // Part of every check: measured faster forced inline (see Engine::begin).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn admitted(&self, now: u64) {
        if let Some(ramp) = &self.ramp {
            ramp.admitted(now);
        }
    }

    /// The rejection of a call admitted after `wait` ns at the earliest.
    #[cold]
    pub(crate) fn rejection(&self, wait: u64) -> RateLimited {
        tracing::trace!(policy = %self.name, wait_ns = wait, "rate limited");
        RateLimited::new(self.name.clone(), Duration::from_nanos(wait))
    }

    /// The longest a call may wait now, in ns: the mode's maximum, cut to
    /// the call's deadline; `None` in reject mode.
    pub(crate) fn max_wait(&self, deadline: Option<Instant>) -> Option<u64> {
        let Mode::Wait { max_wait } = self.mode else {
            return None;
        };
        let max_wait = nanos(max_wait);
        Some(match deadline {
            Some(deadline) => max_wait.min(nanos(
                deadline.saturating_duration_since(steadfast_core::time::now()),
            )),
            None => max_wait,
        })
    }

    /// A state word as a caller sees it.
    pub(crate) fn state_of(&self, tier: usize, state: u64, now: u64) -> RateLimitState {
        let params = self.params_at(tier, now);
        let Peek {
            remaining,
            reset_after,
            retry_after,
        } = algorithm::peek(self.algorithm, params, state, now);
        RateLimitState {
            limit: params.b,
            remaining,
            reset_after: Duration::from_nanos(reset_after),
            retry_after: Duration::from_nanos(retry_after),
        }
    }

    /// Whether calls over the quota are rejected at once.
    #[inline]
    pub(crate) fn rejects(&self) -> bool {
        matches!(self.mode, Mode::Reject)
    }

    pub(crate) fn waiting(&self) -> u64 {
        self.waiting.load(Ordering::Relaxed)
    }
}
