//! The owned call path: a call that owns its policy, its operation and its
//! keys, so it can outlive its caller and start work of its own.
//!
//! [`Policy::call`] borrows the pipeline and the
//! operation from the caller: the cheapest path, and nothing it starts can
//! outlive the caller's future. An owned call
//! ([`Policy::call_owned`],
//! [`Policy::call_owned_with`]) holds a
//! clone of the policy, the operation and [`OwnedContext`]'s keys behind one
//! `Arc`, so its future is `Send + 'static`, and a policy inside may hand
//! work to a [`Relaunch`]: the same pipeline, run again in a task of its own
//! with a [`Background`] job the policy left for itself. That is how a cache
//! inside a pipeline refreshes a stale entry after answering the caller, and
//! how a fetch goes on after a soft timeout handed the caller a stale value.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use crate::next::Leaf;
use crate::{Context, Error, Operation, Policy, Priority};

/// The keys an owned call carries: a tuple of owned values, one per type
/// (`()` for none, `(UserId(7),)` for one, up to four).
///
/// Each is handed to the call's [`Context`] with
/// [`with_key`](Context::with_key), so keyed policies find their own, in the
/// caller's call and in any background call started from it.
pub trait OwnedKeys: Send + Sync + 'static {
    /// Adds every key to `ctx`.
    fn add_to<'a>(&'a self, ctx: Context<'a>) -> Context<'a>;
}

impl OwnedKeys for () {
    #[inline]
    fn add_to<'a>(&'a self, ctx: Context<'a>) -> Context<'a> {
        ctx
    }
}

/// Keys that may be absent (a header the request did not carry): `None`
/// adds nothing, so a keyed policy refuses the call with
/// [`MissingKey`](crate::MissingKey) as it would with no key at all.
impl<A: OwnedKeys> OwnedKeys for Option<A> {
    #[inline]
    fn add_to<'a>(&'a self, ctx: Context<'a>) -> Context<'a> {
        match self {
            Some(keys) => keys.add_to(ctx),
            None => ctx,
        }
    }
}

macro_rules! owned_keys {
    ($($name:ident . $index:tt),+) => {
        impl<$($name: Any + Send + Sync),+> OwnedKeys for ($($name,)+) {
            #[inline]
            fn add_to<'a>(&'a self, ctx: Context<'a>) -> Context<'a> {
                ctx$(.with_key(&self.$index))+
            }
        }
    };
}

owned_keys!(A.0);
owned_keys!(A.0, B.1);
owned_keys!(A.0, B.1, C.2);
owned_keys!(A.0, B.1, C.2, D.3);

/// What an owned call knows of itself: its keys, priority and cost.
///
/// ```
/// use steadfast_core::{OwnedContext, Priority};
///
/// struct UserId(u64);
/// let ctx = OwnedContext::new((UserId(7),)).with_priority(Priority::HIGH).with_cost(2);
/// assert_eq!(ctx.keys().0.0, 7);
/// ```
#[derive(Clone, Debug)]
pub struct OwnedContext<K = ()> {
    keys: K,
    priority: Priority,
    cost: u32,
}

impl OwnedContext<()> {
    /// No key, normal priority, cost 1.
    pub const fn empty() -> Self {
        OwnedContext::new(())
    }
}

impl Default for OwnedContext<()> {
    fn default() -> Self {
        OwnedContext::empty()
    }
}

impl<K> OwnedContext<K> {
    /// An owned context carrying `keys` (a tuple: `(UserId(7), TenantId(3))`).
    pub const fn new(keys: K) -> Self {
        OwnedContext {
            keys,
            priority: Priority::NORMAL,
            cost: 1,
        }
    }

    /// Sets the call's priority.
    #[must_use]
    pub const fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Sets the call's cost in units.
    #[must_use]
    pub const fn with_cost(mut self, cost: u32) -> Self {
        self.cost = cost;
        self
    }

    /// The keys.
    pub fn keys(&self) -> &K {
        &self.keys
    }
}

impl<K: OwnedKeys> OwnedContext<K> {
    fn to_context<'a>(&'a self, owned: &'a Owned<'a>) -> Context<'a> {
        self.keys
            .add_to(Context::new())
            .with_priority(self.priority)
            .with_cost(self.cost)
            .with_owned(owned)
    }
}

