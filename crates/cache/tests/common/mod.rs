//! Shared helpers for the cache's integration tests.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use steadfast_cache::{Cache, CacheBuilder, Cached, FetchOptions};
use steadfast_core::testing::{ScriptedOp, TestError};
use steadfast_core::{Error, Identity};

pub type TestCache = Cache<u32, u32, TestError>;

pub const SECOND: Duration = Duration::from_secs(1);

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// One nanosecond short of `n` seconds.
pub fn almost(n: u64) -> Duration {
    Duration::from_nanos(n * 1_000_000_000 - 1)
}

pub fn builder() -> CacheBuilder<u32, u32, TestError> {
    Cache::builder()
}

/// A get-or-fetch whose fetch is `op` (through the identity pipeline, so the
/// scripted operation's own future is the fetch).
pub async fn fetch(
    cache: &TestCache,
    key: u32,
    op: &ScriptedOp<u32, TestError>,
) -> Result<Cached<u32>, Error<TestError>> {
    cache
        .get_or_fetch_through(&key, FetchOptions::new(), &Identity, op.clone())
        .await
}

/// The same with options (tags, fresh time).
pub async fn fetch_with(
    cache: &TestCache,
    key: u32,
    options: FetchOptions,
    op: &ScriptedOp<u32, TestError>,
) -> Result<Cached<u32>, Error<TestError>> {
    cache
        .get_or_fetch_through(&key, options, &Identity, op.clone())
        .await
}

/// Lets spawned tasks run up to their next wait.
pub async fn settle() {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}
