//! The per-call context reaches every policy and the operation.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, TestError};
use steadfast_core::{Context, Error, Identity, Next, Pipeline, Policy, Priority, Timeout, time};

/// Key, priority, cost and whether a deadline was set, as a policy saw them.
type Sighting = (Option<u64>, Priority, u32, bool);

/// What a keyed policy saw of the context.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Sighting>>>);

impl<T: Send, E: Send> Policy<T, E> for Seen {
    const READS_DEADLINE: bool = true;

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
        self.0.lock().unwrap().push((
            ctx.key::<u64>().copied(),
            ctx.priority(),
            ctx.cost(),
            ctx.deadline().is_some(),
        ));
        next.invoke(ctx)
    }
}

/// Numbers the attempts it makes, as a retry would.
#[derive(Clone)]
struct TwoAttempts;

// Policies may be written as `async fn`s too.
impl<T: Send, E: Send> Policy<T, E> for TwoAttempts {
    async fn execute<'a, N>(&'a self, ctx: Context<'a>, next: N) -> Result<T, Error<E>>
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        let _ = next.clone().invoke(ctx).await;
        next.invoke(ctx.with_attempt(2).with_hedge(true)).await
    }
}

#[tokio::test]
async fn key_priority_and_cost_reach_inner_policies() {
    let seen = Seen::default();
    let pipeline = Pipeline::new(Identity).then(seen.clone());
    let user: u64 = 42;
    let ctx = Context::new()
        .with_key(&user)
        .with_priority(Priority::LOW)
        .with_cost(5);
    pipeline
        .call_with(ctx, ScriptedOp::<u8, TestError>::always_ok(1))
        .await
        .unwrap();
    pipeline
        .call(ScriptedOp::<u8, TestError>::always_ok(1))
        .await
        .unwrap();
    assert_eq!(
        *seen.0.lock().unwrap(),
        [
            (Some(42), Priority::LOW, 5, false),
            (None, Priority::NORMAL, 1, false)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn an_outer_timeout_sets_the_deadline_inner_policies_read() {
    let seen = Seen::default();
    let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(1)).unwrap()).then(seen.clone());
    pipeline
        .call(|| async { Ok::<_, TestError>(()) })
        .await
        .unwrap();
    assert!(seen.0.lock().unwrap()[0].3);
}

#[tokio::test(start_paused = true)]
async fn a_caller_deadline_is_kept_when_earlier_than_the_timeouts() {
    let op = ScriptedOp::<u8, TestError>::always_ok(1);
    let deadline = time::now() + Duration::from_millis(10);
    let timeout = Timeout::new(Duration::from_secs(1)).unwrap();
    timeout
        .call_with(Context::new().with_deadline(deadline), op.clone())
        .await
        .unwrap();
    assert_eq!(op.attempts()[0].deadline(), Some(deadline));
}

#[tokio::test]
async fn the_operation_learns_its_attempt() {
    let op = ScriptedOp::<u8, TestError>::always_ok(1);
    TwoAttempts.call(op.clone()).await.unwrap();
    let attempts = op.attempts();
    assert_eq!(attempts.len(), 2);
    assert!(attempts[0].is_first() && !attempts[0].is_hedge());
    assert_eq!(attempts[1].number(), 2);
    assert!(attempts[1].is_hedge());
}
