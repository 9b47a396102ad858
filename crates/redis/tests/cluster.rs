//! A local three-master Redis Cluster, started by the test: keyed limits
//! across slots, each key exact.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use steadfast_core::Inspect;
use steadfast_ratelimit::Quota;
use steadfast_redis::{RedisRateLimiter, Source};
use support::{config, free_port};

/// Three `redis-server --cluster-enabled yes`, joined; killed on drop.
struct Cluster {
    nodes: Vec<Child>,
    ports: Vec<u16>,
    dir: std::path::PathBuf,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = std::env::temp_dir().join(format!(
            "steadfast-cluster-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let nodes = ports
            .iter()
            .map(|port| {
                Command::new("redis-server")
                    .current_dir(&dir)
                    .args([
                        "--port",
                        &port.to_string(),
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        &format!("nodes-{port}.conf"),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                    ])
                    .stdout(Stdio::null())
                    .spawn()
                    .expect("redis-server is installed")
            })
            .collect();
        for port in &ports {
            let deadline = Instant::now() + Duration::from_secs(5);
            while std::net::TcpStream::connect(("127.0.0.1", *port)).is_err() {
                assert!(Instant::now() < deadline, "node {port} did not start");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for port in &ports {
            create.arg(format!("127.0.0.1:{port}"));
        }
        let made = create
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli is installed");
        assert!(made.success(), "redis-cli --cluster create");
        let cluster = Cluster { nodes, ports, dir };
        // Every node must agree the cluster is up before keys route.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !cluster.ports.iter().all(|port| {
            let out = Command::new("redis-cli")
                .args(["-p", &port.to_string(), "cluster", "info"])
                .output()
                .expect("redis-cli");
            String::from_utf8_lossy(&out.stdout).contains("cluster_state:ok")
        }) {
            assert!(Instant::now() < deadline, "the cluster did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        cluster
    }

    fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.kill().ok();
            node.wait().ok();
        }
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_limits_work_across_the_slots_of_a_cluster() {
    let cluster = Cluster::start();
    let urls = cluster.urls();
    let nodes: Vec<&str> = urls.iter().map(String::as_str).collect();
    let limiter =
        RedisRateLimiter::<String>::cluster(&nodes, config("cluster", Quota::per_hour(3).burst(3)))
            .unwrap();
    assert!(limiter.ready(Duration::from_secs(5)).await);
    // Forty keys land on every master's slots; each admits exactly its burst.
    for user in 0..40 {
        let key = format!("user-{user}");
        for _ in 0..3 {
            assert_eq!(
                limiter.check_n(&key, 1).await.unwrap().source,
                Source::Redis
            );
        }
        assert!(
            limiter.check_n(&key, 1).await.is_err(),
            "{key}'s fourth call"
        );
    }
    let s = limiter.snapshot();
    assert_eq!((s.admitted, s.rejected, s.fallback_checks), (120, 40, 0));
    // Each master loaded the script on its first check.
    assert_eq!(s.script_reloads, 3);
    // The keys really are spread: every master holds some.
    for port in &cluster.ports {
        let out = Command::new("redis-cli")
            .args(["-p", &port.to_string(), "dbsize"])
            .output()
            .unwrap();
        let keys: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        assert!(keys > 0, "node {port} holds no key");
    }
}
