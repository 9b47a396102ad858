//! The breaker handle.

use std::future::Future;
use std::sync::Arc;

use steadfast_core::{
    CircuitOpen, Classifier, ConfigError, Context, DefaultClassifier, Error, Inspect, Next,
    Operation, Policy,
};

use crate::builder::BreakerBuilder;
use crate::config::BreakerConfig;
use crate::core::Core;
use crate::events::Reason;
use crate::future::{BreakerFuture, DirectFuture};
use crate::permit::{OwnedPermit, Permit};
use crate::snapshot::BreakerSnapshot;
use crate::state::State;

/// A circuit breaker guarding one dependency; see the [crate docs](crate).
///
/// Clones share one state: make one breaker per dependency and hand clones
/// to every task that calls it.
///
/// ```
/// use steadfast_breaker::{Breaker, BreakerConfig, State};
/// use steadfast_core::{Error, Policy};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let db = Breaker::from_config(BreakerConfig::database()).unwrap();
/// for _ in 0..5 {
///     let r: Result<(), Error<&str>> = db.call(|| async { Err("connection refused") }).await;
///     assert_eq!(r, Err(Error::Inner("connection refused")));
/// }
/// assert_eq!(db.state(), State::Open);
/// let refused: Result<(), Error<&str>> = db.call(|| async { Ok(()) }).await;
/// assert!(matches!(refused, Err(Error::CircuitOpen(_))));
/// # }
/// ```
pub struct Breaker<C = DefaultClassifier> {
    core: Arc<Core>,
    classifier: Arc<C>,
}

impl<C> std::fmt::Debug for Breaker<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker")
            .field("name", &self.core.name)
            .field("state", &self.core.word().state())
            .finish_non_exhaustive()
    }
}

impl<C> Clone for Breaker<C> {
    fn clone(&self) -> Self {
        Breaker {
            core: Arc::clone(&self.core),
            classifier: Arc::clone(&self.classifier),
        }
    }
}

impl Breaker {
    /// A breaker with the [`standard`](BreakerConfig::standard) configuration.
    ///
    /// # Panics
    ///
    /// Never: the standard preset is valid (a unit test checks it).
    pub fn new() -> Self {
        Breaker::from_config(BreakerConfig::standard())
            .expect("the standard preset is a valid configuration")
    }

    /// A builder starting from the standard preset
    /// ([`BreakerConfig::standard`], what [`Breaker::new`] builds): each
    /// setter changes that part of it, so `Breaker::builder().build()` is
    /// `Breaker::new()`. The failure-rate setters add to the preset's rule;
    /// [`clear_trip_rules`](BreakerBuilder::clear_trip_rules) starts the trip
    /// rules afresh, and [`builder_from`](Self::builder_from) starts from any
    /// other config ([`BreakerConfig::empty`] for nothing at all).
    pub fn builder() -> BreakerBuilder {
        BreakerBuilder::new(BreakerConfig::standard())
    }

    /// A builder starting from `config` (a preset, or a deserialized config).
    pub fn builder_from(config: BreakerConfig) -> BreakerBuilder {
        BreakerBuilder::new(config)
    }

    /// A breaker from a (deserialized) config, validated.
    pub fn from_config(config: BreakerConfig) -> Result<Self, ConfigError> {
        BreakerBuilder::new(config).build()
    }
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker::new()
    }
}

impl<C> Breaker<C> {
    pub(crate) fn from_parts(
        core: impl FnOnce(std::sync::Weak<Core>) -> Core,
        classifier: C,
    ) -> Self {
        Breaker {
            core: Arc::new_cyclic(|this| core(this.clone())),
            classifier: Arc::new(classifier),
        }
    }

    /// The engine, for the crate's unit tests.
    #[cfg(test)]
    pub(crate) fn core(&self) -> &Core {
        &self.core
    }

    /// The state now (an open breaker whose time is up reports half-open).
    pub fn state(&self) -> State {
        self.core.apply_due(steadfast_core::time::now());
        self.core.word().state()
    }

    /// Whether a call now would surely be refused (open, or isolated): a
    /// cheap look for callers that skip work the breaker would refuse. It
    /// reads the clock only when the breaker is open; half-open says
    /// `false` (a trial may be admitted).
    pub fn is_refusing(&self) -> bool {
        match self.core.word().state() {
            State::Isolated => true,
            State::Open => self.state() == State::Open,
            _ => false,
        }
    }

    /// The configuration now: the one it was built with, or the last one
    /// [`reconfigure`](Self::reconfigure) applied.
    pub fn config(&self) -> BreakerConfig {
        self.core.current_config()
    }

