//! Graceful degradation: when a dependency fails or the service is
//! overloaded, serve the next best thing instead of an error page.
//!
//! # Overview
//!
//! - [`Fallback`]: on a failure (any classified failure, or only chosen kinds:
//!   open circuit, timeout, rate limited), answer with a value from a closure,
//!   sync or async, that sees the error. "AI temporarily unavailable, try
//!   again soon" is one line.
//! - [`LastKnownGood`]: remember the last successful value (per key,
//!   bounded) and serve it on failure while it is younger than a maximum
//!   age, marked stale with its age ([`Served`]).
//! - [`LoadShedder`]: shed the least important work first, by the priority
//!   in each call's context, as in-flight work or latency crosses each
//!   class's threshold; critical work last. [`AdaptiveThrottle`] sheds on the
//!   client side with the SRE book's adaptive throttling (`K = 2`).
//! - [`Optional`]: a non-critical dependency's failure becomes `Ok(None)`,
//!   and the call is skipped while a given breaker is open.
//!
//! Each policy implements [`Policy`](steadfast_core::Policy) and
//! [`Inspect`](steadfast_core::Inspect) (a cheap snapshot of its counters),
//! and logs with `tracing` when it starts and stops degrading.
//!
//! # Fallbacks that do not lie
//!
//! A degraded answer should say it is degraded. [`LastKnownGood`] answers
//! [`Served<T>`], which carries whether the value is stale and how old it
//! is; [`Optional`] answers `None`, never an empty value dressed as a real
//! one; a [`Fallback`] closure sees the error and should produce a value the
//! caller can tell apart from a real answer.
//!
//! # Usage
//!
//! ```
//! use std::time::Duration;
//! use steadfast_core::{ErrorKind, Pipeline, Policy, Timeout, testing::TestError};
//! use steadfast_degrade::Fallback;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let ai = Pipeline::new(
//!     Fallback::builder()
//!         .only_on([ErrorKind::Timeout, ErrorKind::CircuitOpen, ErrorKind::RateLimited])
//!         .from_fn(|_| "AI temporarily unavailable, try again soon".to_owned()),
//! )
//! .then(Timeout::new(Duration::from_secs(2))?);
//!
//! let answer = ai
//!     .call(|| async {
//!         tokio::time::sleep(Duration::from_secs(30)).await; // the model is slow today
//!         Ok::<_, TestError>("a poem".to_owned())
//!     })
//!     .await?;
//! assert_eq!(answer, "AI temporarily unavailable, try again soon");
//! # Ok(())
//! # }
//! ```
//!
//! # Naming the types
//!
//! Every type a policy is made of is at the crate root, so a struct field or
//! an axum `State` can hold one:
//!
//! ```
//! use steadfast_core::{Error, Policy, testing::TestError};
//! use steadfast_degrade::{Fallback, FromFn};
//!
//! struct AppState {
//!     fallback: Fallback<FromFn<fn(Error<TestError>) -> String>>,
//! }
//!
//! fn canned(_: Error<TestError>) -> String {
//!     "AI temporarily unavailable, try again soon".to_owned()
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let state = AppState { fallback: Fallback::from_fn(canned as fn(_) -> _) };
//! let answer = state.fallback.call(|| async { Err::<String, _>(TestError::new("down")) }).await;
//! assert_eq!(answer.unwrap(), "AI temporarily unavailable, try again soon");
//! # }
//! ```
//!
//! # Keys
//!
//! A keyed [`LastKnownGood`] refuses a call that carries no key of its type
//! with [`Error::MissingKey`](steadfast_core::Error::MissingKey) unless its
//! config opts in to sharing one value; events name the policy, never a key.
//!
//! # Feature flags
//!
//! - `serde`: the configs ([`LastKnownGoodConfig`], [`LoadShedderConfig`],
//!   [`AdaptiveThrottleConfig`]) serialize and deserialize, durations
//!   written as `"250ms"`; every snapshot serializes with stable field
//!   names.
//!
//! # Minimum supported Rust version
//!
//! Rust 1.88, edition 2024.

mod adapt;
mod episode;
pub mod fallback;
pub mod last_known_good;
pub mod optional;
mod rng;
#[cfg(feature = "serde")]
mod serde_text;
pub mod shed;

pub use adapt::{Fresh, MapOk, SomeOp, fresh, some};
pub use fallback::{
    Fallback, FallbackBuilder, FallbackSnapshot, FromAsync, FromFn, KindSet, NoFuture, Produce,
    Produced,
};
pub use last_known_good::{
    LastKnownGood, LastKnownGoodBuilder, LastKnownGoodConfig, LastKnownGoodSnapshot, Served,
};
pub use optional::{CircuitState, NoBreaker, Optional, OptionalBuilder, OptionalSnapshot};
pub use shed::{
    AdaptiveThrottle, AdaptiveThrottleConfig, AdaptiveThrottleSnapshot, LoadShedder,
    LoadShedderBuilder, LoadShedderConfig, LoadShedderSnapshot, ShedClass, ShedClassSnapshot,
};
