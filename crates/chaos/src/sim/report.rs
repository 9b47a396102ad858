//! What a run measured, per phase, and the scorecard table.

use std::fmt::Write as _;
use std::time::Duration;

use super::scenario::Condition;

/// One phase of a run, as the clients and the dependency saw it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PhaseReport {
    /// The phase's name.
    pub name: String,
    /// The dependency's condition.
    pub condition: Condition,
    /// How long it lasted.
    pub duration: Duration,
    /// Client calls that arrived in it.
    pub calls: u64,
    /// Of those, calls that got no data: an error, no answer within the
    /// client's timeout, or a fallback's "try again soon".
    pub errors: u64,
    /// Of the errors, the fallback's answers.
    pub fallbacks: u64,
    /// Calls answered with a degraded value (stale, last known good).
    pub degraded: u64,
    /// Attempts that reached the dependency in it.
    pub attempts: u64,
    /// Client latency, from each call's intended start.
    pub p50: Duration,
    /// The 95th percentile.
    pub p95: Duration,
    /// The 99th percentile.
    pub p99: Duration,
    /// In a fault: how long until the pipeline sent the dependency fewer
    /// than half as many attempts as it had calls, in one time bucket
    /// (`None`: it never did).
    pub detect: Option<Duration>,
    /// After a fault: how long until the client error rate stayed under
    /// 1 % (`None`: it had not by the phase's end).
    pub recover: Option<Duration>,
    /// Whether this phase follows a fault (so `recover` is measured).
    pub recovery_phase: bool,
}

impl PhaseReport {
    /// Errors per client call.
    #[allow(clippy::cast_precision_loss)]
    pub fn error_rate(&self) -> f64 {
        self.errors as f64 / self.calls.max(1) as f64
    }

    /// Attempts reaching the dependency per client call.
    #[allow(clippy::cast_precision_loss)]
    pub fn amplification(&self) -> f64 {
        self.attempts as f64 / self.calls.max(1) as f64
    }

    /// Calls answered with data (fresh or degraded) per second.
    #[allow(clippy::cast_precision_loss)]
    pub fn goodput(&self) -> f64 {
        (self.calls - self.errors) as f64 / self.duration.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// A whole run: one report per phase.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// The phases, in order.
    pub phases: Vec<PhaseReport>,
}

impl Report {
    /// The phase named `name`.
    pub fn phase(&self, name: &str) -> Option<&PhaseReport> {
        self.phases.iter().find(|phase| phase.name == name)
    }
}

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

fn seconds(d: Option<Duration>) -> String {
    d.map_or_else(
        || "never".to_owned(),
        |d| format!("{:.0} s", d.as_secs_f64()),
    )
}

/// The scorecard: one row per phase and pipeline, as a markdown table.
#[allow(clippy::cast_precision_loss)] // counts far below 2^52
pub fn markdown(runs: &[(&str, &Report)]) -> String {
    let mut out = String::from(
        "| phase | pipeline | calls | errors | of which fallback | stale | goodput / s | amplification | p50 ms | p95 ms | p99 ms | detected | recovered |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n",
    );
    let Some((_, first)) = runs.first() else {
        return out;
    };
    for (i, phase) in first.phases.iter().enumerate() {
        for (name, report) in runs {
            let Some(p) = report.phases.get(i) else {
                continue;
            };
            let detect = if p.condition.is_fault() {
                seconds(p.detect)
            } else {
                String::new()
            };
            let recover = if p.recovery_phase {
                seconds(p.recover)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "| {} | {name} | {} | {:.2} % | {:.2} % | {:.1} % | {:.0} | {:.2} | {} | {} | {} | {detect} | {recover} |",
                phase.name,
                p.calls,
                100.0 * p.error_rate(),
                100.0 * p.fallbacks as f64 / p.calls.max(1) as f64,
                100.0 * p.degraded as f64 / p.calls.max(1) as f64,
                p.goodput(),
                p.amplification(),
                millis(p.p50),
                millis(p.p95),
                millis(p.p99),
            );
        }
    }
    out
}
