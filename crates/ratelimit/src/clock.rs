//! The limiter's clock: core's [`Clock`], and when a decision may use its
//! cached reading.
//!
//! The cached reading (about 1–2 ns, refreshed every millisecond by one
//! background thread) is used only by GCRA quotas that refill no faster than
//! one unit per [`CACHED_MIN_INTERVAL`] (4 ms: up to 250 units per second per
//! key). For those the cached time's lag (1 ms plus the thread's wake-up
//! delay, normally far below 4 ms) is shorter than one refill interval, so no
//! window of a period admits more than limit plus burst: a decision is at
//! most as late as the lag (a call may be refused up to about a millisecond
//! before its unit is due, and its `retry_after` is as much longer). Should
//! the thread be starved of CPU for longer than a refill interval, a window
//! may admit up to `lag / interval` extra units. Faster quotas and the window
//! algorithms (a window boundary must not move) read the precise clock.
//! See [`steadfast_core::time::Clock`] for the three speeds.

use std::time::Duration;

pub(crate) use steadfast_core::time::{Clock, nanos};

/// GCRA quotas refilling one unit at least this far apart may read the
/// cached clock (see [`TimeSource`]).
pub const CACHED_MIN_INTERVAL: Duration = Duration::from_millis(4);

#[allow(clippy::cast_possible_truncation)]
const CACHED_MIN_INTERVAL_NANOS: u64 = CACHED_MIN_INTERVAL.as_nanos() as u64;

/// Where a limiter reads the time; see the [crate docs](crate#clock).
pub use steadfast_core::time::TimeSource;

/// The time for a GCRA decision whose quota refills one unit every
/// `interval` ns: the cached reading when that is exact enough (see the
/// module docs), else the precise one.
// Part of every check: measured faster forced inline (see Engine::begin).
#[allow(clippy::inline_always)]
#[inline(always)]
pub(crate) fn now_for_interval(clock: &Clock, interval: u64) -> u64 {
    if interval >= CACHED_MIN_INTERVAL_NANOS {
        clock.now_cached()
    } else {
        clock.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_quotas_read_the_cached_clock_and_fast_ones_the_precise_one() {
        let clock = Clock::new(TimeSource::Auto);
        // This test is about a clock reading real time, so it sleeps for real.
        std::thread::sleep(Duration::from_millis(20));
        let slow = CACHED_MIN_INTERVAL_NANOS;
        let (cached, precise) = (now_for_interval(&clock, slow), clock.now());
        assert!(cached <= precise, "the cached reading never runs ahead");
        let fast = now_for_interval(&clock, slow - 1);
        assert!(fast >= precise);
    }
}
