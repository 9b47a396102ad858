//! Deadlines: under an enclosing timeout, a caller is queued only if the
//! bulkhead can answer it (a permit, or its own refusal) before the deadline.

use std::time::Duration;

use steadfast_bulkhead::{AimdConfig, Bulkhead, BulkheadBuilder, KeyedBulkhead};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{BulkheadReason, Context, Error, Inspect, Pipeline, Policy, Timeout};
use tokio::time::Instant;

const fn reads<P: Policy<u8, TestError>>() -> bool {
    P::READS_DEADLINE
}

#[test]
fn every_bulkhead_declares_that_it_reads_the_deadline() {
    assert!(reads::<Bulkhead>());
    assert!(reads::<KeyedBulkhead<u64>>());
    assert!(reads::<Pipeline<Bulkhead>>());
}

fn one_permit() -> BulkheadBuilder {
    Bulkhead::builder()
        .name("db")
        .max_concurrent(1)
        .max_queued(10)
}

fn timeout(ms: u64) -> Timeout {
    Timeout::new(Duration::from_millis(ms)).unwrap()
}

/// Takes the bulkhead's one permit in a task that holds it for `hold`
/// (forever when `None`).
async fn hold<P>(policy: P, hold: Option<Duration>)
where
    P: Policy<u8, TestError> + Clone + 'static,
{
    let op = match hold {
        Some(hold) => ScriptedOp::new([Step::ok(0).after(hold)]),
        None => ScriptedOp::hanging(),
    };
    tokio::spawn(async move { policy.call(op).await });
    // The task runs up to its operation and holds the permit.
    tokio::task::yield_now().await;
}

