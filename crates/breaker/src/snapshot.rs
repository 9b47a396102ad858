//! What a breaker reports about itself.

use std::time::Duration;

use steadfast_core::Name;
use steadfast_core::time;

use crate::State;
use crate::core::Core;
use crate::window::share;

/// A [`Breaker`](crate::Breaker)'s state and counters, for `/health`,
/// `/ready` and metrics. Take one with
/// [`Inspect::snapshot`](steadfast_core::Inspect::snapshot).
///
/// With the `serde` feature it serializes with these field names; the state
/// is `"closed"`, `"open"`, `"half_open"`, …, and a duration text such as
/// `"4s"`.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct BreakerSnapshot {
    /// The breaker's name.
    pub name: Name,
    /// The state now. In metrics-only mode, the state the breaker would be in.
    pub state: State,
    /// Whether the breaker only records and never refuses a call.
    pub metrics_only: bool,
    /// Share of failures in the first failure-rate window; `None` without
    /// such a window or with an empty one.
    pub failure_rate: Option<f64>,
    /// Share of slow calls in the slow-call window; `None` without one or
    /// with an empty one.
    pub slow_call_rate: Option<f64>,
    /// Calls in the first failure-rate window (else the slow-call window).
    pub calls_in_window: u64,
    /// Failures in a row, as the consecutive-failures rule counts them.
    pub consecutive_failures: u32,
    /// For an open breaker, the time until it lets a trial through.
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "steadfast_core::duration_serde::option::serialize")
    )]
    pub time_until_half_open: Option<Duration>,
    /// Trial calls running now (half-open).
    pub trials_in_flight: u32,
    /// Calls refused so far (in metrics-only mode: calls that would have been).
    pub rejected: u64,
    /// Times the breaker has opened (tripped or re-opened after a failed trial).
    pub opened: u64,
}

impl Core {
    pub(crate) fn snapshot(&self) -> BreakerSnapshot {
        let now = time::now();
        let trials_in_flight = self.apply_due(now);
        let w = self.word();
        let period = w.period();
        let window = |tracker: &crate::window::Tracker| tracker.stats(period, Some(now));
        let failure = self.failure.first().map(window);
        let slow = self.slow.as_ref().map(|(_, t)| window(t));
        let consecutive = self.consecutive.load(std::sync::atomic::Ordering::Acquire);
        #[allow(clippy::cast_possible_truncation)]
        let consecutive_failures = if consecutive >> 32 == period & 0xFFFF_FFFF {
            (consecutive & 0xFFFF_FFFF) as u32
        } else {
            0
        };
        BreakerSnapshot {
            name: self.name.clone(),
            state: w.state(),
            metrics_only: self.built.metrics_only,
            failure_rate: failure.and_then(|(c, m)| share(c, m)),
            slow_call_rate: slow.and_then(|(c, m)| share(c, m)),
            calls_in_window: failure.or(slow).map_or(0, |(c, _)| c),
            consecutive_failures,
            time_until_half_open: (w.state() == State::Open).then(|| self.open_left(now)),
            trials_in_flight,
            rejected: self.rejected(),
            opened: self.opened(),
        }
    }
}
