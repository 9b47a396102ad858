#!/usr/bin/env bash
# Regenerates docs/performance.md's tables: one short criterion run of every
# group, one allocs run, then perf_tables writes the tables between the
# document's <!-- perf:AREA --> markers. About 10 minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -j2 -p steadfast-benches --bench '*' -- --warm-up-time 1 --measurement-time 2 --noplot
target="${CARGO_TARGET_DIR:-target}"
cargo run -j2 --release -p steadfast-benches --bin allocs > "$target/allocs.txt"
cargo run -j2 --release -p steadfast-benches --bin perf_tables -- "$target/allocs.txt" docs/performance.md
