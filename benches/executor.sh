#!/usr/bin/env bash
# Executor throughput, side by side in one run on the same records:
#   sluice run (10-mapping connector, NDJSON out)  vs  jq doing the same mapping
#   vs  the bare parse-and-write floor (serde, same fields parsed and written, no formulas).
# Targets (issue 5): sluice >= 25x jq, sluice >= 60% of the floor's throughput;
# memory flat: peak RSS for 200k vs 2M records.
# Usage: benches/executor.sh [RECORDS]   (default 200000; the RSS check also uses 10x that)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
big=$((n * 10))
data=target/bench-data
mkdir -p "$data"
command -v jq >/dev/null || { echo "jq is needed: apt-get install jq" >&2; exit 1; }
cargo build --release --quiet --bin sluice --example parse_write_floor
sluice=target/release/sluice
floor=target/release/examples/parse_write_floor
input=$data/records-$n.ndjson
[ -s "$input" ] || python3 benches/gen_records.py "$n" > "$input"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# best of 3 wall-clock seconds
best() {
  local best_t=""
  for _ in 1 2 3; do
    local t0 t1 t
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    t=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best_t" ] || [ "$(echo "$t < $best_t" | bc -l)" = 1 ]; then best_t=$t; fi
  done
  echo "$best_t"
}

t_floor=$(best "$floor" "$input" "$out/floor.ndjson")
t_sluice=$(best "$sluice" run benches/bench_connector.toml --input "$input" --output "$out/sluice.ndjson" --dead-letter "$out/dead.ndjson" --store "$out/s.db")
t_jq=$(best sh -c "jq -c -f benches/bench.jq '$input' > '$out/jq.ndjson'")

lines_s=$(wc -l < "$out/sluice.ndjson")
lines_j=$(wc -l < "$out/jq.ndjson")
[ "$lines_s" = "$lines_j" ] || { echo "sluice wrote $lines_s records, jq $lines_j" >&2; exit 1; }

vs_jq=$(echo "$t_jq / $t_sluice" | bc -l)
vs_floor=$(echo "100 * $t_floor / $t_sluice" | bc -l)
printf 'records            %d (%d mapped)\n' "$n" "$lines_s"
printf 'floor  (serde)     %.3f s  %8.0f records/s\n' "$t_floor" "$(echo "$n / $t_floor" | bc -l)"
printf 'sluice run         %.3f s  %8.0f records/s\n' "$t_sluice" "$(echo "$n / $t_sluice" | bc -l)"
printf 'jq                 %.3f s  %8.0f records/s\n' "$t_jq" "$(echo "$n / $t_jq" | bc -l)"
printf 'sluice vs jq       %.1fx faster   (target >= 25x)  %s\n' "$vs_jq" "$( [ "$(echo "$vs_jq >= 25" | bc -l)" = 1 ] && echo PASS || echo FAIL)"
printf 'sluice vs floor    %.0f%% of its throughput (target >= 60%%)  %s\n' "$vs_floor" "$( [ "$(echo "$vs_floor >= 60" | bc -l)" = 1 ] && echo PASS || echo FAIL)"

if [ "${SKIP_RSS:-}" = "" ]; then
  big_input=$data/records-$big.ndjson
  [ -s "$big_input" ] || python3 benches/gen_records.py "$big" > "$big_input"
  rss() { /usr/bin/time -f '%M' "$sluice" run benches/bench_connector.toml --input "$1" --output /dev/null --dead-letter "$out/dead.ndjson" --store "$out/s.db" 2>&1 >/dev/null | tail -1; }
  r_small=$(rss "$input")
  r_big=$(rss "$big_input")
  printf 'peak RSS           %d KiB at %d records, %d KiB at %d records\n' "$r_small" "$n" "$r_big" "$big"
fi
