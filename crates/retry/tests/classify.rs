//! What is retried: the classifier decides, an `Ok` can be a failure.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::{BOOM, Timed, ms};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{BulkheadFull, Classifier, Error, Outcome, Pipeline, Policy};
use steadfast_retry::{Backoff, Retry};

fn builder() -> steadfast_retry::RetryBuilder {
    Retry::builder()
        .max_attempts(4)
        .backoff(Backoff::constant(ms(10)))
        .no_budget()
}

#[tokio::test(start_paused = true)]
async fn an_ok_can_be_a_failure() {
    // 503 is a failure, 200 a success.
    let retry = builder()
        .classifier(|r: &Result<u32, TestError>| match r {
            Ok(503) | Err(_) => Outcome::Failure,
            Ok(_) => Outcome::Success,
        })
        .build()
        .unwrap();
    let op = Timed::new(ScriptedOp::new([Step::ok(503).times(2), Step::ok(200)]));
    assert_eq!(retry.call(op.clone()).await, Ok(200));
    assert_eq!(op.starts(), [0, 10, 20].map(ms));
}

#[tokio::test(start_paused = true)]
async fn an_ok_failure_that_runs_out_of_attempts_is_returned() {
    let retry = builder()
        .classifier(|r: &Result<u32, TestError>| {
            if matches!(r, Ok(503)) {
                Outcome::Failure
            } else {
                Outcome::Success
            }
        })
        .build()
        .unwrap();
    let op = ScriptedOp::always_ok(503);
    assert_eq!(retry.call(op.clone()).await, Ok(503));
    assert_eq!(op.invocations(), 4);
}

#[tokio::test(start_paused = true)]
async fn ignored_results_are_not_retried() {
    let retry = builder()
        .classifier(|r: &Result<u32, TestError>| match r {
            Err(e) if *e == TestError::new("not found") => Outcome::Ignore,
            Err(_) => Outcome::Failure,
            Ok(_) => Outcome::Success,
        })
        .build()
        .unwrap();
    let op = ScriptedOp::always_err(TestError::new("not found"));
    assert_eq!(
        retry.call(op.clone()).await,
        Err(Error::Inner(TestError::new("not found")))
    );
    assert_eq!(op.invocations(), 1);
}

#[tokio::test(start_paused = true)]
async fn every_error_is_retried_by_default() {
    let op = ScriptedOp::new([Step::err(BOOM).times(3), Step::ok(1)]);
    assert_eq!(builder().build().unwrap().call(op.clone()).await, Ok(1));
    assert_eq!(op.invocations(), 4);
}

/// Ignores rejections: a rejected attempt is returned, not retried.
struct IgnoreRejections;

impl Classifier<u32, TestError> for IgnoreRejections {
    fn classify(&self, r: &Result<u32, TestError>) -> Outcome {
        if r.is_ok() {
            Outcome::Success
        } else {
            Outcome::Failure
        }
    }
    fn classify_rejection(&self, _: &Error<TestError>) -> Outcome {
        Outcome::Ignore
    }
}

struct FullOnce(AtomicU32);

impl Policy<u32, TestError> for FullOnce {
    // The trait's signature, as policies write it.
    #[allow(clippy::manual_async_fn)]
    fn execute<'a, N>(
        &'a self,
        ctx: steadfast_core::Context<'a>,
        next: N,
    ) -> impl std::future::Future<Output = Result<u32, Error<TestError>>> + Send + 'a
    where
        N: steadfast_core::Next<'a, u32, TestError>,
    {
        async move {
            if self.0.fetch_add(1, Ordering::Relaxed) == 0 {
                Err(BulkheadFull::new("pool").into())
            } else {
                next.invoke(ctx).await
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn rejections_go_to_the_classifier_first() {
    let retried = Pipeline::new(builder().build().unwrap()).then(FullOnce(AtomicU32::new(0)));
    assert_eq!(retried.call(ScriptedOp::always_ok(3)).await, Ok(3));

    let ignored = Pipeline::new(builder().classifier(IgnoreRejections).build().unwrap())
        .then(FullOnce(AtomicU32::new(0)));
    let err = ignored.call(ScriptedOp::always_ok(3)).await.unwrap_err();
    assert_eq!(err, Error::BulkheadFull(BulkheadFull::new("pool")));
}
