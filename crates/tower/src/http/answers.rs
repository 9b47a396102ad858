//! Rejections as HTTP responses: status, `Retry-After`, and an RFC 9457
//! problem document a client can read.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use steadfast_core::Error;

use crate::http::body::BodyError;
use crate::http::headers::QuotaReport;
use steadfast_ratelimit::headers::retry_after;

/// The problem type the rate-limit draft registers for a spent quota.
pub const QUOTA_EXCEEDED: &str = "https://iana.org/assignments/http-problem-types#quota-exceeded";
/// The problem type the rate-limit draft registers for a service refusing
/// work while its capacity is reduced (an open circuit, a full bulkhead).
pub const TEMPORARY_REDUCED_CAPACITY: &str =
    "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity";

/// A rejection, the operation's error type gone: what an [`Answer`] maps.
pub type Rejection = Error<Infallible>;

/// Turns a rejection into a response; [`HttpAnswers`] is the standard one,
/// and any `Fn(&Rejection, Option<&QuotaReport>) -> Response<Bytes>` closure
/// replaces it.
pub trait Answer: Send + Sync + 'static {
    /// The response for `rejection`; `report` is the rate-limit state of the
    /// call's key, when the layer has a quota source.
    fn answer(&self, rejection: &Rejection, report: Option<&QuotaReport>) -> Response<Bytes>;

    /// The response for a request whose body could not be buffered.
    fn body_error(&self, error: &BodyError) -> Response<Bytes> {
        let status = match error {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Read(_) => StatusCode::BAD_REQUEST,
        };
        problem(status, "about:blank", &error.to_string(), None)
    }
}

impl<F> Answer for F
where
    F: Fn(&Rejection, Option<&QuotaReport>) -> Response<Bytes> + Send + Sync + 'static,
{
    fn answer(&self, rejection: &Rejection, report: Option<&QuotaReport>) -> Response<Bytes> {
        self(rejection, report)
    }
}

/// The standard mapping of rejections to HTTP responses.
///
/// | rejection | status | `Retry-After` | problem `type` |
/// |---|---|---|---|
/// | rate limited | 429 | the wait, whole seconds rounded up, at least 1 | `quota-exceeded` |
/// | rate limited, cost above the burst | 429 | none (no wait helps) | `quota-exceeded` |
/// | lockout | 429, or 403 with [`lockout_status`](Self::lockout_status) | until it ends | `quota-exceeded` |
/// | circuit open, bulkhead full, shed | 503 | when known | `temporary-reduced-capacity` |
/// | timeout | 504 | none | `about:blank` |
/// | missing key | 400 | none | `about:blank` |
///
/// The body is `application/problem+json` with `type`, `title`, `status`
/// and `detail` (the rejection's [`message`](Error::message)); a spent quota
/// adds the draft's `violated-policies`. The layer adds the rate-limit
/// headers of the call's key when it has a quota source.
///
/// ```
/// use std::time::Duration;
/// use steadfast_core::RateLimited;
/// use steadfast_tower::http::{Answer, HttpAnswers};
///
/// let answers = HttpAnswers::new();
/// let response = answers.answer(&RateLimited::new("per-user", Duration::from_millis(2_300)).into(), None);
/// assert_eq!(response.status(), 429);
/// assert_eq!(response.headers()["retry-after"], "3");
/// assert_eq!(response.headers()["content-type"], "application/problem+json");
/// assert_eq!(
///     response.body(),
///     r#"{"type":"https://iana.org/assignments/http-problem-types#quota-exceeded","title":"Too Many Requests","status":429,"detail":"Too many requests. Try again in 3 s.","violated-policies":["per-user"]}"#
/// );
/// ```
#[derive(Clone, Debug)]
pub struct HttpAnswers {
    lockout_status: StatusCode,
}

impl Default for HttpAnswers {
    fn default() -> Self {
        HttpAnswers::new()
    }
}

