#!/usr/bin/env bash
# Instructions per record, counted with callgrind (valgrind is on every machine here; on
# these shared machines seconds are noise and instruction counts are not): `sluice run` on
# the 10-mapping bench connector (NDJSON in, NDJSON to /dev/null) with each engine, next to
# the parsing floor — sonic-rs parsing each line into a DOM (benches/floor, its own crate)
# — serde_json doing the same, and jq (and jaq, when installed) doing the same mapping.
# Each count is (instructions over N records − instructions over 1 record) / (N − 1): the
# per-record cost without start-up. Then the per-stage split of `sluice bench --json`
# (parse, transform, write, per record read; read is the run's rest), and the throughput per core, measured
# side by side in this run (one core each, best of 3): steady (per record, without
# start-up, as the instruction counts) and end to end over the N records.
# Usage: benches/instructions.sh [RECORDS]   (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
cargo build --release --quiet --bin sluice
(cd benches/floor && cargo build --release --quiet)
sluice=$PWD/target/release/sluice
floor=$PWD/benches/floor/target/release/sluice-floor
jaq=$(command -v jaq || true)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/gen_records.py "$n" > "$work/all.ndjson"
head -1 "$work/all.ndjson" > "$work/one.ndjson"
bytes=$(( $(wc -c < "$work/all.ndjson") / n ))

# The instructions a command executes (INPUT in it stands for the records file).
count() {
  local input=$1
  shift
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "${@//INPUT/$input}" > /dev/null 2> "$work/vg.log"
  grep -o 'refs: *[0-9,]*' "$work/vg.log" | tr -dc 0-9
}
per_record() {
  local all one
  all=$(count "$work/all.ndjson" "$@")
  one=$(count "$work/one.ndjson" "$@")
  echo $(( (all - one) / (n - 1) ))
}
run() { echo "$sluice" run benches/bench_connector.toml --input INPUT --output /dev/null --dead-letter "$work/dead.ndjson" --store "$work/s.db" --engine "$1"; }

echo "$n records of ~$bytes bytes, instructions per record (callgrind):"
sonic=$(per_record "$floor" sonic INPUT)
serde=$(per_record "$floor" serde INPUT)
interp=$(per_record $(run interp))
jit=$(per_record $(run jit))
jq_i=$(per_record jq -c -f benches/bench.jq INPUT)
row() { printf '  %-36s %8d   %5.2fx the floor\n' "$1" "$2" "$(echo "$2 / $sonic" | bc -l)"; }
row "sonic-rs into a DOM (the floor)" "$sonic"
row "serde_json into a Value" "$serde"
row "sluice run --engine interp" "$interp"
row "sluice run --engine jit" "$jit"
row "jq, the same mapping" "$jq_i"
if [ -n "$jaq" ]; then
  jaq_i=$(per_record "$jaq" -c -f benches/bench.jq INPUT)
  row "jaq, the same mapping" "$jaq_i"
fi

echo "per stage (sluice bench --json over the same records, instructions per record):"
"$sluice" bench benches/bench_connector.toml --input "$work/all.ndjson" --json --passes 1 --instructions-sample "$n" > "$work/bench.json"
python3 - "$work/bench.json" "$jit" "$interp" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
b = report["instructions_per_record"]
# the write stage is counted per mapped record; a record the condition filters is not written.
# The stages run apart over records held in memory, so the run's rest (reading lines, handing
# out chunks, collecting) is what is left within a few hundred instructions either way.
write = b["write"] * report["mapped"] / report["records"]
jit, interp = int(sys.argv[2]), int(sys.argv[3])
for name, run in (("jit", jit), ("interp", interp)):
    if b.get(name) is None:
        print(f"  {name}: not counted")
        continue
    stages = b["parse"] + b[name] + write
    print(f"  {name:<7} parse {b['parse']:>6.0f}  transform {b[name]:>6.0f}  write {write:>6.0f}  read and the rest {run - stages:>6.0f}")
PY

echo "throughput per core (taskset -c 0, best of 3, records/s):"
# best of 3 wall times, ns
best() {
  local b=
  for _ in 1 2 3; do
    local s e
    s=$(date +%s%N)
    taskset -c 0 "$@" > /dev/null 2>&1
    e=$(date +%s%N)
    local t=$(( e - s ))
    if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
  done
  echo "$b"
}
# one tool's end-to-end time over all records, and its time per record without start-up
# (sluice's is mostly compiling the connector: see docs/jit.md), as the instruction counts
# above are taken: (all − one) / (n − 1)
timed() {
  local cmd=$1 all one
  all=$(best ${cmd//INPUT/$work/all.ndjson})
  one=$(best ${cmd//INPUT/$work/one.ndjson})
  echo "$all $(( (all - one) / (n - 1) ))"
}
read -r s_all s_rec <<< "$(timed "$(run jit)")"
read -r q_all q_rec <<< "$(timed "jq -c -f benches/bench.jq INPUT")"
rate() { echo "1000000000 / $1" | bc -l; }
printf '  %-18s %10s %12s\n' "" "steady" "end to end"
printf '  %-18s %10.0f %12.0f\n' "sluice run (jit)" "$(rate "$s_rec")" "$(echo "$n / ($s_all / 1000000000)" | bc -l)"
ratio() { printf '%.1fx' "$(echo "$1 / $2" | bc -l)"; }
printf '  %-18s %10.0f %12.0f   sluice is %s jq steady, %s end to end\n' "jq" "$(rate "$q_rec")" "$(echo "$n / ($q_all / 1000000000)" | bc -l)" "$(ratio "$q_rec" "$s_rec")" "$(ratio "$q_all" "$s_all")"
if [ -n "$jaq" ]; then
  read -r a_all a_rec <<< "$(timed "$jaq -c -f benches/bench.jq INPUT")"
  printf '  %-18s %10.0f %12.0f   sluice is %s jaq steady, %s end to end\n' "jaq" "$(rate "$a_rec")" "$(echo "$n / ($a_all / 1000000000)" | bc -l)" "$(ratio "$a_rec" "$s_rec")" "$(ratio "$a_all" "$s_all")"
fi
