//! Per-call context: key, priority, cost, deadline and attempt.
//!
//! A [`Context`] travels from the outermost policy to the operation. It is
//! `Copy` and holds no allocation, so a call that never sets anything pays for
//! a few constant stores the optimiser folds away.
//!
//! Policies refine it on the way in: a [`Timeout`](crate::Timeout) narrows
//! the deadline, a retry numbers the attempt. Keyed policies (a per-user rate
//! limit, a per-tenant bulkhead, a per-prompt cache) read their key with
//! [`Context::key`]; keys are given at the call, not when the policy is built,
//! so one policy serves every user.
//!
//! One call may carry several keys, one per type: a per-user limiter and a
//! per-prompt cache share a pipeline when the user id and the prompt are
//! distinct types (`UserId`, `PromptKey` newtypes), and each keyed policy
//! finds its own. A keyed policy that finds no key of its type refuses the
//! call with [`MissingKey`](crate::MissingKey) rather than share one bucket
//! among every caller.

use std::any::Any;
use std::fmt;

use crate::owned::{Background, Owned, Relaunch};
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

/// A key a context holds: borrowed for the call, its type read back by downcast.
type Key<'a> = &'a (dyn Any + Send + Sync);

/// Facts about one call that policies and the operation may read.
///
/// Build one with [`Context::new`] and its setters, then pass it to
/// [`Policy::call_with`](crate::Policy::call_with):
///
/// ```
/// use steadfast_core::{Context, Priority};
///
/// struct UserId(u64);
/// struct PromptKey(String);
///
/// let user = UserId(42);
/// let prompt = PromptKey("summarise this".into());
/// let ctx = Context::new()
///     .with_key(&user)
///     .with_key(&prompt)
///     .with_priority(Priority::HIGH)
///     .with_cost(3);
/// assert_eq!(ctx.key::<UserId>().map(|u| u.0), Some(42));
/// assert!(ctx.key::<PromptKey>().is_some());
/// assert!(ctx.key::<String>().is_none());
/// assert_eq!(ctx.cost(), 3);
/// ```
#[derive(Clone, Copy)]
pub struct Context<'a> {
    // Inline, so a context stays `Copy` and allocation-free; a call with no
    // key stores constants the optimiser folds away.
    keys: [Option<Key<'a>>; Context::MAX_KEYS],
    // Set only in an owned call: one thin pointer, `None` in a borrowed one.
    owned: Option<&'a Owned<'a>>,
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
    /// How many keys of distinct types one context holds.
    pub const MAX_KEYS: usize = 4;

    /// A context with no key, normal priority, cost 1, no deadline, attempt 1.
    #[inline]
    pub const fn new() -> Self {
        Context {
            keys: [None; Context::MAX_KEYS],
            owned: None,
            deadline: None,
            cost: 1,
            attempt: 1,
            priority: Priority::NORMAL,
            hedge: false,
        }
    }

    /// Adds a key that keyed policies partition by (a user id, an IP, an API
    /// key, a prompt, a tuple).
    ///
    /// The key is borrowed for the call; each keyed policy reads back the key
    /// of its own type with [`Context::key`], so give each key its own type
    /// (`struct UserId(String)`, `struct TenantId(u32)`) when one call carries
    /// several. A key of a type the context already holds replaces it (an
    /// inner pipeline may re-key a call).
    ///
    /// A context holds up to [`MAX_KEYS`](Context::MAX_KEYS) keys of distinct
    /// types. A key past that is not kept: a keyed policy looking for it
    /// refuses the call with [`MissingKey`](crate::MissingKey), as it would
    /// with no key at all, never falling back to a bucket shared by everyone.
    #[inline]
    #[must_use]
    pub fn with_key<K: Any + Send + Sync>(mut self, key: &'a K) -> Self {
        let slot = self
            .keys
            .iter()
            .position(|held| held.is_none_or(|held| (held as &dyn Any).is::<K>()));
        if let Some(slot) = slot {
            self.keys[slot] = Some(key);
        }
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

    /// The key of type `K`; `None` when the call carries no key of that type.
    #[inline]
    pub fn key<K: Any>(&self) -> Option<&'a K> {
        self.keys
            .iter()
            .map_while(|held| *held)
            .find_map(|held: Key<'a>| (held as &'a dyn Any).downcast_ref::<K>())
    }

    /// Whether any key is set, whatever its type.
    #[inline]
    pub fn has_key(&self) -> bool {
        self.keys[0].is_some()
    }

    /// How many keys the call carries.
    #[inline]
    pub fn key_count(&self) -> usize {
        self.keys.iter().take_while(|held| held.is_some()).count()
    }

    /// Marks the context as an owned call's.
    #[inline]
    #[must_use]
    pub(crate) const fn with_owned(mut self, owned: &'a Owned<'a>) -> Self {
        self.owned = Some(owned);
        self
    }

    /// In an owned call ([`Policy::call_owned`](crate::Policy::call_owned)),
    /// the handle that runs the call's pipeline again in a task of its own;
    /// `None` in a borrowed call, whose pipeline cannot outlive its caller.
    #[inline]
    pub fn relaunch(&self) -> Option<&'a dyn Relaunch> {
        self.owned.map(|owned| owned.relaunch)
    }

    /// In a background call started by [`Relaunch`], the job it carries.
    #[inline]
    pub fn background(&self) -> Option<&'a Background> {
        self.owned.and_then(|owned| owned.background)
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
            .field("keys", &self.key_count())
            .field("owned", &self.owned.is_some())
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
    fn each_type_finds_its_own_key() {
        let (user, tenant, prompt) = (7u64, 3u16, String::from("p"));
        let ctx = Context::new()
            .with_key(&user)
            .with_key(&tenant)
            .with_key(&prompt);
        assert_eq!(ctx.key::<u64>(), Some(&7));
        assert_eq!(ctx.key::<u16>(), Some(&3));
        assert_eq!(ctx.key::<String>(), Some(&prompt));
        assert_eq!(ctx.key::<u8>(), None);
        assert_eq!(ctx.key_count(), 3);
    }

    #[test]
    fn a_key_of_a_held_type_replaces_it() {
        let (first, second, other) = (1u64, 2u64, 9u8);
        let ctx = Context::new()
            .with_key(&first)
            .with_key(&other)
            .with_key(&second);
        assert_eq!(ctx.key::<u64>(), Some(&2));
        assert_eq!(ctx.key::<u8>(), Some(&9));
        assert_eq!(ctx.key_count(), 2);
    }

    #[test]
    fn a_key_past_the_limit_is_not_kept() {
        let keys = (1u8, 2u16, 3u32, 4u64, 5u128);
        let ctx = Context::new()
            .with_key(&keys.0)
            .with_key(&keys.1)
            .with_key(&keys.2)
            .with_key(&keys.3)
            .with_key(&keys.4);
        assert_eq!(ctx.key_count(), Context::MAX_KEYS);
        assert_eq!(ctx.key::<u64>(), Some(&4));
        assert_eq!(ctx.key::<u128>(), None);
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
