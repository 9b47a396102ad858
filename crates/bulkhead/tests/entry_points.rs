//! `Bulkhead::call` and `call_with` return the bulkhead's own future, which
//! owns the operation (also through an `Arc`, which forwards them); inside a
//! pipeline the bulkhead runs from the `Next` it is given, through
//! `execute`. The same scripts through every way in give the same answers,
//! the same order of starts and the same counts.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use steadfast_bulkhead::{AimdConfig, Bulkhead};
use steadfast_core::testing::{ScriptedOp, Step, TestError};
use steadfast_core::{
    BulkheadReason, Context, Error, Identity, Inspect, Operation, Pipeline, Policy,
};
use support::{Gate, poll_once};

type Answer = Result<u32, Error<TestError>>;
type Call<'a> = Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;

#[derive(Clone, Copy, Debug)]
enum Way {
    Call,
    CallWith,
    Shared,
    Pipeline,
}

const WAYS: [Way; 4] = [Way::Call, Way::CallWith, Way::Shared, Way::Pipeline];

/// One call of `op` under `bulkhead`, made the given way; nothing happens
/// until it is polled.
fn start<'a, Op>(way: Way, bulkhead: &'a Bulkhead, op: Op) -> Call<'a>
where
    Op: Operation<u32, TestError> + 'a,
{
    match way {
        Way::Call => Box::pin(bulkhead.call(op)),
        Way::CallWith => Box::pin(bulkhead.call_with(Context::new(), op)),
        // Clones share the permits, the queue and the counters.
        Way::Shared => {
            let shared = Arc::new(bulkhead.clone());
            Box::pin(async move { shared.call(op).await })
        }
        // The bulkhead around something: the call goes through `execute`.
        Way::Pipeline => {
            let pipeline = Pipeline::new(bulkhead.clone()).then(Identity);
            Box::pin(async move { pipeline.call(op).await })
        }
    }
}

