//! Waiting for a permit: a caller's place in the queue, its timer, and what
//! happens when it is dropped.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use steadfast_core::BulkheadReason;
use steadfast_core::time::{self, Instant, Sleep};

use crate::queue::{Status, WaiterKey};
use crate::semaphore::{Enqueued, Semaphore};

/// A queued caller's place; leaving it on drop is what makes a dropped
/// waiter cancellation-safe.
#[derive(Debug)]
struct Waiter<'a> {
    semaphore: &'a Semaphore,
    key: Option<WaiterKey>,
    started: bool,
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let semaphore = self.semaphore;
        let mut locked = semaphore.locked.lock();
        // A permit handed over while this waiter was being dropped passes on
        // to the next waiter instead of being lost.
        let waker = if semaphore.leave(&mut locked, key) {
            semaphore.release_locked(&mut locked)
        } else {
            None
        };
        drop(locked);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

pin_project! {
    /// Waits for a permit; resolves to `Ok(())` once the caller holds one.
    #[derive(Debug)]
    pub(crate) struct Acquire<'a> {
        waiter: Waiter<'a>,
        // The call's deadline, if an enclosing timeout set one.
        deadline: Option<Instant>,
        // When and why the caller gives up waiting, once queued.
        give_up: Option<(Instant, BulkheadReason)>,
        #[pin]
        sleep: Option<Sleep>,
    }
}

impl<'a> Acquire<'a> {
    pub(crate) fn new(semaphore: &'a Semaphore, deadline: Option<Instant>) -> Self {
        Acquire {
            waiter: Waiter {
                semaphore,
                key: None,
                started: false,
            },
            deadline,
            give_up: None,
            sleep: None,
        }
    }
}

impl Future for Acquire<'_> {
    type Output = Result<(), BulkheadReason>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let semaphore = this.waiter.semaphore;
        if this.waiter.started {
            let Some(key) = this.waiter.key else {
                panic!("a bulkhead acquire was polled after it completed");
            };
            let mut locked = semaphore.locked.lock();
            if locked.waiters.status(key) == Status::Granted {
                locked.waiters.remove(key);
                this.waiter.key = None;
                return Poll::Ready(Ok(()));
            }
            locked.waiters.set_waker(key, cx.waker());
        } else {
            this.waiter.started = true;
            let mut locked = semaphore.locked.lock();
            match semaphore.enqueue(&mut locked, cx.waker(), *this.deadline) {
                Enqueued::Acquired => return Poll::Ready(Ok(())),
                Enqueued::Refused(reason) => return Poll::Ready(Err(reason)),
                Enqueued::Queued(key, give_up) => {
                    drop(locked);
                    this.waiter.key = Some(key);
                    if let Some((at, _)) = give_up {
                        *this.give_up = give_up;
                        this.sleep.set(Some(time::sleep_until(at)));
                    }
                }
            }
        }
        let (Some(sleep), Some((at, reason))) = (this.sleep.as_pin_mut(), *this.give_up) else {
            return Poll::Pending;
        };
        // The clock as well as the timer: an enclosing timeout's timer for
        // the same instant may wake this task before this one has fired, and
        // the bulkhead's refusal must win over the timeout.
        if sleep.poll(cx).is_pending() && time::now() < at {
            return Poll::Pending;
        }
        let key = this
            .waiter
            .key
            .take()
            .expect("a queued waiter holds its key until it completes");
        let mut locked = semaphore.locked.lock();
        // A permit that arrived as the timer fired wins over the timer.
        if semaphore.leave(&mut locked, key) {
            Poll::Ready(Ok(()))
        } else {
            Poll::Ready(Err(reason))
        }
    }
}
