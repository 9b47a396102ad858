//! The connection to Redis: one multiplexed connection (or a cluster's)
//! that reconnects by itself, made in the background so a limiter starts
//! while Redis is down.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::RwLock;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;

/// A connection made: to one server, or to a cluster (commands routed to
/// the node holding their key's slot, `MOVED` and `ASK` followed).
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

type Connect =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = redis::RedisResult<Conn>> + Send>> + Send + Sync>;

/// A Redis client and, once connected, its connection.
#[derive(Clone)]
pub(crate) struct Connection {
    inner: Arc<Inner>,
}

struct Inner {
    connect: Connect,
    made: RwLock<Option<Conn>>,
    connecting: AtomicBool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("connected", &self.inner.made.read().is_some())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection to `url`'s server, each request bounded by `timeout`.
    /// Only a malformed URL is an error: an unreachable server is retried.
    pub(crate) fn single(url: &str, timeout: Duration) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout.max(Duration::from_millis(100))))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        Ok(Connection::with(Box::new(move || {
            let (client, config) = (client.clone(), config.clone());
            Box::pin(async move {
                ConnectionManager::new_with_config(client, config)
                    .await
                    .map(Conn::Single)
            })
        })))
    }

    /// A connection to the cluster of `nodes` (any of its nodes).
    pub(crate) fn cluster(nodes: &[&str], timeout: Duration) -> redis::RedisResult<Self> {
        let client = ClusterClient::builder(nodes.iter().copied())
            .connection_timeout(timeout.max(Duration::from_millis(100)))
            .response_timeout(timeout)
            .build()?;
        Ok(Connection::with(Box::new(move || {
            let client = client.clone();
            Box::pin(async move { client.get_async_connection().await.map(Conn::Cluster) })
        })))
    }

    fn with(connect: Connect) -> Self {
        Connection {
            inner: Arc::new(Inner {
                connect,
                made: RwLock::new(None),
                connecting: AtomicBool::new(false),
            }),
        }
    }

    /// The connection, if made; else starts making it (once at a time, on
    /// the current tokio runtime) and returns `None` at once.
    pub(crate) fn get(&self) -> Option<Conn> {
        if let Some(conn) = self.inner.made.read().clone() {
            return Some(conn);
        }
        if !self.inner.connecting.swap(true, Ordering::AcqRel)
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let inner = Arc::clone(&self.inner);
            runtime.spawn(async move {
                match (inner.connect)().await {
                    Ok(conn) => *inner.made.write() = Some(conn),
                    Err(err) => tracing::debug!(error = %err, "cannot connect to Redis yet"),
                }
                inner.connecting.store(false, Ordering::Release);
            });
        }
        None
    }

    /// Waits (up to `within`) until the connection is made: for start-up
    /// code that prefers to begin on Redis.
    pub(crate) async fn ready(&self, within: Duration) -> bool {
        poll_until(within, || self.get().is_some()).await
    }
}

/// Checks `done` every 5 ms until it holds (`true`) or `within` has passed
/// (`false`). A `within` too long for the clock waits without end rather
/// than overflowing it.
pub(crate) async fn poll_until(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now().checked_add(within);
    loop {
        if done() {
            return true;
        }
        if deadline.is_some_and(|deadline| tokio::time::Instant::now() >= deadline) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
