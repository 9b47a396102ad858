//! What the lock-free [`Tally`](crate::tally::Tally) synchronizes with: the
//! atomics and the thread-local keys, std's or loom's.
//!
//! Every build uses std's. Only the crate's own unit tests built with
//! `--cfg loom` (`RUSTFLAGS="--cfg loom" cargo test -p steadfast-core --lib
//! loom_tests`, see `docs/loom.md`) use loom's, so that the models in
//! `loom_tests` explore every interleaving of the real code. As in tokio,
//! the switch is `all(test, loom)`: loom is a dev-dependency, and this
//! crate built as another crate's dependency keeps std's even under
//! `--cfg loom`.

#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(all(test, loom)))]
pub(crate) use std::thread_local;

#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};

/// Loom's thread-locals, too: its threads share one OS thread, so std's
/// would give every modelled thread the same slot index. Loom's macro (an
/// edition 2021 `expr`) does not take the `const { .. }` initializers the
/// tally's keys use: this one takes them and hands loom the expression.
#[cfg(all(test, loom))]
macro_rules! loom_thread_local {
    ($($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr };)*) => {
        loom::thread_local! { $($(#[$attr])* $vis static $name: $t = $init;)* }
    };
}
#[cfg(all(test, loom))]
pub(crate) use loom_thread_local as thread_local;
