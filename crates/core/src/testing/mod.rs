//! A scripted fake operation for tests (feature `testing`).
//!
//! [`Events`] records `tracing` events, for tests of a policy's state-change
//! events.
//!
//! Every steadfast crate tests its policy against [`ScriptedOp`]: a fake
//! dependency that succeeds, fails, hangs or takes virtual time as scripted,
//! and counts what happened to it (invocations, calls in flight, the most in
//! flight at once, calls cancelled). Run such tests on tokio's paused clock.
//!
//! ```
//! use std::time::Duration;
//! use steadfast_core::testing::{ScriptedOp, Step, TestError};
//! use steadfast_core::{Error, Policy, Timeout};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let op = ScriptedOp::new([
//!     Step::err(TestError::new("connection reset")).times(2),
//!     Step::ok(7u32).after(Duration::from_millis(30)),
//! ]);
//! let timeout = Timeout::new(Duration::from_millis(100)).unwrap();
//! assert_eq!(timeout.call(op.clone()).await, Err(Error::Inner(TestError::new("connection reset"))));
//! assert!(timeout.call(op.clone()).await.is_err());
//! assert_eq!(timeout.call(op.clone()).await, Ok(7));
//! assert_eq!(timeout.call(op.clone()).await, Ok(7)); // the last step repeats
//! assert_eq!(op.invocations(), 4);
//! assert_eq!(op.in_flight(), 0);
//! # }
//! ```

mod events;
mod scripted;

pub use events::{CaptureGuard, EventRecord, Events, SpanRecord};
pub use scripted::{ScriptedFuture, ScriptedOp, Step, TestError};
