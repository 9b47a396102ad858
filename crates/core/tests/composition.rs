//! Composition: order is outermost first, and errors never nest.

mod support;

use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{
    BoxPolicy, Context, Error, Identity, Next, Operation, Pipeline, Policy, Then, TimedOut, Timeout,
};
use support::{Log, Recorder, lines, log};

#[tokio::test]
async fn policies_see_the_call_in_the_order_written() {
    let log = log();
    let rec = |name| Recorder {
        name,
        log: log.clone(),
    };
    let pipeline = Pipeline::new(rec("a")).then(rec("b")).then(rec("c"));
    let inner_log = log.clone();
    let result = pipeline
        .call(|| {
            let log = inner_log.clone();
            async move {
                log.lock().unwrap().push("op".to_owned());
                Ok::<_, TestError>(1)
            }
        })
        .await;
    assert_eq!(result, Ok(1));
    assert_eq!(
        lines(&log),
        [
            "enter a", "enter b", "enter c", "op", "exit c", "exit b", "exit a"
        ]
    );
}

#[tokio::test]
async fn nesting_pipelines_keeps_the_order() {
    let log = log();
    let rec = |name| Recorder {
        name,
        log: log.clone(),
    };
    let inner = Pipeline::new(rec("b")).then(rec("c"));
    let pipeline = Pipeline::new(rec("a")).then(inner).then(rec("d"));
    pipeline
        .call(|| async { Ok::<_, TestError>(()) })
        .await
        .unwrap();
    assert_eq!(
        lines(&log),
        [
            "enter a", "enter b", "enter c", "enter d", "exit d", "exit c", "exit b", "exit a"
        ]
    );
}

#[tokio::test]
async fn a_boxed_pipeline_keeps_the_order() {
    let log = log();
    let mut policy = BoxPolicy::<u8, TestError>::identity();
    for name in ["a", "b", "c"] {
        policy = policy.then(Recorder {
            name,
            log: log.clone(),
        });
    }
    let clone = policy.clone();
    assert_eq!(clone.call(|| async { Ok(9) }).await, Ok(9));
    assert_eq!(
        lines(&log),
        [
            "enter a", "enter b", "enter c", "exit c", "exit b", "exit a"
        ]
    );
}

#[tokio::test]
async fn identity_runs_the_operation_once() {
    let op = ScriptedOp::<_, TestError>::new([Step::ok(3u8)]);
    let pipeline = Pipeline::new(Identity).then(Identity).then(Identity);
    assert_eq!(pipeline.call(op.clone()).await, Ok(3));
    assert_eq!(op.invocations(), 1);
}

#[tokio::test]
async fn then_nested_by_hand_either_way_keeps_the_order() {
    let log = log();
    let rec = |name| Recorder {
        name,
        log: log.clone(),
    };
    let left = Then::new(Then::new(rec("a"), rec("b")), rec("c"));
    let right = Then::new(rec("a"), Then::new(rec("b"), rec("c")));
    let op = || async { Ok::<_, TestError>(()) };
    left.call(op).await.unwrap();
    right.call_with(Context::new(), op).await.unwrap();
    let once = [
        "enter a", "enter b", "enter c", "exit c", "exit b", "exit a",
    ];
    assert_eq!(lines(&log), [once, once].concat());
}

/// A policy that says which way a call reached it: its own `call` (or
/// `call_with`), or `execute` from a policy around it.
#[derive(Clone)]
struct Entry {
    log: Log,
}

impl Entry {
    fn note(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }
}

impl<T: Send, E: Send> Policy<T, E> for Entry {
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
        self.note("execute".to_owned());
        next.invoke(ctx)
    }

    fn call<'a, Op>(&'a self, op: Op) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        self.note("call".to_owned());
        async move {
            self.execute(Context::new(), steadfast_core::Leaf::new(&op))
                .await
        }
    }

    fn call_with<'a, Op>(
        &'a self,
        ctx: Context<'a>,
        op: Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        self.note(format!("call_with {:?}", ctx.key::<u32>()));
        async move { self.execute(ctx, steadfast_core::Leaf::new(&op)).await }
    }
}

#[tokio::test]
async fn identity_layers_hand_the_call_to_the_policy_inside() {
    let log = log();
    let entry = Entry { log: log.clone() };
    let op = || async { Ok::<_, TestError>(1) };

    let inside = Pipeline::new(Identity).then(Identity).then(entry.clone());
    assert_eq!(inside.call(op).await, Ok(1));
    let user = 7_u32;
    let ctx = Context::new().with_key(&user);
    assert_eq!(inside.call_with(ctx, op).await, Ok(1));
    // Around another policy, it is entered through `execute`.
    let around = Pipeline::new(entry).then(Identity);
    assert_eq!(around.call(op).await, Ok(1));

    assert_eq!(
        lines(&log),
        ["call", "execute", "call_with Some(7)", "execute", "execute"]
    );
}

#[tokio::test]
async fn identity_starts_the_call_as_it_is_made_a_policy_at_the_first_poll() {
    let op = ScriptedOp::<_, TestError>::new([Step::ok(3u8).times(3)]);
    let identities = Pipeline::new(Identity).then(Identity);
    let call = identities.call(op.clone());
    assert_eq!(op.invocations(), 1, "invoked as the call is made");
    drop(call);
    assert_eq!(op.in_flight(), 0, "dropped unpolled: nothing left behind");
    assert_eq!(op.cancelled(), 1);

    let recorded = Pipeline::new(Recorder {
        name: "r",
        log: log(),
    })
    .then(Identity);
    let call = recorded.call(op.clone());
    assert_eq!(op.invocations(), 1, "not invoked before the first poll");
    assert_eq!(call.await, Ok(3));
    assert_eq!(op.invocations(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_inner_rejection_passes_through_outer_policies_unnested() {
    let pipeline = Pipeline::new(
        Timeout::builder()
            .limit(Duration::from_secs(5))
            .name("total")
            .build()
            .unwrap(),
    )
    .then(Identity)
    .then(
        Timeout::builder()
            .limit(Duration::from_secs(1))
            .name("attempt")
            .build()
            .unwrap(),
    );
    // The type says it: one level of Error, whatever the depth of the pipeline.
    let result: Result<u8, Error<TestError>> = pipeline.call(ScriptedOp::hanging()).await;
    assert_eq!(
        result,
        Err(Error::Timeout(TimedOut::new(
            "attempt",
            Duration::from_secs(1)
        )))
    );
}

#[tokio::test]
async fn the_operations_own_error_is_kept_as_is() {
    let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(1)).unwrap()).then(Identity);
    let result = pipeline
        .call(ScriptedOp::<u8, _>::always_err(TestError::new("refused")))
        .await;
    let err = result.unwrap_err();
    assert!(!err.is_rejection());
    assert_eq!(err.into_inner(), Some(TestError::new("refused")));
}

#[tokio::test(start_paused = true)]
async fn references_and_arcs_are_policies_too() {
    let timeout = std::sync::Arc::new(Timeout::new(Duration::from_millis(10)).unwrap());
    let pipeline = Pipeline::new(&*timeout).then(std::sync::Arc::clone(&timeout));
    let result = pipeline.call(ScriptedOp::<u8, TestError>::hanging()).await;
    assert!(matches!(result, Err(Error::Timeout(_))));
    assert_eq!(steadfast_core::Inspect::snapshot(&*timeout).timeouts, 1);
}
