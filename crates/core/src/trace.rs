//! Opt-in `tracing` spans: one per pipeline call, one per attempt.
//!
//! Put [`CallSpan`] outermost and [`AttemptSpan`] innermost (inside the
//! retry), and a slow request shows where its time went: the attempts'
//! spans, the gaps between them (backoff), and the events the policies
//! emit inside them (a bulkhead's queueing, a breaker's refusal), each
//! under the call's span.
//!
//! | span | level | fields |
//! |---|---|---|
//! | `steadfast.call` | INFO | `pipeline`, `outcome` |
//! | `steadfast.attempt` | DEBUG | `pipeline`, `attempt` (1, 2, …), `hedge`, `outcome` |
//!
//! `outcome` is recorded when the call or attempt ends: `ok`, or the
//! [`ErrorKind`]'s [`as_str`](ErrorKind::as_str) (`error` for the
//! operation's own error, `timeout`, `circuit_open`, `rate_limited`,
//! `bulkhead_full`, `shed`, `missing_key`). A span no subscriber wants
//! costs one check of the callsite's interest.
//!
//! ```
//! use steadfast_core::trace::{AttemptSpan, CallSpan};
//! use steadfast_core::{Pipeline, Policy, Timeout};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let pipeline = Pipeline::new(CallSpan::new("payments"))
//!     .then(Timeout::new(Duration::from_secs(1)).unwrap())
//!     .then(AttemptSpan::new("payments"));
//! let answer = pipeline.call(|| async { Ok::<_, std::io::Error>(7) }).await;
//! assert_eq!(answer.unwrap(), 7);
//! # }
//! ```

use std::future::Future;

use tracing::Instrument;

use crate::{Context, Error, ErrorKind, Name, Next, Policy};

fn outcome<T, E>(result: &Result<T, Error<E>>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(err) => err.kind().as_str(),
    }
}

/// Runs the rest of the call inside `span`, from its making (inner
/// policies may begin the first attempt as the call is made, before its
/// first poll) to its end, then records its outcome.
fn within<'a, T: Send + 'a, E: Send + 'a, N: Next<'a, T, E>>(
    span: tracing::Span,
    ctx: Context<'a>,
    next: N,
) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a {
    let run = span.in_scope(|| next.invoke(ctx)).instrument(span.clone());
    async move {
        let result = run.await;
        span.record("outcome", outcome(&result));
        result
    }
}

/// Runs each call in a `steadfast.call` span; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct CallSpan {
    pipeline: Name,
}

impl CallSpan {
    /// Spans named for `pipeline`.
    pub fn new(pipeline: impl Into<Name>) -> Self {
        CallSpan {
            pipeline: pipeline.into(),
        }
    }
}

impl<T: Send, E: Send> Policy<T, E> for CallSpan {
    const REPEATS: bool = false;

    fn execute<'a, N>(
        &'a self,
        ctx: Context<'a>,
        next: N,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        let span = tracing::info_span!(
            "steadfast.call",
            pipeline = %self.pipeline,
            outcome = tracing::field::Empty
        );
        within(span, ctx, next)
    }
}

/// Runs each attempt in a `steadfast.attempt` span; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct AttemptSpan {
    pipeline: Name,
}

impl AttemptSpan {
    /// Spans named for `pipeline`.
    pub fn new(pipeline: impl Into<Name>) -> Self {
        AttemptSpan {
            pipeline: pipeline.into(),
        }
    }
}

impl<T: Send, E: Send> Policy<T, E> for AttemptSpan {
    const REPEATS: bool = false;

    fn execute<'a, N>(
        &'a self,
        ctx: Context<'a>,
        next: N,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        N: Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        let span = tracing::debug_span!(
            "steadfast.attempt",
            pipeline = %self.pipeline,
            attempt = ctx.attempt(),
            hedge = ctx.is_hedge(),
            outcome = tracing::field::Empty
        );
        within(span, ctx, next)
    }
}

impl ErrorKind {
    /// The kind in snake case, as spans, events and metric labels write it:
    /// `error` for [`ErrorKind::Inner`] (the operation's own error),
    /// `timeout`, `circuit_open`, `rate_limited`, `bulkhead_full`, `shed`,
    /// `missing_key`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Inner => "error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::CircuitOpen => "circuit_open",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::BulkheadFull => "bulkhead_full",
            ErrorKind::Shed => "shed",
            ErrorKind::MissingKey => "missing_key",
        }
    }
}
