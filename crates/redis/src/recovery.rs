//! Messages a backplane could not publish, kept until it can: one per key
//! or tag (the latest says all that matters), and a clear in place of
//! everything once there are too many to keep.

use std::collections::HashMap;

/// The most subjects kept; past it the queue is one clear.
const MOST: usize = 4_096;

/// What waits to be published again.
#[derive(Debug, Default)]
pub(crate) struct Recovery {
    /// The latest message per subject (the action's code and the key or
    /// tag), in the order first queued.
    latest: HashMap<String, usize>,
    queue: Vec<Option<String>>,
    /// A clear supersedes every message queued before it.
    clear: Option<String>,
}

impl Recovery {
    /// Keeps `message` about `subject` (`None`: everything); `clear` makes
    /// the clear that stands for everything once too many subjects wait.
    pub(crate) fn keep(
        &mut self,
        subject: Option<&str>,
        message: String,
        clear: impl FnOnce() -> String,
    ) {
        let Some(subject) = subject else {
            self.latest.clear();
            self.queue.clear();
            self.clear = Some(message);
            return;
        };
        if let Some(&at) = self.latest.get(subject) {
            self.queue[at] = Some(message);
            return;
        }
        if self.latest.len() >= MOST {
            // Too much missed to say one by one: everything is out of date.
            self.latest.clear();
            self.queue.clear();
            self.clear = Some(clear());
            return;
        }
        self.latest.insert(subject.to_owned(), self.queue.len());
        self.queue.push(Some(message));
    }

    /// Whether anything waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.clear.is_none() && self.queue.is_empty()
    }

    /// Everything waiting, in order (a clear first), leaving the queue empty.
    pub(crate) fn take(&mut self) -> Vec<String> {
        self.latest.clear();
        let mut out: Vec<String> = self.clear.take().into_iter().collect();
        out.extend(self.queue.drain(..).flatten());
        out
    }

    /// How many messages wait.
    pub(crate) fn len(&self) -> usize {
        usize::from(self.clear.is_some()) + self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clear() -> String {
        "clear".to_owned()
    }

    #[test]
    fn the_latest_message_per_subject_is_kept_in_first_queued_order() {
        let mut r = Recovery::default();
        r.keep(Some("K1"), "set 1".into(), clear);
        r.keep(Some("K2"), "set 2".into(), clear);
        r.keep(Some("K1"), "remove 1".into(), clear);
        r.keep(Some("Ttag"), "tag".into(), clear);
        assert_eq!(r.len(), 3);
        assert_eq!(r.take(), ["remove 1", "set 2", "tag"]);
        assert!(r.is_empty());
    }

    #[test]
    fn a_clear_supersedes_what_came_before_it_not_after() {
        let mut r = Recovery::default();
        r.keep(Some("K1"), "set 1".into(), clear);
        r.keep(None, "clear".into(), clear);
        r.keep(Some("K2"), "set 2".into(), clear);
        assert_eq!(r.take(), ["clear", "set 2"]);
    }

    #[test]
    fn too_many_subjects_become_one_clear() {
        let mut r = Recovery::default();
        for i in 0..=MOST {
            r.keep(Some(&format!("K{i}")), format!("set {i}"), clear);
        }
        assert_eq!(r.take(), ["clear"]);
    }
}
