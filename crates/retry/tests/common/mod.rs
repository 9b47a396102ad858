//! Helpers the behaviour tests share.
#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use steadfast_core::testing::{ScriptedOp, TestError};
use steadfast_core::time::Instant;
use steadfast_core::{Attempt, Operation};

/// A scripted operation that also records when each attempt started,
/// relative to `t0`.
#[derive(Clone)]
pub struct Timed {
    pub op: ScriptedOp<u32, TestError>,
    t0: Instant,
    starts: Arc<Mutex<Vec<Duration>>>,
}

impl Timed {
    pub fn new(op: ScriptedOp<u32, TestError>) -> Self {
        Timed {
            op,
            t0: Instant::now(),
            starts: Arc::default(),
        }
    }

    /// When each attempt started, since the recorder was made.
    pub fn starts(&self) -> Vec<Duration> {
        self.starts.lock().unwrap().clone()
    }

    /// The waits between consecutive attempts.
    pub fn gaps(&self) -> Vec<Duration> {
        self.starts()
            .windows(2)
            .map(|w| w[1].checked_sub(w[0]).expect("attempts start in order"))
            .collect()
    }

    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(self.t0)
    }
}

impl Operation<u32, TestError> for Timed {
    type Future = <ScriptedOp<u32, TestError> as Operation<u32, TestError>>::Future;

    const READS_DEADLINE: bool = true;

    fn invoke(&self, attempt: Attempt) -> Self::Future {
        self.starts
            .lock()
            .unwrap()
            .push(Instant::now().duration_since(self.t0));
        self.op.invoke(attempt)
    }
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub const BOOM: TestError = TestError::new("boom");

/// Asserts that a wait the Retry-After hint `hint` decided lasted at least
/// the hint and at most a fifth more (the spread that keeps callers told the
/// same instant apart).
#[track_caller]
pub fn assert_spread_after(actual: Duration, hint: Duration) {
    assert!(
        actual >= hint && actual <= hint + hint / 5,
        "waited {actual:?} for a hint of {hint:?}"
    );
}
