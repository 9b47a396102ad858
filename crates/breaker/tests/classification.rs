//! Classification: an `Ok` can fail, an `Err` can be ignored, and rejections
//! by inner policies count as failures unless the classifier says otherwise.

mod common;

use common::*;
use steadfast_breaker::{Breaker, BreakerConfig, State};
use steadfast_core::testing::{ScriptedOp, TestError};
use steadfast_core::{Classifier, Error, Inspect, Outcome, Pipeline, Policy, Timeout};

#[derive(Clone, Debug, PartialEq)]
struct Response {
    status: u16,
}

fn by_status(r: &Result<Response, TestError>) -> Outcome {
    match r {
        Ok(resp) if resp.status >= 500 => Outcome::Failure,
        Ok(resp) if resp.status == 404 => Outcome::Ignore,
        Ok(_) => Outcome::Success,
        Err(_) => Outcome::Failure,
    }
}

async fn status<C: Classifier<Response, TestError>>(
    b: &Breaker<C>,
    status: u16,
) -> Result<Response, Error<TestError>> {
    b.call(move || async move { Ok(Response { status }) }).await
}

#[tokio::test(start_paused = true)]
async fn a_503_inside_ok_is_a_failure_and_a_404_is_ignored() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(3)
        .failure_rate_over_calls(0.5, 10, 10)
        .classifier(by_status)
        .build()
        .unwrap();
    // The caller still gets its response back, whatever the verdict.
    assert_eq!(status(&b, 503).await, Ok(Response { status: 503 }));
    status(&b, 503).await.unwrap();
    status(&b, 404).await.unwrap(); // ignored: neither breaks the run nor counts
    let snap = b.snapshot();
    assert_eq!((snap.consecutive_failures, snap.calls_in_window), (2, 2));
    status(&b, 503).await.unwrap();
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn successes_reset_the_run() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(2)
        .classifier(by_status)
        .build()
        .unwrap();
    for _ in 0..5 {
        status(&b, 500).await.unwrap();
        status(&b, 200).await.unwrap();
    }
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn an_inner_timeout_counts_as_a_failure() {
    let breaker = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(2)
        .build()
        .unwrap();
    let pipeline = Pipeline::new(breaker.clone()).then(Timeout::new(ms(100)).unwrap());
    let hang = ScriptedOp::<u32, TestError>::hanging();
    for _ in 0..2 {
        let r = pipeline.call(hang.clone()).await;
        assert!(matches!(r, Err(Error::Timeout(_))), "{r:?}");
    }
    assert_eq!(breaker.state(), State::Open);
    assert!(matches!(
        pipeline.call(hang.clone()).await,
        Err(Error::CircuitOpen(_))
    ));
    assert_eq!(
        hang.invocations(),
        2,
        "an open breaker does not call through"
    );
}

#[tokio::test(start_paused = true)]
async fn a_classifier_may_ignore_rejections() {
    struct IgnoreTimeouts;
    impl Classifier<u32, TestError> for IgnoreTimeouts {
        fn classify(&self, r: &Result<u32, TestError>) -> Outcome {
            if r.is_ok() {
                Outcome::Success
            } else {
                Outcome::Failure
            }
        }
        fn classify_rejection(&self, rejection: &Error<TestError>) -> Outcome {
            if matches!(rejection, Error::Timeout(_)) {
                Outcome::Ignore
            } else {
                Outcome::Failure
            }
        }
    }
    let breaker = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(1)
        .classifier(IgnoreTimeouts)
        .build()
        .unwrap();
    let pipeline = Pipeline::new(breaker.clone()).then(Timeout::new(ms(100)).unwrap());
    for _ in 0..3 {
        let r = pipeline.call(ScriptedOp::<u32, TestError>::hanging()).await;
        assert!(matches!(r, Err(Error::Timeout(_))));
    }
    assert_eq!(breaker.state(), State::Closed);
    assert!(
        pipeline
            .call(|| async { Err::<u32, _>(BOOM) })
            .await
            .is_err()
    );
    assert_eq!(breaker.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn the_rejection_names_the_breaker_and_the_next_probe() {
    let b = Breaker::builder_from(BreakerConfig::empty())
        .name("payments")
        .consecutive_failures(1)
        .open_for(secs(30))
        .build()
        .unwrap();
    fail(&b).await.unwrap_err();
    match ok(&b).await {
        Err(Error::CircuitOpen(open)) => {
            assert_eq!(open.policy_name(), "payments");
            assert_eq!(open.retry_after(), Some(secs(30)));
            assert_eq!(
                open.message(),
                "Service temporarily unavailable. Try again in 30 s."
            );
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
}
