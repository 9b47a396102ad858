//! Admission: is this call let through, and as what?

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use steadfast_core::CircuitOpen;
use steadfast_core::time::{self, Instant};

use super::{Core, Kind, Ticket};
use crate::state::{State, Word};

impl Core {
    /// Admits a call or refuses it. The closed path is one atomic load.
    #[inline]
    pub(crate) fn admit(&self) -> Ticket {
        let w = self.word();
        if w.is_closed() {
            return Ticket::counted(w.period());
        }
        if w.is_armed() {
            // Open, and its timer has not fired: the open period is surely
            // not over, so the refusal reads no clock. Its ticket was packed
            // when the period began (published before the state word).
            self.rejected.add(1);
            return Ticket(self.refusal.load(Relaxed));
        }
        self.admit_slow(w)
    }

    /// [`admit`](Core::admit), a refusal as an error.
    pub(crate) fn acquire(&self) -> Result<Ticket, CircuitOpen> {
        let ticket = self.admit();
        match ticket.kind() {
            Kind::Rejected(retry_after) => Err(self.rejection(retry_after)),
            _ => Ok(ticket),
        }
    }

    /// The error for a refused call whose next probe is at `probe_at`
    /// (nanoseconds after the origin), when known: `retry_after()` is
    /// computed from it when asked, so refusing reads no clock.
    #[inline]
    pub(crate) fn rejection(&self, probe_at: Option<u64>) -> CircuitOpen {
        match probe_at {
            Some(at) => CircuitOpen::after_origin(self.name.clone(), self.probe_origin, at),
            None => CircuitOpen::new(self.name.clone(), None),
        }
    }

    #[inline(never)]
    fn admit_slow(&self, w: Word) -> Ticket {
        match w.state() {
            State::Closed | State::Disabled => Ticket::counted(w.period()),
            State::Isolated => self.reject(None),
            State::Open => {
                let now = time::now();
                if self.open_left(now) > Duration::ZERO {
                    return self.reject(Some(self.open_until.load(Relaxed)));
                }
                self.admit_locked(now)
            }
            State::HalfOpen => self.admit_locked(time::now()),
        }
    }

    /// Counts a refusal; in metrics-only mode the call goes through uncounted.
    #[inline]
    fn reject(&self, probe_at: Option<u64>) -> Ticket {
        self.rejected.add(1);
        if self.built.metrics_only {
            return Ticket::NONE;
        }
        Ticket::rejected(probe_at)
    }

    /// Admission when the breaker is (or may just have become) half-open.
    #[cold]
    fn admit_locked(&self, now: Instant) -> Ticket {
        let mut events = Vec::new();
        let decision = {
            let mut l = self.locked.lock();
            self.refresh(&mut l, now, &mut events);
            let w = self.word();
            match w.state() {
                State::Closed | State::Disabled => Ok(Ticket::counted(w.period())),
                State::Isolated => Err(None),
                State::Open => Err(Some(self.open_until.load(Relaxed))),
                State::HalfOpen => {
                    let running = l.trials.iter().filter(|s| s.is_some()).count();
                    let used =
                        running as u64 + u64::from(l.trial_successes) + u64::from(l.trial_failures);
                    let free = l.trials.iter().position(Option::is_none);
                    match free {
                        Some(slot) if used < u64::from(l.config.half_open.trials) => {
                            let id = l.next_trial_id;
                            l.next_trial_id += 1;
                            l.trials[slot] = Some((now, id));
                            Ok(Ticket::trial(id, slot))
                        }
                        _ => Err(None),
                    }
                }
            }
        };
        self.emit(events);
        decision.unwrap_or_else(|retry_after| self.reject(retry_after))
    }
}
