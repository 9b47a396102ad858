//! Keys from HTTP requests: a header, the peer's address, the path.

use std::net::{IpAddr, SocketAddr};

use http::{HeaderName, Request};
use steadfast_core::{OwnedContext, OwnedKeys};

use crate::extract::ContextFrom;

/// A key read from a request header; see [`header`].
#[derive(Clone, Debug)]
pub struct Header<F> {
    name: HeaderName,
    to_key: F,
}

/// The call's key from the header `name`, made by `to_key` from its value.
///
/// A request without the header (or with a value that is not visible ASCII)
/// carries no key, so a keyed policy refuses it with
/// [`MissingKey`](steadfast_core::MissingKey) (400 through the HTTP layer)
/// instead of sharing one bucket among every such caller.
///
/// ```
/// use http::{HeaderName, Request};
/// use steadfast_tower::extract::ContextFrom;
/// use steadfast_tower::http::header;
///
/// #[derive(Clone, Debug, PartialEq, Eq, Hash)]
/// struct ApiKey(String);
///
/// let by_key = header(HeaderName::from_static("x-api-key"), |v: &str| ApiKey(v.to_owned()));
/// let request = Request::builder().header("x-api-key", "k-7").body(()).unwrap();
/// let ctx = by_key.context(&request);
/// assert_eq!(ctx.keys().as_ref().map(|k| &k.0.0[..]), Some("k-7"));
/// ```
pub fn header<K, F>(name: HeaderName, to_key: F) -> Header<F>
where
    F: Fn(&str) -> K + Send + Sync + 'static,
    K: Clone + Send + Sync + 'static,
{
    Header { name, to_key }
}

impl<B, K, F> ContextFrom<Request<B>> for Header<F>
where
    F: Fn(&str) -> K + Send + Sync + 'static,
    K: Clone + Send + Sync + 'static,
{
    type Keys = Option<(K,)>;

    fn context(&self, request: &Request<B>) -> OwnedContext<Option<(K,)>> {
        let key = request
            .headers()
            .get(&self.name)
            .and_then(|value| value.to_str().ok())
            .map(|value| ((self.to_key)(value),));
        OwnedContext::new(key)
    }
}

/// The peer's IP address as the call's key; see [`peer_ip`].
#[derive(Clone, Copy, Debug, Default)]
pub struct PeerIp;

/// The call's key is the client's IP address ([`IpAddr`]), read from the
/// request's extensions: axum's `ConnectInfo<SocketAddr>` (feature `axum`;
/// serve with `into_make_service_with_connect_info::<SocketAddr>()`) or a
/// plain [`SocketAddr`] a server put there.
///
/// Behind a proxy the peer is the proxy: read the client from the header
/// the proxy sets with [`header`] instead.
pub fn peer_ip() -> PeerIp {
    PeerIp
}

impl<B> ContextFrom<Request<B>> for PeerIp {
    type Keys = Option<(IpAddr,)>;

    fn context(&self, request: &Request<B>) -> OwnedContext<Option<(IpAddr,)>> {
        let extensions = request.extensions();
        #[cfg(feature = "axum")]
        let peer = extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| info.0)
            .or_else(|| extensions.get::<SocketAddr>().copied());
        #[cfg(not(feature = "axum"))]
        let peer = extensions.get::<SocketAddr>().copied();
        OwnedContext::new(peer.map(|addr| (addr.ip(),)))
    }
}

/// A key made from the request's path; see [`path`].
#[derive(Clone, Copy, Debug)]
pub struct Path<F>(F);

/// The call's key, made by `to_key` from the request's path (a per-route
/// bulkhead, a per-resource limit).
pub fn path<K, F>(to_key: F) -> Path<F>
where
    F: Fn(&str) -> K + Send + Sync + 'static,
    K: Clone + Send + Sync + 'static,
{
    Path(to_key)
}

impl<B, K, F> ContextFrom<Request<B>> for Path<F>
where
    F: Fn(&str) -> K + Send + Sync + 'static,
    K: Clone + Send + Sync + 'static,
    (K,): OwnedKeys,
{
    type Keys = (K,);

    fn context(&self, request: &Request<B>) -> OwnedContext<(K,)> {
        OwnedContext::new(((self.0)(request.uri().path()),))
    }
}
