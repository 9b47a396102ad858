//! CoDel overload rejection: once the queue has stayed non-empty for the
//! interval, callers that waited past the target are refused, exactly then.

mod support;

use std::task::Poll;
use std::time::Duration;

use steadfast_bulkhead::Bulkhead;
use steadfast_core::testing::{ScriptedOp, TestError};
use steadfast_core::{BulkheadReason, Error, Inspect, Policy};
use support::{Gate, poll_once};

const TARGET: Duration = Duration::from_millis(10);
const INTERVAL: Duration = Duration::from_millis(100);

fn bulkhead() -> Bulkhead {
    Bulkhead::builder()
        .name("codel")
        .max_concurrent(1)
        .max_queued(100)
        .overload(TARGET, INTERVAL)
        .build()
        .unwrap()
}

fn overloaded<T: std::fmt::Debug>(poll: Poll<Result<T, Error<TestError>>>) -> bool {
    match poll {
        Poll::Ready(Err(Error::BulkheadFull(full))) => {
            assert_eq!(full.reason(), BulkheadReason::Overloaded);
            true
        }
        Poll::Pending => false,
        Poll::Ready(other) => panic!("expected pending or overloaded, got {other:?}"),
    }
}

async fn advance_to(start: tokio::time::Instant, ms: u64) {
    let target = start + Duration::from_millis(ms);
    tokio::time::advance(target - tokio::time::Instant::now()).await;
}

#[tokio::test(start_paused = true)]
async fn refuses_exactly_the_callers_past_target_once_the_interval_has_passed() {
    let bulkhead = bulkhead();
    let start = tokio::time::Instant::now();
    let op = ScriptedOp::<u8, TestError>::hanging();
    let mut holder = Box::pin(bulkhead.call(op.clone()));
    assert!(poll_once(holder.as_mut()).is_pending());

    // Queued at 0, 50 and 95 ms; the queue is non-empty from 0 ms.
    let mut first = Box::pin(bulkhead.call(op.clone()));
    assert!(poll_once(first.as_mut()).is_pending());
    advance_to(start, 50).await;
    let mut second = Box::pin(bulkhead.call(op.clone()));
    assert!(poll_once(second.as_mut()).is_pending());
    advance_to(start, 95).await;
    let mut third = Box::pin(bulkhead.call(op.clone()));
    assert!(poll_once(third.as_mut()).is_pending());

    // The first two waited past the target long ago, but the queue is young.
    advance_to(start, 99).await;
    assert!(!overloaded(poll_once(first.as_mut())));
    assert!(!overloaded(poll_once(second.as_mut())));
    assert!(!overloaded(poll_once(third.as_mut())));

    // At 100 ms the queue has been busy for the interval: first (100 ms) and
    // second (50 ms) are past the target, third (5 ms) is not.
    advance_to(start, 100).await;
    assert!(overloaded(poll_once(first.as_mut())));
    assert!(overloaded(poll_once(second.as_mut())));
    assert!(!overloaded(poll_once(third.as_mut())));
    advance_to(start, 104).await;
    assert!(!overloaded(poll_once(third.as_mut())));
    advance_to(start, 105).await;
    assert!(overloaded(poll_once(third.as_mut())));

    let s = bulkhead.snapshot();
    assert_eq!(
        (s.overloaded, s.queue_timeouts, s.rejected, s.waiting),
        (3, 0, 0, 0)
    );

    // The queue emptied: a new caller starts a new busy period and gets the
    // whole interval again.
    advance_to(start, 110).await;
    let mut fourth = Box::pin(bulkhead.call(op.clone()));
    assert!(poll_once(fourth.as_mut()).is_pending());
    advance_to(start, 209).await;
    assert!(!overloaded(poll_once(fourth.as_mut())));
    advance_to(start, 210).await;
    assert!(overloaded(poll_once(fourth.as_mut())));
}

