//! Building a call's context from the request: keys, priority and cost.
//!
//! A [`PolicyLayer`](crate::PolicyLayer) asks its [`ContextFrom`] for an
//! [`OwnedContext`] per request, so keyed policies (a per-user limiter, a
//! per-tenant bulkhead, lockout by account) find their key, a shedder finds
//! the call's priority and a limiter its cost. The HTTP extractors (a header,
//! the peer address, the path) are in [`http`](crate::http).

use steadfast_core::{OwnedContext, OwnedKeys, Priority};

/// Builds the [`OwnedContext`] of the call a request makes.
///
/// Implemented by [`NoContext`], [`from_fn`]'s closures, the HTTP extractors
/// and the [`WithPriority`] and [`WithCost`] wrappers.
pub trait ContextFrom<Req>: Send + Sync + 'static {
    /// The keys the call carries (a tuple, `()` for none, an `Option` for a
    /// key the request may lack).
    type Keys: OwnedKeys + Clone;

    /// The context for `request`.
    fn context(&self, request: &Req) -> OwnedContext<Self::Keys>;
}

/// No key, normal priority, cost 1: the context of a layer told nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoContext;

impl<Req> ContextFrom<Req> for NoContext {
    type Keys = ();

    #[inline]
    fn context(&self, _request: &Req) -> OwnedContext<()> {
        OwnedContext::empty()
    }
}

/// A context built by a closure; see [`from_fn`].
#[derive(Clone, Copy, Debug)]
pub struct FromFn<F>(F);

/// A context built by `f` from the request: any key, priority and cost the
/// request holds.
///
/// ```
/// use steadfast_core::{OwnedContext, Priority};
/// use steadfast_tower::extract::{ContextFrom, from_fn};
///
/// #[derive(Clone)]
/// struct TenantId(u32);
/// struct Job { tenant: u32, batch: bool }
///
/// let context = from_fn(|job: &Job| {
///     let priority = if job.batch { Priority::BACKGROUND } else { Priority::NORMAL };
///     OwnedContext::new((TenantId(job.tenant),)).with_priority(priority)
/// });
/// let ctx = context.context(&Job { tenant: 7, batch: true });
/// assert_eq!(ctx.keys().0.0, 7);
/// ```
pub fn from_fn<Req, K, F>(f: F) -> FromFn<F>
where
    F: Fn(&Req) -> OwnedContext<K> + Send + Sync + 'static,
    K: OwnedKeys + Clone,
{
    FromFn(f)
}

impl<Req, K, F> ContextFrom<Req> for FromFn<F>
where
    F: Fn(&Req) -> OwnedContext<K> + Send + Sync + 'static,
    K: OwnedKeys + Clone,
{
    type Keys = K;

    #[inline]
    fn context(&self, request: &Req) -> OwnedContext<K> {
        (self.0)(request)
    }
}

/// Another extractor's context with the priority a closure reads from the
/// request; see [`PolicyLayer::priority`](crate::PolicyLayer::priority).
#[derive(Clone, Copy, Debug)]
pub struct WithPriority<X, F> {
    pub(crate) inner: X,
    pub(crate) priority: F,
}

impl<Req, X, F> ContextFrom<Req> for WithPriority<X, F>
where
    X: ContextFrom<Req>,
    F: Fn(&Req) -> Priority + Send + Sync + 'static,
{
    type Keys = X::Keys;

    #[inline]
    fn context(&self, request: &Req) -> OwnedContext<X::Keys> {
        self.inner
            .context(request)
            .with_priority((self.priority)(request))
    }
}

/// Another extractor's context with the cost a closure reads from the
/// request; see [`PolicyLayer::cost`](crate::PolicyLayer::cost).
#[derive(Clone, Copy, Debug)]
pub struct WithCost<X, F> {
    pub(crate) inner: X,
    pub(crate) cost: F,
}

impl<Req, X, F> ContextFrom<Req> for WithCost<X, F>
where
    X: ContextFrom<Req>,
    F: Fn(&Req) -> u32 + Send + Sync + 'static,
{
    type Keys = X::Keys;

    #[inline]
    fn context(&self, request: &Req) -> OwnedContext<X::Keys> {
        self.inner.context(request).with_cost((self.cost)(request))
    }
}
