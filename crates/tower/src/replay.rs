//! The operation a [`PolicyService`](crate::PolicyService) runs: the inner
//! service called with the request, once per attempt.

use std::fmt;
use std::sync::Mutex;

use steadfast_core::{Attempt, Operation};
use tower_service::Service;

use crate::op::{ServiceCall, lock};

/// A request kept so every attempt gets its own copy.
pub(crate) trait Replayable: Clone + Send + 'static {
    /// What the service is called with.
    type Request;

    /// A fresh copy for one attempt.
    fn replay(&self) -> Self::Request;
}

/// A `Clone` request, replayed by cloning.
#[derive(Clone)]
pub(crate) struct Cloned<R>(pub(crate) R);

impl<R: Clone + Send + 'static> Replayable for Cloned<R> {
    type Request = R;

    #[inline]
    fn replay(&self) -> R {
        self.0.clone()
    }
}

/// The inner service and the request. The first attempt calls the service
/// `poll_ready` reported ready; later attempts (a retry, a hedge) call a
/// clone of it once the clone is ready, as tower's own retry does. So a call
/// that is not repeated clones the service only once, where tower's
/// convention needs it (the clone left in the caller's place).
pub(crate) struct Replay<S, R> {
    slot: Mutex<Slot<S, R>>,
}

struct Slot<S, R> {
    service: S,
    // Whether `service` is still ready for a call.
    ready: bool,
    request: R,
}

impl<S, R> Replay<S, R> {
    pub(crate) fn new(ready: S, request: R) -> Self {
        Replay {
            slot: Mutex::new(Slot {
                service: ready,
                ready: true,
                request,
            }),
        }
    }
}

// A copy for a background call: it starts from a clone, not ready yet.
impl<S: Clone, R: Clone> Clone for Replay<S, R> {
    fn clone(&self) -> Self {
        let slot = lock(&self.slot);
        Replay {
            slot: Mutex::new(Slot {
                service: slot.service.clone(),
                ready: false,
                request: slot.request.clone(),
            }),
        }
    }
}

impl<S, R> fmt::Debug for Replay<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replay").finish_non_exhaustive()
    }
}

impl<S, R> Operation<S::Response, S::Error> for Replay<S, R>
where
    S: Service<R::Request> + Clone + Send,
    S::Future: Send,
    R: Replayable,
    R::Request: Send,
{
    type Future = ServiceCall<S, R::Request>;

    #[inline]
    fn invoke(&self, _attempt: Attempt) -> Self::Future {
        let mut slot = lock(&self.slot);
        let request = slot.request.replay();
        if std::mem::replace(&mut slot.ready, false) {
            ServiceCall::called(&mut slot.service, request)
        } else {
            ServiceCall::ready_then_call(slot.service.clone(), request)
        }
    }
}
