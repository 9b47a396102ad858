//! The owned call path: a `Send + 'static` future that holds its own policy.

use std::sync::Arc;
use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{Error, Identity, Pipeline, Policy, Timeout};

fn send_static<F: std::future::Future + Send + 'static>(f: F) -> F {
    f
}

#[tokio::test(start_paused = true)]
async fn an_owned_call_outlives_the_pipeline_handle_that_made_it() {
    let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(5)).unwrap())
        .then(Identity)
        .then(Timeout::new(Duration::from_secs(1)).unwrap());
    let op = ScriptedOp::<_, TestError>::new([Step::ok(3u8).after(Duration::from_millis(200))]);
    let call = send_static(pipeline.call_owned(op.clone()));
    drop(pipeline);
    let task = tokio::spawn(call);
    assert_eq!(task.await.unwrap(), Ok(3));
    assert_eq!(op.invocations(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_pipeline_in_an_arc_clones_one_pointer_per_owned_call() {
    let pipeline = Arc::new(Pipeline::new(
        Timeout::new(Duration::from_millis(100)).unwrap(),
    ));
    let op = ScriptedOp::<u8, TestError>::new([Step::ok(1).after(Duration::from_secs(1))]);
    let task = tokio::spawn(pipeline.call_owned(op.clone()));
    assert_eq!(Arc::strong_count(&pipeline), 2, "the task holds a clone");
    let result: Result<u8, Error<TestError>> = task.await.unwrap();
    assert!(matches!(result, Err(Error::Timeout(_))));
    assert_eq!(
        Arc::strong_count(&pipeline),
        1,
        "given back when the call ends"
    );
    assert_eq!(op.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn dropping_an_owned_call_gives_everything_back() {
    let pipeline = Arc::new(Pipeline::new(Timeout::new(Duration::from_secs(5)).unwrap()));
    let op = ScriptedOp::<u8, TestError>::new([Step::ok(1).after(Duration::from_secs(1))]);
    let task = tokio::spawn(pipeline.call_owned(op.clone()));
    tokio::time::advance(Duration::from_millis(10)).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(op.in_flight(), 0);
    assert_eq!(Arc::strong_count(&pipeline), 1);
}

/// Answers at once and leaves the real call to a background call of the same
/// pipeline, as a cache's stale-while-revalidate does.
#[derive(Clone, Default)]
struct Later {
    seen: Arc<std::sync::Mutex<Vec<String>>>,
}

impl steadfast_core::Policy<u8, TestError> for Later {
    async fn execute<'a, N>(
        &'a self,
        ctx: steadfast_core::Context<'a>,
        next: N,
    ) -> Result<u8, Error<TestError>>
    where
        N: steadfast_core::Next<'a, u8, TestError>,
    {
        let me = Arc::as_ptr(&self.seen) as usize;
        let user = ctx.key::<UserId>().map_or(0, |u| u.0);
        if let Some(job) = ctx
            .background()
            .and_then(|job| job.take::<&'static str>(me))
        {
            self.seen
                .lock()
                .unwrap()
                .push(format!("background {job} for user {user}"));
            return next.invoke(ctx).await;
        }
        let Some(relaunch) = ctx.relaunch() else {
            self.seen
                .lock()
                .unwrap()
                .push("borrowed: inline".to_owned());
            return next.invoke(ctx).await;
        };
        let job = steadfast_core::Background::new(me, Box::new("refresh"));
        assert!(relaunch.relaunch(job).is_ok());
        self.seen
            .lock()
            .unwrap()
            .push(format!("answered user {user} at once"));
        Ok(0)
    }
}

struct UserId(u64);

#[tokio::test(start_paused = true)]
async fn a_policy_in_an_owned_call_hands_work_to_a_background_call() {
    let later = Later::default();
    let pipeline = Pipeline::new(Timeout::new(Duration::from_secs(5)).unwrap()).then(later.clone());
    let op = ScriptedOp::<u8, TestError>::new([Step::ok(9).after(Duration::from_millis(600))]);

    let ctx = steadfast_core::OwnedContext::new((UserId(7),));
    assert_eq!(pipeline.call_owned_with(ctx, op.clone()).await, Ok(0));
    assert_eq!(
        op.invocations(),
        0,
        "the caller did not wait for the operation"
    );

    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(op.invocations(), 1, "the background call runs it");
    tokio::time::advance(Duration::from_millis(600)).await;
    tokio::task::yield_now().await;
    assert_eq!(op.in_flight(), 0, "and runs it to the end");
    assert_eq!(
        *later.seen.lock().unwrap(),
        ["answered user 7 at once", "background refresh for user 7"]
    );

    // A borrowed call has no relaunch: the policy must do its work inline.
    assert_eq!(pipeline.call(op.clone()).await, Ok(9));
    assert_eq!(
        later.seen.lock().unwrap().last().unwrap(),
        "borrowed: inline"
    );
}
