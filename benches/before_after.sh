#!/usr/bin/env bash
# This tree against an earlier commit, per record, on the same records and connectors,
# counted in instructions (valgrind's callgrind: repeatable on a shared machine, where
# seconds are not): `sluice run` with the interpreter and with native code (NDJSON out),
# a store-bound run into SQLite, and the embedding API (`examples/embed`); then `sluice
# bench` on the bench, numeric and corpus connectors, timed, both builds alternately.
# Usage: benches/before_after.sh REV [RECORDS]   (default 20000 records)
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: benches/before_after.sh REV [RECORDS]}
n=${2:-20000}
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
data=target/bench-data
mkdir -p "$data"
input=$data/records-$n.ndjson
[ -s "$input" ] || python3 benches/gen_records.py "$n" > "$input"

before=target/before-$rev
if [ ! -d "$before" ]; then
  git worktree add --detach "$before" "$rev" >/dev/null
fi
(cd "$before" && CARGO_TARGET_DIR=../before-target cargo build --release --quiet --bin sluice --example embed)
cargo build --release --quiet --bin sluice --example embed

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# the same connector, store-bound
awk '/^\[outbound\]/ {print; print "type = \"store\"\nobject = \"item\"\nprimary_key = \"id\""; skip = 1; next}
     skip && /^type = / {skip = 0; next} {print}' benches/bench_connector.toml > "$out/store.toml"
grep -q 'primary_key = "id"' "$out/store.toml"
count() {
  rm -f "$out"/*.db*
  valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$@" 2>&1 >/dev/null \
    | awk '/Collected/ {print $4}'
}
measure() { # BIN EMBED
  local bin=$1 embed=$2
  local common=(--dead-letter "$out/dead.ndjson" --now 2024-05-01T12:00:00Z)
  echo "$(count "$bin" run benches/bench_connector.toml --input "$input" --output "$out/o.ndjson" --store "$out/s.db" --engine interp "${common[@]}")" \
    "$(count "$bin" run benches/bench_connector.toml --input "$input" --output "$out/o.ndjson" --store "$out/s.db" --engine jit "${common[@]}")" \
    "$(count "$bin" run "$out/store.toml" --input "$input" --store "$out/s.db" --engine jit "${common[@]}")" \
    "$(count "$embed" benches/bench_connector.toml < "$input")"
}
read -r b_interp b_jit b_store b_api < <(measure "target/before-target/release/sluice" "target/before-target/release/examples/embed")
read -r a_interp a_jit a_store a_api < <(measure target/release/sluice target/release/examples/embed)
row() { printf "%-28s %10d %10d %8s\n" "$1" "$(($2 / n))" "$(($3 / n))" "$(echo "scale=3; $3 / $2" | bc -l)"; }
echo "records: $n   instructions per record ($rev → this tree)"
printf "%-28s %10s %10s %8s\n" "" "before" "after" "ratio"
row "sluice run --engine interp" "$b_interp" "$a_interp"
row "sluice run --engine jit" "$b_jit" "$a_jit"
row "store-bound run (SQLite)" "$b_store" "$a_store"
row "API (embed, Engine::Auto)" "$b_api" "$a_api"

# `sluice bench` (time, not instructions: the earlier build may not count them) on the bench,
# numeric and corpus connectors, the two builds alternately on one core, best of 3 runs of
# 5 passes each: nanoseconds per record for each engine's transform.
echo
echo "sluice bench, ns per record (taskset -c 0, best of 3 alternate runs):"
printf "%-22s %-8s %10s %10s %8s\n" "connector" "engine" "before" "after" "ratio"
bench_ns() { # LABEL BIN CONNECTOR: "LABEL interp-ns jit-ns"
  taskset -c 0 "$2" bench "$3" --input "$input" --json --passes 5 2>/dev/null \
    | python3 -c 'import json,sys; e=json.load(sys.stdin)["engines"]; print(sys.argv[1], e["interp"]["ns_per_record"], e["jit"]["ns_per_record"])' "$1"
}
for connector in benches/bench_connector.toml benches/numeric_connector.toml benches/corpus/mappings.toml; do
  for _ in 1 2 3; do
    bench_ns before target/before-target/release/sluice "$connector"
    bench_ns after target/release/sluice "$connector"
  done | python3 -c '
import sys
best = {}
for line in sys.stdin:
    label, interp, jit = line.split()
    for engine, ns in (("interp", float(interp)), ("jit", float(jit))):
        best[label, engine] = min(best.get((label, engine), ns), ns)
for engine in ("interp", "jit"):
    b, a = best["before", engine], best["after", engine]
    print(f"{sys.argv[1]:<22} {engine:<8} {b:>10.1f} {a:>10.1f} {a / b:>8.3f}")
' "$(basename "$connector" .toml)"
done
