use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::Timeout;
use crate::Error;
use crate::time::{self, Sleep};

pin_project! {
    /// The future of a call under a [`Timeout`].
    ///
    /// It polls the call first; its timer exists only once the call has
    /// returned `Pending`.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct TimeoutFuture<'a, F> {
        #[pin]
        inner: F,
        #[pin]
        sleep: Option<Sleep>,
        policy: &'a Timeout,
    }
}

impl<'a, F> TimeoutFuture<'a, F> {
    pub(super) fn new(inner: F, policy: &'a Timeout) -> Self {
        TimeoutFuture {
            inner,
            sleep: None,
            policy,
        }
    }
}

impl<F, T, E> Future for TimeoutFuture<'_, F>
where
    F: Future<Output = Result<T, Error<E>>>,
{
    type Output = Result<T, Error<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // The call first: a result that is ready wins over a timer that is too.
        if let Poll::Ready(result) = this.inner.poll(cx) {
            return Poll::Ready(result);
        }
        if this.sleep.is_none() {
            let deadline = time::deadline_after(this.policy.limit);
            this.sleep.set(Some(time::sleep_until(deadline)));
        }
        let sleep = this
            .sleep
            .as_pin_mut()
            .expect("the timer was armed just above");
        match sleep.poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Error::Timeout(this.policy.on_timeout()))),
            Poll::Pending => Poll::Pending,
        }
    }
}
