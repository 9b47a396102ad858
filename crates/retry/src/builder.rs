//! [`RetryBuilder`]: a [`Retry`] field by field.

use std::fmt;
use std::time::Duration;

use steadfast_core::{ConfigError, DefaultClassifier, Name};

use crate::policy::Hook;
use crate::{Backoff, BudgetConfig, HedgeConfig, NoRetryAfter, Retry, RetryConfig, RetryEvent};

/// Builds a [`Retry`]; see [`Retry::builder`]. Setters take and return the
/// builder by value; [`build`](RetryBuilder::build) validates.
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::Outcome;
/// use steadfast_retry::{Backoff, BudgetConfig, Jitter, Retry};
///
/// struct Response { status: u16 }
///
/// let retry = Retry::builder()
///     .name("search-retry")
///     .max_attempts(5)
///     .backoff(Backoff::exponential(Duration::from_millis(20), 2.0, Duration::from_secs(1))
///         .with_jitter(Jitter::Equal))
///     .budget(BudgetConfig::new().ratio(0.1))
///     .classifier(|r: &Result<Response, std::io::Error>| match r {
///         Ok(resp) if resp.status >= 500 => Outcome::Failure,
///         Ok(_) => Outcome::Success,
///         Err(_) => Outcome::Failure,
///     })
///     .build()
///     .unwrap();
/// # let _ = retry;
/// ```
#[must_use]
pub struct RetryBuilder<C = DefaultClassifier, H = NoRetryAfter> {
    config: RetryConfig,
    classifier: C,
    retry_after: H,
    hook: Option<Hook>,
}

impl<C, H> fmt::Debug for RetryBuilder<C, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryBuilder")
            .field("config", &self.config)
            .field("hook", &self.hook.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for RetryBuilder {
    fn default() -> Self {
        RetryBuilder::new()
    }
}

impl RetryBuilder {
    /// The defaults: 3 attempts, exponential backoff with full jitter, the
    /// default budget, every `Err` retried.
    pub fn new() -> Self {
        RetryBuilder {
            config: RetryConfig::default(),
            classifier: DefaultClassifier,
            retry_after: NoRetryAfter,
            hook: None,
        }
    }
}

impl<C, H> RetryBuilder<C, H> {
    /// Replaces every configured field with `config` (a deserialized one).
    pub fn config(mut self, config: RetryConfig) -> Self {
        self.config = config;
        self
    }

    /// The name shown in errors, events and snapshots (default `"retry"`).
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Attempts per call, the first included (default 3).
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.config.max_attempts = max_attempts;
        self
    }

    /// Retries start only before this much time has passed since the call
    /// began (default: no limit). Costs one clock read per call.
    pub fn max_elapsed(mut self, max_elapsed: Duration) -> Self {
        self.config.max_elapsed = Some(max_elapsed);
        self
    }

    /// The waits between attempts.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.config.backoff = backoff;
        self
    }

    /// The longest wait before a retry (default: the backoff's maximum); a
    /// Retry-After hint is never cut to it (see
    /// [`max_retry_after`](Self::max_retry_after)).
    pub fn max_delay(mut self, max_delay: Duration) -> Self {
        self.config.max_delay = Some(max_delay);
        self
    }

    /// Waits out Retry-After hints up to `cap` (default: the maximum delay).
    /// A retry never starts before its hint; a longer hint ends the retrying
    /// with the error.
    pub fn max_retry_after(mut self, cap: Duration) -> Self {
        self.config.max_retry_after = Some(cap);
        self
    }

    /// Tunes the retry budget (on by default).
    pub fn budget(mut self, budget: BudgetConfig) -> Self {
        self.config.budget = Some(budget);
        self
    }

    /// Turns the retry budget off: only `max_attempts`, `max_elapsed` and the
    /// deadline limit retries. See the [budget docs](crate::budget) first.
    pub fn no_budget(mut self) -> Self {
        self.config.budget = None;
        self
    }

    /// Hedges instead of retrying in sequence.
    pub fn hedging(mut self, hedging: HedgeConfig) -> Self {
        self.config.hedging = Some(hedging);
        self
    }

    /// Seeds the jitter, so the same calls get the same waits.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = Some(seed);
        self
    }

    /// Runs `hook` before each retry's wait (after the `tracing` event).
    pub fn on_retry<F>(mut self, hook: F) -> Self
    where
        F: Fn(&RetryEvent<'_>) + Send + Sync + 'static,
    {
        self.hook = Some(Box::new(hook));
        self
    }

    /// Decides what is a failure worth retrying (default: every `Err`).
    ///
    /// A result classified [`Outcome::Failure`](steadfast_core::Outcome) is
    /// retried; `Success` and `Ignore` are returned as they are. Rejections
    /// by inner policies go to
    /// [`classify_rejection`](steadfast_core::Classifier::classify_rejection)
    /// first, then to the defaults in the [crate docs](crate#what-is-retried).
    pub fn classifier<C2>(self, classifier: C2) -> RetryBuilder<C2, H> {
        RetryBuilder {
            config: self.config,
            classifier,
            retry_after: self.retry_after,
            hook: self.hook,
        }
    }

    /// Reads Retry-After hints from the operation's results; see [`RetryAfter`](crate::RetryAfter).
    pub fn retry_after<H2>(self, retry_after: H2) -> RetryBuilder<C, H2> {
        RetryBuilder {
            config: self.config,
            classifier: self.classifier,
            retry_after,
            hook: self.hook,
        }
    }

    /// The configuration so far.
    pub fn current_config(&self) -> &RetryConfig {
        &self.config
    }

    /// Validates the configuration and builds the policy.
    pub fn build(self) -> Result<Retry<C, H>, ConfigError> {
        Retry::from_parts(self.config, self.classifier, self.retry_after, self.hook)
    }
}
