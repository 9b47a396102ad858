//! [`PolicyLayer`]: a steadfast policy as a tower [`Layer`].

use std::sync::Arc;

use tower_layer::Layer;

use crate::PolicyService;
use crate::extract::{NoContext, WithCost, WithPriority};

/// Wraps a tower service in a steadfast policy: any [`Policy`](steadfast_core::Policy),
/// a [`Pipeline`](steadfast_core::Pipeline) or a [`BoxPolicy`](steadfast_core::BoxPolicy).
///
/// Every service the layer makes shares the policy's state (a breaker's
/// state word, a limiter's buckets), so the clones axum makes per request
/// all guard the same dependency.
///
/// ```
/// use std::convert::Infallible;
/// use std::time::Duration;
/// use steadfast_core::Timeout;
/// use steadfast_tower::PolicyLayer;
/// use tower::{ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let service = ServiceBuilder::new()
///     .layer(PolicyLayer::new(Timeout::new(Duration::from_secs(1))?))
///     .service_fn(|n: u32| async move { Ok::<_, Infallible>(n + 1) });
/// assert_eq!(service.oneshot(41).await?, 42);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct PolicyLayer<P, X = NoContext> {
    policy: Arc<P>,
    context: X,
}

impl<P> PolicyLayer<P> {
    /// A layer running every request under `policy`, with no key.
    pub fn new(policy: P) -> Self {
        PolicyLayer {
            policy: Arc::new(policy),
            context: NoContext,
        }
    }
}

impl<P, X> PolicyLayer<P, X> {
    /// Builds each call's context (keys, priority, cost) from its request
    /// with `context`: [`from_fn`](crate::extract::from_fn) or an HTTP
    /// extractor.
    pub fn context<Y>(self, context: Y) -> PolicyLayer<P, Y> {
        PolicyLayer {
            policy: self.policy,
            context,
        }
    }

    /// Sets each call's priority (its shedding class) from its request.
    pub fn priority<F>(self, priority: F) -> PolicyLayer<P, WithPriority<X, F>> {
        let inner = self.context;
        PolicyLayer {
            policy: self.policy,
            context: WithPriority { inner, priority },
        }
    }

    /// Sets each call's cost (the tokens a limiter takes) from its request.
    pub fn cost<F>(self, cost: F) -> PolicyLayer<P, WithCost<X, F>> {
        let inner = self.context;
        PolicyLayer {
            policy: self.policy,
            context: WithCost { inner, cost },
        }
    }

    /// The policy.
    pub fn policy(&self) -> &P {
        &self.policy
    }
}

impl<P, X: Clone> Clone for PolicyLayer<P, X> {
    fn clone(&self) -> Self {
        PolicyLayer {
            policy: Arc::clone(&self.policy),
            context: self.context.clone(),
        }
    }
}

impl<P, X: Clone, S> Layer<S> for PolicyLayer<P, X> {
    type Service = PolicyService<P, S, X>;

    fn layer(&self, inner: S) -> Self::Service {
        PolicyService::new(Arc::clone(&self.policy), inner, self.context.clone())
    }
}
