//! The breaker against a small reference model: random sequences of
//! successes, failures, slow calls, ignored calls, held and dropped calls
//! (trials among them) and the passing of time; after every step both agree
//! on the state and on every admission.

// Test arithmetic on small numbers (windows of a few calls, a few trials).
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss
)]

use std::collections::VecDeque;
use std::time::Duration;

use proptest::prelude::*;
use steadfast_breaker::{Breaker, BreakerConfig, HalfOpen, OpenDuration, Permit, State};
use steadfast_core::Outcome;
use tokio::time::advance;

const SLOW: Duration = Duration::from_millis(100);

#[derive(Clone, Copy, Debug)]
enum Kind {
    Success,
    Failure,
    SlowSuccess,
    SlowFailure,
    Ignored,
}

impl Kind {
    fn outcome(self) -> Outcome {
        match self {
            Kind::Success | Kind::SlowSuccess => Outcome::Success,
            Kind::Failure | Kind::SlowFailure => Outcome::Failure,
            Kind::Ignored => Outcome::Ignore,
        }
    }
    fn elapsed(self) -> Duration {
        match self {
            Kind::SlowSuccess | Kind::SlowFailure => Duration::from_millis(150),
            _ => Duration::from_millis(10),
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// Acquire and record at once.
    Call(Kind),
    /// Acquire and hold the permit.
    Begin,
    /// Record the `n`-th held permit.
    End(usize, Kind),
    /// Drop the `n`-th held permit unrecorded.
    Drop(usize),
    /// Let time pass (ms).
    Advance(u64),
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        4 => Just(Kind::Success),
        3 => Just(Kind::Failure),
        1 => Just(Kind::SlowSuccess),
        1 => Just(Kind::SlowFailure),
        1 => Just(Kind::Ignored),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => kind().prop_map(Op::Call),
        2 => Just(Op::Begin),
        2 => (0..4usize, kind()).prop_map(|(n, k)| Op::End(n, k)),
        1 => (0..4usize).prop_map(Op::Drop),
        3 => prop_oneof![Just(1u64), Just(300), Just(999), Just(1_000), Just(2_500), Just(6_000)]
            .prop_map(Op::Advance),
    ]
}

#[derive(Clone, Debug)]
struct Params {
    consecutive: u32,
    count: (usize, usize, f64),
    time_min: usize,
    slow: (usize, usize),
    trials: u32,
    success_rate: f64,
}

fn params() -> impl Strategy<Value = Params> {
    (
        1..5u32,
        (2..7usize).prop_flat_map(|w| {
            (
                Just(w),
                1..=w,
                prop_oneof![Just(0.34), Just(0.5), Just(1.0)],
            )
        }),
        2..6usize,
        (2..5usize).prop_flat_map(|w| (Just(w), 1..=w)),
        1..4u32,
        prop_oneof![Just(1.0), Just(0.5)],
    )
        .prop_map(
            |(consecutive, count, time_min, slow, trials, success_rate)| Params {
                consecutive,
                count,
                time_min,
                slow,
                trials,
                success_rate,
            },
        )
}

/// What a permit is, in the model.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ticket {
    Counted(u64),
    Trial(u64),
}

#[derive(Clone, Copy, Debug)]
enum MState {
    Closed,
    Open { until: u64 },
    HalfOpen,
}

/// The reference model: a plain, sequential breaker, times in ms.
struct Model {
    p: Params,
    now: u64,
    state: MState,
    period: u64,
    consecutive: u32,
    count: VecDeque<bool>,
    slow: VecDeque<bool>,
    /// (epoch of 1 s, failed) of the time window.
    timed: Vec<(u64, bool)>,
    opens_since_close: u32,
    trials: Vec<(u64, u64)>, // (id, start)
    next_trial: u64,
    successes: u32,
    failures: u32,
}

const DEADLINE: u64 = 5_000;

impl Model {
    fn new(p: Params) -> Self {
        Model {
            p,
            now: 0,
            state: MState::Closed,
            period: 0,
            consecutive: 0,
            count: VecDeque::new(),
            slow: VecDeque::new(),
            timed: Vec::new(),
            opens_since_close: 0,
            trials: Vec::new(),
            next_trial: 0,
            successes: 0,
            failures: 0,
        }
    }

    fn needed(&self) -> u32 {
        ((self.p.success_rate * f64::from(self.p.trials) - 1e-9).ceil() as u32)
            .clamp(1, self.p.trials)
    }

    fn enter(&mut self, to: MState) {
        self.period += 1;
        self.trials.clear();
        self.successes = 0;
        self.failures = 0;
        match to {
            MState::Closed => {
                self.opens_since_close = 0;
                self.consecutive = 0;
                self.count.clear();
                self.slow.clear();
                self.timed.clear();
                self.state = MState::Closed;
            }
            MState::Open { .. } => {
                // 1 s, 2 s, 4 s, 4 s, …
                let d = (1_000u64 << self.opens_since_close.min(2)).min(4_000);
                self.opens_since_close += 1;
                self.state = MState::Open {
                    until: self.now + d,
                };
            }
            MState::HalfOpen => self.state = MState::HalfOpen,
        }
    }

    fn decide(&mut self) {
        if self.successes >= self.needed() {
            self.enter(MState::Closed);
        } else if self.failures > self.p.trials - self.needed() {
            self.enter(MState::Open { until: 0 });
        }
    }

    fn refresh(&mut self) {
        if let MState::Open { until } = self.state
            && self.now >= until
        {
            self.enter(MState::HalfOpen);
        }
        if matches!(self.state, MState::HalfOpen) {
            let now = self.now;
            let before = self.trials.len();
            self.trials.retain(|&(_, start)| now - start < DEADLINE);
            let expired = (before - self.trials.len()) as u32;
            if expired > 0 {
                self.failures += expired;
                self.decide();
            }
        }
    }

