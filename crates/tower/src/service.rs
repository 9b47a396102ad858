//! [`PolicyService`]: a tower service whose calls run under a policy.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use steadfast_core::owned::call_owned_in_place;
use steadfast_core::{Error, Policy};
use tower_service::Service;

use crate::extract::{ContextFrom, NoContext};
use crate::replay::{Cloned, Replay};

/// The future of a [`PolicyService`] call: boxed, because the policy's
/// future has a type Rust cannot name yet; the box is the call's one
/// allocation.
pub type ResponseFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, Error<E>>> + Send>>;

/// A tower service whose every call runs under a steadfast policy; made by
/// [`PolicyLayer`](crate::PolicyLayer).
///
/// - **Errors**: the policy's [`Error`]: the inner service's error as
///   [`Error::Inner`], or a rejection (an open circuit, a spent limit).
/// - **Replay**: requests are `Clone`, so a retry or a hedge sends each
///   attempt its own copy. A request that is not `Clone` does not compile;
///   for `http::Request` with a streaming body, the HTTP layer buffers the
///   body first (`HttpPolicyLayer`, feature `http`).
/// - **Backpressure**: [`poll_ready`](Service::poll_ready) asks the inner
///   service only. The policy decides in [`call`](Service::call): a full
///   bulkhead or a spent limiter refuses the call at once with its
///   rejection instead of holding callers in `poll_ready`, which is what a
///   load shedder should do; tower's `ConcurrencyLimitLayer` outside it
///   queues instead.
/// - **Clones share state**: the policy is a handle to shared state, so
///   every clone of the service (axum makes one per request) counts
///   against the same breaker, limiter and bulkhead. The service is `Clone`,
///   `Send` and `Sync` when the inner service is.
/// - **Cancellation**: dropping the call's future drops the policy's
///   future, which hands back what it held (a bulkhead permit, a half-open
///   trial slot).
pub struct PolicyService<P, S, X = NoContext> {
    // Behind one `Arc`, so a call clones one pointer, not each policy of a
    // pipeline (five reference counts for five policies).
    policy: Arc<P>,
    inner: S,
    context: X,
}

impl<P, S> PolicyService<P, S> {
    /// Runs `inner`'s calls under `policy`, with no key.
    pub fn from_parts(policy: P, inner: S) -> Self {
        PolicyService::new(Arc::new(policy), inner, NoContext)
    }
}

impl<P, S, X> PolicyService<P, S, X> {
    pub(crate) fn new(policy: Arc<P>, inner: S, context: X) -> Self {
        PolicyService {
            policy,
            inner,
            context,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &P {
        &self.policy
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, consuming this one.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<P, S: Clone, X: Clone> Clone for PolicyService<P, S, X> {
    fn clone(&self) -> Self {
        PolicyService {
            policy: Arc::clone(&self.policy),
            inner: self.inner.clone(),
            context: self.context.clone(),
        }
    }
}

impl<P: fmt::Debug, S: fmt::Debug, X> fmt::Debug for PolicyService<P, S, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyService")
            .field("policy", &self.policy)
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<P, S, X, Req> Service<Req> for PolicyService<P, S, X>
where
    P: Policy<S::Response, S::Error> + 'static,
    S: Service<Req> + Clone + Send + 'static,
    S::Future: Send,
    S::Response: Send + 'static,
    S::Error: Send + 'static,
    X: ContextFrom<Req>,
    Req: Clone + Send + 'static,
{
    type Response = S::Response;
    type Error = Error<S::Error>;
    type Future = ResponseFuture<S::Response, S::Error>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Error::Inner)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        let ctx = self.context.context(&request);
        // The ready service goes to the first attempt and a clone takes its
        // place, as tower's middleware does.
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        let op = Replay::new(ready, Cloned(request));
        Box::pin(call_owned_in_place(Arc::clone(&self.policy), ctx, op))
    }
}
