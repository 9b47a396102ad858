//! Loom models of the bulkhead's permit counter: every interleaving of two
//! threads taking, waiting for, handing over and giving back a permit of a
//! one-permit semaphore. See `docs/loom.md`.
//!
//! `RUSTFLAGS="--cfg loom" cargo test -p steadfast-bulkhead --lib loom_tests --release`
//!
//! Built only under `cfg(all(test, loom))`, where [`crate::sync`] hands the
//! semaphore loom's atomics and mutex: the state word, the limit and the
//! queue's lock. The wait is the real [`Acquire`](crate::semaphore::Acquire)
//! future, driven by `loom::future::block_on`, whose waker is loom's: the
//! semaphore needs no tokio to queue and wake (only a queue timeout sleeps
//! on tokio's timer, and these models set none).
//!
//! Each holder checks the permit's two promises: no other holder at once (a
//! counter of holders, whose read-modify-writes see the latest value), and
//! everything the last holder did is visible (a value each holder bumps
//! with a relaxed load and store, so only the semaphore's own ordering can
//! make the bumps add up).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use loom::sync::Arc;
use loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use loom::thread;
use steadfast_core::Name;

use crate::semaphore::{QueueRules, Semaphore};

/// Runs `f` under loom, every interleaving, and says how many executions
/// that was.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let executions = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&executions);
    // Unbounded unless `LOOM_MAX_PREEMPTIONS` says otherwise: the models are
    // small enough for loom to try every interleaving. `LOOM_LOG=trace`
    // logs each step.
    loom::model(move || {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    eprintln!(
        "{} executions",
        executions.load(std::sync::atomic::Ordering::Relaxed)
    );
}

/// A one-permit semaphore queueing up to `max_queued` callers, and what
/// its holders share.
struct Guarded {
    semaphore: Semaphore,
    holders: AtomicUsize,
    bumps: AtomicU64,
}

impl Guarded {
    fn new(max_queued: u32) -> Arc<Guarded> {
        let rules = QueueRules {
            max_queued,
            max_wait: None,
            codel: None,
        };
        Arc::new(Guarded {
            semaphore: Semaphore::new(Name::from("loom"), None, 1, rules),
            holders: AtomicUsize::new(0),
            bumps: AtomicU64::new(0),
        })
    }

    /// A bulkhead call: the fast path, else the queue; then, holding the
    /// permit, the checks, and the permit back. Whether it got the permit.
    fn call(&self) -> bool {
        let held = self.semaphore.try_acquire()
            || loom::future::block_on(self.semaphore.acquire(None)).is_ok();
        if held {
            assert_eq!(self.holders.fetch_add(1, Relaxed), 0, "two holders");
            self.bumps.store(self.bumps.load(Relaxed) + 1, Relaxed);
            self.holders.fetch_sub(1, Relaxed);
            self.semaphore.release();
        }
        held
    }

    /// Every permit back, nobody queued, the saturated mark off.
    fn assert_idle(&self) {
        let counts = self.semaphore.counts();
        assert_eq!(
            (counts.in_flight, counts.waiting, counts.saturated),
            (0, 0, false),
            "{counts:?}"
        );
    }
}

/// Two callers, one permit, room for one in the queue: both get the permit
/// in turn (at once, from the queue, or handed over by the release), never
/// both at once, each seeing the other's work; the permit comes back.
#[test]
fn two_callers_share_one_permit_through_the_queue() {
    model(|| {
        let g = Guarded::new(1);
        let other = {
            let g = Arc::clone(&g);
            thread::spawn(move || g.call())
        };
        assert!(g.call());
        assert!(other.join().unwrap());
        assert_eq!(g.bumps.load(Relaxed), 2);
        g.assert_idle();
    });
}

/// Two callers, one permit, no queue: a caller that finds it taken is
/// refused and marks the bulkhead saturated; the holder's release clears
/// the mark. Never two holders; the permit comes back.
#[test]
fn a_refusal_marks_saturation_and_the_release_clears_it() {
    model(|| {
        let g = Guarded::new(0);
        let other = {
            let g = Arc::clone(&g);
            thread::spawn(move || g.call())
        };
        let held = u64::from(g.call()) + u64::from(other.join().unwrap());
        assert!(held >= 1, "the first caller finds the permit free");
        assert_eq!(g.bumps.load(Relaxed), held);
        g.assert_idle();
    });
}

/// A queued caller gives up (its future dropped) while the holder gives the
/// permit back, perhaps handing it to that very caller: a permit handed to
/// a waiter being dropped is given back, not lost, and the dropped waiter
/// leaves the queue.
#[test]
fn a_waiter_dropped_as_the_permit_is_handed_to_it() {
    model(|| {
        let g = Guarded::new(1);
        assert!(g.semaphore.try_acquire());
        let holder = {
            let g = Arc::clone(&g);
            thread::spawn(move || g.semaphore.release())
        };
        {
            let mut acquire = pin!(g.semaphore.acquire(None));
            let polled = acquire
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()));
            if let Poll::Ready(answer) = polled {
                // The release came first: the permit was free.
                assert_eq!(answer, Ok(()));
                g.semaphore.release();
            }
            // Pending: queued, dropped here, granted or not.
        }
        holder.join().unwrap();
        g.assert_idle();
    });
}
