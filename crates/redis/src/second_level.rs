//! A second level: every value a [`SharedCache`](crate::SharedCache)
//! fetches is also kept in Redis, so an instance that misses its own
//! memory reads the value another instance fetched instead of fetching it
//! again.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use steadfast_breaker::Breaker;
use steadfast_cache::Tag;
use steadfast_core::{ConfigError, Error, Policy};

use crate::connection::{Conn, Connection};
use crate::limiter::Guard;
use crate::script::{L2_SET, L2_STAMP, Script};

/// Separates tags in an entry's `g` field (ASCII unit separator).
const SEP: u8 = 0x1f;

/// A second level's configuration: where its keys live in Redis and how
/// long it waits for Redis.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecondLevelConfig {
    /// The keys' prefix: every instance of one cache uses the same, and
    /// no other cache does. Entries are `<prefix>:k:<key>`, tag stamps
    /// `<prefix>:t:<tag>`, the clear stamp `<prefix>:all`.
    pub prefix: String,
    /// The longest one round trip waits. Default 50 ms; past it (or while
    /// the breaker around Redis is open) the cache carries on without its
    /// second level: reads fetch, writes are skipped.
    pub timeout: Duration,
    /// How long Redis keeps a tag's (or a clear's) invalidation stamp.
    /// Must outlast every entry's fresh time: an entry stored before the
    /// stamp and read after it has expired would be served. Default 1 day.
    pub stamp_ttl: Duration,
}

impl SecondLevelConfig {
    /// A second level under `prefix`, every other field its default.
    pub fn new(prefix: impl Into<String>) -> Self {
        SecondLevelConfig {
            prefix: prefix.into(),
            timeout: Duration::from_millis(50),
            stamp_ttl: Duration::from_secs(24 * 3600),
        }
    }

    fn validate(&self, fresh_for: Duration) -> Result<(), ConfigError> {
        const POLICY: &str = "cache second level";
        if self.prefix.is_empty() {
            return Err(ConfigError::new(POLICY, "prefix", "must be non-empty"));
        }
        if self.timeout.is_zero() {
            return Err(
                ConfigError::new(POLICY, "timeout", "must be positive").with_value(self.timeout)
            );
        }
        if self.stamp_ttl <= fresh_for {
            return Err(ConfigError::new(
                POLICY,
                "stamp_ttl",
                "must be longer than the cache's fresh time",
            )
            .with_value(self.stamp_ttl));
        }
        Ok(())
    }
}

/// What a second level has done.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecondLevelSnapshot {
    /// Reads that found a servable value in Redis.
    pub hits: u64,
    /// Reads that found nothing.
    pub misses: u64,
    /// Reads that found a value older than its fresh time (not served).
    pub expired: u64,
    /// Reads that found a value a tag or clear invalidation made
    /// unservable (not served).
    pub invalidated: u64,
    /// Values that could not be encoded, or read back (another type,
    /// another format, bytes not ours): not served, counted, warned.
    pub codec_failed: u64,
    /// Entries written (stored, or left as a newer fetch's).
    pub writes: u64,
    /// Round trips that failed, timed out or were skipped because the
    /// breaker around Redis was open.
    pub errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    expired: AtomicU64,
    invalidated: AtomicU64,
    codec_failed: AtomicU64,
    writes: AtomicU64,
    errors: AtomicU64,
}

/// What a read of the second level found.
pub(crate) enum Read<V> {
    /// A servable value, `age` old.
    Hit { value: V, age: Duration },
    /// Nothing servable. `started` is Redis's time at the read, in
    /// microseconds: the fetch that follows is stamped with it.
    Miss { started: u64 },
    /// Redis could not answer.
    Unavailable,
}

/// A read's one round trip: Redis's `TIME`, the entry's fields, and the
/// clear stamp with the stamps of the tags the caller named.
type ReadAnswer = (
    (u64, u64),
    (Option<u64>, Option<Vec<u8>>, Option<Vec<u8>>),
    Vec<Option<u64>>,
);

type Encode<V> = fn(&V) -> postcard::Result<Vec<u8>>;
type Decode<V> = fn(&[u8]) -> postcard::Result<V>;

pub(crate) struct SecondLevel<V> {
    connection: Connection,
    prefix: String,
    stamp_ttl_ms: u64,
    set: Script,
    stamp: Script,
    guard: Guard,
    breaker: Breaker,
    encode: Encode<V>,
    decode: Decode<V>,
    counters: Counters,
}

fn encode<V: Serialize>(value: &V) -> postcard::Result<Vec<u8>> {
    postcard::to_stdvec(value)
}

