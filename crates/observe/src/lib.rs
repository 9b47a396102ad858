//! A registry of named steadfast policies: health reports, readiness, and
//! metrics read from the policies' own snapshots.
//!
//! # Overview
//!
//! - [`Registry`]: register each policy (a clone: clones share state) once
//!   by name, marking the ones guarding a dependency the service cannot do
//!   without as [`critical`](Registry::critical).
//! - [`Registry::health`]: a [`HealthReport`], `healthy` / `degraded` /
//!   `unhealthy` with each policy's status and reason, serializable to JSON.
//! - [`Registry::record_metrics`] (feature `metrics`): counters and gauges
//!   through the `metrics` facade, read from the snapshots at scrape, so the
//!   hot paths pay nothing.
//! - [`axum`] (feature `axum`): `/health`, `/ready`, and `/metrics` with
//!   feature `prometheus`.
//!
//! # Usage
//!
//! ```
//! use std::time::Duration;
//! use steadfast_breaker::Breaker;
//! use steadfast_ratelimit::{Quota, RateLimiter};
//! use steadfast_observe::{Registry, Status};
//!
//! let ai = Breaker::builder().build().unwrap();
//! let limiter = RateLimiter::new(Quota::per_second(1)).unwrap();
//! let registry = Registry::new()
//!     .register("ai-provider", ai.clone())
//!     .register("outbound", limiter.clone());
//!
//! limiter.check().unwrap();
//! assert!(limiter.check().is_err());
//! let health = registry.health();
//! assert_eq!(health.status, Status::Degraded);
//! assert_eq!(health.policies[1].reason.as_deref(), Some("refused 1 call since the last report"));
//! // Counted from the last report: quiet again.
//! assert_eq!(registry.health().status, Status::Healthy);
//! ```
//!
//! # Feature flags
//!
//! - `metrics`: [`Registry::record_metrics`], and the opt-in
//!   [`CallDuration`] latency histogram.
//! - `prometheus`: `metrics`, plus the `/metrics` route.
//! - `axum`: [`axum::health_router`] (and [`axum::router`] with `prometheus`).

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "metrics")]
mod duration;
mod health;
#[cfg(feature = "metrics")]
mod metrics;
mod registry;
mod report;
mod shared;

#[cfg(feature = "metrics")]
pub use duration::{CALL_DURATION, CallDuration};
pub use health::{HealthReport, PolicyHealth, Status};
pub use registry::Registry;
pub use report::{Observe, PolicyReport};
pub use shared::SharedSnapshot;
