//! The budget's bucket of retry tokens, behind a small lock.
//!
//! Only calls that ask to retry take the lock; a call that succeeds at once
//! never does (see the [module docs](super) for how successes are counted).
//! Tokens are counted in millionths, so that earning a fifth of a token five
//! times makes exactly one.
//!
//! The bucket learns of successes from the policy's counters as the number
//! of calls started and not failed. A call still running counts in it until
//! it fails, so a call's token share is credited when the call is first seen
//! and taken back if it fails: the balance can dip below zero when credits
//! the cap clipped are taken back, and it is never above the exact bucket's
//! by more than the share of the calls running.

use parking_lot::Mutex;
use steadfast_core::Name;

use super::{BudgetConfig, BudgetSnapshot};

/// One token, in millionths.
const UNIT: i64 = 1_000_000;

#[derive(Debug)]
struct Bucket {
    /// Tokens held, in millionths; below zero after clipped credits are
    /// taken back.
    micros: i64,
    /// The calls started and not failed at the last consultation.
    credited: i64,
    exhausted: bool,
}

impl Bucket {
    /// Credits the calls started since the last consultation, and takes
    /// back the share of those that failed since.
    fn credit(&mut self, unfailed: i64, per_success: i64, capacity: i64) {
        let change = unfailed.saturating_sub(self.credited);
        self.credited = unfailed;
        self.micros = self
            .micros
            .saturating_add(change.saturating_mul(per_success))
            .min(capacity);
    }
}

/// A retry budget shared by every clone of a policy.
#[derive(Debug)]
pub(crate) struct Budget {
    name: Name,
    /// The bucket's size, in millionths.
    capacity: i64,
    /// What a success earns, in millionths.
    per_success: i64,
    bucket: Mutex<Bucket>,
}

/// A retry granted by the budget; given back if dropped before [`commit`](Permit::commit).
///
/// A call cancelled while it waits to retry never made that retry, so it
/// must not keep the token.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    budget: &'a Budget,
    live: bool,
}

impl Permit<'_> {
    /// The retry is starting: keep the token spent.
    pub(crate) fn commit(mut self) {
        self.live = false;
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.live {
            self.budget.refund();
        }
    }
}

impl Budget {
    pub(crate) fn new(name: Name, config: &BudgetConfig) -> Self {
        let capacity = i64::from(config.capacity) * UNIT;
        Budget {
            name,
            capacity,
            per_success: per_success(config.ratio),
            bucket: Mutex::new(Bucket {
                micros: capacity,
                credited: 0,
                exhausted: false,
            }),
        }
    }

    /// Asks for one retry (or hedge), `unfailed` calls having started and
    /// not failed so far. `None` when no whole token is left.
    pub(crate) fn try_acquire(&self, unfailed: i64) -> Option<Permit<'_>> {
        let mut bucket = self.bucket.lock();
        bucket.credit(unfailed, self.per_success, self.capacity);
        if bucket.micros < UNIT {
            if !bucket.exhausted {
                bucket.exhausted = true;
                tracing::warn!(
                    policy = %self.name,
                    tokens = tokens(bucket.micros),
                    "retry budget exhausted: retrying again once successes earn it back"
                );
            }
            return None;
        }
        if bucket.exhausted {
            bucket.exhausted = false;
            tracing::info!(policy = %self.name, tokens = tokens(bucket.micros), "retry budget available again");
        }
        bucket.micros -= UNIT;
        Some(Permit {
            budget: self,
            live: true,
        })
    }

    fn refund(&self) {
        let mut bucket = self.bucket.lock();
        bucket.micros = (bucket.micros + UNIT).min(self.capacity);
    }

    pub(crate) fn snapshot(&self, unfailed: i64) -> BudgetSnapshot {
        let mut bucket = self.bucket.lock();
        bucket.credit(unfailed, self.per_success, self.capacity);
        BudgetSnapshot {
            tokens: tokens(bucket.micros),
            capacity: u32::try_from(self.capacity / UNIT).unwrap_or(u32::MAX),
            exhausted: bucket.exhausted,
        }
    }
}

/// `ratio` in millionths of a token, rounded to the nearest; a validated
/// ratio is finite and at least 0. Capped at a million tokens a success, so
/// that taking a failed call's share back cannot overflow.
#[allow(clippy::cast_possible_truncation)]
fn per_success(ratio: f64) -> i64 {
    (ratio * 1e6).round().min(1e12) as i64
}