fn decode<V: DeserializeOwned>(bytes: &[u8]) -> postcard::Result<V> {
    postcard::from_bytes(bytes)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl<V> SecondLevel<V> {
    /// A second level on the Redis at `url`, values in postcard's compact
    /// binary format; `fresh_for` is the cache's own fresh time.
    pub(crate) fn new(
        url: &str,
        config: &SecondLevelConfig,
        fresh_for: Duration,
    ) -> Result<Self, crate::BusError>
    where
        V: Serialize + DeserializeOwned,
    {
        config.validate(fresh_for)?;
        let connection = Connection::single(url, config.timeout).map_err(crate::BusError::Url)?;
        let name = steadfast_core::Name::from(format!("{}-l2", config.prefix));
        let (guard, breaker) =
            crate::limiter::guard(&name, 3, Duration::from_secs(1), config.timeout)?;
        Ok(SecondLevel {
            connection,
            prefix: config.prefix.clone(),
            stamp_ttl_ms: millis(config.stamp_ttl),
            set: Script::new(L2_SET),
            stamp: Script::new(L2_STAMP),
            guard,
            breaker,
            encode: encode::<V>,
            decode: decode::<V>,
            counters: Counters::default(),
        })
    }

    fn key(&self, part: &str, text: &str) -> Vec<u8> {
        format!("{}:{part}:{text}", self.prefix).into_bytes()
    }

    fn all_key(&self) -> Vec<u8> {
        format!("{}:all", self.prefix).into_bytes()
    }

    /// The connection, unless Redis is known not to answer now.
    fn conn(&self) -> Option<Conn> {
        let conn = self
            .connection
            .get()
            .filter(|_| !self.breaker.is_refusing());
        if conn.is_none() {
            self.counters.errors.fetch_add(1, Relaxed);
        }
        conn
    }

    /// One round trip through the breaker and the timeout; `None` (counted)
    /// when it fails.
    async fn round_trip<T, F, Fut>(&self, run: F) -> Option<T>
    where
        T: Send,
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = redis::RedisResult<T>> + Send,
    {
        match self.guard.call(run).await {
            Ok(answer) => Some(answer),
            Err(err) => {
                if !matches!(err, Error::CircuitOpen(_)) {
                    tracing::debug!(error = %err, "cache second level: Redis did not answer");
                }
                self.counters.errors.fetch_add(1, Relaxed);
                None
            }
        }
    }

    /// Reads `key`: its value if Redis holds one younger than `fresh_for`
    /// that no invalidation since its fetch began has made unservable.
    /// `tags` are the tags the caller expects the entry to carry: their
    /// stamps come back in the same round trip (others cost one more).
    pub(crate) async fn read(&self, key: &str, fresh_for: Duration, tags: &[Tag]) -> Read<V> {
        let Some(Conn::Single(conn)) = self.conn() else {
            return Read::Unavailable;
        };
        let mut pipe = redis::pipe();
        pipe.cmd("TIME")
            .cmd("HMGET")
            .arg(self.key("k", key))
            .arg("t")
            .arg("v")
            .arg("g")
            .cmd("MGET")
            .arg(self.all_key());
        for tag in tags {
            pipe.arg(self.key("t", tag.as_str()));
        }
        let answer: Option<ReadAnswer> = self
            .round_trip(|| {
                let (mut conn, pipe) = (conn.clone(), pipe.clone());
                async move { pipe.query_async(&mut conn).await }
            })
            .await;
        let Some(((secs, micros), (written, bytes, entry_tags), stamps)) = answer else {
            return Read::Unavailable;
        };
        let now = secs.saturating_mul(1_000_000).saturating_add(micros);
        let (Some(written), Some(bytes)) = (written, bytes) else {
            self.counters.misses.fetch_add(1, Relaxed);
            return Read::Miss { started: now };
        };
        let mut newest = stamps.iter().flatten().copied().max().unwrap_or(0);
        // Tags the entry carries that the caller did not name: their stamps
        // in one more round trip.
        let others: Vec<Vec<u8>> = entry_tags
            .as_deref()
            .unwrap_or_default()
            .split(|&b| b == SEP)
            .filter(|tag| !tag.is_empty() && !tags.iter().any(|t| t.as_str().as_bytes() == *tag))
            .map(|tag| self.key("t", &String::from_utf8_lossy(tag)))
            .collect();
        if !others.is_empty() {
            let mut cmd = redis::cmd("MGET");
            cmd.arg(others);
            let more: Option<Vec<Option<u64>>> = self
                .round_trip(|| {
                    let (mut conn, cmd) = (conn.clone(), cmd.clone());
                    async move { cmd.query_async(&mut conn).await }
                })
                .await;
            let Some(more) = more else {
                return Read::Unavailable;
            };
            newest = newest.max(more.into_iter().flatten().max().unwrap_or(0));
        }
        if newest >= written {
            self.counters.invalidated.fetch_add(1, Relaxed);
            return Read::Miss { started: now };
        }
        let age = Duration::from_micros(now.saturating_sub(written));
        if age >= fresh_for {
            self.counters.expired.fetch_add(1, Relaxed);
            return Read::Miss { started: now };
        }
        match (self.decode)(&bytes) {
            Ok(value) => {
                self.counters.hits.fetch_add(1, Relaxed);
                Read::Hit { value, age }
            }
            Err(err) => {
                self.counters.codec_failed.fetch_add(1, Relaxed);
                tracing::warn!(
                    prefix = self.prefix.as_str(),
                    error = %err,
                    "cache second level: a value in Redis does not read back as this cache's type; fetching instead"
                );
                Read::Miss { started: now }
            }
        }
    }

    /// Writes `value` under `key`, as fetched from `started` (Redis's
    /// microseconds; 0 for now), kept `fresh_for`. A tag holding the byte
    /// 0x1f (the separator) skips the write: better no copy than one whose
    /// tags read back wrong.
    pub(crate) async fn write(
        &self,
        key: &str,
        value: &V,
        tags: &[Tag],
        started: u64,
        fresh_for: Duration,
    ) {
        if tags
            .iter()
            .any(|tag| tag.as_str().as_bytes().contains(&SEP))
        {
            self.counters.codec_failed.fetch_add(1, Relaxed);
            return;
        }
        let bytes = match (self.encode)(value) {
            Ok(bytes) => bytes,
            Err(err) => {
                self.counters.codec_failed.fetch_add(1, Relaxed);
                tracing::warn!(prefix = self.prefix.as_str(), error = %err, "cache second level: a value could not be encoded; not stored in Redis");
                return;
            }
        };
        let Some(conn) = self.conn() else {
            return;
        };
        let joined = tags
            .iter()
            .map(Tag::as_str)
            .collect::<Vec<_>>()
            .join("\u{1f}");
        let entry = self.key("k", key);
        let (started, ttl) = (started.to_string(), millis(fresh_for).to_string());
        let args: [&[u8]; 4] = [
            started.as_bytes(),
            &bytes,
            joined.as_bytes(),
            ttl.as_bytes(),
        ];
        let script = &self.set;
        let stored: Option<i64> = self
            .round_trip(|| {
                let (conn, keys) = (conn.clone(), [entry.as_slice()]);
                async move { script.run(conn, &keys, &args).await }
            })
            .await;
        if stored.is_some() {
            self.counters.writes.fetch_add(1, Relaxed);
        }
    }

    /// Drops `key`'s entry.
    pub(crate) async fn remove(&self, key: &str) {
        let Some(Conn::Single(conn)) = self.conn() else {
            return;
        };
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key("k", key));
        let _: Option<i64> = self
            .round_trip(|| {
                let (mut conn, cmd) = (conn.clone(), cmd.clone());
                async move { cmd.query_async(&mut conn).await }
            })
            .await;
    }

    /// Stamps `tag`'s invalidation (`None`: everything's).
    pub(crate) async fn stamp(&self, tag: Option<&str>) {
        let Some(conn) = self.conn() else {
            return;
        };
        let key = match tag {
            Some(tag) => self.key("t", tag),
            None => self.all_key(),
        };
        let (script, args) = (&self.stamp, [self.stamp_ttl_ms]);
        let _: Option<String> = self
            .round_trip(|| {
                let (conn, keys) = (conn.clone(), [key.as_slice()]);
                async move { script.run(conn, &keys, &args).await }
            })
            .await;
    }

    /// Waits (up to `within`) for the connection.
    #[cfg(test)]
    pub(crate) async fn ready(&self, within: Duration) -> bool {
        self.connection.ready(within).await
    }

    /// Whether the connection is made (starting it if not).
    pub(crate) fn connected(&self) -> bool {
        self.connection.get().is_some()
    }

    pub(crate) fn snapshot(&self) -> SecondLevelSnapshot {
        let c = &self.counters;
        SecondLevelSnapshot {
            hits: c.hits.load(Relaxed),
            misses: c.misses.load(Relaxed),
            expired: c.expired.load(Relaxed),
            invalidated: c.invalidated.load(Relaxed),
            codec_failed: c.codec_failed.load(Relaxed),
            writes: c.writes.load(Relaxed),
            errors: c.errors.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fetch_that_started_earlier_never_overwrites_a_later_ones_value() {
        let prefix = format!("steadfast-test:l2-order:{}", std::process::id());
        let config = SecondLevelConfig::new(prefix);
        let second =
            SecondLevel::<String>::new("redis://127.0.0.1:6379", &config, Duration::from_secs(60))
                .unwrap();
        assert!(second.ready(Duration::from_secs(5)).await);
        let Read::Miss { started: early } = second.read("k", Duration::from_secs(60), &[]).await
        else {
            panic!("nothing there yet");
        };
        let late = early + 1_000;
        second
            .write("k", &"late".to_owned(), &[], late, Duration::from_secs(60))
            .await;
        second
            .write(
                "k",
                &"early".to_owned(),
                &[],
                early,
                Duration::from_secs(60),
            )
            .await;
        let Read::Hit { value, .. } = second.read("k", Duration::from_secs(60), &[]).await else {
            panic!("stored");
        };
        assert_eq!(value, "late");
        assert_eq!(second.snapshot().writes, 2, "both answered; one was kept");
        second.remove("k").await;
    }
}
