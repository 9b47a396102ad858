//! Loom models of the breaker's state word: every interleaving of two
//! threads racing a transition. See `docs/loom.md`.
//!
//! `RUSTFLAGS="--cfg loom" cargo test -p steadfast-breaker --lib loom_tests --release`
//!
//! Built only under `cfg(all(test, loom))`, where [`crate::sync`] hands the
//! engine loom's atomics and mutex: the state word, the consecutive-failure
//! word, the open deadline and the slow paths' lock are all loom's. (The
//! refusal counter, core's `Tally`, stays std's here; core models it.)
//! There is no tokio runtime in a model, so no open-period timer is armed:
//! an open breaker's refusals read the clock, as on plain threads.

use std::time::Duration;

use loom::thread;

use crate::Breaker;
use crate::config::BreakerConfig;
use crate::state::{State, Word};

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

fn breaker(consecutive: u32, open_for: Duration) -> Breaker {
    Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(consecutive)
        .open_for(open_for)
        .trials(1)
        .build()
        .unwrap()
}

/// The state word now, unpacked: the state, its period (the generation,
/// bumped by every transition) and whether an open timer is armed.
fn word(b: &Breaker) -> (State, u64, bool) {
    let w: Word = b.core().word();
    (w.state(), w.period(), w.is_armed())
}

/// The consecutive-failure word's count.
fn run(b: &Breaker) -> u64 {
    b.core()
        .consecutive
        .load(std::sync::atomic::Ordering::Acquire)
        & 0xFFFF_FFFF
}

/// Two calls fail at once against a one-failure limit: whichever order
/// their admissions, counts and trips take, the breaker opens exactly once
/// (one transition, one generation bump) and the word is a valid open word.
#[test]
fn two_failures_trip_the_breaker_once() {
    model(|| {
        let b = breaker(1, Duration::from_secs(60));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || match b.try_acquire() {
                    Ok(permit) => {
                        permit.failure(Duration::ZERO);
                        true
                    }
                    Err(_) => false,
                })
            })
            .collect();
        let admitted = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|&a| a)
            .count();
        assert!(admitted >= 1, "the first call finds the breaker closed");
        assert_eq!(word(&b), (State::Open, 1, false));
        assert_eq!(b.core().opened(), 1, "opened exactly once");
    });
}

/// A failure that would trip (the second of two allowed) races a success
/// that clears the run: either the failure counts first and the breaker
/// opens once, or the success clears the run first and the failure starts
/// a new run of one. Never both, never a lost failure, never a half-made
/// transition.
#[test]
fn a_tripping_failure_races_a_success() {
    model(|| {
        let b = breaker(2, Duration::from_secs(60));
        b.try_acquire().unwrap().failure(Duration::ZERO); // a run of one
        let fail = {
            let b = b.clone();
            thread::spawn(move || {
                if let Ok(permit) = b.try_acquire() {
                    permit.failure(Duration::ZERO);
                }
            })
        };
        let succeed = {
            let b = b.clone();
            thread::spawn(move || {
                if let Ok(permit) = b.try_acquire() {
                    permit.success(Duration::ZERO);
                }
            })
        };
        fail.join().unwrap();
        succeed.join().unwrap();
        match word(&b) {
            (State::Closed, 0, false) => {
                assert_eq!(b.core().opened(), 0);
                assert_eq!(run(&b), 1, "the failure after the success is counted");
            }
            (State::Open, 1, false) => assert_eq!(b.core().opened(), 1),
            other => panic!("not a state the race can leave: {other:?}"),
        }
    });
}

/// An open breaker whose time is up, one trial allowed, two callers: the
/// transition to half-open happens once and exactly one caller gets the
/// trial, whose success closes the breaker, also when the other caller
/// arrives only after that (it is then admitted to the closed breaker).
#[test]
fn one_caller_wins_the_half_open_trial() {
    model(|| {
        let b = breaker(1, Duration::from_nanos(1));
        b.try_acquire().unwrap().failure(Duration::ZERO);
        assert_eq!(word(&b), (State::Open, 1, false));
        // Past the open nanosecond on the clock every call reads, before
        // any thread runs: the clock takes no part in the interleavings.
        let opened = std::time::Instant::now();
        while opened.elapsed() < Duration::from_micros(2) {
            std::hint::spin_loop();
        }
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || match b.try_acquire() {
                    Ok(permit) => {
                        let trial = permit.is_trial();
                        permit.success(Duration::ZERO);
                        Some(trial)
                    }
                    Err(_) => None,
                })
            })
            .collect();
        let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let trials = outcomes.iter().filter(|o| **o == Some(true)).count();
        assert_eq!(trials, 1, "exactly one trial: {outcomes:?}");
        // Open (1) -> half-open (2) -> closed (3), one transition each.
        assert_eq!(word(&b), (State::Closed, 3, false));
        assert_eq!(b.core().opened(), 1);
    });
}
