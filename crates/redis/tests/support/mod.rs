//! Helpers: unique key prefixes on the shared Redis, and a private
//! `redis-server` a test may kill.
#![allow(dead_code, unreachable_pub)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use steadfast_ratelimit::Quota;
use steadfast_redis::{RedisLimiterConfig, RedisRateLimiter};

pub const SHARED: &str = "redis://127.0.0.1:6379";

/// A prefix no other test run uses.
pub fn prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("steadfast-test:{test}:{}:{nanos}", std::process::id())
}

pub fn config(test: &str, quota: Quota) -> RedisLimiterConfig {
    let mut config = RedisLimiterConfig::new(quota);
    config.prefix = prefix(test);
    config
}

pub async fn connected(url: &str, config: RedisLimiterConfig) -> RedisRateLimiter<String> {
    let limiter = RedisRateLimiter::new(url, config).unwrap();
    assert!(
        limiter.ready(Duration::from_secs(5)).await,
        "Redis at {url} answers"
    );
    limiter
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `redis-server` of the test's own, keeping nothing on disk; killed on drop.
pub struct Server {
    pub port: u16,
    child: Child,
}

impl Server {
    pub fn start(port: u16) -> Server {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
                "--bind",
                "127.0.0.1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server on {port} did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Server { port, child }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn kill(mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}
