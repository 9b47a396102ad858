//! A configured pipeline: a policy that follows reloads.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use steadfast_core::trace::{AttemptSpan, CallSpan};
use steadfast_core::{BoxPolicy, Context, Error, Identity, Next, Policy, Then};
use steadfast_observe::CallDuration;

use crate::live::Built;

/// A pipeline to rebuild at a reload, whatever its `T` and `E`.
pub(crate) trait Rebuild: Send + Sync {
    fn rebuild(&self, built: &Built);
}

/// Every version of the pipeline, the current one last.
///
/// A call borrows the version it started with for as long as it runs
/// (`Policy::execute` lends `&'a self` for the whole call), so a version
/// is never freed while the handle lives: a reload appends one. That costs
/// each handle one entry and the replaced stages per reload, freed with it.
struct Inner<T, E> {
    name: String,
    versions: boxcar::Vec<BoxPolicy<T, E>>,
    current: AtomicUsize,
}

impl<T: Send + 'static, E: Send + 'static> Rebuild for Inner<T, E> {
    fn rebuild(&self, built: &Built) {
        // A pipeline the new config dropped keeps running as it was.
        if let Some(policy) = assemble(&self.name, built) {
            let index = self.versions.push(policy);
            self.current.store(index, Ordering::Release);
        }
    }
}

/// The pipeline `name` of `built`: the call span and the histogram (when
/// asked for) outermost, then the stages, then the attempt span.
fn assemble<T: Send + 'static, E: Send + 'static>(
    name: &str,
    built: &Built,
) -> Option<BoxPolicy<T, E>> {
    let assembly = built.pipelines.get(name)?;
    let mut inner: Option<BoxPolicy<T, E>> = assembly
        .trace
        .then(|| BoxPolicy::new(AttemptSpan::new(name.to_owned())));
    for key in assembly.keys.iter().rev() {
        let (_, handle) = &built.policies[key];
        inner = Some(handle.wrap(inner));
    }
    let mut policy = inner.unwrap_or_else(|| BoxPolicy::new(Identity));
    if assembly.histogram {
        policy = BoxPolicy::new(Then::new(CallDuration::new(name.to_owned()), policy));
    }
    if assembly.trace {
        policy = BoxPolicy::new(Then::new(CallSpan::new(name.to_owned()), policy));
    }
    Some(policy)
}

/// A pipeline of a [`Configured`](crate::Configured), by name; a
/// [`Policy`] like any other, so it guards closures, tower services
/// (steadfast-tower's `PolicyLayer`) and anything else.
///
/// Each call runs under the pipeline as it is when the call starts (one
/// lock-free load) and finishes under it, whatever reload happens meanwhile.
/// The pipeline is type-erased ([`BoxPolicy`]): a call allocates, once per
/// stage.
pub struct ConfiguredPipeline<T, E> {
    inner: Arc<Inner<T, E>>,
}

impl<T, E> Clone for ConfiguredPipeline<T, E> {
    fn clone(&self) -> Self {
        ConfiguredPipeline {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T, E> fmt::Debug for ConfiguredPipeline<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfiguredPipeline")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static, E: Send + 'static> ConfiguredPipeline<T, E> {
    pub(crate) fn new(name: &str, built: &Built) -> Self {
        let policy = assemble(name, built).expect("the caller checked the pipeline exists");
        let versions = boxcar::Vec::new();
        let current = versions.push(policy);
        ConfiguredPipeline {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                versions,
                current: AtomicUsize::new(current),
            }),
        }
    }

    pub(crate) fn weak(&self) -> Weak<dyn Rebuild> {
        let weak: Weak<Inner<T, E>> = Arc::downgrade(&self.inner);
        weak
    }

    /// The pipeline's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }
}

impl<T: Send + 'static, E: Send + 'static> Policy<T, E> for ConfiguredPipeline<T, E> {
    // What is inside changes with the config.
    const READS_DEADLINE: bool = true;

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
        let current = self.inner.current.load(Ordering::Acquire);
        self.inner.versions[current].execute(ctx, next)
    }
}
