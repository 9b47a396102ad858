//! Fault injection for steadfast pipelines, and an outage simulator that
//! measures what a pipeline does through an outage.
//!
//! # Injecting faults
//!
//! [`Chaos`] is a policy like any other: put it in a pipeline where the
//! dependency would fail (innermost, next to the operation) and it injects
//! a [`Fault`] into a fraction of the calls — an error (the operation's
//! own, or a rejection), a delay ([`Latency`]: fixed, uniform, long-tailed)
//! or an answer of its own (a `503` response). It is seeded (the same seed
//! picks the same calls), switchable at run time on every clone
//! ([`set_enabled`](Chaos::set_enabled), [`set_rate`](Chaos::set_rate)),
//! scheduled ([`between`](ChaosBuilder::between) two times on tokio's
//! clock) and keyed ([`only_keys`](ChaosBuilder::only_keys)). Disabled, a
//! call through it runs untouched after one relaxed load.
//!
//! ```
//! use std::time::Duration;
//! use steadfast_chaos::{Chaos, Fault};
//! use steadfast_core::{Pipeline, Policy, Timeout};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Half the calls fail as the database would, from 10 s to 40 s.
//! let chaos = Chaos::builder(Fault::error(|| "connection reset"))
//!     .rate(0.5)
//!     .between(Duration::from_secs(10), Duration::from_secs(40))
//!     .seed(7)
//!     .build()?;
//! let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(1))?).then(chaos.clone());
//!
//! let before = pipeline.call(|| async { Ok::<_, &str>("row") }).await;
//! assert_eq!(before.ok(), Some("row")); // before the window: untouched
//! tokio::time::advance(Duration::from_secs(10)).await;
//! let mut failed = 0;
//! for _ in 0..100 {
//!     failed += u32::from(pipeline.call(|| async { Ok::<_, &str>("row") }).await.is_err());
//! }
//! assert!(failed > 30 && failed < 70);
//! chaos.set_enabled(false); // from an admin endpoint, say
//! assert!(pipeline.call(|| async { Ok::<_, &str>("row") }).await.is_ok());
//! # Ok(())
//! # }
//! ```
//!
//! # Replaying outages
//!
//! [`sim`] runs open-loop clients against a simulated dependency with
//! capacity through scripted phases, on tokio's paused clock, and reports
//! per phase: amplification (attempts per call), client error rate,
//! goodput, latency percentiles, and the times to detect a fault and to
//! recover from it. The crate's `scorecard` example compares pipelines
//! (`cargo run --release -p steadfast-chaos --example scorecard`);
//! docs/reliability.md shows its table.

mod chaos;
mod fault;
mod rng;
pub mod sim;

pub use chaos::{Chaos, ChaosBuilder, ChaosSnapshot};
pub use fault::{Fault, Latency};
