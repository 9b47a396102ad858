//! The connection to Redis: one multiplexed connection that reconnects by
//! itself, made in the background so a limiter starts while Redis is down.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::RwLock;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// A Redis client and, once connected, its connection.
#[derive(Clone)]
pub(crate) struct Connection {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    config: ConnectionManagerConfig,
    manager: RwLock<Option<ConnectionManager>>,
    connecting: AtomicBool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("connected", &self.inner.manager.read().is_some())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection to `url`'s server, each request bounded by `timeout`.
    /// Only a malformed URL is an error: an unreachable server is retried.
    pub(crate) fn new(url: &str, timeout: Duration) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout.max(Duration::from_millis(100))))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        Ok(Connection {
            inner: Arc::new(Inner {
                client,
                config,
                manager: RwLock::new(None),
                connecting: AtomicBool::new(false),
            }),
        })
    }

    /// The connection, if made; else starts making it (once at a time, on
    /// the current tokio runtime) and returns `None` at once.
    pub(crate) fn get(&self) -> Option<ConnectionManager> {
        if let Some(manager) = self.inner.manager.read().clone() {
            return Some(manager);
        }
        if !self.inner.connecting.swap(true, Ordering::AcqRel)
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let inner = Arc::clone(&self.inner);
            runtime.spawn(async move {
                let made =
                    ConnectionManager::new_with_config(inner.client.clone(), inner.config.clone())
                        .await;
                match made {
                    Ok(manager) => *inner.manager.write() = Some(manager),
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
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if self.get().is_some() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
