//! The configured policies in a steadfast-observe registry.

use std::sync::Arc;

use parking_lot::Mutex;
use steadfast_observe::{Observe, PolicyReport, Registry};

use crate::handle::Handle;
use crate::live::{Configured, Shared};

/// One configured policy as the registry reads it: the policy under its
/// key in the config now (so a reload's new limiter is the one read).
struct Live {
    shared: Arc<Shared>,
    key: String,
    /// The last policy found, read once a reload has removed the key.
    last: Mutex<Handle>,
}

impl Observe for Live {
    fn report(&self) -> PolicyReport {
        let built = self.shared.current.load();
        let mut last = self.last.lock();
        if let Some((_, handle)) = built.policies.get(&self.key) {
            handle.clone_into(&mut last);
        }
        last.report()
    }
}

impl Configured {
    /// A registry of every configured policy, under its key (a named
    /// policy's name, or `pipeline.section`), those marked
    /// `critical = true` as critical. Add the service's own policies to it
    /// with `register`/`critical`.
    ///
    /// Each entry reads the policy under its key at every report, so it
    /// follows reloads; a policy a reload adds shows in registries made
    /// after it.
    pub fn registry(&self) -> Registry {
        let built = self.shared.current.load();
        let mut registry = Registry::new();
        for (key, (spec, handle)) in &built.policies {
            let live = Live {
                shared: Arc::clone(&self.shared),
                key: key.clone(),
                last: Mutex::new(handle.clone()),
            };
            registry = if spec.critical {
                registry.critical(key.clone(), live)
            } else {
                registry.register(key.clone(), live)
            };
        }
        registry
    }
}
