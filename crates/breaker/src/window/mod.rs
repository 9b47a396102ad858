//! Windows over which failure and slow-call rates are measured.

mod count;
mod time;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use steadfast_core::time::Instant;

use crate::config::Window;
pub(crate) use count::CountRing;
pub(crate) use time::TimeRing;

/// One rate rule's window and threshold.
#[derive(Debug)]
pub(crate) struct Tracker {
    /// The threshold, as `f64` bits: read when a rate is judged, changed by
    /// a reconfiguration.
    rate: AtomicU64,
    min_calls: AtomicU64,
    ring: Ring,
}

#[derive(Debug)]
enum Ring {
    Count(CountRing),
    Time(TimeRing),
}

impl Tracker {
    pub(crate) fn new(rate: f64, window: &Window, origin: Instant, period: u64) -> Self {
        match window {
            Window::Count(w) => Tracker {
                rate: AtomicU64::new(rate.to_bits()),
                min_calls: AtomicU64::new(u64::from(w.min_calls)),
                ring: Ring::Count(CountRing::new(w.calls, period)),
            },
            Window::Time(w) => Tracker {
                rate: AtomicU64::new(rate.to_bits()),
                min_calls: AtomicU64::new(u64::from(w.min_throughput)),
                ring: Ring::Time(TimeRing::new(origin, w.bucket(), w.buckets)),
            },
        }
    }

    /// Sets the threshold and the minimum calls of `window`, whose shape
    /// (the checked caller guarantees) is this tracker's.
    pub(crate) fn retune(&self, rate: f64, window: &Window) {
        let min_calls = match window {
            Window::Count(w) => w.min_calls,
            Window::Time(w) => w.min_throughput,
        };
        self.rate.store(rate.to_bits(), Relaxed);
        self.min_calls.store(u64::from(min_calls), Relaxed);
    }

    pub(crate) fn is_timed(&self) -> bool {
        matches!(self.ring, Ring::Time(_))
    }

    pub(crate) fn reset(&self, period: u64) {
        if let Ring::Count(ring) = &self.ring {
            ring.reset(period);
        }
        // A time ring keys its buckets by generation: nothing to clear.
    }

    /// Records a call; `now` when the caller read the clock.
    #[inline]
    pub(crate) fn record(&self, period: u64, mark: bool, now: Option<Instant>) {
        match &self.ring {
            Ring::Count(ring) => {
                ring.record(period, mark);
            }
            Ring::Time(ring) => ring.record(period, mark, now),
        }
    }

    /// Records a success that did not read the clock; returns whether the
    /// window surely holds no mark (so no rate can fire).
    #[inline]
    pub(crate) fn record_success(&self, period: u64) -> bool {
        match &self.ring {
            Ring::Count(ring) => ring.record_success(period),
            Ring::Time(ring) => ring.record_success(period),
        }
    }

    /// Cheap pre-check: may the rate be anywhere near tripping?
    #[inline]
    pub(crate) fn maybe_marked(&self) -> bool {
        match &self.ring {
            Ring::Count(ring) => ring.has_marks(),
            Ring::Time(ring) => ring.maybe_marked(),
        }
    }

    /// (calls, marks) in the window; `now` for a time window, else its latest reading.
    pub(crate) fn stats(&self, period: u64, now: Option<Instant>) -> (u64, u64) {
        match &self.ring {
            Ring::Count(ring) => ring.stats(),
            Ring::Time(ring) => match now {
                Some(now) => {
                    let epoch = ring.observe(now);
                    ring.stats_at(period, epoch)
                }
                None => ring.stats_latest(period),
            },
        }
    }

    /// Whether the window's rate has reached the threshold.
    pub(crate) fn trips(&self, period: u64, now: Option<Instant>) -> bool {
        let (calls, marks) = self.stats(period, now);
        tripping(
            calls,
            marks,
            self.min_calls.load(Relaxed),
            f64::from_bits(self.rate.load(Relaxed)),
        )
    }
}

/// The rate rule: enough calls, and marks / calls ≥ rate.
#[allow(clippy::cast_precision_loss)]
pub(crate) fn tripping(calls: u64, marks: u64, min_calls: u64, rate: f64) -> bool {
    // The epsilon keeps 3 of 30 at 10 % from losing to rounding.
    calls >= min_calls && calls > 0 && marks as f64 / calls as f64 + 1e-9 >= rate
}

/// A rate as a share, `None` for an empty window.
#[allow(clippy::cast_precision_loss)]
pub(crate) fn share(calls: u64, marks: u64) -> Option<f64> {
    (calls > 0).then(|| marks as f64 / calls as f64)
}
