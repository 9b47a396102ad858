//! A client that goes away mid-request: the server drops the call's future,
//! and the policy hands back what it held.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use steadfast::breaker::{Breaker, State};
use steadfast::bulkhead::Bulkhead;
use steadfast_core::{Inspect, Pipeline, Policy};
use steadfast_tower::http::HttpPolicyLayer;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use common::{send, serve};

#[tokio::test(start_paused = true)]
async fn a_disconnect_frees_the_permit_and_the_trial_slot() {
    let breaker = Breaker::builder()
        .consecutive_failures(1)
        .open_for(Duration::from_secs(10))
        .build()
        .unwrap();
    let bulkhead = Bulkhead::new(1).unwrap();
    let started = Arc::new(Notify::new());
    let handler = {
        let started = Arc::clone(&started);
        move || async move {
            started.notify_one();
            // Never answers: only the client leaving ends this call.
            std::future::pending::<&str>().await
        }
    };
    let app = Router::new()
        .route("/slow", get(handler))
        .route("/fast", get(|| async { "ok" }))
        .layer(HttpPolicyLayer::new(
            Pipeline::new(breaker.clone()).then(bulkhead.clone()),
        ));
    let addr = serve(app).await;

    // Trip the breaker (clones share state), then wait out its open period.
    let failed = breaker
        .call(|| async { Err::<(), _>(std::io::Error::other("down")) })
        .await;
    assert!(failed.is_err());
    assert_eq!(breaker.state(), State::Open);
    tokio::time::advance(Duration::from_secs(10)).await;

    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"GET /slow HTTP/1.1\r\nhost: test\r\n\r\n")
        .await
        .unwrap();
    started.notified().await;
    assert_eq!(breaker.snapshot().trials_in_flight, 1);
    assert_eq!(bulkhead.snapshot().in_flight, 1);

    drop(client);
    for _ in 0..1_000 {
        if bulkhead.snapshot().in_flight == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(bulkhead.snapshot().in_flight, 0);
    assert_eq!(breaker.snapshot().trials_in_flight, 0);
    assert_eq!(breaker.state(), State::HalfOpen);

    // The slot is free again: the next request is a trial, and succeeds.
    let reply = send(addr, "GET", "/fast", &[], "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(bulkhead.snapshot().in_flight, 0);
}
