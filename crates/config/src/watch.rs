//! Reloading from a watched file.

use std::path::PathBuf;
use std::time::Duration;

use crate::{Config, Configured};

/// Reloads a [`Configured`] whenever its TOML file changes; stops when
/// dropped. Made by [`Configured::watch`].
#[derive(Debug)]
pub struct Watcher {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Configured {
    /// Reads `path` every `every` and, when its text changed, reloads from
    /// it (see [`reload`](Self::reload)). A file that cannot be read or is
    /// rejected leaves the running config as it is and logs an ERROR event
    /// with every problem; the next change is tried again. Polling needs no
    /// file-system notification support, so it works on every platform and
    /// in containers with mounted config maps.
    ///
    /// Runs on the current tokio runtime until the [`Watcher`] is dropped.
    pub fn watch(&self, path: impl Into<PathBuf>, every: Duration) -> Watcher {
        let path = path.into();
        let live = self.clone();
        let task = tokio::spawn(async move {
            let mut last = tokio::fs::read_to_string(&path).await.ok();
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let text = match tokio::fs::read_to_string(&path).await {
                    Ok(text) => text,
                    Err(err) => {
                        tracing::error!(path = %path.display(), error = %err, "cannot read the config file; the running config stays");
                        continue;
                    }
                };
                if last.as_deref() == Some(text.as_str()) {
                    continue;
                }
                last = Some(text.clone());
                match Config::from_toml(&text) {
                    Ok(config) => {
                        // `reload` logs its own outcome.
                        let _ = live.reload(config);
                    }
                    Err(errors) => tracing::error!(
                        path = %path.display(),
                        errors = %errors,
                        "config file rejected; the running config stays"
                    ),
                }
            }
        });
        Watcher { task }
    }
}