#[tokio::test(start_paused = true)]
async fn a_burst_shorter_than_the_interval_refuses_nobody() {
    let bulkhead = bulkhead();
    let gate = Gate::new();
    let ops: Vec<_> = (0..4).map(|id| gate.op(id)).collect();
    let mut calls: Vec<_> = ops.iter().map(|op| Box::pin(bulkhead.call(op))).collect();
    for call in &mut calls {
        assert!(poll_once(call.as_mut()).is_pending());
    }
    // Each call takes 30 ms: the last waiter gets its permit at 90 ms.
    for (i, call) in (0u32..).zip(calls.iter_mut()) {
        tokio::time::advance(Duration::from_millis(30)).await;
        assert!(poll_once(call.as_mut()).is_pending());
        gate.open(1);
        assert_eq!(poll_once(call.as_mut()), Poll::Ready(Ok(i)));
    }
    assert_eq!(bulkhead.snapshot().overloaded, 0);
}

#[tokio::test(start_paused = true)]
async fn max_wait_applies_when_it_comes_first() {
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .max_queued(10)
        .max_wait(Duration::from_millis(50))
        .overload(TARGET, INTERVAL)
        .build()
        .unwrap();
    let op = ScriptedOp::<u8, TestError>::hanging();
    let mut holder = Box::pin(bulkhead.call(op.clone()));
    assert!(poll_once(holder.as_mut()).is_pending());
    let mut waiter = Box::pin(bulkhead.call(op.clone()));
    assert!(poll_once(waiter.as_mut()).is_pending());
    tokio::time::advance(Duration::from_millis(50)).await;
    match poll_once(waiter.as_mut()) {
        Poll::Ready(Err(Error::BulkheadFull(full))) => {
            assert_eq!(full.reason(), BulkheadReason::QueueTimeout);
        }
        other => panic!("expected a queue timeout, got {other:?}"),
    }
}

mod model {
    //! Random arrivals against a held permit: each waiter is refused exactly
    //! at `max(arrival + target, busy_since + interval)`, where `busy_since`
    //! is when the queue last went from empty to non-empty.

    use super::*;
    use proptest::prelude::*;
    use std::future::Future;
    use std::pin::Pin;

    type Call<'b> = Pin<Box<dyn Future<Output = Result<u8, Error<TestError>>> + 'b>>;

    const TARGET_MS: u64 = 10;
    const INTERVAL_MS: u64 = 50;

    /// The expected refusal time of each arrival (arrivals sorted, in ms;
    /// refusals at a time are handled before arrivals at that time).
    fn expected(arrivals: &[u64]) -> Vec<u64> {
        let mut refusals: Vec<u64> = Vec::new();
        let mut busy_since = 0;
        for (i, &t) in arrivals.iter().enumerate() {
            let still_queued = refusals[..i].iter().any(|&r| r > t);
            if !still_queued {
                busy_since = t;
            }
            refusals.push((t + TARGET_MS).max(busy_since + INTERVAL_MS));
        }
        refusals
    }

    fn run(arrivals: &[u64]) -> Vec<u64> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let bulkhead = Bulkhead::builder()
                .max_concurrent(1)
                .max_queued(1_000)
                .overload(
                    Duration::from_millis(TARGET_MS),
                    Duration::from_millis(INTERVAL_MS),
                )
                .build()
                .unwrap();
            let op = ScriptedOp::<u8, TestError>::hanging();
            let mut holder = Box::pin(bulkhead.call(op.clone()));
            assert!(poll_once(holder.as_mut()).is_pending());
            let mut waiters: Vec<(usize, Call<'_>)> = Vec::new();
            let mut refused = vec![u64::MAX; arrivals.len()];
            let last = arrivals.last().copied().unwrap_or(0) + INTERVAL_MS + TARGET_MS + 1;
            for now in 0..=last {
                waiters.retain_mut(|(i, call)| {
                    if overloaded(poll_once(call.as_mut())) {
                        refused[*i] = now;
                        false
                    } else {
                        true
                    }
                });
                for (i, _) in arrivals.iter().enumerate().filter(|(_, t)| **t == now) {
                    let mut call: Call<'_> = Box::pin(bulkhead.call(op.clone()));
                    assert!(poll_once(call.as_mut()).is_pending());
                    waiters.push((i, call));
                }
                tokio::time::advance(Duration::from_millis(1)).await;
            }
            refused
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn each_waiter_is_refused_exactly_when_the_rule_says(
            mut arrivals in prop::collection::vec(0u64..200, 1..12),
        ) {
            arrivals.sort_unstable();
            prop_assert_eq!(run(&arrivals), expected(&arrivals));
        }
    }
}
