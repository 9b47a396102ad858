//! [`Tally`]: an exact event counter whose increment takes no lock.
//!
//! # Why
//!
//! A policy counts its calls on the hot path (a retry's calls feed its
//! budget; a breaker counts what it refuses). An `AtomicU64::fetch_add` is
//! a locked instruction: on x86 it waits for every store before it to reach
//! the cache, which costs about 6 ns on some of the machines steadfast is
//! measured on, more than the rest of a first successful retry or of a
//! refusal by an open breaker.
//!
//! # How
//!
//! Each thread that counts gets a small process-wide index the first time it
//! does; index `i` owns slot `i` of every tally. Only its owner writes a
//! slot, so an increment is a plain load and store, no lock. Reading sums
//! the slots. A thread gives its index back when it exits, and the next
//! thread to need one takes the lowest free index, so the indices in use stay
//! as few as the threads that count at once. Threads beyond the slots a tally
//! has (one per CPU, at least four) and threads already exiting share one
//! more slot and add to it with `fetch_add`: slower, still exact.
//!
//! Each slot fills a cache line pair of its own, so threads counting on
//! different cores never write the same line: a tally costs 128 bytes per
//! slot.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::{Mutex, OnceLock};

use crate::sync::{AtomicU64, Ordering::Relaxed};

/// An exact event counter: a lock-free increment for each of up to one
/// thread per CPU at once, a sum to read it. See the [module docs](self).
///
/// ```
/// use steadfast_core::tally::Tally;
///
/// let calls = Tally::new();
/// std::thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             for _ in 0..1_000 {
///                 calls.add(1);
///             }
///         });
///     }
/// });
/// assert_eq!(calls.sum(), 4_000);
/// ```
pub struct Tally {
    /// Slot `i` is written only by the thread holding index `i`.
    owned: Box<[Slot]>,
    /// For threads without an index of their own.
    shared: Slot,
}

/// One thread's count, alone in its cache lines (two: x86's adjacent-line
/// prefetcher pulls lines in pairs).
#[repr(align(128))]
#[derive(Default)]
struct Slot(AtomicU64);

impl Slot {
    /// Adds `n` without a lock: only for the slot's one writer.
    #[inline]
    fn add_as_owner(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }
}

/// A thread that has not counted yet.
const UNASSIGNED: usize = usize::MAX;
/// A thread whose index was given back as it exits: it uses the shared slot.
const EXITED: usize = usize::MAX - 1;

// std's `thread_local!`, or loom's in the loom models (see `crate::sync`).
crate::sync::thread_local! {
    // No destructor, so reading it is one load from thread-local storage.
    static INDEX: Cell<usize> = const { Cell::new(UNASSIGNED) };
    // Gives the index back when the thread exits.
    static LEASE: RefCell<Option<Lease>> = const { RefCell::new(None) };
}

/// Indices given back by threads that exited, and the next never used.
///
/// std's `Mutex` even in the loom models (a loom object cannot live in a
/// `static`): loom does not see the order it gives a reused slot, so the
/// models keep every counting thread alive until all have leased theirs.
static INDICES: Mutex<(Vec<usize>, usize)> = Mutex::new((Vec::new(), 0));

struct Lease(usize);

impl Drop for Lease {
    fn drop(&mut self) {
        // Counts made from here on (by other thread-local destructors) go to
        // the shared slot: the index may belong to another thread by then.
        // `INDEX` has no destructor, so std's `try_with` never fails here;
        // loom's mock (see `crate::sync`) tears every key down first, and
        // then a later count finds no index and uses the shared slot anyway.
        let _ = INDEX.try_with(|i| i.set(EXITED));
        let mut indices = INDICES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        indices.0.push(self.0);
    }
}

/// The slots every tally has for threads of their own: one per CPU (at
/// least four, at most 256).
fn slot_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(4, std::num::NonZero::get);
        cpus.clamp(4, 256)
    })
}

impl Tally {
    /// A tally at zero.
    pub fn new() -> Self {
        Tally {
            owned: (0..slot_count()).map(|_| Slot::default()).collect(),
            shared: Slot::default(),
        }
    }

