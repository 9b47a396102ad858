//! [`HttpPolicyLayer`]: a policy around an HTTP service, answering its
//! rejections as HTTP responses.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;

use crate::http::from_bytes::FromBytes;
use http::{Request, Response, request};
use http_body::Body;
use steadfast_core::owned::call_owned_in_place;
use steadfast_core::{OwnedContext, Policy};
use tower_layer::Layer;
use tower_service::Service;

use crate::extract::{ContextFrom, NoContext, WithCost, WithPriority};
use crate::http::answers::{Answer, HttpAnswers, SharedAnswer};
use crate::http::body::collect;
use crate::http::headers::{NoQuota, QuotaSource, RateLimitHeaders};
use crate::http::pass::PassThrough;
use crate::replay::{Replay, Replayable};

/// The future of an [`HttpPolicyService`] call: boxed, the call's one
/// allocation beside the buffered body.
pub type HttpResponseFuture<T, E> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, E>> + Send>>;

/// The body a layer buffers for retries unless told otherwise: 2 MiB,
/// axum's own default body limit.
pub const DEFAULT_MAX_BODY: usize = 2 * 1024 * 1024;

/// Runs every HTTP request under a policy and answers refusals itself.
///
/// - When the policy may repeat a call ([`Policy::REPEATS`]: a retry, a
///   hedge, a cache), the request body is buffered (up to
///   [`max_body`](Self::max_body), 413 past it) so every attempt sends it
///   again. A policy that never repeats (a limiter, a breaker, a bulkhead, a
///   timeout) gets the request as it came, its body streamed.
/// - A rejection becomes a response ([`HttpAnswers`] unless
///   [`answers`](Self::answers) replaces it): 429 with `Retry-After`, 503,
///   504, with an RFC 9457 problem document.
/// - The inner service's own error passes through untouched: the service's
///   error type is the inner one (`Infallible` for axum).
/// - With [`quota`](Self::quota), every response, admitted or refused,
///   carries the rate-limit headers of the call's key.
///
/// ```
/// use std::time::Duration;
/// use axum::{Router, routing::get};
/// use http::HeaderName;
/// use steadfast::breaker::Breaker;
/// use steadfast::ratelimit::{KeyedRateLimiter, Quota};
/// use steadfast_core::Pipeline;
/// use steadfast_tower::http::{HttpPolicyLayer, header};
///
/// #[derive(Clone, Debug, PartialEq, Eq, Hash)]
/// struct UserId(String);
///
/// # fn main() -> Result<(), steadfast_core::ConfigError> {
/// let limiter = KeyedRateLimiter::<UserId>::new(Quota::per_minute(60))?;
/// let pipeline = Pipeline::new(limiter.clone()).then(Breaker::builder().build()?);
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .layer(
///         HttpPolicyLayer::new(pipeline)
///             .context(header(HeaderName::from_static("x-user-id"), |v: &str| UserId(v.to_owned())))
///             .quota(limiter),
///     );
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
pub struct HttpPolicyLayer<P, X = NoContext, Q = NoQuota> {
    policy: P,
    context: X,
    quota: Q,
    headers: RateLimitHeaders,
    answers: SharedAnswer,
    max_body: usize,
}

impl<P> HttpPolicyLayer<P> {
    /// A layer running every request under `policy`, with no key, the
    /// standard answers and a 2 MiB body buffer.
    pub fn new(policy: P) -> Self {
        HttpPolicyLayer {
            policy,
            context: NoContext,
            quota: NoQuota,
            headers: RateLimitHeaders::default(),
            answers: Arc::new(HttpAnswers::new()),
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

impl<P, X, Q> HttpPolicyLayer<P, X, Q> {
    /// This layer with its context extractor and quota source replaced by
    /// what `f` makes of them.
    fn with<Y, R>(self, f: impl FnOnce(X, Q) -> (Y, R)) -> HttpPolicyLayer<P, Y, R> {
        let (context, quota) = f(self.context, self.quota);
        HttpPolicyLayer {
            policy: self.policy,
            context,
            quota,
            headers: self.headers,
            answers: self.answers,
            max_body: self.max_body,
        }
    }

    /// Builds each call's context from its request: [`header`](crate::http::header),
    /// [`peer_ip`](crate::http::peer_ip), [`path`](crate::http::path) or
    /// [`from_fn`](crate::extract::from_fn).
    pub fn context<Y>(self, context: Y) -> HttpPolicyLayer<P, Y, Q> {
        self.with(|_, quota| (context, quota))
    }

    /// Sets each call's priority (its shedding class) from its request.
    pub fn priority<F>(self, priority: F) -> HttpPolicyLayer<P, WithPriority<X, F>, Q> {
        self.with(|inner, quota| (WithPriority { inner, priority }, quota))
    }

    /// Sets each call's cost (the tokens a limiter takes) from its request.
    pub fn cost<F>(self, cost: F) -> HttpPolicyLayer<P, WithCost<X, F>, Q> {
        self.with(|inner, quota| (WithCost { inner, cost }, quota))
    }

    /// Adds the rate-limit headers of `source` (a clone of the pipeline's
    /// limiter) to every response: read after the call, so an admitted
    /// response shows what is left.
    pub fn quota<R>(self, source: R) -> HttpPolicyLayer<P, X, R> {
        self.with(|context, _| (context, source))
    }

    /// Which rate-limit headers responses carry (the IETF draft's and the
    /// legacy `RateLimit-*` unless told otherwise).
    #[must_use]
    pub fn rate_limit_headers(mut self, headers: RateLimitHeaders) -> Self {
        self.headers = headers;
        self
    }

    /// Replaces how rejections become responses.
    #[must_use]
    pub fn answers(mut self, answers: impl Answer) -> Self {
        self.answers = Arc::new(answers);
        self
    }

    /// The largest request body buffered for replay, in bytes; a larger one
    /// is answered 413 without calling the service. Only a policy that may
    /// repeat a call buffers; any body passes a policy that does not.
    #[must_use]
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }
}

impl<P: Clone, X: Clone, Q: Clone> Clone for HttpPolicyLayer<P, X, Q> {
    fn clone(&self) -> Self {
        HttpPolicyLayer {
            policy: self.policy.clone(),
            context: self.context.clone(),
            quota: self.quota.clone(),
            headers: self.headers,
            answers: Arc::clone(&self.answers),
            max_body: self.max_body,
        }
    }
}

impl<P: fmt::Debug, X, Q> fmt::Debug for HttpPolicyLayer<P, X, Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpPolicyLayer")
            .field("policy", &self.policy)
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

impl<P: Clone, X: Clone, Q: Clone, S> Layer<S> for HttpPolicyLayer<P, X, Q> {
    type Service = HttpPolicyService<P, S, X, Q>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpPolicyService {
            shared: Shared(Arc::new(self.clone())),
            inner,
        }
    }
}

/// A layer's policy and settings behind one `Arc`: a call clones one
/// pointer, not each policy of a pipeline and each setting.
struct Shared<P, X, Q>(Arc<HttpPolicyLayer<P, X, Q>>);

impl<P, X, Q> Clone for Shared<P, X, Q> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

// The call runs the layer's policy through the shared pointer.
impl<T, E, P, X, Q> Policy<T, E> for Shared<P, X, Q>
where
    P: Policy<T, E>,
    X: Send + Sync,
    Q: Send + Sync,
{
    const REPEATS: bool = P::REPEATS;
    const READS_DEADLINE: bool = P::READS_DEADLINE;

    #[inline]
    fn execute<'a, N>(
        &'a self,
        ctx: steadfast_core::Context<'a>,
        next: N,
    ) -> impl std::future::Future<Output = Result<T, steadfast_core::Error<E>>> + Send + 'a
    where
        N: steadfast_core::Next<'a, T, E>,
        T: 'a,
        E: 'a,
    {
        self.0.policy.execute(ctx, next)
    }
}

/// The service an [`HttpPolicyLayer`] makes; `Clone`, `Send` and `Sync`
/// when the inner service is, every clone sharing the policy's state.
pub struct HttpPolicyService<P, S, X = NoContext, Q = NoQuota> {
    shared: Shared<P, X, Q>,
    inner: S,
}

impl<P, S: Clone, X, Q> Clone for HttpPolicyService<P, S, X, Q> {
    fn clone(&self) -> Self {
        HttpPolicyService {
            shared: self.shared.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<P: fmt::Debug, S: fmt::Debug, X, Q> fmt::Debug for HttpPolicyService<P, S, X, Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpPolicyService")
            .field("layer", &self.shared.0)
            .field("inner", &self.inner)
            .finish()
    }
}

/// A buffered request: its head and body, rebuilt for every attempt.
pub(crate) struct Buffered<B> {
    parts: request::Parts,
    body: Bytes,
    _body: std::marker::PhantomData<fn() -> B>,
}

impl<B> Clone for Buffered<B> {
    fn clone(&self) -> Self {
        Buffered {
            parts: self.parts.clone(),
            body: self.body.clone(),
            _body: std::marker::PhantomData,
        }
    }
}

impl<B: FromBytes + 'static> Replayable for Buffered<B> {
    type Request = Request<B>;

    fn replay(&self) -> Request<B> {
        Request::from_parts(self.parts.clone(), B::from_bytes(self.body.clone()))
    }
}

impl<P, S, X, Q, B, RB> Service<Request<B>> for HttpPolicyService<P, S, X, Q>
where
    P: Policy<Response<RB>, S::Error> + 'static,
    S: Service<Request<B>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send + 'static,
    X: ContextFrom<Request<B>>,
    Q: QuotaSource<X::Keys>,
    B: Body + FromBytes + Send + 'static,
    B::Data: Send,
    B::Error: fmt::Display,
    RB: FromBytes + Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = HttpResponseFuture<Response<RB>, S::Error>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let shared = self.shared.clone();
        let ctx = shared.0.context.context(&request);
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        // The keys are kept for the headers only when there are headers.
        let keys: Option<OwnedContext<X::Keys>> = Q::ACTIVE.then(|| ctx.clone());
        if !P::REPEATS {
            // One attempt at most: the request goes through as it came.
            return Box::pin(async move {
                let op = PassThrough::new(ready, request);
                let result = call_owned_in_place(shared.clone(), ctx, op).await;
                respond(&shared.0, keys, result)
            });
        }
        Box::pin(async move {
            let layer = &*shared.0;
            let (parts, body) = request.into_parts();
            let body = match collect(body, layer.max_body).await {
                Ok(body) => body,
                Err(error) => return Ok(layer.answers.body_error(&error).map(RB::from_bytes)),
            };
            let request = Buffered {
                parts,
                body,
                _body: std::marker::PhantomData,
            };
            let op = Replay::new(ready, request);
            let result = call_owned_in_place(shared.clone(), ctx, op).await;
            respond(layer, keys, result)
        })
    }
}

/// The response for a call's result: a rejection answered, the inner error
/// passed through, and the rate-limit headers of the call's key added.
fn respond<P, X, Q, K, RB, E>(
    layer: &HttpPolicyLayer<P, X, Q>,
    keys: Option<OwnedContext<K>>,
    result: Result<Response<RB>, steadfast_core::Error<E>>,
) -> Result<Response<RB>, E>
where
    Q: QuotaSource<K>,
    RB: FromBytes,
{
    // Read after the call, so an admitted response shows what is left.
    let report = keys.and_then(|keys| layer.quota.report(&keys));
    let mut response = match result {
        Ok(response) => response,
        Err(error) => match error.into_rejection() {
            Ok(rejection) => layer
                .answers
                .answer(&rejection, report.as_ref())
                .map(RB::from_bytes),
            Err(inner) => return Err(inner),
        },
    };
    if let Some(report) = &report {
        layer.headers.write(report, response.headers_mut());
    }
    Ok(response)
}
