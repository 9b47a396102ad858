//! A resilient cache for steadfast: get-or-fetch with single flight, tags,
//! stale-while-revalidate, stale-if-error, soft and hard timeouts and eager
//! refresh, on moka — usable on its own or as a policy in a pipeline.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use steadfast_cache::{Cache, FetchOptions, Freshness};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let profiles = Cache::<u64, Arc<str>, Arc<std::io::Error>>::builder()
//!     .fresh_for(Duration::from_secs(60))
//!     .stale_for(Duration::from_secs(600))
//!     .fail_safe(Duration::from_secs(3600), Duration::from_secs(30))
//!     .build()?;
//!
//! // A miss fetches, once however many callers miss together, and stores the value.
//! let options = FetchOptions::new().tag("user:42");
//! let ada = profiles
//!     .get_or_fetch_with(&42, options, || async { Ok(Arc::from("Ada")) })
//!     .await?;
//! assert_eq!(ada.freshness(), Freshness::Fetched);
//!
//! // A write to the user invalidates every entry tagged with it, in O(1).
//! profiles.invalidate_tag("user:42");
//! assert!(profiles.get(&42).await.is_none());
//! # Ok(())
//! # }
//! ```
//!
//! # The timeline
//!
//! An entry is **fresh** for `fresh_for`, then **stale** for `stale_for`:
//! a stale hit is served at once and starts one background refresh. Past
//! both it is a miss — but it is kept up to `fail_safe_max_age`, to stand
//! in when a fetch fails (**stale-if-error**), or when an inner policy
//! rejects it (**degrade on rejection**), or when a fetch outlasts the
//! **soft timeout**. The **hard timeout** bounds every fetch. With **eager
//! refresh**, a hit late in the fresh time refreshes early, so a hot key
//! never expires under traffic. docs/cache.md draws the timeline and helps
//! choose the numbers.
//!
//! # Two ways in
//!
//! - [`Cache::get_or_fetch`] (and `_with`, `_through` a pipeline): the
//!   fetch owns what it needs (`'static`), so it runs as its own task and
//!   every feature works — a dropped caller never strands the callers
//!   waiting on its fetch, refreshes run in the background, and a fetch
//!   past the soft timeout goes on to update the entry.
//! - As a [`Policy`](steadfast_core::Policy), keyed by the call's
//!   [`Context`](steadfast_core::Context) key: the rest of the pipeline is
//!   the fetch. It borrows the caller, so the caller that leads a fetch
//!   runs it; if it goes away, a waiting caller takes over. See
//!   docs/cache.md for what that changes. Wrap the operation in [`fetched`]
//!   and the pipeline answers [`Cached<V>`], freshness included. A call
//!   without a key of the cache's type is refused with
//!   [`Error::MissingKey`](steadfast_core::Error::MissingKey), unless
//!   [`CacheConfig::pass_through_unkeyed`] lets it run uncached.
//!
//! # Stores
//!
//! [`MokaStore`] is the default. [`QuickCacheStore`] (feature
//! `quick_cache`) serves hits several times faster, with expiry checked at
//! read. Both sit behind the [`Store`] seam, whose methods return futures
//! so that a shared second-level store can sit behind it too.

mod adapt;
mod aged;
mod builder;
mod cache;
mod cached;
mod config;
mod entry;
mod event;
mod fetch;
mod flight;
mod get;
mod log;
mod options;
mod policy;
mod remember;
#[cfg(feature = "serde")]
mod serde_text;
mod snapshot;
mod store;
mod tags;

pub use adapt::{Fetched, FetchedFuture, fetched};
pub use aged::Aged;
pub use builder::CacheBuilder;
pub use cache::Cache;
pub use cached::{Cached, Freshness, StaleReason};
pub use config::CacheConfig;
pub use entry::Entry;
pub use event::CacheEvent;
pub use options::{FailSafe, FetchOptions};
pub use snapshot::CacheSnapshot;
#[cfg(feature = "quick_cache")]
pub use store::QuickCacheStore;
pub use store::{BuildStore, Capacity, Key, MokaStore, Store, Weigher};
pub use tags::Tag;
