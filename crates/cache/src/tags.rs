//! Tags and O(1) invalidation by generation.
//!
//! One counter, the generation, moves on at every invalidation. A fetch
//! notes the generation when it starts and its entry keeps that number.
//! Invalidating a tag stamps the tag with a new generation; an entry is
//! servable only while none of its tags (and no `invalidate_all`) carries a
//! stamp newer than the entry's own. So invalidation touches one tag, however
//! many entries carry it, and a fetch that started before an invalidation
//! stores a value that is never served.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// A label on cache entries (`"user:42"`, `"dashboard"`), for invalidating
/// every entry that carries it at once with
/// [`Cache::invalidate_tag`](crate::Cache::invalidate_tag).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(Arc<str>);

impl Tag {
    /// The tag's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Tag {
    fn from(text: &str) -> Self {
        Tag(Arc::from(text))
    }
}

impl From<String> for Tag {
    fn from(text: String) -> Self {
        Tag(Arc::from(text))
    }
}

impl From<Arc<str>> for Tag {
    fn from(text: Arc<str>) -> Self {
        Tag(text)
    }
}

/// One tag's invalidation stamp, shared by every entry that carries the tag.
#[derive(Debug)]
pub(crate) struct TagState {
    invalidated_at: AtomicU64,
}

/// The tags in use, the generation counter and the `invalidate_all` stamp.
pub(crate) struct Tags {
    generation: AtomicU64,
    all_invalidated_at: AtomicU64,
    registry: Mutex<Registry>,
}

struct Registry {
    states: HashMap<Arc<str>, Arc<TagState>>,
    /// The newest stamp a state could have carried that is not in `states`
    /// (pruned, or invalidated while no entry carried it). A state created
    /// later starts from it, so an older fetch cannot slip past an
    /// invalidation by creating the tag afresh. It may also hold back a fetch
    /// that started before an unrelated invalidation: that entry is then
    /// treated as invalidated, which costs one extra fetch, never a stale read.
    floor: u64,
    prune_at: usize,
}

const MIN_PRUNE_AT: usize = 1024;

impl Tags {
    pub(crate) fn new() -> Self {
        Tags {
            generation: AtomicU64::new(0),
            all_invalidated_at: AtomicU64::new(0),
            registry: Mutex::new(Registry {
                states: HashMap::new(),
                floor: 0,
                prune_at: MIN_PRUNE_AT,
            }),
        }
    }

    /// The generation a fetch starting now records.
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether an entry of `generation` carrying `tags` may be served.
    #[inline]
    pub(crate) fn is_valid(&self, generation: u64, tags: &[Arc<TagState>]) -> bool {
        // Nothing invalidated since the entry's fetch started: one load of a
        // line that only invalidations write, instead of one per tag (each
        // tag's state lives in its own allocation, often out of cache).
        if self.generation.load(Ordering::Acquire) <= generation {
            return true;
        }
        self.all_invalidated_at.load(Ordering::Acquire) <= generation
            && tags
                .iter()
                .all(|tag| tag.invalidated_at.load(Ordering::Acquire) <= generation)
    }

    /// The shared states of `tags`, created where missing.
    pub(crate) fn resolve(&self, tags: &[Tag]) -> Box<[Arc<TagState>]> {
        if tags.is_empty() {
            return Box::default();
        }
        let mut registry = self.registry.lock();
        if registry.states.len() >= registry.prune_at {
            registry.prune();
        }
        let floor = registry.floor;
        tags.iter()
            .map(|tag| {
                Arc::clone(
                    registry
                        .states
                        .entry(Arc::clone(&tag.0))
                        .or_insert_with(|| {
                            Arc::new(TagState {
                                invalidated_at: AtomicU64::new(floor),
                            })
                        }),
                )
            })
            .collect()
    }

    /// Stamps `tag`: every entry carrying it, and every fetch in flight that
    /// would store it, stops being servable.
    pub(crate) fn invalidate(&self, tag: &str) {
        let mut registry = self.registry.lock();
        let stamp = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        match registry.states.get(tag) {
            Some(state) => state.invalidated_at.store(stamp, Ordering::Release),
            None => registry.floor = registry.floor.max(stamp),
        }
    }

    /// Stamps everything: no entry stored so far, nor any fetch in flight, is servable.
    pub(crate) fn invalidate_all(&self) {
        let stamp = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        self.all_invalidated_at.fetch_max(stamp, Ordering::AcqRel);
    }

    /// How many tags are tracked now.
    pub(crate) fn len(&self) -> usize {
        self.registry.lock().states.len()
    }
}

impl Registry {
    /// Forgets the tags no entry carries, keeping their stamps in the floor.
    fn prune(&mut self) {
        let mut floor = self.floor;
        self.states.retain(|_, state| {
            let carried = Arc::strong_count(state) > 1;
            if !carried {
                floor = floor.max(state.invalidated_at.load(Ordering::Acquire));
            }
            carried
        });
        self.floor = floor;
        self.prune_at = (self.states.len() * 2).max(MIN_PRUNE_AT);
    }
}

impl fmt::Debug for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tags")
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidating_a_tag_hides_older_entries_only() {
        let tags = Tags::new();
        let before = tags.generation();
        let states = tags.resolve(&["user:1".into(), "dashboard".into()]);
        assert!(tags.is_valid(before, &states));
        tags.invalidate("user:1");
        assert!(!tags.is_valid(before, &states));
        assert!(tags.is_valid(tags.generation(), &states));
    }

    #[test]
    fn a_fetch_that_creates_a_tag_after_its_invalidation_is_not_valid() {
        let tags = Tags::new();
        let started = tags.generation();
        tags.invalidate("user:7");
        let states = tags.resolve(&["user:7".into()]);
        assert!(!tags.is_valid(started, &states));
        assert!(tags.is_valid(tags.generation(), &states));
    }

    #[test]
    fn pruned_tags_keep_their_stamp_in_the_floor() {
        let tags = Tags::new();
        let started = tags.generation();
        let states = tags.resolve(&["a".into()]);
        tags.invalidate("a");
        drop(states);
        tags.registry.lock().prune();
        assert_eq!(tags.len(), 0);
        let again = tags.resolve(&["a".into()]);
        assert!(!tags.is_valid(started, &again));
    }

    #[test]
    fn invalidate_all_hides_every_older_entry() {
        let tags = Tags::new();
        let started = tags.generation();
        tags.invalidate_all();
        assert!(!tags.is_valid(started, &[]));
        assert!(tags.is_valid(tags.generation(), &[]));
    }
}
