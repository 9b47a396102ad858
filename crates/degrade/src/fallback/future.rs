//! The future of a call under a [`Fallback`], written by hand so that a
//! success costs one branch over the bare call.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use steadfast_core::{Classifier, Error};

use super::{Fallback, Produce, Produced};

pin_project! {
    /// A call, then, if it failed and the fallback answers that failure, the
    /// fallback's answer.
    pub(crate) struct FallbackFuture<'a, F, G, P, C> {
        #[pin]
        call: F,
        // Set once the call has failed and the fallback answers it.
        #[pin]
        fallback: Option<G>,
        policy: &'a Fallback<P, C>,
    }
}

impl<'a, F, G, P, C> FallbackFuture<'a, F, G, P, C> {
    #[inline]
    pub(crate) fn new(policy: &'a Fallback<P, C>, call: F) -> Self {
        FallbackFuture {
            call,
            fallback: None,
            policy,
        }
    }
}

impl<F, G, P, C, T, E> Future for FallbackFuture<'_, F, G, P, C>
where
    F: Future<Output = Result<T, Error<E>>>,
    G: Future<Output = Result<T, Error<E>>>,
    P: Produce<T, E, Future = G>,
    C: Classifier<T, E>,
{
    type Output = Result<T, Error<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(fallback) = this.fallback.as_mut().as_pin_mut() {
            return fallback.poll(cx);
        }
        match ready!(this.call.poll(cx)) {
            Ok(value) => Poll::Ready(Ok(value)),
            Err(error) => match this.policy.answer(error) {
                Ok(Produced::Now(answer)) => Poll::Ready(answer),
                Ok(Produced::Later(fallback)) => {
                    this.fallback.set(Some(fallback));
                    this.fallback.as_pin_mut().expect("set just above").poll(cx)
                }
                Err(error) => Poll::Ready(Err(error)),
            },
        }
    }
}
