//! A backplane: what one instance's cache learns (a new value, an
//! invalidation), every other instance's cache hears over Redis pub/sub.

use std::fmt::{self, Display};
use std::hash::{BuildHasher, RandomState};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use futures::StreamExt;
use steadfast_cache::{Aged, Cache, Cached, FetchOptions, Store};
use steadfast_core::{Classifier, ConfigError, Error};
use tokio::sync::mpsc;

use crate::connection::{Conn, Connection};
use crate::recovery::Recovery;
use crate::second_level::{Read, SecondLevel, SecondLevelConfig, SecondLevelSnapshot};

/// The wire format's version, in the channel's name: instances of another
/// version do not hear each other rather than misread each other.
const VERSION: &str = "v1";
/// Field separator in a message (ASCII unit separator).
const SEP: char = '\u{1f}';
/// Messages waiting to be published; past it they are dropped (counted).
const QUEUE: usize = 4_096;

/// What a message asks of the other instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// A newer value was stored: mark yours out of date (kept as a fail-safe stand-in).
    Set,
    /// The key was invalidated: drop it.
    Remove,
    /// The tag was invalidated.
    Tag,
    /// Everything was invalidated.
    Clear,
}

impl Action {
    fn code(self) -> char {
        match self {
            Action::Set => 'S',
            Action::Remove => 'R',
            Action::Tag => 'T',
            Action::Clear => 'C',
        }
    }

    fn of(code: &str) -> Option<Action> {
        Some(match code {
            "S" => Action::Set,
            "R" => Action::Remove,
            "T" => Action::Tag,
            "C" => Action::Clear,
            _ => return None,
        })
    }
}

/// A cache backplane's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BusConfig {
    /// The channel's name: every instance of one cache uses the same. The
    /// channel is `steadfast:cache:v1:<name>`.
    pub name: String,
    /// The longest a publish waits for Redis. Default 100 ms.
    pub timeout: Duration,
    /// The first wait before subscribing again after the connection is
    /// lost, doubled up to 5 s. Default 100 ms.
    pub reconnect_after: Duration,
}

impl BusConfig {
    /// A bus on the channel `name`, every other field its default.
    pub fn new(name: impl Into<String>) -> Self {
        BusConfig {
            name: name.into(),
            timeout: Duration::from_millis(100),
            reconnect_after: Duration::from_millis(100),
        }
    }
}

/// What a backplane has done.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BusSnapshot {
    /// Messages published.
    pub sent: u64,
    /// Messages that could not be published when first sent (Redis down,
    /// or the queue full).
    pub send_failed: u64,
    /// Of those, messages published later from the recovery queue.
    pub recovered: u64,
    /// Messages waiting in the recovery queue now (the latest per key or
    /// tag; a clear in place of all once more than 4 096 subjects wait).
    pub recovery_queued: u64,
    /// Messages received from other instances and applied.
    pub received: u64,
    /// Messages received that could not be read (another format, a key
    /// that does not parse): ignored.
    pub malformed: u64,
    /// Times the subscription was made again after a loss; each one clears
    /// the cache, whose invalidations meanwhile were missed.
    pub resubscribed: u64,
    /// Whether the subscription is up now.
    pub subscribed: bool,
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    send_failed: AtomicU64,
    recovered: AtomicU64,
    recovery_queued: AtomicU64,
    /// A message was dropped from a full queue.
    overflowed: std::sync::atomic::AtomicBool,
    received: AtomicU64,
    malformed: AtomicU64,
    resubscribed: AtomicU64,
    subscribed: std::sync::atomic::AtomicBool,
}

struct Bus {
    channel: String,
    instance: String,
    queue: mpsc::Sender<String>,
    counters: Arc<Counters>,
    tasks: [tokio::task::AbortHandle; 2],
}