impl HttpAnswers {
    /// 429 for a lockout.
    pub const fn new() -> Self {
        HttpAnswers {
            lockout_status: StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The status of a lockout (too many failed logins): 429 by default, or
    /// 403 for a service that treats a locked account as forbidden.
    #[must_use]
    pub const fn lockout_status(mut self, status: StatusCode) -> Self {
        self.lockout_status = status;
        self
    }

    /// The status a rejection maps to.
    pub fn status_of<E>(&self, rejection: &Error<E>) -> StatusCode {
        match rejection {
            Error::RateLimited(r) if r.is_lockout() => self.lockout_status,
            Error::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::CircuitOpen(_) | Error::BulkheadFull(_) | Error::Shed(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Error::MissingKey(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl Answer for HttpAnswers {
    fn answer(&self, rejection: &Rejection, _report: Option<&QuotaReport>) -> Response<Bytes> {
        let status = self.status_of(rejection);
        let (kind, violated) = match rejection {
            Error::RateLimited(r) => (QUOTA_EXCEEDED, Some(r.policy_name())),
            Error::CircuitOpen(_) | Error::BulkheadFull(_) | Error::Shed(_) => {
                (TEMPORARY_REDUCED_CAPACITY, None)
            }
            _ => ("about:blank", None),
        };
        let mut response = problem(status, kind, &rejection.message(), violated);
        if let Some(wait) = rejection.retry_after()
            && let Ok(value) = HeaderValue::try_from(retry_after(wait))
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// An `application/problem+json` response (RFC 9457).
pub fn problem(
    status: StatusCode,
    kind: &str,
    detail: &str,
    violated_policy: Option<&str>,
) -> Response<Bytes> {
    let document = Problem {
        kind,
        title: status.canonical_reason().unwrap_or("Error"),
        status: status.as_u16(),
        detail,
        violated_policies: violated_policy.map(|policy| [policy]),
    };
    // A struct of strings and a number always serializes.
    let body = serde_json::to_vec(&document).unwrap_or_default();
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// An RFC 9457 problem document, with the rate-limit draft's extension.
#[derive(serde::Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(rename = "violated-policies", skip_serializing_if = "Option::is_none")]
    violated_policies: Option<[&'a str; 1]>,
}

/// A shared answer, as the layer keeps it.
pub(crate) type SharedAnswer = Arc<dyn Answer>;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use steadfast_core::{BulkheadFull, CircuitOpen, RateLimited, Shed, TimedOut};

    use super::*;

    fn answer(rejection: impl Into<Rejection>) -> Response<Bytes> {
        HttpAnswers::new().answer(&rejection.into(), None)
    }

    #[test]
    fn each_rejection_has_its_status_and_wait() {
        let open = answer(CircuitOpen::new(
            "payments",
            Some(Duration::from_millis(29_100)),
        ));
        assert_eq!(open.status(), 503);
        assert_eq!(open.headers()["retry-after"], "30");
        assert!(
            std::str::from_utf8(open.body())
                .unwrap()
                .contains("temporary-reduced-capacity")
        );

        let full = answer(BulkheadFull::new("db-pool"));
        assert_eq!(full.status(), 503);
        assert!(full.headers().get("retry-after").is_none());

        let shed = answer(Shed::new("shedder", Some(Duration::from_secs(2))));
        assert_eq!(shed.status(), 503);
        assert_eq!(shed.headers()["retry-after"], "2");

        let slow = answer(TimedOut::new("upstream", Duration::from_secs(1)));
        assert_eq!(slow.status(), 504);
        assert!(slow.headers().get("retry-after").is_none());

        let never = answer(RateLimited::never("uploads"));
        assert_eq!(never.status(), 429);
        assert!(never.headers().get("retry-after").is_none());
    }

    #[test]
    fn a_wait_under_a_second_is_one_second() {
        let soon = answer(RateLimited::new("api", Duration::from_millis(1)));
        assert_eq!(soon.headers()["retry-after"], "1");
    }

    #[test]
    fn lockout_is_429_or_403() {
        let locked: Rejection = RateLimited::lockout("login", Duration::from_secs(60)).into();
        assert_eq!(HttpAnswers::new().answer(&locked, None).status(), 429);
        let forbidden = HttpAnswers::new().lockout_status(StatusCode::FORBIDDEN);
        let response = forbidden.answer(&locked, None);
        assert_eq!(response.status(), 403);
        assert_eq!(response.headers()["retry-after"], "60");
    }

    #[test]
    fn details_are_escaped() {
        let body = problem(
            StatusCode::BAD_REQUEST,
            "about:blank",
            "a\"b\\\n\u{1}",
            None,
        );
        assert_eq!(
            body.body(),
            r#"{"type":"about:blank","title":"Bad Request","status":400,"detail":"a\"b\\\n\u0001"}"#
        );
    }
}
