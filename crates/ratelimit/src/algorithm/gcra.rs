//! GCRA: the state is the theoretical arrival time (TAT) of the next unit.
//!
//! With refill interval `T` and burst `B`, a call of `n` units at `now` is
//! admitted when `max(TAT, now) + n·T <= now + B·T`, and then
//! `TAT = max(TAT, now) + n·T`. A TAT at or before `now` is a full bucket,
//! so the zero state is full from the start. Everything saturates instead of
//! overflowing.

use super::{Decision, NEVER, Params, Peek};

#[inline]
pub(super) fn decide(p: Params, tat: u64, now: u64, cost: u64) -> Decision {
    let new_tat = tat.max(now).saturating_add(p.a.saturating_mul(cost));
    let limit = now.saturating_add(p.a.saturating_mul(p.b));
    if new_tat <= limit {
        Decision::Admit(new_tat)
    } else if cost > p.b {
        Decision::Deny(NEVER)
    } else {
        Decision::Deny(new_tat - limit)
    }
}

pub(super) fn peek(p: Params, tat: u64, now: u64) -> Peek {
    let used = tat.saturating_sub(now);
    let capacity = p.a.saturating_mul(p.b);
    Peek {
        remaining: capacity.saturating_sub(used) / p.a.max(1),
        reset_after: used,
        retry_after: used.saturating_add(p.a).saturating_sub(capacity),
    }
}

/// The outcome of asking for units in wait mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reservation {
    /// Reserved: write `tat`; the call may go at `at` (`<= now`: at once).
    Granted { tat: u64, at: u64 },
    /// Not reserved: the wait would be this many ns, over the maximum
    /// ([`NEVER`] when the cost can never fit).
    Refused(u64),
}

/// Reserves `cost` units for the earliest instant they fit, if that is at
/// most `max_wait` away. Reservations move the TAT forward in arrival order,
/// so waiters are admitted in the order they arrived.
pub(crate) fn reserve(p: Params, tat: u64, now: u64, cost: u64, max_wait: u64) -> Reservation {
    if cost > p.b {
        return Reservation::Refused(NEVER);
    }
    let new_tat = tat.max(now).saturating_add(p.a.saturating_mul(cost));
    let at = new_tat.saturating_sub(p.a.saturating_mul(p.b));
    let wait = at.saturating_sub(now);
    if wait > max_wait {
        Reservation::Refused(wait)
    } else {
        Reservation::Granted { tat: new_tat, at }
    }
}

/// Hands back a reservation of `cost` units that was never used.
pub(crate) fn give_back(p: Params, tat: u64, cost: u64) -> u64 {
    tat.saturating_sub(p.a.saturating_mul(cost))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 100; // 10 per 1000 ns
    const P: Params = Params { a: T, b: 3 };

    #[test]
    fn a_full_bucket_admits_the_burst_then_paces() {
        let mut tat = 0;
        for _ in 0..3 {
            match decide(P, tat, 1_000, 1) {
                Decision::Admit(t) => tat = t,
                Decision::Deny(_) => panic!("the burst is admitted"),
            }
        }
        assert_eq!(tat, 1_300);
        assert_eq!(decide(P, tat, 1_000, 1), Decision::Deny(100));
        assert_eq!(decide(P, tat, 1_100, 1), Decision::Admit(1_400));
        assert_eq!(decide(P, tat, 1_000, 4), Decision::Deny(NEVER));
    }

    #[test]
    fn peek_counts_units_and_resets() {
        let p = peek(P, 1_150, 1_000);
        assert_eq!(
            p,
            Peek {
                remaining: 1,
                reset_after: 150,
                retry_after: 0
            }
        );
        let p = peek(P, 1_300, 1_000);
        assert_eq!(
            p,
            Peek {
                remaining: 0,
                reset_after: 300,
                retry_after: 100
            }
        );
        assert_eq!(
            peek(P, 0, 1_000),
            Peek {
                remaining: 3,
                reset_after: 0,
                retry_after: 0
            }
        );
    }

    #[test]
    fn reservations_queue_and_give_back() {
        assert_eq!(
            reserve(P, 1_300, 1_000, 1, 1_000),
            Reservation::Granted {
                tat: 1_400,
                at: 1_100
            }
        );
        assert_eq!(reserve(P, 1_300, 1_000, 1, 50), Reservation::Refused(100));
        assert_eq!(
            reserve(P, 0, 1_000, 2, 0),
            Reservation::Granted {
                tat: 1_200,
                at: 900
            }
        );
        assert_eq!(
            reserve(P, 0, 1_000, 4, u64::MAX),
            Reservation::Refused(NEVER)
        );
        assert_eq!(give_back(P, 1_400, 1), 1_300);
    }
}