    /// Adds `n` (wrapping at `u64::MAX`).
    #[inline]
    pub fn add(&self, n: u64) {
        // `try_with`, not `with`: rustc (1.95) emits `with` in one codegen
        // unit of the calling crate rather than beside each caller, so the
        // key's accessor is found only at link time, too late to inline,
        // and the read costs a call (a third of a retry's first success).
        // `INDEX` has no destructor, so `try_with` never fails.
        let index = INDEX.try_with(Cell::get).unwrap_or(EXITED);
        // Without an index, `index` is past every slot.
        match self.owned.get(index) {
            // Only this thread writes its slot (see the module docs), so a
            // load and a store add exactly.
            Some(slot) => slot.add_as_owner(n),
            None => self.add_slow(index, n),
        }
    }

    /// A thread without a slot of its own: takes an index if it has none,
    /// else adds to the shared slot.
    #[cold]
    #[inline(never)]
    fn add_slow(&self, index: usize, n: u64) {
        if index == UNASSIGNED
            && let Some(index) = lease()
            && let Some(slot) = self.owned.get(index)
        {
            slot.add_as_owner(n);
            return;
        }
        self.shared.0.fetch_add(n, Relaxed);
    }

    /// The total of every addition made before (in the happens-before
    /// sense; concurrent ones may or may not be included).
    pub fn sum(&self) -> u64 {
        self.owned
            .iter()
            .fold(self.shared.0.load(Relaxed), |sum, slot| {
                sum.wrapping_add(slot.0.load(Relaxed))
            })
    }
}

/// Takes the lowest free index for this thread, or `None` while the thread
/// is exiting (its lease could not be kept).
fn lease() -> Option<usize> {
    LEASE
        .try_with(|lease| {
            let mut indices = INDICES
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let (free, next) = &mut *indices;
            let lowest = free.iter().enumerate().min_by_key(|&(_, &i)| i);
            let index = if let Some((at, _)) = lowest {
                free.swap_remove(at)
            } else {
                *next += 1;
                *next - 1
            };
            *lease.borrow_mut() = Some(Lease(index));
            INDEX.with(|i| i.set(index));
            index
        })
        .ok()
}

impl Default for Tally {
    fn default() -> Self {
        Tally::new()
    }
}

impl fmt::Debug for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Tally").field(&self.sum()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Held by the tests that spawn threads, so their indices do not mix.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn counts_exactly_across_threads() {
        let _serial = SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tally = Tally::new();
        tally.add(2);
        std::thread::scope(|s| {
            for _ in 0..16 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        tally.add(1);
                    }
                });
            }
        });
        assert_eq!(tally.sum(), 160_002);
    }

    #[test]
    fn more_threads_than_slots_share_a_slot() {
        let _serial = SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tally = Tally::new();
        let threads = slot_count() * 2;
        let barrier = std::sync::Barrier::new(threads);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    tally.add(1);
                    // All alive at once: at most `slot_count()` own a slot.
                    barrier.wait();
                    tally.add(1);
                });
            }
        });
        assert_eq!(tally.sum(), 2 * threads as u64);
        assert!(tally.shared.0.load(Relaxed) > 0);
    }

    #[test]
    fn indices_are_given_back_when_threads_exit() {
        let _serial = SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A thread pool's churn must not use up the slots: each thread here
        // exits before the next starts and gives its index back, so three
        // times as many threads as slots each still find one. (Which index
        // each gets depends on the test harness's own threads, which may
        // hold some while this runs.)
        let index = || {
            std::thread::spawn(|| {
                Tally::new().add(1);
                INDEX.with(Cell::get)
            })
            .join()
            .unwrap()
        };
        for _ in 0..3 * slot_count() {
            assert!(index() < slot_count());
        }
    }

    #[test]
    fn a_count_from_a_thread_local_destructor_is_kept() {
        struct CountOnDrop(std::sync::Arc<Tally>);
        impl Drop for CountOnDrop {
            fn drop(&mut self) {
                self.0.add(1);
            }
        }
        thread_local! {
            static LATE: RefCell<Option<CountOnDrop>> = const { RefCell::new(None) };
        }
        let _serial = SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tally = std::sync::Arc::new(Tally::new());
        let t = std::sync::Arc::clone(&tally);
        std::thread::spawn(move || {
            t.add(1);
            LATE.with(|l| *l.borrow_mut() = Some(CountOnDrop(t)));
        })
        .join()
        .unwrap();
        assert_eq!(tally.sum(), 2);
    }
}
