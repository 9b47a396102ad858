//! The permit counter: one atomic word on the fast path, a FIFO queue behind a
//! lock on the slow one.
//!
//! # Layout of `state`
//!
//! ```text
//!  63        62 ........ 32   31 ......... 0
//! [saturated][   waiting   ][   in flight   ]
//! ```
//!
//! - A caller takes a permit with one compare-and-swap when nobody waits and
//!   fewer than `limit` calls are in flight. Because the swap compares the
//!   whole word, it fails if a waiter queued meanwhile: a newcomer never
//!   overtakes the queue.
//! - A call gives its permit back with one compare-and-swap when nobody waits
//!   and the bulkhead is not marked saturated. Otherwise it takes the lock and
//!   hands the permit straight to the waiter at the front (in flight stays the
//!   same, waiting drops by one), or clears the saturated mark.
//! - `waiting` only changes under the lock and always equals the queue's
//!   length, so under the lock the queue and the word agree. Outside the lock
//!   only `in flight` moves, and only while `waiting` is zero.
//! - `saturated` is set when a caller finds no permit (it queues or is
//!   refused) and cleared by the release that leaves a permit free with nobody
//!   waiting; the two edges are the `tracing` events "saturated" and
//!   "no longer saturated".
//!
//! Invariant, under the lock: `waiting > 0` implies `in flight >= limit`, so
//! a queued caller is never left behind while a permit is free.

use std::task::Waker;
use std::time::Duration;

use steadfast_core::time::{self, Instant};
use steadfast_core::{BulkheadReason, Name};

pub(crate) use crate::acquire::Acquire;
use crate::queue::{Status, WaitQueue, WaiterKey};
// std's atomics and parking_lot's mutex, or loom's in the loom models.
use crate::sync::{AtomicU32, AtomicU64, Mutex, Ordering};

const IN_FLIGHT_MASK: u64 = (1 << 32) - 1;
const WAITING_ONE: u64 = 1 << 32;
const WAITING_MASK: u64 = ((1 << 31) - 1) << 32;
const SATURATED: u64 = 1 << 63;

#[inline]
#[allow(clippy::cast_possible_truncation)] // masked to 32 bits first
fn in_flight(state: u64) -> u32 {
    (state & IN_FLIGHT_MASK) as u32
}

#[inline]
#[allow(clippy::cast_possible_truncation)] // masked to 31 bits first
fn waiting(state: u64) -> u32 {
    ((state & WAITING_MASK) >> 32) as u32
}

/// CoDel-style overload rejection: once the queue has been non-empty for
/// `interval`, a caller that has waited `target` is refused.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CoDel {
    pub(crate) target: Duration,
    pub(crate) interval: Duration,
}

/// How a semaphore queues; fixed when it is built.
#[derive(Clone, Debug)]
pub(crate) struct QueueRules {
    pub(crate) max_queued: u32,
    pub(crate) max_wait: Option<Duration>,
    pub(crate) codel: Option<CoDel>,
}

#[derive(Debug)]
pub(crate) struct Locked {
    pub(crate) waiters: WaitQueue,
    /// When the queue last went from empty to non-empty (kept only with CoDel).
    busy_since: Option<Instant>,
}

/// A counting semaphore with a FIFO queue and a limit that may change; see
/// the [module docs](self).
#[derive(Debug)]
pub(crate) struct Semaphore {
    state: AtomicU64,
    limit: AtomicU32,
    pub(crate) locked: Mutex<Locked>,
    rules: QueueRules,
    name: Name,
    /// The key of a keyed bulkhead's partition, as its events write it;
    /// `None` unless the user opted in to keys in events (`log_keys`).
    key: Option<Box<str>>,
}

/// Counts read from the state word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) limit: u32,
    pub(crate) in_flight: u32,
    pub(crate) waiting: u32,
    pub(crate) saturated: bool,
}

impl Semaphore {
    pub(crate) fn new(name: Name, key: Option<Box<str>>, limit: u32, rules: QueueRules) -> Self {
        Semaphore {
            key,
            state: AtomicU64::new(0),
            limit: AtomicU32::new(limit),
            locked: Mutex::new(Locked {
                waiters: WaitQueue::new(),
                busy_since: None,
            }),
            rules,
            name,
        }
    }

