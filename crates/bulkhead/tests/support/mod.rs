//! Helpers shared by the bulkhead's behaviour tests.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use steadfast_core::testing::TestError;

/// Polls a future once with a waker that does nothing.
pub fn poll_once<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    f.poll(&mut Context::from_waker(&waker))
}

/// Operations that log their id when they start, then wait until the test
/// opens the gate for them (one permit per call).
#[derive(Clone)]
pub struct Gate {
    open: Arc<tokio::sync::Semaphore>,
    started: Arc<Mutex<Vec<u32>>>,
}

impl Gate {
    pub fn new() -> Self {
        Gate {
            open: Arc::new(tokio::sync::Semaphore::new(0)),
            started: Arc::default(),
        }
    }

    /// An operation that logs `id` then waits for the gate.
    pub fn op(
        &self,
        id: u32,
    ) -> impl Fn() -> Pin<Box<dyn Future<Output = Result<u32, TestError>> + Send>> + Send + Sync + use<>
    {
        let gate = self.clone();
        move || {
            let gate = gate.clone();
            Box::pin(async move {
                gate.started.lock().unwrap().push(id);
                gate.open.acquire().await.unwrap().forget();
                Ok(id)
            })
        }
    }

    /// Lets `n` waiting (or future) operations finish.
    pub fn open(&self, n: usize) {
        self.open.add_permits(n);
    }

    /// Ids of the operations started so far, in order.
    pub fn started(&self) -> Vec<u32> {
        self.started.lock().unwrap().clone()
    }
}
