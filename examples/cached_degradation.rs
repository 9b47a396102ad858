//! A cache in front of a pipeline: fresh hits, stale-while-revalidate, and an
//! outage covered by the last good values.
//!
//! `cargo run --release --example cached_degradation`
//!
//! A "price service" (the simulated dependency: 5–45 ms, a few 503s) is read
//! for four products, one request every 50 ms, round and round; from request
//! 12 to request 28 it is down. Every fetch goes through a small pipeline —
//! retry (2 attempts) → circuit breaker (3 failures in a row, open 300 ms) →
//! attempt timeout (150 ms) — and the cache sits in front of it:
//!
//! - fresh for 300 ms, then stale for 300 ms: a stale hit is served at once
//!   and one refresh runs in the background (stale-while-revalidate); each
//!   product is read about every 200 ms, so its hits alternate between fresh
//!   and stale;
//! - fail-safe up to 60 s old, throttled 250 ms: when a fetch fails, the last
//!   good value stands in, and is served without fetching for 250 ms;
//! - degrade on rejection: when the breaker refuses the fetch, the last good
//!   value stands in too;
//! - soft timeout 60 ms (with an old value at hand, a caller waits no longer),
//!   hard timeout 1 s (no fetch runs longer).
//!
//! What to look for: fetches at first, then fresh hits and "revalidating"
//! hits served in 0 ms. During the outage the background refreshes fail
//! (the values stay, marked stale), a value past its stale time is served
//! in place of the failed fetch ("fetch failed", within the 250 ms
//! throttle), and once the breaker has opened, in place of the refused one
//! ("circuit open") — no errors. The breaker stays open a little past the
//! outage. Then a fetch slower than the soft timeout leaves its caller with
//! the old value at 60 ms and goes on in the background to store the new
//! one; the fetches succeed again and the values are fresh. Each value
//! carries the number of the upstream call that produced it, so you can see
//! how old what you are served is.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use steadfast::breaker::Breaker;
use steadfast::cache::{Cache, FetchOptions, Freshness, StaleReason};
use steadfast::retry::{Backoff, Jitter, Retry};
use steadfast::{ErrorKind, Inspect, Pipeline, Timeout};
use steadfast_examples::{FlakyDependency, UpstreamError};

const REQUESTS: u32 = 40;
const PRODUCTS: u32 = 4;

#[tokio::main]
async fn main() -> Result<(), steadfast::ConfigError> {
    let dependency = Arc::new(FlakyDependency::new(7, 5, 0));
    // Numbers the upstream calls, so each value says which call produced it.
    let upstream_calls = Arc::new(AtomicU32::new(0));

    let retry = Retry::builder()
        .name("retry")
        .max_attempts(2)
        .backoff(
            Backoff::exponential(Duration::from_millis(10), 2.0, Duration::from_millis(40))
                .with_jitter(Jitter::Full),
        )
        .seed(42)
        .build()?;
    let breaker = Breaker::builder()
        .name("price-breaker")
        .consecutive_failures(3)
        .open_for(Duration::from_millis(300))
        .build()?;
    let pipeline = Pipeline::new(retry).then(breaker.clone()).then(
        Timeout::builder()
            .limit(Duration::from_millis(150))
            .name("attempt-timeout")
            .build()?,
    );

    let prices = Cache::<u32, Arc<str>, UpstreamError>::builder()
        .name("prices")
        .fresh_for(Duration::from_millis(300))
        .stale_for(Duration::from_millis(300))
        .fail_safe(Duration::from_secs(60), Duration::from_millis(250))
        .soft_timeout(Duration::from_millis(60))
        .hard_timeout(Duration::from_secs(1))
        .degrade_on_rejection(true)
        .build()?;

    println!(
        "{REQUESTS} requests for {PRODUCTS} products through: cache -> retry -> breaker -> attempt timeout"
    );
    println!("(the price service is down from request 12 to request 28)\n");
    let (mut answered, mut covered, mut errors) = (0, 0, 0);
    let (mut outage_requests, mut outage_answered) = (0, 0);
    for request in 1..=REQUESTS {
        let down = (12..=28).contains(&request);
        dependency.set_outage(down);
        outage_requests += u32::from(down);
        let product = (request - 1) % PRODUCTS + 1;
        let fetch_price = {
            let dependency = Arc::clone(&dependency);
            let upstream_calls = Arc::clone(&upstream_calls);
            move || {
                let dependency = Arc::clone(&dependency);
                let call = upstream_calls.fetch_add(1, Ordering::Relaxed) + 1;
                async move { dependency.call(call).await.map(Arc::from) }
            }
        };
        let started = Instant::now();
        let result = prices
            .get_or_fetch_through(&product, FetchOptions::new(), &pipeline, fetch_price)
            .await;
        let took = started.elapsed().as_millis();
        let what = match result {
            Ok(price) => {
                answered += 1;
                outage_answered += u32::from(down);
                let (how, stood_in) = describe(price.freshness());
                covered += u32::from(stood_in);
                format!("{how:<52} {}", price.value())
            }
            Err(e) => {
                errors += 1;
                format!("error: {}", e.message())
            }
        };
        println!("request {request:>2} product {product} {took:>3} ms  {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let c = prices.snapshot();
    let b = breaker.snapshot();
    println!(
        "\ncache: {} fresh hits, {} stale hits, {} stale fallbacks, {} misses; \
         {} fetches ({} failed); hit ratio {:.0} %\n\
         breaker: opened {} times, refused {} calls",
        c.hits,
        c.stale_hits,
        c.stale_fallbacks,
        c.misses,
        c.fetches,
        c.fetch_errors,
        c.hit_ratio() * 100.0,
        b.opened,
        b.rejected,
    );
    println!(
        "{answered} of {REQUESTS} requests got an answer, {outage_answered} of the {outage_requests} \
         made while the price service was down among them; without the cache at least {} \
         would have failed ({covered} were answered with an old value in place of a failed or \
         refused fetch, {errors} got an error).",
        covered + errors
    );
    Ok(())
}

/// How a value was served, and whether it stood in for a fetch that failed
/// or was refused (so that, without the cache, the request would have failed).
fn describe(freshness: Freshness) -> (String, bool) {
    match freshness {
        Freshness::Fresh { age } => (format!("fresh (age {} ms)", age.as_millis()), false),
        Freshness::Fetched => ("fetched".to_owned(), false),
        Freshness::Stale { age, reason } => {
            let (why, stood_in) = match reason {
                StaleReason::Revalidating => ("revalidating", false),
                StaleReason::FetchFailed => ("fetch failed", true),
                StaleReason::Rejected(ErrorKind::CircuitOpen) => {
                    ("dependency refused: circuit open", true)
                }
                StaleReason::Rejected(_) => ("dependency refused", true),
                StaleReason::SoftTimeout => ("soft timeout", false),
                _ => ("other", false),
            };
            (
                format!("stale {} ms old ({why})", age.as_millis()),
                stood_in,
            )
        }
        _ => ("other".to_owned(), false),
    }
}
