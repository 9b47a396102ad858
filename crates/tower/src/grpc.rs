//! gRPC: rejections as tonic [`Status`] codes.
//!
//! | rejection | code |
//! |---|---|
//! | rate limited, lockout | `RESOURCE_EXHAUSTED` |
//! | circuit open, bulkhead full, shed | `UNAVAILABLE` |
//! | timeout | `DEADLINE_EXCEEDED` |
//! | missing key | `INVALID_ARGUMENT` |
//!
//! The message is the rejection's [`message`](Error::message). Where the
//! rejection knows when to come back, the status carries it as the
//! `grpc-retry-pushback-ms` metadata gRPC's retry design (A6) defines, which
//! gRPC clients with a retry policy obey, and as `retry-after` in whole
//! seconds for clients that read HTTP's convention.

use steadfast_core::Error;
use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

use steadfast_core::time::ceil_secs;

/// The code a rejection maps to; `None` for the operation's own error.
pub fn code_of<E>(error: &Error<E>) -> Option<Code> {
    Some(match error {
        Error::Inner(_) => return None,
        Error::RateLimited(_) => Code::ResourceExhausted,
        Error::CircuitOpen(_) | Error::BulkheadFull(_) | Error::Shed(_) => Code::Unavailable,
        Error::Timeout(_) => Code::DeadlineExceeded,
        Error::MissingKey(_) => Code::InvalidArgument,
        _ => Code::Internal,
    })
}

/// The status for a policy's error: a rejection as its code, message and
/// retry delay; the operation's own error through `inner`.
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::{Error, RateLimited};
/// use steadfast_tower::grpc::into_status;
///
/// let refused: Error<tonic::Status> = RateLimited::new("per-tenant", Duration::from_millis(1_500)).into();
/// let status = into_status(refused, |status| status);
/// assert_eq!(status.code(), tonic::Code::ResourceExhausted);
/// assert_eq!(status.metadata().get("grpc-retry-pushback-ms").unwrap(), "1500");
/// assert_eq!(status.metadata().get("retry-after").unwrap(), "2");
/// ```
pub fn into_status<E>(error: Error<E>, inner: impl FnOnce(E) -> Status) -> Status {
    match error.into_rejection() {
        Err(own) => inner(own),
        Ok(rejection) => {
            let code = code_of(&rejection).unwrap_or(Code::Internal);
            let mut status = Status::new(code, rejection.message());
            if let Some(wait) = rejection.retry_after() {
                let millis = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                let metadata = status.metadata_mut();
                metadata.insert("grpc-retry-pushback-ms", MetadataValue::from(millis));
                metadata.insert("retry-after", MetadataValue::from(ceil_secs(wait).max(1)));
            }
            status
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use steadfast_core::{BulkheadFull, CircuitOpen, TimedOut};

    use super::*;

    #[test]
    fn each_rejection_has_its_code() {
        let status = |e: Error<Status>| into_status(e, |s| s).code();
        assert_eq!(
            status(CircuitOpen::new("db", None).into()),
            Code::Unavailable
        );
        assert_eq!(status(BulkheadFull::new("pool").into()), Code::Unavailable);
        assert_eq!(
            status(TimedOut::new("db", Duration::from_secs(1)).into()),
            Code::DeadlineExceeded
        );
        assert_eq!(
            status(Error::Inner(Status::not_found("no such user"))),
            Code::NotFound
        );
    }
}

/// Rejections answered as gRPC statuses, for an
/// [`HttpPolicyLayer`](crate::http::HttpPolicyLayer) in front of a tonic
/// server: a trailers-only response carrying `grpc-status`, `grpc-message`
/// and the retry metadata of [`into_status`], instead of a problem document.
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::CircuitOpen;
/// use steadfast_tower::grpc::GrpcAnswers;
/// use steadfast_tower::http::Answer;
///
/// let response = GrpcAnswers.answer(&CircuitOpen::new("db", Some(Duration::from_secs(2))).into(), None);
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.headers()["grpc-status"], "14"); // UNAVAILABLE
/// assert_eq!(response.headers()["grpc-retry-pushback-ms"], "2000");
/// ```
#[cfg(feature = "http")]
#[derive(Clone, Copy, Debug, Default)]
pub struct GrpcAnswers;

#[cfg(feature = "http")]
impl crate::http::Answer for GrpcAnswers {
    fn answer(
        &self,
        rejection: &crate::http::Rejection,
        _report: Option<&crate::http::QuotaReport>,
    ) -> http::Response<bytes::Bytes> {
        into_status(rejection.clone(), |never| match never {}).into_http()
    }

    fn body_error(&self, error: &crate::http::BodyError) -> http::Response<bytes::Bytes> {
        let status = match error {
            crate::http::BodyError::TooLarge { .. } => {
                Status::resource_exhausted(error.to_string())
            }
            crate::http::BodyError::Read(_) => Status::invalid_argument(error.to_string()),
        };
        status.into_http()
    }
}
