//! Through a real axum server on loopback: statuses, `Retry-After` and
//! rate-limit headers exact on the paused clock, keys from a header and
//! from the peer address, tiers, body replay and the body limit.

mod common;

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, Response, StatusCode};
use axum::routing::{get, post};
use steadfast::ratelimit::{KeyedRateLimiter, Quota};
use steadfast::retry::Retry;
use steadfast_core::{Outcome, Pipeline};
use steadfast_tower::http::{HttpPolicyLayer, RateLimitHeaders, header, peer_ip};

use common::{send, send_chunked, serve};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct UserId(String);

fn user_header() -> HeaderName {
    HeaderName::from_static("x-user-id")
}

#[tokio::test(start_paused = true)]
async fn a_spent_quota_is_429_with_its_wait_and_every_response_has_the_headers() {
    let limiter = KeyedRateLimiter::<UserId>::builder(Quota::per_minute(2))
        .name("per-user")
        .build()
        .unwrap();
    let app = Router::new().route("/", get(|| async { "hello" })).layer(
        HttpPolicyLayer::new(limiter.clone())
            .context(header(user_header(), |v: &str| UserId(v.to_owned())))
            .quota(limiter.clone())
            .rate_limit_headers(
                RateLimitHeaders::IETF | RateLimitHeaders::LEGACY | RateLimitHeaders::X_RATELIMIT,
            ),
    );
    let addr = serve(app).await;
    let ada = [("x-user-id", "ada")];

    let first = send(addr, "GET", "/", &ada, "").await;
    assert_eq!((first.status, first.body.as_str()), (200, "hello"));
    // Two per minute: one left, full again in 30 s.
    assert_eq!(
        first.header("ratelimit-policy"),
        Some(r#""default";q=2;w=60"#)
    );
    assert_eq!(first.header("ratelimit"), Some(r#""default";r=1;t=30"#));
    assert_eq!(first.header("ratelimit-limit"), Some("2"));
    assert_eq!(first.header("ratelimit-remaining"), Some("1"));
    assert_eq!(first.header("ratelimit-reset"), Some("30"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("1"));

    assert_eq!(send(addr, "GET", "/", &ada, "").await.status, 200);

    let refused = send(addr, "GET", "/", &ada, "").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("30"));
    assert_eq!(
        refused.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(refused.header("ratelimit"), Some(r#""default";r=0;t=60"#));
    assert_eq!(
        refused.body,
        r#"{"type":"https://iana.org/assignments/http-problem-types#quota-exceeded","title":"Too Many Requests","status":429,"detail":"Too many requests. Try again in 30 s.","violated-policies":["per-user"]}"#
    );

    // Another user has a quota of their own.
    let grace = send(addr, "GET", "/", &[("x-user-id", "grace")], "").await;
    assert_eq!(grace.status, 200);
    assert_eq!(grace.header("ratelimit-remaining"), Some("1"));

    // A request without the key is refused, not given a shared bucket.
    let anonymous = send(addr, "GET", "/", &[], "").await;
    assert_eq!(anonymous.status, 400);
    assert!(anonymous.header("ratelimit").is_none());

    // 12.5 s later Ada's wait reads 18 s (17.5 rounded up).
    tokio::time::advance(Duration::from_millis(12_500)).await;
    let later = send(addr, "GET", "/", &ada, "").await;
    assert_eq!(later.status, 429);
    assert_eq!(later.header("retry-after"), Some("18"));
    tokio::time::advance(Duration::from_millis(17_500)).await;
    assert_eq!(send(addr, "GET", "/", &ada, "").await.status, 200);
}

#[tokio::test(start_paused = true)]
async fn the_peer_address_keys_the_limit() {
    let limiter = KeyedRateLimiter::<IpAddr>::new(Quota::per_minute(1)).unwrap();
    let app = Router::new()
        .route("/", get(|| async { "hi" }))
        .layer(HttpPolicyLayer::new(limiter.clone()).context(peer_ip()));
    let addr = serve(app).await;

    assert_eq!(send(addr, "GET", "/", &[], "").await.status, 200);
    let refused = send(addr, "GET", "/", &[], "").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_eq!(limiter.peek(&IpAddr::from([127, 0, 0, 1])).remaining, 0);
}

#[tokio::test(start_paused = true)]
async fn tiers_come_through_the_layer() {
    let limiter = KeyedRateLimiter::<UserId>::builder(Quota::per_minute(1))
        .tier("pro", Quota::per_minute(3))
        .tier_named(|user: &UserId| {
            if user.0.starts_with("pro-") {
                "pro"
            } else {
                "default"
            }
        })
        .build()
        .unwrap();
    let app = Router::new().route("/", get(|| async { "ok" })).layer(
        HttpPolicyLayer::new(limiter.clone())
            .context(header(user_header(), |v: &str| UserId(v.to_owned())))
            .quota(limiter),
    );
    let addr = serve(app).await;

    let free = [("x-user-id", "free-1")];
    assert_eq!(send(addr, "GET", "/", &free, "").await.status, 200);
    assert_eq!(send(addr, "GET", "/", &free, "").await.status, 429);

    let pro = [("x-user-id", "pro-1")];
    for left in ["2", "1", "0"] {
        let reply = send(addr, "GET", "/", &pro, "").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("ratelimit-policy"), Some(r#""pro";q=3;w=60"#));
        assert_eq!(reply.header("ratelimit-remaining"), Some(left));
    }
    let refused = send(addr, "GET", "/", &pro, "").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("20"));
}

fn server_errors_fail(result: &Result<Response<Body>, Infallible>) -> Outcome {
    match result {
        Ok(response) if response.status().is_server_error() => Outcome::Failure,
        _ => Outcome::Success,
    }
}

#[tokio::test(start_paused = true)]
async fn a_retry_through_the_layer_sends_the_body_again() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let calls = Arc::new(AtomicU32::new(0));
    let handler = {
        let (seen, calls) = (Arc::clone(&seen), Arc::clone(&calls));
        move |body: String| async move {
            seen.lock().unwrap().push(body.clone());
            if calls.fetch_add(1, Ordering::Relaxed) == 0 {
                (StatusCode::SERVICE_UNAVAILABLE, "try again".to_owned())
            } else {
                (StatusCode::OK, format!("stored {body}"))
            }
        }
    };
    let retry = Retry::builder()
        .max_attempts(3)
        .classifier(server_errors_fail)
        .build()
        .unwrap();
    let app = Router::new()
        .route("/orders", post(handler))
        .layer(HttpPolicyLayer::new(Pipeline::new(retry)));
    let addr = serve(app).await;

    let reply = send(addr, "POST", "/orders", &[], r#"{"sku":"A-1","qty":2}"#).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, r#"stored {"sku":"A-1","qty":2}"#);
    assert_eq!(
        *seen.lock().unwrap(),
        [r#"{"sku":"A-1","qty":2}"#, r#"{"sku":"A-1","qty":2}"#]
    );

    // A body in chunks is gathered into one and replayed the same way.
    calls.store(0, Ordering::Relaxed);
    seen.lock().unwrap().clear();
    let reply = send_chunked(addr, "/orders", &["{\"sku\":", "\"B-2\"}"]).await;
    assert_eq!(reply.body, r#"stored {"sku":"B-2"}"#);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_body_over_the_limit_is_413_and_never_reaches_the_handler() {
    let calls = Arc::new(AtomicU32::new(0));
    let handler = {
        let calls = Arc::clone(&calls);
        move |_body: String| async move {
            calls.fetch_add(1, Ordering::Relaxed);
            "stored"
        }
    };
    let retry = Retry::builder().max_attempts(2).build().unwrap();
    let app = Router::new()
        .route("/upload", post(handler))
        .layer(HttpPolicyLayer::new(retry).max_body(16));
    let addr = serve(app).await;

    assert_eq!(
        send(addr, "POST", "/upload", &[], "0123456789abcdef")
            .await
            .status,
        200
    );

    // Known too large from Content-Length, before reading it.
    let declared = send(addr, "POST", "/upload", &[], "0123456789abcdefX").await;
    assert_eq!(declared.status, 413);
    assert_eq!(
        declared.header("content-type"),
        Some("application/problem+json")
    );
    assert!(
        declared.body.contains(
            r#""detail":"the request body is larger than the 16 bytes buffered for retries""#
        ),
        "{}",
        declared.body
    );

    // Found too large while reading a chunked body.
    let streamed = send_chunked(addr, "/upload", &["0123456789", "abcdefghij"]).await;
    assert_eq!(streamed.status, 413);
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}

#[tokio::test(start_paused = true)]
async fn a_policy_that_never_repeats_streams_the_body_past_the_buffer_limit() {
    let limiter = KeyedRateLimiter::<IpAddr>::new(Quota::per_minute(10)).unwrap();
    let app = Router::new()
        .route(
            "/upload",
            post(|body: String| async move { format!("{} bytes", body.len()) }),
        )
        .layer(
            HttpPolicyLayer::new(limiter)
                .context(peer_ip())
                .max_body(16),
        );
    let addr = serve(app).await;

    let body = "x".repeat(1_000);
    let reply = send(addr, "POST", "/upload", &[], &body).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "1000 bytes"));
    let streamed = send_chunked(addr, "/upload", &["0123456789", "abcdefghij"]).await;
    assert_eq!(streamed.body, "20 bytes");
}
