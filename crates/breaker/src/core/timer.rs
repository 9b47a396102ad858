//! The open-period timer: lets a refusal skip the clock.
//!
//! Reading tokio's clock costs more than the rest of a refused call, and an
//! open breaker used to read it on every refusal, to know whether its open
//! time was up. Now, when the breaker opens inside a tokio runtime, it
//! publishes its state as *armed* and spawns one task that sleeps on tokio's
//! clock until the open period ends. While armed, the period is surely not
//! over, so a refusal is one load of the state word. When the timer fires,
//! the waker takes the mark off (in the time driver, before any task runs),
//! and the next call reads the clock and moves the breaker to half-open
//! exactly as it did before. Without a runtime (the permit API on plain
//! threads) nothing is armed and every refusal reads the clock.
//!
//! The mark only ever comes off early, never late: the timer is set one
//! tick ([`LEAD`]) before the end (tokio rounds a deadline up to its next
//! millisecond tick), and a task dropped before it fires (its runtime shut
//! down, the breaker left the period) takes the mark off in its `Drop`.
//! Each mark is the state word of one period, so a stale timer cannot touch
//! a later period: its compare-and-swap fails.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use steadfast_core::time::{self, Instant, Sleep};
use tokio::runtime::Handle;
use tokio::task::AbortHandle;

use super::Core;
use crate::state::Word;

/// How early the timer is set, so that it fires by the end of the open
/// period: tokio fires a timer on the first millisecond tick at or after
/// its deadline.
const LEAD: Duration = Duration::from_millis(1);

impl Core {
    /// The runtime to arm a timer on, if this thread is in one.
    pub(super) fn timer_runtime() -> Option<Handle> {
        Handle::try_current().ok()
    }

    /// Spawns the timer of the armed period `armed` (already published),
    /// which ends at `until`.
    pub(super) fn arm(&self, runtime: &Handle, armed: Word, until: Instant) -> AbortHandle {
        let timer = Timer {
            core: self.this.clone(),
            armed,
            deadline: until.checked_sub(LEAD).unwrap_or(until),
            sleep: None,
        };
        runtime.spawn(timer).abort_handle()
    }

    /// Takes the timer's mark off `armed`, if the breaker is still in it.
    fn disarm(&self, armed: Word) {
        let _ = self
            .word
            .compare_exchange(armed.0, armed.disarmed().0, AcqRel, Acquire);
    }
}

/// The task of one open period's timer.
struct Timer {
    core: Weak<Core>,
    armed: Word,
    deadline: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl Timer {
    fn disarm(&self) {
        if let Some(core) = self.core.upgrade() {
            core.disarm(self.armed);
        }
    }
}

impl Future for Timer {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let deadline = this.deadline;
        // Created here, in the task: a runtime without a time driver panics
        // in this task (which then drops, disarming), not in the caller's.
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(time::sleep_until(deadline)));
        // The timer wakes `Fire`, which disarms at once, from the time
        // driver: on a paused clock, `advance` past the deadline disarms
        // before the advancing task resumes.
        let waker = Waker::from(Arc::new(Fire {
            core: this.core.clone(),
            armed: this.armed,
            task: cx.waker().clone(),
        }));
        let mut unconstrained = tokio::task::unconstrained(sleep.as_mut());
        match Pin::new(&mut unconstrained).poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(()) => {
                this.disarm();
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // Fired, aborted or dropped with its runtime: either way the mark
        // (if still this period's) must not outlive the timer.
        self.disarm();
    }
}

/// The waker the timer's sleep wakes: disarms, then wakes the task.
struct Fire {
    core: Weak<Core>,
    armed: Word,
    task: Waker,
}

impl Wake for Fire {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(core) = self.core.upgrade() {
            core.disarm(self.armed);
        }
        self.task.wake_by_ref();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use steadfast_core::{Error, Policy};
    use tokio::time::advance;

    use crate::{Breaker, BreakerConfig, State};

    const OPEN: Duration = Duration::from_secs(10);
    const OPEN_BUT_2_MS: Duration = Duration::from_millis(9_998);

