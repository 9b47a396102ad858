//! Public types are Send and Sync; the call's future is Send.

use steadfast_core::Policy;
use steadfast_core::testing::TestError;
use steadfast_retry::{
    Backoff, BudgetConfig, BudgetSnapshot, Delays, HedgeConfig, HedgeMode, Jitter, NoRetryAfter,
    Retry, RetryBuilder, RetryConfig, RetryEvent, RetrySnapshot,
};

fn send_sync<T: Send + Sync>() {}

#[test]
fn public_types() {
    send_sync::<Retry>();
    send_sync::<RetryBuilder>();
    send_sync::<RetryConfig>();
    send_sync::<RetrySnapshot>();
    send_sync::<RetryEvent<'static>>();
    send_sync::<Backoff>();
    send_sync::<Jitter>();
    send_sync::<Delays>();
    send_sync::<BudgetConfig>();
    send_sync::<BudgetSnapshot>();
    send_sync::<HedgeConfig>();
    send_sync::<HedgeMode>();
    send_sync::<NoRetryAfter>();
}

#[tokio::test]
async fn the_future_runs_on_a_spawned_task() {
    let retry = Retry::builder()
        .hedging(HedgeConfig::delayed(std::time::Duration::from_millis(5)))
        .build()
        .unwrap();
    let sequential = Retry::default();
    let answer = tokio::spawn(async move {
        let a = retry.call(|| async { Ok::<_, TestError>(1) }).await;
        let b = sequential.call(|| async { Ok::<_, TestError>(2) }).await;
        (a, b)
    })
    .await
    .unwrap();
    assert_eq!(answer, (Ok(1), Ok(2)));
}
