//! Safe retries for steadfast: backoff with jitter, a retry budget on by
//! default, Retry-After, deadlines and hedging, behind the one
//! [`Policy`](steadfast_core::Policy) trait.
//!
//! # Overview
//!
//! A retry rescues a call from a passing fault; naive retries turn an outage
//! into a retry storm that keeps the dependency down. [`Retry`] is safe by
//! default:
//!
//! - **Backoff with jitter** ([`Backoff`], [`Jitter`]): constant, linear or
//!   exponential waits, spread by full, equal or decorrelated jitter from a
//!   seedable source, so runs replay exactly.
//! - **A budget** ([`budget`]): across every clone of the policy, a bucket of
//!   5 retry tokens that only successes refill (a fifth of a token each). In a
//!   total outage a policy retries at most 5 times in all, whatever its call
//!   rate. When it is spent, a failed call fails at once with its error.
//! - **Deadlines**: the retry reads the deadline an outer
//!   [`Timeout`](steadfast_core::Timeout) sets. It never sleeps past it, and
//!   gives up at once, with the last error, when the next attempt could not
//!   start before it. `max_attempts` and `max_elapsed` limit a call too.
//! - **Retry-After** ([`RetryAfter`]): a hint from the operation's result (an
//!   HTTP `Retry-After`, a `429` body) sets a floor on the next wait, capped
//!   by the maximum delay; rejections by inner policies carry their own.
//! - **Hedging** ([`HedgeConfig`]): more attempts beside a slow one; the first
//!   acceptable answer wins and the others are dropped.
//! - **Events**: an [`on_retry`](RetryBuilder::on_retry) hook, `tracing`
//!   events (TRACE per retry, WARN when the budget runs out), and counters
//!   in [`snapshot`](steadfast_core::Inspect::snapshot).
//!
//! A first attempt that succeeds costs one relaxed atomic increment: no clock
//! read, no lock, no allocation.
//!
//! # Usage
//!
//! ```
//! use std::time::Duration;
//! use steadfast_core::{Inspect, Pipeline, Policy, Timeout};
//! use steadfast_retry::{Backoff, Jitter, Retry};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let retry = Retry::builder()
//!     .name("inventory-retry")
//!     .max_attempts(4)
//!     .backoff(Backoff::exponential(Duration::from_millis(50), 2.0, Duration::from_secs(2))
//!         .with_jitter(Jitter::Full))
//!     .build()?;
//! // A total time limit outside the retry: retries never sleep past it.
//! let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(5))?).then(retry.clone());
//!
//! let calls = std::sync::atomic::AtomicU32::new(0);
//! let stock = pipeline
//!     .call(|| async {
//!         if calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0 {
//!             Err(std::io::Error::other("connection reset"))
//!         } else {
//!             Ok(12)
//!         }
//!     })
//!     .await?;
//! assert_eq!(stock, 12);
//! let snapshot = retry.snapshot();
//! assert_eq!((snapshot.calls, snapshot.retries), (1, 1));
//! # Ok(())
//! # }
//! ```
//!
//! # What is retried
//!
//! The [`Classifier`](steadfast_core::Classifier) decides what is a failure:
//! by default every `Err`; give your own to retry an `Ok` too (an HTTP 503).
//! Only failures are retried. Rejections by inner policies are first
//! classified by `classify_rejection`; those that are failures are then
//! retried as follows:
//!
//! | rejection | retried |
//! |---|---|
//! | timeout | yes, after the backoff |
//! | bulkhead full | yes, after the backoff |
//! | rate limited | yes, no sooner than its `retry_after` |
//! | circuit open, shed | only when it has a `retry_after` that fits the maximum delay and the deadline, then no sooner |
//!
//! A call is not retried once it has made `max_attempts` attempts, when the
//! next attempt could not start before the deadline (or `max_elapsed`), or
//! when the budget is spent; it then returns the last attempt's result.
//!
//! # Timeouts: total or per attempt
//!
//! Order decides. `Pipeline::new(timeout).then(retry)` bounds the whole call,
//! waits included, and the retry gives up early rather than start an attempt
//! past it. `Pipeline::new(retry).then(timeout)` bounds each attempt, and a
//! timed-out attempt is retried. Both together are the usual setup.
//!
//! # Hedging
//!
//! With [`RetryBuilder::hedging`], the policy hedges instead of retrying in
//! sequence: besides the first attempt, up to `max_hedged` more start
//! [after a delay](HedgeConfig::delayed), [at once](HedgeConfig::parallel) or
//! [only after a failure](HedgeConfig::fallback); a failure starts the next
//! at once in every mode. The first result the classifier does not call a
//! failure wins and the others are dropped (cancelled). Every hedge draws from
//! the budget and none starts past the deadline. Hedged attempts are marked
//! ([`Attempt::is_hedge`](steadfast_core::Attempt::is_hedge), with their
//! number), so an operation built with
//! [`with_attempt`](steadfast_core::with_attempt) can send them to a
//! secondary provider. `max_attempts` and the backoff apply to sequential
//! retries only.
//!
//! # Feature flags
//!
//! - `serde`: [`RetryConfig`] and its parts deserialize, durations written
//!   as `"30s"` or `"250ms"`.
//!
//! # Minimum supported Rust version
//!
//! Rust 1.88, edition 2024.

pub mod backoff;
pub mod budget;
mod builder;
mod config;
mod event;
mod future;
mod hedge;
mod hint;
mod policy;
mod rejection;
mod rng;
mod sequential;
mod source;

pub use backoff::{Backoff, Delays, Jitter};
pub use budget::{BudgetConfig, BudgetSnapshot};
pub use builder::RetryBuilder;
pub use config::{HedgeConfig, HedgeMode, RetryConfig};
pub use event::RetryEvent;
pub use hint::{NoRetryAfter, RetryAfter};
pub use policy::{Retry, RetrySnapshot};