fn refusal(result: Result<u8, Error<TestError>>) -> BulkheadReason {
    match result {
        Err(Error::BulkheadFull(full)) => {
            assert_eq!(full.policy_name(), "db");
            full.reason()
        }
        other => panic!("expected the bulkhead's refusal, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_wait_that_cannot_fit_the_deadline_is_refused_at_once() {
    let bulkhead = one_permit()
        .max_wait(Duration::from_secs(10))
        .build()
        .unwrap();
    hold(bulkhead.clone(), None).await;
    let pipeline = Pipeline::new(timeout(100)).then(bulkhead.clone());
    let op = ScriptedOp::<u8, TestError>::always_ok(1);
    let start = Instant::now();
    let result = pipeline.call(op.clone()).await;
    assert_eq!(start.elapsed(), Duration::ZERO, "refused at once");
    assert_eq!(refusal(result), BulkheadReason::QueueTimeout);
    assert_eq!(op.invocations(), 0);
    let s = bulkhead.snapshot();
    assert_eq!((s.in_flight, s.waiting, s.queue_timeouts), (1, 0, 1));
}

#[tokio::test(start_paused = true)]
async fn a_wait_that_fits_queues_and_gets_the_permit() {
    let bulkhead = one_permit()
        .max_wait(Duration::from_millis(50))
        .build()
        .unwrap();
    hold(bulkhead.clone(), Some(Duration::from_millis(30))).await;
    let pipeline = Pipeline::new(timeout(100)).then(bulkhead.clone());
    let start = Instant::now();
    let result = pipeline
        .call(ScriptedOp::<u8, TestError>::always_ok(1))
        .await;
    assert_eq!(result, Ok(1));
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(30),
        "served as the permit freed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_wait_that_fits_ends_in_the_bulkheads_own_refusal() {
    let bulkhead = one_permit()
        .max_wait(Duration::from_millis(50))
        .build()
        .unwrap();
    hold(bulkhead.clone(), None).await;
    let pipeline = Pipeline::new(timeout(100)).then(bulkhead.clone());
    let start = Instant::now();
    let result = pipeline
        .call(ScriptedOp::<u8, TestError>::always_ok(1))
        .await;
    assert_eq!(refusal(result), BulkheadReason::QueueTimeout);
    assert_eq!(start.elapsed(), Duration::from_millis(50));
}

#[tokio::test(start_paused = true)]
async fn a_wait_ending_exactly_at_the_deadline_fits_and_the_bulkhead_answers_first() {
    let bulkhead = one_permit()
        .max_wait(Duration::from_millis(100))
        .build()
        .unwrap();
    hold(bulkhead.clone(), None).await;
    let pipeline = Pipeline::new(timeout(100)).then(bulkhead.clone());
    let start = Instant::now();
    let result = pipeline
        .call(ScriptedOp::<u8, TestError>::always_ok(1))
        .await;
    assert_eq!(
        refusal(result),
        BulkheadReason::QueueTimeout,
        "not a Timeout"
    );
    assert_eq!(start.elapsed(), Duration::from_millis(100));
}

#[tokio::test(start_paused = true)]
async fn without_max_wait_a_caller_waits_until_its_deadline_and_is_refused_then() {
    let bulkhead = one_permit().build().unwrap();
    hold(bulkhead.clone(), None).await;
    let pipeline = Pipeline::new(timeout(100)).then(bulkhead.clone());
    let start = Instant::now();
    let result = pipeline
        .call(ScriptedOp::<u8, TestError>::always_ok(1))
        .await;
    assert_eq!(
        refusal(result),
        BulkheadReason::QueueTimeout,
        "not a Timeout"
    );
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    let s = bulkhead.snapshot();
    assert_eq!((s.waiting, s.queue_timeouts), (0, 1));
}

#[tokio::test(start_paused = true)]
async fn without_max_wait_a_permit_before_the_deadline_is_served() {
    let bulkhead = one_permit().build().unwrap();
    hold(bulkhead.clone(), Some(Duration::from_millis(70))).await;
    let pipeline = Pipeline::new(timeout(100)).then(bulkhead.clone());
    let start = Instant::now();
    assert_eq!(
        pipeline
            .call(ScriptedOp::<u8, TestError>::always_ok(1))
            .await,
        Ok(1)
    );
    assert_eq!(start.elapsed(), Duration::from_millis(70));
}

#[tokio::test(start_paused = true)]
async fn codel_refuses_before_the_deadline_and_the_deadline_before_codel() {
    // CoDel gives up at max(now + target, busy_since + interval) = 40 ms,
    // before the 100 ms deadline: overloaded.
    let early = one_permit()
        .overload(Duration::from_millis(40), Duration::from_millis(40))
        .build()
        .unwrap();
    hold(early.clone(), None).await;
    let start = Instant::now();
    let result = Pipeline::new(timeout(100))
        .then(early.clone())
        .call(ScriptedOp::<u8, TestError>::always_ok(1))
        .await;
    assert_eq!(refusal(result), BulkheadReason::Overloaded);
    assert_eq!(start.elapsed(), Duration::from_millis(40));

    // CoDel would give up at 1 s; the 100 ms deadline comes first.
    let late = one_permit()
        .overload(Duration::from_millis(500), Duration::from_secs(1))
        .build()
        .unwrap();
    hold(late.clone(), None).await;
    let start = Instant::now();
    let result = Pipeline::new(timeout(100))
        .then(late.clone())
        .call(ScriptedOp::<u8, TestError>::always_ok(1))
        .await;
    assert_eq!(refusal(result), BulkheadReason::QueueTimeout);
    assert_eq!(start.elapsed(), Duration::from_millis(100));
}

#[tokio::test(start_paused = true)]
async fn an_adaptive_bulkhead_refuses_a_wait_that_cannot_fit_at_once() {
    let bulkhead = one_permit()
        .max_wait(Duration::from_secs(10))
        .adaptive(AimdConfig::new(1, 4))
        .build()
        .unwrap();
    hold(bulkhead.clone(), None).await;
    let start = Instant::now();
    let result = Pipeline::new(timeout(100))
        .then(bulkhead.clone())
        .call(ScriptedOp::<u8, TestError>::always_ok(1))
        .await;
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(refusal(result), BulkheadReason::QueueTimeout);
}

#[tokio::test(start_paused = true)]
async fn a_keyed_bulkhead_refuses_a_wait_that_cannot_fit_at_once() {
    let bulkhead: KeyedBulkhead<u64> = one_permit()
        .max_wait(Duration::from_secs(10))
        .build_keyed(16)
        .unwrap();
    let tenant = 7u64;
    let holder = bulkhead.clone();
    tokio::spawn(async move {
        holder
            .call_with(
                Context::new().with_key(&tenant),
                ScriptedOp::<u8, TestError>::hanging(),
            )
            .await
    });
    tokio::task::yield_now().await;
    let pipeline = Pipeline::new(timeout(100)).then(bulkhead.clone());
    let start = Instant::now();
    let result = pipeline
        .call_with(
            Context::new().with_key(&tenant),
            ScriptedOp::<u8, TestError>::always_ok(1),
        )
        .await;
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(refusal(result), BulkheadReason::QueueTimeout);
    // Another tenant has its own permit: the deadline does not matter to it.
    let other = 8u64;
    let served = pipeline
        .call_with(
            Context::new().with_key(&other),
            ScriptedOp::<u8, TestError>::always_ok(2),
        )
        .await;
    assert_eq!(served, Ok(2));
}

#[tokio::test(start_paused = true)]
async fn a_free_permit_ignores_the_deadline() {
    let bulkhead = one_permit()
        .max_wait(Duration::from_secs(10))
        .build()
        .unwrap();
    let pipeline = Pipeline::new(timeout(100)).then(bulkhead.clone());
    assert_eq!(
        pipeline
            .call(ScriptedOp::<u8, TestError>::always_ok(1))
            .await,
        Ok(1)
    );
    assert_eq!(bulkhead.snapshot().queue_timeouts, 0);
}

#[tokio::test(start_paused = true)]
async fn a_caller_dropped_while_waiting_for_its_deadline_leaves_the_queue() {
    let bulkhead = one_permit().build().unwrap();
    hold(bulkhead.clone(), None).await;
    let pipeline = Pipeline::new(timeout(100)).then(bulkhead.clone());
    let op = ScriptedOp::<u8, TestError>::always_ok(1);
    let waiting = pipeline.call(op.clone());
    // Dropped at 40 ms, before its deadline.
    let gave_up = tokio::time::timeout(Duration::from_millis(40), waiting).await;
    assert!(gave_up.is_err());
    let s = bulkhead.snapshot();
    assert_eq!((s.in_flight, s.waiting, s.queue_timeouts), (1, 0, 0));
    assert_eq!(op.invocations(), 0);
}