fn reason(answer: Answer) -> BulkheadReason {
    match answer {
        Err(Error::BulkheadFull(full)) => full.reason(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// What a scenario saw at each step, to compare across ways.
#[derive(Debug, PartialEq)]
struct Trace(Vec<String>);

impl Trace {
    fn see(&mut self, what: impl std::fmt::Debug) {
        self.0.push(format!("{what:?}"));
    }
}

async fn permits_queue_and_refusal(way: Way) -> Trace {
    let bulkhead = Bulkhead::builder()
        .name("db")
        .max_concurrent(2)
        .max_queued(1)
        .build()
        .unwrap();
    let gate = Gate::new();
    let mut trace = Trace(Vec::new());
    let (op0, op1, op2, op3) = (gate.op(0), gate.op(1), gate.op(2), gate.op(3));
    let mut a = start(way, &bulkhead, &op0);
    let mut b = start(way, &bulkhead, &op1);
    let mut c = start(way, &bulkhead, &op2);
    // Nothing starts before the first poll.
    trace.see(gate.started());
    trace.see(poll_once(a.as_mut()));
    trace.see(poll_once(b.as_mut()));
    trace.see(poll_once(c.as_mut()));
    trace.see(gate.started());
    let snap = bulkhead.snapshot();
    trace.see((snap.in_flight, snap.waiting, snap.saturated));
    // Two running, one queued: the fourth is refused at once.
    trace.see(reason(start(way, &bulkhead, &op3).await));
    // `a` finishes; its permit goes to `c`, which starts when polled.
    gate.open(1);
    trace.see(poll_once(a.as_mut()));
    trace.see(poll_once(c.as_mut()));
    trace.see(gate.started());
    // `b` dropped while running gives its permit back.
    drop(b);
    let snap = bulkhead.snapshot();
    trace.see((snap.in_flight, snap.waiting, snap.rejected));
    gate.open(1);
    trace.see(poll_once(c.as_mut()));
    let snap = bulkhead.snapshot();
    trace.see((snap.in_flight, snap.waiting, snap.saturated));
    trace
}

#[tokio::test]
async fn permits_queue_and_refusal_agree_every_way() {
    let expected = permits_queue_and_refusal(Way::Call).await;
    assert_eq!(
        expected.0,
        [
            "[]",
            "Pending",
            "Pending",
            "Pending",
            "[0, 1]",
            "(2, 1, true)",
            "Full",
            "Ready(Ok(0))",
            "Pending",
            "[0, 1, 2]",
            "(1, 0, 1)",
            "Ready(Ok(2))",
            "(0, 0, false)",
        ]
    );
    for way in WAYS {
        assert_eq!(permits_queue_and_refusal(way).await, expected, "{way:?}");
    }
}

fn cancelled_waiter(way: Way) -> Trace {
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .max_queued(1)
        .build()
        .unwrap();
    let gate = Gate::new();
    let mut trace = Trace(Vec::new());
    let (op0, op1, op2) = (gate.op(0), gate.op(1), gate.op(2));
    let mut a = start(way, &bulkhead, &op0);
    let mut b = start(way, &bulkhead, &op1);
    trace.see(poll_once(a.as_mut()));
    trace.see(poll_once(b.as_mut()));
    trace.see(bulkhead.snapshot().waiting);
    // A waiter dropped leaves the queue without ever starting.
    drop(b);
    trace.see(bulkhead.snapshot().waiting);
    drop(a);
    let mut c = start(way, &bulkhead, &op2);
    trace.see(poll_once(c.as_mut()));
    trace.see(gate.started());
    gate.open(1);
    trace.see(poll_once(c.as_mut()));
    trace.see(bulkhead.snapshot().in_flight);
    trace
}

#[tokio::test]
async fn a_dropped_waiter_agrees_every_way() {
    let expected = cancelled_waiter(Way::Call);
    assert_eq!(
        expected.0,
        [
            "Pending",
            "Pending",
            "1",
            "0",
            "Pending",
            "[0, 2]",
            "Ready(Ok(2))",
            "0"
        ]
    );
    for way in WAYS {
        assert_eq!(cancelled_waiter(way), expected, "{way:?}");
    }
}

/// An adaptive limit learns from calls made every way: a slow call and a
/// failed one each halve it.
async fn adaptive(way: Way) -> (Answer, Answer, u32, u32, u32) {
    let aimd = AimdConfig::new(2, 20)
        .backoff(0.5)
        .latency_threshold(Duration::from_millis(50));
    let bulkhead = Bulkhead::builder()
        .max_concurrent(16)
        .adaptive(aimd)
        .build()
        .unwrap();
    let first = bulkhead.snapshot().limit;
    let slow = ScriptedOp::new([Step::ok(7).after(Duration::from_millis(100))]);
    let slow = start(way, &bulkhead, slow).await;
    let after_slow = bulkhead.snapshot().limit;
    let failing = ScriptedOp::<u32, TestError>::always_err(TestError::new("down"));
    let failed = start(way, &bulkhead, failing).await;
    (slow, failed, first, after_slow, bulkhead.snapshot().limit)
}

#[tokio::test(start_paused = true)]
async fn an_adaptive_limit_learns_the_same_every_way() {
    let expected = adaptive(Way::Call).await;
    assert_eq!(
        expected,
        (Ok(7), Err(Error::Inner(TestError::new("down"))), 16, 8, 4)
    );
    for way in WAYS {
        assert_eq!(adaptive(way).await, expected, "{way:?}");
    }
}

#[tokio::test]
async fn a_call_polled_once_to_completion_frees_its_permit() {
    for way in WAYS {
        let bulkhead = Bulkhead::new(1).unwrap();
        let op = ScriptedOp::always_ok(3);
        let mut call = start(way, &bulkhead, op.clone());
        assert_eq!(poll_once(call.as_mut()), Poll::Ready(Ok(3)), "{way:?}");
        assert_eq!(bulkhead.snapshot().in_flight, 0, "{way:?}");
        assert_eq!(op.invocations(), 1, "{way:?}");
    }
}
