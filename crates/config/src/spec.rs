//! The resolved config: named policies and pipelines with every preset,
//! default and name filled in, each policy's config typed and validated.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use steadfast_breaker::BreakerConfig;
use steadfast_bulkhead::BulkheadConfig;
use steadfast_core::TimeoutConfig;
use steadfast_ratelimit::RateLimiterConfig;
use steadfast_retry::RetryConfig;

/// The kinds of policy a config builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Kind {
    /// A [`Timeout`](steadfast_core::Timeout).
    Timeout,
    /// A [`Retry`](steadfast_retry::Retry).
    Retry,
    /// A [`Breaker`](steadfast_breaker::Breaker).
    Breaker,
    /// A [`RateLimiter`](steadfast_ratelimit::RateLimiter), or a
    /// [`KeyedRateLimiter`](steadfast_ratelimit::KeyedRateLimiter) keyed by
    /// the call's `String` key with `keyed = true`.
    RateLimit,
    /// A [`Bulkhead`](steadfast_bulkhead::Bulkhead).
    Bulkhead,
}

impl Kind {
    /// Its name in a config file's presets (`[presets.rate_limit.x]`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Timeout => "timeout",
            Kind::Retry => "retry",
            Kind::Breaker => "breaker",
            Kind::RateLimit => "rate_limit",
            Kind::Bulkhead => "bulkhead",
        }
    }

    pub(crate) const ALL: [Kind; 5] = [
        Kind::Timeout,
        Kind::Retry,
        Kind::Breaker,
        Kind::RateLimit,
        Kind::Bulkhead,
    ];
}

/// The stage sections a pipeline may set, in the order a pipeline without
/// `stages` runs them (outermost first, as docs/concepts.md recommends): a
/// total timeout, the retry, the breaker, an outbound rate limit, the
/// bulkhead, a per-attempt timeout.
pub const SECTIONS: [(&str, Kind); 6] = [
    ("timeout", Kind::Timeout),
    ("retry", Kind::Retry),
    ("breaker", Kind::Breaker),
    ("rate_limit", Kind::RateLimit),
    ("bulkhead", Kind::Bulkhead),
    ("attempt_timeout", Kind::Timeout),
];

/// One policy's typed config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum PolicyConfig {
    /// A timeout.
    Timeout(TimeoutConfig),
    /// A retry.
    Retry(RetryConfig),
    /// A circuit breaker.
    Breaker(BreakerConfig),
    /// A rate limiter.
    RateLimit {
        /// The limiter's config.
        config: RateLimiterConfig,
        /// Whether it limits per key (the call's `String` key) rather than
        /// every call together.
        keyed: bool,
    },
    /// A bulkhead.
    Bulkhead(BulkheadConfig),
}

impl PolicyConfig {
    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            PolicyConfig::Timeout(_) => Kind::Timeout,
            PolicyConfig::Retry(_) => Kind::Retry,
            PolicyConfig::Breaker(_) => Kind::Breaker,
            PolicyConfig::RateLimit { .. } => Kind::RateLimit,
            PolicyConfig::Bulkhead(_) => Kind::Bulkhead,
        }
    }

    /// The policy's name (its events, errors and snapshots carry it).
    pub fn name(&self) -> &str {
        match self {
            PolicyConfig::Timeout(c) => c.name.as_str(),
            PolicyConfig::Retry(c) => c.name.as_str(),
            PolicyConfig::Breaker(c) => c.name.as_str(),
            PolicyConfig::RateLimit { config, .. } => config.name.as_str(),
            PolicyConfig::Bulkhead(c) => c.name.as_str(),
        }
    }
}

/// A policy and how the health report treats it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// What to build.
    pub config: PolicyConfig,
    /// Whether the service cannot work without the dependency it guards:
    /// an open breaker then makes the health report `unhealthy` and
    /// `/ready` answer 503 (see steadfast-observe).
    #[serde(default)]
    pub critical: bool,
}

/// One stage of a pipeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Stage {
    /// A named policy of `[policies]`, shared by every pipeline naming it.
    Named(String),
    /// A policy of this pipeline's own, from its section (`retry`,
    /// `attempt_timeout`, …).
    Inline {
        /// The section it came from.
        section: String,
        /// The policy.
        spec: Box<PolicySpec>,
    },
}

/// A pipeline: its stages, outermost first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    /// The stages, outermost first.
    pub stages: Vec<Stage>,
    /// Whether each call runs in a `tracing` span (`steadfast.call`) and
    /// each attempt in a child span (`steadfast.attempt`).
    #[serde(default)]
    pub trace: bool,
    /// Whether each call's duration is recorded in the histogram
    /// `steadfast_call_duration_seconds{policy = <pipeline>, outcome}`
    /// (steadfast-observe's `CallDuration`).
    #[serde(default)]
    pub histogram: bool,
}

/// A resolved config: read one with [`Config::from_toml`] (or
/// [`from_value`](Config::from_value) for any serde format), build it with
/// [`Configured::new`](crate::Configured::new).
///
/// It serializes (to JSON, or anything serde writes that has a null) and
/// reads back equal, fully resolved: presets and defaults are gone, every
/// field is written out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Named policies, each one state for every pipeline naming it.
    pub policies: BTreeMap<String, PolicySpec>,
    /// Named pipelines.
    pub pipelines: BTreeMap<String, PipelineSpec>,
}
