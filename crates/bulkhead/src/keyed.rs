//! Bulkheads per key: per tenant, per downstream host.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use steadfast_core::{
    BulkheadReason, ConfigError, Context, Error, Inspect, MissingKey, Name, Next, Policy,
};

use crate::partition::{Counters, Partition};
use crate::{BulkheadConfig, BulkheadSnapshot, KeyedBulkheadConfig};

/// One bulkhead per key, each with the same settings; see the [crate docs](crate).
///
/// The key is read from the call's [`Context`] as a `K`
/// ([`Context::with_key`]). One noisy tenant fills its own bulkhead and no
/// one else's.
///
/// # Calls without a key
///
/// A call that carries no key of type `K` is refused with
/// [`Error::MissingKey`] (counted in `missing_keys`), before anything runs: a
/// forgotten `with_key` would otherwise put every such caller in one
/// partition, where one of them could take everyone's permits. To let them
/// share one partition instead, opt in with
/// [`KeyedBulkheadBuilder::share_unkeyed`](crate::KeyedBulkheadBuilder::share_unkeyed) (or `share_unkeyed = true` in the
/// [`KeyedBulkheadConfig`]).
///
/// # Events
///
/// Events name the bulkhead, never a key: keys are often user or tenant ids.
/// To have a partition's saturation events carry its key (its `Debug`, in a
/// `key` field), opt in with [`KeyedBulkheadBuilder::log_keys`](crate::KeyedBulkheadBuilder::log_keys)
/// (or `log_keys = true` in the config).
///
/// # Memory
///
/// At most `max_keys` partitions are kept. A partition nobody is using (no
/// call in flight or queued) is dropped when room is needed for a new key; if
/// every partition is busy, a call for a new key is refused with
/// [`BulkheadReason::Full`] and counted in `rejected`. Making room scans the
/// partitions, once per new key while at capacity.
///
/// ```
/// use steadfast_bulkhead::Bulkhead;
/// use steadfast_core::{Context, Error, Policy};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let per_tenant = Bulkhead::builder().name("per-tenant").max_concurrent(4).build_keyed::<String>(10_000)?;
/// let tenant = String::from("acme");
/// let n = per_tenant
///     .call_with(Context::new().with_key(&tenant), || async { Ok::<_, std::io::Error>(1) })
///     .await?;
/// assert_eq!(n, 1);
///
/// // No tenant in the context: refused, never a partition shared by everyone.
/// let unkeyed = per_tenant.call(|| async { Ok::<_, std::io::Error>(1) }).await;
/// assert!(matches!(unkeyed, Err(Error::MissingKey(_))));
/// # Ok(())
/// # }
/// ```
pub struct KeyedBulkhead<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for KeyedBulkhead<K> {
    fn clone(&self) -> Self {
        KeyedBulkhead {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<K> fmt::Debug for KeyedBulkhead<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedBulkhead")
            .field("name", &self.shared.config.name)
            .field("max_keys", &self.shared.max_keys)
            .finish_non_exhaustive()
    }
}

struct Shared<K> {
    config: BulkheadConfig,
    keyed: KeyedBulkheadConfig,
    max_keys: usize,
    partitions: Mutex<HashMap<K, Arc<Partition>>>,
    /// The partition calls without a key share, when the config opts in.
    unkeyed: Option<Partition>,
    counters: Counters,
    missing_keys: AtomicU64,
    /// How events write a key; `None` (no key in events) unless `log_keys`.
    key_format: Option<KeyFormat<K>>,
}

/// How a key is written in events: its `Debug`, captured where `K: Debug`
/// is known, so the policy itself needs no `Debug` bound.
type KeyFormat<K> = fn(&K, &mut fmt::Formatter<'_>) -> fmt::Result;

fn write_key<K: fmt::Debug>(key: &K, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    fmt::Debug::fmt(key, f)
}

struct LoggedKey<'a, K> {
    key: &'a K,
    format: KeyFormat<K>,
}

impl<K> fmt::Debug for LoggedKey<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.format)(self.key, f)
    }
}

impl<K> KeyedBulkhead<K>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
{
    /// A keyed bulkhead from a (deserialized) config, validated; see
    /// [`BulkheadBuilder::keyed`](crate::BulkheadBuilder::keyed). `K: Debug`
    /// is only used when the config's `log_keys` puts keys in events.
    pub fn from_config(config: KeyedBulkheadConfig) -> Result<Self, ConfigError>
    where
        K: fmt::Debug,
    {
        config.validate()?;
        let bulkhead = config.bulkhead.clone();
        Ok(KeyedBulkhead {
            shared: Arc::new(Shared {
                unkeyed: config
                    .share_unkeyed
                    .then(|| Partition::new(&bulkhead, None)),
                key_format: config.log_keys.then_some(write_key::<K> as KeyFormat<K>),
                max_keys: config.max_keys,
                config: bulkhead,
                keyed: config,
                partitions: Mutex::new(HashMap::new()),
                counters: Counters::default(),
                missing_keys: AtomicU64::new(0),
            }),
        })
    }

