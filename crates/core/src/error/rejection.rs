//! The payloads of the rejections a policy can make.
//!
//! Each is a small type with accessors, so fields can be added without
//! breaking callers. Their `Display` is for logs (lowercase, no trailing
//! period); [`message`](TimedOut::message) is for a person, fit for an HTTP
//! body.

use std::fmt;
use std::time::Duration;

use crate::Name;
use std::sync::OnceLock;

use crate::time::{self, Instant};

/// Whole seconds to tell a person to wait: rounded up, at least 1.
fn wait_secs(d: Duration) -> u64 {
    time::ceil_secs(d).max(1)
}

/// A duration in one word: nanoseconds, saturating at about 584 years.
///
/// Payloads store durations this way so that [`Error`](crate::Error) stays
/// four words: every layer of a pipeline moves its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Nanos(u64);

impl Nanos {
    const NONE: Nanos = Nanos(u64::MAX);

    fn new(d: Duration) -> Nanos {
        // u64::MAX is kept for "none"; longer durations saturate just below it.
        Nanos(
            u64::try_from(d.as_nanos())
                .unwrap_or(u64::MAX)
                .min(u64::MAX - 1),
        )
    }

    fn from_option(d: Option<Duration>) -> Nanos {
        d.map_or(Nanos::NONE, Nanos::new)
    }

    fn get(self) -> Duration {
        Duration::from_nanos(self.0)
    }

    fn get_option(self) -> Option<Duration> {
        (self != Nanos::NONE).then(|| self.get())
    }
}

/// A call ran past its time limit and was cancelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimedOut {
    policy: Name,
    limit: Nanos,
}

impl TimedOut {
    /// The rejection of a `policy` whose `limit` elapsed.
    pub fn new(policy: impl Into<Name>, limit: Duration) -> Self {
        TimedOut {
            policy: policy.into(),
            limit: Nanos::new(limit),
        }
    }

    /// The name of the timeout that fired.
    pub fn policy_name(&self) -> &str {
        self.policy.as_str()
    }

    /// The limit that elapsed.
    pub fn limit(&self) -> Duration {
        self.limit.get()
    }

    /// A timeout says nothing about when the dependency will be faster.
    pub fn retry_after(&self) -> Option<Duration> {
        None
    }

    /// A message for a person.
    pub fn message(&self) -> String {
        "The request took too long. Please try again.".to_owned()
    }
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: timed out after {:?}", self.policy, self.limit())
    }
}

impl std::error::Error for TimedOut {}

/// A circuit breaker is open (or its half-open trials are taken) and refused the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitOpen {
    policy: Name,
    next_probe: NextProbe,
}

/// When an open breaker lets its next probe through, in one word:
/// `u64::MAX` is unknown; with the top bit clear, nanoseconds after the
/// rejection; with it set, an instant, as a biased offset from [`base`].
///
/// One plain word rather than an enum around an `Instant`: the `Instant`'s
/// niche would become [`Error`](crate::Error)'s tag, stored in the middle of
/// every result, which measurably slows every pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NextProbe(u64);

const UNKNOWN: u64 = u64::MAX;
const AT: u64 = 1 << 63;
/// Offsets are stored biased by this, so instants before [`base`] fit.
const BIAS: u64 = 1 << 62;

/// The instant [`NextProbe`] offsets count from: the first one asked for.
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(time::now)
}

/// `at` as a biased nanosecond offset from [`base`] (below [`AT`]).
fn biased_offset(at: Instant) -> u64 {
    let base = base();
    let clamp = |d: Duration| {
        u64::try_from(d.as_nanos())
            .unwrap_or(u64::MAX)
            .min(BIAS - 1)
    };
    if at >= base {
        BIAS + clamp(at - base)
    } else {
        BIAS - clamp(base - at)
    }
}

/// A policy's clock origin, converted once, so that a rejection can name its
/// next probe as nanoseconds after that origin with one addition
/// ([`CircuitOpen::after_origin`]) instead of an `Instant` subtraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeOrigin(u64);

impl ProbeOrigin {
    /// Converts `origin` (the instant a breaker counts its nanoseconds from).
    pub fn new(origin: Instant) -> Self {
        ProbeOrigin(biased_offset(origin))
    }
}

impl NextProbe {
    fn after(d: Option<Duration>) -> NextProbe {
        NextProbe(d.map_or(UNKNOWN, |d| Nanos::new(d).0.min(AT - 1)))
    }

    fn at(at: Instant) -> NextProbe {
        NextProbe(AT | biased_offset(at))
    }

