//! The quick start: a pipeline around a flaky simulated dependency that also
//! goes down for a while, and what happened to each call.
//!
//! `cargo run --release --example quickstart`
//!
//! The dependency answers most calls in 5–45 ms, fails some with a 503 and
//! stalls on others; from call 9 to call 20 it is down. The pipeline, in the
//! usual order (outermost first):
//!
//! 1. a total timeout (2 s) bounds each call, retries included;
//! 2. a retry (3 attempts, jittered exponential backoff, budget on) rescues
//!    passing faults;
//! 3. a circuit breaker (3 failures in a row, open 300 ms) stops calling the
//!    dependency while it is down, and probes it now and then;
//! 4. a bulkhead (8 at once) caps concurrency;
//! 5. an attempt timeout (150 ms) cuts stalled attempts, so they are retried.

use std::time::{Duration, Instant};

use steadfast::breaker::{Breaker, State};
use steadfast::bulkhead::Bulkhead;
use steadfast::retry::{Backoff, Jitter, Retry};
use steadfast::{Error, Inspect, Pipeline, Policy, Timeout};
use steadfast_examples::FlakyDependency;

const CALLS: u32 = 28;

#[tokio::main]
async fn main() -> Result<(), steadfast::ConfigError> {
    let dependency = FlakyDependency::new(11, 10, 10);

    let retry = Retry::builder()
        .name("retry")
        .max_attempts(3)
        .backoff(
            Backoff::exponential(Duration::from_millis(20), 2.0, Duration::from_millis(100))
                .with_jitter(Jitter::Full),
        )
        .seed(42)
        .build()?;
    let breaker = Breaker::builder()
        .name("dependency-breaker")
        .consecutive_failures(3)
        .open_for(Duration::from_millis(300))
        .build()?;
    let attempt_timeout = Timeout::builder()
        .limit(Duration::from_millis(150))
        .name("attempt-timeout")
        .build()?;
    let pipeline = Pipeline::new(
        Timeout::builder()
            .limit(Duration::from_secs(2))
            .name("total-timeout")
            .build()?,
    )
    .then(retry.clone())
    .then(breaker.clone())
    .then(
        Bulkhead::builder()
            .name("bulkhead")
            .max_concurrent(8)
            .build()?,
    )
    .then(attempt_timeout.clone());

    println!(
        "{CALLS} calls through: total timeout -> retry -> breaker -> bulkhead -> attempt timeout"
    );
    println!("(the dependency is down from call 9 to call 20)\n");
    let (mut ok, mut failed, mut rejected) = (0, 0, 0);
    for request in 1..=CALLS {
        dependency.set_outage((9..=20).contains(&request));
        let attempts_before = retry.snapshot().attempts;
        let started = Instant::now();
        let result = pipeline.call(|| dependency.call(request)).await;
        let took = started.elapsed().as_millis();
        let attempts = retry.snapshot().attempts - attempts_before;
        let state = match breaker.state() {
            State::Closed => "closed",
            State::Open => "OPEN",
            State::HalfOpen => "half-open",
            _ => "other",
        };
        let what = match result {
            Ok(body) => {
                ok += 1;
                format!("ok: {body}")
            }
            Err(Error::Inner(e)) => {
                failed += 1;
                format!("failed: {e}")
            }
            Err(e) => {
                rejected += 1;
                format!(
                    "rejected by `{}`; the user sees \"{}\"",
                    e.policy_name().unwrap_or("?"),
                    e.message()
                )
            }
        };
        println!(
            "call {request:>2} {took:>4} ms, {attempts} attempt(s), breaker {state:<9} {what}"
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
    }

    let r = retry.snapshot();
    let b = breaker.snapshot();
    println!(
        "\n{ok} answered, {failed} failed, {rejected} refused fast.\n\
         retry: {} attempts for {} calls ({} retries); breaker: opened {} times, refused {} calls; \
         attempt timeout: cut {} stalled attempts",
        r.attempts,
        r.calls,
        r.retries,
        b.opened,
        b.rejected,
        attempt_timeout.snapshot().timeouts
    );
    Ok(())
}
