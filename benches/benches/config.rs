//! What configuration costs an operator: reading a 20-pipeline TOML file,
//! and reloading it into running policies.
//!
//! `cargo bench -p steadfast-benches --bench config -- --warm-up-time 1 --measurement-time 2`
//!
//! Each pipeline has a timeout, a retry, a breaker, a keyed rate limit and
//! a bulkhead (100 policies in all).
//!
//! - `config_parse_20`: `Config::from_toml`, every section resolved, typed
//!   and validated.
//! - `config_reload_20`: `Configured::reload` alternating between two
//!   configs that differ in every policy's limits, so each reload
//!   reconfigures all 100 (breakers and bulkheads in place, limiters carried
//!   over, timeouts and retries rebuilt) and swaps the 20 pipelines.

use std::fmt::Write;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use steadfast::config::{Config, Configured};

fn file(scale: u32) -> String {
    let mut text = String::new();
    for i in 0..20 {
        writeln!(
            text,
            r#"[pipelines.p{i}]
timeout = {{ limit = "{}ms" }}
retry = {{ max_attempts = {} }}
breaker = {{ preset = "standard", consecutive_failures = {} }}
rate_limit = {{ keyed = true, quota = {{ limit = {}, period = "1m" }} }}
bulkhead = {{ max_concurrent = {} }}
"#,
            1000 * scale,
            2 + scale,
            4 + scale,
            100 * scale,
            10 * scale
        )
        .unwrap();
    }
    text
}

fn config(c: &mut Criterion) {
    let (a, b) = (file(1), file(2));
    c.benchmark_group("config_parse_20")
        .bench_function("steadfast", |bench| {
            bench.iter(|| black_box(Config::from_toml(&a).unwrap()));
        });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let (a, b) = (
        Config::from_toml(&a).unwrap(),
        Config::from_toml(&b).unwrap(),
    );
    let live = Configured::new(a.clone()).unwrap();
    let _pipelines: Vec<_> = (0..20)
        .map(|i| {
            live.pipeline::<u32, std::io::Error>(&format!("p{i}"))
                .unwrap()
        })
        .collect();
    let mut flip = false;
    c.benchmark_group("config_reload_20")
        .bench_function("steadfast", |bench| {
            bench.iter(|| {
                flip = !flip;
                let next = if flip { b.clone() } else { a.clone() };
                black_box(live.reload(next).unwrap())
            });
        });
}

criterion_group!(benches, config);
criterion_main!(benches);
