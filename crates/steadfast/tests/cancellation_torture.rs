//! Cancellation torture: thousands of calls through every policy, alone and
//! composed in one pipeline, on the multi-thread runtime, each dropped at a
//! random point by `tokio::time::timeout` with a tiny random limit, by a
//! `tokio::select!` against a random sleep, or by `JoinHandle::abort` of the
//! spawned call (at once, often before its first poll, or after a random
//! sleep); a tenth run to the end. The operation under them sleeps 0–2 ms.
//!
//! Then every snapshot must show nothing held (no permit, no queued caller,
//! no half-open trial, no fetch in flight, no waiter, no retry token kept by
//! a retry that never ran), every attempt the policies started must have
//! been dropped or finished, and every policy must still admit.
//!
//! The torture runs on real time (a multi-thread runtime cannot be paused),
//! kept short; what is asserted is state, never timing, and exactly. The
//! schedule (which call is cut how, after how long, what its operation does)
//! comes from a fixed seed, so it is the same on every run; how the calls
//! interleave is not, which is the point.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use steadfast::breaker::{Breaker, HalfOpen, State};
use steadfast::bulkhead::{AimdConfig, Bulkhead, GradientConfig, KeyedBulkhead};
use steadfast::cache::{Cache, FetchOptions, fetched};
use steadfast::degrade::{
    AdaptiveThrottle, AdaptiveThrottleConfig, Fallback, LastKnownGood, LoadShedder, Optional,
    ShedClass, fresh, some,
};
use steadfast::ratelimit::{Algorithm, KeyedRateLimiter, Lockout, Quota, RateLimiter};
use steadfast::retry::{Backoff, BudgetConfig, HedgeConfig, Retry};
use steadfast::testing::TestError;
use steadfast::{
    Attempt, Context, Error, ErrorKind, Inspect, OwnedContext, Pipeline, Policy, Priority, Timeout,
    with_attempt,
};

/// The value a healthy operation answers.
const VALUE: u32 = 7;
/// Calls per torture (each test stays well under 2 s of real time).
const CALLS: usize = 3_000;
/// Calls spawned between two 1 ms pauses of the driver, so that calls arrive
/// over a few hundred milliseconds rather than all at once.
const BATCH: usize = 25;
/// The settle after the last call, for background work (a cache's refresh,
/// a fetch running on after its caller left) to end.
const SETTLE: Duration = Duration::from_millis(50);
/// The longest any cut or operation pause lasts, in microseconds.
const MAX_MICROS: u64 = 2_000;
/// How long the calls of a torture may take in all before they count as
/// stuck (they take a few hundred milliseconds).
const STUCK: Duration = Duration::from_secs(20);
/// Keys of the cache tests.
const CACHE_KEYS: u32 = 6;
/// The seed every schedule derives from.
const SEED: u64 = 0x5EED_CA9C_E11A_7105;

// ---------------------------------------------------------------------------
// The schedule: a seeded xorshift64* draws every call's cut and operation.
// ---------------------------------------------------------------------------

/// xorshift64*, seeded through splitmix64 (so a small seed is not a weak one).
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    /// 0 ..= 2 ms, in microseconds.
    fn short(&mut self) -> Duration {
        Duration::from_micros(self.below(MAX_MICROS + 1))
    }
}

/// How a call is dropped.
#[derive(Clone, Copy, Debug)]
enum Cut {
    /// `tokio::time::timeout` with this limit (zero: after one poll).
    Timeout(Duration),
    /// `tokio::select!` against a sleep of this long.
    Select(Duration),
    /// Spawned, then its `JoinHandle::abort`ed after this long; zero aborts
    /// it as it is spawned, usually before its first poll.
    Abort(Duration),
    /// Not dropped: it runs to the end.
    Finish,
}

/// What the operation does before it answers.
#[derive(Clone, Copy, Debug)]
enum Pause {
    /// Answers on its first poll.
    Ready,
    /// Pending once, without a timer.
    Yield,
    /// Sleeps this long.
    Sleep(Duration),
}

/// One attempt's behaviour.
#[derive(Clone, Copy, Debug)]
struct Work {
    pause: Pause,
    fails: bool,
}

impl Work {
    /// Answers `VALUE` at once.
    const READY: Work = Work {
        pause: Pause::Ready,
        fails: false,
    };
}

/// Attempts of one call with a behaviour of their own; later attempts (a
/// third retry, a third hedge) behave as the last.
const ATTEMPTS: usize = 3;

/// One call of the torture, as the policy under test sees it.
#[derive(Clone, Copy, Debug)]
struct Call {
    /// Its place in the schedule.
    index: usize,
    /// What each attempt of its operation does: a retry or a hedge of the
    /// call behaves differently from the first attempt.
    works: [Work; ATTEMPTS],
    /// A random number for the test's own choices (a key, a priority).
    pick: u64,
}

impl Call {
    /// What this attempt does.
    fn work(&self, attempt: Attempt) -> Work {
        let n = usize::try_from(attempt.number()).unwrap_or(usize::MAX);
        self.works[n.clamp(1, ATTEMPTS) - 1]
    }

    /// One of `n` keys.
    fn key(&self, n: u64) -> u32 {
        u32::try_from(self.pick % n).expect("a small key")
    }

    /// Half the calls are borrowed (`call_with`), half owned (`call_owned_with`).
    fn owned(&self) -> bool {
        self.index % 2 == 1
    }
}

/// The schedule of one torture.
#[derive(Clone, Copy, Debug)]
struct Schedule {
    seed: u64,
    calls: usize,
    /// Percent of attempts whose operation fails.
    fail_percent: u64,
}

impl Schedule {
    fn new(salt: u64) -> Self {
        Schedule {
            seed: SEED ^ salt,
            calls: CALLS,
            fail_percent: 0,
        }
    }

