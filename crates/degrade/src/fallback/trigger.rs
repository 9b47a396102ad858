//! Which failures a fallback answers for.

use steadfast_core::ErrorKind;

/// A set of [`ErrorKind`]s, for a fallback that answers only some of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KindSet(u8);

impl KindSet {
    /// No kinds.
    pub const EMPTY: KindSet = KindSet(0);

    fn bit(kind: ErrorKind) -> u8 {
        match kind {
            ErrorKind::Inner => 1,
            ErrorKind::Timeout => 1 << 1,
            ErrorKind::CircuitOpen => 1 << 2,
            ErrorKind::RateLimited => 1 << 3,
            ErrorKind::BulkheadFull => 1 << 4,
            ErrorKind::Shed => 1 << 5,
            // A kind added to core later: it has no bit until this crate learns it.
            _ => 0,
        }
    }

    /// This set with `kind` added.
    #[must_use]
    pub fn with(self, kind: ErrorKind) -> Self {
        KindSet(self.0 | Self::bit(kind))
    }

    /// Whether `kind` is in the set.
    #[inline]
    pub fn contains(self, kind: ErrorKind) -> bool {
        let bit = Self::bit(kind);
        bit != 0 && self.0 & bit != 0
    }
}

impl FromIterator<ErrorKind> for KindSet {
    fn from_iter<I: IntoIterator<Item = ErrorKind>>(kinds: I) -> Self {
        kinds.into_iter().fold(KindSet::EMPTY, KindSet::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_was_added() {
        let set: KindSet = [ErrorKind::CircuitOpen, ErrorKind::Timeout]
            .into_iter()
            .collect();
        assert!(set.contains(ErrorKind::CircuitOpen));
        assert!(set.contains(ErrorKind::Timeout));
        assert!(!set.contains(ErrorKind::Inner));
        assert!(!set.contains(ErrorKind::RateLimited));
        assert!(!KindSet::EMPTY.contains(ErrorKind::Shed));
    }
}
