//! Support for the steadfast examples: a simulated flaky dependency.
//!
//! The examples themselves are in this folder (`quickstart.rs`, …); run one
//! from the repository root with `cargo run --release --example quickstart`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// What the simulated dependency does on one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Answers after the given latency.
    Answer(Duration),
    /// Fails after the given latency.
    Fail(Duration),
    /// Takes far too long (a stuck connection).
    Stall,
}

/// The error the simulated dependency returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamError(pub &'static str);

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "upstream error: {}", self.0)
    }
}

impl std::error::Error for UpstreamError {}

/// A dependency that is slow or failing some of the time, from a fixed seed so
/// every run tells the same story.
#[derive(Debug)]
pub struct FlakyDependency {
    state: AtomicU64,
    fail_percent: u64,
    stall_percent: u64,
    outage: AtomicBool,
}

impl FlakyDependency {
    /// A dependency that fails `fail_percent` % and stalls `stall_percent` % of calls.
    pub fn new(seed: u64, fail_percent: u64, stall_percent: u64) -> Self {
        FlakyDependency {
            state: AtomicU64::new(seed),
            fail_percent,
            stall_percent,
            outage: AtomicBool::new(false),
        }
    }

    /// Starts or ends an outage: while it lasts every call fails fast.
    pub fn set_outage(&self, down: bool) {
        self.outage.store(down, Ordering::Relaxed);
    }

    /// Decides the next call's behaviour (SplitMix64 over a shared counter).
    pub fn next_behaviour(&self) -> Behaviour {
        if self.outage.load(Ordering::Relaxed) {
            return Behaviour::Fail(Duration::from_millis(2));
        }
        let mut z = self
            .state
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let roll = z % 100;
        let latency = Duration::from_millis(5 + (z >> 8) % 40);
        if roll < self.stall_percent {
            Behaviour::Stall
        } else if roll < self.stall_percent + self.fail_percent {
            Behaviour::Fail(latency)
        } else {
            Behaviour::Answer(latency)
        }
    }

    /// One call: answers with a body, fails, or stalls for 10 s.
    pub async fn call(&self, request: u32) -> Result<String, UpstreamError> {
        match self.next_behaviour() {
            Behaviour::Answer(latency) => {
                tokio::time::sleep(latency).await;
                Ok(format!("answer #{request}"))
            }
            Behaviour::Fail(latency) => {
                tokio::time::sleep(latency).await;
                Err(UpstreamError("503 service unavailable"))
            }
            Behaviour::Stall => {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok(format!("late answer #{request}"))
            }
        }
    }
}
