//! Many tasks on the multi-thread runtime against one bulkhead: the limit
//! holds, every task is accounted for, and nothing is left behind.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use steadfast_bulkhead::Bulkhead;
use steadfast_core::testing::TestError;
use steadfast_core::{Error, ErrorKind, Inspect, Policy};

/// Counts calls in flight and the most ever at once; each call yields a few
/// times so that calls overlap.
#[derive(Clone, Default)]
struct Counting {
    in_flight: Arc<AtomicU32>,
    max_in_flight: Arc<AtomicU32>,
    completed: Arc<AtomicU64>,
}

impl Counting {
    async fn run(&self, yields: u32) -> Result<u32, TestError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        for _ in 0..yields {
            tokio::task::yield_now().await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.completed.fetch_add(1, Ordering::SeqCst);
        Ok(now)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn at_most_the_limit_in_flight_and_every_task_accounted_for() {
    let bulkhead = Bulkhead::builder()
        .max_concurrent(8)
        .max_queued(64)
        .build()
        .unwrap();
    let counting = Counting::default();
    let handles: Vec<_> = (0..200)
        .map(|_| {
            let bulkhead = bulkhead.clone();
            let counting = counting.clone();
            tokio::spawn(async move { bulkhead.call(|| counting.run(20)).await })
        })
        .collect();
    let (mut admitted, mut rejected) = (0u64, 0u64);
    for handle in handles {
        match handle.await.unwrap() {
            Ok(seen) => {
                assert!(seen <= 8);
                admitted += 1;
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::BulkheadFull);
                rejected += 1;
            }
        }
    }
    assert_eq!(admitted + rejected, 200);
    assert!(counting.max_in_flight.load(Ordering::SeqCst) <= 8);
    assert_eq!(counting.completed.load(Ordering::SeqCst), admitted);
    let s = bulkhead.snapshot();
    assert_eq!((s.in_flight, s.waiting, s.rejected), (0, 0, rejected));
    assert!(!s.saturated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dropping_half_the_tasks_mid_wait_leaves_nothing_behind() {
    let bulkhead = Bulkhead::builder()
        .max_concurrent(8)
        .max_queued(200)
        .build()
        .unwrap();
    let counting = Counting::default();
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let handles: Vec<_> = (0..200)
        .map(|_| {
            let bulkhead = bulkhead.clone();
            let counting = counting.clone();
            let gate = Arc::clone(&gate);
            tokio::spawn(async move {
                bulkhead
                    .call(|| async {
                        let result = counting.run(0).await;
                        gate.acquire().await.unwrap().forget();
                        result
                    })
                    .await
            })
        })
        .collect();
    // Wait until 8 run and 192 wait.
    while bulkhead.snapshot().waiting < 192 {
        tokio::task::yield_now().await;
    }
    assert_eq!(bulkhead.snapshot().in_flight, 8);
    let (dropped, kept): (Vec<_>, Vec<_>) = handles
        .into_iter()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    for (_, handle) in &dropped {
        handle.abort();
    }
    for (_, handle) in dropped {
        assert!(handle.await.unwrap_err().is_cancelled());
    }
    let s = bulkhead.snapshot();
    // Permits of aborted running calls passed to kept waiters.
    assert_eq!((s.in_flight, s.waiting), (8, 92), "{s:?}");
    gate.add_permits(1_000);
    for (_, handle) in kept {
        let result: Result<u32, Error<TestError>> = handle.await.unwrap();
        assert!(result.is_ok());
    }
    let s = bulkhead.snapshot();
    assert_eq!((s.in_flight, s.waiting, s.rejected), (0, 0, 0));
    assert!(counting.max_in_flight.load(Ordering::SeqCst) <= 8);
    // The bulkhead is whole again: 8 permits, all free.
    let again: Vec<_> = (0..8)
        .map(|_| {
            let bulkhead = bulkhead.clone();
            tokio::spawn(async move { bulkhead.call(|| async { Ok::<_, TestError>(1) }).await })
        })
        .collect();
    for handle in again {
        assert_eq!(handle.await.unwrap(), Ok(1));
    }
}
