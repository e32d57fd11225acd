#!/usr/bin/env bash
# The embedding API against `sluice run`, per record, on the same records and connector,
# counted in instructions (valgrind's callgrind: repeatable on a shared machine, where
# seconds are not). Both use native code (`sluice run --engine jit`; the `embed` example's
# `Engine::Auto` compiles it after its first 1000 records).
# Usage: benches/api_vs_run.sh [RECORDS]   (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
data=target/bench-data
mkdir -p "$data"
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
cargo build --release --quiet --bin sluice --example embed
input=$data/records-$n.ndjson
[ -s "$input" ] || python3 benches/gen_records.py "$n" > "$input"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {
  valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$@" 2>&1 >/dev/null \
    | awk '/Collected/ {print $4}'
}
run=$(count target/release/sluice run benches/bench_connector.toml --input "$input" \
  --output "$out/run.ndjson" --dead-letter "$out/dead.ndjson" --store "$out/s.db" \
  --engine jit --now 2024-05-01T12:00:00Z)
api=$(count target/release/examples/embed benches/bench_connector.toml < "$input")
echo "records:            $n"
echo "sluice run (jit):   $((run / n)) instructions per record"
echo "API (embed, auto):  $((api / n)) instructions per record"
echo "API / run:          $(echo "scale=2; $api / $run" | bc -l)"
