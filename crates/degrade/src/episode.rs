//! State-change events: a policy that starts degrading (serving stale data,
//! shedding a class, skipping a feature) says so once, at INFO or WARN, and
//! says so again when it stops, rather than logging every call.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a degraded episode is under way.
#[derive(Debug, Default)]
pub(crate) struct Episode(AtomicBool);

impl Episode {
    /// Marks the episode as under way; true if it just started.
    #[inline]
    pub(crate) fn start(&self) -> bool {
        // A load first, so the common case (already under way, or never)
        // does not write the shared line.
        !self.0.load(Ordering::Relaxed) && !self.0.swap(true, Ordering::Relaxed)
    }

    /// Marks the episode as over; true if it just ended.
    #[inline]
    pub(crate) fn end(&self) -> bool {
        self.0.load(Ordering::Relaxed) && self.0.swap(false, Ordering::Relaxed)
    }

    pub(crate) fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_each_edge_once() {
        let episode = Episode::default();
        assert!(!episode.end());
        assert!(episode.start());
        assert!(!episode.start());
        assert!(episode.is_on());
        assert!(episode.end());
        assert!(!episode.end());
    }
}
