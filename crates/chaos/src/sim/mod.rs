//! A deterministic outage simulator: open-loop clients, a dependency with
//! capacity, scripted phases, on tokio's paused clock.
//!
//! A [`Scenario`] names the dependency's capacity, the clients' arrival
//! rate and timeout, and the phases (healthy, an outage, errors, slowness,
//! lost capacity, recovery); [`run`] sends every client call through the
//! pipeline under test and reports, per phase, what the clients saw (error
//! rate, goodput, latency) and what the dependency suffered (attempts per
//! call: the amplification), when the pipeline noticed a fault and when
//! the clients stopped seeing errors after it ([`Report`], [`markdown`]).
//!
//! The dependency serves `capacity` requests at once and queues `queue`
//! more; a request whose client gave up is still served. So retries that
//! pile up in an overload keep it overloaded after the trigger is gone —
//! the metastable failure that retry storms cause.

mod dependency;
mod report;
mod run;
mod scenario;

pub use dependency::{Dependency, DependencyError};
pub use report::{PhaseReport, Report, markdown};
pub use run::run;
pub use scenario::{Answer, Arrivals, Condition, DependencySpec, Phase, Scenario};
