//! Checks that arrive while a round trip is in flight go together in the
//! next one: at one task a check is one `EVALSHA` of `gcra.lua`, as ever;
//! at many, Redis runs one `gcra_batch.lua` for all that queued, instead of
//! one script call each. A script call costs Redis several times an `INCR`;
//! a check inside a batch costs about one.

use std::sync::Arc;

use parking_lot::Mutex;
use redis::RedisError;
use steadfast_core::{Error, Policy};
use tokio::sync::oneshot;

use crate::connection::Conn;
use crate::limiter::Shared;
use crate::script::{Answer, Script};

/// The most checks one batch carries; more wait for the next.
const MOST: usize = 256;
/// Round trips of one limiter in flight at once before checks queue:
/// enough that Redis has the next batch while the last one's answer
/// travels back, few enough that checks still gather into batches.
const IN_FLIGHT: usize = LANES;
const LANES: usize = 2;

/// Why a check got no answer from Redis: shown in the fallback's WARN event.
pub(crate) type Failure = Option<Arc<str>>;

struct Pending {
    key: Vec<u8>,
    cost: u32,
    reply: oneshot::Sender<Result<Answer, Failure>>,
}

#[derive(Default)]
struct State {
    /// Round trips in flight (callers' own, or batches).
    in_flight: usize,
    queue: Vec<Pending>,
}

/// The queue of checks waiting for the round trip in flight.
#[derive(Default)]
pub(crate) struct Batcher {
    state: Mutex<State>,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher").finish_non_exhaustive()
    }
}

/// Hands the queue on when the caller that made the round trip is done
/// (or dropped mid-flight): to a task that sends it as batches, or, with
/// nothing queued, marks the way free.
struct Lead<'a> {
    shared: &'a Arc<Shared>,
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        hand_on(self.shared);
    }
}

fn hand_on(shared: &Arc<Shared>) {
    let batcher = &shared.batcher;
    let mut state = batcher.state.lock();
    if state.queue.is_empty() {
        state.in_flight -= 1;
        return;
    }
    drop(state);
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        drop(runtime.spawn(drain(Arc::clone(shared))));
    } else {
        // No runtime to send them on (it is shutting down): the waiting
        // checks hear nothing and fall back.
        let mut state = batcher.state.lock();
        state.queue.clear();
        state.in_flight -= 1;
    }
}

/// One check: this caller's own round trip when none is in flight, else a
/// place in the next batch. Waits at most twice the timeout (the batch in
/// flight, then its own).
pub(crate) async fn check(
    shared: &Arc<Shared>,
    conn: Conn,
    key: &[u8],
    cost: u32,
) -> Result<Answer, Failure> {
    let waiting = {
        let mut state = shared.batcher.state.lock();
        if state.in_flight >= IN_FLIGHT {
            let (reply, answer) = oneshot::channel();
            state.queue.push(Pending {
                key: key.to_vec(),
                cost,
                reply,
            });
            Some(answer)
        } else {
            state.in_flight += 1;
            None
        }
    };
    if let Some(answer) = waiting {
        // No timer of its own: the round trip in flight and the batch this
        // check goes in are each bounded by the guard's timeout, and a
        // batch that is never sent drops its replies.
        return answer.await.unwrap_or(Err(None));
    }
    let _lead = Lead { shared };
    shared.single(conn, key, cost).await
}

/// Sends what queued, as batches, until nothing is left.
async fn drain(shared: Arc<Shared>) {
    loop {
        let batch: Vec<Pending> = {
            let mut state = shared.batcher.state.lock();
            if state.queue.is_empty() {
                state.in_flight -= 1;
                return;
            }
            let n = state.queue.len().min(MOST);
            state.queue.drain(..n).collect()
        };
        let answers = match shared.connection.get() {
            Some(conn) => send(&shared, conn, &batch).await,
            None => Err(None),
        };
        match answers {
            Ok(answers) => {
                let n = answers.len() as u64;
                shared
                    .counters
                    .batched
                    .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                for (pending, answer) in batch.into_iter().zip(answers) {
                    drop(pending.reply.send(Ok(answer)));
                }
            }
            Err(failure) => {
                for pending in batch {
                    drop(pending.reply.send(Err(failure.clone())));
                }
            }
        }
    }
}

/// One `gcra_batch.lua` round trip through the guard.
async fn send(shared: &Shared, conn: Conn, batch: &[Pending]) -> Result<Vec<Answer>, Failure> {
    let keys: Vec<&[u8]> = batch.iter().map(|p| p.key.as_slice()).collect();
    let mut args = Vec::with_capacity(batch.len() + 2);
    args.push(shared.interval_us);
    args.push(u64::from(shared.config.quota.burst_size()));
    args.extend(batch.iter().map(|p| u64::from(p.cost)));
    let (script, keys, args) = (&shared.batch_script, &keys, &args);
    let flat: Result<Vec<i64>, Error<RedisError>> = shared
        .guard
        .call(|| {
            let conn = conn.clone();
            async move { script.run(conn, keys, args).await }
        })
        .await;
    shared.count_round_trip(flat.as_ref().err());
    let flat = flat.map_err(|err| Some(Arc::from(err.to_string())))?;
    if flat.len() != batch.len() * 4 {
        return Err(Some(Arc::from("a batch answer of the wrong length")));
    }
    Ok(flat.chunks_exact(4).map(Script::answer_of).collect())
}
