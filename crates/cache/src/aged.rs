//! A fetched value that was already some time old when the fetch found it.

use std::time::Duration;

/// What an aged fetch ([`Cache::get_or_fetch_aged`](crate::Cache::get_or_fetch_aged))
/// returns: the value, and how old it already was (a copy read from a
/// second-level cache, a response with an `Age` header). The entry is
/// stored as that old: its fresh time runs from when the value was made,
/// not from now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aged<V> {
    /// The value.
    pub value: V,
    /// How old it was when fetched.
    pub age: Duration,
}

impl<V> Aged<V> {
    /// A value just made: no age.
    pub fn new(value: V) -> Self {
        Aged {
            value,
            age: Duration::ZERO,
        }
    }

    /// A value already `age` old.
    pub fn with_age(value: V, age: Duration) -> Self {
        Aged { value, age }
    }
}