    fn calls(mut self, calls: usize) -> Self {
        self.calls = calls;
        self
    }

    fn failing(mut self, percent: u64) -> Self {
        self.fail_percent = percent;
        self
    }
}

impl Rng {
    fn cut(&mut self) -> Cut {
        match self.below(10) {
            0..=2 => Cut::Timeout(self.short()),
            3..=5 => Cut::Select(self.short()),
            6 => Cut::Abort(Duration::ZERO),
            7 | 8 => Cut::Abort(self.short()),
            _ => Cut::Finish,
        }
    }

    fn work(&mut self, fail_percent: u64) -> Work {
        let pause = match self.below(10) {
            0 => Pause::Ready,
            1 => Pause::Yield,
            _ => Pause::Sleep(self.short()),
        };
        Work {
            pause,
            fails: self.percent(fail_percent),
        }
    }
}

// ---------------------------------------------------------------------------
// The operation: every attempt is counted while it lives.
// ---------------------------------------------------------------------------

/// Attempts the policies started (operation futures made), finished, and
/// alive now.
#[derive(Debug, Default)]
struct Ledger {
    started: AtomicU64,
    finished: AtomicU64,
    live: AtomicI64,
}

impl Ledger {
    fn new() -> Arc<Self> {
        Arc::new(Ledger::default())
    }

    fn started(&self) -> u64 {
        self.started.load(Ordering::SeqCst)
    }

    /// Every attempt made was finished or dropped: none is left running (a
    /// losing hedge, a fetch, an attempt behind a dropped permit).
    fn assert_idle(&self, policy: &str) {
        assert_eq!(
            self.live.load(Ordering::SeqCst),
            0,
            "{policy}: operation futures still alive after every call ended \
             ({} started, {} finished)",
            self.started(),
            self.finished.load(Ordering::SeqCst),
        );
    }
}

/// An attempt alive: counted out when its future is dropped, done or not.
struct Alive(Arc<Ledger>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One attempt of the operation: counted as started when its future is made
/// (as the policy invokes the operation), alive until that future is dropped.
fn op(
    ledger: &Arc<Ledger>,
    work: Work,
) -> impl Future<Output = Result<u32, TestError>> + Send + use<> {
    ledger.started.fetch_add(1, Ordering::SeqCst);
    ledger.live.fetch_add(1, Ordering::SeqCst);
    let alive = Alive(Arc::clone(ledger));
    async move {
        match work.pause {
            Pause::Ready => {}
            Pause::Yield => tokio::task::yield_now().await,
            Pause::Sleep(pause) => tokio::time::sleep(pause).await,
        }
        alive.0.finished.fetch_add(1, Ordering::SeqCst);
        drop(alive);
        if work.fails {
            Err(TestError::new("down"))
        } else {
            Ok(VALUE)
        }
    }
}

// ---------------------------------------------------------------------------
// The driver.
// ---------------------------------------------------------------------------

/// What the callers saw.
#[derive(Debug, Default)]
struct Tally {
    ok: u64,
    errors: HashMap<ErrorKind, u64>,
    cut: u64,
}

impl Tally {
    fn count(&self, kind: ErrorKind) -> u64 {
        self.errors.get(&kind).copied().unwrap_or(0)
    }

    fn record<T>(&mut self, answer: Option<Result<T, Error<TestError>>>) {
        match answer {
            None => self.cut += 1,
            Some(Ok(_)) => self.ok += 1,
            Some(Err(e)) => *self.errors.entry(e.kind()).or_insert(0) += 1,
        }
    }
}

type Shared = Arc<Mutex<Tally>>;

fn record<T>(tally: &Shared, answer: Option<Result<T, Error<TestError>>>) {
    tally.lock().expect("no call panics").record(answer);
}

/// Runs `schedule`: each call made by `make` (a future owning what it
/// needs) is spawned and cut as the schedule says. Returns once every call
/// has ended and `SETTLE` has passed.
async fn torture<M, F, T>(schedule: Schedule, make: M) -> Tally
where
    M: Fn(Call) -> F,
    F: Future<Output = Result<T, Error<TestError>>> + Send + 'static,
    T: Send + 'static,
{
    let mut rng = Rng::new(schedule.seed);
    let tally: Shared = Arc::default();
    let mut tasks = Vec::with_capacity(schedule.calls);
    for index in 0..schedule.calls {
        let cut = rng.cut();
        let works = std::array::from_fn(|_| rng.work(schedule.fail_percent));
        let call = make(Call {
            index,
            works,
            pick: rng.next_u64(),
        });
        let tally = Arc::clone(&tally);
        let task = match cut {
            Cut::Timeout(limit) => tokio::spawn(async move {
                record(&tally, tokio::time::timeout(limit, call).await.ok());
            }),
            Cut::Select(after) => tokio::spawn(async move {
                let answer = tokio::select! {
                    answer = call => Some(answer),
                    () = tokio::time::sleep(after) => None,
                };
                record(&tally, answer);
            }),
            Cut::Abort(after) => {
                let call = tokio::spawn(call);
                if after.is_zero() {
                    call.abort();
                }
                tokio::spawn(async move {
                    if !after.is_zero() {
                        tokio::time::sleep(after).await;
                        call.abort();
                    }
                    let answer = match call.await {
                        Ok(answer) => Some(answer),
                        Err(e) if e.is_cancelled() => None,
                        Err(e) => std::panic::resume_unwind(e.into_panic()),
                    };
                    record(&tally, answer);
                })
            }
            Cut::Finish => tokio::spawn(async move { record(&tally, Some(call.await)) }),
        };
        tasks.push(task);
        if index % BATCH == BATCH - 1 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let total = tasks.len();
    let mut ended = 0;
    let all_end = async {
        for task in tasks {
            task.await.expect("no call panics");
            ended += 1;
        }
    };
    // A policy that strands a caller (a follower never woken, a waiter
    // never granted) fails here rather than hanging the suite.
    let finished = tokio::time::timeout(STUCK, all_end).await.is_ok();
    assert!(
        finished,
        "{} of {total} calls still running after {STUCK:?}",
        total - ended
    );
    tokio::time::sleep(SETTLE).await;
    let tally = std::mem::take(&mut *tally.lock().expect("no call panics"));
    assert_eq!(
        tally.ok + tally.cut + tally.errors.values().sum::<u64>(),
        u64::try_from(schedule.calls).expect("a small count"),
        "every call is accounted for"
    );
    tally
}

/// A call maker for `torture`: each call gets a clone of `policy` and of
/// the ledger, and `call` makes its future from them.
fn with<P, M, F>(policy: &P, ledger: &Arc<Ledger>, call: M) -> impl Fn(Call) -> F
where
    P: Clone,
    M: Fn(P, Arc<Ledger>, Call) -> F,
{
    let (policy, ledger) = (policy.clone(), Arc::clone(ledger));
    move |c| call(policy.clone(), Arc::clone(&ledger), c)
}

/// A call's future, boxed so that a borrowed and an owned call share a type.
type BoxCall = Pin<Box<dyn Future<Output = Result<u32, Error<TestError>>> + Send>>;

/// The plain calls through `policy`, a third each:
///
/// - borrowed and made lazily: `policy.call` inside the call's own future,
///   so a call aborted before its first poll never reaches the policy;
/// - owned: `policy.call_owned`;
/// - borrowed and made eagerly, before the cut: `policy.call` on a
///   `'static` clone, so that the policy's future exists, and whatever it
///   does as it is made is done, before the call is polled or dropped (a
///   breaker admits the call, a retry counts it and invokes the operation),
///   and a call aborted at once is dropped never polled.
fn plain<P>(policy: &P, ledger: &Arc<Ledger>) -> impl Fn(Call) -> BoxCall
where
    P: Policy<u32, TestError> + Clone + 'static,
{
    // One clone per torture, leaked so that its futures are `'static`.
    let eager: &'static P = Box::leak(Box::new(policy.clone()));
    with(policy, ledger, move |p, l, c| -> BoxCall {
        match c.index % 3 {
            0 => Box::pin(async move { p.call(with_attempt(|a| op(&l, c.work(a)))).await }),
            1 => Box::pin(p.call_owned(with_attempt(move |a| op(&l, c.work(a))))),
            _ => Box::pin(eager.call(with_attempt(move |a| op(&l, c.work(a))))),
        }
    })
}

/// `n` callers at once, each holding its admission until all `n` are
/// inside: they all get through only if the policy admits `n` together. A
/// policy still holding a permit from the torture refuses or queues the
/// last caller, and the others never see it arrive.
async fn all_inside<M, F>(policy: &str, n: usize, make: M)
where
    M: Fn(Arc<AtomicUsize>) -> F,
    F: Future<Output = Result<u32, Error<TestError>>>,
{
    let inside = Arc::new(AtomicUsize::new(0));
    let calls = (0..n).map(|_| make(Arc::clone(&inside)));
    let answers = tokio::time::timeout(Duration::from_secs(10), futures::future::join_all(calls))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{policy}: only {} of {n} callers were admitted together",
                inside.load(Ordering::SeqCst)
            )
        });
    for answer in answers {
        assert_eq!(answer.expect("admitted"), VALUE, "{policy}");
    }
}

