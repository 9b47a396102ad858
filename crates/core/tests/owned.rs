//! The owned call path: a `Send + 'static` future that holds its own policy.

use std::sync::Arc;
use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Error, Identity, Pipeline, Policy, Timeout};

fn send_static<F: std::future::Future + Send + 'static>(f: F) -> F {
    f
}

#[tokio::test(start_paused = true)]
async fn an_owned_call_outlives_the_pipeline_handle_that_made_it() {
    let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(5)).unwrap())
        .then(Identity)
        .then(Timeout::new(Duration::from_secs(1)).unwrap());
    let op = ScriptedOp::<_, TestError>::new([Step::ok(3u8).after(Duration::from_millis(200))]);
    let call = send_static(pipeline.call_owned(op.clone()));
    drop(pipeline);
    let task = tokio::spawn(call);
    assert_eq!(task.await.unwrap(), Ok(3));
    assert_eq!(op.invocations(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_pipeline_in_an_arc_clones_one_pointer_per_owned_call() {
    let pipeline = Arc::new(Pipeline::new(
        Timeout::new(Duration::from_millis(100)).unwrap(),
    ));
    let op = ScriptedOp::<u8, TestError>::new([Step::ok(1).after(Duration::from_secs(1))]);
    let task = tokio::spawn(pipeline.call_owned(op.clone()));
    assert_eq!(Arc::strong_count(&pipeline), 2, "the task holds a clone");
    let result: Result<u8, Error<TestError>> = task.await.unwrap();
    assert!(matches!(result, Err(Error::Timeout(_))));
    assert_eq!(
        Arc::strong_count(&pipeline),
        1,
        "given back when the call ends"
    );
    assert_eq!(op.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn dropping_an_owned_call_gives_everything_back() {
    let pipeline = Arc::new(Pipeline::new(Timeout::new(Duration::from_secs(5)).unwrap()));
    let op = ScriptedOp::<u8, TestError>::new([Step::ok(1).after(Duration::from_secs(1))]);
    let task = tokio::spawn(pipeline.call_owned(op.clone()));
    tokio::time::advance(Duration::from_millis(10)).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(op.in_flight(), 0);
    assert_eq!(Arc::strong_count(&pipeline), 1);
}
