//! The background sweeper: forgets idle keys with no call from anyone.
//!
//! Inserts already sweep as they go, but a limiter that saw a million keys
//! once and then nothing would keep them all. So a keyed limiter built
//! inside a tokio runtime spawns one task that sweeps every interval, on
//! tokio's clock (so a paused test clock drives it too). The task holds a
//! weak reference: it ends at the first tick after the last clone of the
//! limiter is dropped. Built outside a runtime, a limiter has no task and
//! relies on inserts and [`KeyedRateLimiter::sweep`](crate::KeyedRateLimiter::sweep).

use std::sync::{Arc, Weak};
use std::time::Duration;

use steadfast_core::time;

/// Something with idle entries to forget.
pub(crate) trait Sweep: Send + Sync + 'static {
    /// Forgets what is idle now; returns how many entries went.
    fn sweep(&self) -> usize;
}

/// Spawns the sweeper of `target` on the current runtime, if there is one.
pub(crate) fn spawn<T: Sweep>(target: &Arc<T>, every: Duration) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak: Weak<T> = Arc::downgrade(target);
    runtime.spawn(async move {
        loop {
            time::sleep(every).await;
            let Some(target) = weak.upgrade() else {
                return;
            };
            let swept = target.sweep();
            if swept > 0 {
                tracing::trace!(swept, "forgot idle keys");
            }
        }
    });
}