    /// The effective configuration; each key's settings are its
    /// [`bulkhead`](KeyedBulkheadConfig::bulkhead).
    pub fn config(&self) -> &KeyedBulkheadConfig {
        &self.shared.keyed
    }

    /// The most keys kept at once.
    pub fn max_keys(&self) -> usize {
        self.shared.max_keys
    }

    /// The refusal of a call without a key; counted.
    #[cold]
    fn missing_key(&self) -> MissingKey {
        let shared = &*self.shared;
        shared.missing_keys.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(policy = %shared.config.name, "bulkhead refused a call without a key");
        MissingKey::new::<K>(shared.config.name.clone())
    }

    /// The partition for `key`, made if needed; `None` when at capacity with
    /// every partition busy.
    fn partition(&self, key: &K) -> Option<Arc<Partition>> {
        let shared = &*self.shared;
        let mut partitions = shared.partitions.lock();
        if let Some(partition) = partitions.get(key) {
            return Some(Arc::clone(partition));
        }
        if partitions.len() >= shared.max_keys {
            // Only the map holds an idle partition's `Arc`: every call in
            // flight or queued holds a clone, taken under this lock.
            let before = partitions.len();
            partitions.retain(|_, p| Arc::strong_count(p) > 1);
            let dropped = before - partitions.len();
            if dropped > 0 {
                tracing::debug!(policy = %shared.config.name, dropped, "bulkhead dropped idle keys");
            }
            if partitions.len() >= shared.max_keys {
                return None;
            }
        }
        let label = shared
            .key_format
            .map(|format| format!("{:?}", LoggedKey { key, format }).into_boxed_str());
        let partition = Arc::new(Partition::new(&shared.config, label));
        partitions.insert(key.clone(), Arc::clone(&partition));
        Some(partition)
    }
}

impl<K> Inspect for KeyedBulkhead<K>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
{
    type Snapshot = BulkheadSnapshot;

    fn name(&self) -> &str {
        self.shared.config.name.as_str()
    }

    fn snapshot(&self) -> BulkheadSnapshot {
        let shared = &*self.shared;
        let (mut in_flight, mut waiting, mut saturated) =
            shared.unkeyed.as_ref().map_or((0, 0, false), |unkeyed| {
                let counts = unkeyed.semaphore.counts();
                (counts.in_flight, counts.waiting, counts.saturated)
            });
        let keys = {
            let partitions = shared.partitions.lock();
            for partition in partitions.values() {
                let counts = partition.semaphore.counts();
                in_flight += counts.in_flight;
                waiting += counts.waiting;
                saturated |= counts.saturated;
            }
            partitions.len()
        };
        let (rejected, queue_timeouts, overloaded) = shared.counters.read();
        BulkheadSnapshot {
            name: shared.config.name.clone(),
            limit: shared.config.max_concurrent,
            in_flight,
            waiting,
            saturated,
            rejected,
            queue_timeouts,
            overloaded,
            missing_keys: shared.missing_keys.load(Ordering::Relaxed),
            keys,
        }
    }
}

impl<K, T: Send, E: Send> Policy<T, E> for KeyedBulkhead<K>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
{
    // Runs the rest of the call at most once.
    const REPEATS: bool = false;

    /// A caller that must queue is refused at once when its wait cannot
    /// fit the call's deadline; see [`Bulkhead`](crate::Bulkhead#deadlines).
    const READS_DEADLINE: bool = true;

    async fn execute<'a, N>(&'a self, ctx: Context<'a>, next: N) -> Result<T, Error<E>>
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        let shared = &*self.shared;
        let name: &Name = &shared.config.name;
        let Some(key) = ctx.key::<K>() else {
            return match &shared.unkeyed {
                Some(unkeyed) => unkeyed.run(name, &shared.counters, ctx, next).await,
                None => Err(self.missing_key().into()),
            };
        };
        let Some(partition) = self.partition(key) else {
            return Err(shared.counters.reject(name, BulkheadReason::Full).into());
        };
        partition.run(name, &shared.counters, ctx, next).await
    }
}