    pub(crate) fn counts(&self) -> Counts {
        let state = self.state.load(Ordering::Acquire);
        Counts {
            limit: self.limit.load(Ordering::Relaxed),
            in_flight: in_flight(state),
            waiting: waiting(state),
            saturated: state & SATURATED != 0,
        }
    }

    /// Takes a permit if one is free and nobody waits: one compare-and-swap.
    #[inline]
    pub(crate) fn try_acquire(&self) -> bool {
        let limit = self.limit.load(Ordering::Relaxed);
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & WAITING_MASK != 0 || in_flight(state) >= limit {
                return false;
            }
            match self.state.compare_exchange_weak(
                state,
                state + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }

    /// Gives a permit back: to the first waiter if there is one.
    #[inline]
    pub(crate) fn release(&self) {
        let mut state = self.state.load(Ordering::Relaxed);
        debug_assert!(in_flight(state) > 0, "a release without a permit");
        while state & (WAITING_MASK | SATURATED) == 0 {
            match self.state.compare_exchange_weak(
                state,
                state - 1,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
        self.release_slow();
    }

    #[cold]
    fn release_slow(&self) {
        let mut locked = self.locked.lock();
        let waker = self.release_locked(&mut locked);
        drop(locked);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Releases one permit with the lock held; returns the waker of the
    /// waiter it was handed to, to wake once the lock is gone.
    pub(crate) fn release_locked(&self, locked: &mut Locked) -> Option<Waker> {
        let limit = self.limit.load(Ordering::Relaxed);
        let mut state = self.state.load(Ordering::Acquire);
        debug_assert_eq!(locked.waiters.len(), waiting(state), "queue and word agree");
        loop {
            let (in_flight, waiting) = (in_flight(state), waiting(state));
            if waiting > 0 && in_flight <= limit {
                // Hand over: the permit stays in flight, the waiter leaves the
                // queue. `waiting` only moves under this lock, and fast paths
                // do not touch the word while it is non-zero, so this swap
                // cannot race.
                let next = state - WAITING_ONE;
                if let Err(actual) =
                    self.state
                        .compare_exchange(state, next, Ordering::AcqRel, Ordering::Acquire)
                {
                    state = actual;
                    continue;
                }
                if waiting == 1 {
                    locked.busy_since = None;
                }
                return locked.waiters.grant_front();
            }
            let mut next = state - 1;
            let recovered = state & SATURATED != 0 && waiting == 0 && in_flight - 1 < limit;
            if recovered {
                next &= !SATURATED;
            }
            match self
                .state
                .compare_exchange(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if recovered {
                        tracing::info!(
                            policy = %self.name,
                            key = self.key.as_deref(),
                            limit,
                            "bulkhead no longer saturated"
                        );
                    }
                    return None;
                }
                Err(actual) => state = actual,
            }
        }
    }

    /// Sets the limit; when it grew, queued callers take the new permits.
    pub(crate) fn set_limit(&self, limit: u32) {
        let old = self.limit.swap(limit, Ordering::Relaxed);
        if limit <= old {
            return;
        }
        let mut locked = self.locked.lock();
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if waiting(state) == 0 || in_flight(state) >= limit {
                return;
            }
            let next = state - WAITING_ONE + 1;
            match self
                .state
                .compare_exchange(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if waiting(state) == 1 {
                        locked.busy_since = None;
                    }
                    if let Some(waker) = locked.waiters.grant_front() {
                        // Waking only schedules the waiter's task.
                        waker.wake();
                    }
                    state = next;
                }
                Err(actual) => state = actual,
            }
        }
    }

    /// Logs the start of saturation when `previous` was not yet marked.
    fn log_saturated(&self, previous: u64, limit: u32) {
        if previous & SATURATED == 0 {
            tracing::info!(
                policy = %self.name,
                key = self.key.as_deref(),
                limit,
                "bulkhead saturated"
            );
        }
    }

    /// The slow path of an acquire, with the lock held: take a free permit,
    /// refuse, or queue. Each branch is one swap of the whole word, retried
    /// from the top if a fast path moved `in flight` meanwhile.
    ///
    /// `deadline` is the call's (an enclosing timeout's): a caller is queued
    /// only if the bulkhead can answer it (a permit, or its own refusal)
    /// before then; see [`wait_rule`].
    pub(crate) fn enqueue(
        &self,
        locked: &mut Locked,
        waker: &Waker,
        deadline: Option<Instant>,
    ) -> Enqueued {
        let limit = self.limit.load(Ordering::Relaxed);
        let mut state = self.state.load(Ordering::Acquire);
        // Read once, before the first swap, and only when it matters.
        let mut now = None;
        loop {
            let waiting = waiting(state);
            let (next, decision) = if waiting == 0 && in_flight(state) < limit {
                (state + 1, Decision::Acquire)
            } else if waiting >= self.rules.max_queued {
                (state | SATURATED, Decision::Refuse(BulkheadReason::Full))
            } else if let Some(deadline) = deadline
                && !self.fits(*now.get_or_insert_with(time::now), deadline)
            {
                (
                    state | SATURATED,
                    Decision::Refuse(BulkheadReason::QueueTimeout),
                )
            } else {
                ((state + WAITING_ONE) | SATURATED, Decision::Queue)
            };
            if next != state
                && let Err(actual) =
                    self.state
                        .compare_exchange(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                state = actual;
                continue;
            }
            match decision {
                Decision::Acquire => return Enqueued::Acquired,
                Decision::Refuse(reason) => {
                    self.log_saturated(state, limit);
                    return Enqueued::Refused(reason);
                }
                Decision::Queue => self.log_saturated(state, limit),
            }
            let key = locked.waiters.push_back(waker.clone());
            let rules = &self.rules;
            if rules.max_wait.is_none() && rules.codel.is_none() && deadline.is_none() {
                return Enqueued::Queued(key, None);
            }
            let now = *now.get_or_insert_with(time::now);
            let busy_since = if waiting == 0 && rules.codel.is_some() {
                locked.busy_since = Some(now);
                now
            } else {
                locked.busy_since.unwrap_or(now)
            };
            // Without `max_wait`, the call's deadline bounds the wait: the
            // caller leaves the queue with the bulkhead's own refusal at that
            // instant, not an enclosing timeout's. With it, `fits` has
            // checked that it ends no later than the deadline.
            let wait_deadline = rules.max_wait.map(|d| now + d).or(deadline);
            // A waiter stays in the queue, so the queue stays non-empty from
            // `busy_since` at least until it leaves: its CoDel deadline is
            // known now.
            let codel_deadline = rules
                .codel
                .map(|c| (now + c.target).max(busy_since + c.interval));
            let give_up = match (wait_deadline, codel_deadline) {
                (Some(wait), Some(codel)) if codel < wait => (codel, BulkheadReason::Overloaded),
                (Some(wait), _) => (wait, BulkheadReason::QueueTimeout),
                (None, Some(codel)) => (codel, BulkheadReason::Overloaded),
                (None, None) => unreachable!("checked above"),
            };
            return Enqueued::Queued(key, Some(give_up));
        }
    }

    /// Whether a caller queued `now` can be answered by `deadline`; see
    /// [`wait_rule`].
    fn fits(&self, now: Instant, deadline: Instant) -> bool {
        wait_rule(now, deadline, self.rules.max_wait)
    }

    /// Takes a waiter out of the queue (it gave up); returns whether it had
    /// been handed a permit meanwhile, which it now owns.
    pub(crate) fn leave(&self, locked: &mut Locked, key: WaiterKey) -> bool {
        match locked.waiters.remove(key) {
            Status::Granted => true,
            Status::Waiting => {
                let previous = self.state.fetch_sub(WAITING_ONE, Ordering::AcqRel);
                if waiting(previous) == 1 {
                    locked.busy_since = None;
                }
                false
            }
        }
    }

    /// Waits for a permit under the queue rules, answering by `deadline`
    /// (the call's) when there is one.
    pub(crate) fn acquire(&self, deadline: Option<Instant>) -> Acquire<'_> {
        Acquire::new(self, deadline)
    }
}

