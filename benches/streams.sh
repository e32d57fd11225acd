#!/usr/bin/env bash
# A NATS JetStream stream as a source, side by side in one run with the file source on the
# same records and the same 10-mapping connector (benches/bench_connector.toml) into the
# store (a stream is read store-bound: its messages are acknowledged after each commit):
# records/s of `sluice run` reading an NDJSON file and reading the stream, and of publishing
# the records to the stream (each acknowledged by the broker). Needs NATS with JetStream on
# 127.0.0.1:4222 as on every machine here; the stream it makes is named for this process.
# Usage: benches/streams.sh [RECORDS]   (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
data=target/bench-data
mkdir -p "$data"
cargo build --release --quiet --bin sluice
sluice=$PWD/target/release/sluice
input=$PWD/$data/records-$n.ndjson
[ -s "$input" ] || python3 benches/gen_records.py "$n" > "$input"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
stream="SLUICE_BENCH_$$"
subject="bench$$.records"

awk -v stream="$stream" -v subject="$subject" '
  /^\[outbound\]/ {print; print "type = \"Bench stream\"\n[outbound.stream]\nurl = \"nats://127.0.0.1:4222\"\nstream = \"" stream "\"\nsubject = \"" subject "\""; skip = 1; next}
  skip && /^type = / {skip = 0; next} {print}' benches/bench_connector.toml > "$out/publish.toml"
# the stream's records are the mapped ones: read them back by their own fields
cat > "$out/read.toml" <<EOF
name = "bench-reader"
[inbound]
type = "Bench stream"
[inbound.stream]
url = "nats://127.0.0.1:4222"
stream = "$stream"
subject = "$subject"
consumer = "reader$$"
batch = 1000
[outbound]
type = "store"
object = "item"
primary_key = "id"
[[mappings]]
target = "id"
field = "id"
[[mappings]]
target = "full_name"
formula = "upper(data('full_name'))"
[[mappings]]
target = "gross"
formula = "round(data('gross') * 1.1, 2)"
EOF
awk '/^\[outbound\]/ {print; print "type = \"store\"\nobject = \"item\"\nprimary_key = \"id\""; skip = 1; next}
     skip && /^type = / {skip = 0; next} {print}' benches/bench_connector.toml > "$out/file.toml"

seconds() { # wall seconds of one run
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>"$out/err" || { cat "$out/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
common=(--dead-letter "$out/dead.ndjson" --now 2024-05-01T12:00:00Z --batch 5000)
file_s=$(seconds "$sluice" run "$out/file.toml" --input "$input" --store "$out/file.db" "${common[@]}")
pub_s=$(seconds "$sluice" run "$out/publish.toml" --input "$input" --store "$out/pub.db" "${common[@]}")
published=$(grep -o 'written [0-9]*' "$out/err" | awk '{print $2}')
read_s=$(seconds "$sluice" run "$out/read.toml" --store "$out/read.db" "${common[@]}")
rate() { echo "scale=0; $2 / $1" | bc -l; }
echo "records: $n read, $published published (the connector's condition keeps the active ones), into the store"
printf "%-30s %10s\n" "" "records/s"
printf "%-30s %10s\n" "NDJSON file → store" "$(rate "$file_s" "$n")"
printf "%-30s %10s\n" "file → stream (acknowledged)" "$(rate "$pub_s" "$n")"
printf "%-30s %10s\n" "stream → store" "$(rate "$read_s" "$published")"
python3 - "$stream" <<'EOF' || true
import json, socket, sys
# delete the stream: the JetStream API over the plain protocol
s = socket.create_connection(("127.0.0.1", 4222))
s.recv(4096)
s.sendall(b'CONNECT {"verbose":false}\r\nPUB $JS.API.STREAM.DELETE.' + sys.argv[1].encode() + b' 0\r\n\r\nPING\r\n')
s.recv(4096)
EOF
