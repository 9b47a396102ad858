//! The budget's sliding window: a ring of time buckets behind a small lock.
//!
//! Only calls that ask to retry take the lock; a call that succeeds at once
//! never does (see the [module docs](super) for how calls are counted).

use std::time::Duration;

use parking_lot::Mutex;
use steadfast_core::Name;
use steadfast_core::time::Instant;

use super::{BudgetConfig, BudgetSnapshot};

/// Buckets in the window: the window slides in tenths.
const BUCKETS: usize = 10;
const BUCKETS_U32: u32 = 10;

#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    /// Which tenth of time since the origin this bucket holds.
    epoch: u64,
    calls: u64,
    retries: u64,
}

#[derive(Debug)]
struct Window {
    origin: Instant,
    buckets: [Bucket; BUCKETS],
    /// The calls counter's value at the last consultation.
    drained: u64,
    /// The epoch of the last consultation: calls counted since then happened
    /// at or after it, so they are credited there (never later than they were).
    drained_at: u64,
    /// The latest epoch seen. Two callers may read the clock in one order and
    /// take the lock in the other; epochs never go back, so no bucket is ever
    /// newer than the current one.
    latest: u64,
    exhausted: bool,
}

impl Window {
    fn advance(&mut self, epoch: u64) -> u64 {
        self.latest = self.latest.max(epoch);
        self.latest
    }

    fn bucket_mut(&mut self, epoch: u64) -> Option<&mut Bucket> {
        let bucket = &mut self.buckets[slot(epoch)];
        if bucket.epoch < epoch {
            *bucket = Bucket {
                epoch,
                calls: 0,
                retries: 0,
            };
        }
        // A newer epoch owns the slot: `epoch` has left the window.
        (bucket.epoch == epoch).then_some(bucket)
    }

    /// Credits the calls counted since the last consultation.
    fn drain(&mut self, epoch: u64, calls_total: u64) {
        let pending = calls_total.saturating_sub(self.drained);
        self.drained = self.drained.max(calls_total);
        let at = self.drained_at;
        self.drained_at = epoch;
        if pending > 0
            && at + BUCKETS as u64 > epoch
            && let Some(bucket) = self.bucket_mut(at)
        {
            bucket.calls += pending;
        }
    }

    /// Calls and retries in the buckets of the window ending at `epoch`.
    fn totals(&self, epoch: u64) -> (u64, u64) {
        self.buckets
            .iter()
            .filter(|b| b.epoch <= epoch && b.epoch + BUCKETS as u64 > epoch)
            .fold((0, 0), |(c, r), b| (c + b.calls, r + b.retries))
    }
}

fn slot(epoch: u64) -> usize {
    // The remainder is below BUCKETS, so it fits.
    usize::try_from(epoch % BUCKETS as u64).expect("a remainder below BUCKETS")
}

/// A retry budget shared by every clone of a policy.
#[derive(Debug)]
pub(crate) struct Budget {
    name: Name,
    /// Retries allowed whatever the traffic: `min_per_second × window`.
    reserve: f64,
    ratio: f64,
    bucket_nanos: u128,
    window: Mutex<Window>,
}

/// A retry granted by the budget; given back if dropped before [`commit`](Permit::commit).
///
/// A call cancelled while it waits to retry never made that retry, so it
/// must not keep the budget spent.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    budget: &'a Budget,
    epoch: u64,
    live: bool,
}

impl Permit<'_> {
    /// The retry is starting: keep it spent.
    pub(crate) fn commit(mut self) {
        self.live = false;
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.live {
            self.budget.refund(self.epoch);
        }
    }
}

impl Budget {
    pub(crate) fn new(name: Name, config: &BudgetConfig, now: Instant) -> Self {
        let bucket = (config.window / BUCKETS_U32).max(Duration::from_nanos(1));
        Budget {
            name,
            reserve: f64::from(config.min_per_second) * config.window.as_secs_f64(),
            ratio: config.ratio,
            bucket_nanos: bucket.as_nanos(),
            window: Mutex::new(Window {
                origin: now,
                buckets: [Bucket::default(); BUCKETS],
                drained: 0,
                drained_at: 0,
                latest: 0,
                exhausted: false,
            }),
        }
    }

    fn epoch(&self, origin: Instant, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(origin).as_nanos();
        u64::try_from(elapsed / self.bucket_nanos).unwrap_or(u64::MAX - BUCKETS as u64)
    }

    #[allow(clippy::cast_precision_loss)] // counts far below 2^53 are exact
    fn allowance(&self, calls: u64) -> f64 {
        self.reserve + self.ratio * calls as f64
    }