    fn retry_after(self) -> Option<Duration> {
        match self.0 {
            UNKNOWN => None,
            word if word & AT == 0 => Some(Duration::from_nanos(word)),
            word => {
                let biased = word & !AT;
                let base = base();
                let at = if biased >= BIAS {
                    base + Duration::from_nanos(biased - BIAS)
                } else {
                    base.checked_sub(Duration::from_nanos(BIAS - biased))
                        .unwrap_or(base)
                };
                Some(at.saturating_duration_since(time::now()))
            }
        }
    }
}

impl CircuitOpen {
    /// The rejection of a breaker whose next probe is `retry_after` away, if known.
    pub fn new(policy: impl Into<Name>, retry_after: Option<Duration>) -> Self {
        CircuitOpen {
            policy: policy.into(),
            next_probe: NextProbe::after(retry_after),
        }
    }

    /// The rejection of a breaker whose next probe is at `next_probe`.
    ///
    /// [`retry_after`](CircuitOpen::retry_after) then reads the clock when it
    /// is asked, so refusing a call costs no clock read.
    pub fn at(policy: impl Into<Name>, next_probe: Instant) -> Self {
        CircuitOpen {
            policy: policy.into(),
            next_probe: NextProbe::at(next_probe),
        }
    }

    /// The rejection of a breaker whose next probe is `nanos` after `origin`:
    /// the cheap form of [`at`](CircuitOpen::at) for a breaker that keeps
    /// its times as nanoseconds after one origin.
    pub fn after_origin(policy: impl Into<Name>, origin: ProbeOrigin, nanos: u64) -> Self {
        CircuitOpen {
            policy: policy.into(),
            next_probe: NextProbe(AT | origin.0.saturating_add(nanos).min(AT - 1)),
        }
    }

    /// The name of the breaker.
    pub fn policy_name(&self) -> &str {
        self.policy.as_str()
    }

    /// Time until the breaker lets a probe through, when it is known.
    pub fn retry_after(&self) -> Option<Duration> {
        self.next_probe.retry_after()
    }

    /// A message for a person.
    pub fn message(&self) -> String {
        match self.retry_after() {
            Some(d) => format!(
                "Service temporarily unavailable. Try again in {} s.",
                wait_secs(d)
            ),
            None => "Service temporarily unavailable. Please try again later.".to_owned(),
        }
    }
}

impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: circuit open", self.policy)?;
        if let Some(d) = self.retry_after() {
            write!(f, ", next probe in {d:?}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CircuitOpen {}

/// A rate limiter refused the call; it may be admitted after `retry_after`.
///
/// A lockout (a key locked after repeated failures, such as failed logins)
/// is a rate-limit rejection too; [`is_lockout`](RateLimited::is_lockout)
/// tells them apart.
///
/// A call that can **never** be admitted (its cost is above the limiter's
/// burst, so no wait would do) is refused with
/// [`RateLimited::never`]: [`is_never`](RateLimited::is_never) is true and
/// [`retry_after`](RateLimited::retry_after) is `None`, so a retry stops and
/// a server answers without a `Retry-After`. A long wait stays a wait: its
/// `retry_after` is the wait, saturating just below about 292 years.
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::RateLimited;
///
/// let never = RateLimited::never("tokens");
/// assert!(never.is_never());
/// assert_eq!(never.retry_after(), None);
/// let long = RateLimited::new("tokens", Duration::from_secs(3_600 * 24 * 365));
/// assert!(!long.is_never());
/// assert_eq!(long.retry_after(), Some(Duration::from_secs(3_600 * 24 * 365)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimited {
    policy: Name,
    /// Nanoseconds until admission; the top bit marks a lockout, and
    /// [`NEVER`] a call that can never be admitted (one word, so that
    /// [`Error`](crate::Error) stays four words).
    retry_after: u64,
}

/// The top bit of [`RateLimited`]'s word: set for a lockout.
const LOCKOUT: u64 = 1 << 63;

/// [`RateLimited`]'s word for a call that can never be admitted: the largest
/// value below the lockout bit, which waits saturate just under.
const NEVER: u64 = LOCKOUT - 1;

impl RateLimited {
    /// The rejection of a limiter that would admit the call after `retry_after`
    /// (saturating just below about 292 years; a call that can never be
    /// admitted is [`never`](RateLimited::never)).
    pub fn new(policy: impl Into<Name>, retry_after: Duration) -> Self {
        RateLimited {
            policy: policy.into(),
            retry_after: Nanos::new(retry_after).0.min(NEVER - 1),
        }
    }

    /// The rejection of a call that can never be admitted: its cost is above
    /// what the limiter admits at once (the burst, a window's limit).
    pub fn never(policy: impl Into<Name>) -> Self {
        RateLimited {
            policy: policy.into(),
            retry_after: NEVER,
        }
    }

    /// The rejection of a key locked out until `retry_after` from now.
    pub fn lockout(policy: impl Into<Name>, retry_after: Duration) -> Self {
        let mut rejection = RateLimited::new(policy, retry_after);
        rejection.retry_after |= LOCKOUT;
        rejection
    }

    /// The name of the limiter.
    pub fn policy_name(&self) -> &str {
        self.policy.as_str()
    }

    /// Time until the same call would be admitted (for a lockout, until it
    /// ends); `None` when it never would be ([`is_never`](RateLimited::is_never)).
    pub fn retry_after(&self) -> Option<Duration> {
        (!self.is_never()).then(|| self.wait())
    }

    /// Whether the call can never be admitted, however long it waits (its
    /// cost is above the limiter's burst or window limit): not a long wait,
    /// a request to make smaller.
    pub fn is_never(&self) -> bool {
        self.retry_after == NEVER
    }

    /// Whether the key is locked out after repeated failures, not merely over its rate.
    pub fn is_lockout(&self) -> bool {
        self.retry_after & LOCKOUT != 0
    }

    fn wait(&self) -> Duration {
        Duration::from_nanos(self.retry_after & !LOCKOUT)
    }

    /// A message for a person: "Too many requests. Try again in 3 s."
    pub fn message(&self) -> String {
        if self.is_never() {
            return "This request is larger than the rate limit allows.".to_owned();
        }
        let secs = wait_secs(self.wait());
        if self.is_lockout() {
            format!("Too many failed attempts. Try again in {secs} s.")
        } else {
            format!("Too many requests. Try again in {secs} s.")
        }
    }
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_never() {
            return write!(f, "{}: rate limited, can never be admitted", self.policy);
        }
        let what = if self.is_lockout() {
            "locked out"
        } else {
            "rate limited"
        };
        write!(f, "{}: {what}, retry after {:?}", self.policy, self.wait())
    }
}

