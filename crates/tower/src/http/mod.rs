//! HTTP: a policy around an HTTP service, with answers a client can act on.
//!
//! [`HttpPolicyLayer`] buffers the request body (so a retry replays it),
//! runs the request under a policy, answers rejections with the status,
//! `Retry-After` and RFC 9457 problem document of [`HttpAnswers`], and adds
//! rate-limit headers ([`RateLimitHeaders`]) from a [`QuotaSource`]. Keys
//! come from a [`header`], the [`peer_ip`] or the [`path`].

mod answers;
mod body;
mod extract;
mod from_bytes;
mod headers;
mod layer;
mod pass;

pub use answers::{
    Answer, HttpAnswers, QUOTA_EXCEEDED, Rejection, TEMPORARY_REDUCED_CAPACITY, problem,
};
pub use body::BodyError;
pub use extract::{Header, Path, PeerIp, header, path, peer_ip};
pub use from_bytes::FromBytes;
pub use headers::{NoQuota, QuotaReport, QuotaSource, RateLimitHeaders};
pub use layer::{DEFAULT_MAX_BODY, HttpPolicyLayer, HttpPolicyService, HttpResponseFuture};
