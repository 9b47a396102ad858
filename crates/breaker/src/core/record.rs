//! Recording outcomes: the closed path lock-free, trials under the mutex.

use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};

use steadfast_core::Outcome;
use steadfast_core::time::{self, Instant};

use super::{Core, Kind, Ticket, Timing};
use crate::events::Reason;
use crate::state::{State, Word};

/// The consecutive-failure word of `period` with a count of zero.
#[inline]
const fn run_tag(period: u64) -> u64 {
    (period & 0xFFFF_FFFF) << 32
}

impl Core {
    /// Records the outcome of an admitted call. Inlined into each call's
    /// future, so the closed path runs without a function call; the rare
    /// paths (tripping, trials) are out of line.
    #[allow(clippy::inline_always)] // measured: the closed path must not pay a call
    #[inline(always)]
    pub(crate) fn record(&self, ticket: Ticket, outcome: Outcome, timing: Timing) {
        if let Some(period) = ticket.period() {
            self.record_counted(period, outcome, timing);
        } else if let Kind::Trial { id, slot } = ticket.kind() {
            self.record_trial(id, slot, outcome, timing);
        }
    }

    /// Records a success that completed in its first poll (so took no
    /// time): the closed path, inlined into each call's future. A healthy
    /// breaker pays one load of the state word, one of the consecutive-failure
    /// word, and per window two loads (count) or one `fetch_add` (time).
    #[allow(clippy::inline_always)] // measured: the closed path must not pay a call
    #[inline(always)]
    pub(crate) fn record_success(&self, ticket: Ticket) {
        let Some(period) = ticket.period() else {
            return self.record_finished(ticket, Outcome::Success, None);
        };
        let w = self.word();
        if w.period() != period {
            return; // the period this call was admitted in is over
        }
        // Without a consecutive rule the word never counts, so it always
        // equals the tag and this is one load either way.
        let run = self.consecutive.load(Acquire);
        if run != run_tag(period) {
            self.clear_run(run, period);
        }
        // The slow-call window first: it is usually a count window, whose
        // loads then run ahead of a time window's `fetch_add` (a full
        // barrier on x86) instead of waiting behind it.
        let mut clean = true;
        if let Some((_, tracker)) = &self.slow {
            clean &= tracker.record_success(period);
        }
        for tracker in &*self.failure {
            clean &= tracker.record_success(period);
        }
        if !clean {
            self.check_rates(w, period);
        }
    }

    /// Records an outcome of a call that waited (started at `started`, on
    /// its first `Pending`) or did not succeed: reads the clock if it waited.
    #[inline(never)]
    pub(crate) fn record_finished(
        &self,
        ticket: Ticket,
        outcome: Outcome,
        started: Option<Instant>,
    ) {
        let timing = match started {
            Some(started) => {
                let now = time::now();
                Timing {
                    now: Some(now),
                    elapsed: Some(now.saturating_duration_since(started)),
                }
            }
            None => Timing::default(),
        };
        self.record(ticket, outcome, timing);
    }

    /// Clears a run of consecutive failures of `period`, unless the run
    /// word has moved on to another period.
    #[cold]
    #[inline(never)]
    fn clear_run(&self, current: u64, period: u64) {
        let tag = run_tag(period);
        if current & !0xFFFF_FFFF == tag {
            let _ = self
                .consecutive
                .compare_exchange(current, tag, AcqRel, Acquire);
        }
    }

    /// A rate rule may fire after a success: checks, and trips if one does.
    #[cold]
    #[inline(never)]
    fn check_rates(&self, w: Word, period: u64) {
        if !self.any_marked() {
            return;
        }
        if let Some(reason) = self.rate_reason(period, None)
            && w.state() == State::Closed
        {
            self.trip(w, reason);
        }
    }

    /// A call given up without an outcome: frees a trial slot, counts nothing.
    pub(crate) fn release(&self, ticket: Ticket) {
        if let Kind::Trial { id, slot } = ticket.kind() {
            let mut l = self.locked.lock();
            // Trial ids are never reused, so a slot holding this id is this trial's.
            if l.trials[slot].is_some_and(|(_, held)| held == id) {
                l.trials[slot] = None;
            }
        }
    }

