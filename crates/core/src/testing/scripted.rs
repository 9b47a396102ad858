use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::Operation;
use crate::context::Attempt;
use crate::time::{self, Sleep};

/// A cloneable error for scripted failures.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{0}")]
pub struct TestError(pub &'static str);

impl TestError {
    /// An error with the given message.
    pub const fn new(message: &'static str) -> Self {
        TestError(message)
    }
}

#[derive(Clone, Debug)]
enum Reply<T, E> {
    Ok(T),
    Err(E),
    Hang,
}

/// One step of a script: a reply, after an optional delay, for some invocations.
#[derive(Clone, Debug)]
#[must_use]
pub struct Step<T, E> {
    reply: Reply<T, E>,
    delay: Duration,
    times: usize,
}

impl<T, E> Step<T, E> {
    /// Succeed with `value`.
    pub fn ok(value: T) -> Self {
        Step::new(Reply::Ok(value))
    }

    /// Fail with `error`.
    pub fn err(error: E) -> Self {
        Step::new(Reply::Err(error))
    }

    /// Never complete (until dropped).
    pub fn hang() -> Self {
        Step::new(Reply::Hang)
    }

    fn new(reply: Reply<T, E>) -> Self {
        Step {
            reply,
            delay: Duration::ZERO,
            times: 1,
        }
    }

    /// Take `delay` of (virtual) time before replying.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Serve this step for `n` invocations (default 1). The script's last step
    /// serves every invocation after the script runs out.
    pub fn times(mut self, n: usize) -> Self {
        self.times = n;
        self
    }
}

struct State<T, E> {
    steps: VecDeque<Step<T, E>>,
    invocations: u64,
    in_flight: u64,
    max_in_flight: u64,
    completed: u64,
    cancelled: u64,
    attempts: Vec<Attempt>,
}

/// A fake operation that replies as scripted and counts what happened to it.
///
/// Clones share the script and the counters, so a test keeps one clone to
/// read them while a policy runs another. See the [module docs](super).
pub struct ScriptedOp<T, E> {
    state: Arc<Mutex<State<T, E>>>,
}

impl<T, E> Clone for ScriptedOp<T, E> {
    fn clone(&self) -> Self {
        ScriptedOp {
            state: Arc::clone(&self.state),
        }
    }
}

impl<T, E> fmt::Debug for ScriptedOp<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("ScriptedOp")
            .field("steps_left", &state.steps.len())
            .field("invocations", &state.invocations)
            .field("in_flight", &state.in_flight)
            .field("max_in_flight", &state.max_in_flight)
            .field("completed", &state.completed)
            .field("cancelled", &state.cancelled)
            .finish()
    }
}

impl<T, E> ScriptedOp<T, E> {
    /// An operation that follows `steps` in order; the last step repeats.
    ///
    /// # Panics
    ///
    /// When `steps` is empty: a script needs at least one reply.
    pub fn new(steps: impl IntoIterator<Item = Step<T, E>>) -> Self {
        let steps: VecDeque<_> = steps.into_iter().filter(|s| s.times > 0).collect();
        assert!(
            !steps.is_empty(),
            "a ScriptedOp needs at least one step with times > 0"
        );
        ScriptedOp {
            state: Arc::new(Mutex::new(State {
                steps,
                invocations: 0,
                in_flight: 0,
                max_in_flight: 0,
                completed: 0,
                cancelled: 0,
                attempts: Vec::new(),
            })),
        }
    }

    /// Always succeeds with `value`.
    pub fn always_ok(value: T) -> Self {
        ScriptedOp::new([Step::ok(value)])
    }

    /// Always fails with `error`.
    pub fn always_err(error: E) -> Self {
        ScriptedOp::new([Step::err(error)])
    }

    /// Never completes.
    pub fn hanging() -> Self {
        ScriptedOp::new([Step::hang()])
    }

    fn lock(&self) -> MutexGuard<'_, State<T, E>> {
        // A panicking test thread must not hide the counters from the others.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many times the operation was invoked.
    pub fn invocations(&self) -> u64 {
        self.lock().invocations
    }

    /// Invocations started and neither finished nor dropped.
    pub fn in_flight(&self) -> u64 {
        self.lock().in_flight
    }

    /// The most invocations ever in flight at once.
    pub fn max_in_flight(&self) -> u64 {
        self.lock().max_in_flight
    }

    /// Invocations that returned a reply.
    pub fn completed(&self) -> u64 {
        self.lock().completed
    }

    /// Invocations dropped before they replied.
    pub fn cancelled(&self) -> u64 {
        self.lock().cancelled
    }

    /// The [`Attempt`] each invocation was given, in order.
    pub fn attempts(&self) -> Vec<Attempt> {
        self.lock().attempts.clone()
    }
}

impl<T: Clone, E: Clone> ScriptedOp<T, E> {
    fn next_step(&self, attempt: Attempt) -> (Reply<T, E>, Duration) {
        let mut state = self.lock();
        state.invocations += 1;
        state.in_flight += 1;
        state.max_in_flight = state.max_in_flight.max(state.in_flight);
        state.attempts.push(attempt);
        let step = if state.steps.len() > 1 && state.steps[0].times == 1 {
            state.steps.pop_front().expect("checked non-empty")
        } else {
            let more = state.steps.len() > 1;
            let front = state.steps.front_mut().expect("a script is never empty");
            if more {
                front.times -= 1;
            }
            front.clone()
        };
        (step.reply, step.delay)
    }
}

impl<T, E> Operation<T, E> for ScriptedOp<T, E>
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    type Future = ScriptedFuture<T, E>;

    // Records the attempt, deadline included, as a real client would see it.
    const READS_DEADLINE: bool = true;

    fn invoke(&self, attempt: Attempt) -> ScriptedFuture<T, E> {
        let (reply, delay) = self.next_step(attempt);
        ScriptedFuture {
            op: self.clone(),
            sleep: (!delay.is_zero()).then(|| Box::pin(time::sleep(delay))),
            reply: Some(reply),
        }
    }
}

/// The future of one [`ScriptedOp`] invocation.
pub struct ScriptedFuture<T, E> {
    op: ScriptedOp<T, E>,
    sleep: Option<Pin<Box<Sleep>>>,
    reply: Option<Reply<T, E>>,
}

impl<T, E> fmt::Debug for ScriptedFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedFuture")
            .field("done", &self.reply.is_none())
            .finish_non_exhaustive()
    }
}

// Nothing in it is pinned: the timer is boxed and the reply is moved out by value.
impl<T, E> Unpin for ScriptedFuture<T, E> {}

impl<T, E> Future for ScriptedFuture<T, E> {
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(sleep) = this.sleep.as_mut() {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.sleep = None;
        }
        let result = match this.reply.take() {
            Some(Reply::Ok(value)) => Ok(value),
            Some(Reply::Err(error)) => Err(error),
            Some(Reply::Hang) => {
                this.reply = Some(Reply::Hang);
                return Poll::Pending;
            }
            None => panic!("ScriptedFuture polled after it completed"),
        };
        let mut state = this.op.lock();
        state.in_flight -= 1;
        state.completed += 1;
        Poll::Ready(result)
    }
}

impl<T, E> Drop for ScriptedFuture<T, E> {
    fn drop(&mut self) {
        if self.reply.is_some() {
            let mut state = self.op.lock();
            state.in_flight -= 1;
            state.cancelled += 1;
        }
    }
}
