//! Optional features: a non-critical dependency whose failure means "leave
//! it out", not "fail the page".
//!
//! Recommendations on a product page, an avatar, a "people also bought"
//! strip: when their service fails, the page should render without them.
//! [`Optional`] turns a failure of such a call into `Ok(None)`, and while a
//! given circuit breaker is open it does not make the call at all (it would
//! only wait for a failure): it answers `Ok(None)` at once.
//!
//! The breaker is seen through [`CircuitState`], a one-method seam: any
//! `Fn() -> bool` closure is one (`|| breaker.is_open()`), so any breaker
//! plugs in without this crate depending on it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use steadfast_core::{
    Classifier, Context, DefaultClassifier, Error, Inspect, Name, Next, Outcome, Policy, classify,
};

use crate::episode::Episode;

/// Whether a circuit is open: the seam through which [`Optional`] sees a
/// breaker.
///
/// Implemented for `Fn() -> bool` closures, for [`NoBreaker`], and through
/// `Arc` and `&`.
pub trait CircuitState: Send + Sync {
    /// Whether calls would be refused now.
    fn is_open(&self) -> bool;
}

impl<F: Fn() -> bool + Send + Sync> CircuitState for F {
    fn is_open(&self) -> bool {
        self()
    }
}

impl<S: CircuitState + ?Sized> CircuitState for Arc<S> {
    fn is_open(&self) -> bool {
        (**self).is_open()
    }
}

/// No breaker: the call is always made.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBreaker;

impl CircuitState for NoBreaker {
    fn is_open(&self) -> bool {
        false
    }
}

/// Turns failures of a non-critical call into `Ok(None)`, and skips the call
/// while a breaker is open; see the [module docs](self).
///
/// Its answer is `Option<T>`: wrap the operation with [`some`](crate::some).
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use steadfast_core::{Policy, testing::TestError};
/// use steadfast_degrade::{Optional, some};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let open = Arc::new(AtomicBool::new(false));
/// let recommendations = Optional::builder()
///     .name("recommendations")
///     .skip_while_open({
///         let open = Arc::clone(&open);
///         move || open.load(Ordering::Relaxed)
///     })
///     .build();
///
/// let failed = recommendations.call(some(|| async { Err::<Vec<u32>, _>(TestError::new("down")) })).await?;
/// assert_eq!(failed, None);
/// open.store(true, Ordering::Relaxed);
/// let skipped = recommendations.call(some(|| async { Ok::<_, TestError>(vec![1, 2]) })).await?;
/// assert_eq!(skipped, None);
/// # Ok(())
/// # }
/// ```
pub struct Optional<S = NoBreaker, C = DefaultClassifier> {
    shared: Arc<Shared<S, C>>,
}

struct Shared<S, C> {
    name: Name,
    breaker: S,
    classifier: C,
    skipped: AtomicU64,
    failed: AtomicU64,
    skipping: Episode,
}

impl<S, C> Clone for Optional<S, C> {
    fn clone(&self) -> Self {
        Optional {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S, C> fmt::Debug for Optional<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Optional")
            .field("name", &self.shared.name)
            .finish_non_exhaustive()
    }
}

/// An [`Optional`]'s counters.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct OptionalSnapshot {
    /// The policy's name.
    pub name: Name,
    /// Calls not made because the breaker was open.
    pub skipped: u64,
    /// Failed calls turned into `None`.
    pub failed: u64,
    /// Whether the last call was skipped.
    pub skipping: bool,
}

/// Builds an [`Optional`]; see [`Optional::builder`].
#[derive(Debug)]
#[must_use]
pub struct OptionalBuilder<S = NoBreaker, C = DefaultClassifier> {
    name: Name,
    breaker: S,
    classifier: C,
}

impl Optional {
    /// A builder (name `"optional"`, no breaker, every failure becomes `None`).
    pub fn builder() -> OptionalBuilder {
        OptionalBuilder {
            name: Name::new_static("optional"),
            breaker: NoBreaker,
            classifier: DefaultClassifier,
        }
    }

    /// An optional feature with no breaker.
    pub fn new() -> Self {
        Optional::builder().build()
    }
}

impl Default for Optional {
    fn default() -> Self {
        Optional::new()
    }
}

impl<S, C> OptionalBuilder<S, C> {
    /// The name shown in events and snapshots (default `"optional"`).
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.name = name.into();
        self
    }

    /// Skips the call, answering `None`, while `breaker` is open.
    pub fn skip_while_open<S2: CircuitState>(self, breaker: S2) -> OptionalBuilder<S2, C> {
        OptionalBuilder {
            name: self.name,
            breaker,
            classifier: self.classifier,
        }
    }

    /// Decides which errors mean "leave it out"; others pass through.
    pub fn classifier<C2>(self, classifier: C2) -> OptionalBuilder<S, C2> {
        OptionalBuilder {
            name: self.name,
            breaker: self.breaker,
            classifier,
        }
    }

    /// Builds the policy.
    pub fn build(self) -> Optional<S, C> {
        Optional {
            shared: Arc::new(Shared {
                name: self.name,
                breaker: self.breaker,
                classifier: self.classifier,
                skipped: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                skipping: Episode::default(),
            }),
        }
    }
}

impl<S, C> Inspect for Optional<S, C> {
    type Snapshot = OptionalSnapshot;

    fn name(&self) -> &str {
        self.shared.name.as_str()
    }

    fn snapshot(&self) -> OptionalSnapshot {
        OptionalSnapshot {
            name: self.shared.name.clone(),
            skipped: self.shared.skipped.load(Ordering::Relaxed),
            failed: self.shared.failed.load(Ordering::Relaxed),
            skipping: self.shared.skipping.is_on(),
        }
    }
}

impl<S, C, T, E> Policy<Option<T>, E> for Optional<S, C>
where
    S: CircuitState,
    C: Classifier<Option<T>, E>,
    T: Send,
    E: Send,
{
    // Runs the rest of the call at most once.
    const REPEATS: bool = false;

    async fn execute<'a, N>(&'a self, ctx: Context<'a>, next: N) -> Result<Option<T>, Error<E>>
    where
        N: Next<'a, Option<T>, E>,
        Option<T>: 'a,
        E: 'a,
    {
        let shared = &*self.shared;
        if shared.breaker.is_open() {
            shared.skipped.fetch_add(1, Ordering::Relaxed);
            if shared.skipping.start() {
                tracing::info!(policy = %shared.name, "optional feature skipped: circuit open");
            }
            return Ok(None);
        }
        if shared.skipping.end() {
            tracing::info!(policy = %shared.name, "optional feature back");
        }
        match classify(&shared.classifier, next.invoke(ctx).await) {
            (Outcome::Failure, Err(error)) => {
                shared.failed.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(policy = %shared.name, kind = ?error.kind(), "optional feature failed; left out");
                Ok(None)
            }
            (_, result) => result,
        }
    }
}
