//! Where keyed state lives: the [`StateStore`] seam.
//!
//! The algorithms are pure functions of one `u64` state word per key (see
//! the crate docs). A store only has to run such a function atomically on a
//! key's word: read it (0 when the key is unknown), let the algorithm decide,
//! write the new word back. [`MemoryStore`], the default, does it under a
//! shard lock; a shared store (Redis, in a later crate) can do the same with
//! a compare-and-swap loop or a server-side script, so every instance runs
//! the same algorithms against the same state.
//!
//! The seam is a generic parameter, not a trait object: a limiter over
//! [`MemoryStore`] compiles to the direct calls it would make without it.

mod memory;

pub use memory::MemoryStore;

/// How a change counts in the limiter's snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tally {
    /// An admission.
    Admitted,
    /// A rejection.
    Rejected,
    /// Neither: a decision that is not the call's last (a waiter re-checking).
    Neither,
}

/// What a decision does to a key's state word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change<R> {
    /// The new state word to store; `None` leaves the word as it was.
    pub state: Option<u64>,
    /// How the decision counts.
    pub tally: Tally,
    /// What the decision returns to the limiter.
    pub value: R,
}

/// Tells a store when a key's state is back to full, so it may forget it.
pub trait Expiry<K: ?Sized> {
    /// The time (nanoseconds on the limiter's clock) at which `state` is
    /// full again; at or before `now` means it already is.
    fn full_at(&self, key: &K, state: u64, now: u64) -> u64;
}

/// Holds one `u64` state word per key for a keyed limiter.
///
/// Implementations must make [`update`](StateStore::update) atomic per key:
/// no other update of the same key may interleave between the read and the
/// write. A store may call `decide` more than once (a compare-and-swap loop
/// that lost a race); it must store the word of the last call only.
pub trait StateStore<K>: Send + Sync + 'static {
    /// Runs `decide` on the key's word (0 when untracked) and stores its change.
    ///
    /// `expiry` says which words are full, should the store make room.
    fn update<R>(
        &self,
        key: &K,
        now: u64,
        decide: impl FnMut(u64) -> Change<R>,
        expiry: &impl Expiry<K>,
    ) -> R;

    /// The key's word, or 0 when untracked; consumes nothing.
    fn get(&self, key: &K) -> u64;

    /// Replaces the word of a tracked key (a waiter handing back its
    /// reservation: `admitted` is decremented); an untracked key stays so.
    fn give_back(&self, key: &K, f: impl FnOnce(u64) -> u64);

    /// Forgets every key whose word is full at `now`; returns how many.
    fn sweep(&self, now: u64, expiry: &impl Expiry<K>) -> usize;

    /// Keys tracked, admissions and rejections counted so far.
    fn stats(&self) -> StoreStats;
}

/// What [`StateStore::stats`] reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreStats {
    /// Keys with a state word now.
    pub tracked: usize,
    /// Changes counted as [`Tally::Admitted`], less give-backs.
    pub admitted: u64,
    /// Changes counted as [`Tally::Rejected`].
    pub rejected: u64,
    /// Heap bytes the store holds for its keys, where it knows.
    pub heap_bytes: usize,
}

/// A shared store: every limiter holding a clone of the `Arc` reads and
/// writes the same keys (what
/// [`KeyedRateLimiter::reconfigured`](crate::KeyedRateLimiter::reconfigured)
/// needs to hand the keys to a limiter with new quotas).
impl<K, S: StateStore<K>> StateStore<K> for std::sync::Arc<S> {
    #[inline]
    fn update<R>(
        &self,
        key: &K,
        now: u64,
        decide: impl FnMut(u64) -> Change<R>,
        expiry: &impl Expiry<K>,
    ) -> R {
        (**self).update(key, now, decide, expiry)
    }

    fn get(&self, key: &K) -> u64 {
        (**self).get(key)
    }

    fn give_back(&self, key: &K, f: impl FnOnce(u64) -> u64) {
        (**self).give_back(key, f);
    }

    fn sweep(&self, now: u64, expiry: &impl Expiry<K>) -> usize {
        (**self).sweep(now, expiry)
    }

    fn stats(&self) -> StoreStats {
        (**self).stats()
    }
}
