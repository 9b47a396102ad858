//! Many tasks on one policy, on the multi-thread runtime: counts add up.

// Token counts are whole millionths: comparing them exactly is sound.
#![allow(clippy::float_cmp)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use steadfast_core::testing::TestError;
use steadfast_core::{Inspect, Policy, with_attempt};
use steadfast_retry::{Backoff, BudgetConfig, Retry};

const TASKS: u64 = 8;
const CALLS: u64 = 200;

/// Every call fails its first attempt and succeeds on its second.
async fn hammer(retry: Retry) -> u64 {
    let failures = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..TASKS)
        .map(|_| {
            let retry = retry.clone();
            let failures = Arc::clone(&failures);
            tokio::spawn(async move {
                for _ in 0..CALLS {
                    let result = retry
                        .call(with_attempt(|attempt| async move {
                            if attempt.is_first() {
                                Err(TestError::new("first"))
                            } else {
                                Ok(attempt.number())
                            }
                        }))
                        .await;
                    if result.is_err() {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    failures.load(Ordering::Relaxed)
}

fn builder() -> steadfast_retry::RetryBuilder {
    Retry::builder()
        .max_attempts(2)
        .backoff(Backoff::constant(Duration::ZERO))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_budget_every_call_retries_once() {
    let retry = builder().no_budget().build().unwrap();
    assert_eq!(hammer(retry.clone()).await, 0);
    let snap = retry.snapshot();
    let total = TASKS * CALLS;
    assert_eq!(
        (snap.calls, snap.retries, snap.attempts),
        (total, total, 2 * total)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_budget_is_exact_under_contention() {
    // A bucket of 160 tokens that no success refills: exactly 160 of the
    // 1 600 failing calls retry; each refused call fails.
    let retry = builder()
        .budget(BudgetConfig::new().ratio(0.0).capacity(160))
        .build()
        .unwrap();
    let failed = hammer(retry.clone()).await;
    let snap = retry.snapshot();
    let total = TASKS * CALLS;
    assert_eq!(snap.calls, total);
    assert_eq!(
        snap.retries + snap.budget_exhausted,
        total,
        "each call retried or was refused"
    );
    assert_eq!(failed, snap.budget_exhausted);
    assert_eq!(snap.retries, 160);
    assert_eq!(snap.budget.unwrap().tokens, 0.0);
}
