//! Retry-After: hints from the operation, and from inner policies' rejections.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::{BOOM, Timed, assert_spread_after, ms};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{
    CircuitOpen, Context, Error, ErrorKind, Next, Pipeline, Policy, RateLimited, Shed, Timeout,
};
use steadfast_retry::{Backoff, Retry};

/// An inner policy that rejects the first `times` calls with `make()`.
struct Rejects<F> {
    times: u32,
    seen: AtomicU32,
    make: F,
}

fn rejects<F>(times: u32, make: F) -> Rejects<F> {
    Rejects {
        times,
        seen: AtomicU32::new(0),
        make,
    }
}

impl<T: Send, E: Send, F> Policy<T, E> for Rejects<F>
where
    F: Fn() -> Error<E> + Send + Sync,
{
    // The trait's signature, as policies write it.
    #[allow(clippy::manual_async_fn)]
    fn execute<'a, N>(
        &'a self,
        ctx: Context<'a>,
        next: N,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        async move {
            if self.seen.fetch_add(1, Ordering::Relaxed) < self.times {
                Err((self.make)())
            } else {
                next.invoke(ctx).await
            }
        }
    }
}

fn retry() -> Retry {
    Retry::builder()
        .max_attempts(3)
        .backoff(Backoff::constant(ms(10)))
        .max_delay(ms(5_000))
        .no_budget()
        .build()
        .unwrap()
}