impl Drop for Bus {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A [`Cache`] whose changes reach the same cache on every other instance
/// through Redis pub/sub; see the [crate docs](crate).
///
/// Reads go to the cache as usual ([`cache`](Self::cache)); writes and
/// fetches through this handle tell the other instances. Clones share the
/// subscription; it ends when the last is dropped.
pub struct SharedCache<K, V, E, C, S> {
    cache: Cache<K, V, E, C, S>,
    bus: Arc<Bus>,
    second: Option<Arc<SecondLevel<V>>>,
}

impl<K, V, E, C, S> Clone for SharedCache<K, V, E, C, S> {
    fn clone(&self) -> Self {
        SharedCache {
            cache: self.cache.clone(),
            bus: Arc::clone(&self.bus),
            second: self.second.clone(),
        }
    }
}

impl<K, V, E, C, S> fmt::Debug for SharedCache<K, V, E, C, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedCache")
            .field("channel", &self.bus.channel)
            .field("instance", &self.bus.instance)
            .field("second_level", &self.second.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a backplane could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BusError {
    /// The Redis URL is malformed.
    #[error("invalid Redis URL: {0}")]
    Url(#[source] redis::RedisError),
    /// The channel's name is empty.
    #[error("invalid cache bus config: `name` must be non-empty")]
    Name,
    /// A second level's config field was rejected.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl<K, V, E, C, S> SharedCache<K, V, E, C, S>
where
    K: steadfast_cache::Key + Display + FromStr,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    C: Classifier<V, E> + Send + Sync + 'static,
    S: Store<K, V>,
{
    /// Joins `cache` to the backplane on the Redis at `url`: it hears the
    /// other instances' changes from now on, and tells them its own. Keys
    /// travel as their `Display` text and are read back with `FromStr`;
    /// values never travel. Must be called inside a tokio runtime.
    pub fn new(
        url: &str,
        config: &BusConfig,
        cache: Cache<K, V, E, C, S>,
    ) -> Result<Self, BusError> {
        if config.name.is_empty() {
            return Err(BusError::Name);
        }
        let client = redis::Client::open(url).map_err(BusError::Url)?;
        let publisher = Connection::single(url, config.timeout).map_err(BusError::Url)?;
        let channel = format!("steadfast:cache:{VERSION}:{}", config.name);
        let instance = format!(
            "{:016x}",
            RandomState::new().hash_one((std::process::id(), &channel))
        );
        let counters = Arc::new(Counters::default());
        let (queue, outbox) = mpsc::channel(QUEUE);
        let publish = tokio::spawn(publish(
            publisher,
            channel.clone(),
            instance.clone(),
            outbox,
            Arc::clone(&counters),
            config.timeout,
            config.reconnect_after,
        ));
        let listen = tokio::spawn(listen(
            client,
            channel.clone(),
            instance.clone(),
            cache.clone(),
            Arc::clone(&counters),
            config.reconnect_after,
        ));
        Ok(SharedCache {
            cache,
            bus: Arc::new(Bus {
                channel,
                instance,
                queue,
                counters,
                tasks: [publish.abort_handle(), listen.abort_handle()],
            }),
            second: None,
        })
    }

    /// Adds a second level on the Redis at `url`: every value this handle
    /// fetches or inserts is also kept in Redis (serialized with serde, in
    /// postcard's compact binary format) for its fresh time, and a miss in
    /// this instance's memory reads Redis before it fetches. A value read
    /// there keeps its age: it turns stale here when it does everywhere.
    ///
    /// An entry is served from Redis only while younger than the fresh
    /// time (the call's [`FetchOptions::fresh_for`] or the cache's; a
    /// `fresh_for_value` rule is not applied to what is written) and only
    /// if no tag it carries, and no `invalidate_all`, was invalidated since
    /// its fetch began: the invalidations stamp Redis's clock on a key of
    /// their own, checked at read, so a tag invalidation stays one write
    /// however many entries carry the tag. A value that does not read back
    /// as `V` is not served: the fetch runs and overwrites it.
    ///
    /// While Redis is slow or down (each round trip bounded by
    /// `config.timeout`, a breaker around it), reads fetch and writes are
    /// skipped: the first level and its fail-safe serve as before.
    pub fn with_second_level(
        mut self,
        url: &str,
        config: &SecondLevelConfig,
    ) -> Result<Self, BusError>
    where
        V: serde::Serialize + serde::de::DeserializeOwned,
    {
        let fresh_for = self.cache.config().fresh_for;
        self.second = Some(Arc::new(SecondLevel::new(url, config, fresh_for)?));
        Ok(self)
    }

    /// The cache, for reads (and anything that need not be told).
    pub fn cache(&self) -> &Cache<K, V, E, C, S> {
        &self.cache
    }

    /// [`Cache::get_or_fetch`]; a value the fetch stores marks the other
    /// instances' copies out of date (they fetch on their next read, and
    /// keep the old value as a fail-safe stand-in). With a second level, a
    /// miss reads Redis first and fetches only if Redis holds nothing
    /// servable.
    ///
    /// `fetch` is called only when this caller fetches and Redis holds
    /// nothing servable, so it is moved into the fetch's task: it must be
    /// `Send + 'static` (capture clones, not borrows).
    pub async fn get_or_fetch<F, Fut>(&self, key: &K, fetch: F) -> Result<Cached<V>, Error<E>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        self.get_or_fetch_with(key, FetchOptions::new(), fetch)
            .await
    }

    /// [`Cache::get_or_fetch_with`]: [`get_or_fetch`](Self::get_or_fetch)
    /// with tags and the call's own fresh time, stale window and timeout.
    pub async fn get_or_fetch_with<F, Fut>(
        &self,
        key: &K,
        options: FetchOptions,
        fetch: F,
    ) -> Result<Cached<V>, Error<E>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        let fresh_for = options
            .fresh_for_override()
            .unwrap_or(self.cache.config().fresh_for);
        self.cache
            .get_or_fetch_aged(key, options.clone(), move || {
                // Only when a fetch runs: a hit formats nothing.
                let (bus, told) = (Arc::clone(&self.bus), key.to_string());
                let second = self.second.clone();
                let (cache, key) = (self.cache.clone(), key.clone());
                // Boxed, on the fetch path only: the second level's round
                // trips would otherwise make every caller's future kilobytes.
                Box::pin(async move {
                    let mut started = None;
                    if let Some(second) = &second {
                        match second.read(&told, fresh_for, options.tag_list()).await {
                            Read::Hit { value, age } => return Ok(Aged::with_age(value, age)),
                            Read::Miss { started: at } => started = Some(at),
                            Read::Unavailable => {}
                        }
                    }
                    let value = fetch().await?;
                    // Redis first, then the bus: an instance told of the
                    // new value finds it there.
                    if let (Some(second), Some(started)) = (&second, started) {
                        let tags = cache.tags_for(&key, &value, &options);
                        second.write(&told, &value, &tags, started, fresh_for).await;
                    }
                    bus.tell(Action::Set, &told);
                    Ok(Aged::new(value))
                })
            })
            .await
    }

    /// [`Cache::insert`], and the other instances' copies marked out of date.
    pub async fn insert(&self, key: K, value: V) {
        let told = key.to_string();
        if let Some(second) = &self.second {
            let tags = self.cache.tags_for(&key, &value, &FetchOptions::new());
            let fresh_for = self.cache.config().fresh_for;
            second.write(&told, &value, &tags, 0, fresh_for).await;
        }
        self.cache.insert(key, value).await;
        self.bus.tell(Action::Set, &told);
    }

    /// [`Cache::invalidate`] here, in the second level and on every other
    /// instance.
    pub async fn invalidate(&self, key: &K) {
        let told = key.to_string();
        if let Some(second) = &self.second {
            second.remove(&told).await;
        }
        self.cache.invalidate(key).await;
        self.bus.tell(Action::Remove, &told);
    }

    /// [`Cache::invalidate_tag`] here, in the second level (one stamp) and
    /// on every other instance (O(1) on each).
    pub async fn invalidate_tag(&self, tag: &str) {
        if let Some(second) = &self.second {
            second.stamp(Some(tag)).await;
        }
        self.cache.invalidate_tag(tag);
        self.bus.tell(Action::Tag, tag);
    }

    /// [`Cache::invalidate_all`] here, in the second level (one stamp) and
    /// on every other instance.
    pub async fn invalidate_all(&self) {
        if let Some(second) = &self.second {
            second.stamp(None).await;
        }
        self.cache.invalidate_all().await;
        self.bus.tell(Action::Clear, "");
    }

    /// Waits (up to `within`) until the bus is subscribed and the second
    /// level, if any, connected: for start-up code that prefers to begin
    /// with both. Until then the cache works, alone.
    pub async fn ready(&self, within: Duration) -> bool {
        let second = self.second.as_deref();
        let counters = &self.bus.counters;
        crate::connection::poll_until(within, || {
            second.is_none_or(SecondLevel::connected) && counters.subscribed.load(Relaxed)
        })
        .await
    }

    /// What the second level has done, if there is one.
    pub fn second_level_snapshot(&self) -> Option<SecondLevelSnapshot> {
        self.second.as_deref().map(SecondLevel::snapshot)
    }

    /// What the backplane has done.
    pub fn bus_snapshot(&self) -> BusSnapshot {
        let c = &self.bus.counters;
        BusSnapshot {
            sent: c.sent.load(Relaxed),
            send_failed: c.send_failed.load(Relaxed),
            recovered: c.recovered.load(Relaxed),
            recovery_queued: c.recovery_queued.load(Relaxed),
            received: c.received.load(Relaxed),
            malformed: c.malformed.load(Relaxed),
            resubscribed: c.resubscribed.load(Relaxed),
            subscribed: c.subscribed.load(Relaxed),
        }
    }
}

/// A message: the sender, the time, what to do, and to which key or tag.
fn message(instance: &str, action: Action, subject: &str) -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!(
        "{instance}{SEP}{millis}{SEP}{}{SEP}{subject}",
        action.code()
    )
}

/// What a message is about, for keeping only the latest per subject: a
/// key (set and remove alike), a tag, or everything (`None`).
fn subject_of(message: &str) -> Option<String> {
    let mut parts = message.splitn(4, SEP).skip(2);
    match (parts.next(), parts.next()) {
        (Some("T"), Some(tag)) => Some(format!("T{tag}")),
        (Some("C") | None, _) => None,
        (_, key) => Some(format!("K{}", key.unwrap_or_default())),
    }
}

impl Bus {
    /// Queues a message for the other instances; never waits.
    fn tell(&self, action: Action, subject: &str) {
        if self
            .queue
            .try_send(message(&self.instance, action, subject))
            .is_err()
        {
            // The queue is full: this message is lost, so the publisher
            // tells everyone to clear once it can.
            self.counters.send_failed.fetch_add(1, Relaxed);
            self.counters.overflowed.store(true, Relaxed);
        }
    }
}

/// Publishes the queued messages in order, each bounded by `timeout`. One
/// that cannot be published waits in the recovery queue (the latest per
/// key or tag) and goes out, before anything newer, once Redis takes
/// messages again: tried with the next message, or after `retry_after`.
async fn publish(
    connection: Connection,
    channel: String,
    instance: String,
    mut outbox: mpsc::Receiver<String>,
    counters: Arc<Counters>,
    timeout: Duration,
    retry_after: Duration,
) {
    let mut recovery = Recovery::default();
    let clear = || message(&instance, Action::Clear, "");
    loop {
        let next = if recovery.is_empty() {
            outbox.recv().await
        } else if let Ok(next) = tokio::time::timeout(retry_after, outbox.recv()).await {
            next
        } else {
            flush(
                &connection,
                &channel,
                &mut recovery,
                &counters,
                timeout,
                clear,
            )
            .await;
            continue;
        };
        let Some(message) = next else {
            return;
        };
        if counters.overflowed.swap(false, Relaxed) {
            recovery.keep(None, clear(), clear);
        }
        if !recovery.is_empty() {
            flush(
                &connection,
                &channel,
                &mut recovery,
                &counters,
                timeout,
                clear,
            )
            .await;
        }
        if recovery.is_empty() && send(&connection, &channel, &message, timeout).await {
            counters.sent.fetch_add(1, Relaxed);
        } else {
            counters.send_failed.fetch_add(1, Relaxed);
            recovery.keep(subject_of(&message).as_deref(), message, clear);
        }
        counters
            .recovery_queued
            .store(recovery.len() as u64, Relaxed);
    }
}

/// Sends what the recovery queue holds, in order, until one fails.
async fn flush(
    connection: &Connection,
    channel: &str,
    recovery: &mut Recovery,
    counters: &Counters,
    timeout: Duration,
    clear: impl Fn() -> String,
) {
    let waiting = recovery.take();
    let mut rest = waiting.into_iter();
    for message in rest.by_ref() {
        if send(connection, channel, &message, timeout).await {
            counters.recovered.fetch_add(1, Relaxed);
        } else {
            recovery.keep(subject_of(&message).as_deref(), message, &clear);
            break;
        }
    }
    for message in rest {
        recovery.keep(subject_of(&message).as_deref(), message, &clear);
    }
    counters
        .recovery_queued
        .store(recovery.len() as u64, Relaxed);
}

/// One PUBLISH, waiting at most `timeout` (for the connection, then the answer).
async fn send(connection: &Connection, channel: &str, message: &str, timeout: Duration) -> bool {
    if connection.get().is_none() && !connection.ready(timeout).await {
        return false;
    }
    let Some(Conn::Single(mut conn)) = connection.get() else {
        return false;
    };
    let mut cmd = redis::cmd("PUBLISH");
    cmd.arg(channel).arg(message);
    matches!(
        tokio::time::timeout(timeout, cmd.query_async::<i64>(&mut conn)).await,
        Ok(Ok(_))
    )
}

/// Subscribes, applies the other instances' messages, and subscribes
/// again after a loss (clearing the cache: what was said meanwhile is lost).
async fn listen<K, V, E, C, S>(
    client: redis::Client,
    channel: String,
    instance: String,
    cache: Cache<K, V, E, C, S>,
    counters: Arc<Counters>,
    first_wait: Duration,
) where
    K: steadfast_cache::Key + FromStr,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
    C: Classifier<V, E> + Send + Sync + 'static,
    S: Store<K, V>,
{
    let mut wait = first_wait;
    let mut subscribed_before = false;
    loop {
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let Ok(Ok(mut pubsub)) = tokio::time::timeout(Duration::from_secs(2), subscribed).await
        else {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
            continue;
        };
        wait = first_wait;
        if subscribed_before {
            // Messages sent while unsubscribed are lost: start afresh, and
            // let keys be fetched again as they are read.
            counters.resubscribed.fetch_add(1, Relaxed);
            cache.invalidate_all().await;
            tracing::info!(channel = %channel, "cache bus subscribed again; the cache was cleared");
        }
        subscribed_before = true;
        counters.subscribed.store(true, Relaxed);
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let Ok(text) = std::str::from_utf8(message.get_payload_bytes()) else {
                counters.malformed.fetch_add(1, Relaxed);
                continue;
            };
            let mut parts = text.splitn(4, SEP);
            let (Some(from), Some(_millis), Some(code), Some(subject)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                counters.malformed.fetch_add(1, Relaxed);
                continue;
            };
            if from == instance {
                continue;
            }
            let applied = match Action::of(code) {
                Some(Action::Tag) => {
                    cache.invalidate_tag(subject);
                    true
                }
                Some(Action::Clear) => {
                    cache.invalidate_all().await;
                    true
                }
                Some(action) => match subject.parse::<K>().ok() {
                    Some(key) if action == Action::Set => {
                        cache.expire(&key).await;
                        true
                    }
                    Some(key) => {
                        cache.invalidate(&key).await;
                        true
                    }
                    None => false,
                },
                None => false,
            };
            let counter = if applied {
                &counters.received
            } else {
                &counters.malformed
            };
            counter.fetch_add(1, Relaxed);
        }
        counters.subscribed.store(false, Relaxed);
        tracing::warn!(channel = %channel, "cache bus lost its subscription; subscribing again");
    }
}
