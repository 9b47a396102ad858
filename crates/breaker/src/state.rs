//! The breaker's states and the one word that holds the current one.

use std::fmt;

/// The state of a breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum State {
    /// Calls go through and are counted; a trip rule may open the breaker.
    Closed,
    /// Calls are refused until the open duration has passed.
    Open,
    /// A few trial calls go through; their outcome closes or re-opens the breaker.
    HalfOpen,
    /// Held open by the operator ([`Breaker::isolate`](crate::Breaker::isolate))
    /// until [`reset`](crate::Breaker::reset).
    Isolated,
    /// Every call goes through and is counted, and nothing trips
    /// ([`Breaker::disable`](crate::Breaker::disable)) until
    /// [`reset`](crate::Breaker::reset).
    Disabled,
}

impl State {
    pub(crate) const fn code(self) -> u64 {
        match self {
            State::Closed => 0,
            State::Open => 1,
            State::HalfOpen => 2,
            State::Isolated => 3,
            State::Disabled => 4,
        }
    }

    pub(crate) const fn from_code(code: u64) -> State {
        match code {
            0 => State::Closed,
            2 => State::HalfOpen,
            3 => State::Isolated,
            4 => State::Disabled,
            _ => State::Open, // 1, or `ARMED` (5): open, its timer armed
        }
    }

    /// The state's name in events and logs: `"closed"`, `"half_open"`, …
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
            State::Isolated => "isolated",
            State::Disabled => "disabled",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state code of an open breaker whose timer is armed: until the timer
/// fires, the open period is surely not over, so a refusal needs no clock.
const ARMED: u64 = 5;

/// The state word: `generation:61 | state:3`.
///
/// Every transition bumps the generation, so a call admitted in one period
/// (a closed spell, a half-open round) can tell, when it records, whether
/// that period is over; the hot path reads this one word to admit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u64);

impl Word {
    pub(crate) const fn new(state: State, period: u64) -> Word {
        Word(period << 3 | state.code())
    }

    #[inline]
    pub(crate) const fn state(self) -> State {
        State::from_code(self.0 & 0b111)
    }

    #[inline]
    pub(crate) const fn is_closed(self) -> bool {
        self.0.trailing_zeros() >= 3
    }

    #[inline]
    pub(crate) const fn period(self) -> u64 {
        self.0 >> 3
    }

    /// The same open period, with its timer armed.
    pub(crate) const fn armed(self) -> Word {
        Word(self.0 & !0b111 | ARMED)
    }

    /// Whether the breaker is open with its timer armed.
    #[inline]
    pub(crate) const fn is_armed(self) -> bool {
        self.0 & 0b111 == ARMED
    }

    /// The same period, with the timer's mark taken off (open, untimed).
    pub(crate) const fn disarmed(self) -> Word {
        Word::new(State::Open, self.period())
    }

    /// The next period, in `state`.
    pub(crate) const fn next(self, state: State) -> Word {
        Word::new(state, self.period().wrapping_add(1) & (u64::MAX >> 3))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_round_trips() {
        for state in [
            State::Closed,
            State::Open,
            State::HalfOpen,
            State::Isolated,
            State::Disabled,
        ] {
            let w = Word::new(state, 41).next(state);
            assert_eq!((w.state(), w.period()), (state, 42));
            assert_eq!(w.is_closed(), state == State::Closed);
            assert!(!w.is_armed());
        }
        let open = Word::new(State::Open, 9);
        let armed = open.armed();
        assert!(armed.is_armed() && !armed.is_closed());
        assert_eq!((armed.state(), armed.period()), (State::Open, 9));
        assert_eq!(armed.disarmed(), open);
    }
}
