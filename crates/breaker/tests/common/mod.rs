//! Helpers the behaviour tests share.
#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use steadfast_breaker::{Breaker, BreakerBuilder, Reason, State, Transition};
use steadfast_core::testing::TestError;
use steadfast_core::{Classifier, Error, Policy};

pub type Res = Result<u32, Error<TestError>>;

pub const BOOM: TestError = TestError::new("boom");

/// A call that succeeds at once.
pub async fn ok<C: Classifier<u32, TestError>>(b: &Breaker<C>) -> Res {
    b.call(|| async { Ok(1) }).await
}

/// A call that fails at once.
pub async fn fail<C: Classifier<u32, TestError>>(b: &Breaker<C>) -> Res {
    b.call(|| async { Err(BOOM) }).await
}

/// A call that succeeds after `d` of (virtual) time.
pub async fn ok_after<C: Classifier<u32, TestError>>(b: &Breaker<C>, d: Duration) -> Res {
    b.call(|| async move {
        tokio::time::sleep(d).await;
        Ok(1)
    })
    .await
}

/// A call that fails after `d` of (virtual) time.
pub async fn fail_after<C: Classifier<u32, TestError>>(b: &Breaker<C>, d: Duration) -> Res {
    b.call(|| async move {
        tokio::time::sleep(d).await;
        Err(BOOM)
    })
    .await
}

pub fn is_open(r: &Res) -> bool {
    matches!(r, Err(Error::CircuitOpen(_)))
}

pub fn retry_after(r: &Res) -> Option<Duration> {
    match r {
        Err(Error::CircuitOpen(open)) => open.retry_after(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// Records every transition.
/// (from, to, reason, open for) of one transition.
pub type Move = (State, State, Reason, Option<Duration>);

#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Move>>>);

impl Log {
    pub fn hook(&self) -> impl Fn(&Transition) + Send + Sync + 'static {
        let log = self.clone();
        move |t: &Transition| {
            log.0
                .lock()
                .unwrap()
                .push((t.from, t.to, t.reason, t.open_for));
        }
    }

    pub fn take(&self) -> Vec<Move> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// A builder with a transition log attached.
pub fn logged(builder: BreakerBuilder) -> (BreakerBuilder, Log) {
    let log = Log::default();
    (builder.on_transition(log.hook()), log)
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}