    #[inline]
    fn is_slow(&self, timing: Timing) -> bool {
        // A call that completed in its first poll has no duration: it was
        // not slow, and the breaker's config is not even read.
        let Some(elapsed) = timing.elapsed else {
            return false;
        };
        self.slow
            .as_ref()
            .is_some_and(|(limit, _)| elapsed > *limit)
    }

    #[allow(clippy::inline_always)] // measured: the closed path must not pay a call
    #[inline(always)]
    fn record_counted(&self, period: u64, outcome: Outcome, timing: Timing) {
        if outcome == Outcome::Ignore {
            return;
        }
        let w = self.word();
        if w.period() != period {
            return; // the period this call was admitted in is over
        }
        let failed = outcome == Outcome::Failure;
        let slow = self.is_slow(timing);
        let mut reason = None;
        let limit = self.consecutive_limit.load(Relaxed);
        if limit > 0 && self.count_consecutive(period, failed) >= limit {
            reason = Some(Reason::ConsecutiveFailures);
        }
        // A failure is the rare path: it reads the clock, so time windows
        // place it exactly even when it failed in its first poll.
        let now = match timing.now {
            None if failed && self.timed => Some(time::now()),
            now => now,
        };
        for tracker in &*self.failure {
            tracker.record(period, failed, now);
        }
        if let Some((_, tracker)) = &self.slow {
            tracker.record(period, slow, now);
        }
        if reason.is_none() && (failed || slow || self.any_marked()) {
            reason = self.rate_reason(period, now);
        }
        if let Some(reason) = reason
            && w.state() == State::Closed
        {
            self.trip(w, reason);
        }
    }

    /// Updates the consecutive-failure count; returns it.
    #[allow(clippy::inline_always)] // measured: the closed path must not pay a call
    #[inline(always)]
    fn count_consecutive(&self, period: u64, failed: bool) -> u32 {
        let tag = (period & 0xFFFF_FFFF) << 32;
        let current = self.consecutive.load(Acquire);
        if current & !0xFFFF_FFFF != tag {
            return 0; // reset for another period already
        }
        if !failed {
            if current != tag {
                // Only writes when there is a count to clear: the steady
                // state is one load, and no cache line bounces.
                let _ = self
                    .consecutive
                    .compare_exchange(current, tag, AcqRel, Acquire);
            }
            return 0;
        }
        let updated = self.consecutive.fetch_update(AcqRel, Acquire, |c| {
            (c & !0xFFFF_FFFF == tag).then(|| tag | ((c & 0xFFFF_FFFF) + 1).min(0xFFFF_FFFF))
        });
        #[allow(clippy::cast_possible_truncation)]
        updated.map_or(0, |before| (before & 0xFFFF_FFFF) as u32 + 1)
    }

    #[inline]
    fn any_marked(&self) -> bool {
        self.failure
            .iter()
            .any(crate::window::Tracker::maybe_marked)
            || self.slow.as_ref().is_some_and(|(_, t)| t.maybe_marked())
    }

    /// Which rate rule, if any, fires now.
    #[cold]
    #[inline(never)]
    fn rate_reason(&self, period: u64, now: Option<Instant>) -> Option<Reason> {
        for (i, tracker) in self.failure.iter().enumerate() {
            if tracker.trips(period, now) {
                return Some(Reason::FailureRate(i));
            }
        }
        match &self.slow {
            Some((_, tracker)) if tracker.trips(period, now) => Some(Reason::SlowCallRate),
            _ => None,
        }
    }

    #[cold]
    #[inline(never)]
    fn record_trial(&self, id: u64, slot: usize, outcome: Outcome, timing: Timing) {
        let failed =
            outcome == Outcome::Failure || (outcome == Outcome::Success && self.is_slow(timing));
        let now = timing.now.unwrap_or_else(time::now);
        let event = {
            let mut l = self.locked.lock();
            let w = self.word();
            if l.trials[slot].is_none_or(|(_, held)| held != id) {
                return; // timed out, or the round is over
            }
            l.trials[slot] = None;
            match outcome {
                Outcome::Ignore => return,
                _ if failed => l.trial_failures += 1,
                _ => l.trial_successes += 1,
            }
            self.decide(&mut l, w, now, Reason::TrialFailed)
        };
        self.emit(event);
    }
}
