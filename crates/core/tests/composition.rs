//! Composition: order is outermost first, and errors never nest.

mod support;

use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{BoxPolicy, Error, Identity, Pipeline, Policy, TimedOut, Timeout};
use support::{Recorder, lines, log};

#[tokio::test]
async fn policies_see_the_call_in_the_order_written() {
    let log = log();
    let rec = |name| Recorder {
        name,
        log: log.clone(),
    };
    let pipeline = Pipeline::new(rec("a")).then(rec("b")).then(rec("c"));
    let inner_log = log.clone();
    let result = pipeline
        .call(|| {
            let log = inner_log.clone();
            async move {
                log.lock().unwrap().push("op".to_owned());
                Ok::<_, TestError>(1)
            }
        })
        .await;
    assert_eq!(result, Ok(1));
    assert_eq!(
        lines(&log),
        [
            "enter a", "enter b", "enter c", "op", "exit c", "exit b", "exit a"
        ]
    );
}

#[tokio::test]
async fn nesting_pipelines_keeps_the_order() {
    let log = log();
    let rec = |name| Recorder {
        name,
        log: log.clone(),
    };
    let inner = Pipeline::new(rec("b")).then(rec("c"));
    let pipeline = Pipeline::new(rec("a")).then(inner).then(rec("d"));
    pipeline
        .call(|| async { Ok::<_, TestError>(()) })
        .await
        .unwrap();
    assert_eq!(
        lines(&log),
        [
            "enter a", "enter b", "enter c", "enter d", "exit d", "exit c", "exit b", "exit a"
        ]
    );
}

#[tokio::test]
async fn a_boxed_pipeline_keeps_the_order() {
    let log = log();
    let mut policy = BoxPolicy::<u8, TestError>::identity();
    for name in ["a", "b", "c"] {
        policy = policy.then(Recorder {
            name,
            log: log.clone(),
        });
    }
    let clone = policy.clone();
    assert_eq!(clone.call(|| async { Ok(9) }).await, Ok(9));
    assert_eq!(
        lines(&log),
        [
            "enter a", "enter b", "enter c", "exit c", "exit b", "exit a"
        ]
    );
}

#[tokio::test]
async fn identity_runs_the_operation_once() {
    let op = ScriptedOp::<_, TestError>::new([Step::ok(3u8)]);
    let pipeline = Pipeline::new(Identity).then(Identity).then(Identity);
    assert_eq!(pipeline.call(op.clone()).await, Ok(3));
    assert_eq!(op.invocations(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_inner_rejection_passes_through_outer_policies_unnested() {
    let pipeline = Pipeline::new(
        Timeout::builder()
            .limit(Duration::from_secs(5))
            .name("total")
            .build()
            .unwrap(),
    )
    .then(Identity)
    .then(
        Timeout::builder()
            .limit(Duration::from_secs(1))
            .name("attempt")
            .build()
            .unwrap(),
    );
    // The type says it: one level of Error, whatever the depth of the pipeline.
    let result: Result<u8, Error<TestError>> = pipeline.call(ScriptedOp::hanging()).await;
    assert_eq!(
        result,
        Err(Error::Timeout(TimedOut::new(
            "attempt",
            Duration::from_secs(1)
        )))
    );
}

#[tokio::test]
async fn the_operations_own_error_is_kept_as_is() {
    let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(1)).unwrap()).then(Identity);
    let result = pipeline
        .call(ScriptedOp::<u8, _>::always_err(TestError::new("refused")))
        .await;
    let err = result.unwrap_err();
    assert!(!err.is_rejection());
    assert_eq!(err.into_inner(), Some(TestError::new("refused")));
}

#[tokio::test(start_paused = true)]
async fn references_and_arcs_are_policies_too() {
    let timeout = std::sync::Arc::new(Timeout::new(Duration::from_millis(10)).unwrap());
    let pipeline = Pipeline::new(&*timeout).then(std::sync::Arc::clone(&timeout));
    let result = pipeline.call(ScriptedOp::<u8, TestError>::hanging()).await;
    assert!(matches!(result, Err(Error::Timeout(_))));
    assert_eq!(steadfast_core::Inspect::snapshot(&*timeout).timeouts, 1);
}
