//! Whole steadfast pipelines from a config file, reloaded without losing
//! state.
//!
//! A config names **policies** (shared: one breaker for every pipeline
//! that names it) and **pipelines** (stages outermost first), starts them
//! from **presets** (`breaker = "ai_api"`), and lets every pipeline inherit
//! **defaults**. [`Config::from_toml`] reads and validates it, every
//! problem at its path; [`Configured::new`] builds it; a
//! [`ConfiguredPipeline`] is a [`Policy`](steadfast_core::Policy) to call
//! through; [`Configured::registry`] feeds steadfast-observe's health
//! report and metrics; [`Configured::reload`] applies a new config, keeping
//! the breakers' state, the limiters' keys and the bulkheads' permits.
//!
//! ```
//! use steadfast_config::{Config, Configured};
//! use steadfast_core::{Error, Policy};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let config = Config::from_toml(r#"
//!     [defaults]
//!     timeout = { limit = "2s" }
//!     retry = { max_attempts = 3 }
//!
//!     [policies.db]
//!     breaker = "database"
//!     [policies.db_pool]
//!     bulkhead = { max_concurrent = 20, max_queued = 50 }
//!
//!     [pipelines.orders]
//!     stages = ["timeout", "retry", "db", "db_pool"]
//!
//!     [pipelines.summary]
//!     retry = { max_attempts = 2 }          # over the default's other fields
//!     breaker = { preset = "ai_api", critical = true }
//! "#).unwrap();
//! let live = Configured::new(config).unwrap();
//! let orders = live.pipeline::<u32, std::io::Error>("orders").unwrap();
//! assert_eq!(orders.call(|| async { Ok(3) }).await.unwrap(), 3);
//! assert_eq!(live.registry().len(), 7);
//! # }
//! ```
//!
//! docs/configuration.md has the complete layout, the presets, the
//! validation rules and what a reload keeps.

mod error;
mod handle;
mod live;
mod observe;
mod parse;
mod pipeline;
mod presets;
mod spec;
#[cfg(feature = "toml")]
mod watch;

pub use error::{ConfigErrors, LoadError, Problem};
pub use live::{Configured, ReloadReport};
pub use pipeline::ConfiguredPipeline;
pub use spec::{Config, Kind, PipelineSpec, PolicyConfig, PolicySpec, SECTIONS, Stage};
#[cfg(feature = "toml")]
pub use watch::Watcher;
