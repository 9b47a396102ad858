//! What a simulated run is made of: the dependency, the clients, the phases.

use std::time::Duration;

/// The simulated dependency's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DependencySpec {
    /// Requests it serves at once.
    pub capacity: usize,
    /// How long one request takes when it is healthy.
    pub service_time: Duration,
    /// Requests that wait for a server before it refuses more.
    pub queue: usize,
}

impl DependencySpec {
    /// Requests per second it completes at most, healthy.
    pub fn throughput(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let servers = self.capacity as f64;
        servers / self.service_time.as_secs_f64()
    }
}

/// The dependency's state through one phase.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Condition {
    /// As specified.
    Healthy,
    /// Down: every request fails at once.
    Outage,
    /// This fraction of requests fail, after being served.
    Errors(f64),
    /// Every request takes this many times as long (its throughput falls
    /// by as much).
    Slow(f64),
    /// It has this share of its capacity (each request takes as much
    /// longer).
    Capacity(f64),
}

impl Condition {
    /// Whether this is a fault (anything but healthy).
    pub fn is_fault(self) -> bool {
        self != Condition::Healthy
    }
}

/// One scripted stretch of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Phase {
    /// Its name in the scorecard.
    pub name: String,
    /// How long it lasts.
    pub duration: Duration,
    /// The dependency's condition throughout.
    pub condition: Condition,
}

impl Phase {
    /// A phase named `name`, `duration` long, under `condition`.
    pub fn new(name: impl Into<String>, duration: Duration, condition: Condition) -> Self {
        Phase {
            name: name.into(),
            duration,
            condition,
        }
    }
}

/// When the clients' calls arrive: open-loop, whatever the answers' latency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Arrivals {
    /// Evenly spaced.
    Constant {
        /// Calls per second.
        per_second: f64,
    },
    /// A Poisson process (exponential gaps), from the scenario's seed.
    Poisson {
        /// Calls per second on average.
        per_second: f64,
    },
}

/// A whole simulated run: see [`run`](crate::sim::run).
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The dependency.
    pub dependency: DependencySpec,
    /// The clients' calls.
    pub arrivals: Arrivals,
    /// How long a client waits for its call before giving up (an error).
    pub client_timeout: Duration,
    /// Calls ask for keys `0..keys` (uniformly, from the seed), for
    /// caches and keyed policies.
    pub keys: u64,
    /// The phases, in order.
    pub phases: Vec<Phase>,
    /// The draws' seed: the same seed replays the same run.
    pub seed: u64,
    /// The width of the time buckets that detection and recovery are read
    /// from. Default 1 s.
    pub bucket: Duration,
}

impl Scenario {
    /// The run's length.
    pub fn duration(&self) -> Duration {
        self.phases.iter().map(|phase| phase.duration).sum()
    }
}

/// What a pipeline answered a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A real answer.
    Fresh,
    /// A degraded one: a stale cached value, a last-known-good value.
    Degraded,
    /// No data, but an answer that says so ("temporarily unavailable, try
    /// again soon"): counted with the errors, and on its own.
    Fallback,
}
