//! The trip rules: what makes a closed breaker open.

use std::time::Duration;

use steadfast_core::ConfigError;

/// The last `calls` recorded calls: failure (or slow-call) rate over a count window.
///
/// The rate is judged only once at least `min_calls` calls are in the window,
/// so a breaker that has seen two calls, one failed, does not call that 50 %.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct CountWindow {
    /// How many of the most recent calls the window holds (1 ..= 1,048,576).
    pub calls: u32,
    /// Calls the window must hold before its rate is judged (1 ..= `calls`).
    pub min_calls: u32,
}

impl CountWindow {
    /// A window over the last `calls` calls, judged from `min_calls` calls on.
    pub fn new(calls: u32, min_calls: u32) -> Self {
        CountWindow { calls, min_calls }
    }

    pub(crate) const MAX_CALLS: u32 = 1 << 20;

    fn validate(&self, field: &'static str) -> Result<(), ConfigError> {
        if self.calls == 0 || self.calls > Self::MAX_CALLS {
            return Err(ConfigError::new(
                "breaker",
                field,
                "window `calls` must be between 1 and 1048576",
            )
            .with_value(self.calls));
        }
        if self.min_calls == 0 || self.min_calls > self.calls {
            return Err(ConfigError::new(
                "breaker",
                field,
                "window `min_calls` must be between 1 and the window's `calls`",
            )
            .with_value(self.min_calls));
        }
        Ok(())
    }
}

/// The calls of the last `length` of time: failure (or slow-call) rate over a time window.
///
/// The window is kept in `buckets` slices of `length / buckets` each; a slice
/// older than the window is simply not counted (and is reused), so nothing
/// sweeps. The rate is judged only once at least `min_throughput` calls are
/// in the window.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct TimeWindow {
    /// How far back the window reaches.
    #[cfg_attr(feature = "serde", serde(with = "steadfast_core::duration_serde"))]
    pub length: Duration,
    /// How many slices the window is kept in (1 ..= 1000; default 10). Each
    /// slice must be at least 1 ms long.
    #[cfg_attr(feature = "serde", serde(default = "default_buckets"))]
    pub buckets: u32,
    /// Calls the window must hold before its rate is judged (at least 1).
    pub min_throughput: u32,
}

#[cfg(feature = "serde")]
fn default_buckets() -> u32 {
    10
}

impl TimeWindow {
    /// A window over the last `length`, in 10 buckets, judged from `min_throughput` calls on.
    pub fn new(length: Duration, min_throughput: u32) -> Self {
        TimeWindow {
            length,
            buckets: 10,
            min_throughput,
        }
    }

    /// The same window kept in `buckets` slices.
    #[must_use]
    pub fn with_buckets(mut self, buckets: u32) -> Self {
        self.buckets = buckets;
        self
    }

    /// The length of one bucket.
    pub(crate) fn bucket(&self) -> Duration {
        self.length / self.buckets.max(1)
    }

    fn validate(&self, field: &'static str) -> Result<(), ConfigError> {
        if self.buckets == 0 || self.buckets > 1000 {
            return Err(ConfigError::new(
                "breaker",
                field,
                "window `buckets` must be between 1 and 1000",
            )
            .with_value(self.buckets));
        }
        if self.bucket() < Duration::from_millis(1) {
            return Err(ConfigError::new(
                "breaker",
                field,
                "window `length` must be at least 1 ms per bucket",
            )
            .with_value(self.length));
        }
        if self.min_throughput == 0 {
            return Err(ConfigError::new(
                "breaker",
                field,
                "window `min_throughput` must be at least 1",
            )
            .with_value(self.min_throughput));
        }
        Ok(())
    }
}

/// A window over which a rate is measured: the last N calls or the last T of time.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Window {
    /// The last N calls.
    Count(CountWindow),
    /// The last T of time.
    Time(TimeWindow),
}

impl Window {
    fn validate(&self, field: &'static str) -> Result<(), ConfigError> {
        match self {
            Window::Count(w) => w.validate(field),
            Window::Time(w) => w.validate(field),
        }
    }
}

fn validate_rate(rate: f64, field: &'static str) -> Result<(), ConfigError> {
    // `!(0 < rate <= 1)` also rejects NaN.
    if !(rate > 0.0 && rate <= 1.0) {
        return Err(ConfigError::new(
            "breaker",
            field,
            "rate must be greater than 0 and at most 1",
        )
        .with_value(rate));
    }
    Ok(())
}

/// Trip when the share of failed calls in a window reaches `rate`.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct FailureRate {
    /// The share of failures that trips, in (0, 1]: 0.5 is 50 %.
    pub rate: f64,
    /// The window the share is measured over.
    pub window: Window,
}

impl FailureRate {
    /// Trip at `rate` failures over `window`.
    pub fn new(rate: f64, window: Window) -> Self {
        FailureRate { rate, window }
    }

    pub(crate) fn validate(&self, field: &'static str) -> Result<(), ConfigError> {
        validate_rate(self.rate, field)?;
        self.window.validate(field)
    }
}

/// Trip when the share of slow calls in a window reaches `rate`.
///
/// A call slower than `slower_than` is slow whether it succeeded or failed.
/// Its duration counts from the first time it waited (the first `Pending`):
/// a call that completes in its first poll took no time.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct SlowCallRate {
    /// A call taking longer than this is slow.
    #[cfg_attr(feature = "serde", serde(with = "steadfast_core::duration_serde"))]
    pub slower_than: Duration,
    /// The share of slow calls that trips, in (0, 1].
    pub rate: f64,
    /// The window the share is measured over.
    pub window: Window,
}

impl SlowCallRate {
    /// Trip at `rate` calls slower than `slower_than` over `window`.
    pub fn new(slower_than: Duration, rate: f64, window: Window) -> Self {
        SlowCallRate {
            slower_than,
            rate,
            window,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.slower_than.is_zero() {
            return Err(ConfigError::new(
                "breaker",
                "slow_call_rate",
                "`slower_than` must be greater than zero",
            )
            .with_value(self.slower_than));
        }
        validate_rate(self.rate, "slow_call_rate")?;
        self.window.validate("slow_call_rate")
    }
}
