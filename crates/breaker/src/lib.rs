//! A circuit breaker for async Rust: it stops calling a failing dependency,
//! fails fast with a clear error, probes now and then, and closes again when
//! the dependency recovers.
//!
//! # Overview
//!
//! One [`Breaker`] guards one dependency (a database, an AI API, a payment
//! provider) for every task of the process: clones share its state. It
//! implements [`steadfast_core::Policy`], so it wraps any async call and
//! nests in a [`Pipeline`](steadfast_core::Pipeline) with the other
//! steadfast policies.
//!
//! - **Trip rules**, combinable, the first to fire opens the breaker:
//!   consecutive failures; failure rate over the last N calls or the last T
//!   of time (with a minimum number of calls); slow-call rate.
//! - **Open duration**, fixed or growing on each consecutive re-open, with
//!   optional jitter ([`OpenDuration`]).
//! - **Half-open** probing with at most K concurrent trials and a trial
//!   deadline, so a hung trial cannot wedge the breaker ([`HalfOpen`]).
//! - **Manual states**: [`isolate`](Breaker::isolate),
//!   [`disable`](Breaker::disable), [`reset`](Breaker::reset), and a
//!   metrics-only mode that never refuses a call.
//! - **Classification** of each result, an `Ok` included (an HTTP 503 is a
//!   failure, a 404 is ignored), through [`Classifier`](steadfast_core::Classifier).
//! - **Rejection** as [`Error::CircuitOpen`](steadfast_core::Error::CircuitOpen)
//!   with the breaker's name and `retry_after()`, the time until the next probe.
//! - **Permits** for calls that are not one future ([`Breaker::try_acquire`]).
//! - **Observability**: `tracing` events (WARN on open, INFO on close), a
//!   transition hook, and a [`BreakerSnapshot`].
//!
//! A closed call takes no lock and allocates nothing: one atomic load to
//! admit; to record a success, a load for the consecutive rule, two loads for
//! a count window holding no failure (else one compare-and-swap), one
//! `fetch_add` for a time window. A call that completes in its first poll
//! reads no clock. A refusal by an open breaker is one atomic load and one
//! counter increment: inside a tokio runtime the breaker arms a timer when it
//! opens, so it need not read the clock to know the open time is not up. See
//! `docs/breaker.md` for which trip rule to use, the defaults and why, and
//! what it costs.
//!
//! # Usage
//!
//! ```
//! use std::time::Duration;
//! use steadfast_breaker::{Breaker, OpenDuration};
//! use steadfast_core::{Error, Outcome, Policy};
//!
//! struct Response { status: u16 }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), steadfast_core::ConfigError> {
//! let breaker = Breaker::builder()
//!     .name("ai-api")
//!     .consecutive_failures(3)
//!     .open_duration(OpenDuration::growing(Duration::from_secs(60), 2.0, Duration::from_secs(600)))
//!     .classifier(|r: &Result<Response, std::io::Error>| match r {
//!         Ok(resp) if resp.status >= 500 => Outcome::Failure,
//!         Ok(resp) if resp.status == 404 => Outcome::Ignore,
//!         Ok(_) => Outcome::Success,
//!         Err(_) => Outcome::Failure,
//!     })
//!     .build()?;
//!
//! for _ in 0..3 {
//!     let _ = breaker.call(|| async { Ok(Response { status: 503 }) }).await;
//! }
//! match breaker.call(|| async { Ok(Response { status: 200 }) }).await {
//!     Err(Error::CircuitOpen(open)) => {
//!         assert_eq!(open.policy_name(), "ai-api");
//!         assert_eq!(open.retry_after(), Some(Duration::from_secs(60)));
//!     }
//!     _ => unreachable!("three 503s in a row open the breaker"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Feature flags
//!
//! - `serde`: [`BreakerConfig`] deserializes, durations written as `"30s"`
//!   or `"250ms"`.
//!
//! # Minimum supported Rust version
//!
//! Rust 1.88, edition 2024.

mod breaker;
mod builder;
mod config;
mod core;
mod events;
pub mod future;
mod permit;
mod snapshot;
mod state;
mod sync;
mod window;

#[cfg(all(test, loom))]
mod loom_tests;

pub use breaker::Breaker;
pub use builder::BreakerBuilder;
pub use config::{
    BreakerConfig, CountWindow, FailureRate, HalfOpen, OpenDuration, SlowCallRate, TimeWindow,
    Window,
};
pub use events::{Reason, Transition};
pub use future::BreakerFuture;
pub use permit::{OwnedPermit, Permit};
pub use snapshot::BreakerSnapshot;
pub use state::State;
