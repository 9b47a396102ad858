//! Moving between states: always under the mutex, events emitted after it.

use std::sync::atomic::Ordering::{Relaxed, Release};
use std::time::Duration;

use steadfast_core::time::{self, Instant};

use super::{Core, Locked, Ticket, unit};
use crate::events::{Reason, Transition, trace};
use crate::state::{State, Word};

impl Core {
    /// Enters `to` from `from`, which the caller (holding the lock) has
    /// checked is current. Returns the event to emit once the lock is released.
    pub(super) fn enter(
        &self,
        l: &mut Locked,
        from: Word,
        to: State,
        reason: Reason,
        now: Instant,
    ) -> Transition {
        let next = from.next(to);
        let mut open_for = None;
        let mut timer = None;
        if let Some(stale) = l.timer.take() {
            stale.abort(); // its period is over
        }
        l.trials.iter_mut().for_each(|slot| *slot = None);
        l.trial_successes = 0;
        l.trial_failures = 0;
        match to {
            State::Open => {
                let jitter = if l.config.open_duration.jitter > 0.0 {
                    unit(&mut l.rng)
                } else {
                    0.0
                };
                let d = l.config.open_duration.duration(l.opens_since_close, jitter);
                l.opens_since_close = l.opens_since_close.saturating_add(1);
                let until = self
                    .nanos(now)
                    .saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
                self.open_until.store(until, Release);
                let refusal = if self.built.metrics_only {
                    Ticket::NONE
                } else {
                    Ticket::rejected(Some(until))
                };
                self.refusal.store(refusal.0, Release);
                self.opened.fetch_add(1, Relaxed);
                open_for = Some(d);
                timer = Core::timer_runtime().map(|runtime| (runtime, until));
            }
            State::Closed | State::Disabled => {
                l.opens_since_close = 0;
                for tracker in self.failure.iter().chain(self.slow.iter().map(|(_, t)| t)) {
                    tracker.reset(next.period());
                }
                self.consecutive
                    .store((next.period() & 0xFFFF_FFFF) << 32, Release);
            }
            State::HalfOpen | State::Isolated => {}
        }
        // Published last: a call that sees the new word sees the state it
        // guards. An armed word is published before its timer is spawned,
        // so the timer's disarming cannot come first.
        match timer {
            Some((runtime, until)) => {
                let armed = next.armed();
                self.word.store(armed.0, Release);
                l.timer = Some(self.arm(&runtime, armed, self.instant(until)));
            }
            None => self.word.store(next.0, Release),
        }
        Transition {
            name: self.name.clone(),
            from: from.state(),
            to,
            reason,
            open_for,
        }
    }

    /// Logs the events and calls the hook, outside the lock (a hook may
    /// take a snapshot).
    pub(super) fn emit(&self, events: impl IntoIterator<Item = Transition>) {
        for event in events {
            trace(&event);
            if let Some(hook) = &self.hook {
                hook(&event);
            }
        }
    }

    /// Opens the breaker if it is still in the closed period `seen`.
    #[cold]
    #[inline(never)]
    pub(super) fn trip(&self, seen: Word, reason: Reason) {
        let now = time::now();
        let event = {
            let mut l = self.locked.lock();
            if self.word() != seen {
                return; // another call tripped it, or the operator acted
            }
            self.enter(&mut l, seen, State::Open, reason, now)
        };
        self.emit([event]);
    }

    /// The time-driven transitions, applied when someone looks: an open
    /// breaker whose time is up goes half-open; trials past their deadline fail.
    pub(super) fn refresh(&self, l: &mut Locked, now: Instant, events: &mut Vec<Transition>) {
        let w = self.word();
        if w.state() == State::Open && self.nanos(now) >= self.open_until.load(Relaxed) {
            events.push(self.enter(l, w, State::HalfOpen, Reason::OpenElapsed, now));
        }
        let w = self.word();
        if w.state() != State::HalfOpen {
            return;
        }
        let deadline = l.config.half_open.trial_deadline;
        let mut expired = 0;
        for slot in &mut l.trials {
            if let Some((start, _)) = *slot
                && now.saturating_duration_since(start) >= deadline
            {
                *slot = None;
                expired += 1;
            }
        }
        if expired > 0 {
            l.trial_failures += expired;
            events.extend(self.decide(l, w, now, Reason::TrialTimedOut));
        }
    }

    /// After a trial outcome: close, re-open, or keep probing.
    pub(super) fn decide(
        &self,
        l: &mut Locked,
        w: Word,
        now: Instant,
        failed: Reason,
    ) -> Option<Transition> {
        let trials = l.config.half_open.trials;
        let needed = l.config.half_open.needed();
        if l.trial_successes >= needed {
            Some(self.enter(l, w, State::Closed, Reason::TrialsSucceeded, now))
        } else if l.trial_failures > trials - needed {
            Some(self.enter(l, w, State::Open, failed, now))
        } else {
            None
        }
    }

    /// An operator's move to `to` (isolate, disable, reset).
    pub(crate) fn force(&self, to: State, reason: Reason) {
        let now = time::now();
        let event = {
            let mut l = self.locked.lock();
            let w = self.word();
            self.enter(&mut l, w, to, reason, now)
        };
        self.emit([event]);
    }

    /// Time left until the current open ends (zero once it has).
    pub(crate) fn open_left(&self, now: Instant) -> Duration {
        Duration::from_nanos(
            self.open_until
                .load(Relaxed)
                .saturating_sub(self.nanos(now)),
        )
    }
}

impl Core {
    /// Applies the time-driven transitions that are due; returns the trials
    /// running afterwards.
    pub(crate) fn apply_due(&self, now: Instant) -> u32 {
        let mut events = Vec::new();
        let running = {
            let mut l = self.locked.lock();
            self.refresh(&mut l, now, &mut events);
            l.trials.iter().filter(|s| s.is_some()).count()
        };
        self.emit(events);
        u32::try_from(running).unwrap_or(u32::MAX)
    }
}
