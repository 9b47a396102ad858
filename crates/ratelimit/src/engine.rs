//! What direct and keyed limiters share: name, algorithm, quotas, clock,
//! warm-up, mode, and the waiters' count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use steadfast_core::{Name, RateLimited, time::Instant};

use crate::algorithm::{self, Decision, Params, Peek};
use crate::clock::{Clock, nanos, now_for_interval};
use crate::config::{Mode, RateLimiterConfig};
use crate::quota::Algorithm;
use crate::snapshot::RateLimitState;
use crate::tiers::Tiers;
use crate::warmup::Ramp;

/// A plain GCRA decision's inputs (see [`Engine::begin_plain`]): a TAT
/// becomes `max(tat, now) + add`, admitted when that is at most `limit`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plain {
    pub(crate) now: u64,
    pub(crate) add: u64,
    pub(crate) limit: u64,
}

impl Plain {
    /// The new TAT if admitted, else how many ns too early the call is.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn decide(self, tat: u64) -> Result<u64, u64> {
        let new = tat.max(self.now).saturating_add(self.add);
        if new <= self.limit {
            Ok(new)
        } else {
            Err(new - self.limit)
        }
    }
}

#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) name: Name,
    pub(crate) algorithm: Algorithm,
    pub(crate) tiers: Tiers,
    pub(crate) clock: Clock,
    ramp: Option<Ramp>,
    /// GCRA without warm-up: a check needs only the default tier's
    /// interval and capacity, the time and one compare-and-swap (the one
    /// flag the hot path tests before taking the general path).
    plain_gcra: bool,
    pub(crate) mode: Mode,
    pub(crate) waiting: AtomicU64,
    pub(crate) config: RateLimiterConfig,
}

impl Engine {
    /// From a validated config.
    pub(crate) fn new(config: RateLimiterConfig) -> Engine {
        let clock = Clock::new(config.time_source);
        Engine::with_clock(config, clock)
    }

    /// From a validated config, reading `clock` (a running limiter's, so
    /// the state words it left keep their meaning).
    pub(crate) fn with_clock(config: RateLimiterConfig, clock: Clock) -> Engine {
        let mut tiers = vec![(Name::new_static("default"), config.quota)];
        tiers.extend(config.tiers.iter().map(|t| (t.name.clone(), t.quota)));
        Engine {
            name: config.name.clone(),
            algorithm: config.algorithm,
            tiers: Tiers::new(config.algorithm, tiers),
            clock,
            ramp: config.warm_up.as_ref().map(Ramp::new),
            plain_gcra: config.algorithm == Algorithm::Gcra && config.warm_up.is_none(),
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
            Algorithm::Gcra => now_for_interval(&self.clock, params.a),
            Algorithm::SlidingWindow | Algorithm::FixedWindow => self.clock.now(),
        };
        (self.scale(params, now), now)
    }

    /// For a plain GCRA limiter (no warm-up) on the default tier: the
    /// decision's inputs for a call of `cost` units, `None` otherwise.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn begin_plain(&self, tier: usize, cost: u64) -> Option<Plain> {
        if !self.plain_gcra || tier != 0 {
            return None;
        }
        let (a, cap) = self.tiers.default_gcra();
        let now = now_for_interval(&self.clock, a);
        Some(Plain {
            now,
            add: a.saturating_mul(cost),
            limit: now.saturating_add(cap),
        })
    }

    /// The wait of a plain GCRA call refused with `over` ns too many
    /// (see [`Engine::begin_plain`]), as `gcra::decide` says.
    #[cold]
    #[inline(never)]
    pub(crate) fn plain_wait(&self, cost: u64, over: u64) -> u64 {
        if cost > self.tiers.default_b() {
            algorithm::NEVER
        } else {
            over
        }
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

    /// The rejection of a call admitted after `wait` ns at the earliest
    /// ([`NEVER`](algorithm::NEVER): never).
    #[cold]
    pub(crate) fn rejection(&self, wait: u64) -> RateLimited {
        if wait == algorithm::NEVER {
            tracing::trace!(policy = %self.name, "rate limited: the cost can never be admitted");
            return RateLimited::never(self.name.clone());
        }
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
    /// Shadow mode: refusals are counted, never made (as a policy).
    pub(crate) fn shadow(&self) -> bool {
        self.config.shadow
    }

    pub(crate) fn rejects(&self) -> bool {
        matches!(self.mode, Mode::Reject)
    }

    pub(crate) fn waiting(&self) -> u64 {
        self.waiting.load(Ordering::Relaxed)
    }
}
