//! steadfast keeps async Rust services standing under load and failure.
//!
//! One [`Policy`] trait, implemented by every resilience policy, so any async
//! call is wrapped in one line and policies compose outermost first with no
//! boxing and no allocation on the hot path:
//!
//! ```
//! use std::time::Duration;
//! use steadfast::{Pipeline, Policy, Timeout};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(10))?)
//!     .then(Timeout::new(Duration::from_secs(2))?);
//! let body = pipeline.call(|| async { Ok::<_, std::io::Error>("pong") }).await?;
//! assert_eq!(body, "pong");
//! # Ok(())
//! # }
//! ```
//!
//! This crate is a facade: it re-exports `steadfast-core` (always) and each
//! policy crate behind a cargo feature of its own.
//!
//! # Feature flags
//!
//! Nothing is enabled by default beyond the core.
//!
//! | feature   | what it adds |
//! |-----------|--------------|
//! | `full`    | every policy crate that exists today |
//! | `serde`   | configs deserialize; durations as `"30s"`, `"250ms"` |
//! | `testing` | [`testing::ScriptedOp`], a scripted fake dependency for tests |
//! | `ratelimit` | [`ratelimit`]: GCRA, sliding and fixed windows, per-key quotas with bounded memory, tiers, waiting, brute-force lockout |
//! | `breaker` | [`breaker`]: a circuit breaker with consecutive, count-window, time-window and slow-call trip rules |
//! | `retry`   | [`retry`]: backoff with jitter, retry budgets, Retry-After, deadlines, hedging |
//! | `bulkhead` | [`bulkhead`]: bounded and adaptive concurrency, FIFO queue with timeouts, CoDel overload rejection, keyed bulkheads |
//! | `degrade` | [`degrade`]: fallbacks, last-known-good values marked stale, priority load shedding, client-side throttling, optional features |
//! | `cache` | [`cache`]: a resilient cache on moka: single flight, tags, stale-while-revalidate, stale-if-error, soft and hard timeouts, eager refresh |
//! | `cache-quick` | the cache's `QuickCacheStore`, hits several times cheaper than moka's |
//! | `tower` | [`tower`]: any policy as a tower `Layer`, a tower service as an operation, per-request keys |
//! | `http` | `tower`, plus [`tower::http`]: body replay, 429/503/504 answers with `Retry-After` and problem documents, rate-limit headers |
//! | `axum` | `http`, plus [`tower::axum`]: `IntoResponse` for a policy's error, peer-address keys |
//! | `grpc` | `tower`, plus `tower::grpc`: rejections as tonic `Status` codes |
//! | `observe` | [`observe`]: a registry of named policies, health reports and readiness |
//! | `prometheus` | `observe`, plus metrics read from the snapshots and a Prometheus `/metrics` route |
//! | `observe-axum` | `observe`, plus axum `/health` and `/ready` routes |
//! | `config` | [`config`]: pipelines from TOML, presets, defaults, hot reload keeping state |
//! | `redis` | [`redis`]: rate limits shared through Redis, with a local fallback when it is down |
//! | `chaos` | [`chaos`]: fault injection and the outage simulator |
//!
//! The policy crates (breaker, retry, rate limit, bulkhead, degrade, cache)
//! get a feature each as they land; the repository's README has the status.
//!
//! # Minimum supported Rust version
//!
//! Rust 1.88, edition 2024.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(inline)]
pub use steadfast_core::*;

#[cfg(feature = "retry")]
#[cfg_attr(docsrs, doc(cfg(feature = "retry")))]
#[doc(inline)]
pub use steadfast_retry as retry;

#[cfg(feature = "breaker")]
#[cfg_attr(docsrs, doc(cfg(feature = "breaker")))]
#[doc(inline)]
pub use steadfast_breaker as breaker;

#[cfg(feature = "bulkhead")]
#[cfg_attr(docsrs, doc(cfg(feature = "bulkhead")))]
#[doc(inline)]
pub use steadfast_bulkhead as bulkhead;

#[cfg(feature = "ratelimit")]
#[cfg_attr(docsrs, doc(cfg(feature = "ratelimit")))]
#[doc(inline)]
pub use steadfast_ratelimit as ratelimit;

#[cfg(feature = "degrade")]
#[cfg_attr(docsrs, doc(cfg(feature = "degrade")))]
#[doc(inline)]
pub use steadfast_degrade as degrade;

#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
#[doc(inline)]
pub use steadfast_cache as cache;

#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
#[doc(inline)]
pub use steadfast_tower as tower;

#[cfg(feature = "observe")]
#[cfg_attr(docsrs, doc(cfg(feature = "observe")))]
#[doc(inline)]
pub use steadfast_observe as observe;

#[cfg(feature = "config")]
#[cfg_attr(docsrs, doc(cfg(feature = "config")))]
#[doc(inline)]
pub use steadfast_config as config;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
#[doc(inline)]
pub use steadfast_redis as redis;

#[cfg(feature = "chaos")]
#[cfg_attr(docsrs, doc(cfg(feature = "chaos")))]
#[doc(inline)]
pub use steadfast_chaos as chaos;
