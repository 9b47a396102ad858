//! The low-level API: acquire a permit, run the call however it runs, record.

use std::sync::Arc;
use std::time::Duration;

use steadfast_core::Outcome;
use steadfast_core::time;

use crate::core::{Core, Ticket, Timing};

/// Leave to make one call, from [`Breaker::try_acquire`](crate::Breaker::try_acquire).
///
/// For calls that are not one future: a stream, a callback API, a call
/// spread over several tasks. Record the outcome with
/// [`record`](Permit::record) (or [`success`](Permit::success) /
/// [`failure`](Permit::failure)) and how long the call took. A permit dropped
/// without a record counts as ignored: it changes no count and gives back
/// its half-open trial slot.
///
/// ```
/// use std::time::Duration;
/// use steadfast_breaker::Breaker;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let breaker = Breaker::builder().consecutive_failures(2).build().unwrap();
/// for _ in 0..2 {
///     let permit = breaker.try_acquire().expect("closed");
///     // ... start the stream, wait for its callback ...
///     permit.failure(Duration::from_millis(40));
/// }
/// let refused = breaker.try_acquire().unwrap_err();
/// assert_eq!(refused.policy_name(), "breaker");
/// assert!(refused.retry_after().is_some());
/// # }
/// ```
#[derive(Debug)]
#[must_use = "a permit records nothing unless its outcome is recorded"]
pub struct Permit<'a> {
    core: &'a Core,
    ticket: Ticket,
}

/// A [`Permit`] that owns a handle on the breaker, so it may outlive the
/// borrow (move it into a callback or another task). From
/// [`Breaker::try_acquire_owned`](crate::Breaker::try_acquire_owned).
#[derive(Debug)]
#[must_use = "a permit records nothing unless its outcome is recorded"]
pub struct OwnedPermit {
    core: Arc<Core>,
    ticket: Ticket,
}

fn record(core: &Core, ticket: &mut Ticket, outcome: Outcome, elapsed: Duration) {
    let ticket = std::mem::replace(ticket, Ticket::NONE);
    let now = core.wants_clock.then(time::now);
    core.record(
        ticket,
        outcome,
        Timing {
            now,
            elapsed: Some(elapsed),
        },
    );
}

macro_rules! permit_api {
    ($ty:ty) => {
        impl $ty {
            /// Records the call's outcome and how long it took.
            pub fn record(mut self, outcome: Outcome, elapsed: Duration) {
                record(&self.core, &mut self.ticket, outcome, elapsed);
            }

            /// Records a success that took `elapsed`.
            pub fn success(self, elapsed: Duration) {
                self.record(Outcome::Success, elapsed);
            }

            /// Records a failure that took `elapsed`.
            pub fn failure(self, elapsed: Duration) {
                self.record(Outcome::Failure, elapsed);
            }

            /// Whether this permit is one of the half-open trial calls.
            pub fn is_trial(&self) -> bool {
                self.ticket.is_trial()
            }
        }

        impl Drop for $ty {
            fn drop(&mut self) {
                // Not recorded: ignored, and any trial slot goes back.
                self.core.release(self.ticket);
            }
        }
    };
}

permit_api!(Permit<'_>);
permit_api!(OwnedPermit);

impl<'a> Permit<'a> {
    pub(crate) fn new(core: &'a Core, ticket: Ticket) -> Self {
        Permit { core, ticket }
    }
}

impl OwnedPermit {
    pub(crate) fn new(core: Arc<Core>, ticket: Ticket) -> Self {
        OwnedPermit { core, ticket }
    }
}
