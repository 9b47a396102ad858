//! Buffering a request body so every attempt can send it again.

use std::fmt;
use std::pin::pin;

use bytes::{Buf, Bytes, BytesMut};
use http_body::Body;

/// Why a request body could not be buffered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is larger than the buffer's limit.
    #[error("the request body is larger than the {limit} bytes buffered for retries")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Reading the body failed (the client went away, a malformed chunk).
    #[error("the request body could not be read: {0}")]
    Read(String),
}

/// Reads `body` to its end, refusing once it passes `limit` bytes.
///
/// A body of one chunk is kept as it is, without a copy; trailers are not
/// kept (a replayed request carries none).
pub(crate) async fn collect<B>(body: B, limit: usize) -> Result<Bytes, BodyError>
where
    B: Body,
    B::Error: fmt::Display,
{
    let hint = body.size_hint();
    if hint.lower() > limit as u64 {
        return Err(BodyError::TooLarge { limit });
    }
    // A body known to be empty (a GET) is not read at all.
    if hint.exact() == Some(0) && body.is_end_stream() {
        return Ok(Bytes::new());
    }
    let mut body = pin!(body);
    let mut first: Option<Bytes> = None;
    let mut rest: Option<BytesMut> = None;
    let mut len = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        len = len.saturating_add(data.remaining());
        if len > limit {
            return Err(BodyError::TooLarge { limit });
        }
        let chunk = data.copy_to_bytes(data.remaining());
        match (&mut first, &mut rest) {
            (None, _) => first = Some(chunk),
            (Some(head), None) => {
                let mut joined = BytesMut::with_capacity(head.len() + chunk.len());
                joined.extend_from_slice(head);
                joined.extend_from_slice(&chunk);
                rest = Some(joined);
            }
            (Some(_), Some(joined)) => joined.extend_from_slice(&chunk),
        }
    }
    Ok(match (rest, first) {
        (Some(joined), _) => joined.freeze(),
        (None, Some(head)) => head,
        (None, None) => Bytes::new(),
    })
}
