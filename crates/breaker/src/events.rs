//! State changes, as the transition hook and `tracing` see them.

use std::time::Duration;

use steadfast_core::Name;

use crate::State;

/// Why a breaker changed state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// `consecutive_failures` failures in a row.
    ConsecutiveFailures,
    /// A failure-rate rule fired (its index in `failure_rates`).
    FailureRate(usize),
    /// The slow-call-rate rule fired.
    SlowCallRate,
    /// The open duration passed: time to probe.
    OpenElapsed,
    /// Enough trial calls succeeded.
    TrialsSucceeded,
    /// A trial call failed (or was too slow) so closing can no longer happen.
    TrialFailed,
    /// A trial call ran past its trial deadline.
    TrialTimedOut,
    /// The operator called [`isolate`](crate::Breaker::isolate).
    Isolated,
    /// The operator called [`disable`](crate::Breaker::disable).
    Disabled,
    /// The operator called [`reset`](crate::Breaker::reset).
    Reset,
}

impl Reason {
    /// A short name for events: `"consecutive_failures"`, `"trial_failed"`, …
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::ConsecutiveFailures => "consecutive_failures",
            Reason::FailureRate(_) => "failure_rate",
            Reason::SlowCallRate => "slow_call_rate",
            Reason::OpenElapsed => "open_elapsed",
            Reason::TrialsSucceeded => "trials_succeeded",
            Reason::TrialFailed => "trial_failed",
            Reason::TrialTimedOut => "trial_timed_out",
            Reason::Isolated => "isolated",
            Reason::Disabled => "disabled",
            Reason::Reset => "reset",
        }
    }
}

/// One state change, as given to the hook set with
/// [`BreakerBuilder::on_transition`](crate::BreakerBuilder::on_transition).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Transition {
    /// The breaker's name.
    pub name: Name,
    /// The state it left.
    pub from: State,
    /// The state it entered.
    pub to: State,
    /// Why.
    pub reason: Reason,
    /// For a move to [`State::Open`]: how long it stays open.
    pub open_for: Option<Duration>,
}

/// The transition hook's type.
pub(crate) type Hook = Box<dyn Fn(&Transition) + Send + Sync>;

/// Emits the `tracing` event of a transition: WARN when the breaker refuses
/// calls from now on, INFO otherwise.
pub(crate) fn trace(t: &Transition) {
    match t.to {
        State::Open | State::Isolated => tracing::warn!(
            policy = %t.name,
            from = t.from.as_str(),
            to = t.to.as_str(),
            reason = t.reason.as_str(),
            open_for = ?t.open_for,
            "circuit breaker opened"
        ),
        State::Closed => tracing::info!(
            policy = %t.name,
            from = t.from.as_str(),
            to = t.to.as_str(),
            reason = t.reason.as_str(),
            "circuit breaker closed"
        ),
        State::HalfOpen | State::Disabled => tracing::info!(
            policy = %t.name,
            from = t.from.as_str(),
            to = t.to.as_str(),
            reason = t.reason.as_str(),
            "circuit breaker state changed"
        ),
    }
}
