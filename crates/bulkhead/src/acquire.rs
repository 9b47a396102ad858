//! Waiting for a permit: a caller's place in the queue, its timer, and what
//! happens when it is dropped.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use steadfast_core::BulkheadReason;
use steadfast_core::time::{self, Sleep};

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
        reason: BulkheadReason,
        #[pin]
        sleep: Option<Sleep>,
    }
}

impl<'a> Acquire<'a> {
    pub(crate) fn new(semaphore: &'a Semaphore) -> Self {
        Acquire {
            waiter: Waiter {
                semaphore,
                key: None,
                started: false,
            },
            reason: BulkheadReason::QueueTimeout,
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
            match semaphore.enqueue(&mut locked, cx.waker()) {
                Enqueued::Acquired => return Poll::Ready(Ok(())),
                Enqueued::Refused => return Poll::Ready(Err(BulkheadReason::Full)),
                Enqueued::Queued(key, deadline) => {
                    drop(locked);
                    this.waiter.key = Some(key);
                    if let Some((at, reason)) = deadline {
                        *this.reason = reason;
                        this.sleep.set(Some(time::sleep_until(at)));
                    }
                }
            }
        }
        let Some(sleep) = this.sleep.as_pin_mut() else {
            return Poll::Pending;
        };
        if sleep.poll(cx).is_pending() {
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
            Poll::Ready(Err(*this.reason))
        }
    }
}
