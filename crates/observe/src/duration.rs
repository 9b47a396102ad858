//! Opt-in per-call latency: a histogram of call durations by outcome.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use steadfast_core::{Context, Error, ErrorKind, Name, Next, Policy, time};

/// The histogram's name.
pub const CALL_DURATION: &str = "steadfast_call_duration_seconds";

/// Outcomes in label order: `ok`, then each error kind.
const OUTCOMES: [&str; 8] = [
    "ok",
    ErrorKind::Inner.as_str(),
    ErrorKind::Timeout.as_str(),
    ErrorKind::CircuitOpen.as_str(),
    ErrorKind::RateLimited.as_str(),
    ErrorKind::BulkheadFull.as_str(),
    ErrorKind::Shed.as_str(),
    ErrorKind::MissingKey.as_str(),
];

/// Records how long each call took in the histogram
/// `steadfast_call_duration_seconds{policy, outcome}` of the installed
/// `metrics` recorder (feature `metrics`). Place it outermost to time whole
/// calls, retries and waits included, or around one stage to time that.
///
/// Opt-in, because it costs every call two clock reads and a histogram
/// record, where the registry's counters cost the hot path nothing.
/// `outcome` is `ok` or the error kind (`error`, `timeout`, `circuit_open`,
/// `rate_limited`, `bulkhead_full`, `shed`, `missing_key`); there is no
/// per-key label. The histogram handles are taken from the recorder
/// installed when an outcome is first recorded: install the recorder at
/// start-up, before the first call.
///
/// ```
/// use steadfast_core::{Pipeline, Policy, Timeout};
/// use steadfast_observe::CallDuration;
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pipeline = Pipeline::new(CallDuration::new("payments"))
///     .then(Timeout::new(Duration::from_secs(1)).unwrap());
/// let answer = pipeline.call(|| async { Ok::<_, std::io::Error>(1) }).await;
/// assert_eq!(answer.unwrap(), 1);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct CallDuration {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    policy: Name,
    histograms: [OnceLock<metrics::Histogram>; OUTCOMES.len()],
}

impl CallDuration {
    /// Call durations labelled `policy = name`.
    pub fn new(name: impl Into<Name>) -> Self {
        CallDuration {
            shared: Arc::new(Shared {
                policy: name.into(),
                histograms: Default::default(),
            }),
        }
    }

    fn record(&self, outcome: usize, seconds: f64) {
        let shared = &*self.shared;
        shared.histograms[outcome]
            .get_or_init(|| {
                metrics::histogram!(
                    CALL_DURATION,
                    "policy" => shared.policy.as_str().to_owned(),
                    "outcome" => OUTCOMES[outcome]
                )
            })
            .record(seconds);
    }
}

fn outcome<T, E>(result: &Result<T, Error<E>>) -> usize {
    let Err(err) = result else { return 0 };
    let kind = err.kind().as_str();
    OUTCOMES.iter().position(|o| *o == kind).unwrap_or(1)
}

impl<T: Send, E: Send> Policy<T, E> for CallDuration {
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
        let start = time::now();
        let call = next.invoke(ctx);
        async move {
            let result = call.await;
            let took = time::now().saturating_duration_since(start);
            self.record(outcome(&result), took.as_secs_f64());
            result
        }
    }
}
