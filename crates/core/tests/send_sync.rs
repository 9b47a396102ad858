//! Every public type is Send and Sync, and pipeline futures run inside tokio::spawn.

use std::time::Duration;

use steadfast_core::testing::{ScriptedFuture, ScriptedOp, Step, TestError};
use steadfast_core::*;

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>(_: &T) {}
fn static_error<E: std::error::Error + Send + Sync + 'static>() {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<Error<TestError>>();
    send_sync::<ErrorKind>();
    send_sync::<TimedOut>();
    send_sync::<CircuitOpen>();
    send_sync::<ProbeOrigin>();
    send_sync::<RateLimited>();
    send_sync::<BulkheadFull>();
    send_sync::<BulkheadReason>();
    send_sync::<Shed>();
    send_sync::<MissingKey>();
    send_sync::<FlatLeaf<'static, fn() -> std::future::Ready<Result<u8, Error<TestError>>>>>();
    send_sync::<ConfigError>();
    send_sync::<Name>();
    send_sync::<Context<'static>>();
    send_sync::<Attempt>();
    send_sync::<Priority>();
    send_sync::<Outcome>();
    send_sync::<DefaultClassifier>();
    send_sync::<Identity>();
    send_sync::<Then<Timeout, Identity>>();
    send_sync::<Last<Timeout>>();
    send_sync::<Pipeline<Then<Timeout, Last<Identity>>>>();
    send_sync::<BoxPolicy<u8, TestError>>();
    send_sync::<Timeout>();
    send_sync::<TimeoutConfig>();
    send_sync::<timeout::TimeoutBuilder>();
    send_sync::<TimeoutSnapshot>();
    send_sync::<timeout::TimeoutFuture<'static, std::future::Ready<Result<u8, Error<TestError>>>>>(
    );
    send_sync::<WithAttempt<fn(Attempt) -> std::future::Ready<Result<u8, TestError>>>>();
    send_sync::<ScriptedOp<u8, TestError>>();
    send_sync::<ScriptedFuture<u8, TestError>>();
    send_sync::<Step<u8, TestError>>();
    send_sync::<TestError>();
    send_sync::<steadfast_core::testing::Events>();
    send_sync::<steadfast_core::testing::EventRecord>();
}

#[test]
fn errors_are_std_errors_when_the_inner_one_is() {
    static_error::<Error<TestError>>();
    static_error::<Error<std::io::Error>>();
    static_error::<ConfigError>();
    static_error::<TimedOut>();
    static_error::<MissingKey>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_futures_are_send_and_spawnable() {
    let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(1)).unwrap())
        .then(Identity)
        .then(Timeout::new(Duration::from_millis(500)).unwrap());
    let op = ScriptedOp::<_, TestError>::new([Step::ok(1u8)]);
    send(&pipeline.call(op.clone()));
    let boxed = pipeline.clone().boxed::<u8, TestError>();
    send(&boxed.call(op.clone()));

    let handles: Vec<_> = (0..8)
        .map(|_| {
            let pipeline = pipeline.clone();
            let op = op.clone();
            tokio::spawn(async move { pipeline.call(op).await })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.await.unwrap(), Ok(1));
    }
    assert_eq!(op.invocations(), 8);
}
