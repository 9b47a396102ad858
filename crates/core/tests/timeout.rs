//! Timeout: exact on the paused clock, lazy timer, deadlines passed down.

use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{
    ConfigError, Error, Identity, Inspect, Pipeline, Policy, Timeout, time, with_attempt,
};

const LIMIT: Duration = Duration::from_millis(100);
const JUST_UNDER: Duration = Duration::from_millis(99);

fn poll_once<F: std::future::Future + Unpin>(f: &mut F) -> std::task::Poll<F::Output> {
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    std::pin::Pin::new(f).poll(&mut cx)
}

#[tokio::test(start_paused = true)]
async fn fires_at_exactly_the_limit_and_not_before() {
    let timeout = Timeout::new(LIMIT).unwrap();
    let op = ScriptedOp::<u8, TestError>::hanging();
    let mut call = Box::pin(timeout.call(op.clone()));

    assert!(poll_once(&mut call).is_pending());
    tokio::time::advance(JUST_UNDER).await;
    assert!(poll_once(&mut call).is_pending(), "fired 1 ms early");
    tokio::time::advance(Duration::from_millis(1)).await;
    match poll_once(&mut call) {
        std::task::Poll::Ready(Err(Error::Timeout(t))) => {
            assert_eq!(t.limit(), LIMIT);
            assert_eq!(t.policy_name(), "timeout");
        }
        other => panic!("expected a timeout at exactly the limit, got {other:?}"),
    }
    drop(call);
    assert_eq!(op.cancelled(), 1, "the timed-out call is dropped");
    assert_eq!(op.in_flight(), 0);
    assert_eq!(timeout.snapshot().timeouts, 1);
}

#[tokio::test(start_paused = true)]
async fn a_result_ready_at_the_limit_wins() {
    let timeout = Timeout::new(LIMIT).unwrap();
    let op = ScriptedOp::<_, TestError>::new([Step::ok(1u8).after(LIMIT)]);
    assert_eq!(timeout.call(op).await, Ok(1));
    assert_eq!(timeout.snapshot().timeouts, 0);
}

#[tokio::test(start_paused = true)]
async fn the_limit_counts_from_the_first_poll() {
    let timeout = Timeout::new(LIMIT).unwrap();
    let start = time::now();
    let call = timeout.call(ScriptedOp::<u8, TestError>::hanging());
    tokio::time::advance(Duration::from_secs(10)).await; // created, not yet polled
    let polled_at = time::now();
    assert!(call.await.is_err());
    assert_eq!(time::now() - polled_at, LIMIT);
    assert_eq!(polled_at - start, Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn a_slow_call_under_the_limit_succeeds() {
    let timeout = Timeout::new(LIMIT).unwrap();
    let op = ScriptedOp::<_, TestError>::new([Step::ok(5u8).after(JUST_UNDER)]);
    let start = time::now();
    assert_eq!(timeout.call(op).await, Ok(5));
    assert_eq!(time::now() - start, JUST_UNDER);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_reaches_operations_that_read_it() {
    let timeout = Timeout::new(LIMIT).unwrap();
    let start = time::now();
    let seen = timeout
        .call(with_attempt(
            |a| async move { Ok::<_, TestError>(a.deadline()) },
        ))
        .await;
    assert_eq!(seen, Ok(Some(start + LIMIT)));
}

#[tokio::test(start_paused = true)]
async fn nested_timeouts_pass_down_the_earliest_deadline() {
    let start = time::now();
    let outer_first = Pipeline::new(Timeout::new(Duration::from_secs(1)).unwrap())
        .then(Identity)
        .then(Timeout::new(Duration::from_secs(5)).unwrap());
    let op = ScriptedOp::<u8, TestError>::always_ok(1);
    outer_first.call(op.clone()).await.unwrap();
    assert_eq!(
        op.attempts()[0].deadline(),
        Some(start + Duration::from_secs(1))
    );

    let inner_first = Pipeline::new(Timeout::new(Duration::from_secs(5)).unwrap())
        .then(Timeout::new(Duration::from_millis(300)).unwrap());
    inner_first.call(op.clone()).await.unwrap();
    assert_eq!(
        op.attempts()[1].deadline(),
        Some(start + Duration::from_millis(300))
    );
    assert_eq!(op.attempts()[1].number(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_outer_timeout_bounds_the_inner_one() {
    let pipeline = Pipeline::new(
        Timeout::builder()
            .limit(LIMIT)
            .name("outer")
            .build()
            .unwrap(),
    )
    .then(
        Timeout::builder()
            .limit(LIMIT * 10)
            .name("inner")
            .build()
            .unwrap(),
    );
    let start = time::now();
    let err = pipeline
        .call(ScriptedOp::<u8, TestError>::hanging())
        .await
        .unwrap_err();
    assert_eq!(err.policy_name(), Some("outer"));
    assert_eq!(time::now() - start, LIMIT);
}

#[test]
fn a_zero_limit_is_a_config_error() {
    let err: ConfigError = Timeout::new(Duration::ZERO).unwrap_err();
    assert_eq!((err.policy(), err.field()), ("timeout", "limit"));
    assert_eq!(err.rule(), "must be greater than zero");
    assert_eq!(err.value(), Some("0ns"));
}

#[test]
fn the_builder_reads_back() {
    let timeout = Timeout::builder()
        .limit(LIMIT)
        .name(String::from("db"))
        .build()
        .unwrap();
    assert_eq!(timeout.limit(), LIMIT);
    assert_eq!(timeout.config().name, "db");
    assert_eq!(timeout.name(), "db");
    let snapshot = timeout.snapshot();
    assert_eq!((snapshot.limit, snapshot.timeouts), (LIMIT, 0));
}

#[tokio::test(start_paused = true)]
async fn clones_share_the_counter() {
    let timeout = Timeout::new(LIMIT).unwrap();
    let clone = timeout.clone();
    let _ = clone.call(ScriptedOp::<u8, TestError>::hanging()).await;
    let _ = timeout.call(ScriptedOp::<u8, TestError>::hanging()).await;
    assert_eq!(timeout.snapshot().timeouts, 2);
}

#[tokio::test(start_paused = true)]
async fn counts_add_up_over_many_tasks() {
    // 200 interleaved tasks on one timeout: half ready, half cut at the limit.
    let timeout = Timeout::new(Duration::from_millis(20)).unwrap();
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let timeout = timeout.clone();
        tasks.push(tokio::spawn(async move {
            let op = if i % 2 == 0 {
                ScriptedOp::<u32, TestError>::always_ok(i)
            } else {
                ScriptedOp::hanging()
            };
            timeout.call(op).await
        }));
    }
    let mut ok = 0;
    let mut timed_out = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::Timeout(_)) => timed_out += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((ok, timed_out), (100, 100));
    assert_eq!(timeout.snapshot().timeouts, 100);
}

#[tokio::test(start_paused = true)]
async fn a_limit_beyond_the_clock_never_fires_and_never_panics() {
    let timeout = Timeout::new(Duration::MAX).unwrap();
    let op = ScriptedOp::<_, TestError>::new([Step::ok(1u8).after(Duration::from_secs(3_600))]);
    assert_eq!(timeout.call(op.clone()).await, Ok(1));
    let seen = timeout
        .call(with_attempt(
            |a| async move { Ok::<_, TestError>(a.deadline()) },
        ))
        .await
        .unwrap();
    assert!(seen.is_some_and(|d| d > time::now() + Duration::from_secs(86_400 * 365)));
}