    /// Replaces the thresholds of a running breaker, keeping its state: an
    /// open breaker stays open (until the end it was given), the windows
    /// keep their counts, running trials finish. Calls judged from now on
    /// use the new consecutive-failure limit, rates and minimums,
    /// `count_local_refusals`; the next open period and half-open use the
    /// new `open_duration` and `half_open`.
    ///
    /// What the state is made of cannot change: the name, `metrics_only`,
    /// how many rate windows there are and each one's kind and size, and
    /// the slow-call rule's `slower_than`. A config changing one of them, or
    /// an invalid one, is refused with a [`ConfigError`] naming the field,
    /// and nothing changes.
    ///
    /// ```
    /// use steadfast_breaker::{Breaker, BreakerConfig, State};
    /// use steadfast_core::{Error, Policy};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let breaker = Breaker::builder().consecutive_failures(5).build().unwrap();
    /// let mut tighter = breaker.config();
    /// tighter.consecutive_failures = Some(2);
    /// breaker.reconfigure(tighter).unwrap();
    /// for _ in 0..2 {
    ///     let _: Result<(), Error<&str>> = breaker.call(|| async { Err("down") }).await;
    /// }
    /// assert_eq!(breaker.state(), State::Open);
    ///
    /// let mut renamed = breaker.config();
    /// renamed.name = "other".into();
    /// assert_eq!(breaker.reconfigure(renamed).unwrap_err().field(), "name");
    /// # }
    /// ```
    pub fn reconfigure(&self, config: BreakerConfig) -> Result<(), ConfigError> {
        self.core.check_retune(&config)?;
        tracing::info!(
            policy = %self.core.name,
            "breaker reconfigured"
        );
        self.core.retune(config);
        Ok(())
    }

    /// Whether [`reconfigure`](Self::reconfigure) would accept `config`,
    /// without applying it: for a caller that checks many policies before
    /// changing any.
    pub fn check_reconfigure(&self, config: &BreakerConfig) -> Result<(), ConfigError> {
        self.core.check_retune(config)
    }

    /// Holds the breaker open, refusing every call, until [`reset`](Breaker::reset).
    pub fn isolate(&self) {
        self.core.force(State::Isolated, Reason::Isolated);
    }

    /// Lets every call through and keeps counting, but never trips, until
    /// [`reset`](Breaker::reset). The windows start empty.
    pub fn disable(&self) {
        self.core.force(State::Disabled, Reason::Disabled);
    }

    /// Closes the breaker with empty windows and the open duration back at
    /// its base, whatever state it was in.
    pub fn reset(&self) {
        self.core.force(State::Closed, Reason::Reset);
    }

    /// Asks leave for one call made outside [`Policy::call`]; see [`Permit`].
    pub fn try_acquire(&self) -> Result<Permit<'_>, CircuitOpen> {
        self.core
            .acquire()
            .map(|ticket| Permit::new(&self.core, ticket))
    }

    /// The same, with a permit that owns a handle on the breaker.
    pub fn try_acquire_owned(&self) -> Result<OwnedPermit, CircuitOpen> {
        self.core
            .acquire()
            .map(|ticket| OwnedPermit::new(Arc::clone(&self.core), ticket))
    }
}

impl<C> Inspect for Breaker<C> {
    type Snapshot = BreakerSnapshot;

    fn name(&self) -> &str {
        self.core.name.as_str()
    }

    fn snapshot(&self) -> BreakerSnapshot {
        self.core.snapshot()
    }
}

impl<T: Send, E: Send, C: Classifier<T, E>> Policy<T, E> for Breaker<C> {
    // Runs the rest of the call at most once.
    const REPEATS: bool = false;

    #[inline]
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
        let ticket = self.core.admit();
        let inner = (!ticket.is_rejected()).then(|| next.invoke(ctx));
        BreakerFuture::new(inner, ticket, &self.core, &*self.classifier)
    }

    // A breaker called on its own runs the operation directly: its future
    // borrows nothing from `op`, and its `Result<T, E>` is classified in
    // place and lifted into `Error` once. Same behaviour as the default.
    #[inline]
    fn call<'a, Op>(&'a self, op: Op) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        self.call_with(Context::new(), op)
    }

    #[inline]
    fn call_with<'a, Op>(
        &'a self,
        ctx: Context<'a>,
        op: Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Operation<T, E> + 'a,
        T: 'a,
        E: 'a,
    {
        let ticket = self.core.admit();
        let inner = (!ticket.is_rejected()).then(|| DirectFuture::new(op.invoke(ctx.to_attempt())));
        BreakerFuture::new(inner, ticket, &self.core, &*self.classifier)
    }
}
