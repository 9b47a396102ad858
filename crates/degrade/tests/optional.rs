//! Optional features: failures become `None`; the call is skipped while the
//! breaker is open (a fake breaker here: the real one plugs in through the
//! same `CircuitState` seam).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use steadfast_core::testing::{ScriptedOp, TestError};
use steadfast_core::{Error, Inspect, Outcome, Policy};
use steadfast_degrade::{CircuitState, Optional, some};

/// A stand-in breaker the test opens and closes.
#[derive(Default)]
struct FakeBreaker(AtomicBool);

impl CircuitState for FakeBreaker {
    fn is_open(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn failures_become_none_and_successes_some() {
    let optional = Optional::new();
    let ok = ScriptedOp::<u8, TestError>::always_ok(3);
    assert_eq!(optional.call(some(ok.clone())).await, Ok(Some(3)));
    let failing = ScriptedOp::<u8, _>::always_err(TestError::new("down"));
    assert_eq!(optional.call(some(failing.clone())).await, Ok(None));
    assert_eq!(optional.snapshot().failed, 1);
}

#[tokio::test]
async fn skips_the_call_while_the_breaker_is_open() {
    let breaker = Arc::new(FakeBreaker::default());
    let optional = Optional::builder()
        .name("recommendations")
        .skip_while_open(Arc::clone(&breaker))
        .build();
    let op = ScriptedOp::<u8, TestError>::always_ok(1);
    assert_eq!(optional.call(some(op.clone())).await, Ok(Some(1)));
    breaker.0.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        assert_eq!(optional.call(some(op.clone())).await, Ok(None));
    }
    assert_eq!(op.invocations(), 1, "no call while open");
    let s = optional.snapshot();
    assert_eq!((s.skipped, s.failed, s.skipping), (3, 0, true));
    breaker.0.store(false, Ordering::SeqCst);
    assert_eq!(optional.call(some(op.clone())).await, Ok(Some(1)));
    assert_eq!(op.invocations(), 2);
    assert!(!optional.snapshot().skipping);
}

#[tokio::test]
async fn a_closure_is_a_breaker_too() {
    let open = Arc::new(AtomicBool::new(true));
    let optional = Optional::builder()
        .skip_while_open({
            let open = Arc::clone(&open);
            move || open.load(Ordering::SeqCst)
        })
        .build();
    let op = ScriptedOp::<u8, TestError>::always_ok(1);
    assert_eq!(optional.call(some(op.clone())).await, Ok(None));
    assert_eq!(op.invocations(), 0);
}

#[tokio::test]
async fn errors_the_classifier_ignores_pass_through() {
    let classifier = |r: &Result<Option<u8>, TestError>| match r {
        Err(TestError("bad input")) => Outcome::Ignore,
        Err(_) => Outcome::Failure,
        Ok(_) => Outcome::Success,
    };
    let optional = Optional::builder().classifier(classifier).build();
    let bad = ScriptedOp::<u8, _>::always_err(TestError::new("bad input"));
    assert_eq!(
        optional.call(some(bad.clone())).await,
        Err(Error::Inner(TestError::new("bad input")))
    );
}
