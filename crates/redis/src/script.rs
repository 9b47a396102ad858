//! The GCRA script: sent by its SHA1, loaded again when Redis has lost it.

use std::sync::atomic::{AtomicU64, Ordering};

use redis::aio::ConnectionLike;
use redis::{ErrorKind, RedisResult, ServerErrorKind};

/// The script's text (see `gcra.lua` for its logic, line by line).
pub(crate) const GCRA: &str = include_str!("gcra.lua");

/// A Redis answer to one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) admitted: bool,
    /// Microseconds until this call could be admitted (0 when admitted).
    pub(crate) wait_us: u64,
    /// Microseconds until a one-unit call could be admitted.
    pub(crate) one_us: u64,
    /// Units left in the key's burst.
    pub(crate) remaining: u64,
}

/// The script and its SHA1, with a count of reloads.
#[derive(Debug)]
pub(crate) struct Script {
    sha: String,
    pub(crate) reloads: AtomicU64,
}

impl Script {
    pub(crate) fn gcra() -> Self {
        Script {
            sha: sha1_smol::Sha1::from(GCRA).digest().to_string(),
            reloads: AtomicU64::new(0),
        }
    }

    /// Runs the script on `key`: EVALSHA, and EVAL (which loads it) when
    /// Redis answers NOSCRIPT (after a restart, a `SCRIPT FLUSH`, a failover).
    pub(crate) async fn check<C: ConnectionLike + Send>(
        &self,
        conn: &mut C,
        key: &[u8],
        interval_us: u64,
        burst: u32,
        cost: u32,
    ) -> RedisResult<Answer> {
        let reply: RedisResult<(u8, i64, i64, i64)> = redis::cmd("EVALSHA")
            .arg(&self.sha)
            .arg(1)
            .arg(key)
            .arg(interval_us)
            .arg(burst)
            .arg(cost)
            .query_async(conn)
            .await;
        let reply = match reply {
            Err(err) if err.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                self.reloads.fetch_add(1, Ordering::Relaxed);
                redis::cmd("EVAL")
                    .arg(GCRA)
                    .arg(1)
                    .arg(key)
                    .arg(interval_us)
                    .arg(burst)
                    .arg(cost)
                    .query_async(conn)
                    .await?
            }
            other => other?,
        };
        let (admitted, wait, one, remaining) = reply;
        let positive = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(Answer {
            admitted: admitted == 1,
            wait_us: positive(wait),
            one_us: positive(one),
            remaining: positive(remaining),
        })
    }
}