    /// Asks for one retry (or hedge) at `now`, `calls_total` calls having been
    /// counted so far. `None` when the budget is spent.
    pub(crate) fn try_acquire(&self, now: Instant, calls_total: u64) -> Option<Permit<'_>> {
        let mut window = self.window.lock();
        let raw = self.epoch(window.origin, now);
        let epoch = window.advance(raw);
        window.drain(epoch, calls_total);
        let (calls, retries) = window.totals(epoch);
        #[allow(clippy::cast_precision_loss)]
        let granted = (retries + 1) as f64 <= self.allowance(calls);
        if !granted {
            if !window.exhausted {
                window.exhausted = true;
                tracing::warn!(policy = %self.name, calls, retries, "retry budget exhausted");
            }
            return None;
        }
        if window.exhausted {
            window.exhausted = false;
            tracing::info!(policy = %self.name, calls, retries, "retry budget available again");
        }
        window
            .bucket_mut(epoch)
            .expect("the current epoch always owns its slot")
            .retries += 1;
        Some(Permit {
            budget: self,
            epoch,
            live: true,
        })
    }

    fn refund(&self, epoch: u64) {
        let mut window = self.window.lock();
        let bucket = &mut window.buckets[slot(epoch)];
        if bucket.epoch == epoch && bucket.retries > 0 {
            bucket.retries -= 1;
        }
    }

    pub(crate) fn snapshot(&self, now: Instant, calls_total: u64) -> BudgetSnapshot {
        let mut window = self.window.lock();
        let raw = self.epoch(window.origin, now);
        let epoch = window.advance(raw);
        window.drain(epoch, calls_total);
        let (calls, retries) = window.totals(epoch);
        BudgetSnapshot {
            calls,
            retries,
            allowance: self.allowance(calls),
            exhausted: window.exhausted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn budget(ratio: f64, min_per_second: u32, origin: Instant) -> Budget {
        let config = BudgetConfig::new()
            .ratio(ratio)
            .min_per_second(min_per_second)
            .window(Duration::from_secs(10));
        Budget::new(Name::from("b"), &config, origin)
    }

    #[test]
    fn reserve_then_ratio() {
        let t0 = Instant::now();
        let b = budget(0.5, 1, t0);
        // 10 s window × 1/s = 10 retries with no calls at all.
        let permits: Vec<_> = (0..10)
            .map(|_| b.try_acquire(t0, 0).expect("in reserve"))
            .collect();
        assert!(b.try_acquire(t0, 0).is_none());
        permits.into_iter().for_each(Permit::commit);
        // 4 calls at t0 allow 2 more.
        assert!(b.try_acquire(t0, 4).map(Permit::commit).is_some());
        assert!(b.try_acquire(t0, 4).map(Permit::commit).is_some());
        assert!(b.try_acquire(t0, 4).is_none());
        let snap = b.snapshot(t0, 4);
        assert_eq!((snap.calls, snap.retries, snap.exhausted), (4, 12, true));
        assert!((snap.allowance - 12.0).abs() < 1e-9);
        // Ten seconds later all of it has slid out of the window.
        let later = t0 + Duration::from_secs(10);
        assert!(b.try_acquire(later, 4).map(Permit::commit).is_some());
        assert_eq!(b.snapshot(later, 4).retries, 1);
    }

    #[test]
    fn a_clock_read_out_of_order_is_taken_as_the_latest() {
        let t0 = Instant::now();
        let b = budget(0.0, 1, t0);
        b.try_acquire(t0 + Duration::from_secs(25), 0)
            .expect("in reserve")
            .commit();
        // A caller that read the clock 15 s earlier, but locked later.
        b.try_acquire(t0 + Duration::from_secs(10), 0)
            .expect("in reserve")
            .commit();
        assert_eq!(b.snapshot(t0 + Duration::from_secs(25), 0).retries, 2);
    }

    #[test]
    fn a_dropped_permit_is_given_back() {
        let t0 = Instant::now();
        let b = budget(0.0, 1, t0);
        for _ in 0..3 {
            drop(b.try_acquire(t0, 0).expect("in reserve"));
        }
        assert_eq!(b.snapshot(t0, 0).retries, 0);
    }

    #[test]
    fn calls_are_credited_no_later_than_they_happened() {
        let t0 = Instant::now();
        let b = budget(1.0, 0, t0);
        // 100 calls counted but not seen until 20 s later: for all the budget
        // knows they happened at t0, so they are out of the window.
        assert!(b.try_acquire(t0 + Duration::from_secs(20), 100).is_none());
        // 5 calls between 20 s and 21 s: credited to 20 s, still in the window at 21 s.
        let t21 = t0 + Duration::from_secs(21);
        for _ in 0..5 {
            b.try_acquire(t21, 105).expect("one per call").commit();
        }
        assert!(b.try_acquire(t21, 105).is_none());
    }

    #[derive(Clone, Debug)]
    enum Step {
        Advance(u64),
        Calls(u64),
        Retry,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0u64..3_000).prop_map(Step::Advance),
            (0u64..40).prop_map(Step::Calls),
            Just(Step::Retry),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)] // small test counts
        /// Over any sequence, retries granted in the window never exceed the
        /// allowance computed from the calls that really happened in it, and
        /// the reserve is always available.
        #[test]
        fn retries_never_exceed_the_allowance(
            ratio in 0.0f64..1.0,
            min_per_second in 0u32..3,
            steps in proptest::collection::vec(step(), 1..200),
        ) {
            prop_assume!(ratio > 0.0 || min_per_second > 0);
            let t0 = Instant::now();
            let b = budget(ratio, min_per_second, t0);
            let reserve = f64::from(min_per_second) * 10.0;
            let bucket_ms = 1_000;
            let mut now_ms = 0u64;
            let mut calls_at: Vec<u64> = Vec::new();
            let mut retries_at: Vec<u64> = Vec::new();
            for step in steps {
                match step {
                    Step::Advance(ms) => now_ms += ms,
                    Step::Calls(n) => calls_at.extend(std::iter::repeat_n(now_ms, n as usize)),
                    Step::Retry => {
                        let epoch = now_ms / bucket_ms;
                        let in_window = |t: &&u64| *t / bucket_ms + 10 > epoch;
                        let calls = calls_at.iter().filter(in_window).count() as f64;
                        let retries = retries_at.iter().filter(in_window).count() as f64;
                        let now = t0 + Duration::from_millis(now_ms);
                        match b.try_acquire(now, calls_at.len() as u64) {
                            Some(permit) => {
                                permit.commit();
                                retries_at.push(now_ms);
                                prop_assert!(retries + 1.0 <= reserve + ratio * calls + 1e-9,
                                    "granted retry {} with {} calls in the window", retries + 1.0, calls);
                            }
                            None => prop_assert!(retries + 1.0 > reserve,
                                "refused a retry within the reserve ({retries} granted)"),
                        }
                    }
                }
            }
        }
    }
}
