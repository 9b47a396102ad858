//! The scenario scorecard: the same scripted outages replayed through six
//! pipelines on tokio's paused clock, and what the clients and the
//! dependency saw.
//!
//! ```text
//! cargo run --release -p steadfast-chaos --example scorecard [-- --scale 0.2] [--seed 1] [--write-docs docs/reliability.md]
//! ```
//!
//! Prints the table as markdown; `--write-docs FILE` also replaces the
//! table between the `<!-- scorecard -->` markers in FILE.

mod pipelines;

use std::time::Instant;

use steadfast_chaos::sim::{Report, markdown};

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut scale, mut seed, mut docs) = (1.0_f64, 1_u64, None::<String>);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--scale" => scale = args.next().and_then(|v| v.parse().ok()).unwrap_or(scale),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(seed),
            "--write-docs" => docs = args.next(),
            other => {
                eprintln!("unknown argument {other:?}; see the example's docs");
                std::process::exit(2);
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let scenario = pipelines::scenario(scale, seed);
    let started = Instant::now();
    let reports: Vec<(&str, Report)> = pipelines::PIPELINES
        .iter()
        .map(|name| (*name, runtime.block_on(pipelines::run(name, &scenario))))
        .collect();
    let runs: Vec<(&str, &Report)> = reports.iter().map(|(n, r)| (*n, r)).collect();
    let table = markdown(&runs);
    let d = &scenario.dependency;
    println!(
        "Dependency: {} servers × {:?} ({:.0} requests/s at most), queue {}; clients: {:?}, timeout {:?}, attempts time out after {:?}; seed {seed}.\n",
        d.capacity,
        d.service_time,
        d.throughput(),
        d.queue,
        scenario.arrivals,
        scenario.client_timeout,
        pipelines::ATTEMPT_TIMEOUT,
    );
    println!("{table}");
    println!(
        "({:.0?} of virtual time per pipeline, replayed in {:.1?})",
        scenario.duration(),
        started.elapsed()
    );
    if let Some(path) = docs {
        let text = std::fs::read_to_string(&path).expect("the docs file reads");
        let (start, end) = ("<!-- scorecard -->\n", "<!-- /scorecard -->");
        let (Some(a), Some(b)) = (text.find(start), text.find(end)) else {
            eprintln!("{path} has no {start:?} … {end:?} markers");
            std::process::exit(1);
        };
        let new = format!("{}{start}{table}{}", &text[..a], &text[b..]);
        std::fs::write(&path, new).expect("the docs file writes");
        println!("wrote the table into {path}");
    }
}
