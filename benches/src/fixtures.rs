//! Policies that several benchmark programs build the same way: the
//! breaker in each trip-rule mode and tripped open, tower's never-retrying
//! retry policy and a no-op policy written as a third party would write one.

use std::future::Ready;
use std::time::Duration;

use steadfast::Policy;
use steadfast::breaker::{Breaker, BreakerBuilder, BreakerConfig, CountWindow, Window};

/// The ids of `breaker_closed`'s steadfast cases, in bench order.
pub const BREAKER_MODES: [&str; 7] = [
    "steadfast",
    "steadfast-consecutive",
    "steadfast-standard",
    "steadfast-count",
    "steadfast-time",
    "steadfast-slow",
    "steadfast-all",
];

/// The breaker of a `breaker_closed` id: `steadfast` runs recloser's rule
/// (50 % failures over the last 100 calls), so the two compare like for
/// like; `steadfast-<mode>` one trip-rule mode: `consecutive` (5 in a row),
/// `count` (50 % over 100 calls, 20 minimum), `time` (50 % over 10 s, 20
/// minimum), `slow` (50 % slower than 1 s over 100 calls), `standard` (the
/// default preset: consecutive and time) and `all` (every rule at once).
///
/// # Panics
///
/// Never for these ids: each configuration is valid.
pub fn closed_breaker(id: &str) -> Option<Breaker> {
    let b = Breaker::builder;
    let build = |builder: BreakerBuilder| Some(builder.build().expect("a valid configuration"));
    match id {
        "steadfast" => build(b().failure_rate_over_calls(0.5, 100, 100)),
        "steadfast-consecutive" => build(b().consecutive_failures(5)),
        "steadfast-standard" => Some(
            Breaker::from_config(BreakerConfig::standard()).expect("the standard preset is valid"),
        ),
        "steadfast-count" => build(b().failure_rate_over_calls(0.5, 100, 20)),
        "steadfast-time" => build(b().failure_rate_over_time(0.5, Duration::from_secs(10), 20)),
        "steadfast-slow" => build(b().slow_calls(Duration::from_secs(1), 0.5, 100, 20)),
        "steadfast-all" => build(
            b().consecutive_failures(5)
                .failure_rate_over_calls(0.5, 100, 20)
                .failure_rate_over_time(0.5, Duration::from_secs(10), 20)
                .slow_call_rate(
                    Duration::from_secs(1),
                    0.5,
                    Window::Count(CountWindow::new(100, 20)),
                ),
        ),
        _ => None,
    }
}

/// The `breaker_open_reject` breaker: tripped by one failure on `rt` (whose
/// timer ends the open period) and open for an hour, so every call after
/// is refused.
///
/// # Panics
///
/// If the breaker does not open: the benchmark would time something else.
pub fn open_breaker(rt: &tokio::runtime::Runtime) -> Breaker {
    let breaker = Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(1)
        .open_for(Duration::from_secs(3_600))
        .build()
        .expect("a valid configuration");
    rt.block_on(async {
        let _ = breaker
            .call(|| async { Err::<u64, _>(crate::BenchError) })
            .await;
        assert!(
            breaker.call(crate::op).await.is_err(),
            "one failure opens the breaker"
        );
    });
    breaker
}

/// A tower retry policy that never retries: tower's `Retry` at its cheapest.
#[derive(Clone, Copy, Debug)]
pub struct NeverRetry;

impl<Req: Clone, Res, E> tower::retry::Policy<Req, Res, E> for NeverRetry {
    type Future = Ready<()>;

    fn retry(&mut self, _req: &mut Req, _result: &mut Result<Res, E>) -> Option<Self::Future> {
        None
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        Some(req.clone())
    }
}

/// A policy that does nothing, written as a policy author outside
/// steadfast-core would: it implements only `execute`. Unlike
/// [`Identity`](steadfast::Identity), which hands a call straight to the
/// policy inside it, a pipeline of these goes through the generic
/// composition (`Then`, `Bound`, the trait's `call`), so `compose_execute_5`
/// measures that.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoOp;

impl<T: Send, E: Send> steadfast::Policy<T, E> for NoOp {
    #[inline]
    fn execute<'a, N>(
        &'a self,
        ctx: steadfast::Context<'a>,
        next: N,
    ) -> impl std::future::Future<Output = Result<T, steadfast::Error<E>>> + Send + 'a
    where
        N: steadfast::Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        next.invoke(ctx)
    }
}

/// Five [`NoOp`]s in a pipeline: the `compose_execute_5` case.
pub fn noop_5() -> steadfast::Pipeline<impl steadfast::Policy<u64, crate::BenchError>> {
    steadfast::Pipeline::new(NoOp)
        .then(NoOp)
        .then(NoOp)
        .then(NoOp)
        .then(NoOp)
}
