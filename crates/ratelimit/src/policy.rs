//! The limiters as [`Policy`]s: the call runs once admitted.
//!
//! The cost of a call is [`Context::cost`] (1 by default); a keyed limiter
//! reads its key with [`Context::key`]. The decision is made when the call's
//! future is first polled. In wait mode the wait is also cut to the call's
//! deadline, when an enclosing policy set one: a call whose turn would come
//! after the deadline is refused at once with `Error::RateLimited`, rather
//! than waiting in vain for the timeout.
//!
//! A background call started by a policy below the limiter (a cache's
//! stale-while-revalidate refresh in an owned call, see
//! `steadfast_core::owned`) passes uncharged: no caller made it.
//!
//! Both limiters declare [`Policy::READS_DEADLINE`], so an enclosing
//! [`Timeout`](steadfast_core::Timeout) computes its deadline when the call
//! starts and passes it down (one read of the cached clock per call, in
//! either mode: the constant belongs to the type, not to the instance's mode).

use std::future::Future;

use steadfast_core::{Background, Context, Error, Next, Policy};

use crate::builder::Key;
use crate::direct::RateLimiter;
use crate::future::{Admission, RateLimitFuture};
use crate::keyed::KeyedRateLimiter;
use crate::store::StateStore;

impl<T: Send, E: Send> Policy<T, E> for RateLimiter {
    // Runs the rest of the call at most once.
    const REPEATS: bool = false;

    // Wait mode cuts its wait to the deadline.
    const READS_DEADLINE: bool = true;

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
        RateLimitFuture::new(move || {
            if above_a_background_job(&ctx) {
                return Admission::Run(next.invoke(ctx));
            }
            // Admitted at once in either mode: no rejection is counted yet.
            let Err(wait) = self.try_admit(ctx.cost()) else {
                return Admission::Run(next.invoke(ctx));
            };
            if self.engine().rejects() {
                let refused = self.rejection(wait);
                if self.engine().shadow() {
                    log_shadowed(&refused);
                    return Admission::Run(next.invoke(ctx));
                }
                return Admission::Rejected(refused);
            }
            Admission::Wait(Box::pin(async move {
                self.acquire_within(ctx.cost(), ctx.deadline()).await?;
                Ok(next.invoke(ctx))
            }))
        })
    }
}

/// A refusal in shadow mode: already counted (by `rejection`); logged at
/// DEBUG, and the caller runs the call.
#[cold]
fn log_shadowed(refused: &steadfast_core::RateLimited) {
    tracing::debug!(policy = %refused.policy_name(), "shadow mode: a call the limit would refuse runs");
}

/// Whether the call is a background call (a cache's refresh) whose job a
/// policy below has yet to take: no caller asked for it, so it passes
/// uncharged.
#[inline]
pub(crate) fn above_a_background_job(ctx: &Context<'_>) -> bool {
    ctx.background().is_some_and(Background::is_pending)
}

/// A call with no key of type `K` in its context is refused with
/// `Error::MissingKey`, unless the limiter was built to
/// [share one bucket](crate::RateLimiterBuilder::share_unkeyed) among such
/// calls: see the crate docs.
impl<T: Send, E: Send, K: Key, S: StateStore<K>> Policy<T, E> for KeyedRateLimiter<K, S> {
    // Runs the rest of the call at most once.
    const REPEATS: bool = false;

    // Wait mode cuts its wait to the deadline.
    const READS_DEADLINE: bool = true;

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
        RateLimitFuture::new(move || {
            if above_a_background_job(&ctx) {
                return Admission::Run(next.invoke(ctx));
            }
            let Some(key) = ctx.key::<K>() else {
                let Some(unkeyed) = self.unkeyed() else {
                    return Admission::Missing(self.missing_key());
                };
                let Err(wait) = unkeyed.try_admit(ctx.cost()) else {
                    return Admission::Run(next.invoke(ctx));
                };
                if self.engine().rejects() {
                    let refused = unkeyed.rejection(wait);
                    if self.engine().shadow() {
                        log_shadowed(&refused);
                        return Admission::Run(next.invoke(ctx));
                    }
                    return Admission::Rejected(refused);
                }
                return Admission::Wait(Box::pin(async move {
                    unkeyed.acquire_within(ctx.cost(), ctx.deadline()).await?;
                    Ok(next.invoke(ctx))
                }));
            };
            let rejects = self.engine().rejects();
            // In wait mode a refusal here is not final: it is not counted.
            let Err(wait) = self.try_admit(key, ctx.cost(), rejects) else {
                return Admission::Run(next.invoke(ctx));
            };
            if rejects {
                let refused = self.rejection(key, wait);
                if self.engine().shadow() {
                    log_shadowed(&refused);
                    return Admission::Run(next.invoke(ctx));
                }
                return Admission::Rejected(refused);
            }
            Admission::Wait(Box::pin(async move {
                self.acquire_within(key, ctx.cost(), ctx.deadline()).await?;
                Ok(next.invoke(ctx))
            }))
        })
    }
}
