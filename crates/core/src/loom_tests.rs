//! Loom models of [`Tally`]: every interleaving of two counting threads
//! (and a reader). See `docs/loom.md`.
//!
//! `RUSTFLAGS="--cfg loom" cargo test -p steadfast-core --lib loom_tests --release`
//!
//! Built only under `cfg(all(test, loom))`, where [`crate::sync`] hands the
//! tally loom's atomics and thread-locals. The slot a thread counts in is
//! leased from a std `Mutex` that loom cannot see (see `tally::INDICES`), so
//! each model keeps its counting threads alive until both hold a slot: no
//! slot changes hands within one execution, and the models check what the
//! atomics do, not std's mutex.

use std::sync::{Mutex, PoisonError};

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use crate::tally::Tally;

/// The slot indices are process-wide: one model at a time, so each
/// execution leases the same indices in the same order.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `f` under loom, every interleaving, and says how many executions
/// that was.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let executions = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&executions);
    // Unbounded unless `LOOM_MAX_PREEMPTIONS` says otherwise: the models are
    // small enough for loom to try every interleaving. `LOOM_LOG=trace`
    // logs each step.
    loom::model(move || {
        counted.fetch_add(1, Ordering::Relaxed);
        f();
    });
    eprintln!("{} executions", executions.load(Ordering::Relaxed));
}

/// Where the counting threads wait before they exit until all hold a slot
/// (loom has no `Barrier`).
struct Leased {
    arrived: AtomicUsize,
    of: usize,
}

impl Leased {
    fn new(of: usize) -> Arc<Leased> {
        Arc::new(Leased {
            arrived: AtomicUsize::new(0),
            of,
        })
    }

    fn wait(&self) {
        self.arrived.fetch_add(1, Ordering::Relaxed);
        while self.arrived.load(Ordering::Relaxed) < self.of {
            thread::yield_now();
        }
    }
}

/// Spawns a thread that adds `n` to the tally `times` times, then waits at
/// `leased` (it holds its slot by then) before it may exit.
fn counter(tally: &Arc<Tally>, leased: &Arc<Leased>, n: u64, times: u32) -> thread::JoinHandle<()> {
    let (tally, leased) = (Arc::clone(tally), Arc::clone(leased));
    thread::spawn(move || {
        for _ in 0..times {
            tally.add(n);
        }
        leased.wait();
    })
}

/// Two threads add at once, each in the slot it leased on its first add:
/// once both are joined the sum is exact, none of the load-and-store
/// increments lost.
#[test]
fn concurrent_adds_sum_exactly() {
    model(|| {
        let tally = Arc::new(Tally::new());
        let leased = Leased::new(2);
        let a = counter(&tally, &leased, 1, 2);
        let b = counter(&tally, &leased, 10, 2);
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(tally.sum(), 22);
    });
}

/// A sum read while two threads count is one the adds could make: never
/// more than was added, never less than an earlier sum by the same reader
/// (each slot's reads are coherent), and complete after the joins.
#[test]
fn a_sum_during_adds_is_bounded_and_never_goes_back() {
    model(|| {
        let tally = Arc::new(Tally::new());
        let leased = Leased::new(2);
        let a = counter(&tally, &leased, 1, 1);
        let b = counter(&tally, &leased, 10, 1);
        let first = tally.sum();
        let second = tally.sum();
        assert!(
            [0, 1, 10, 11].contains(&first),
            "a sum no set of adds makes: {first}"
        );
        assert!(
            second >= first && second & first == first,
            "{first} then {second}"
        );
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(tally.sum(), 11);
    });
}
