//! Policy names: cheap to clone, shown in errors, events and snapshots.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

/// The name of a policy instance (`"payments-breaker"`, `"ai-timeout"`).
///
/// Every rejection carries the name of the policy that made it, so a name is
/// cloned on rejection paths. A `&'static str` name clones for free; a name
/// built at run time (from configuration) is shared behind an `Arc`. A name is
/// two words, which keeps [`Error`](crate::Error) small: every layer of a
/// pipeline moves its result.
///
/// ```
/// use steadfast_core::Name;
///
/// let fixed = Name::from("db");
/// let dynamic = Name::from(format!("breaker-{}", "payments"));
/// assert_eq!(fixed.as_str(), "db");
/// assert_eq!(dynamic, "breaker-payments");
/// ```
#[derive(Clone)]
pub struct Name(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    // A thin pointer, so the enum fits in the two words of a `&str`.
    Shared(Arc<String>),
}

impl Name {
    /// A name from a string literal; cloning it costs nothing.
    pub const fn new_static(name: &'static str) -> Self {
        Name(Repr::Static(name))
    }

    /// The name as a string slice.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(s) => s,
            Repr::Shared(s) => s,
        }
    }
}

impl From<&'static str> for Name {
    fn from(name: &'static str) -> Self {
        Name::new_static(name)
    }
}

impl From<String> for Name {
    fn from(name: String) -> Self {
        Name(Repr::Shared(Arc::new(name)))
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// A name serializes as its text.
#[cfg(feature = "serde")]
impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Name::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_two_words() {
        assert_eq!(
            std::mem::size_of::<Name>(),
            2 * std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn static_and_shared_compare_by_text() {
        assert_eq!(Name::from("a"), Name::from(String::from("a")));
        assert_eq!(format!("{}", Name::from("x")), "x");
        assert_eq!(format!("{:?}", Name::from("x")), "\"x\"");
    }
}
