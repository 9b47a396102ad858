//! Exact waits between attempts for each backoff, on the paused clock.

mod common;

use common::{BOOM, Timed, ms};
use steadfast_core::testing::ScriptedOp;
use steadfast_core::{Error, Inspect, Policy};
use steadfast_retry::{Backoff, Jitter, Retry};

async fn gaps_of(backoff: Backoff, attempts: u32) -> Vec<std::time::Duration> {
    let retry = Retry::builder()
        .max_attempts(attempts)
        .backoff(backoff)
        .max_delay(ms(60_000))
        .no_budget()
        .build()
        .unwrap();
    let op = Timed::new(ScriptedOp::always_err(BOOM));
    assert_eq!(retry.call(op.clone()).await, Err(Error::Inner(BOOM)));
    assert_eq!(op.op.invocations(), u64::from(attempts));
    op.gaps()
}

#[tokio::test(start_paused = true)]
async fn constant() {
    assert_eq!(gaps_of(Backoff::constant(ms(250)), 4).await, [ms(250); 3]);
}

#[tokio::test(start_paused = true)]
async fn linear() {
    let backoff = Backoff::linear(ms(100), ms(50), ms(180));
    assert_eq!(
        gaps_of(backoff, 5).await,
        [ms(100), ms(150), ms(180), ms(180)]
    );
}

#[tokio::test(start_paused = true)]
async fn exponential() {
    let backoff = Backoff::exponential(ms(100), 2.0, ms(1_000));
    assert_eq!(
        gaps_of(backoff, 6).await,
        [ms(100), ms(200), ms(400), ms(800), ms(1_000)]
    );
}

#[tokio::test(start_paused = true)]
async fn the_total_wait_is_the_sum_of_the_waits() {
    let retry = Retry::builder()
        .max_attempts(4)
        .backoff(Backoff::exponential(ms(10), 3.0, ms(1_000)))
        .no_budget()
        .build()
        .unwrap();
    let op = Timed::new(ScriptedOp::always_err(BOOM));
    let _ = retry.call(op.clone()).await;
    assert_eq!(op.elapsed(), ms(10 + 30 + 90));
    assert_eq!(op.starts(), [ms(0), ms(10), ms(40), ms(130)]);
}

async fn jittered_gaps(seed: u64, jitter: Jitter) -> Vec<std::time::Duration> {
    let retry = Retry::builder()
        .max_attempts(6)
        .backoff(Backoff::exponential(ms(100), 2.0, ms(2_000)).with_jitter(jitter))
        .seed(seed)
        .no_budget()
        .build()
        .unwrap();
    let mut all = Vec::new();
    for _ in 0..3 {
        let op = Timed::new(ScriptedOp::always_err(BOOM));
        let _ = retry.call(op.clone()).await;
        all.extend(op.gaps());
    }
    all
}

#[tokio::test(start_paused = true)]
async fn same_seed_same_delays() {
    for jitter in [Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
        let a = jittered_gaps(42, jitter).await;
        let b = jittered_gaps(42, jitter).await;
        let c = jittered_gaps(43, jitter).await;
        assert_eq!(a, b, "{jitter:?}");
        assert_ne!(a, c, "{jitter:?}: another seed, other waits");
        assert_eq!(a.len(), 15);
    }
}

#[tokio::test(start_paused = true)]
async fn full_jitter_waits_stay_under_the_schedule() {
    let schedule = [100, 200, 400, 800, 1_600].map(ms);
    let gaps = jittered_gaps(7, Jitter::Full).await;
    for (i, gap) in gaps.iter().enumerate() {
        assert!(*gap <= schedule[i % 5], "wait {i} was {gap:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn retries_are_counted() {
    let retry = Retry::builder()
        .max_attempts(3)
        .backoff(Backoff::constant(ms(1)))
        .no_budget()
        .build()
        .unwrap();
    let op = ScriptedOp::new([
        steadfast_core::testing::Step::err(BOOM),
        steadfast_core::testing::Step::ok(5),
    ]);
    assert_eq!(retry.call(op.clone()).await, Ok(5));
    let numbers: Vec<u32> = op
        .attempts()
        .iter()
        .map(steadfast_core::Attempt::number)
        .collect();
    assert_eq!(numbers, [1, 2]);
    let snap = retry.snapshot();
    assert_eq!((snap.calls, snap.attempts, snap.retries), (1, 2, 1));
}
