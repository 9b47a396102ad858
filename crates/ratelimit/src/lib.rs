//! Rate limiting for steadfast: GCRA and windows, per-key quotas with
//! bounded memory, tiers, waiting, and brute-force lockout.
//!
//! # Overview
//!
//! - [`RateLimiter`]: one quota for everything (an outbound API's limit).
//! - [`KeyedRateLimiter`]: a quota per key (user, IP, API key, endpoint, a
//!   tuple), the key given with each call; the quota is chosen per call
//!   from the key's **tier** (anonymous 60/min, pro 500/min…) by one
//!   limiter, and quotas change at run time without losing state.
//! - [`Algorithm`]: GCRA (rate plus burst, the default), a sliding-window
//!   counter, or a fixed window. A call may cost more than one unit
//!   ([`Context::with_cost`](steadfast_core::Context::with_cost), `check_n`).
//! - [`Mode`]: reject at once with `Error::RateLimited` and the exact
//!   `retry_after()`, or wait for a turn up to a maximum, in arrival order.
//! - [`WarmUp`]: ramp the rate from a fraction to full after start or idleness.
//! - [`Lockout`]: lock a key after repeated failures (failed logins), for a
//!   period that doubles with each repeated lockout.
//! - Abuse hook: a callback and a WARN event when a key is rejected more than
//!   a threshold within a window ([`RateLimiterBuilder::abuse`]).
//! - [`RateLimitState`] and [`headers`]: `Retry-After` and
//!   `RateLimit-Limit` / `-Remaining` / `-Reset` values.
//! - [`StateStore`]: the seam where a shared store (Redis) can run the same
//!   algorithms across instances; [`MemoryStore`] by default.
//!
//! Both limiters are [`Policy`](steadfast_core::Policy)s, and offer a direct
//! API (`check`, `check_n`, `peek`) for middleware and hot loops.
//!
//! # Usage
//!
//! ```
//! use std::time::Duration;
//! use steadfast_core::{Context, Error, Policy};
//! use steadfast_ratelimit::{KeyedRateLimiter, Quota, headers};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // 2 requests per second per user, bursts of 2.
//! let limiter = KeyedRateLimiter::<u64>::builder(Quota::per_second(2))
//!     .name("api-per-user")
//!     .build()?;
//!
//! let user_id = 42u64;
//! for _ in 0..2 {
//!     let ok = limiter
//!         .call_with(Context::new().with_key(&user_id), || async { Ok::<_, std::io::Error>("ok") })
//!         .await;
//!     assert_eq!(ok?, "ok");
//! }
//! let refused = limiter
//!     .call_with(Context::new().with_key(&user_id), || async { Ok::<_, std::io::Error>("ok") })
//!     .await;
//! match refused {
//!     Err(Error::RateLimited(r)) => {
//!         assert_eq!(r.retry_after(), Some(Duration::from_millis(500)));
//!         assert_eq!(r.message(), "Too many requests. Try again in 1 s.");
//!         assert_eq!(headers::retry_after_of(&r).as_deref(), Some("1"));
//!     }
//!     other => panic!("expected a rejection, got {other:?}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # How it works
//!
//! Every algorithm keeps a key's whole state in one `u64` word (GCRA: the
//! theoretical arrival time; windows: the window number and two counts),
//! and decides with a pure function of the word, the time and the cost. A
//! direct limiter holds the word in one `AtomicU64` updated by a
//! compare-and-swap around that function; a keyed limiter holds `K -> u64`
//! in a sharded map, the key hashed once, each shard behind a lock held for
//! a lookup and a few instructions. Nothing allocates on a check of a key
//! already tracked.
//!
//! # Clock
//!
//! Reading std's clock costs about 30 ns on the benchmark machine, and the
//! CPU's time-stamp counter about 13 ns: either is most of a check. So by
//! default ([`TimeSource::Auto`]) a GCRA quota refilling no faster than one
//! unit per [`CACHED_MIN_INTERVAL`] (4 ms) reads a cached time-stamp that a
//! `steadfast-clock` thread refreshes every millisecond (its lag is below one
//! refill interval, so "at most limit + burst per period" still holds);
//! faster quotas and the window algorithms read the counter (via `quanta`),
//! anchored to tokio's clock. When tokio's clock is paused at build time (a
//! `#[tokio::test(start_paused = true)]`), a limiter reads tokio's clock
//! instead, so tests drive it with `tokio::time::advance`. See
//! [`TimeSource`] and `docs/ratelimit.md`.
//!
//! # Memory
//!
//! Keys are forgotten once their state is back to full (their word says so),
//! with no cleanup call: inserts sweep the shard they land in (amortised),
//! and a background task on the tokio runtime sweeps every
//! [`sweep_interval`](RateLimiterConfig::sweep_interval). An optional
//! [`max_keys`](RateLimiterBuilder::max_keys) evicts the idlest keys.
//! A tracked key costs its key plus 9 bytes in a hash table slot (a `u64`
//! key: 17 bytes a slot, 35.7 bytes per key measured with a million keys,
//! the same as governor); [`RateLimiterSnapshot::bytes_per_key`] reports it.
//!
//! # Calls without a key
//!
//! A [`KeyedRateLimiter<K>`] (and a [`Lockout<K>`]) used as a policy reads
//! its key with `ctx.key::<K>()`. A call whose context has no key of type
//! `K` (no key, or a `&str` where `K` is `String`) is refused with
//! `Error::MissingKey` naming the limiter and the key type, and the first
//! such call logs a WARN. Why not a shared bucket: a forgotten `with_key`
//! would put every caller in one bucket, so one user could spend everyone's
//! quota (three users on a 2/min quota, the third refused), silently.
//!
//! Where one bucket for all unkeyed calls is what you mean (a limiter
//! guarding internal calls that carry no user), opt in with
//! [`share_unkeyed`](RateLimiterBuilder::share_unkeyed) (config
//! `share_unkeyed = true`): such calls share one bucket with the default
//! tier's quota. A lockout's opt-in,
//! [`pass_through_unkeyed`](LockoutBuilder::pass_through_unkeyed), runs them
//! unguarded (there is no key to lock).
//!
//! # Keys in events
//!
//! Keys are user ids, IPs and emails, so events (the abuse WARN, a
//! lockout's INFO) name the policy and not the key, unless the config opts
//! in with `log_keys` ([`RateLimiterBuilder::log_keys`],
//! [`LockoutBuilder::log_keys`]).
//!
//! # Feature flags
//!
//! - `serde`: configs deserialize and serialize (they round-trip through
//!   TOML), durations written as `"30s"` or `"250ms"`; snapshots
//!   ([`RateLimiterSnapshot`], [`LockoutSnapshot`]) serialize.
//!
//! # Minimum supported Rust version
//!
//! Rust 1.88, edition 2024.

