//! A breaker ignores refusals by local policies inside it and counts an
//! inner timeout: a full bulkhead never opens it on a healthy dependency.

use std::time::Duration;

use steadfast::breaker::{Breaker, BreakerConfig, State};
use steadfast::bulkhead::Bulkhead;
use steadfast::testing::{ScriptedOp, Step, TestError};
use steadfast::{Error, ErrorKind, Inspect, Pipeline, Policy, Timeout};

/// Four concurrent 20 ms calls through the pipeline; their error kinds.
async fn four_at_once<P: Policy<u8, TestError>>(
    pipeline: &P,
    op: &ScriptedOp<u8, TestError>,
) -> Vec<Option<ErrorKind>> {
    let calls = (0..4).map(|_| pipeline.call(op.clone()));
    futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r: Result<u8, Error<TestError>>| r.err().map(|e| e.kind()))
        .collect()
}

fn healthy() -> ScriptedOp<u8, TestError> {
    ScriptedOp::new([Step::ok(1).after(Duration::from_millis(20))])
}

#[tokio::test(start_paused = true)]
async fn a_full_bulkhead_inside_never_opens_the_breaker() {
    let breaker = Breaker::from_config(BreakerConfig::ai_api()).unwrap();
    let pipeline = Pipeline::new(breaker.clone()).then(Bulkhead::new(1).unwrap());
    let op = healthy();
    for _ in 0..3 {
        assert_eq!(
            four_at_once(&pipeline, &op).await,
            [
                None,
                Some(ErrorKind::BulkheadFull),
                Some(ErrorKind::BulkheadFull),
                Some(ErrorKind::BulkheadFull),
            ]
        );
    }
    assert_eq!(breaker.snapshot().state, State::Closed);
    assert_eq!(
        pipeline.call(op.clone()).await,
        Ok(1),
        "a healthy call passes"
    );
}

#[tokio::test(start_paused = true)]
async fn counting_local_refusals_is_an_opt_in() {
    let mut config = BreakerConfig::ai_api();
    config.count_local_refusals = true;
    let breaker = Breaker::from_config(config).unwrap();
    let pipeline = Pipeline::new(breaker.clone()).then(Bulkhead::new(1).unwrap());
    four_at_once(&pipeline, &healthy()).await;
    assert_eq!(breaker.snapshot().state, State::Open);
    let refused = pipeline.call(healthy()).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::CircuitOpen);
}

#[tokio::test(start_paused = true)]
async fn an_inner_timeout_is_a_failure() {
    let breaker = Breaker::from_config(BreakerConfig::ai_api()).unwrap();
    let pipeline =
        Pipeline::new(breaker.clone()).then(Timeout::new(Duration::from_millis(10)).unwrap());
    let slow = ScriptedOp::<u8, TestError>::new([Step::ok(1).after(Duration::from_secs(1))]);
    for _ in 0..3 {
        let err = pipeline.call(slow.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
    }
    assert_eq!(breaker.snapshot().state, State::Open);
}