#[allow(clippy::cast_precision_loss)] // a bucket of at most u32::MAX tokens
fn tokens(micros: i64) -> f64 {
    micros as f64 / 1e6
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // token counts are whole millionths: exact
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn budget(ratio: f64, capacity: u32) -> Budget {
        let config = BudgetConfig::new().ratio(ratio).capacity(capacity);
        Budget::new(Name::from("b"), &config)
    }

    #[test]
    fn starts_full_and_only_successes_refill_it() {
        let b = budget(0.2, 3);
        for _ in 0..3 {
            b.try_acquire(0).expect("full at first").commit();
        }
        assert!(b.try_acquire(0).is_none());
        // Four successes earn 0.8 of a token: still no retry.
        assert!(b.try_acquire(4).is_none());
        // The fifth makes a whole one, exactly.
        b.try_acquire(5).expect("earned").commit();
        assert!(b.try_acquire(5).is_none());
        let snap = b.snapshot(5);
        assert_eq!((snap.tokens, snap.capacity, snap.exhausted), (0.0, 3, true));
        // Many successes fill it to the capacity, no further.
        assert_eq!(b.snapshot(1_000).tokens, 3.0);
    }

    #[test]
    fn a_running_call_is_credited_until_it_fails() {
        let b = budget(0.5, 2);
        b.try_acquire(0).unwrap().commit();
        b.try_acquire(0).unwrap().commit();
        // Two calls running: a token, on credit.
        b.try_acquire(2).expect("credited").commit();
        // Both failed: the credit is taken back, and the bucket owes a token.
        assert_eq!(b.snapshot(0).tokens, -1.0);
        // Four successes pay it back and earn one more.
        b.try_acquire(4).expect("earned").commit();
        assert!(b.try_acquire(4).is_none());
    }

    #[test]
    fn a_dropped_permit_is_given_back() {
        let b = budget(0.0, 2);
        for _ in 0..3 {
            drop(b.try_acquire(0).expect("given back each time"));
        }
        assert_eq!(b.snapshot(0).tokens, 2.0);
    }

    #[test]
    fn a_huge_ratio_saturates() {
        let b = budget(1e300, 2);
        b.try_acquire(0).unwrap().commit();
        b.try_acquire(0).unwrap().commit();
        assert_eq!(b.snapshot(i64::MAX).tokens, 2.0);
        assert!(b.snapshot(0).tokens < 0.0);
    }

    #[derive(Clone, Debug)]
    enum Step {
        Start(u8),
        Succeed,
        Fail,
        Retry,
        Dropped,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1u8..10).prop_map(Step::Start),
            Just(Step::Succeed),
            Just(Step::Fail),
            Just(Step::Retry),
            Just(Step::Dropped),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Calls start, succeed or fail in any order, and retries are asked
        /// for in between: retries granted never exceed the capacity plus what
        /// the successes earned plus the share of the most calls ever running
        /// at once (credited while they run, taken back if they fail).
        #[test]
        fn retries_never_exceed_capacity_plus_earnings(
            ratio_micros in 0i64..2_000_000,
            capacity in 1u32..6,
            steps in proptest::collection::vec(step(), 1..300),
        ) {
            #[allow(clippy::cast_precision_loss)] // below 2^53
            let b = budget(ratio_micros as f64 / 1e6, capacity);
            let cap = i64::from(capacity) * UNIT;
            let (mut running, mut started, mut failed, mut succeeded) = (0i64, 0i64, 0i64, 0i64);
            let (mut granted, mut peak) = (0i64, 0i64);
            for step in steps {
                match step {
                    Step::Start(n) => {
                        running += i64::from(n);
                        started += i64::from(n);
                        peak = peak.max(running);
                    }
                    Step::Succeed if running > 0 => {
                        running -= 1;
                        succeeded += 1;
                    }
                    Step::Fail if running > 0 => {
                        running -= 1;
                        failed += 1;
                    }
                    Step::Succeed | Step::Fail => {}
                    Step::Retry | Step::Dropped => {
                        if let Some(permit) = b.try_acquire(started - failed)
                            && matches!(step, Step::Retry)
                        {
                            permit.commit();
                            granted += 1;
                        }
                    }
                }
                prop_assert!(granted * UNIT <= cap + (succeeded + peak) * ratio_micros);
            }
        }
    }
}
