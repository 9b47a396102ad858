//! The engine behind a [`Breaker`](crate::Breaker): admission, recording,
//! transitions. Not generic over the classifier, so it is compiled once.
//!
//! # Concurrency
//!
//! The closed path is lock-free: admission is one load of the state word;
//! recording a success is a load of the consecutive-failure word and, per
//! window, two loads (a count window without failures), one
//! compare-and-swap (a count window with some) or one `fetch_add` (a time
//! window). Everything else (opening, half-open trials, manual states) takes
//! one mutex, off the hot path. A refusal while the open period's timer is
//! armed is one load of the state word and one `fetch_add` on the refusal
//! counter (see [`timer`]).

mod admit;
mod record;
mod retune;
mod timer;
mod transition;

use std::sync::Weak;
use std::time::Duration;

use steadfast_core::tally::Tally;
use steadfast_core::time::{self, Instant};
use steadfast_core::{Name, ProbeOrigin};

use crate::config::BreakerConfig;
use crate::events::Hook;
use crate::state::{State, Word};
// std's atomics and parking_lot's mutex, or loom's in the loom models.
use crate::sync::{AtomicBool, AtomicU32, AtomicU64, Mutex, Ordering::Relaxed};
use crate::window::Tracker;

/// What a call was told at admission, in one word: `payload:62 | kind:2`.
///
/// One word, because it lives in every call's future and is moved with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ticket(u64);

/// A [`Ticket`], unpacked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Nothing to record: not counted (metrics-only mode), or already recorded.
    None,
    /// A call of the closed (or disabled) period `period`, counted in the windows.
    Counted(u64),
    /// A half-open trial holding slot `slot` as trial `id`.
    Trial { id: u64, slot: usize },
    /// Refused; the next probe at this many nanoseconds after the
    /// breaker's origin, when known.
    Rejected(Option<u64>),
}

const PAYLOAD: u64 = u64::MAX >> 2;

impl Ticket {
    pub(crate) const NONE: Ticket = Ticket(0);

    #[inline]
    pub(crate) const fn counted(period: u64) -> Ticket {
        Ticket((period & PAYLOAD) << 2 | 1)
    }

    pub(crate) fn trial(id: u64, slot: usize) -> Ticket {
        Ticket(((id << 10 | slot as u64) & PAYLOAD) << 2 | 2)
    }

    #[inline]
    pub(crate) const fn rejected(probe_at: Option<u64>) -> Ticket {
        let nanos = match probe_at {
            Some(at) => {
                if at < PAYLOAD - 1 {
                    at + 1
                } else {
                    PAYLOAD
                }
            }
            None => 0,
        };
        Ticket(nanos << 2 | 3)
    }

    #[inline]
    pub(crate) const fn kind(self) -> Kind {
        let payload = self.0 >> 2;
        match self.0 & 0b11 {
            0 => Kind::None,
            1 => Kind::Counted(payload),
            #[allow(clippy::cast_possible_truncation)] // ten bits
            2 => Kind::Trial {
                id: payload >> 10,
                slot: (payload & 0x3FF) as usize,
            },
            _ => Kind::Rejected(if payload == 0 {
                None
            } else {
                Some(payload - 1)
            }),
        }
    }

    /// The period of a counted call; one test of the tag, for the hot path.
    #[inline]
    pub(crate) const fn period(self) -> Option<u64> {
        if self.0 & 0b11 == 1 {
            Some(self.0 >> 2)
        } else {
            None
        }
    }

    pub(crate) const fn is_trial(self) -> bool {
        self.0 & 0b11 == 2
    }

    pub(crate) const fn is_rejected(self) -> bool {
        self.0 & 0b11 == 3
    }
}

/// What the caller measured of a call, when it read the clock.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Timing {
    /// When the call completed.
    pub(crate) now: Option<Instant>,
    /// How long it took (from its first `Pending`, for a future).
    pub(crate) elapsed: Option<Duration>,
}

/// State behind the mutex: the slow paths.
#[derive(Debug)]
struct Locked {
    /// The configuration now: the open duration and the half-open rules are
    /// read from here (under the lock, on the slow paths), and
    /// [`Breaker::reconfigure`](crate::Breaker::reconfigure) replaces it.
    config: BreakerConfig,
    /// Opens since the breaker last closed successfully (growth of the open duration).
    opens_since_close: u32,
    /// Half-open trial slots: when each running trial started, and its id.
    trials: Vec<Option<(Instant, u64)>>,
    next_trial_id: u64,
    trial_successes: u32,
    trial_failures: u32,
    /// splitmix64 state for the jitter.
    rng: u64,
    /// The task of the open period's timer, if one is armed.
    timer: Option<tokio::task::AbortHandle>,
}