impl std::error::Error for RateLimited {}

/// Why a bulkhead refused a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BulkheadReason {
    /// Every permit was taken and the queue was full (or queueing is off).
    Full,
    /// The call waited in the queue for its maximum time without a permit.
    QueueTimeout,
    /// The queue stayed congested and the call had waited past its target
    /// (CoDel-style overload rejection).
    Overloaded,
}

/// A bulkhead had no free permit for the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkheadFull {
    policy: Name,
    reason: BulkheadReason,
}

impl BulkheadFull {
    /// The rejection of a full bulkhead (no permit, no room in the queue).
    pub fn new(policy: impl Into<Name>) -> Self {
        BulkheadFull::with_reason(policy, BulkheadReason::Full)
    }

    /// The rejection of a bulkhead, for the given reason.
    pub fn with_reason(policy: impl Into<Name>, reason: BulkheadReason) -> Self {
        BulkheadFull {
            policy: policy.into(),
            reason,
        }
    }

    /// The name of the bulkhead.
    pub fn policy_name(&self) -> &str {
        self.policy.as_str()
    }

    /// Why the call was refused.
    pub fn reason(&self) -> BulkheadReason {
        self.reason
    }

    /// A full bulkhead cannot tell when a permit frees up.
    pub fn retry_after(&self) -> Option<Duration> {
        None
    }

    /// A message for a person.
    pub fn message(&self) -> String {
        "Server busy, please try again shortly.".to_owned()
    }
}

impl fmt::Display for BulkheadFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            BulkheadReason::Full => write!(f, "{}: bulkhead full", self.policy),
            BulkheadReason::QueueTimeout => {
                write!(f, "{}: bulkhead queue timeout", self.policy)
            }
            BulkheadReason::Overloaded => write!(f, "{}: bulkhead overloaded", self.policy),
        }
    }
}

impl std::error::Error for BulkheadFull {}

/// A load shedder refused the call to protect more important work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shed {
    policy: Name,
    retry_after: Nanos,
}

impl Shed {
    /// The rejection of a shedder, with a suggested wait when it has one.
    pub fn new(policy: impl Into<Name>, retry_after: Option<Duration>) -> Self {
        Shed {
            policy: policy.into(),
            retry_after: Nanos::from_option(retry_after),
        }
    }

    /// The name of the shedder.
    pub fn policy_name(&self) -> &str {
        self.policy.as_str()
    }

