#!/usr/bin/env bash
# Instructions per call of each case, counted by callgrind: repeatable whatever
# else the machine is doing. Prints `GROUP/ID instructions_per_call=N`.
#
#   bash benches/icount.sh [CASE ...]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
cargo build -q --release -p steadfast-benches --bin icount
bin=target/release/icount
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  mapfile -t cases < <("$bin" 2>&1 | sed -n 's/^cases: //p' | tr ' ' '\n')
fi
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for case in "${cases[@]}"; do
  small=$(count "$case" 100000)
  large=$(count "$case" 200000)
  echo "$case instructions_per_call=$(( (large - small) / 100000 ))"
done
