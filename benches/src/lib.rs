//! Shared pieces of the steadfast benchmarks: the one inner operation every
//! case awaits, the runtime, and loops that measure many calls per
//! `block_on` (uncontended and on two threads).
//!
//! Every case in a group awaits the same [`op`], whose `poll` is never
//! inlined, so `bare` and each policy pay exactly the same for the operation
//! and the difference is the policy.

pub mod backplane;
pub mod cache;
pub mod fixtures;
pub mod pipeline;

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use criterion::Bencher;

/// The error type of the benchmark operation (never produced).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchError;

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bench error")
    }
}

impl std::error::Error for BenchError {}

/// The operation every case awaits: ready at once with `Ok`.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ReadyOp;

impl Future for ReadyOp {
    type Output = Result<u64, BenchError>;

    #[inline(never)]
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Ok(black_box(1)))
    }
}

/// Starts the benchmark operation.
#[inline]
pub fn op() -> ReadyOp {
    ReadyOp
}

/// A current-thread runtime with the timer enabled.
///
/// # Panics
///
/// When the runtime cannot be built (no threads or no memory left).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime builds")
}

/// Times `iters` awaits of `f()` inside one `block_on`.
pub fn iter_async<F, Fut>(b: &mut Bencher<'_>, rt: &tokio::runtime::Runtime, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future,
{
    b.iter_custom(|iters| time_async(rt, iters, &mut f));
}

/// The time `iters` awaits of `f()` take inside one `block_on`: the loop of
/// [`iter_async`], for programs that time cases themselves.
pub fn time_async<F, Fut>(rt: &tokio::runtime::Runtime, iters: u64, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future,
{
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(f().await);
        }
        start.elapsed()
    })
}

/// Times `iters` awaits of `f()` on each of two threads at once (each with its
/// own current-thread runtime) against shared state; reports wall time, so
/// the figure is the cost of one call under contention.
///
/// # Panics
///
/// When a bench thread panics.
pub fn iter_contended<F, Fut>(b: &mut Bencher<'_>, f: F)
where
    F: Fn() -> Fut + Sync,
    Fut: Future,
{
    b.iter_custom(|iters| {
        let barrier = std::sync::Barrier::new(2);
        let elapsed: Vec<Duration> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let rt = runtime();
                        barrier.wait();
                        rt.block_on(async {
                            let start = Instant::now();
                            for _ in 0..iters {
                                black_box(f().await);
                            }
                            start.elapsed()
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a bench thread panicked"))
                .collect()
        });
        elapsed.into_iter().max().unwrap_or_default()
    });
}

/// Allocations per call of `f()`, over `calls` calls inside one `block_on`.
#[allow(clippy::cast_precision_loss)]
pub fn allocs_per_call<F, Fut>(rt: &tokio::runtime::Runtime, calls: u64, mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: Future,
{
    // Warm up first: lazily initialised runtime and timer state is not per call.
    rt.block_on(async {
        for _ in 0..100 {
            black_box(f().await);
        }
    });
    let info = allocation_counter::measure(|| {
        rt.block_on(async {
            for _ in 0..calls {
                black_box(f().await);
            }
        });
    });
    info.count_total as f64 / calls as f64
}
