//! The abuse hook: a key rejected more than a threshold within a window is
//! reported once per window (a WARN event and the application's callback),
//! so the application can flag it (a ban list, a CAPTCHA, an alert).
//!
//! Rejections are counted per key in a fixed window that opens at the key's
//! first rejection; only rejected calls touch this map, so admitted calls
//! pay nothing for it.

use std::hash::RandomState;

use steadfast_core::Name;

use crate::builder::{AbuseFn, Key};
use crate::clock::nanos;
use crate::config::AbuseConfig;
use crate::sharded::ShardedMap;

#[derive(Clone, Copy, Debug, Default)]
struct Count {
    start: u64,
    rejections: u32,
    reported: bool,
}

pub(crate) struct Abuse<K> {
    counts: ShardedMap<K, Count, RandomState>,
    threshold: u32,
    window: u64,
    hook: Option<AbuseFn<K>>,
    name: Name,
    /// Whether the WARN event names the key (`log_keys`).
    log_keys: bool,
}

impl<K> Abuse<K> {
    /// The callback, for a reconfigured limiter's new counts.
    pub(crate) fn hook(&self) -> Option<AbuseFn<K>> {
        self.hook.clone()
    }
}

impl<K: Key> Abuse<K> {
    pub(crate) fn new(
        config: &AbuseConfig,
        hook: Option<AbuseFn<K>>,
        name: Name,
        log_keys: bool,
    ) -> Self {
        Abuse {
            counts: ShardedMap::new(RandomState::new(), None),
            threshold: config.threshold,
            window: nanos(config.window),
            hook,
            name,
            log_keys,
        }
    }

    /// Counts a rejection of `key`; reports it when it crosses the threshold.
    pub(crate) fn rejected(&self, key: &K, now: u64) {
        let (threshold, window) = (self.threshold, self.window);
        let crossed = self.counts.update(
            key,
            now,
            |count, _| {
                let mut count =
                    if count.rejections == 0 || now.saturating_sub(count.start) >= window {
                        Count {
                            start: now,
                            rejections: 0,
                            reported: false,
                        }
                    } else {
                        count
                    };
                count.rejections = count.rejections.saturating_add(1);
                let crossed = count.rejections > threshold && !count.reported;
                count.reported |= crossed;
                (Some(count), crossed.then_some(count.rejections))
            },
            |_, count, _| count.start.saturating_add(window),
        );
        if let Some(rejections) = crossed {
            // Outside the shard lock: the hook may take its time. The key
            // (a user id, an IP) is named only where the config opts in.
            let logged = self.log_keys.then_some(key);
            tracing::warn!(
                policy = %self.name,
                key = logged.map(tracing::field::debug),
                rejections,
                threshold,
                "key rejected more than the abuse threshold within the window"
            );
            if let Some(hook) = &self.hook {
                hook(key, rejections);
            }
        }
    }

    pub(crate) fn sweep(&self, now: u64) {
        let window = self.window;
        self.counts
            .sweep(now, |_, count, _| count.start.saturating_add(window));
    }
}
