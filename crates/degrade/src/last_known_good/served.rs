//! A value and whether it is fresh.

use std::ops::Deref;
use std::time::Duration;

/// A value served by a [`LastKnownGood`](crate::LastKnownGood): fresh from
/// the dependency, or a remembered one and how old it is.
///
/// A stale value is shown for what it is: check [`is_stale`](Served::is_stale)
/// and tell the user ("prices as of 2 minutes ago"), or set a response header.
///
/// ```
/// use std::time::Duration;
/// use steadfast_degrade::Served;
///
/// let fresh = Served::fresh(42);
/// assert!(!fresh.is_stale());
/// assert_eq!(*fresh, 42);
///
/// let stale = Served::stale(41, Duration::from_secs(90));
/// assert!(stale.is_stale());
/// assert_eq!(stale.age(), Some(Duration::from_secs(90)));
/// assert_eq!(stale.into_inner(), 41);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Served<T> {
    value: T,
    age: Option<Duration>,
}

impl<T> Served<T> {
    /// A value just returned by the dependency.
    pub const fn fresh(value: T) -> Self {
        Served { value, age: None }
    }

    /// A remembered value, `age` old.
    pub const fn stale(value: T, age: Duration) -> Self {
        Served {
            value,
            age: Some(age),
        }
    }

    /// Whether this is a remembered value rather than a fresh one.
    pub const fn is_stale(&self) -> bool {
        self.age.is_some()
    }

    /// How old a stale value is; `None` for a fresh one.
    pub const fn age(&self) -> Option<Duration> {
        self.age
    }

    /// The value.
    pub const fn value(&self) -> &T {
        &self.value
    }

    /// The value, dropping whether it was stale.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The value and its age (`None` when fresh).
    pub fn into_parts(self) -> (T, Option<Duration>) {
        (self.value, self.age)
    }
}

impl<T> Deref for Served<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}
