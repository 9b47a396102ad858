//! Bodies the HTTP layer can build from bytes.

use bytes::Bytes;

/// A body built from bytes: a buffered request's body, rebuilt for every
/// attempt, and the body of the answers the layer writes.
///
/// Implemented for axum's `Body` (feature `axum`), tonic's `Body` (feature
/// `grpc`), `http_body_util::Full<Bytes>` and `Bytes`; implement it for a
/// body type of your own.
pub trait FromBytes {
    /// The body holding `bytes`.
    fn from_bytes(bytes: Bytes) -> Self;
}

impl FromBytes for Bytes {
    #[inline]
    fn from_bytes(bytes: Bytes) -> Self {
        bytes
    }
}

impl FromBytes for http_body_util::Full<Bytes> {
    #[inline]
    fn from_bytes(bytes: Bytes) -> Self {
        http_body_util::Full::new(bytes)
    }
}

#[cfg(feature = "axum")]
impl FromBytes for axum_core::body::Body {
    #[inline]
    fn from_bytes(bytes: Bytes) -> Self {
        axum_core::body::Body::from(bytes)
    }
}

#[cfg(feature = "grpc")]
impl FromBytes for tonic::body::Body {
    #[inline]
    fn from_bytes(bytes: Bytes) -> Self {
        tonic::body::Body::new(http_body_util::Full::new(bytes))
    }
}
