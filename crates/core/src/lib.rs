//! The contract every steadfast crate shares: one [`Policy`] trait, one
//! [`Error`], static composition, a [`Context`] per call, a [`Timeout`], and
//! time through one module.
//!
//! # Overview
//!
//! A policy runs an async call on the caller's behalf and may refuse it
//! (an open circuit, a spent rate limit), cancel it (a timeout), repeat it (a
//! retry) or replace its answer (a fallback). Every steadfast policy
//! implements [`Policy`], so any of them wraps any async call in one line, and
//! they nest into a [`Pipeline`] whose future is one concrete type: no boxing
//! and no allocation per call.
//!
//! - [`Policy`]: `policy.call(|| async { client.get(url).await }).await`.
//! - [`Error<E>`]: the operation's own error, or a named rejection with
//!   `retry_after()` and a `message()` for a person. Composition never nests it.
//! - [`Pipeline`]: policies outermost first; [`BoxPolicy`] when the pipeline
//!   is built at run time.
//! - [`Classifier`]: decides whether a result was a success, a failure or
//!   neither (an HTTP 503 inside an `Ok` is a failure).
//! - [`Context`]: a per-call key, priority, cost, deadline and attempt.
//! - [`Timeout`]: a time limit that registers no timer until the call is
//!   actually pending.
//! - [`time`]: the one clock, tokio's, so every test runs on a paused clock,
//!   and [`time::Clock`], a cheaper reading of it for hot paths.
//! - [`tally::Tally`]: an exact counter for hot paths, incremented without a
//!   locked instruction.
//! - [`ConfigError`]: what every builder returns for a bad value.
//!
//! # Usage
//!
//! ```
//! use std::time::Duration;
//! use steadfast_core::{Error, Pipeline, Policy, Timeout};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), steadfast_core::ConfigError> {
//! let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(5))?)
//!     .then(Timeout::new(Duration::from_secs(1))?);
//!
//! let result: Result<u32, Error<std::io::Error>> =
//!     pipeline.call(|| async { Ok(200) }).await;
//! match result {
//!     Ok(status) => assert_eq!(status, 200),
//!     Err(e) if e.is_rejection() => eprintln!("refused: {}", e.message()),
//!     Err(e) => eprintln!("the call failed: {e}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/concepts.md` in the repository for the design: why operations
//! are `Fn` factories, why the order of a pipeline matters, and how
//! cancellation is handled.
//!
//! # Feature flags
//!
//! - `serde`: configs deserialize, durations written as `"30s"` or `"250ms"`.
//! - `testing`: [`testing::ScriptedOp`], the scripted fake operation the
//!   steadfast crates test against.
//!
//! # Minimum supported Rust version
//!
//! Rust 1.88, edition 2024.

mod classify;
pub mod compose;
mod context;
#[cfg(feature = "serde")]
pub mod duration_serde;
mod error;
mod inspect;
mod name;
mod next;
mod operation;
pub mod owned;
mod policy;
mod sync;
pub mod tally;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod timeout;
pub mod trace;

#[cfg(all(test, loom))]
mod loom_tests;

pub use classify::{Classifier, DefaultClassifier, Outcome, classify};
pub use compose::{BoxPolicy, Identity, Last, Pipeline, Then};
pub use context::{Attempt, Context, Priority};
pub use error::{
    BulkheadFull, BulkheadReason, CircuitOpen, ConfigError, Error, ErrorKind, MissingKey,
    ProbeOrigin, RateLimited, Shed, TimedOut,
};
pub use inspect::Inspect;
pub use name::Name;
pub use next::{Bound, FlatLeaf, Leaf, LiftErr, Next};
pub use operation::{Operation, WithAttempt, with_attempt};
pub use owned::{Background, OwnedContext, OwnedKeys, Relaunch};
pub use policy::Policy;
pub use timeout::{Timeout, TimeoutConfig, TimeoutSnapshot};

/// The traits a caller needs in scope: `use steadfast_core::prelude::*;`.
pub mod prelude {
    pub use crate::{Classifier, Inspect, Policy};
}