    fn breaker() -> Breaker {
        Breaker::builder_from(BreakerConfig::empty())
            .consecutive_failures(1)
            .open_for(OPEN)
            .build()
            .unwrap()
    }

    async fn fail(b: &Breaker) {
        let r: Result<(), Error<&str>> = b.call(|| async { Err("down") }).await;
        assert!(r.is_err());
    }

    async fn refused(b: &Breaker) -> Option<Duration> {
        let r: Result<(), Error<&str>> = b.call(|| async { Ok(()) }).await;
        match r {
            Err(Error::CircuitOpen(open)) => open.retry_after(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn armed(b: &Breaker) -> bool {
        b.core().word().is_armed()
    }

    #[tokio::test(start_paused = true)]
    async fn the_timer_fires_by_the_end_of_the_open_period() {
        let b = breaker();
        fail(&b).await;
        assert!(armed(&b));
        assert_eq!(refused(&b).await, Some(OPEN));
        advance(OPEN_BUT_2_MS).await;
        assert!(armed(&b), "two ticks before the end, the timer waits");
        assert_eq!(refused(&b).await, Some(Duration::from_millis(2)));
        advance(Duration::from_nanos(1_999_999)).await;
        assert!(!armed(&b), "fired, at most one tick before the end");
        // Disarmed, a refusal reads the clock: still exact.
        assert_eq!(refused(&b).await, Some(Duration::from_nanos(1)));
        advance(Duration::from_nanos(1)).await;
        assert_eq!(b.state(), State::HalfOpen);
    }

    #[tokio::test(start_paused = true)]
    async fn a_re_open_arms_a_new_timer() {
        let b = breaker();
        fail(&b).await;
        advance(OPEN).await;
        assert_eq!(b.state(), State::HalfOpen);
        assert!(!armed(&b));
        fail(&b).await; // the trial fails: open again, for another 10 s
        assert!(armed(&b));
        advance(OPEN_BUT_2_MS).await;
        assert!(armed(&b));
        advance(Duration::from_millis(2)).await;
        assert!(!armed(&b));
        assert_eq!(b.state(), State::HalfOpen);
    }

    #[tokio::test(start_paused = true)]
    async fn reset_and_isolate_cancel_the_timer_of_the_period_they_end() {
        let b = breaker();
        fail(&b).await; // open until 10 s
        advance(Duration::from_secs(5)).await;
        b.reset();
        assert!(!armed(&b));
        fail(&b).await; // open again, until 15 s
        assert!(armed(&b));
        // Past the first timer's deadline: it neither fires nor disarms.
        advance(Duration::from_secs(5) + Duration::from_millis(1)).await;
        assert!(armed(&b));
        assert_eq!(refused(&b).await, Some(Duration::from_millis(4_999)));
        b.isolate();
        assert!(!armed(&b));
        advance(OPEN).await;
        assert_eq!(b.state(), State::Isolated);
        assert_eq!(refused(&b).await, None);
    }

    #[test]
    fn without_a_runtime_refusals_read_the_clock() {
        let b = breaker();
        b.try_acquire().unwrap().failure(Duration::ZERO);
        assert_eq!(b.state(), State::Open);
        assert!(!armed(&b), "no runtime, no timer");
        let refusal = b.try_acquire().unwrap_err();
        assert!(refusal.retry_after().is_some_and(|d| d <= OPEN));
    }

    #[test]
    fn a_runtime_shut_down_before_the_timer_fires_disarms_it() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let b = breaker();
        rt.block_on(fail(&b));
        assert!(armed(&b));
        drop(rt);
        assert!(!armed(&b), "the timer task was dropped with its runtime");
        assert_eq!(b.state(), State::Open);
        assert!(b.try_acquire().is_err());
    }

    #[test]
    fn a_runtime_without_timers_only_loses_the_timer() {
        // The timer's task panics (no time driver) and is dropped, which
        // disarms; the caller is untouched and refusals read the clock.
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let b = breaker();
        rt.block_on(async {
            fail(&b).await;
            tokio::task::yield_now().await;
            assert!(!armed(&b));
            assert!(refused(&b).await.is_some());
        });
        assert_eq!(b.state(), State::Open);
    }
}
