#!/usr/bin/env bash
# The interpreter and the JIT against VRL (the `vrl` crate) on the same records, same
# mappings: benches/bench_connector.toml vs benches/peers/bench.vrl, and
# benches/numeric_connector.toml vs benches/peers/numeric.vrl. Transform time only, records
# in memory, ns per record. VRL builds in its own crate (benches/peers), never in the tests.
# Usage: benches/peers.sh [RECORDS]   (default 50000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50000}
data=target/bench-data
mkdir -p "$data"
input=$data/records-$n.ndjson
[ -s "$input" ] || python3 benches/gen_records.py "$n" > "$input"
cargo build --release --quiet --bin sluice
(cd benches/peers && cargo build --release --quiet)
for pair in "bench_connector bench" "numeric_connector numeric"; do
  set -- $pair
  s=$(target/release/sluice bench "benches/$1.toml" --input "$input" --json)
  v=$(benches/peers/target/release/sluice-peers "benches/peers/$2.vrl" "$input")
  python3 - "$1" "$s" "$v" <<'PY'
import json, sys
name, s, v = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
i, j, r, c = s["engines"]["interp"]["ns_per_record"], s["engines"]["jit"]["ns_per_record"], v["ns_per_record"], v["clone_ns_per_record"]
rc = max(r - c, 1.0)
verdict = "interpreter as fast as VRL" if i <= rc else "VRL faster than the interpreter"
print(f"{name:<18} interp {i:7.1f} ns  jit {j:7.1f} ns  vrl {r:7.1f} ns ({rc:7.1f} without cloning the event)  interp/vrl {i/rc:4.2f}  jit/vrl {j/rc:4.2f}  {verdict}")
PY
done
