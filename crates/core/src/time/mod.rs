//! Time, in one place.
//!
//! Every steadfast crate reads the clock and sleeps through this module, and
//! this module goes through tokio's clock. So every time-based behaviour
//! (timeouts, open circuits, backoff, refill, expiry) runs on tokio's paused
//! clock in tests — `#[tokio::test(start_paused = true)]` with
//! `tokio::time::advance` — and no test sleeps in real time.
//!
//! Policies read the clock as rarely as they can: a [`Timeout`](crate::Timeout)
//! around an operation that is ready at once never reads it.

mod clock;

use std::time::Duration;

pub use clock::{Clock, TimeSource, nanos};
pub use tokio::time::{Instant, Sleep};

/// The current instant on tokio's clock (paused and advanced in tests).
#[inline]
pub fn now() -> Instant {
    Instant::now()
}

/// A future that completes after `duration` on tokio's clock.
#[inline]
pub fn sleep(duration: Duration) -> Sleep {
    tokio::time::sleep(duration)
}

/// A future that completes at `deadline` on tokio's clock.
#[inline]
pub fn sleep_until(deadline: Instant) -> Sleep {
    tokio::time::sleep_until(deadline)
}

/// Whole seconds in `d`, rounded up: what a header or a message that counts
/// in seconds says of a wait (a client told "0" of a 300 ms wait would come
/// back at once and be refused again).
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::time::ceil_secs;
///
/// assert_eq!(ceil_secs(Duration::from_millis(2_001)), 3);
/// assert_eq!(ceil_secs(Duration::from_secs(3)), 3);
/// assert_eq!(ceil_secs(Duration::ZERO), 0);
/// ```
#[inline]
pub fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// How far "never" is: a limit past the clock's range becomes this far from now.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// The instant `limit` from now; a limit too large for the clock (such as
/// `Duration::MAX`) gives an instant about 30 years away instead of panicking,
/// as tokio does for its own timeouts.
#[inline]
pub fn deadline_after(limit: Duration) -> Instant {
    let now = now();
    now.checked_add(limit).unwrap_or_else(|| now + FAR_FUTURE)
}
