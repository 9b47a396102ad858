//! Runs one benchmarked case N times, for instruction counting under
//! `valgrind --tool=callgrind` (see `benches/icount.sh`).
//!
//! Instruction counts do not move with machine load, so they back up the
//! criterion ratios on a busy machine: `icount.sh` runs each case twice with
//! different N and reports the difference per call, which cancels start-up.
//!
//! `cargo run --release -p steadfast-benches --bin icount -- CASE N`

use std::hint::black_box;
use std::time::Duration;

use steadfast::{Identity, Pipeline, Policy, Timeout};
use steadfast_benches::{op, runtime};

/// The cases, named `GROUP/ID` as in the criterion benches.
const CASES: &[&str] = &[
    "baseline/bare",
    "timeout_ready/steadfast",
    "timeout_ready/tokio",
    "compose_identity_5/steadfast",
    "compose_identity_5/bare",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(case), Some(n)) = (args.next(), args.next().and_then(|n| n.parse::<u64>().ok()))
    else {
        eprintln!("usage: icount CASE N\ncases: {}", CASES.join(" "));
        std::process::exit(2);
    };
    let rt = runtime();
    let limit = Duration::from_secs(1);
    let timeout = Timeout::new(limit).expect("a 1 s limit is valid");
    let pipeline = Pipeline::new(Identity)
        .then(Identity)
        .then(Identity)
        .then(Identity)
        .then(Identity);
    rt.block_on(async {
        match case.as_str() {
            "baseline/bare" | "compose_identity_5/bare" => {
                for _ in 0..n {
                    black_box(op().await).ok();
                }
            }
            "timeout_ready/steadfast" => {
                for _ in 0..n {
                    black_box(timeout.call(op).await).ok();
                }
            }
            "timeout_ready/tokio" => {
                for _ in 0..n {
                    black_box(tokio::time::timeout(black_box(limit), op()).await).ok();
                }
            }
            "compose_identity_5/steadfast" => {
                for _ in 0..n {
                    black_box(pipeline.call(op).await).ok();
                }
            }
            other => {
                eprintln!("unknown case {other}; cases: {}", CASES.join(" "));
                std::process::exit(2);
            }
        }
    });
}
