//! Rate limits shared by every instance of a service, through Redis.
//!
//! A [`RedisRateLimiter`] keeps each key's GCRA state in Redis and decides
//! in one round trip: a short Lua script (`gcra.lua`) reads Redis's own
//! clock (`TIME`), so instances whose clocks disagree still agree, and
//! updates the key atomically. Keys are `<prefix>:{<key>}`, the key as the
//! hash tag, and expire by themselves once full again.
//!
//! When Redis is down or slow, a breaker and a short timeout around it
//! answer each check in microseconds by the configured [`WhenDown`] mode:
//! fail open, fail closed, or (the default) a local limiter with this
//! instance's share of the quota. The limiter returns to Redis by itself
//! once Redis answers; a WARN event marks the switch, an INFO one the
//! return, and [`RedisLimiterSnapshot::fallback_active`] reports it.
//!
//! A key Redis refused is refused here, without a round trip, until the
//! moment Redis said a one-unit call could pass: other instances can only
//! move that moment later, so this never refuses a call Redis would admit.
//!
//! ```
//! use steadfast_core::{Context, Policy};
//! use steadfast_ratelimit::Quota;
//! use steadfast_redis::{RedisLimiterConfig, RedisRateLimiter};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = RedisLimiterConfig::new(Quota::per_minute(60).burst(10));
//! config.prefix = "api-users".into();
//! let limiter = RedisRateLimiter::<String>::new("redis://127.0.0.1:6379", config)?;
//! limiter.ready(std::time::Duration::from_secs(1)).await;
//!
//! let user = "alice".to_owned();
//! let answer = limiter
//!     .call_with(Context::new().with_key(&user), || async { Ok::<_, std::io::Error>("hello") })
//!     .await;
//! # Ok(())
//! # }
//! ```
//!
//! # What else is here
//!
//! - Windows: `config.algorithm = Algorithm::SlidingWindow` (or
//!   `FixedWindow`) runs the window counters as a script of their own.
//! - [`all_of`]: several Redis limits in one script, all or none, with
//!   [`RedisReservation::refund`].
//! - [`RedisLockout`]: brute-force lockout with each key's record in Redis.
//! - Shadow mode (`config.shadow`): decide and count, refuse nothing.
//! - Redis Cluster: [`RedisRateLimiter::cluster`].
//!
//! # Cache backplane
//!
//! [`SharedCache`] joins a steadfast-cache [`Cache`](steadfast_cache::Cache)
//! to a Redis pub/sub channel: a value one instance stores marks the
//! others' copies out of date (kept as fail-safe stand-ins), and
//! invalidations of keys, tags and everything reach every instance.
//! Messages carry the key, never the value. With
//! [`SharedCache::with_second_level`], values are kept in Redis too, so a
//! miss on one instance reads what another fetched.
//!
//! docs/redis.md has the key layout, the script's logic, the failure modes
//! and how to choose one.

mod all_of;
mod batch;
mod bus;
mod config;
mod connection;
mod limiter;
mod lockout;
mod recovery;
mod refusals;
mod script;
mod second_level;
mod snapshot;

pub use all_of::{RedisLimit, RedisReservation, SharedLimit, all_of};
pub use bus::{BusConfig, BusError, BusSnapshot, SharedCache};
pub use config::{RedisLimiterConfig, WhenDown};
pub use limiter::{Admitted, BuildError, RedisRateLimiter, Source};
pub use lockout::RedisLockout;
pub use second_level::{SecondLevelConfig, SecondLevelSnapshot};
pub use snapshot::RedisLimiterSnapshot;
