//! What the bulkhead's permit counter (`semaphore::Semaphore`)
//! synchronizes with: the atomics of its state word and limit, and the
//! mutex of its queue; std's and parking_lot's, or loom's.
//!
//! Every build uses std's and parking_lot's. Only the crate's own unit
//! tests built with `--cfg loom` (`RUSTFLAGS="--cfg loom" cargo test -p
//! steadfast-bulkhead --lib loom_tests`, see `docs/loom.md`) use loom's, so
//! that the models in `loom_tests` explore every interleaving of the real
//! code. As in tokio, the switch is `all(test, loom)`: loom is a
//! dev-dependency, and this crate built as another crate's dependency keeps
//! std's even under `--cfg loom`.

#[cfg(not(all(test, loom)))]
pub(crate) use parking_lot::Mutex;
#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering};
#[cfg(all(test, loom))]
pub(crate) use mock::Mutex;

/// The mutex under loom: loom's, behind parking_lot's API (no poisoning),
/// since loom must see every lock a model takes; a parking_lot lock held
/// across a loom step would block the one OS thread loom's threads share.
#[cfg(all(test, loom))]
mod mock {
    use std::fmt;

    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            self.0
                .lock()
                .expect("a loom model panicked holding the lock")
        }
    }

    impl<T> fmt::Debug for Mutex<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Mutex").finish_non_exhaustive()
        }
    }
}
