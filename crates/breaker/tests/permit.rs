//! The permit API for calls that are not one future.

mod common;

use common::*;
use steadfast_breaker::{Breaker, BreakerConfig, HalfOpen, State};
use steadfast_core::{Inspect, Outcome};
use tokio::time::advance;

#[tokio::test(start_paused = true)]
async fn permits_record_outcomes_and_durations() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(3)
        .slow_calls(ms(100), 1.0, 2, 2)
        .build()
        .unwrap();
    b.try_acquire().unwrap().success(ms(10));
    b.try_acquire().unwrap().failure(ms(10));
    b.try_acquire().unwrap().record(Outcome::Ignore, secs(9)); // ignored: not slow either
    assert_eq!(b.snapshot().consecutive_failures, 1);
    b.try_acquire().unwrap().success(ms(150)); // slow
    assert_eq!(b.state(), State::Closed);
    b.try_acquire().unwrap().success(ms(150)); // 2 of 2 slow
    assert_eq!(b.state(), State::Open);
    let refused = b.try_acquire().unwrap_err();
    assert_eq!(refused.policy_name(), "breaker");
    assert_eq!(refused.retry_after(), Some(secs(30)));
}

#[tokio::test(start_paused = true)]
async fn a_dropped_permit_is_ignored_and_frees_its_trial_slot() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(1)
        .open_for(secs(5))
        .half_open(HalfOpen::new(1))
        .build()
        .unwrap();
    drop(b.try_acquire().unwrap()); // closed: counts nothing
    assert_eq!(b.snapshot().calls_in_window, 0);
    b.try_acquire().unwrap().failure(ms(1));
    advance(secs(5)).await;
    let trial = b.try_acquire().unwrap();
    assert!(trial.is_trial());
    assert!(b.try_acquire().is_err(), "one trial at a time");
    drop(trial);
    let trial = b.try_acquire().unwrap();
    trial.success(ms(1));
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn owned_permits_move_into_other_tasks() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(2)
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let permit = b.try_acquire_owned().unwrap();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(ms(20)).await;
            permit.failure(ms(20));
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(b.state(), State::Open);
}
