//! Health: each policy's status and reason, and the service's overall one.

use serde::Serialize;
use steadfast_breaker::State;
use steadfast_core::time::ceil_secs;

use crate::report::PolicyReport;

/// How well a policy, or the whole service, is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Working as configured.
    Healthy,
    /// Serving, but not at full strength: a circuit open around an optional
    /// dependency, a saturated bulkhead, stale answers.
    Degraded,
    /// Not serving what it exists for: a circuit open around a critical
    /// dependency.
    Unhealthy,
}

/// One policy's health.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PolicyHealth {
    /// The name it was registered under.
    pub name: String,
    /// Its kind (`breaker`, `bulkhead`, …).
    pub kind: &'static str,
    /// Whether the service needs it to be ready.
    pub critical: bool,
    /// Its status.
    pub status: Status,
    /// Why it is not healthy, for a person; absent when healthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The service's health: the worst of its policies', and each of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct HealthReport {
    /// The worst status of any policy (`healthy` with none registered).
    pub status: Status,
    /// Whether every critical policy is serving (none is `unhealthy`): what
    /// `/ready` answers.
    pub ready: bool,
    /// Each policy, in registration order.
    pub policies: Vec<PolicyHealth>,
}

/// Counters the previous report saw, so rules about "since the last report"
/// can tell.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Seen {
    pub(crate) rejected: u64,
    pub(crate) stale: u64,
}

impl Seen {
    pub(crate) fn of(report: &PolicyReport) -> Seen {
        match report {
            PolicyReport::RateLimiter(s) => Seen {
                rejected: s.rejected,
                stale: 0,
            },
            PolicyReport::Cache(s) => Seen {
                rejected: 0,
                stale: s.stale_hits + s.stale_fallbacks,
            },
            _ => Seen::default(),
        }
    }
}

/// The status and reason of one policy, given what the previous report saw.
pub(crate) fn judge(
    report: &PolicyReport,
    critical: bool,
    before: Seen,
) -> (Status, Option<String>) {
    let open = if critical {
        Status::Unhealthy
    } else {
        Status::Degraded
    };
    match report {
        PolicyReport::Breaker(s) => match s.state {
            State::Open => (
                open,
                Some(match s.time_until_half_open {
                    Some(wait) => format!("circuit open; next probe in {} s", ceil_secs(wait)),
                    None => "circuit open".to_owned(),
                }),
            ),
            State::Isolated => (open, Some("circuit held open by the operator".to_owned())),
            State::HalfOpen => (
                Status::Degraded,
                Some("circuit half-open: probing the dependency".to_owned()),
            ),
            _ => (Status::Healthy, None),
        },
        PolicyReport::Bulkhead(s) if s.saturated => (
            Status::Degraded,
            Some(format!(
                "bulkhead saturated: {} of {} in flight, {} waiting, {} refused so far",
                s.in_flight,
                s.limit,
                s.waiting,
                s.rejected + s.queue_timeouts + s.overloaded
            )),
        ),
        PolicyReport::RateLimiter(s) if s.shadow && s.rejected > before.rejected => (
            Status::Healthy,
            Some(format!(
                "shadow mode: would have refused {} since the last report",
                count(s.rejected - before.rejected, "call", "calls")
            )),
        ),
        PolicyReport::RateLimiter(s) if s.rejected > before.rejected => (
            Status::Degraded,
            Some(format!(
                "refused {} since the last report",
                count(s.rejected - before.rejected, "call", "calls")
            )),
        ),
        PolicyReport::Cache(s) if s.stale_hits + s.stale_fallbacks > before.stale => (
            Status::Degraded,
            Some(format!(
                "served stale answers {} since the last report",
                count(
                    s.stale_hits + s.stale_fallbacks - before.stale,
                    "time",
                    "times"
                )
            )),
        ),
        PolicyReport::Retry(s) if s.budget.as_ref().is_some_and(|b| b.exhausted) => (
            Status::Degraded,
            Some("retry budget spent: failures are not retried".to_owned()),
        ),
        PolicyReport::Shedder(s) if s.classes.iter().any(|c| c.shedding) => {
            let shedding: Vec<&str> = s
                .classes
                .iter()
                .filter(|c| c.shedding)
                .map(|c| c.name.as_str())
                .collect();
            (
                Status::Degraded,
                Some(format!("shedding {}", shedding.join(", "))),
            )
        }
        PolicyReport::Shared(s) if s.fallback_active => (
            Status::Degraded,
            Some(format!(
                "{} cannot answer: limiting on this instance's fallback",
                s.store
            )),
        ),
        _ => (Status::Healthy, None),
    }
}

fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