    /// Suggested wait before trying again, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after.get_option()
    }

    /// A message for a person.
    pub fn message(&self) -> String {
        match self.retry_after() {
            Some(d) => format!("Server busy. Try again in {} s.", wait_secs(d)),
            None => "Server busy, please try again shortly.".to_owned(),
        }
    }
}

impl fmt::Display for Shed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: load shed", self.policy)
    }
}

impl std::error::Error for Shed {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip_and_saturate() {
        assert_eq!(CircuitOpen::new("b", None).retry_after(), None);
        assert_eq!(
            CircuitOpen::new("b", Some(Duration::ZERO)).retry_after(),
            Some(Duration::ZERO)
        );
        // Durations saturate at about 292 years (the word's top bit is a flag).
        let huge = CircuitOpen::new("b", Some(Duration::MAX)).retry_after();
        assert_eq!(huge, Some(Duration::from_nanos((1 << 63) - 1)));
        assert_eq!(
            TimedOut::new("t", Duration::from_nanos(1_500)).limit(),
            Duration::from_nanos(1_500)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_instant_counts_down_when_asked() {
        let open = CircuitOpen::at("b", time::now() + Duration::from_secs(30));
        assert_eq!(open.retry_after(), Some(Duration::from_secs(30)));
        tokio::time::advance(Duration::from_secs(12)).await;
        assert_eq!(open.retry_after(), Some(Duration::from_secs(18)));
        assert_eq!(open.to_string(), "b: circuit open, next probe in 18s");
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(open.retry_after(), Some(Duration::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn probe_instants_before_the_base_count_down_too() {
        let _ = base();
        let earlier = time::now()
            .checked_sub(Duration::from_secs(5))
            .expect("the clock is far from its origin");
        assert_eq!(
            CircuitOpen::at("b", earlier).retry_after(),
            Some(Duration::ZERO)
        );
        let later = CircuitOpen::at("b", time::now() + Duration::from_millis(1_500));
        assert_eq!(later.retry_after(), Some(Duration::from_millis(1_500)));
        assert_eq!(
            CircuitOpen::new("b", Some(Duration::from_secs(3))).retry_after(),
            Some(Duration::from_secs(3))
        );
        assert_eq!(CircuitOpen::new("b", None).retry_after(), None);
        let origin = time::now();
        let from_origin = CircuitOpen::after_origin("b", ProbeOrigin::new(origin), 2_000_000_000);
        assert_eq!(from_origin.retry_after(), Some(Duration::from_secs(2)));
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(
            from_origin.retry_after(),
            Some(Duration::from_millis(1_500))
        );
    }

    #[test]
    fn lockouts_and_queue_timeouts_say_so() {
        let locked = RateLimited::lockout("login", Duration::from_secs(60));
        assert!(locked.is_lockout());
        assert_eq!(locked.to_string(), "login: locked out, retry after 60s");
        assert_eq!(
            locked.message(),
            "Too many failed attempts. Try again in 60 s."
        );
        assert!(!RateLimited::new("api", Duration::from_secs(1)).is_lockout());
        let queued = BulkheadFull::with_reason("db", BulkheadReason::QueueTimeout);
        assert_eq!(queued.reason(), BulkheadReason::QueueTimeout);
        assert_eq!(queued.to_string(), "db: bulkhead queue timeout");
        assert_eq!(BulkheadFull::new("db").reason(), BulkheadReason::Full);
    }

    #[test]
    fn never_is_not_a_long_wait() {
        let never = RateLimited::never("tokens");
        assert!(never.is_never());
        assert!(!never.is_lockout());
        assert_eq!(never.retry_after(), None);
        assert_eq!(
            never.to_string(),
            "tokens: rate limited, can never be admitted"
        );
        assert_eq!(
            never.message(),
            "This request is larger than the rate limit allows."
        );
        // The longest wait saturates one nanosecond short of "never".
        let longest = RateLimited::new("tokens", Duration::MAX);
        assert!(!longest.is_never());
        assert_eq!(longest.retry_after(), Some(Duration::from_nanos(NEVER - 1)));
        let locked = RateLimited::lockout("login", Duration::MAX);
        assert!(locked.is_lockout() && !locked.is_never());
        assert_eq!(locked.retry_after(), Some(Duration::from_nanos(NEVER - 1)));
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(wait_secs(Duration::ZERO), 1);
        assert_eq!(wait_secs(Duration::from_millis(1)), 1);
        assert_eq!(wait_secs(Duration::from_secs(3)), 3);
        assert_eq!(wait_secs(Duration::from_millis(2_001)), 3);
    }
}
