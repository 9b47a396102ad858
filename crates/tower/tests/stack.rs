//! steadfast's layer among tower's: types, ordering, backpressure, shared
//! state across clones, and the client direction.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use steadfast::bulkhead::Bulkhead;
use steadfast::ratelimit::{Quota, RateLimiter};
use steadfast::retry::Retry;
use steadfast_core::{BoxPolicy, Error, ErrorKind, Pipeline, Policy, Timeout};
use steadfast_tower::{PolicyLayer, service_op};
use tower::limit::ConcurrencyLimitLayer;
use tower::timeout::TimeoutLayer;
use tower::{BoxError, Service, ServiceBuilder, ServiceExt, service_fn};

/// What axum and `tokio::spawn` need of a service and its futures.
fn assert_fit<S, R>(_: &S)
where
    S: Service<R> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
}

/// Fails the first `failures` calls, then answers `n * 10`.
fn flaky(
    failures: u32,
) -> (
    impl Service<u32, Response = u32, Error = std::io::Error, Future: Send> + Clone + Send + Sync,
    Arc<AtomicU32>,
) {
    let calls = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&calls);
    let service = service_fn(move |n: u32| {
        let call = seen.fetch_add(1, Ordering::Relaxed);
        async move {
            if call < failures {
                Err(std::io::Error::other("flaky"))
            } else {
                Ok(n * 10)
            }
        }
    });
    (service, calls)
}

#[tokio::test(start_paused = true)]
async fn a_stack_of_tower_and_steadfast_layers_runs_outermost_first() {
    let (inner, calls) = flaky(2);
    let retry = Retry::builder().max_attempts(3).build().unwrap();
    // tower's timeout outside bounds every retry together; the concurrency
    // limit inside queues each attempt.
    let service = ServiceBuilder::new()
        .layer(TimeoutLayer::new(Duration::from_secs(5)))
        .layer(PolicyLayer::new(
            Pipeline::new(Timeout::new(Duration::from_secs(1)).unwrap()).then(retry),
        ))
        .layer(ConcurrencyLimitLayer::new(4))
        .service(inner);
    assert_fit::<_, u32>(&service);

    let answer: Result<u32, BoxError> = service.clone().oneshot(7).await;
    assert_eq!(answer.unwrap(), 70);
    assert_eq!(calls.load(Ordering::Relaxed), 3);
}

#[tokio::test(start_paused = true)]
async fn every_clone_shares_the_policy_state() {
    let limiter = RateLimiter::new(Quota::per_minute(2)).unwrap();
    let service = ServiceBuilder::new()
        .layer(PolicyLayer::new(limiter.clone()))
        .service(service_fn(|n: u32| async move { Ok::<_, Infallible>(n) }));
    assert_fit::<_, u32>(&service);

    // axum clones the service per request; each clone counts against one quota.
    assert_eq!(service.clone().oneshot(1).await.unwrap(), 1);
    assert_eq!(service.clone().oneshot(2).await.unwrap(), 2);
    let refused = service.clone().oneshot(3).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::RateLimited);
    assert_eq!(refused.retry_after(), Some(Duration::from_secs(30)));
}

#[tokio::test(start_paused = true)]
async fn poll_ready_asks_the_inner_service_and_the_bulkhead_decides_in_call() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let slow = {
        let gate = Arc::clone(&gate);
        service_fn(move |n: u32| {
            let gate = Arc::clone(&gate);
            async move {
                let _pass = gate.acquire().await.unwrap();
                Ok::<_, Infallible>(n)
            }
        })
    };

    // tower's limit inside: a second caller waits in poll_ready.
    let limited = ServiceBuilder::new()
        .layer(PolicyLayer::new(
            Timeout::new(Duration::from_secs(60)).unwrap(),
        ))
        .layer(ConcurrencyLimitLayer::new(1))
        .service(slow.clone());
    let mut first = limited.clone();
    let held = tokio::spawn(first.ready().await.unwrap().call(1));
    tokio::task::yield_now().await;
    let mut second = limited.clone();
    let waited = tokio::time::timeout(Duration::from_secs(1), second.ready()).await;
    assert!(waited.is_err(), "poll_ready waits for the inner limit");

    // A bulkhead in the policy: poll_ready is ready, the call is refused.
    let bulkhead = Bulkhead::new(1).unwrap();
    let shed = ServiceBuilder::new()
        .layer(PolicyLayer::new(bulkhead.clone()))
        .service(slow);
    let busy = tokio::spawn(shed.clone().oneshot(2));
    tokio::task::yield_now().await;
    let mut other = shed.clone();
    other.ready().await.unwrap();
    let refused = other.call(3).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::BulkheadFull);

    gate.add_permits(2);
    assert_eq!(held.await.unwrap().unwrap(), 1);
    assert_eq!(busy.await.unwrap().unwrap(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_boxed_pipeline_is_a_layer_too() {
    let (inner, calls) = flaky(1);
    let policy: BoxPolicy<u32, std::io::Error> =
        BoxPolicy::new(Timeout::new(Duration::from_secs(1)).unwrap())
            .then(Retry::builder().max_attempts(2).build().unwrap());
    let service = ServiceBuilder::new()
        .layer(PolicyLayer::new(policy))
        .service(inner);
    assert_fit::<_, u32>(&service);
    assert_eq!(service.oneshot(4).await.unwrap(), 40);
    assert_eq!(calls.load(Ordering::Relaxed), 2);
}

#[tokio::test(start_paused = true)]
async fn a_tower_client_is_an_operation() {
    let (client, calls) = flaky(2);
    let retry = Retry::builder().max_attempts(3).build().unwrap();
    let answer: Result<u32, Error<std::io::Error>> = retry.call(service_op(client, || 5)).await;
    assert_eq!(answer.unwrap(), 50);
    assert_eq!(calls.load(Ordering::Relaxed), 3);

    // The operation's error comes back as the policy's `Inner`.
    let (down, _) = flaky(u32::MAX);
    let err = Retry::builder()
        .max_attempts(2)
        .build()
        .unwrap()
        .call(service_op(down, || 1))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Inner);
}

fn repeats<P: Policy<u32, std::io::Error>>(_: &P) -> bool {
    P::REPEATS
}

#[test]
fn a_pipeline_repeats_when_any_of_its_policies_does() {
    let timeout = Timeout::new(Duration::from_secs(1)).unwrap();
    let limiter = RateLimiter::new(Quota::per_second(5)).unwrap();
    let retry = Retry::builder().max_attempts(2).build().unwrap();
    assert!(!repeats(&timeout));
    assert!(!repeats(
        &Pipeline::new(timeout.clone()).then(limiter.clone())
    ));
    assert!(repeats(&retry));
    assert!(repeats(&Pipeline::new(timeout).then(retry).then(limiter)));
    // A boxed policy cannot say: it counts as repeating.
    let boxed: BoxPolicy<u32, std::io::Error> = BoxPolicy::new(Bulkhead::new(1).unwrap());
    assert!(repeats(&boxed));
}
