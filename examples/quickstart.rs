//! The quick start: a pipeline around a flaky simulated dependency, and what
//! happened to each call.
//!
//! `cargo run --release --example quickstart`
//!
//! The dependency answers most calls in 5–45 ms, fails some with a 503 and
//! stalls on others. A per-call timeout cuts the stalls short, so every call
//! ends within a known time and the caller gets an answer it can act on. The
//! pipeline grows as the policy crates land (retry, breaker, rate limit…).

use std::time::{Duration, Instant};

use steadfast::{Error, Inspect, Pipeline, Policy, Timeout};
use steadfast_examples::FlakyDependency;

const CALLS: u32 = 12;

#[tokio::main]
async fn main() -> Result<(), steadfast::ConfigError> {
    let dependency = FlakyDependency::new(7, 20, 15);

    // Outermost first: a total budget for the call, then a limit per attempt.
    let total = Timeout::builder()
        .limit(Duration::from_secs(2))
        .name("total")
        .build()?;
    let attempt = Timeout::builder()
        .limit(Duration::from_millis(150))
        .name("attempt-timeout")
        .build()?;
    let pipeline = Pipeline::new(total).then(attempt.clone());

    println!(
        "calling a flaky dependency {CALLS} times through: total timeout (2 s) -> attempt timeout (150 ms)\n"
    );
    let (mut ok, mut failed, mut rejected) = (0, 0, 0);
    for request in 1..=CALLS {
        let started = Instant::now();
        let result = pipeline.call(|| dependency.call(request)).await;
        let took = started.elapsed().as_millis();
        match result {
            Ok(body) => {
                ok += 1;
                println!("call {request:>2}: ok       in {took:>4} ms: {body}");
            }
            Err(Error::Inner(e)) => {
                failed += 1;
                println!("call {request:>2}: failed   in {took:>4} ms: {e}");
            }
            Err(e) => {
                rejected += 1;
                println!(
                    "call {request:>2}: rejected in {took:>4} ms by `{}`: {e}\n          the user sees: \"{}\"",
                    e.policy_name().unwrap_or("?"),
                    e.message()
                );
            }
        }
    }
    let snapshot = attempt.snapshot();
    println!(
        "\n{ok} answered, {failed} failed upstream, {rejected} cut short; `{}` has cancelled {} stalled calls",
        snapshot.name, snapshot.timeouts
    );
    Ok(())
}
