//! Per-call context: key, priority, cost, deadline and attempt.
//!
//! A [`Context`] travels from the outermost policy to the operation. It is
//! `Copy` and holds no allocation, so a call that never sets anything pays for
//! a few constant stores the optimiser folds away.
//!
//! Policies refine it on the way in: a [`Timeout`](crate::Timeout) narrows
//! the deadline, a retry numbers the attempt. Keyed policies (a per-user rate
//! limit, a per-tenant bulkhead) read the key with [`Context::key`]; the key is
//! given at the call, not when the policy is built, so one policy serves every
//! user.

use std::any::Any;
use std::fmt;

use crate::time::Instant;

/// How important a call is, for policies that shed load by class.
///
/// Higher is more important. The named constants are a convention the
/// steadfast crates share; any `u8` works, and an application may name its
/// own classes (`Priority(150)` for "paid").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(pub u8);

impl Priority {
    /// Work the service exists for: shed last.
    pub const CRITICAL: Priority = Priority(255);
    /// Work that matters more than the default.
    pub const HIGH: Priority = Priority(192);
    /// The default priority of a call.
    pub const NORMAL: Priority = Priority(128);
    /// Work that may wait or be refused first under load.
    pub const LOW: Priority = Priority(64);
    /// Batch and background work: shed first.
    pub const BACKGROUND: Priority = Priority(0);
}

impl Default for Priority {
    fn default() -> Self {
        Priority::NORMAL
    }
}

/// Facts about one call that policies and the operation may read.
///
/// Build one with [`Context::new`] and its setters, then pass it to
/// [`Policy::call_with`](crate::Policy::call_with):
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::{Context, Priority};
///
/// let user_id: u64 = 42;
/// let ctx = Context::new().with_key(&user_id).with_priority(Priority::HIGH).with_cost(3);
/// assert_eq!(ctx.key::<u64>(), Some(&42));
/// assert_eq!(ctx.key::<String>(), None);
/// assert_eq!(ctx.cost(), 3);
/// ```
#[derive(Clone, Copy)]
pub struct Context<'a> {
    key: Option<&'a (dyn Any + Send + Sync)>,
    deadline: Option<Instant>,
    cost: u32,
    attempt: u32,
    priority: Priority,
    hedge: bool,
}

impl Default for Context<'_> {
    fn default() -> Self {
        Context::new()
    }
}

impl<'a> Context<'a> {
    /// A context with no key, normal priority, cost 1, no deadline, attempt 1.
    #[inline]
    pub const fn new() -> Self {
        Context {
            key: None,
            deadline: None,
            cost: 1,
            attempt: 1,
            priority: Priority::NORMAL,
            hedge: false,
        }
    }

    /// Sets the key keyed policies partition by (user id, IP, API key, a tuple).
    ///
    /// The key is borrowed for the call; a keyed policy reads it back as its
    /// own key type with [`Context::key`].
    #[inline]
    #[must_use]
    pub fn with_key<K: Any + Send + Sync>(mut self, key: &'a K) -> Self {
        self.key = Some(key);
        self
    }

    /// Sets the call's priority.
    #[inline]
    #[must_use]
    pub const fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Sets the call's cost in units (tokens of an AI request, bytes); default 1.
    #[inline]
    #[must_use]
    pub const fn with_cost(mut self, cost: u32) -> Self {
        self.cost = cost;
        self
    }

    /// Sets a deadline, keeping the earlier one if a deadline is already set.
    #[inline]
    #[must_use]
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(match self.deadline {
            Some(current) if current <= deadline => current,
            _ => deadline,
        });
        self
    }

    /// Sets the attempt number (1 for the first attempt). Used by retries.
    #[inline]
    #[must_use]
    pub const fn with_attempt(mut self, attempt: u32) -> Self {
        self.attempt = attempt;
        self
    }

    /// Marks the call as a hedged attempt running beside an earlier one.
    #[inline]
    #[must_use]
    pub const fn with_hedge(mut self, hedge: bool) -> Self {
        self.hedge = hedge;
        self
    }

    /// The key, as type `K`; `None` when no key is set or it is another type.
    #[inline]
    pub fn key<K: Any>(&self) -> Option<&'a K> {
        let key: &'a (dyn Any + Send + Sync) = self.key?;
        (key as &'a dyn Any).downcast_ref::<K>()
    }

    /// Whether a key is set, whatever its type.
    #[inline]
    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// The call's priority.
    #[inline]
    pub const fn priority(&self) -> Priority {
        self.priority
    }

    /// The call's cost in units.
    #[inline]
    pub const fn cost(&self) -> u32 {
        self.cost
    }

    /// The earliest deadline an enclosing policy or the caller set, if any.
    #[inline]
    pub const fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The attempt number, starting at 1.
    #[inline]
    pub const fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Whether this is a hedged attempt.
    #[inline]
    pub const fn is_hedge(&self) -> bool {
        self.hedge
    }

    /// What the operation learns of this call.
    #[inline]
    pub const fn to_attempt(&self) -> Attempt {
        Attempt {
            number: self.attempt,
            deadline: self.deadline,
            hedge: self.hedge,
        }
    }
}

impl fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("has_key", &self.key.is_some())
            .field("priority", &self.priority)
            .field("cost", &self.cost)
            .field("deadline", &self.deadline)
            .field("attempt", &self.attempt)
            .field("hedge", &self.hedge)
            .finish()
    }
}

/// What an operation learns about the attempt it is running.
///
/// Operations built with [`with_attempt`](crate::with_attempt) receive one:
/// a retry numbers its attempts, a hedge marks the attempts it starts beside
/// the first, and a deadline set by an enclosing timeout is passed along so the
/// operation can forward it (a gRPC deadline, a database statement timeout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    number: u32,
    deadline: Option<Instant>,
    hedge: bool,
}

impl Attempt {
    /// The attempt number, starting at 1.
    #[inline]
    pub const fn number(&self) -> u32 {
        self.number
    }

    /// Whether this is the first attempt.
    #[inline]
    pub const fn is_first(&self) -> bool {
        self.number == 1
    }

    /// Whether this attempt was started as a hedge beside an earlier one.
    #[inline]
    pub const fn is_hedge(&self) -> bool {
        self.hedge
    }

    /// The deadline an enclosing policy set for this attempt, if any.
    #[inline]
    pub const fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn deadline_keeps_the_earliest() {
        let now = Instant::now();
        let early = now + Duration::from_secs(1);
        let late = now + Duration::from_secs(2);
        assert_eq!(
            Context::new()
                .with_deadline(late)
                .with_deadline(early)
                .deadline(),
            Some(early)
        );
        assert_eq!(
            Context::new()
                .with_deadline(early)
                .with_deadline(late)
                .deadline(),
            Some(early)
        );
    }

    #[test]
    fn key_downcasts_only_to_its_own_type() {
        let key = (String::from("tenant"), 7u16);
        let ctx = Context::new().with_key(&key);
        assert_eq!(ctx.key::<(String, u16)>(), Some(&key));
        assert_eq!(ctx.key::<String>(), None);
        assert!(ctx.has_key());
        assert!(!Context::new().has_key());
    }

    #[test]
    fn defaults() {
        let ctx = Context::default();
        assert_eq!(ctx.priority(), Priority::NORMAL);
        assert_eq!(ctx.cost(), 1);
        assert_eq!(ctx.attempt(), 1);
        assert!(!ctx.is_hedge());
        assert_eq!(ctx.deadline(), None);
        assert!(ctx.to_attempt().is_first());
    }
}
