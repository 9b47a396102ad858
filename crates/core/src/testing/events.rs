//! A `tracing` subscriber that records every event, for asserting on a
//! policy's state-change events.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Recorded `"LEVEL message"` lines, shared by clones.
///
/// ```
/// use steadfast_core::testing::Events;
///
/// let (events, _guard) = Events::capture();
/// tracing::info!(policy = "db", "bulkhead saturated");
/// tracing::trace!("per call");
/// assert_eq!(events.state_changes(), ["INFO bulkhead saturated"]);
/// assert_eq!(events.lines().len(), 2);
/// ```
#[derive(Clone, Default)]
pub struct Events {
    lines: Arc<Mutex<Vec<String>>>,
    next_span: Arc<AtomicU64>,
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.lines().iter()).finish()
    }
}

impl Events {
    /// Records the events of this thread until the guard is dropped.
    ///
    /// Use a current-thread runtime (`#[tokio::test]`), so every event of
    /// the test is on the thread that captures.
    pub fn capture() -> (Events, tracing::subscriber::DefaultGuard) {
        let events = Events::default();
        let guard = tracing::subscriber::set_default(events.clone());
        (events, guard)
    }

    /// Every line recorded, in order.
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The lines at INFO or WARN (state changes, by the steadfast convention), in order.
    pub fn state_changes(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.starts_with("INFO") || l.starts_with("WARN"))
            .collect()
    }
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for Events {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        let line = format!("{} {}", event.metadata().level(), message.0);
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}
