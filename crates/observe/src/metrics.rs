//! Metrics through the `metrics` facade, read from the snapshots.

use steadfast_breaker::State;

use crate::registry::Registry;
use crate::report::PolicyReport;

/// Sets `name{policy, extra…}` to a counter's total.
fn total(name: &'static str, policy: &str, labels: &[(&'static str, &'static str)], value: u64) {
    let mut all = vec![("policy", policy.to_owned())];
    all.extend(labels.iter().map(|(k, v)| (*k, (*v).to_owned())));
    metrics::counter!(name, &all).absolute(value);
}

/// Sets the gauge `name{policy}`.
#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn level(name: &'static str, policy: &str, value: f64) {
    metrics::gauge!(name, "policy" => policy.to_owned()).set(value);
}

const STATES: [(State, &str); 5] = [
    (State::Closed, "closed"),
    (State::Open, "open"),
    (State::HalfOpen, "half_open"),
    (State::Isolated, "isolated"),
    (State::Disabled, "disabled"),
];

impl Registry {
    /// Writes every policy's counters and gauges to the installed `metrics`
    /// recorder, read from the snapshots the policies already keep: the hot
    /// paths pay nothing, and a scrape pays one snapshot per policy. Call it
    /// before rendering a scrape (the `/metrics` handler does), or on a
    /// timer for a push exporter.
    ///
    /// Series are labelled by `policy` (the registered name), never by key:
    /// one series per policy whatever the number of users. The names are
    /// listed in `docs/observability.md`.
    pub fn record_metrics(&self) {
        for (name, report) in self.reports() {
            match report {
                PolicyReport::Breaker(s) => breaker(name, &s),
                PolicyReport::Bulkhead(s) => bulkhead(name, &s),
                PolicyReport::RateLimiter(s) => ratelimit(name, &s),
                PolicyReport::Retry(s) => retry(name, &s),
                PolicyReport::Cache(s) => cache(name, &s),
                PolicyReport::Timeout(s) => timeout(name, &s),
                PolicyReport::Shedder(s) => shedder(name, &s),
                PolicyReport::Shared(s) => shared(name, &s),
            }
        }
    }
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn breaker(name: &str, s: &steadfast_breaker::BreakerSnapshot) {
    for (state, label) in STATES {
        let on = if s.state == state { 1.0 } else { 0.0 };
        metrics::gauge!(
            "steadfast_breaker_state",
            "policy" => name.to_owned(),
            "state" => label
        )
        .set(on);
    }
    // -1 until the window holds enough calls, as resilience4j does.
    level(
        "steadfast_breaker_failure_rate",
        name,
        s.failure_rate.unwrap_or(-1.0),
    );
    total(
        "steadfast_breaker_calls_rejected_total",
        name,
        &[],
        s.rejected,
    );
    total("steadfast_breaker_opened_total", name, &[], s.opened);
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn bulkhead(name: &str, s: &steadfast_bulkhead::BulkheadSnapshot) {
    level("steadfast_bulkhead_in_flight", name, f64::from(s.in_flight));
    level("steadfast_bulkhead_waiting", name, f64::from(s.waiting));
    level("steadfast_bulkhead_limit", name, f64::from(s.limit));
    total(
        "steadfast_bulkhead_rejected_total",
        name,
        &[("reason", "full")],
        s.rejected,
    );
    total(
        "steadfast_bulkhead_rejected_total",
        name,
        &[("reason", "queue_timeout")],
        s.queue_timeouts,
    );
    total(
        "steadfast_bulkhead_rejected_total",
        name,
        &[("reason", "overloaded")],
        s.overloaded,
    );
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn ratelimit(name: &str, s: &steadfast_ratelimit::RateLimiterSnapshot) {
    total(
        "steadfast_ratelimit_requests_total",
        name,
        &[("result", "admitted")],
        s.admitted,
    );
    total(
        "steadfast_ratelimit_requests_total",
        name,
        &[("result", "rejected")],
        s.rejected,
    );
    level("steadfast_ratelimit_keys", name, s.keys_tracked as f64);
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn retry(name: &str, s: &steadfast_retry::RetrySnapshot) {
    total("steadfast_retry_calls_total", name, &[], s.calls);
    total("steadfast_retry_failures_total", name, &[], s.failures);
    total(
        "steadfast_retry_attempts_total",
        name,
        &[("attempt_type", "original")],
        s.calls,
    );
    total(
        "steadfast_retry_attempts_total",
        name,
        &[("attempt_type", "retry")],
        s.retries,
    );
    total(
        "steadfast_retry_attempts_total",
        name,
        &[("attempt_type", "hedge")],
        s.hedges_started,
    );
    total(
        "steadfast_retry_budget_exhausted_total",
        name,
        &[],
        s.budget_exhausted,
    );
    if let Some(budget) = &s.budget {
        level("steadfast_retry_budget_tokens", name, budget.tokens);
    }
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn cache(name: &str, s: &steadfast_cache::CacheSnapshot) {
    total(
        "steadfast_cache_requests_total",
        name,
        &[("result", "hit")],
        s.hits,
    );
    total(
        "steadfast_cache_requests_total",
        name,
        &[("result", "stale")],
        s.stale_hits + s.stale_fallbacks,
    );
    // Each request once: a miss answered stale counts as stale, not both.
    total(
        "steadfast_cache_requests_total",
        name,
        &[("result", "miss")],
        s.misses.saturating_sub(s.stale_fallbacks),
    );
    total(
        "steadfast_cache_fetch_errors_total",
        name,
        &[],
        s.fetch_errors,
    );
    level("steadfast_cache_entries", name, s.entries as f64);
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn timeout(name: &str, s: &steadfast_core::TimeoutSnapshot) {
    total("steadfast_timeout_timeouts_total", name, &[], s.timeouts);
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn shedder(name: &str, s: &steadfast_degrade::LoadShedderSnapshot) {
    level("steadfast_shed_in_flight", name, f64::from(s.in_flight));
    for class in &s.classes {
        for (result, value) in [("admitted", class.admitted), ("shed", class.shed)] {
            metrics::counter!(
                "steadfast_shed_requests_total",
                "policy" => name.to_owned(),
                "class" => class.name.as_str().to_owned(),
                "result" => result
            )
            .absolute(value);
        }
    }
}

fn shared(name: &str, s: &crate::SharedSnapshot) {
    for (result, value) in [("admitted", s.admitted), ("rejected", s.rejected)] {
        total(
            "steadfast_shared_requests_total",
            name,
            &[("result", result)],
            value,
        );
    }
    total(
        "steadfast_shared_store_errors_total",
        name,
        &[],
        s.store_errors,
    );
    level(
        "steadfast_shared_fallback_active",
        name,
        if s.fallback_active { 1.0 } else { 0.0 },
    );
}
