//! `Retry::call` and `call_with` run the retry's own future, which owns the
//! operation (also through an `Arc`, which forwards them); inside a pipeline
//! the retry runs from the `Next` it is given. The same scripts through every
//! way in give the same answers, the same attempt times and the same
//! counters.

mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use common::{BOOM, Timed, ms};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::time::Instant;
use steadfast_core::{Context, Error, Identity, Inspect, Pipeline, Policy};
use steadfast_retry::{Backoff, HedgeConfig, Retry, RetryBuilder};

type Answer = Result<u32, Error<TestError>>;

/// What one run left behind: its answer, when each attempt started, and the
/// retry's counters (calls, retries, hedges started, hedges won).
#[derive(Debug, PartialEq)]
struct Run {
    answer: Answer,
    starts: Vec<Duration>,
    counters: (u64, u64, u64, u64),
    cancelled: u64,
}

#[derive(Clone, Copy, Debug)]
enum Way {
    Call,
    CallWith,
    Shared,
    Pipeline,
}

const WAYS: [Way; 4] = [Way::Call, Way::CallWith, Way::Shared, Way::Pipeline];

async fn run(way: Way, builder: fn() -> RetryBuilder, steps: Vec<Step<u32, TestError>>) -> Run {
    let retry = builder().build().unwrap();
    let op = Timed::new(ScriptedOp::new(steps));
    let answer = match way {
        Way::Call => retry.call(op.clone()).await,
        Way::CallWith => retry.call_with(Context::new(), op.clone()).await,
        Way::Shared => Arc::new(retry.clone()).call(op.clone()).await,
        // The retry around something: the call goes through its `execute`.
        Way::Pipeline => {
            Pipeline::new(retry.clone())
                .then(Identity)
                .call(op.clone())
                .await
        }
    };
    let snap = retry.snapshot();
    Run {
        answer,
        starts: op.starts(),
        counters: (
            snap.calls,
            snap.retries,
            snap.hedges_started,
            snap.hedges_won,
        ),
        cancelled: op.op.cancelled(),
    }
}

/// Runs the script each way in and checks they agree with `expected`.
async fn same_each_way(
    builder: fn() -> RetryBuilder,
    steps: Vec<Step<u32, TestError>>,
    expected: &Run,
) {
    for way in WAYS {
        let got = run(way, builder, steps.clone()).await;
        assert_eq!(&got, expected, "{way:?}");
    }
}

fn sequential() -> RetryBuilder {
    Retry::builder()
        .max_attempts(3)
        .backoff(Backoff::constant(ms(100)))
        .no_budget()
}

#[tokio::test(start_paused = true)]
async fn a_first_success() {
    let expected = Run {
        answer: Ok(7),
        starts: vec![ms(0)],
        counters: (1, 0, 0, 0),
        cancelled: 0,
    };
    same_each_way(sequential, vec![Step::ok(7)], &expected).await;
}

#[tokio::test(start_paused = true)]
async fn two_failures_then_a_success() {
    let expected = Run {
        answer: Ok(3),
        starts: vec![ms(0), ms(100), ms(200)],
        counters: (1, 2, 0, 0),
        cancelled: 0,
    };
    let steps = vec![Step::err(BOOM), Step::err(BOOM), Step::ok(3)];
    same_each_way(sequential, steps, &expected).await;
}

#[tokio::test(start_paused = true)]
async fn every_attempt_fails() {
    let expected = Run {
        answer: Err(Error::Inner(BOOM)),
        starts: vec![ms(0), ms(100), ms(200)],
        counters: (1, 2, 0, 0),
        cancelled: 0,
    };
    same_each_way(sequential, vec![Step::err(BOOM)], &expected).await;
}

