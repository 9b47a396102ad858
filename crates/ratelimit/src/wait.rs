//! Wait mode: a call waits for its turn, up to a maximum.
//!
//! With GCRA a waiter *reserves* its units at once: the arrival time moves
//! forward by its cost, so each waiter gets the instant its units fit, in
//! arrival order, and sleeps until exactly then. If its future is dropped
//! first, a guard hands the reservation back (the arrival time moves back by
//! the same cost). A call whose instant is past its maximum wait is refused
//! without reserving anything, and without waiting in vain.
//!
//! The window algorithms cannot reserve a slot in a future window in one
//! word, so their waiters sleep until the computed retry time and check
//! again, within the same maximum; they are not ordered among themselves.

use std::sync::atomic::Ordering;

use steadfast_core::RateLimited;
use steadfast_core::time;

use crate::algorithm::{self, Decision, Params, Reservation};
use crate::engine::Engine;
use crate::quota::Algorithm;
use crate::store::{Change, Tally};

/// One key's state word and what it belongs to.
pub(crate) trait Slot: Sync {
    fn engine(&self) -> &Engine;
    fn tier(&self) -> usize;
    /// Runs `decide` atomically on the word and applies its change.
    fn update<R>(&self, now: u64, decide: impl FnMut(u64) -> Change<R>) -> R;
    /// Hands a reservation back.
    fn give_back(&self, f: impl Fn(u64) -> u64);
    /// A call of this slot was rejected (for the abuse hook).
    fn on_rejected(&self, now: u64);
}

/// Admits `cost` units, waiting at most `max_wait` ns.
pub(crate) async fn acquire<S: Slot>(
    slot: &S,
    cost: u64,
    max_wait: u64,
) -> Result<(), RateLimited> {
    let engine = slot.engine();
    match engine.algorithm {
        Algorithm::Gcra => reserve_and_sleep(slot, cost, max_wait).await,
        Algorithm::SlidingWindow | Algorithm::FixedWindow => recheck(slot, cost, max_wait).await,
    }
}

async fn reserve_and_sleep<S: Slot>(slot: &S, cost: u64, max_wait: u64) -> Result<(), RateLimited> {
    let engine = slot.engine();
    let (params, now) = engine.begin(slot.tier());
    let granted = slot.update(now, |state| {
        match algorithm::reserve(params, state, now, cost, max_wait) {
            Reservation::Granted { tat, at } => Change {
                state: Some(tat),
                tally: Tally::Admitted,
                value: Ok(at),
            },
            Reservation::Refused(wait) => Change {
                state: None,
                tally: Tally::Rejected,
                value: Err(wait),
            },
        }
    });
    let at = match granted {
        Ok(at) => at,
        Err(wait) => {
            slot.on_rejected(now);
            return Err(engine.rejection(wait));
        }
    };
    engine.admitted(now);
    if at <= now {
        return Ok(());
    }
    let guard = Waiting {
        slot,
        params,
        cost,
        armed: true,
    };
    engine.waiting.fetch_add(1, Ordering::Relaxed);
    time::sleep_until(engine.clock.instant_at(at)).await;
    guard.admitted();
    Ok(())
}

async fn recheck<S: Slot>(slot: &S, cost: u64, max_wait: u64) -> Result<(), RateLimited> {
    let engine = slot.engine();
    let start = engine.clock.now();
    let deadline = start.saturating_add(max_wait);
    let mut counted = false;
    loop {
        let (params, now) = engine.begin(slot.tier());
        let decision = slot.update(now, |state| match engine.decide(params, state, now, cost) {
            Decision::Admit(new) => Change {
                state: Some(new),
                tally: Tally::Admitted,
                value: Ok(()),
            },
            Decision::Deny(wait) if now.saturating_add(wait) > deadline => Change {
                state: None,
                tally: Tally::Rejected,
                value: Err((wait, true)),
            },
            Decision::Deny(wait) => Change {
                state: None,
                tally: Tally::Neither,
                value: Err((wait, false)),
            },
        });
        match decision {
            Ok(()) => {
                if counted {
                    engine.waiting.fetch_sub(1, Ordering::Relaxed);
                }
                engine.admitted(now);
                return Ok(());
            }
            Err((wait, true)) => {
                if counted {
                    engine.waiting.fetch_sub(1, Ordering::Relaxed);
                }
                slot.on_rejected(now);
                return Err(engine.rejection(wait));
            }
            Err((wait, false)) => {
                if !counted {
                    counted = true;
                    engine.waiting.fetch_add(1, Ordering::Relaxed);
                }
                let guard = CountOnly(engine);
                Box::pin(time::sleep_until(
                    engine.clock.instant_at(now.saturating_add(wait)),
                ))
                .await;
                std::mem::forget(guard);
            }
        }
    }
}

/// Decrements the waiters' count if a re-checking waiter is dropped asleep.
struct CountOnly<'a>(&'a Engine);

impl Drop for CountOnly<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A GCRA reservation not yet used: dropping it hands the units back.
struct Waiting<'a, S: Slot> {
    slot: &'a S,
    params: Params,
    cost: u64,
    armed: bool,
}

impl<S: Slot> Waiting<'_, S> {
    fn admitted(mut self) {
        self.armed = false;
    }
}

impl<S: Slot> Drop for Waiting<'_, S> {
    fn drop(&mut self) {
        self.slot.engine().waiting.fetch_sub(1, Ordering::Relaxed);
        if self.armed {
            let (params, cost) = (self.params, self.cost);
            self.slot
                .give_back(|state| algorithm::give_back(params, state, cost));
        }
    }
}