fn hinting(
    hint: Duration,
) -> Retry<steadfast_core::DefaultClassifier, impl steadfast_retry::RetryAfter<u32, TestError>> {
    Retry::builder()
        .max_attempts(3)
        .backoff(Backoff::constant(ms(10)))
        .max_delay(ms(5_000))
        .no_budget()
        .retry_after(move |r: &Result<u32, TestError>| r.is_err().then_some(hint))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_hint_from_the_operation_sets_a_floor() {
    let op = Timed::new(ScriptedOp::new([Step::err(BOOM), Step::ok(1)]));
    assert_eq!(hinting(ms(2_000)).call(op.clone()).await, Ok(1));
    assert_eq!(op.starts()[0], ms(0));
    assert_spread_after(op.gaps()[0], ms(2_000));
}

#[tokio::test(start_paused = true)]
async fn a_hint_below_the_backoff_is_only_a_floor() {
    let op = Timed::new(ScriptedOp::new([Step::err(BOOM), Step::ok(1)]));
    assert_eq!(hinting(ms(1)).call(op.clone()).await, Ok(1));
    assert_eq!(op.starts(), [0, 10].map(ms));
}

#[tokio::test(start_paused = true)]
async fn a_hint_longer_than_the_maximum_delay_ends_the_retrying() {
    let op = Timed::new(ScriptedOp::new([Step::err(BOOM), Step::ok(1)]));
    assert_eq!(
        hinting(ms(60_000)).call(op.clone()).await,
        Err(Error::Inner(BOOM))
    );
    assert_eq!(
        op.starts(),
        [ms(0)],
        "never retried before the server's hint"
    );
    assert_eq!(op.elapsed(), Duration::ZERO, "given up at once");
}

/// A 429 with `Retry-After: 7` against a 1 s maximum delay.
fn seven_second_hint(max_retry_after: Option<Duration>) -> impl Policy<u32, TestError> {
    let builder = Retry::builder()
        .max_attempts(3)
        .backoff(Backoff::constant(ms(10)))
        .max_delay(ms(1_000))
        .no_budget()
        .retry_after(|r: &Result<u32, TestError>| r.is_err().then_some(ms(7_000)));
    match max_retry_after {
        Some(cap) => builder.max_retry_after(cap).build().unwrap(),
        None => builder.build().unwrap(),
    }
}

#[tokio::test(start_paused = true)]
async fn a_seven_second_retry_after_with_a_one_second_maximum_delay_is_never_retried_early() {
    let op = Timed::new(ScriptedOp::new([Step::err(BOOM), Step::ok(1)]));
    assert_eq!(
        seven_second_hint(None).call(op.clone()).await,
        Err(Error::Inner(BOOM))
    );
    assert_eq!(op.starts(), [ms(0)]);
}

#[tokio::test(start_paused = true)]
async fn waiting_out_a_long_hint_is_an_opt_in_up_to_its_cap() {
    let op = Timed::new(ScriptedOp::new([Step::err(BOOM), Step::ok(1)]));
    let policy = seven_second_hint(Some(ms(10_000)));
    assert_eq!(policy.call(op.clone()).await, Ok(1));
    assert_eq!(op.starts().len(), 2);
    assert_spread_after(op.gaps()[0], ms(7_000));

    let op = Timed::new(ScriptedOp::new([Step::err(BOOM), Step::ok(1)]));
    let short_cap = seven_second_hint(Some(ms(5_000)));
    assert_eq!(short_cap.call(op.clone()).await, Err(Error::Inner(BOOM)));
    assert_eq!(op.starts(), [ms(0)]);
}

#[tokio::test(start_paused = true)]
async fn a_hint_past_the_deadline_gives_up_at_once() {
    let pipeline = Pipeline::new(Timeout::new(ms(1_500)).unwrap()).then(hinting(ms(2_000)));
    let op = Timed::new(ScriptedOp::new([Step::err(BOOM), Step::ok(1)]));
    assert_eq!(pipeline.call(op.clone()).await, Err(Error::Inner(BOOM)));
    assert_eq!(op.starts(), [ms(0)]);
    assert_eq!(op.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn rate_limited_is_retried_after_its_retry_after() {
    let pipeline =
        Pipeline::new(retry()).then(rejects(1, || RateLimited::new("limiter", ms(3_000)).into()));
    let op = Timed::new(ScriptedOp::always_ok(4));
    assert_eq!(pipeline.call(op.clone()).await, Ok(4));
    // The operation ran once, after the wait.
    assert_eq!(op.starts().len(), 1);
    assert_spread_after(op.starts()[0], ms(3_000));
}

#[tokio::test(start_paused = true)]
async fn rate_limited_longer_than_the_maximum_delay_is_not_retried() {
    let pipeline =
        Pipeline::new(retry()).then(rejects(1, || RateLimited::new("limiter", ms(9_000)).into()));
    let op = Timed::new(ScriptedOp::always_ok(4));
    let err = pipeline.call(op.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(op.op.invocations(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_open_circuit_is_not_retried_without_a_retry_after() {
    let inner = rejects(5, || CircuitOpen::new("breaker", None).into());
    let pipeline = Pipeline::new(retry()).then(&inner);
    let op = Timed::new(ScriptedOp::always_ok(4));
    let err = pipeline.call(op.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CircuitOpen);
    let seen = inner.seen.load(Ordering::Relaxed);
    assert_eq!(seen, 1, "one attempt, no retry");
}

#[tokio::test(start_paused = true)]
async fn an_open_circuit_whose_retry_after_fits_is_retried_then() {
    let inner = rejects(1, || CircuitOpen::new("breaker", Some(ms(2_000))).into());
    let pipeline = Pipeline::new(retry()).then(inner);
    let op = Timed::new(ScriptedOp::always_ok(4));
    assert_eq!(pipeline.call(op.clone()).await, Ok(4));
    assert_eq!(op.starts().len(), 1);
    assert_spread_after(op.starts()[0], ms(2_000));
}

#[tokio::test(start_paused = true)]
async fn an_open_circuit_whose_retry_after_misses_the_deadline_is_not_retried() {
    let inner = rejects(1, || CircuitOpen::new("breaker", Some(ms(2_000))).into());
    let pipeline = Pipeline::new(Timeout::new(ms(1_000)).unwrap())
        .then(retry())
        .then(inner);
    let op = Timed::new(ScriptedOp::always_ok(4));
    let err = pipeline.call(op.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CircuitOpen);
    assert_eq!(op.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn shed_load_follows_the_open_circuit_rule() {
    let inner = rejects(5, || Shed::new("shedder", None).into());
    let pipeline = Pipeline::new(retry()).then(&inner);
    let err = pipeline
        .call(ScriptedOp::<u32, TestError>::always_ok(4))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shed);
    assert_eq!(inner.seen.load(Ordering::Relaxed), 1);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_is_retried_after_the_backoff() {
    let pipeline = Pipeline::new(retry()).then(Timeout::new(ms(100)).unwrap());
    let op = Timed::new(ScriptedOp::new([Step::hang(), Step::ok(2)]));
    assert_eq!(pipeline.call(op.clone()).await, Ok(2));
    assert_eq!(op.starts(), [0, 110].map(ms));
}

#[tokio::test(start_paused = true)]
async fn callers_told_the_same_instant_do_not_come_back_together() {
    // 200 calls refused at once by an open circuit whose probe is in 2 s.
    let retry = Retry::builder()
        .max_attempts(2)
        .max_delay(ms(5_000))
        .no_budget()
        .seed(11)
        .build()
        .unwrap();
    let inner = rejects(200, || CircuitOpen::new("breaker", Some(ms(2_000))).into());
    let pipeline = Pipeline::new(retry).then(inner);
    let op = Timed::new(ScriptedOp::always_ok(4));
    let calls: Vec<_> = (0..200).map(|_| pipeline.call(op.clone())).collect();
    for answer in futures::future::join_all(calls).await {
        assert_eq!(answer, Ok(4));
    }
    let starts = op.starts();
    assert_eq!(starts.len(), 200);
    // None before the hint, all within a fifth more, spread evenly enough that
    // no 40 ms (a tenth of the spread) holds more than twice its share.
    for start in &starts {
        assert_spread_after(*start, ms(2_000));
    }
    for slot in 0..10u32 {
        let from = ms(2_000) + ms(40) * slot;
        let within = starts
            .iter()
            .filter(|s| **s >= from && **s < from + ms(40))
            .count();
        assert!(within <= 40, "{within} retries in [{from:?}, +40ms)");
    }
}