pub(crate) struct Core {
    pub(crate) name: Name,
    /// The configuration it was built with: the name, the mode and the
    /// windows' shapes, which never change (the rest lives in `Locked`).
    pub(crate) built: BreakerConfig,
    word: AtomicU64,
    /// `tag:32 | count:32`, the tag being the low bits of the generation.
    pub(crate) consecutive: AtomicU64,
    /// The consecutive-failure limit; 0 when that rule is off.
    consecutive_limit: AtomicU32,
    pub(crate) failure: Box<[Tracker]>,
    pub(crate) slow: Option<(Duration, Tracker)>,
    /// Whether some window is timed, or a slow-call rule measures durations.
    pub(crate) wants_clock: bool,
    /// [`BreakerConfig::count_local_refusals`], read on every judged call.
    pub(crate) count_local_refusals: AtomicBool,
    timed: bool,
    origin: Instant,
    /// `origin`, converted once for cheap rejections.
    pub(crate) probe_origin: ProbeOrigin,
    /// Nanoseconds since `origin` when the current open ends.
    open_until: AtomicU64,
    /// The ticket of a call refused while the open period is armed, packed
    /// when the period began ([`Ticket::NONE`] in metrics-only mode), so
    /// the refusal packs nothing and tests no mode.
    refusal: AtomicU64,
    rejected: Tally,
    opened: AtomicU64,
    locked: Mutex<Locked>,
    hook: Option<Hook>,
    /// This core, for the timer task (which must not keep it alive).
    this: Weak<Core>,
}

impl Drop for Core {
    fn drop(&mut self) {
        if let Some(timer) = self.locked.get_mut().timer.take() {
            timer.abort();
        }
    }
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("name", &self.name)
            .field("state", &self.word().state())
            .field("has_hook", &self.hook.is_some())
            .finish_non_exhaustive()
    }
}

fn seed(config: &BreakerConfig) -> u64 {
    use std::hash::{BuildHasher, RandomState};
    config
        .jitter_seed
        .unwrap_or_else(|| RandomState::new().hash_one(config.name.as_str()))
}

impl Core {
    /// Builds the engine from a validated config.
    pub(crate) fn new(config: BreakerConfig, hook: Option<Hook>, this: Weak<Core>) -> Core {
        let origin = time::now();
        let word = Word::new(State::Closed, 0);
        let failure: Box<[Tracker]> = config
            .failure_rates
            .iter()
            .map(|r| Tracker::new(r.rate, &r.window, origin, 0))
            .collect();
        let slow = config
            .slow_call_rate
            .as_ref()
            .map(|r| (r.slower_than, Tracker::new(r.rate, &r.window, origin, 0)));
        let timed = failure.iter().any(Tracker::is_timed)
            || slow.as_ref().is_some_and(|(_, t)| t.is_timed());
        Core {
            name: config.name.clone(),
            consecutive_limit: AtomicU32::new(config.consecutive_failures.unwrap_or(0)),
            wants_clock: timed || slow.is_some(),
            count_local_refusals: AtomicBool::new(config.count_local_refusals),
            timed,
            failure,
            slow,
            origin,
            probe_origin: ProbeOrigin::new(origin),
            word: AtomicU64::new(word.0),
            consecutive: AtomicU64::new(0),
            open_until: AtomicU64::new(0),
            refusal: AtomicU64::new(Ticket::rejected(None).0),
            rejected: Tally::new(),
            opened: AtomicU64::new(0),
            locked: Mutex::new(Locked {
                opens_since_close: 0,
                trials: vec![None; config.half_open.trials as usize],
                next_trial_id: 0,
                trial_successes: 0,
                trial_failures: 0,
                rng: seed(&config),
                timer: None,
                config: config.clone(),
            }),
            hook,
            this,
            built: config,
        }
    }

    #[inline]
    pub(crate) fn word(&self) -> Word {
        Word(self.word.load(std::sync::atomic::Ordering::Acquire))
    }

    /// The instant `nanos` after the origin.
    #[inline]
    pub(crate) fn instant(&self, nanos: u64) -> Instant {
        self.origin + Duration::from_nanos(nanos)
    }

    fn nanos(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX)
    }

    pub(crate) fn rejected(&self) -> u64 {
        self.rejected.sum()
    }

    pub(crate) fn opened(&self) -> u64 {
        self.opened.load(Relaxed)
    }
}

/// Draws a float in [0, 1) from a splitmix64 state.
fn unit(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    #[allow(clippy::cast_precision_loss)]
    let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
    unit
}

#[cfg(test)]
mod tests {
    #[test]
    fn unit_is_in_range_and_seeded() {
        let (mut a, mut b) = (7, 7);
        for _ in 0..1000 {
            let x = super::unit(&mut a);
            assert!((0.0..1.0).contains(&x));
            assert_eq!(x.to_bits(), super::unit(&mut b).to_bits());
        }
    }
}