    fn state(&mut self) -> State {
        self.refresh();
        match self.state {
            MState::Closed => State::Closed,
            MState::Open { .. } => State::Open,
            MState::HalfOpen => State::HalfOpen,
        }
    }

    fn acquire(&mut self) -> Option<Ticket> {
        self.refresh();
        match self.state {
            MState::Closed => Some(Ticket::Counted(self.period)),
            MState::Open { .. } => None,
            MState::HalfOpen => {
                let used = self.trials.len() as u32 + self.successes + self.failures;
                if used < self.p.trials {
                    let id = self.next_trial;
                    self.next_trial += 1;
                    self.trials.push((id, self.now));
                    Some(Ticket::Trial(id))
                } else {
                    None
                }
            }
        }
    }

    fn rate(window: &VecDeque<bool>, min: usize, rate: f64) -> bool {
        let marks = window.iter().filter(|m| **m).count();
        window.len() >= min && marks as f64 / window.len() as f64 + 1e-9 >= rate
    }

    fn record(&mut self, ticket: Ticket, kind: Kind) {
        let failed = matches!(kind.outcome(), Outcome::Failure);
        let slow = matches!(kind, Kind::SlowSuccess | Kind::SlowFailure);
        match ticket {
            Ticket::Counted(period) => {
                if period != self.period || matches!(kind, Kind::Ignored) {
                    return;
                }
                if failed {
                    self.consecutive += 1;
                } else {
                    self.consecutive = 0;
                }
                let (w, _, _) = self.p.count;
                self.count.push_back(failed);
                if self.count.len() > w {
                    self.count.pop_front();
                }
                self.slow.push_back(slow);
                if self.slow.len() > self.p.slow.0 {
                    self.slow.pop_front();
                }
                let epoch = self.now / 1_000;
                self.timed.push((epoch, failed));
                let in_time: Vec<bool> = self
                    .timed
                    .iter()
                    .filter(|(e, _)| *e + 10 > epoch)
                    .map(|(_, f)| *f)
                    .collect();
                let in_time: VecDeque<bool> = in_time.into();
                let trips = self.consecutive >= self.p.consecutive
                    || Self::rate(&self.count, self.p.count.1, self.p.count.2)
                    || Self::rate(&in_time, self.p.time_min, 0.5)
                    || Self::rate(&self.slow, self.p.slow.1, 0.5);
                if trips && matches!(self.state, MState::Closed) {
                    self.enter(MState::Open { until: 0 });
                }
            }
            Ticket::Trial(id) => {
                let Some(i) = self.trials.iter().position(|t| t.0 == id) else {
                    return;
                };
                self.trials.remove(i);
                match kind {
                    Kind::Ignored => return,
                    _ if failed || slow => self.failures += 1,
                    _ => self.successes += 1,
                }
                self.decide();
            }
        }
    }

    fn release(&mut self, ticket: Ticket) {
        if let Ticket::Trial(id) = ticket {
            self.trials.retain(|t| t.0 != id);
        }
    }
}

fn breaker(p: &Params) -> Breaker {
    Breaker::builder_from(BreakerConfig::empty())
        .consecutive_failures(p.consecutive)
        .failure_rate_over_calls(p.count.2, p.count.0 as u32, p.count.1 as u32)
        .failure_rate_over_time(0.5, Duration::from_secs(10), p.time_min as u32)
        .slow_calls(SLOW, 0.5, p.slow.0 as u32, p.slow.1 as u32)
        .open_duration(OpenDuration::growing(
            Duration::from_secs(1),
            2.0,
            Duration::from_secs(4),
        ))
        .half_open(
            HalfOpen::new(p.trials)
                .with_success_rate(p.success_rate)
                .with_trial_deadline(Duration::from_millis(DEADLINE)),
        )
        .build()
        .unwrap()
}

async fn run(p: Params, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let b = breaker(&p);
    let mut m = Model::new(p);
    let mut held: Vec<(Permit<'_>, Ticket)> = Vec::new();
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::Call(kind) => {
                let real = b.try_acquire();
                let model = m.acquire();
                prop_assert_eq!(
                    real.is_ok(),
                    model.is_some(),
                    "admission at step {}: {:?}",
                    step,
                    op
                );
                if let (Ok(permit), Some(ticket)) = (real, model) {
                    prop_assert_eq!(permit.is_trial(), matches!(ticket, Ticket::Trial(_)));
                    permit.record(kind.outcome(), kind.elapsed());
                    m.record(ticket, kind);
                }
            }
            Op::Begin => {
                let real = b.try_acquire();
                let model = m.acquire();
                prop_assert_eq!(
                    real.is_ok(),
                    model.is_some(),
                    "admission at step {}: {:?}",
                    step,
                    op
                );
                if let (Ok(permit), Some(ticket)) = (real, model) {
                    held.push((permit, ticket));
                }
            }
            Op::End(n, kind) if !held.is_empty() => {
                let (permit, ticket) = held.remove(n % held.len());
                permit.record(kind.outcome(), kind.elapsed());
                m.record(ticket, kind);
            }
            Op::Drop(n) if !held.is_empty() => {
                let (permit, ticket) = held.remove(n % held.len());
                drop(permit);
                m.release(ticket);
            }
            Op::End(..) | Op::Drop(_) => {}
            Op::Advance(ms) => {
                advance(Duration::from_millis(ms)).await;
                m.now += ms;
            }
        }
        prop_assert_eq!(b.state(), m.state(), "state after step {}: {:?}", step, op);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_breaker_matches_the_model(p in params(), ops in prop::collection::vec(op(), 1..80)) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(run(p, ops))?;
    }
}
