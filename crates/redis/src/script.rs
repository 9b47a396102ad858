//! The scripts: sent by their SHA1, loaded again when Redis has lost them.

use std::sync::atomic::{AtomicU64, Ordering};

use redis::aio::ConnectionLike;
use redis::{ErrorKind, FromRedisValue, RedisResult, ServerErrorKind, ToRedisArgs};

use crate::connection::Conn;

/// One limit's check (see `gcra.lua` for its logic, line by line).
pub(crate) const GCRA: &str = include_str!("gcra.lua");
/// Several checks of one GCRA limiter in one call (`gcra_batch.lua`).
pub(crate) const GCRA_BATCH: &str = include_str!("gcra_batch.lua");
/// One window limit's check (`window.lua`).
pub(crate) const WINDOW: &str = include_str!("window.lua");
/// Several limits' check, all or none (`all_of.lua`).
pub(crate) const ALL_OF: &str = include_str!("all_of.lua");
/// A key's lockout record (`lockout.lua`).
pub(crate) const LOCKOUT: &str = include_str!("lockout.lua");
/// Units given back to several keys (`refund.lua`).
pub(crate) const REFUND: &str = include_str!("refund.lua");
/// A second-level cache entry stored (`l2_set.lua`).
pub(crate) const L2_SET: &str = include_str!("l2_set.lua");
/// A second-level tag (or clear) invalidation stamped (`l2_stamp.lua`).
pub(crate) const L2_STAMP: &str = include_str!("l2_stamp.lua");

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

/// A script and its SHA1, with a count of reloads.
#[derive(Debug)]
pub(crate) struct Script {
    text: &'static str,
    sha: String,
    pub(crate) reloads: AtomicU64,
}

impl Script {
    pub(crate) fn new(text: &'static str) -> Self {
        Script {
            text,
            sha: sha1_smol::Sha1::from(text).digest().to_string(),
            reloads: AtomicU64::new(0),
        }
    }

    /// Runs the script on `conn`, a server's connection or a cluster's.
    pub(crate) async fn run<T: FromRedisValue, A: ToRedisArgs + Sync>(
        &self,
        conn: Conn,
        keys: &[&[u8]],
        args: &[A],
    ) -> RedisResult<T> {
        match conn {
            Conn::Single(mut c) => self.run_with(&mut c, keys, args).await,
            Conn::Cluster(mut c) => self.run_with(&mut c, keys, args).await,
        }
    }

    /// Runs the script: EVALSHA, and EVAL (which loads it) when Redis
    /// answers NOSCRIPT (after a restart, a `SCRIPT FLUSH`, a failover).
    async fn run_with<C: ConnectionLike + Send, T: FromRedisValue, A: ToRedisArgs + Sync>(
        &self,
        conn: &mut C,
        keys: &[&[u8]],
        args: &[A],
    ) -> RedisResult<T> {
        let command = |name: &str, script: &str| {
            let mut cmd = redis::cmd(name);
            cmd.arg(script).arg(keys.len());
            for key in keys {
                cmd.arg(*key);
            }
            for arg in args {
                cmd.arg(arg);
            }
            cmd
        };
        match command("EVALSHA", &self.sha).query_async(conn).await {
            Err(err) if err.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                self.reloads.fetch_add(1, Ordering::Relaxed);
                command("EVAL", self.text).query_async(conn).await
            }
            other => other,
        }
    }

    /// One check of `key` with this script's arguments (`gcra.lua`:
    /// interval, burst, cost; `window.lua`: window, limit, cost, sliding).
    pub(crate) async fn check(&self, conn: Conn, key: &[u8], args: &[u64]) -> RedisResult<Answer> {
        let (admitted, wait, one, remaining): (i64, i64, i64, i64) =
            self.run(conn, &[key], args).await?;
        Ok(Script::answer_of(&[admitted, wait, one, remaining]))
    }

    /// One check's answer from the script's four numbers.
    pub(crate) fn answer_of(n: &[i64]) -> Answer {
        // A negative wait is "never".
        let wait_of = |n: i64| u64::try_from(n).unwrap_or(u64::MAX);
        Answer {
            admitted: n[0] == 1,
            wait_us: wait_of(n[1]),
            one_us: wait_of(n[2]),
            remaining: u64::try_from(n[3]).unwrap_or(0),
        }
    }
}
