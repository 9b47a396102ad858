//! Rate limiting: one admission check, direct and keyed, beside governor.
//!
//! `cargo bench -p steadfast-benches --bench ratelimit -- --warm-up-time 1 --measurement-time 3`
//!
//! Every limiter here admits every check, so the figure is the cost of an
//! admission: read the clock, read the state, decide, write it back. The
//! quota is the same for both crates: a realistic refill rate (100 per
//! second, so steadfast may read its cached clock, see the crate's "Clock"
//! docs) with a burst of `u32::MAX`, more than a run can use up.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use criterion::{Bencher, Criterion, criterion_group, criterion_main};
use governor::{Quota as GovQuota, RateLimiter as GovLimiter};
use steadfast::Policy;
use steadfast::ratelimit::{KeyedRateLimiter, Quota, RateLimiter};
use steadfast_benches::{iter_async, op, runtime};

const KEYS: u64 = 10_000;

const RATE: u32 = 100;

fn steadfast_quota() -> Quota {
    Quota::per_second(RATE).burst(u32::MAX)
}

fn governor_quota() -> GovQuota {
    GovQuota::per_second(NonZeroU32::new(RATE).expect("non-zero")).allow_burst(NonZeroU32::MAX)
}

fn ratelimit_direct(c: &mut Criterion) {
    let ours = RateLimiter::new(steadfast_quota()).expect("a valid quota");
    let theirs = GovLimiter::direct(governor_quota());
    let mut group = c.benchmark_group("ratelimit_direct");
    group.bench_function("steadfast", |b| b.iter(|| black_box(ours.check())));
    group.bench_function("governor", |b| b.iter(|| black_box(theirs.check())));
    group.finish();
}

fn ratelimit_keyed_10k(c: &mut Criterion) {
    let ours = KeyedRateLimiter::<u64>::new(steadfast_quota()).expect("a valid quota");
    let theirs = GovLimiter::keyed(governor_quota());
    for key in 0..KEYS {
        ours.check(&key).expect("admitted");
        theirs.check_key(&key).expect("admitted");
    }
    let mut group = c.benchmark_group("ratelimit_keyed_10k");
    let mut key = 0;
    group.bench_function("steadfast", |b| {
        b.iter(|| {
            key = (key + 1) % KEYS;
            black_box(ours.check(black_box(&key)))
        });
    });
    group.bench_function("governor", |b| {
        b.iter(|| {
            key = (key + 1) % KEYS;
            black_box(theirs.check_key(black_box(&key)))
        });
    });
    group.finish();
}

/// Times `iters` calls of `f(thread, i)` on each of two threads at once;
/// reports the slower thread's wall time.
fn iter_two_threads<F>(b: &mut Bencher<'_>, f: F)
where
    F: Fn(u64, u64) + Sync,
{
    b.iter_custom(|iters| {
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..2u64)
                .map(|thread| {
                    let (f, barrier) = (&f, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        let start = Instant::now();
                        for i in 0..iters {
                            f(thread, i);
                        }
                        start.elapsed()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a bench thread panicked"))
                .max()
                .unwrap_or(Duration::ZERO)
        })
    });
}

fn ratelimit_keyed_contended(c: &mut Criterion) {
    let ours = KeyedRateLimiter::<u64>::new(steadfast_quota()).expect("a valid quota");
    let theirs = GovLimiter::keyed(governor_quota());
    for key in 0..KEYS {
        ours.check(&key).expect("admitted");
        theirs.check_key(&key).expect("admitted");
    }
    // The two threads cycle the same 10,000 keys half a cycle apart.
    let key = |thread: u64, i: u64| (i + thread * KEYS / 2) % KEYS;
    let mut group = c.benchmark_group("ratelimit_keyed_contended");
    group.bench_function("steadfast", |b| {
        iter_two_threads(b, |t, i| {
            black_box(ours.check(black_box(&key(t, i)))).ok();
        });
    });
    group.bench_function("governor", |b| {
        iter_two_threads(b, |t, i| {
            black_box(theirs.check_key(black_box(&key(t, i)))).ok();
        });
    });
    group.finish();
}

/// The clock reads the limiters are built on: tokio's (std's `Instant::now`
/// outside a paused test runtime) and governor's default (quanta, which
/// steadfast's fast clock also reads).
fn ratelimit_clock(c: &mut Criterion) {
    use governor::clock::{Clock, DefaultClock};
    let quanta = DefaultClock::default();
    let mut group = c.benchmark_group("ratelimit_clock");
    group.bench_function("tokio", |b| {
        b.iter(|| black_box(tokio::time::Instant::now()));
    });
    group.bench_function("governor", |b| b.iter(|| black_box(quanta.now())));
    group.finish();
}

/// The direct limiter as a policy around the shared operation.
fn ratelimit_policy(c: &mut Criterion) {
    let rt = runtime();
    let ours = RateLimiter::new(steadfast_quota()).expect("a valid quota");
    let mut group = c.benchmark_group("ratelimit_policy");
    group.bench_function("steadfast", |b| iter_async(b, &rt, || ours.call(op)));
    group.bench_function("bare", |b| iter_async(b, &rt, op));
    group.finish();
}

criterion_group!(
    benches,
    ratelimit_direct,
    ratelimit_keyed_10k,
    ratelimit_keyed_contended,
    ratelimit_clock,
    ratelimit_policy
);
criterion_main!(benches);
