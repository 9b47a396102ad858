//! What the direct limiter's GCRA cell (`direct::Cell`) synchronizes with:
//! the atomics of its state word and counters, std's or loom's.
//!
//! Every build uses std's. Only the crate's own unit tests built with
//! `--cfg loom` (`RUSTFLAGS="--cfg loom" cargo test -p steadfast-ratelimit
//! --lib loom_tests`, see `docs/loom.md`) use loom's, so that the models in
//! `loom_tests` explore every interleaving of the real code. As in tokio,
//! the switch is `all(test, loom)`: loom is a dev-dependency, and this
//! crate built as another crate's dependency keeps std's even under
//! `--cfg loom`.

#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};

#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};
