//! steadfast policies as tower layers, and tower services as steadfast
//! operations.
//!
//! # Overview
//!
//! - [`PolicyLayer`]: any [`Policy`](steadfast_core::Policy), a
//!   [`Pipeline`](steadfast_core::Pipeline) or a
//!   [`BoxPolicy`](steadfast_core::BoxPolicy) as a tower `Layer`, so
//!   `ServiceBuilder::new().layer(PolicyLayer::new(pipeline))` guards any
//!   service, beside tower's own layers. Its [`PolicyService`] is `Clone`,
//!   `Send` and `Sync` (when the inner service is), every clone sharing the
//!   policy's state, and its future is `Send + 'static`.
//! - Replay: requests are `Clone`, so a retry or a hedge sends each attempt
//!   its own copy; [`http::HttpPolicyLayer`] buffers HTTP bodies (bounded) so
//!   they replay too.
//! - [`extract`]: each call's keys, priority and cost from its request, so
//!   per-user limits, tiers, lockout and per-tenant bulkheads work through
//!   the layer.
//! - [`service_op`]: the other direction, a tower client (tonic, hyper) as an
//!   operation a policy runs.
//! - [`http`] (feature `http`): rejections as 429 / 503 / 504 with
//!   `Retry-After`, RFC 9457 problem documents, and the IETF draft's and the
//!   legacy rate-limit headers on every response.
//! - [`axum`] (feature `axum`): `IntoResponse` for a policy's error, the
//!   peer address from `ConnectInfo`.
//! - [`grpc`] (feature `grpc`): rejections as tonic `Status` codes with the
//!   retry delay in metadata.
//!
//! # Usage
//!
//! ```
//! use std::convert::Infallible;
//! use std::time::Duration;
//! use steadfast::breaker::Breaker;
//! use steadfast::retry::Retry;
//! use steadfast_core::{Pipeline, Timeout};
//! use steadfast_tower::PolicyLayer;
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(2))?)
//!     .then(Retry::builder().max_attempts(3).build()?)
//!     .then(Breaker::builder().build()?);
//!
//! let service = ServiceBuilder::new()
//!     .layer(PolicyLayer::new(pipeline))
//!     .service_fn(|order: u32| async move { Ok::<_, Infallible>(order * 10) });
//!
//! assert_eq!(service.clone().oneshot(4).await?, 40);
//! # Ok(())
//! # }
//! ```
//!
//! # Where it sits among tower's layers
//!
//! `ServiceBuilder` runs layers outermost first. Admission happens in
//! `call`, not `poll_ready`: `poll_ready` asks the inner service, and a full
//! bulkhead or a spent limiter inside the policy refuses at once with its
//! rejection. Put tower's `ConcurrencyLimitLayer` outside to queue callers
//! instead, and tracing outermost so a refused call still has a span. See
//! `docs/tower.md` in the repository.
//!
//! # Feature flags
//!
//! - `http`: [`http::HttpPolicyLayer`], body buffering, HTTP answers and
//!   rate-limit headers.
//! - `axum`: `http`, plus [`axum::ErrorResponse`] and `ConnectInfo` keys.
//! - `grpc`: [`grpc::into_status`] for tonic.
//!
//! # Minimum supported Rust version
//!
//! Rust 1.88, edition 2024.

#[cfg(feature = "axum")]
pub mod axum;
pub mod extract;
#[cfg(feature = "grpc")]
pub mod grpc;
#[cfg(feature = "http")]
pub mod http;
mod layer;
mod op;
mod replay;
mod service;

pub use layer::PolicyLayer;
pub use op::{ServiceCall, ServiceOp, service_op};
pub use service::{PolicyService, ResponseFuture};
