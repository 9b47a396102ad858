//! The operation of a policy that never repeats a call: the request goes to
//! the inner service as it came, its body streamed, nothing buffered.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use crate::http::from_bytes::FromBytes;
use http::{Request, Response, StatusCode};
use steadfast_core::{Attempt, Operation};
use tower_service::Service;

use crate::http::answers::problem;
use crate::op::lock;

/// The ready inner service and the request, for one attempt.
pub(crate) struct PassThrough<S, B> {
    slot: Mutex<Option<(S, Request<B>)>>,
}

impl<S, B> PassThrough<S, B> {
    pub(crate) fn new(ready: S, request: Request<B>) -> Self {
        PassThrough {
            slot: Mutex::new(Some((ready, request))),
        }
    }
}

// A policy that declares it never repeats a call starts no background call
// either; a copy, should one be made, holds no request and answers 500.
impl<S, B> Clone for PassThrough<S, B> {
    fn clone(&self) -> Self {
        PassThrough {
            slot: Mutex::new(None),
        }
    }
}

impl<S, B, RB> Operation<Response<RB>, S::Error> for PassThrough<S, B>
where
    S: Service<Request<B>, Response = Response<RB>> + Send,
    S::Future: Send,
    B: Send,
    RB: FromBytes + Send,
{
    type Future = Once<S::Future, Response<RB>>;

    fn invoke(&self, _attempt: Attempt) -> Self::Future {
        match lock(&self.slot).take() {
            Some((mut service, request)) => Once::Call {
                call: service.call(request),
            },
            // A policy invoked a second attempt though it declared
            // `REPEATS = false`: there is no request left to send.
            None => Once::Refused {
                response: Some(
                    problem(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "about:blank",
                        "The request could not be sent again.",
                        None,
                    )
                    .map(RB::from_bytes),
                ),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The one attempt, or the answer to an attempt that cannot be made.
    #[project = OnceProj]
    pub(crate) enum Once<F, R> {
        Call { #[pin] call: F },
        Refused { response: Option<R> },
    }
}

impl<F, R, E> Future for Once<F, R>
where
    F: Future<Output = Result<R, E>>,
{
    type Output = Result<R, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            OnceProj::Call { call } => call.poll(cx),
            OnceProj::Refused { response } => {
                Poll::Ready(Ok(response.take().expect("`Once` polled after completion")))
            }
        }
    }
}
