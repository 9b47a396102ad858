//! An operation that itself speaks `Error<E>` composes without nesting errors.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use steadfast_core::testing::TestError;
use steadfast_core::{
    Classifier, Context, Error, ErrorKind, Next, Outcome, Pipeline, Policy, RateLimited, Timeout,
    classify,
};

/// A policy that refuses every call as a rate limiter would.
#[derive(Clone)]
struct Refuse;

impl<T: Send, E: Send> Policy<T, E> for Refuse {
    async fn execute<'a, N>(&'a self, _ctx: Context<'a>, _next: N) -> Result<T, Error<E>>
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        Err(RateLimited::new("per-user", Duration::from_millis(2_500)).into())
    }
}

/// A policy that records how the default classifier judged what came back.
#[derive(Clone, Default)]
struct Judge(Arc<Mutex<Vec<(ErrorKind, bool)>>>);

impl<T: Send, E: Send> Policy<T, E> for Judge {
    async fn execute<'a, N>(&'a self, ctx: Context<'a>, next: N) -> Result<T, Error<E>>
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        let result = next.invoke(ctx).await;
        if let Err(e) = &result {
            self.0
                .lock()
                .unwrap()
                .push((e.kind(), e.is_local_refusal()));
        }
        result
    }
}

fn expect_flat_rate_limit(err: &Error<TestError>) {
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.policy_name(), Some("per-user"));
    assert_eq!(err.retry_after(), Some(Duration::from_millis(2_500)));
    assert_eq!(err.message(), "Too many requests. Try again in 3 s.");
}

#[tokio::test]
async fn a_pipeline_called_inside_another_keeps_its_rejection() {
    let inner = Pipeline::new(Timeout::new(Duration::from_secs(1)).unwrap()).then(Refuse);
    let judge = Judge::default();
    let outer = Pipeline::new(Timeout::new(Duration::from_secs(5)).unwrap()).then(judge.clone());

    let err = outer
        .call_flat(|| inner.call(|| async { Ok::<u8, TestError>(1) }))
        .await
        .unwrap_err();
    expect_flat_rate_limit(&err);
    // The outer policies saw a rejection, not the operation failing.
    assert_eq!(*judge.0.lock().unwrap(), [(ErrorKind::RateLimited, true)]);
}

#[tokio::test]
async fn a_pipeline_composed_inside_another_is_flat_too() {
    let inner = Pipeline::new(Timeout::new(Duration::from_secs(1)).unwrap()).then(Refuse);
    let outer = Pipeline::new(Timeout::new(Duration::from_secs(5)).unwrap()).then(inner);
    let err = outer
        .call(|| async { Ok::<u8, TestError>(1) })
        .await
        .unwrap_err();
    expect_flat_rate_limit(&err);
}

#[tokio::test]
async fn a_flat_call_keeps_the_operations_own_error_and_success() {
    let outer = Timeout::new(Duration::from_secs(5)).unwrap();
    let failed = outer
        .call_flat(|| async { Err::<u8, Error<TestError>>(Error::Inner(TestError("db down"))) })
        .await;
    assert_eq!(failed, Err(Error::Inner(TestError("db down"))));
    let ok = outer
        .call_with_flat(Context::new(), || async { Ok::<u8, Error<TestError>>(9) })
        .await;
    assert_eq!(ok, Ok(9));
}

#[test]
fn a_nested_error_flattens_to_its_inner_rejection() {
    let nested: Error<Error<TestError>> =
        Error::Inner(RateLimited::new("per-user", Duration::from_millis(2_500)).into());
    expect_flat_rate_limit(&nested.flatten());
    let outer_rejection: Error<Error<TestError>> =
        RateLimited::new("per-user", Duration::from_millis(2_500)).into();
    expect_flat_rate_limit(&outer_rejection.flatten());
}

#[test]
fn the_default_classifier_sees_a_flat_rejection_as_a_rejection() {
    struct Count;
    impl Classifier<u8, TestError> for Count {
        fn classify(&self, _: &Result<u8, TestError>) -> Outcome {
            Outcome::Success
        }
        fn classify_rejection(&self, _: &Error<TestError>) -> Outcome {
            Outcome::Ignore
        }
    }
    let flat: Result<u8, Error<TestError>> =
        Err(RateLimited::new("per-user", Duration::from_secs(1)).into());
    assert_eq!(classify(&Count, flat).0, Outcome::Ignore);
}
