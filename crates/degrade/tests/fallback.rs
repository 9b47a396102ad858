//! Fallbacks: which failures they answer, sync and async, and their counters.

use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, TestError};
use steadfast_core::{
    CircuitOpen, Error, ErrorKind, Inspect, Outcome, Pipeline, Policy, RateLimited, Timeout,
};
use steadfast_degrade::Fallback;

const SORRY: &str = "AI temporarily unavailable, try again soon";

#[tokio::test]
async fn answers_every_failure_by_default_and_sees_the_error() {
    let fallback = Fallback::from_fn(|error: Error<TestError>| match error {
        Error::Inner(e) => format!("fallback for {e}"),
        other => format!("fallback for {:?}", other.kind()),
    });
    let op = ScriptedOp::<String, _>::always_err(TestError::new("model down"));
    assert_eq!(
        fallback.call(op.clone()).await.unwrap(),
        "fallback for model down"
    );
    let rejected = || async { Err::<String, _>(TestError::new("unused")) };
    assert_eq!(
        fallback.call(rejected).await.unwrap(),
        "fallback for unused"
    );
    let s = fallback.snapshot();
    assert_eq!((s.served, s.passed_through), (2, 0));
}

#[tokio::test]
async fn successes_pass_untouched() {
    let fallback = Fallback::from_fn(|_: Error<TestError>| 0u32);
    let op = ScriptedOp::<u32, TestError>::always_ok(7);
    assert_eq!(fallback.call(op.clone()).await, Ok(7));
    assert_eq!(fallback.snapshot().served, 0);
}

#[tokio::test(start_paused = true)]
async fn only_chosen_rejection_kinds() {
    let fallback = Fallback::builder()
        .name("ai")
        .only_on([
            ErrorKind::CircuitOpen,
            ErrorKind::Timeout,
            ErrorKind::RateLimited,
        ])
        .from_fn(|_: Error<TestError>| SORRY.to_owned());
    // A timeout inside the fallback: answered.
    let pipeline =
        Pipeline::new(fallback.clone()).then(Timeout::new(Duration::from_millis(50)).unwrap());
    let slow = ScriptedOp::<String, TestError>::hanging();
    assert_eq!(pipeline.call(slow.clone()).await.unwrap(), SORRY);
    // The operation's own error: passed through.
    let failing = ScriptedOp::<String, _>::always_err(TestError::new("bad request"));
    assert_eq!(
        fallback.call(failing.clone()).await,
        Err(Error::Inner(TestError::new("bad request")))
    );
    let s = fallback.snapshot();
    assert_eq!((s.name.as_str(), s.served, s.passed_through), ("ai", 1, 1));
}

/// A policy that always refuses with the given error.
#[derive(Clone)]
struct Refuse(Error<TestError>);

impl<T: Send> Policy<T, TestError> for Refuse {
    async fn execute<'a, N>(
        &'a self,
        _ctx: steadfast_core::Context<'a>,
        _next: N,
    ) -> Result<T, Error<TestError>>
    where
        N: steadfast_core::Next<'a, T, TestError>,
        T: 'a,
    {
        Err(self.0.clone())
    }
}

#[tokio::test]
async fn each_chosen_kind_is_answered_and_others_are_not() {
    let fallback = Fallback::builder()
        .only_on([ErrorKind::CircuitOpen, ErrorKind::RateLimited])
        .from_fn(|e: Error<TestError>| e.kind());
    let op = ScriptedOp::<ErrorKind, TestError>::always_ok(ErrorKind::Inner);
    let open = Pipeline::new(fallback.clone()).then(Refuse(CircuitOpen::new("b", None).into()));
    assert_eq!(open.call(op.clone()).await, Ok(ErrorKind::CircuitOpen));
    let limited = Pipeline::new(fallback.clone())
        .then(Refuse(RateLimited::new("r", Duration::from_secs(1)).into()));
    assert_eq!(limited.call(op.clone()).await, Ok(ErrorKind::RateLimited));
    let shed =
        Pipeline::new(fallback.clone()).then(Refuse(steadfast_core::Shed::new("s", None).into()));
    assert_eq!(
        shed.call(op.clone()).await.unwrap_err().kind(),
        ErrorKind::Shed
    );
    assert_eq!(op.invocations(), 0);
}

#[tokio::test]
async fn the_classifier_decides_which_errors_are_failures() {
    // 404s say nothing about the dependency: pass them through.
    let classifier = |r: &Result<u32, TestError>| match r {
        Err(TestError("not found")) => Outcome::Ignore,
        Err(_) => Outcome::Failure,
        Ok(_) => Outcome::Success,
    };
    let fallback = Fallback::builder().classifier(classifier).from_fn(|_| 0u32);
    let missing = ScriptedOp::<u32, _>::always_err(TestError::new("not found"));
    assert_eq!(
        fallback.call(missing.clone()).await,
        Err(Error::Inner(TestError::new("not found")))
    );
    let down = ScriptedOp::<u32, _>::always_err(TestError::new("down"));
    assert_eq!(fallback.call(down.clone()).await, Ok(0));
}

#[tokio::test]
async fn async_fallbacks_may_call_a_backup_and_fail_in_turn() {
    let backup = ScriptedOp::<u32, _>::new([
        steadfast_core::testing::Step::ok(42),
        steadfast_core::testing::Step::err(TestError::new("backup down")),
    ]);
    let fallback = Fallback::from_async({
        let backup = backup.clone();
        move |_: Error<TestError>| {
            let backup = backup.clone();
            async move { steadfast_core::Identity.call(backup).await }
        }
    });
    let primary = ScriptedOp::<u32, _>::always_err(TestError::new("primary down"));
    assert_eq!(fallback.call(primary.clone()).await, Ok(42));
    assert_eq!(
        fallback.call(primary.clone()).await,
        Err(Error::Inner(TestError::new("backup down")))
    );
    assert_eq!(backup.invocations(), 2);
}