/// Whether a caller that must queue at `now` may, given its `deadline`.
///
/// The bulkhead queues a caller only if it can answer it before its
/// deadline, with a permit or with its own refusal, so that an enclosing
/// timeout never fires on a caller still waiting in the queue:
///
/// - a deadline already reached leaves no time to wait;
/// - with `max_wait`, the longest wait the bulkhead is configured to judge
///   useful, the wait must fit: `now + max_wait <= deadline`; otherwise the
///   caller is refused at once (it would have to give up before the
///   bulkhead's own judgement could);
/// - without `max_wait`, the caller waits at most until its deadline.
fn wait_rule(now: Instant, deadline: Instant, max_wait: Option<Duration>) -> bool {
    if deadline <= now {
        return false;
    }
    max_wait.is_none_or(|wait| now.checked_add(wait).is_some_and(|end| end <= deadline))
}

enum Decision {
    Acquire,
    Refuse(BulkheadReason),
    Queue,
}

pub(crate) enum Enqueued {
    Acquired,
    Refused(BulkheadReason),
    Queued(WaiterKey, Option<(Instant, BulkheadReason)>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn semaphore(limit: u32, max_queued: u32) -> Semaphore {
        Semaphore::new(
            Name::from("test"),
            None,
            limit,
            QueueRules {
                max_queued,
                max_wait: None,
                codel: None,
            },
        )
    }

    #[test]
    fn the_word_packs_three_fields() {
        let state = SATURATED | (5 * WAITING_ONE) | 7;
        assert_eq!((in_flight(state), waiting(state)), (7, 5));
        assert_eq!(waiting(WAITING_MASK), (1 << 31) - 1);
    }

    #[test]
    fn fast_path_up_to_the_limit() {
        let s = semaphore(2, 0);
        assert!(s.try_acquire());
        assert!(s.try_acquire());
        assert!(!s.try_acquire());
        s.release();
        assert!(s.try_acquire());
        s.release();
        s.release();
        assert_eq!(s.counts().in_flight, 0);
    }

    #[test]
    fn a_lower_limit_drains_before_admitting() {
        let s = semaphore(3, 0);
        for _ in 0..3 {
            assert!(s.try_acquire());
        }
        s.set_limit(1);
        s.release();
        assert!(!s.try_acquire(), "2 in flight against a limit of 1");
        s.release();
        assert!(!s.try_acquire(), "1 in flight against a limit of 1");
        s.release();
        assert!(s.try_acquire());
        assert_eq!(s.counts().in_flight, 1);
    }

    mod model {
        use super::*;
        use proptest::prelude::*;
        use std::collections::VecDeque;
        use std::future::Future;
        use std::pin::Pin;
        use std::task::{Context as TaskContext, Poll};

        #[derive(Debug, Clone)]
        enum Op {
            Arrive,
            Release(usize),
            Poll(usize),
            Drop(usize),
            SetLimit(u32),
        }

        fn ops() -> impl Strategy<Value = Vec<Op>> {
            prop::collection::vec(
                prop_oneof![
                    4 => Just(Op::Arrive),
                    3 => any::<usize>().prop_map(Op::Release),
                    3 => any::<usize>().prop_map(Op::Poll),
                    2 => any::<usize>().prop_map(Op::Drop),
                    1 => (1u32..5).prop_map(Op::SetLimit),
                ],
                0..80,
            )
        }

        /// The reference: plain counters and a FIFO of ids.
        struct Model {
            limit: u32,
            max_queued: u32,
            in_flight: u32,
            queue: VecDeque<usize>,
            granted: Vec<usize>,
        }

        impl Model {
            fn release(&mut self) {
                if !self.queue.is_empty() && self.in_flight <= self.limit {
                    let head = self.queue.pop_front().unwrap();
                    self.granted.push(head);
                } else {
                    self.in_flight -= 1;
                }
            }
        }

        fn poll(f: Pin<&mut Acquire<'_>>) -> Poll<Result<(), BulkheadReason>> {
            let waker = Waker::noop();
            f.poll(&mut TaskContext::from_waker(waker))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Any interleaving of arrivals, releases, polls, drops and limit
            /// changes leaves the word, the queue and a simple model agreeing,
            /// and never leaves a caller queued while a permit is free.
            #[test]
            fn matches_a_fifo_model(limit in 1u32..4, max_queued in 0u32..4, ops in ops()) {
                let semaphore = semaphore(limit, max_queued);
                let mut model = Model { limit, max_queued, in_flight: 0, queue: VecDeque::new(), granted: Vec::new() };
                let mut holders: Vec<usize> = Vec::new();
                let mut waiters: Vec<(usize, Pin<Box<Acquire<'_>>>)> = Vec::new();
                for (id, op) in ops.into_iter().enumerate() {
                    match op {
                        Op::Arrive => {
                            let expected_hold = model.queue.is_empty() && model.in_flight < model.limit;
                            if semaphore.try_acquire() {
                                prop_assert!(expected_hold);
                                model.in_flight += 1;
                                holders.push(id);
                            } else {
                                let mut acquire = Box::pin(semaphore.acquire(None));
                                match poll(acquire.as_mut()) {
                                    Poll::Ready(Ok(())) => {
                                        prop_assert!(expected_hold);
                                        model.in_flight += 1;
                                        holders.push(id);
                                    }
                                    Poll::Ready(Err(reason)) => {
                                        prop_assert_eq!(reason, BulkheadReason::Full);
                                        prop_assert!(!expected_hold);
                                        prop_assert!(model.queue.len() >= model.max_queued as usize);
                                    }
                                    Poll::Pending => {
                                        prop_assert!(!expected_hold);
                                        model.queue.push_back(id);
                                        waiters.push((id, acquire));
                                    }
                                }
                            }
                        }
                        Op::Release(i) if !holders.is_empty() => {
                            holders.remove(i % holders.len());
                            semaphore.release();
                            model.release();
                        }
                        Op::Poll(i) if !waiters.is_empty() => {
                            let i = i % waiters.len();
                            let id = waiters[i].0;
                            let granted = model.granted.iter().position(|g| *g == id);
                            match poll(waiters[i].1.as_mut()) {
                                Poll::Ready(Ok(())) => {
                                    prop_assert!(granted.is_some());
                                    model.granted.remove(granted.unwrap());
                                    waiters.remove(i);
                                    holders.push(id);
                                }
                                Poll::Pending => prop_assert!(granted.is_none()),
                                Poll::Ready(Err(_)) => prop_assert!(false, "no timers here"),
                            }
                        }
                        Op::Drop(i) if !waiters.is_empty() => {
                            let (id, acquire) = waiters.remove(i % waiters.len());
                            drop(acquire);
                            if let Some(g) = model.granted.iter().position(|g| *g == id) {
                                model.granted.remove(g);
                                model.release();
                            } else {
                                model.queue.retain(|q| *q != id);
                            }
                        }
                        Op::SetLimit(limit) => {
                            semaphore.set_limit(limit);
                            let old = model.limit;
                            model.limit = limit;
                            if limit > old {
                                while !model.queue.is_empty() && model.in_flight < limit {
                                    let head = model.queue.pop_front().unwrap();
                                    model.granted.push(head);
                                    model.in_flight += 1;
                                }
                            }
                        }
                        _ => {}
                    }
                    let counts = semaphore.counts();
                    prop_assert_eq!(counts.in_flight, model.in_flight);
                    prop_assert_eq!(counts.waiting as usize, model.queue.len());
                    prop_assert_eq!(counts.limit, model.limit);
                    prop_assert!(counts.waiting == 0 || counts.in_flight >= counts.limit);
                }
                // Everything let go: the semaphore is empty again.
                drop(waiters);
                for _ in holders {
                    semaphore.release();
                }
                let counts = semaphore.counts();
                prop_assert_eq!((counts.in_flight, counts.waiting), (0, 0));
            }
        }
    }
}
