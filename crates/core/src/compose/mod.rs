//! Static composition of policies, outermost first, and its type-erased form.
//!
//! A [`Pipeline`] nests policies in the order they are written: the first one
//! added sees the call first and the result last.
//!
//! ```
//! use std::time::Duration;
//! use steadfast_core::{Identity, Pipeline, Policy, Timeout};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(10))?) // total
//!     .then(Identity)                                                 // a retry would go here
//!     .then(Timeout::new(Duration::from_secs(2))?);                   // per attempt
//! let n = pipeline.call(|| async { Ok::<_, std::io::Error>(1) }).await?;
//! assert_eq!(n, 1);
//! # Ok(())
//! # }
//! ```
//!
//! # Order
//!
//! The usual order, outermost first, and why:
//!
//! 1. **fallback** — sees every failure below it, so it can answer for all of them;
//! 2. **cache** — a hit skips everything below; a stale entry can answer a rejection;
//! 3. **total timeout** — bounds the whole call, retries and backoff included;
//! 4. **retry** — repeats what is below; it reads the total deadline so it never
//!    sleeps past it;
//! 5. **circuit breaker** — sees each attempt, so a retry storm trips it;
//! 6. **rate limit** — each attempt spends quota;
//! 7. **bulkhead** — holds a permit only while an attempt runs;
//! 8. **attempt timeout** — bounds one attempt, so a slow one is retried.
//!
//! A `Pipeline` of five policies is one concrete type; its future is the sum
//! of theirs. To keep one in a struct, name it with
//! [`pipeline_type!`](crate::pipeline_type). When the pipeline is only known
//! at run time (built from configuration), erase it with [`BoxPolicy`],
//! which allocates per call.

mod boxed;
mod identity;
mod last;
mod pipeline;
mod pipeline_type;
mod then;

pub use boxed::BoxPolicy;
pub use identity::Identity;
pub use last::Last;
pub use pipeline::{Append, Pipeline};
pub use then::Then;
