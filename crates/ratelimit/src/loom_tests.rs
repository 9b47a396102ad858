//! Loom models of the direct limiter's GCRA cell: every interleaving of two
//! threads updating its theoretical arrival time (TAT) at once. See
//! `docs/loom.md`.
//!
//! `RUSTFLAGS="--cfg loom" cargo test -p steadfast-ratelimit --lib loom_tests --release`
//!
//! Built only under `cfg(all(test, loom))`, where [`crate::sync`] hands the
//! cell loom's atomics: the TAT word and the admitted and rejected counters.
//! The quota is one unit an hour, so the few microseconds a model runs
//! never refill a unit: the clock takes no part in the interleavings, and
//! each TAT a model expects is exact.

use loom::thread;

use crate::{Quota, RateLimiter};

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

const QUOTA: Quota = Quota::per_hour(1);

/// A limiter of `burst` units with `taken` of them taken, and its TAT.
fn limiter(burst: u32, taken: u32) -> (RateLimiter, u64) {
    let limiter = RateLimiter::new(QUOTA.burst(burst)).unwrap();
    for _ in 0..taken {
        limiter.check().unwrap();
    }
    let tat = limiter.state_word();
    (limiter, tat)
}

/// Spawns a thread that checks for one unit; joins to whether it got it.
fn check(limiter: &RateLimiter) -> thread::JoinHandle<bool> {
    let limiter = limiter.clone();
    thread::spawn(move || limiter.check().is_ok())
}

/// (admitted, rejected), as the cell counts them.
fn counts(limiter: &RateLimiter) -> (u64, u64) {
    let words = limiter.inner().cell_words();
    (words.admitted, words.rejected)
}

/// One unit left, two callers: exactly one is admitted, the TAT moves on by
/// exactly one interval (the loser's compare-and-swap fails, and on retry
/// it sees no unit left), and the counters agree.
#[test]
fn two_callers_race_for_the_last_unit() {
    model(|| {
        let (limiter, tat) = limiter(2, 1);
        let (a, b) = (check(&limiter), check(&limiter));
        let admitted = [a.join().unwrap(), b.join().unwrap()];
        assert_eq!(
            admitted.iter().filter(|&&a| a).count(),
            1,
            "exactly one gets the last unit: {admitted:?}"
        );
        assert_eq!(limiter.state_word(), tat + QUOTA.interval_nanos());
        assert_eq!(counts(&limiter), (2, 1));
    });
}

/// Two units left, two callers: both are admitted and the TAT moves on by
/// two intervals: a compare-and-swap that lost retries on the new TAT, so
/// no admission is lost or taken twice.
#[test]
fn two_callers_each_take_one_of_two_units() {
    model(|| {
        let (limiter, tat) = limiter(3, 1);
        let (a, b) = (check(&limiter), check(&limiter));
        assert!(a.join().unwrap() && b.join().unwrap());
        assert_eq!(limiter.state_word(), tat + 2 * QUOTA.interval_nanos());
        assert_eq!(counts(&limiter), (3, 0));
    });
}

/// A refund (a `fetch_update` of the TAT) races a check of an empty
/// limiter: the check is admitted exactly when it runs after the refund,
/// and the TAT and the counters say the same.
#[test]
fn a_refund_races_a_check_of_an_empty_limiter() {
    model(|| {
        let (limiter, tat) = limiter(2, 2);
        let refund = {
            let limiter = limiter.clone();
            thread::spawn(move || limiter.refund(1))
        };
        let checked = check(&limiter);
        refund.join().unwrap();
        if checked.join().unwrap() {
            // The refunded unit, taken again.
            assert_eq!(limiter.state_word(), tat);
            assert_eq!(counts(&limiter), (2, 0));
        } else {
            // Refused before the refund, which then stands.
            assert_eq!(limiter.state_word(), tat - QUOTA.interval_nanos());
            assert_eq!(counts(&limiter), (1, 1));
        }
    });
}
