#!/usr/bin/env bash
# Sluice Studio's page load with 1 000 connectors (ten sets of 100) served by the release
# binary: from navigation to the list rendered, in headless Chromium (Playwright), and the
# time of GET /connectors itself. Needs /usr/bin/chromium and the Playwright Python package,
# as the page tests do. Usage: benches/studio_load.sh [CONNECTORS] [LOADS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
loads=${2:-7}
cargo build --release --quiet --bin sluice
sluice=$PWD/target/release/sluice
out=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$out"' EXIT
sets=10
for s in $(seq 1 $sets); do
  mkdir -p "$out/set$s"
  echo '{"id": 1, "name": "a"}' > "$out/set$s/records.ndjson"
  for i in $(seq 1 $((n / sets))); do
    printf 'name = "set%s-connector-%s"\n[inbound]\ntype = "ndjson"\npath = "records.ndjson"\n[outbound]\ntype = "store"\nobject = "item"\nprimary_key = "id"\n[sync]\nfrequency = "daily"\n[[mappings]]\ntarget = "id"\nfield = "id"\n[[mappings]]\ntarget = "name"\nformula = "upper(data('"'"'name'"'"'))"\n' "$s" "$i" > "$out/set$s/c$i.toml"
  done
done
dirs=()
for s in $(seq 1 $sets); do dirs+=("$out/set$s"); done
"$sluice" serve "${dirs[@]}" --store "$out/sluice.db" --listen 127.0.0.1:0 2> "$out/serve.log" &
server=$!
until grep -q "listening on" "$out/serve.log"; do sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$out/serve.log" | head -1)
until [ "$(curl -s "$url/connectors" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["connectors"]))')" = "$n" ]; do sleep 0.5; done
# every daily connector runs once at start: let those runs end before measuring
sleep 5
printf "GET /connectors: "
curl -s -o /dev/null -w '%{time_total}s, %{size_download} bytes\n' "$url/connectors"
python3 benches/studio_load.py "$url" "$n" "$loads"
