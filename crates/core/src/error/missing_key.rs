//! The refusal of a keyed policy that found no key of its own in the call.

use std::fmt;

use crate::Name;

/// A keyed policy (a per-user limiter, a per-tenant bulkhead, a per-prompt
/// cache) found no key of its type in the call's [`Context`](crate::Context).
///
/// Keyed policies refuse such a call rather than put every caller in one
/// shared bucket: a forgotten `with_key` would otherwise let one user spend
/// everyone's quota. Add the key with
/// [`Context::with_key`](crate::Context::with_key), or build the policy with
/// its documented opt-in for unkeyed calls.
///
/// ```
/// use steadfast_core::{Error, MissingKey};
///
/// struct UserId(u64);
/// let err: Error<std::io::Error> = MissingKey::new::<UserId>("per-user").into();
/// assert!(err.is_rejection());
/// assert!(err.is_local_refusal());
/// assert!(err.to_string().starts_with("per-user: no key of type "));
/// ```
#[derive(Clone)]
pub struct MissingKey {
    policy: Name,
    // A function pointer rather than the `&str` itself: one word, so that
    // `Error` stays four words.
    key_type: fn() -> &'static str,
}

impl MissingKey {
    /// The refusal of `policy`, which looks for a key of type `K`.
    pub fn new<K: ?Sized>(policy: impl Into<Name>) -> Self {
        MissingKey {
            policy: policy.into(),
            key_type: std::any::type_name::<K>,
        }
    }

    /// The name of the keyed policy.
    pub fn policy_name(&self) -> &str {
        self.policy.as_str()
    }

    /// The type of key the policy looked for, as `std::any::type_name` spells it.
    pub fn key_type(&self) -> &'static str {
        (self.key_type)()
    }

    /// A missing key is a mistake in the service, not a reason to wait.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        None
    }

    /// A message for a person: the fault is the service's, so it says nothing more.
    pub fn message(&self) -> String {
        "The request could not be processed.".to_owned()
    }
}

// By the type's name: function pointers do not compare reliably.
impl PartialEq for MissingKey {
    fn eq(&self, other: &Self) -> bool {
        self.policy == other.policy && self.key_type() == other.key_type()
    }
}

impl Eq for MissingKey {}

impl fmt::Debug for MissingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MissingKey")
            .field("policy", &self.policy)
            .field("key_type", &self.key_type())
            .finish()
    }
}

impl fmt::Display for MissingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: no key of type {} in the call's context",
            self.policy,
            self.key_type()
        )
    }
}

impl std::error::Error for MissingKey {}