/// Work a policy leaves for itself, to be done in a background call of the
/// same pipeline (see [`Relaunch`]).
///
/// The job names the policy it is for (any value unique to that policy's
/// shared state, such as the address of its `Arc`) and carries what the
/// policy needs, type-erased. Only the policy that made it takes it.
pub struct Background {
    target: usize,
    payload: Mutex<Option<Box<dyn Any + Send>>>,
}

impl Background {
    /// A job for the policy whose identity is `target`.
    pub fn new(target: usize, payload: Box<dyn Any + Send>) -> Self {
        Background {
            target,
            payload: Mutex::new(Some(payload)),
        }
    }

    /// The identity of the policy the job is for.
    pub fn target(&self) -> usize {
        self.target
    }

    /// Whether the policy the job is for has not taken it yet: a policy that
    /// sees a pending job sits above that policy in the pipeline. Limiters
    /// let such a call pass uncharged, since no caller asked for it.
    pub fn is_pending(&self) -> bool {
        self.payload
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Takes the payload out, if this job is `target`'s and its payload is a
    /// `P` not taken yet.
    pub fn take<P: Any>(&self, target: usize) -> Option<Box<P>> {
        if self.target != target {
            return None;
        }
        let mut payload = self.payload.lock().unwrap_or_else(PoisonError::into_inner);
        match payload.take()?.downcast::<P>() {
            Ok(p) => Some(p),
            Err(other) => {
                *payload = Some(other);
                None
            }
        }
    }

    /// Takes the payload back out whatever its target (a job that could not
    /// be started is handed back to the policy that made it).
    pub fn into_payload(self) -> Option<Box<dyn Any + Send>> {
        self.payload
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Background {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Background")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// Runs the pipeline of an owned call again, in a task of its own, carrying a
/// [`Background`] job; found with [`Context::relaunch`].
///
/// The background call starts at the top of the pipeline with the owned
/// call's keys, priority and cost, and no deadline; the policy the job is
/// for finds it with [`Context::background`]. Policies above it see one more
/// call.
pub trait Relaunch: Send + Sync {
    /// Starts the background call; hands the job back when it cannot (no
    /// tokio runtime here).
    fn relaunch(&self, job: Background) -> Result<(), Background>;
}

/// What the context of an owned call points to.
#[derive(Clone, Copy)]
pub(crate) struct Owned<'a> {
    pub(crate) relaunch: &'a dyn Relaunch,
    pub(crate) background: Option<&'a Background>,
}

/// Everything an owned call holds, shared with its background calls.
struct OwnedCall<P, Op, K> {
    policy: P,
    op: Op,
    ctx: OwnedContext<K>,
}

impl<P, Op, K: OwnedKeys> OwnedCall<P, Op, K> {
    /// Runs the pipeline over the call, `relaunch` standing for it.
    async fn run<T, E>(
        &self,
        relaunch: &dyn Relaunch,
        background: Option<&Background>,
    ) -> Result<T, Error<E>>
    where
        P: Policy<T, E>,
        Op: Operation<T, E>,
    {
        let owned = Owned {
            relaunch,
            background,
        };
        self.policy
            .execute(self.ctx.to_context(&owned), Leaf::new(&self.op))
            .await
    }
}

/// Starts a background call of `call` with `job`, in a task of its own;
/// hands the job back when no tokio runtime is here.
fn spawn<P, Op, K, T, E>(call: Arc<OwnedCall<P, Op, K>>, job: Background) -> Result<(), Background>
where
    P: Policy<T, E> + 'static,
    Op: Operation<T, E> + 'static,
    K: OwnedKeys,
    T: Send + 'static,
    E: Send + 'static,
{
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return Err(job);
    };
    let handle = Handle {
        call,
        _result: std::marker::PhantomData,
    };
    // Boxed (a rare path) so the task's future is plainly `Send`: the
    // pipeline's future borrows from the handle it runs in.
    let task: Pin<Box<dyn Future<Output = Result<T, Error<E>>> + Send>> =
        Box::pin(handle.run(Some(job)));
    drop(runtime.spawn(task));
    Ok(())
}

/// The relaunch handle: a clone of the shared call.
struct Handle<P, Op, K, T, E> {
    call: Arc<OwnedCall<P, Op, K>>,
    _result: std::marker::PhantomData<fn() -> (T, E)>,
}

impl<P, Op, K, T, E> Handle<P, Op, K, T, E>
where
    P: Policy<T, E> + 'static,
    Op: Operation<T, E> + 'static,
    K: OwnedKeys,
    T: Send + 'static,
    E: Send + 'static,
{
    async fn run(self, background: Option<Background>) -> Result<T, Error<E>> {
        self.call.run(&self, background.as_ref()).await
    }
}

impl<P, Op, K, T, E> Relaunch for Handle<P, Op, K, T, E>
where
    P: Policy<T, E> + 'static,
    Op: Operation<T, E> + 'static,
    K: OwnedKeys,
    T: Send + 'static,
    E: Send + 'static,
{
    fn relaunch(&self, job: Background) -> Result<(), Background> {
        spawn(Arc::clone(&self.call), job)
    }
}

/// The future of an owned call.
pub(crate) fn call_owned<P, Op, K, T, E>(
    policy: P,
    ctx: OwnedContext<K>,
    op: Op,
) -> impl Future<Output = Result<T, Error<E>>> + Send + 'static
where
    P: Policy<T, E> + 'static,
    Op: Operation<T, E> + 'static,
    K: OwnedKeys,
    T: Send + 'static,
    E: Send + 'static,
{
    let handle = Handle {
        call: Arc::new(OwnedCall { policy, op, ctx }),
        _result: std::marker::PhantomData,
    };
    handle.run(None)
}

/// An owned call held inside its own future: no allocation of its own.
struct InPlace<P, Op, K, T, E> {
    call: OwnedCall<P, Op, K>,
    _result: std::marker::PhantomData<fn() -> (T, E)>,
}

impl<P, Op, K, T, E> Relaunch for InPlace<P, Op, K, T, E>
where
    P: Policy<T, E> + Clone + 'static,
    Op: Operation<T, E> + Clone + 'static,
    K: OwnedKeys + Clone,
    T: Send + 'static,
    E: Send + 'static,
{
    fn relaunch(&self, job: Background) -> Result<(), Background> {
        // The rare path pays for the sharing the common one skipped: the
        // background call gets clones of its own.
        let call = Arc::new(OwnedCall {
            policy: self.call.policy.clone(),
            op: self.call.op.clone(),
            ctx: self.call.ctx.clone(),
        });
        spawn(call, job)
    }
}

/// An owned call, like [`Policy::call_owned_with`], that keeps the policy,
/// the operation and the keys in its own future instead of behind an `Arc`:
/// it allocates nothing itself, so a caller that boxes the future (a tower
/// service) allocates once per call.
///
/// Everything it holds is `Clone`, because a background call a policy
/// starts ([`Context::relaunch`]) gets clones of its own: that rare path
/// allocates, the call itself does not.
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::{OwnedContext, Timeout, owned::call_owned_in_place};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let timeout = Timeout::new(Duration::from_secs(1))?;
/// let op = || async { Ok::<_, std::io::Error>(3) };
/// let task = tokio::spawn(call_owned_in_place(timeout, OwnedContext::empty(), op));
/// assert_eq!(task.await??, 3);
/// # Ok(())
/// # }
/// ```
// Not an `async fn`: the signature promises `Send + 'static` to callers.
#[allow(clippy::manual_async_fn)]
pub fn call_owned_in_place<P, Op, K, T, E>(
    policy: P,
    ctx: OwnedContext<K>,
    op: Op,
) -> impl Future<Output = Result<T, Error<E>>> + Send + 'static
where
    P: Policy<T, E> + Clone + 'static,
    Op: Operation<T, E> + Clone + 'static,
    K: OwnedKeys + Clone,
    T: Send + 'static,
    E: Send + 'static,
{
    async move {
        let call = InPlace {
            call: OwnedCall { policy, op, ctx },
            _result: std::marker::PhantomData,
        };
        call.call.run(&call, None).await
    }
}
