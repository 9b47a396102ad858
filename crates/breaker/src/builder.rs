//! Building a breaker.

use std::time::Duration;

use steadfast_core::{ConfigError, DefaultClassifier, Name};

use crate::Breaker;
use crate::config::{
    BreakerConfig, CountWindow, FailureRate, HalfOpen, OpenDuration, SlowCallRate, TimeWindow,
    Window,
};
use crate::core::Core;
use crate::events::{Hook, Transition};

/// Builds a [`Breaker`]; see [`Breaker::builder`]. Setters take and return
/// the builder by value; [`build`](BreakerBuilder::build) validates.
///
/// ```
/// use std::time::Duration;
/// use steadfast_breaker::{Breaker, OpenDuration};
///
/// let breaker = Breaker::builder()
///     .name("payments")
///     .consecutive_failures(5)
///     .failure_rate_over_calls(0.5, 100, 20)
///     .failure_rate_over_time(0.5, Duration::from_secs(30), 50)
///     .slow_calls(Duration::from_secs(2), 0.8, 100, 20)
///     .open_duration(OpenDuration::growing(Duration::from_secs(5), 2.0, Duration::from_secs(120)))
///     .trials(3)
///     .build()
///     .unwrap();
/// # let _ = breaker;
/// ```
#[must_use]
pub struct BreakerBuilder<C = DefaultClassifier> {
    config: BreakerConfig,
    classifier: C,
    hook: Option<Hook>,
}

impl<C: std::fmt::Debug> std::fmt::Debug for BreakerBuilder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BreakerBuilder")
            .field("config", &self.config)
            .field("classifier", &self.classifier)
            .field("has_hook", &self.hook.is_some())
            .finish()
    }
}

impl BreakerBuilder {
    pub(crate) fn new(config: BreakerConfig) -> Self {
        BreakerBuilder {
            config,
            classifier: DefaultClassifier,
            hook: None,
        }
    }
}

impl<C> BreakerBuilder<C> {
    /// The name shown in errors, events and snapshots (default `"breaker"`).
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Removes every trip rule so far (the standard preset's among them), so
    /// that the rules set next are the only ones.
    pub fn clear_trip_rules(mut self) -> Self {
        self.config.consecutive_failures = None;
        self.config.failure_rates.clear();
        self.config.slow_call_rate = None;
        self
    }

    /// Trip after `n` failures in a row.
    pub fn consecutive_failures(mut self, n: u32) -> Self {
        self.config.consecutive_failures = Some(n);
        self
    }

    /// Adds a failure-rate rule over any [`Window`].
    pub fn failure_rate(mut self, rate: f64, window: Window) -> Self {
        self.config
            .failure_rates
            .push(FailureRate::new(rate, window));
        self
    }

    /// Trip at `rate` failures over the last `calls` calls, once `min_calls` are in it.
    pub fn failure_rate_over_calls(self, rate: f64, calls: u32, min_calls: u32) -> Self {
        self.failure_rate(rate, Window::Count(CountWindow::new(calls, min_calls)))
    }

    /// Trip at `rate` failures over the last `length` (10 buckets), once
    /// `min_throughput` calls are in it.
    pub fn failure_rate_over_time(self, rate: f64, length: Duration, min_throughput: u32) -> Self {
        self.failure_rate(rate, Window::Time(TimeWindow::new(length, min_throughput)))
    }

    /// Trip at `rate` calls slower than `slower_than` over any [`Window`].
    pub fn slow_call_rate(mut self, slower_than: Duration, rate: f64, window: Window) -> Self {
        self.config.slow_call_rate = Some(SlowCallRate::new(slower_than, rate, window));
        self
    }

    /// Trip at `rate` calls slower than `slower_than` over the last `calls`
    /// calls, once `min_calls` are in it.
    pub fn slow_calls(self, slower_than: Duration, rate: f64, calls: u32, min_calls: u32) -> Self {
        self.slow_call_rate(
            slower_than,
            rate,
            Window::Count(CountWindow::new(calls, min_calls)),
        )
    }

    /// How long the breaker stays open (the standard preset: 5 s, doubling on
    /// each failed probe up to 2 min, 10 % jitter).
    pub fn open_duration(mut self, open: OpenDuration) -> Self {
        self.config.open_duration = open;
        self
    }

    /// Stay open a fixed `duration`.
    pub fn open_for(self, duration: Duration) -> Self {
        self.open_duration(OpenDuration::fixed(duration))
    }

    /// The half-open probing (the standard preset: 3 trials, 2 of which must
    /// succeed, each within 10 s).
    pub fn half_open(mut self, half_open: HalfOpen) -> Self {
        self.config.half_open = half_open;
        self
    }

    /// Admit `k` trials, keeping the share that must succeed and the trial
    /// deadline.
    pub fn trials(mut self, k: u32) -> Self {
        self.config.half_open.trials = k;
        self
    }

    /// Record and report, but never refuse a call.
    pub fn metrics_only(mut self, on: bool) -> Self {
        self.config.metrics_only = on;
        self
    }

    /// Seed the open-duration jitter, for reproducible tests and simulations.
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.config.jitter_seed = Some(seed);
        self
    }

    /// Counts refusals by local policies inside the breaker (a full bulkhead,
    /// a rate limit, a shed, a missing key, an inner open circuit) through the
    /// classifier instead of ignoring them. Off by default: a bulkhead
    /// refusing calls says nothing about the dependency, and counted as
    /// failures its refusals would open the breaker on a healthy one.
    pub fn count_local_refusals(mut self, on: bool) -> Self {
        self.config.count_local_refusals = on;
        self
    }

    /// Decides which results are failures, successes or ignored (default:
    /// every `Err` fails). Rejections by inner policies go to
    /// [`Classifier::classify_rejection`](steadfast_core::Classifier::classify_rejection),
    /// which counts them as failures unless it says otherwise; local
    /// refusals reach it only with
    /// [`count_local_refusals`](Self::count_local_refusals).
    pub fn classifier<C2>(self, classifier: C2) -> BreakerBuilder<C2> {
        BreakerBuilder {
            config: self.config,
            classifier,
            hook: self.hook,
        }
    }

    /// Calls `hook` on every state change, after the change, outside any
    /// lock of the breaker (it may take a snapshot). Keep it short: it runs
    /// on the task whose call caused the change.
    pub fn on_transition(mut self, hook: impl Fn(&Transition) + Send + Sync + 'static) -> Self {
        self.hook = Some(Box::new(hook));
        self
    }

    /// The configuration so far.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// Validates the configuration and builds the breaker.
    pub fn build(self) -> Result<Breaker<C>, ConfigError> {
        self.config.validate()?;
        let (config, hook) = (self.config, self.hook);
        Ok(Breaker::from_parts(
            |this| Core::new(config, hook, this),
            self.classifier,
        ))
    }
}
