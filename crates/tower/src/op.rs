//! A tower [`Service`] as a steadfast operation: the client direction.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use steadfast_core::{Attempt, Operation};
use tower_service::Service;

/// A tower service and a request factory as one [`Operation`]: every
/// attempt clones the service, waits until it is ready, and calls it with a
/// fresh request. See [`service_op`].
pub struct ServiceOp<S, F> {
    // A mutex, so the operation is `Sync` (policies share it across
    // attempts) for any `Send` service, `Sync` or not.
    service: Mutex<S>,
    request: F,
}

/// Guards a tower client (a tonic client, a hyper client, any `Service`)
/// with a steadfast policy in one line: `policy.call(service_op(client, ||
/// request))`.
///
/// ```
/// use std::convert::Infallible;
/// use std::time::Duration;
/// use steadfast_core::{Policy, Timeout};
/// use steadfast_tower::service_op;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = tower::service_fn(|n: u32| async move { Ok::<_, Infallible>(n * 2) });
/// let timeout = Timeout::new(Duration::from_secs(1))?;
/// let answer = timeout.call(service_op(client, || 21)).await?;
/// assert_eq!(answer, 42);
/// # Ok(())
/// # }
/// ```
pub fn service_op<S, F, Req>(service: S, request: F) -> ServiceOp<S, F>
where
    S: Service<Req> + Clone + Send,
    F: Fn() -> Req + Send + Sync,
{
    ServiceOp {
        service: Mutex::new(service),
        request,
    }
}

impl<S: Clone, F: Clone> Clone for ServiceOp<S, F> {
    fn clone(&self) -> Self {
        ServiceOp {
            service: Mutex::new(lock(&self.service).clone()),
            request: self.request.clone(),
        }
    }
}

impl<S, F> fmt::Debug for ServiceOp<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceOp").finish_non_exhaustive()
    }
}

impl<S, F, Req> Operation<S::Response, S::Error> for ServiceOp<S, F>
where
    S: Service<Req> + Clone + Send,
    S::Future: Send,
    F: Fn() -> Req + Send + Sync,
    Req: Send,
{
    type Future = ServiceCall<S, Req>;

    fn invoke(&self, _attempt: Attempt) -> Self::Future {
        let service = lock(&self.service).clone();
        ServiceCall::ready_then_call(service, (self.request)())
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere leaves the service as it was: keep using it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pin_project_lite::pin_project! {
    /// One attempt of a service call: waits for the service to be ready
    /// (unless it already is), then calls it.
    pub struct ServiceCall<S, Req>
    where
        S: Service<Req>,
    {
        service: Option<S>,
        request: Option<Req>,
        #[pin]
        call: Option<S::Future>,
    }
}

impl<S: Service<Req>, Req> ServiceCall<S, Req> {
    /// Polls `service` ready first, then calls it.
    pub(crate) fn ready_then_call(service: S, request: Req) -> Self {
        ServiceCall {
            service: Some(service),
            request: Some(request),
            call: None,
        }
    }

    /// Calls a service that reported ready.
    pub(crate) fn called(service: &mut S, request: Req) -> Self {
        ServiceCall {
            service: None,
            request: None,
            call: Some(service.call(request)),
        }
    }
}

impl<S: Service<Req>, Req> fmt::Debug for ServiceCall<S, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceCall")
            .field("called", &self.call.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: Service<Req>, Req> Future for ServiceCall<S, Req> {
    type Output = Result<S::Response, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(service) = this.service.as_mut() {
            ready!(service.poll_ready(cx))?;
            let mut service = this.service.take().expect("checked above");
            let request = this.request.take().expect("taken with the service");
            this.call.set(Some(service.call(request)));
        }
        match this.call.as_pin_mut() {
            Some(call) => call.poll(cx),
            None => panic!("`ServiceCall` polled after completion"),
        }
    }
}
