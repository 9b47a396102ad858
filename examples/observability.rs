//! `/health`, `/ready` and `/metrics` for a service's policies, on 127.0.0.1.
//!
//! `cargo run --release --example observability` serves the routes on an
//! ephemeral port, drives a dependency through an outage (the breaker
//! opens, the limiter refuses), fetches each route after every phase and
//! prints what it answered, then stops: a bounded run of a few seconds.
//! `--serve` keeps it up for `curl` after the run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use steadfast::breaker::{Breaker, BreakerConfig};
use steadfast::observe::Registry;
use steadfast::ratelimit::{Quota, RateLimiter};
use steadfast::{Policy, Timeout};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let serve = std::env::args().any(|a| a == "--serve");
    let payments = Breaker::builder_from(BreakerConfig::empty())
        .name("payments")
        .consecutive_failures(3)
        .open_for(Duration::from_secs(1))
        .build()?;
    let limiter = RateLimiter::builder(Quota::per_second(20))
        .name("api")
        .build()?;
    let timeout = Timeout::new(Duration::from_millis(200))?;
    let registry = Arc::new(
        Registry::new()
            .critical("payments", payments.clone())
            .register("api", limiter.clone())
            .register("timeout", timeout.clone()),
    );
    let handle = PrometheusBuilder::new().install_recorder()?;
    let app = steadfast::observe::axum::router(Arc::clone(&registry), handle);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    println!("serving http://{addr}/health, /ready and /metrics");

    // Healthy traffic.
    for _ in 0..10 {
        let _ = limiter.call(|| async { Ok::<_, std::io::Error>(()) }).await;
    }
    show(addr, "healthy").await?;

    // The payments provider fails: three failures open the breaker; a burst
    // of 40 calls spends the limiter's burst of 20.
    for _ in 0..3 {
        let _ = payments
            .call(|| async { Err::<(), _>(std::io::Error::other("provider down")) })
            .await;
    }
    for _ in 0..40 {
        let _ = limiter.call(|| async { Ok::<_, std::io::Error>(()) }).await;
    }
    show(addr, "outage").await?;

    // The open period passes and a probe succeeds: ready again.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let _ = payments
        .call(|| async { Ok::<_, std::io::Error>(()) })
        .await;
    show(addr, "recovered").await?;

    if serve {
        println!("--serve: up at http://{addr} until interrupted");
        std::future::pending::<()>().await;
    }
    Ok(())
}

/// Prints what `/ready` answers and the breaker and limiter series of `/metrics`.
async fn show(addr: SocketAddr, phase: &str) -> std::io::Result<()> {
    let (status, body) = get(addr, "/ready").await?;
    println!("\n[{phase}] GET /ready -> {status}\n{body}");
    let (_, metrics) = get(addr, "/metrics").await?;
    for line in metrics.lines().filter(|l| {
        l.starts_with("steadfast_breaker_state") && l.ends_with(" 1")
            || l.starts_with("steadfast_ratelimit_requests_total")
    }) {
        println!("  {line}");
    }
    Ok(())
}

/// One HTTP/1.1 GET over loopback, `Connection: close`.
async fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_owned()))
}
