//! A policy that records the order in which calls pass through it.

#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};

use steadfast_core::{Context, Error, Next, Policy};

/// Shared log of "enter NAME" / "exit NAME" lines.
pub type Log = Arc<Mutex<Vec<String>>>;

pub fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

pub fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// Logs when a call enters it and when the result leaves it.
#[derive(Clone)]
pub struct Recorder {
    pub name: &'static str,
    pub log: Log,
}

impl<T: Send, E: Send> Policy<T, E> for Recorder {
    async fn execute<'a, N>(&'a self, ctx: Context<'a>, next: N) -> Result<T, Error<E>>
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        self.log
            .lock()
            .unwrap()
            .push(format!("enter {}", self.name));
        let result = next.invoke(ctx).await;
        self.log.lock().unwrap().push(format!("exit {}", self.name));
        result
    }
}
