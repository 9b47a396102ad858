//! axum: a policy's error as a response, for handlers that call a pipeline
//! themselves.

use axum_core::response::{IntoResponse, Response};
use steadfast_core::Error;

use crate::http::{Answer, HttpAnswers};

/// A policy's [`Error`] that answers itself: a rejection as the standard
/// [`HttpAnswers`] response (429, 503, 504 with `Retry-After` and a problem
/// document), the operation's own error as its own response.
///
/// ```
/// use axum::response::IntoResponse;
/// use std::time::Duration;
/// use steadfast_core::{Error, RateLimited};
/// use steadfast_tower::axum::ErrorResponse;
///
/// let refused: Error<(http::StatusCode, &str)> = RateLimited::new("ai", Duration::from_secs(5)).into();
/// let response = ErrorResponse(refused).into_response();
/// assert_eq!(response.status(), 429);
/// assert_eq!(response.headers()["retry-after"], "5");
///
/// let failed = Error::Inner((http::StatusCode::BAD_GATEWAY, "the AI provider failed"));
/// assert_eq!(ErrorResponse(failed).into_response().status(), 502);
/// ```
///
/// In a handler, `?` converts: `async fn summary(...) -> Result<String,
/// ErrorResponse<AppError>> { Ok(pipeline.call(op).await?) }`.
#[derive(Debug)]
pub struct ErrorResponse<E>(pub Error<E>);

impl<E> From<Error<E>> for ErrorResponse<E> {
    fn from(error: Error<E>) -> Self {
        ErrorResponse(error)
    }
}

impl<E: IntoResponse> IntoResponse for ErrorResponse<E> {
    fn into_response(self) -> Response {
        match self.0.into_rejection() {
            Ok(rejection) => HttpAnswers::new()
                .answer(&rejection, None)
                .map(axum_core::body::Body::from),
            Err(inner) => inner.into_response(),
        }
    }
}
