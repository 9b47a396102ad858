//! A `tracing` recorder, for asserting on a policy's state-change events.
//!
//! # Why a global forwarder
//!
//! `tracing` caches, per callsite, whether any subscriber is interested. With
//! only thread-local subscribers (`set_default`), a test on another thread
//! can hit a callsite while no subscriber is set and cache "never", and a
//! capturing test then misses the event: a flaky test. So the first capture
//! installs one global subscriber that is interested in everything and
//! forwards each event to the capture active on the emitting thread, if any.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

type Records = Arc<Mutex<Captured>>;

/// What one capture recorded.
#[derive(Debug, Default)]
struct Captured {
    events: Vec<EventRecord>,
    spans: Vec<SpanRecord>,
}

thread_local! {
    /// The capture active on this thread.
    static CURRENT: RefCell<Option<Records>> = const { RefCell::new(None) };
    /// The spans entered on this thread, innermost last.
    static ENTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// One recorded span: its name, its parent, and its fields (those given
/// when it was made, then those recorded later, in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanRecord {
    /// The span's id within the process.
    pub id: u64,
    /// The span's name (`steadfast.call`).
    pub name: String,
    /// The level it was made at.
    pub level: Level,
    /// The id of the span it was made in, if any.
    pub parent: Option<u64>,
    /// Its fields; string values as written, others as `Debug`.
    pub fields: Vec<(String, String)>,
}

impl SpanRecord {
    /// The value of field `name`, if the span has it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

static INSTALL: Once = Once::new();

/// One recorded event: its level, message and other fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    /// The event's level.
    pub level: Level,
    /// The `message` field.
    pub message: String,
    /// The other fields, in the order they were written; string values as
    /// written, others as `Debug`.
    pub fields: Vec<(String, String)>,
}

impl EventRecord {
    /// The value of field `name`, if the event has it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The events recorded by one capture, shared by clones.
///
/// ```
/// use steadfast_core::testing::Events;
///
/// let (events, _guard) = Events::capture();
/// tracing::info!(policy = "db", "bulkhead saturated");
/// tracing::trace!("per call");
/// assert_eq!(events.state_changes(), ["INFO bulkhead saturated"]);
/// assert_eq!(events.lines().len(), 2);
/// assert_eq!(events.records()[0].field("policy"), Some("db"));
/// ```
#[derive(Clone, Default)]
pub struct Events {
    records: Records,
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.lines().iter()).finish()
    }
}

/// Ends a capture when dropped (the thread's previous capture, if any, resumes).
#[must_use = "the capture ends when the guard is dropped"]
#[derive(Debug)]
pub struct CaptureGuard {
    previous: Option<Records>,
    // A thread-local subscriber, when another global one was installed first.
    _scoped: Option<tracing::subscriber::DefaultGuard>,
}

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

impl Events {
    /// Records the events of this thread until the guard is dropped.
    ///
    /// Use a current-thread runtime (`#[tokio::test]`), so every event of
    /// the test is emitted on the thread that captures.
    pub fn capture() -> (Events, CaptureGuard) {
        INSTALL.call_once(|| {
            // Fails only when the test binary installed its own global subscriber.
            let _ = tracing::subscriber::set_global_default(Forwarder::default());
        });
        let events = Events::default();
        let previous =
            CURRENT.with(|current| current.borrow_mut().replace(Arc::clone(&events.records)));
        // Another global subscriber won: fall back to a thread-local one
        // (exposed to the race described in the module docs).
        let ours = tracing::dispatcher::get_default(tracing::Dispatch::is::<Forwarder>);
        let scoped = (!ours).then(|| tracing::subscriber::set_default(Forwarder::default()));
        (
            events,
            CaptureGuard {
                previous,
                _scoped: scoped,
            },
        )
    }

    /// Every event recorded, in order.
    pub fn records(&self) -> Vec<EventRecord> {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .events
            .clone()
    }

    /// Every span made on this thread during the capture, in order.
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .spans
            .clone()
    }

    /// Every event recorded, as `"LEVEL message"` lines, in order.
    pub fn lines(&self) -> Vec<String> {
        self.records().iter().map(line).collect()
    }

    /// The lines at INFO or WARN (state changes, by the steadfast convention), in order.
    pub fn state_changes(&self) -> Vec<String> {
        self.records()
            .iter()
            .filter(|r| matches!(r.level, Level::INFO | Level::WARN))
            .map(line)
            .collect()
    }
}

fn line(record: &EventRecord) -> String {
    format!("{} {}", record.level, record.message)
}

/// The subscriber that forwards every event to the emitting thread's capture.
#[derive(Default)]
struct Forwarder {
    next_span: AtomicU64,
}

#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            value.clone_into(&mut self.message);
        } else {
            self.fields
                .push((field.name().to_owned(), value.to_owned()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.fields
                .push((field.name().to_owned(), format!("{value:?}")));
        }
    }
}

impl Subscriber for Forwarder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        let id = self.next_span.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(records) = CURRENT.with(|current| current.borrow().clone()) {
            let parent = match attributes.parent() {
                Some(parent) => Some(parent.into_u64()),
                None if attributes.is_contextual() => {
                    ENTERED.with(|entered| entered.borrow().last().copied())
                }
                None => None,
            };
            let mut fields = Fields::default();
            attributes.record(&mut fields);
            records
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .spans
                .push(SpanRecord {
                    id,
                    name: attributes.metadata().name().to_owned(),
                    level: *attributes.metadata().level(),
                    parent,
                    fields: fields.fields,
                });
        }
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let Some(records) = CURRENT.with(|current| current.borrow().clone()) else {
            return;
        };
        let mut fields = Fields::default();
        values.record(&mut fields);
        let mut records = records.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(record) = records.spans.iter_mut().find(|r| r.id == span.into_u64()) {
            record.fields.extend(fields.fields);
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let Some(records) = CURRENT.with(|current| current.borrow().clone()) else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .events
            .push(EventRecord {
                level: *event.metadata().level(),
                message: fields.message,
                fields: fields.fields,
            });
    }

    fn enter(&self, span: &Id) {
        ENTERED.with(|entered| entered.borrow_mut().push(span.into_u64()));
    }

    fn exit(&self, span: &Id) {
        ENTERED.with(|entered| {
            let mut entered = entered.borrow_mut();
            if let Some(at) = entered.iter().rposition(|id| *id == span.into_u64()) {
                entered.remove(at);
            }
        });
    }
}