mod abuse;
mod algorithm;
mod builder;
mod clock;
mod config;
mod direct;
mod engine;
mod future;
pub mod headers;
mod keyed;
pub mod lockout;
mod multi;
mod policy;
mod quota;
mod reconfigure;
#[cfg(feature = "serde")]
mod serde_text;
mod sharded;
mod snapshot;
mod store;
mod sweeper;
mod sync;
mod tiers;
mod wait;
mod warmup;

#[cfg(all(test, loom))]
mod loom_tests;

pub use builder::{Direct, Key, Keyed, RateLimiterBuilder};
pub use clock::{CACHED_MIN_INTERVAL, TimeSource};
pub use config::{AbuseConfig, Mode, RateLimiterConfig, TierConfig};
pub use direct::RateLimiter;
pub use future::RateLimitFuture;
pub use keyed::KeyedRateLimiter;
pub use lockout::{Lockout, LockoutBuilder, LockoutConfig, LockoutSnapshot};
pub use multi::{KeyedLimit, Limit, Reservation, all_of, take_all};
pub use quota::{Algorithm, MAX_WINDOW_LIMIT, Quota};
pub use snapshot::{RateLimitState, RateLimiterSnapshot};
pub use store::{Change, Expiry, MemoryStore, StateStore, StoreStats, Tally};
pub use warmup::WarmUp;