/// The operation of an `all_inside` caller.
fn rendezvous(
    inside: &Arc<AtomicUsize>,
    n: usize,
) -> impl Future<Output = Result<u32, TestError>> + Send + use<> {
    let inside = Arc::clone(inside);
    async move {
        inside.fetch_add(1, Ordering::SeqCst);
        while inside.load(Ordering::SeqCst) < n {
            tokio::task::yield_now().await;
        }
        Ok(VALUE)
    }
}

// ---------------------------------------------------------------------------
// Each policy alone.
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_counts_exactly_the_timeouts_its_callers_saw() {
    let timeout = Timeout::new(Duration::from_millis(1)).unwrap();
    let ledger = Ledger::new();
    let tally = torture(Schedule::new(1), plain(&timeout, &ledger)).await;

    // A timeout holds nothing; its count is exact: each one it made was
    // returned in the poll that made it.
    println!("timeout: {tally:?}, {:?}", timeout.snapshot());
    assert_eq!(timeout.snapshot().timeouts, tally.count(ErrorKind::Timeout));
    ledger.assert_idle("timeout");
    assert_eq!(
        timeout.call(|| op(&ledger, Work::READY)).await.unwrap(),
        VALUE
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulkhead_gives_back_every_permit_and_queue_place() {
    let bulkhead = Bulkhead::builder()
        .name("torture")
        .max_concurrent(4)
        .max_queued(16)
        .max_wait(Duration::from_millis(3))
        .overload(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    let ledger = Ledger::new();
    let tally = torture(Schedule::new(2), plain(&bulkhead, &ledger)).await;

    let s = bulkhead.snapshot();
    println!("bulkhead: {tally:?}, {s:?}");
    assert_eq!((s.in_flight, s.waiting), (0, 0), "{s:?}");
    // Each refusal is counted in the poll that returns it.
    assert_eq!(
        s.rejected + s.queue_timeouts + s.overloaded,
        tally.count(ErrorKind::BulkheadFull),
        "{s:?}"
    );
    ledger.assert_idle("bulkhead");
    all_inside("bulkhead", 4, |inside| {
        let bulkhead = bulkhead.clone();
        async move { bulkhead.call(|| rendezvous(&inside, 4)).await }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adaptive_bulkheads_give_back_every_permit_as_their_limit_moves() {
    // AIMD with a 1 ms latency threshold and a gradient: the limit moves
    // during the torture, under permits held and dropped.
    let aimd = Bulkhead::builder()
        .name("aimd")
        .max_concurrent(4)
        .max_queued(16)
        .max_wait(Duration::from_millis(3))
        .adaptive(AimdConfig::new(1, 8).latency_threshold(Duration::from_millis(1)))
        .build()
        .unwrap();
    let gradient = Bulkhead::builder()
        .name("gradient")
        .max_concurrent(4)
        .max_queued(16)
        .max_wait(Duration::from_millis(3))
        .adaptive(GradientConfig::new(1, 8))
        .build()
        .unwrap();
    for (salt, bulkhead) in [(3, aimd), (4, gradient)] {
        let ledger = Ledger::new();
        let tally = torture(Schedule::new(salt).calls(2_000), plain(&bulkhead, &ledger)).await;
        let s = bulkhead.snapshot();
        println!("{}: {tally:?}, {s:?}", s.name);
        assert_eq!((s.in_flight, s.waiting), (0, 0), "{s:?}");
        assert_eq!(
            s.rejected + s.queue_timeouts + s.overloaded,
            tally.count(ErrorKind::BulkheadFull),
            "{s:?}"
        );
        ledger.assert_idle(s.name.as_str());
        // Nothing completes until all are inside, so the limit holds still.
        let limit = usize::try_from(s.limit).unwrap();
        all_inside(s.name.as_str(), limit, |inside| {
            let bulkhead = bulkhead.clone();
            async move { bulkhead.call(|| rendezvous(&inside, limit)).await }
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_bulkhead_frees_every_partition() {
    // 6 keys over 4 partitions: partitions are evicted and re-made under
    // the torture, which only an idle partition allows, and each key's
    // callers queue for its 2 permits.
    let keyed: KeyedBulkhead<u32> = Bulkhead::builder()
        .name("per-key")
        .max_concurrent(2)
        .max_queued(8)
        .max_wait(Duration::from_millis(3))
        .build_keyed(4)
        .unwrap();
    let ledger = Ledger::new();
    let make = with(&keyed, &ledger, |b, l, c| async move {
        let key = c.key(6);
        if c.owned() {
            let ctx = OwnedContext::new((key,));
            b.call_owned_with(ctx, with_attempt(move |a| op(&l, c.work(a))))
                .await
        } else {
            b.call_with(
                Context::new().with_key(&key),
                with_attempt(|a| op(&l, c.work(a))),
            )
            .await
        }
    });
    let tally = torture(Schedule::new(5), make).await;

    let s = keyed.snapshot();
    println!("keyed bulkhead: {tally:?}, {s:?}");
    assert_eq!((s.in_flight, s.waiting), (0, 0), "{s:?}");
    assert_eq!(
        s.rejected + s.queue_timeouts + s.overloaded,
        tally.count(ErrorKind::BulkheadFull),
        "{s:?}"
    );
    assert!(s.keys <= 4, "{s:?}");
    ledger.assert_idle("keyed bulkhead");
    // Every key, and 10 new ones, gets its whole limit again, each key new
    // to the partitions evicting an idle one.
    for key in 0..16u32 {
        all_inside("keyed bulkhead", 2, |inside| {
            let keyed = keyed.clone();
            async move {
                keyed
                    .call_with(Context::new().with_key(&key), || rendezvous(&inside, 2))
                    .await
            }
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_gives_back_every_half_open_trial() {
    // A third of the attempts fail, so the breaker trips (3 in a row), opens
    // for 1 ms and probes with up to 4 trials, over and over: trials are
    // admitted and dropped at every point. Dropped calls count neither way
    // (they say nothing of the dependency), so what the breaker decides
    // rests on the completed calls only. The trial deadline is far beyond
    // the test, so no trial slot is given back by it: only by the drop.
    let breaker = Breaker::builder()
        .name("torture")
        .clear_trip_rules()
        .consecutive_failures(3)
        .open_for(Duration::from_millis(1))
        .half_open(HalfOpen::new(4).with_trial_deadline(Duration::from_secs(600)))
        .build()
        .unwrap();
    let ledger = Ledger::new();
    let tally = torture(Schedule::new(6).failing(35), plain(&breaker, &ledger)).await;

    let s = breaker.snapshot();
    println!("breaker: {tally:?}, {s:?}");
    assert_eq!(s.trials_in_flight, 0, "{s:?}");
    ledger.assert_idle("breaker");
    // The open time (1 ms) is long over, so the breaker is closed or
    // half-open. Half-open, it holds no failed trial (all 4 trials must
    // succeed, so a failed one re-opens it at once) and, with no trial
    // running, admits one: each call here is a trial and succeeds, and 4
    // successes at most close it. A trial slot kept by a dropped call would
    // refuse one of these calls.
    for _ in 0..4 {
        if breaker.state() == State::Closed {
            break;
        }
        assert_eq!(
            breaker.call(|| op(&ledger, Work::READY)).await.unwrap(),
            VALUE,
            "{:?}",
            breaker.snapshot()
        );
    }
    assert_eq!(breaker.state(), State::Closed, "{:?}", breaker.snapshot());
    assert_eq!(breaker.snapshot().trials_in_flight, 0);
}

/// A retry budget that earns nothing back, so its tokens are exactly its
/// capacity less the retries and hedges it granted and kept.
const BUDGET: u32 = 1_000_000;

fn budget() -> BudgetConfig {
    BudgetConfig::new().ratio(0.0).capacity(BUDGET)
}

#[allow(clippy::float_cmp)] // whole tokens: exact
fn assert_budget_kept(retry: &Retry) {
    let s = retry.snapshot();
    let budget = s.budget.as_ref().expect("a budget");
    let spent = s.retries + s.hedges_started;
    #[allow(clippy::cast_precision_loss)] // below 2^53
    let left = (u64::from(BUDGET) - spent) as f64;
    assert_eq!(
        budget.tokens, left,
        "{}: a token not given back by a retry dropped before it ran: {s:?}",
        s.name
    );
    assert!(!budget.exhausted, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_gives_back_the_token_of_every_retry_that_never_ran() {
    // Half the attempts fail; the retry waits 300 µs before each retry,
    // holding a budget token that must go back if it is dropped waiting.
    let retry = Retry::builder()
        .name("retry")
        .max_attempts(3)
        .backoff(Backoff::constant(Duration::from_micros(300)))
        .budget(budget())
        .seed(1)
        .build()
        .unwrap();
    let ledger = Ledger::new();
    let tally = torture(Schedule::new(7).failing(50), plain(&retry, &ledger)).await;

    let s = retry.snapshot();
    println!("retry: {tally:?}, {s:?}");
    assert_budget_kept(&retry);
    // A failure is counted in the poll that returns it.
    assert_eq!(s.failures, tally.count(ErrorKind::Inner), "{s:?}");
    ledger.assert_idle("retry");
    assert_eq!(
        retry.call(|| op(&ledger, Work::READY)).await.unwrap(),
        VALUE
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hedging_drops_every_losing_attempt() {
    let modes = [
        (
            "delayed",
            HedgeConfig::delayed(Duration::from_micros(300)).max_hedged(2),
        ),
        ("parallel", HedgeConfig::parallel().max_hedged(2)),
        ("fallback", HedgeConfig::fallback().max_hedged(2)),
    ];
    for (salt, (name, hedging)) in (8..).zip(modes) {
        let retry = Retry::builder()
            .name(name)
            .hedging(hedging)
            .budget(budget())
            .seed(salt)
            .build()
            .unwrap();
        let ledger = Ledger::new();
        let schedule = Schedule::new(salt).calls(1_500).failing(30);
        let tally = torture(schedule, plain(&retry, &ledger)).await;
        let s = retry.snapshot();
        println!("hedging {name}: {tally:?}, {s:?}");
        assert_eq!(s.retries, 0, "{s:?}");
        assert_budget_kept(&retry);
        // No attempt runs on after its call ended, the winner's losers included.
        ledger.assert_idle(name);
        assert_eq!(
            retry.call(|| op(&ledger, Work::READY)).await.unwrap(),
            VALUE
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limiter_hands_back_every_dropped_reservation() {
    // 4 units per 4 ms, callers waiting up to 3 ms for their turn: about
    // half the calls wait, and most waiters are dropped waiting.
    for (salt, algorithm) in (11..).zip([
        Algorithm::Gcra,
        Algorithm::SlidingWindow,
        Algorithm::FixedWindow,
    ]) {
        let limiter = RateLimiter::builder(Quota::new(4, Duration::from_millis(4)))
            .name(format!("{algorithm:?}"))
            .algorithm(algorithm)
            .wait(Duration::from_millis(3))
            .build()
            .unwrap();
        let ledger = Ledger::new();
        let tally = torture(Schedule::new(salt).calls(2_000), plain(&limiter, &ledger)).await;
        let s = limiter.snapshot();
        println!("rate limiter {algorithm:?}: {tally:?}, {s:?}");
        assert_eq!(s.waiting, 0, "{s:?}");
        // Admitted counts reservations less those handed back; an admitted
        // call runs its operation in the poll it is admitted in. So every
        // reservation kept is an attempt made, and every other one went back.
        assert_eq!(s.admitted, ledger.started(), "{s:?}");
        assert_eq!(s.rejected, tally.count(ErrorKind::RateLimited), "{s:?}");
        ledger.assert_idle(s.name.as_str());
        // Idle for 50 ms, more than ten periods: the quota is whole again.
        assert_eq!(limiter.peek().remaining, 4, "{s:?}");
        assert_eq!(
            limiter.call(|| op(&ledger, Work::READY)).await.unwrap(),
            VALUE
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_rate_limiter_hands_back_every_dropped_reservation() {
    let limiter = KeyedRateLimiter::<u32>::builder(Quota::new(4, Duration::from_millis(4)))
        .name("per-key")
        .wait(Duration::from_millis(3))
        .build()
        .unwrap();
    let ledger = Ledger::new();
    let make = with(&limiter, &ledger, |r, l, c| async move {
        let key = c.key(8);
        if c.owned() {
            let ctx = OwnedContext::new((key,));
            r.call_owned_with(ctx, with_attempt(move |a| op(&l, c.work(a))))
                .await
        } else {
            r.call_with(
                Context::new().with_key(&key),
                with_attempt(|a| op(&l, c.work(a))),
            )
            .await
        }
    });
    let tally = torture(Schedule::new(14), make).await;

    let s = limiter.snapshot();
    println!("keyed rate limiter: {tally:?}, {s:?}");
    assert_eq!(s.waiting, 0, "{s:?}");
    assert_eq!(s.admitted, ledger.started(), "{s:?}");
    assert_eq!(s.rejected, tally.count(ErrorKind::RateLimited), "{s:?}");
    ledger.assert_idle("keyed rate limiter");
    for key in 0..8u32 {
        assert_eq!(limiter.peek(&key).remaining, 4, "key {key}: {s:?}");
        let answer = limiter
            .call_with(Context::new().with_key(&key), || op(&ledger, Work::READY))
            .await;
        assert_eq!(answer.unwrap(), VALUE);
    }
}

/// The cache of the cache tests: a value is fresh for 2 ms, then stale (and
/// served while one refresh runs) for a minute; a failed fetch is covered
/// by the stale value for 5 ms.
fn torture_cache(name: &'static str) -> Cache<u32, u32, TestError> {
    Cache::<u32, u32, TestError>::builder()
        .name(name)
        .fresh_for(Duration::from_millis(2))
        .stale_for(Duration::from_secs(60))
        .fail_safe(Duration::from_secs(60), Duration::from_millis(5))
        .hard_timeout(Duration::from_millis(3))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_as_a_policy_lands_every_flight_and_frees_every_refresh() {
    // Borrowed calls: the caller that misses first leads the fetch, and a
    // follower takes over when it is dropped; a stale hit refreshes in the
    // foreground. Owned calls: a stale hit refreshes in a background call.
    let cache = torture_cache("policy");
    let ledger = Ledger::new();
    for key in 0..CACHE_KEYS {
        let primed = cache
            .call_with(
                Context::new().with_key(&key),
                fetched(|| op(&ledger, Work::READY)),
            )
            .await;
        assert!(primed.unwrap().is_fetched());
    }
    let make = with(&cache, &ledger, |cache, l, c| async move {
        let key = c.key(u64::from(CACHE_KEYS));
        if c.owned() {
            let ctx = OwnedContext::new((key,));
            cache
                .call_owned_with(ctx, fetched(with_attempt(move |a| op(&l, c.work(a)))))
                .await
        } else {
            cache
                .call_with(
                    Context::new().with_key(&key),
                    fetched(with_attempt(|a| op(&l, c.work(a)))),
                )
                .await
        }
    });
    let tally = torture(Schedule::new(15).failing(10), make).await;

    let before = cache.snapshot();
    println!("cache policy: {tally:?}, {before:?}");
    assert_eq!(before.in_flight, 0, "{before:?}");
    ledger.assert_idle("cache policy");
    // Every entry is stale now (fresh for 2 ms, 50 ms ago at the latest),
    // so each key's next call claims its one refresh, runs it, and answers
    // fresh. A refresh claim kept by a dropped caller would leave the key
    // served stale, unrefreshed.
    for key in 0..CACHE_KEYS {
        let answer = cache
            .call_with(
                Context::new().with_key(&key),
                fetched(|| op(&ledger, Work::READY)),
            )
            .await
            .unwrap();
        assert!(answer.is_fetched(), "key {key}: {:?}", answer.freshness());
    }
    let after = cache.snapshot();
    assert_eq!(
        after.refreshes - before.refreshes,
        u64::from(CACHE_KEYS),
        "{after:?}"
    );
    assert_eq!(
        after.stale_hits - before.stale_hits,
        u64::from(CACHE_KEYS),
        "{after:?}"
    );
    assert_eq!(after.in_flight, 0, "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_get_or_fetch_lands_every_flight() {
    // The fetch runs as its own task: a dropped caller leaves it running for
    // the others, and a 1 ms soft timeout leaves it running past the caller.
    let cache = torture_cache("get-or-fetch");
    let ledger = Ledger::new();
    let make = with(&cache, &ledger, |cache, l, c| async move {
        let key = c.key(u64::from(CACHE_KEYS));
        let options = FetchOptions::new().soft_timeout(Duration::from_millis(1));
        cache
            .get_or_fetch_with(&key, options, || op(&l, c.works[0]))
            .await
    });
    let tally = torture(Schedule::new(16).failing(10), make).await;

    let s = cache.snapshot();
    println!("cache get_or_fetch: {tally:?}, {s:?}");
    assert_eq!(s.in_flight, 0, "{s:?}");
    ledger.assert_idle("cache get_or_fetch");
    for key in 0..CACHE_KEYS {
        let answer = cache
            .get_or_fetch(&key, || op(&ledger, Work::READY))
            .await
            .unwrap();
        assert_eq!(*answer.value(), VALUE);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_shedder_uncounts_every_dropped_call() {
    let shedder = LoadShedder::builder()
        .name("torture")
        .class(ShedClass::new("low", Priority::LOW).max_in_flight(4))
        .class(ShedClass::new("normal", Priority::NORMAL).max_in_flight(8))
        .class(ShedClass::new("critical", Priority::CRITICAL))
        .build()
        .unwrap();
    let ledger = Ledger::new();
    let make = with(&shedder, &ledger, |s, l, c| async move {
        let priority = [Priority::LOW, Priority::NORMAL, Priority::CRITICAL]
            [usize::try_from(c.pick % 3).unwrap()];
        if c.owned() {
            let ctx = OwnedContext::empty().with_priority(priority);
            s.call_owned_with(ctx, with_attempt(move |a| op(&l, c.work(a))))
                .await
        } else {
            s.call_with(
                Context::new().with_priority(priority),
                with_attempt(|a| op(&l, c.work(a))),
            )
            .await
        }
    });
    let tally = torture(Schedule::new(17), make).await;

    let s = shedder.snapshot();
    println!("load shedder: {tally:?}, {s:?}");
    assert_eq!(s.in_flight, 0, "{s:?}");
    // A call is shed in the poll that returns the refusal.
    let shed: u64 = s.classes.iter().map(|c| c.shed).sum();
    assert_eq!(shed, tally.count(ErrorKind::Shed), "{s:?}");
    ledger.assert_idle("load shedder");
    // Normal work is admitted up to 8 in flight in all: 8 at once get in.
    all_inside("load shedder", 8, |inside| {
        let shedder = shedder.clone();
        async move {
            shedder
                .call_with(Context::new().with_priority(Priority::NORMAL), || {
                    rendezvous(&inside, 8)
                })
                .await
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::float_cmp)] // exactly zero
async fn adaptive_throttle_forgets_the_torture_after_its_window() {
    // The throttle holds nothing, but it counts: every call it lets through
    // is a request, and only a call that completes can be an accept, so a
    // dropped call counts as one the dependency did not accept. Under this
    // torture the throttle starts refusing calls to a dependency that never
    // failed, and goes on until the window has passed (printed below; see
    // `adaptive_throttle_does_not_hold_a_dropped_call_against_the_dependency`).
    let mut config = AdaptiveThrottleConfig::default();
    config.window = Duration::from_millis(200);
    let throttle = AdaptiveThrottle::from_config(config).unwrap();
    let ledger = Ledger::new();
    let tally = torture(Schedule::new(18), plain(&throttle, &ledger)).await;

    let s = throttle.snapshot();
    println!("adaptive throttle after the torture: {tally:?}, {s:?}");
    // Refused locally in the poll that returns the refusal.
    assert_eq!(s.throttled, tally.count(ErrorKind::Shed), "{s:?}");
    ledger.assert_idle("adaptive throttle");
    // Past the window nothing of the torture is left, and calls go through.
    tokio::time::sleep(Duration::from_millis(250)).await;
    let s = throttle.snapshot();
    assert_eq!((s.requests, s.accepts), (0, 0), "{s:?}");
    assert_eq!(s.reject_probability, 0.0, "{s:?}");
    assert_eq!(
        throttle.call(|| op(&ledger, Work::READY)).await.unwrap(),
        VALUE
    );
}

/// The throttle's finding alone, on the paused clock: one call to a
/// dependency that never failed, dropped by its caller's 1 ms timeout before
/// the dependency answered, leaves the throttle refusing the next call with
/// probability 1/2, for as long as the window (a minute) remembers it.
#[tokio::test(start_paused = true)]
#[ignore = "finding (not a leak): the adaptive throttle counts a call its caller dropped as a request \
            the dependency did not accept, so cancellation alone (a timeout above it, select!, a losing \
            hedge) makes it throttle a healthy dependency"]
#[allow(clippy::float_cmp)] // exactly zero
async fn adaptive_throttle_does_not_hold_a_dropped_call_against_the_dependency() {
    let throttle = AdaptiveThrottle::new().unwrap();
    let slow = throttle.call(|| async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok::<_, TestError>(VALUE)
    });
    let dropped = tokio::time::timeout(Duration::from_millis(1), slow).await;
    assert!(
        dropped.is_err(),
        "admitted (nothing to throttle yet), then cut by the caller"
    );
    let s = throttle.snapshot();
    // Today: requests 1, accepts 0, reject_probability 0.5.
    assert_eq!(s.reject_probability, 0.0, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_last_known_good_and_optional_still_answer() {
    // Degradation holds nothing; what the torture checks is that a fallback
    // dropped while it produces its answer, a remembered value served or
    // not, and an optional call skipped or not, leave no attempt running and
    // the policies answering.
    let ledger = Ledger::new();

    let fallback = {
        let ledger = Arc::clone(&ledger);
        Fallback::from_async(move |_: Error<TestError>| {
            let produce = op(
                &ledger,
                Work {
                    pause: Pause::Sleep(Duration::from_micros(500)),
                    fails: false,
                },
            );
            async move { produce.await.map_err(Error::Inner) }
        })
    };
    let tally = torture(
        Schedule::new(19).calls(1_500).failing(50),
        plain(&fallback, &ledger),
    )
    .await;
    println!("fallback: {tally:?}, {:?}", fallback.snapshot());
    ledger.assert_idle("fallback");
    assert_eq!(
        fallback.call(|| op(&ledger, Work::READY)).await.unwrap(),
        VALUE
    );

    let last_good = LastKnownGood::<u32>::builder()
        .name("last-good")
        .max_age(Duration::from_secs(60))
        .build()
        .unwrap();
    let make = with(&last_good, &ledger, |lkg, l, c| async move {
        lkg.call(fresh(with_attempt(|a| op(&l, c.work(a))))).await
    });
    let tally = torture(Schedule::new(20).calls(1_500).failing(50), make).await;
    println!("last known good: {tally:?}, {:?}", last_good.snapshot());
    ledger.assert_idle("last known good");
    let answer = last_good.call(fresh(|| op(&ledger, Work::READY))).await;
    assert_eq!(*answer.unwrap(), VALUE);

    let breaker = Breaker::builder()
        .clear_trip_rules()
        .consecutive_failures(3)
        .open_for(Duration::from_millis(1))
        .half_open(HalfOpen::new(1).with_trial_deadline(Duration::from_secs(600)))
        .build()
        .unwrap();
    let optional = Optional::builder()
        .name("optional")
        .skip_while_open({
            let breaker = breaker.clone();
            move || breaker.is_refusing()
        })
        .build();
    let inner = Pipeline::new(optional.clone()).then(breaker.clone());
    let make = with(&inner, &ledger, |p, l, c| async move {
        p.call(some(with_attempt(|a| op(&l, c.work(a))))).await
    });
    let tally = torture(Schedule::new(21).calls(1_500).failing(50), make).await;
    println!(
        "optional: {tally:?}, {:?}, {:?}",
        optional.snapshot(),
        breaker.snapshot()
    );
    assert_eq!(breaker.snapshot().trials_in_flight, 0);
    ledger.assert_idle("optional");
    // The breaker's 1 ms open time is over: half-open, it admits its one
    // trial (none is running), which closes it.
    let answer = inner.call(some(|| op(&ledger, Work::READY))).await;
    assert_eq!(answer.unwrap(), Some(VALUE));
}

// ---------------------------------------------------------------------------
// Every policy in one pipeline.
// ---------------------------------------------------------------------------

/// The tenant a call is made for: the key of the per-tenant policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Tenant(u32);

const ITEMS: u32 = 8;
const TENANTS: u32 = 4;

/// Every policy that composes with a `u32` answer, outermost first: a total
/// time limit, priority shedding, a cache whose fetch is the rest, retries
/// each limited to 1.5 ms, a breaker, a bulkhead, a per-tenant rate limit
/// with waiting, and a per-tenant lockout.
///
/// The breaker sits inside the per-attempt timeout, so an attempt the
/// timeout cuts is dropped under the breaker rather than judged by it: the
/// operation never fails, the local refusals below (bulkhead full, rate
/// limited) are ignored by default, and nothing the torture does is a
/// failure. So the breaker stays closed, exactly.
struct Parts {
    total: Timeout,
    per_attempt: Timeout,
    shedder: LoadShedder,
    cache: Cache<u32, u32, TestError>,
    retry: Retry,
    breaker: Breaker,
    bulkhead: Bulkhead,
    limiter: KeyedRateLimiter<Tenant>,
    lockout: Lockout<Tenant>,
}

impl Parts {
    fn new() -> Self {
        Parts {
            total: Timeout::builder()
                .name("total")
                .limit(Duration::from_millis(20))
                .build()
                .unwrap(),
            per_attempt: Timeout::builder()
                .name("per-attempt")
                .limit(Duration::from_micros(1_500))
                .build()
                .unwrap(),
            shedder: LoadShedder::builder()
                .class(ShedClass::new("low", Priority::LOW).max_in_flight(6))
                .class(ShedClass::new("normal", Priority::NORMAL).max_in_flight(16))
                .build()
                .unwrap(),
            cache: torture_cache("pipeline"),
            retry: Retry::builder()
                .max_attempts(3)
                .backoff(Backoff::constant(Duration::from_micros(200)))
                .budget(budget())
                .seed(2)
                .build()
                .unwrap(),
            breaker: Breaker::builder()
                .clear_trip_rules()
                .consecutive_failures(5)
                .open_for(Duration::from_millis(1))
                .build()
                .unwrap(),
            bulkhead: Bulkhead::builder()
                .max_concurrent(4)
                .max_queued(4)
                .max_wait(Duration::from_millis(2))
                .build()
                .unwrap(),
            limiter: KeyedRateLimiter::<Tenant>::builder(Quota::new(4, Duration::from_millis(4)))
                .wait(Duration::from_millis(3))
                .build()
                .unwrap(),
            lockout: Lockout::<Tenant>::builder().build().unwrap(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_policy_in_one_pipeline_holds_nothing_after_the_torture() {
    let parts = Parts::new();
    let pipeline = Pipeline::new(parts.total.clone())
        .then(parts.shedder.clone())
        .then(parts.cache.clone())
        .then(parts.retry.clone())
        .then(parts.per_attempt.clone())
        .then(parts.breaker.clone())
        .then(parts.bulkhead.clone())
        .then(parts.limiter.clone())
        .then(parts.lockout.clone());
    let ledger = Ledger::new();
    let make = with(&pipeline, &ledger, |p, l, c| async move {
        let item = c.key(u64::from(ITEMS));
        let tenant = Tenant(u32::try_from((c.pick >> 8) % u64::from(TENANTS)).unwrap());
        let priority = if c.pick & 0x80 == 0 {
            Priority::LOW
        } else {
            Priority::NORMAL
        };
        if c.owned() {
            let ctx = OwnedContext::new((item, tenant)).with_priority(priority);
            p.call_owned_with(ctx, with_attempt(move |a| op(&l, c.work(a))))
                .await
        } else {
            let ctx = Context::new()
                .with_key(&item)
                .with_key(&tenant)
                .with_priority(priority);
            p.call_with(ctx, with_attempt(|a| op(&l, c.work(a)))).await
        }
    });
    let tally = torture(Schedule::new(22).calls(4_000), make).await;
    println!("pipeline: {tally:?}");
    assert_nothing_held(&parts, &ledger);

    // Every item for every tenant is still served.
    for item in 0..ITEMS {
        for tenant in (0..TENANTS).map(Tenant) {
            let ctx = Context::new().with_key(&item).with_key(&tenant);
            let answer = pipeline.call_with(ctx, || op(&ledger, Work::READY)).await;
            assert_eq!(answer.unwrap(), VALUE, "item {item}, {tenant:?}");
        }
    }
    assert_nothing_held(&parts, &ledger);
}

fn assert_nothing_held(parts: &Parts, ledger: &Ledger) {
    let shedder = parts.shedder.snapshot();
    println!("  {shedder:?}");
    assert_eq!(shedder.in_flight, 0, "{shedder:?}");

    let cache = parts.cache.snapshot();
    println!("  {cache:?}");
    assert_eq!(cache.in_flight, 0, "{cache:?}");

    println!("  {:?}", parts.retry.snapshot());
    assert_budget_kept(&parts.retry);

    let breaker = parts.breaker.snapshot();
    println!("  {breaker:?}");
    assert_eq!(breaker.state, State::Closed, "{breaker:?}");
    assert_eq!(breaker.consecutive_failures, 0, "{breaker:?}");
    assert_eq!(breaker.trials_in_flight, 0, "{breaker:?}");
    assert_eq!((breaker.opened, breaker.rejected), (0, 0), "{breaker:?}");

    let bulkhead = parts.bulkhead.snapshot();
    println!("  {bulkhead:?}");
    assert_eq!(
        (bulkhead.in_flight, bulkhead.waiting),
        (0, 0),
        "{bulkhead:?}"
    );

    let limiter = parts.limiter.snapshot();
    println!("  {limiter:?}");
    assert_eq!(limiter.waiting, 0, "{limiter:?}");
    // The limiter is the innermost policy but the lockout, which runs the
    // operation in the poll it is called: each reservation kept is an
    // attempt made.
    assert_eq!(limiter.admitted, ledger.started(), "{limiter:?}");

    let lockout = parts.lockout.snapshot();
    println!("  {lockout:?}");
    assert_eq!((lockout.lockouts, lockout.rejected), (0, 0), "{lockout:?}");

    println!(
        "  {:?} {:?}",
        parts.total.snapshot(),
        parts.per_attempt.snapshot()
    );
    ledger.assert_idle("pipeline");
}
