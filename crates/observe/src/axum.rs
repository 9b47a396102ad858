//! Ready-made axum handlers: `/health`, `/ready` and `/metrics`.

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::Registry;

fn json(status: StatusCode, body: &impl serde::Serialize) -> Response {
    match serde_json::to_string(body) {
        Ok(text) => (status, [(header::CONTENT_TYPE, "application/json")], text).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `/health` and `/ready` for `registry`.
///
/// - `GET /health`: 200 while the process answers (liveness), with the
///   health report as JSON (`status`, `ready`, each policy's status and
///   reason).
/// - `GET /ready`: the same body, 200 while every critical policy serves
///   and 503 while one is `unhealthy`, so a load balancer sends traffic
///   elsewhere.
pub fn health_router(registry: Arc<Registry>) -> Router {
    let ready = Arc::clone(&registry);
    Router::new()
        .route(
            "/health",
            get(move || {
                let registry = Arc::clone(&registry);
                async move { json(StatusCode::OK, &registry.health()) }
            }),
        )
        .route(
            "/ready",
            get(move || {
                let registry = Arc::clone(&ready);
                async move {
                    let report = registry.health();
                    let status = if report.ready {
                        StatusCode::OK
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    };
                    json(status, &report)
                }
            }),
        )
}

/// [`health_router`] plus `GET /metrics`: the registry's series written to
/// the installed recorder, then `handle`'s Prometheus text.
#[cfg(feature = "prometheus")]
pub fn router(
    registry: Arc<Registry>,
    handle: metrics_exporter_prometheus::PrometheusHandle,
) -> Router {
    let scraped = Arc::clone(&registry);
    health_router(registry).route(
        "/metrics",
        get(move || {
            let registry = Arc::clone(&scraped);
            let handle = handle.clone();
            async move {
                registry.record_metrics();
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    handle.render(),
                )
            }
        }),
    )
}