#[tokio::test(start_paused = true)]
async fn one_attempt_only() {
    let expected = Run {
        answer: Err(Error::Inner(BOOM)),
        starts: vec![ms(0)],
        counters: (1, 0, 0, 0),
        cancelled: 0,
    };
    same_each_way(
        || sequential().max_attempts(1),
        vec![Step::err(BOOM)],
        &expected,
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_delayed_hedge_wins() {
    let builder = || {
        Retry::builder()
            .hedging(HedgeConfig::delayed(ms(50)))
            .no_budget()
    };
    let expected = Run {
        answer: Ok(2),
        starts: vec![ms(0), ms(50)],
        counters: (1, 0, 1, 1),
        cancelled: 1,
    };
    let steps = vec![Step::hang(), Step::ok(2).after(ms(10))];
    same_each_way(builder, steps, &expected).await;
}

#[tokio::test(start_paused = true)]
async fn a_fallback_hedge_after_a_failure() {
    let builder = || {
        Retry::builder()
            .hedging(HedgeConfig::fallback())
            .no_budget()
    };
    let expected = Run {
        answer: Ok(5),
        starts: vec![ms(0), ms(0)],
        counters: (1, 0, 1, 1),
        cancelled: 0,
    };
    let steps = vec![Step::err(BOOM), Step::ok(5)];
    same_each_way(builder, steps, &expected).await;
}

#[tokio::test(start_paused = true)]
async fn call_with_keeps_the_callers_deadline() {
    // Attempts fail after 50 ms, waits are 100 ms: attempts at 0 and 150; a
    // third would start at 300, past the deadline at 250, so the call gives
    // up when the second fails, at 200.
    let retry = sequential().max_attempts(10).build().unwrap();
    let op = Timed::new(ScriptedOp::new([Step::err(BOOM).after(ms(50))]));
    let ctx = Context::new().with_deadline(Instant::now() + ms(250));
    let answer = retry.call_with(ctx, op.clone()).await;
    assert_eq!(answer, Err(Error::Inner(BOOM)));
    assert_eq!(op.starts(), [0, 150].map(ms));
    assert_eq!(op.elapsed(), ms(200));
}

/// Polls `future` until `at` on the paused clock, then drops it.
async fn drop_at<F: Future>(future: F, at: Duration) {
    let start = Instant::now();
    tokio::select! {
        _ = future => panic!("the call was meant to be dropped first"),
        () = tokio::time::sleep_until(start + at) => {}
    }
}

#[tokio::test(start_paused = true)]
async fn dropped_at_any_point_leaves_nothing_running() {
    // First attempt fails at 10, wait until 110, second attempt hangs. Drop
    // during the first attempt, during the wait and during the second.
    for at in [5, 50, 150].map(ms) {
        let retry = sequential().build().unwrap();
        let op = Timed::new(ScriptedOp::new([
            Step::err(BOOM).after(ms(10)),
            Step::hang(),
        ]));
        drop_at(retry.call(op.clone()), at).await;
        assert_eq!(op.op.in_flight(), 0, "dropped at {at:?}");
        let expected_cancelled = u64::from(at != ms(50));
        assert_eq!(op.op.cancelled(), expected_cancelled, "dropped at {at:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_direct_call_starts_when_made_a_pipeline_when_polled() {
    // Made, then left for 10 s. `call` and `call_with` count the call, start
    // its first attempt and start `max_elapsed` as they return, as a
    // breaker decides admission (documented on `Retry::call`); a pipeline
    // with the retry around another policy starts at its first poll.
    // Attempts 100 ms apart fit in 150 ms from the start: the first only
    // when the clock started 10 s before.
    for way in WAYS {
        let retry = sequential().max_elapsed(ms(150)).build().unwrap();
        let op = Timed::new(ScriptedOp::new([Step::err(BOOM)]));
        let pipeline = Pipeline::new(retry.clone()).then(Identity);
        let shared = Arc::new(retry.clone());
        let call: std::pin::Pin<Box<dyn Future<Output = Answer> + Send + '_>> = match way {
            Way::Call => Box::pin(retry.call(op.clone())),
            Way::CallWith => Box::pin(retry.call_with(Context::new(), op.clone())),
            Way::Shared => Box::pin(shared.call(op.clone())),
            Way::Pipeline => Box::pin(pipeline.call(op.clone())),
        };
        let eager = !matches!(way, Way::Pipeline);
        tokio::time::advance(ms(10_000)).await;
        assert_eq!(op.starts().len(), usize::from(eager), "{way:?}");
        assert_eq!(retry.snapshot().calls, u64::from(eager), "{way:?}");
        assert_eq!(call.await, Err(Error::Inner(BOOM)), "{way:?}");
        let expected = if eager {
            vec![ms(0)]
        } else {
            vec![ms(10_000), ms(10_100)]
        };
        assert_eq!(op.starts(), expected, "{way:?}");
        assert_eq!(retry.snapshot().calls, 1, "{way:?}");
    }
}
