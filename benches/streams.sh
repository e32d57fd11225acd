#!/usr/bin/env bash
# Message streams as sources and sinks, side by side in one run with the file source on the
# same records and the same 10-mapping connector (benches/bench_connector.toml) into the
# store: records/s of `sluice run` reading an NDJSON file; of publishing the records to a
# NATS JetStream stream, a RabbitMQ queue and an MQTT topic (each confirmed by the broker);
# and of reading them back into the store (acknowledged after each commit). MQTT's broker
# keeps only so many messages for a session that is not reading (Mosquitto: 1000), so its
# reader follows the topic (`--follow`) while the records are published, and its figure is
# publish → store end to end. Needs the brokers on 127.0.0.1 as on every machine here
# (NATS 4222, RabbitMQ 5672 as guest, Mosquitto 1883); what it makes is named for this
# process. Usage: benches/streams.sh [RECORDS]   (default 100000)
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

# the stream keys of each broker
nats_keys="url = \"nats://127.0.0.1:4222\"
stream = \"$stream\"
subject = \"bench$$.records\""
amqp_keys="url = \"amqp://guest:guest@127.0.0.1:5672/%2f\"
queue = \"sluice-bench-$$\""
mqtt_keys="url = \"mqtt://127.0.0.1:1883\"
topic = \"sluice/bench$$/records\"
consumer = \"bench$$\""

# publish_toml NAME KEYS: the bench connector publishing its mapped records to a stream
publish_toml() {
  awk -v keys="$2" '
    /^\[outbound\]/ {print; print "type = \"Bench stream\"\n[outbound.stream]\n" keys; skip = 1; next}
    skip && /^type = / {skip = 0; next} {print}' benches/bench_connector.toml > "$out/publish-$1.toml"
}
# read_toml NAME KEYS: the mapped records read back into the store by their own fields
read_toml() {
  printf '%s\n' "name = \"bench-reader-$1\"" "[inbound]" "type = \"Bench stream\"" \
    "[inbound.stream]" "$2" "batch = 1000" "[outbound]" "type = \"store\"" \
    "object = \"item\"" "primary_key = \"id\"" \
    "[[mappings]]" "target = \"id\"" "field = \"id\"" \
    "[[mappings]]" "target = \"full_name\"" "formula = \"upper(data('full_name'))\"" \
    "[[mappings]]" "target = \"gross\"" "formula = \"round(data('gross') * 1.1, 2)\"" \
    > "$out/read-$1.toml"
}
publish_toml nats "$nats_keys"
read_toml nats "$nats_keys
consumer = \"reader$$\""
publish_toml amqp "$amqp_keys"
read_toml amqp "$amqp_keys"
publish_toml mqtt "$mqtt_keys"
read_toml mqtt "$mqtt_keys"
awk '/^\[outbound\]/ {print; print "type = \"store\"\nobject = \"item\"\nprimary_key = \"id\""; skip = 1; next}
     skip && /^type = / {skip = 0; next} {print}' benches/bench_connector.toml > "$out/file.toml"

seconds() { # wall seconds of one run
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>"$out/err" || { cat "$out/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
stored() { # objects in a store, 0 before it exists
  python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from objects').fetchone()[0])" "$1" 2>/dev/null || echo 0
}
rate() { echo "scale=0; $2 / $1" | bc -l; }
common=(--dead-letter "$out/dead.ndjson" --now 2024-05-01T12:00:00Z --batch 5000)

file_s=$(seconds "$sluice" run "$out/file.toml" --input "$input" --store "$out/file.db" "${common[@]}")
pub_nats_s=$(seconds "$sluice" run "$out/publish-nats.toml" --input "$input" --store "$out/pub-nats.db" "${common[@]}")
published=$(grep -o 'written [0-9]*' "$out/err" | awk '{print $2}')
read_nats_s=$(seconds "$sluice" run "$out/read-nats.toml" --store "$out/read-nats.db" "${common[@]}")
pub_amqp_s=$(seconds "$sluice" run "$out/publish-amqp.toml" --input "$input" --store "$out/pub-amqp.db" "${common[@]}")
read_amqp_s=$(seconds "$sluice" run "$out/read-amqp.toml" --store "$out/read-amqp.db" "${common[@]}")

# MQTT: the reader follows the topic while the records are published
"$sluice" run "$out/read-mqtt.toml" --store "$out/read-mqtt.db" --follow "${common[@]}" 2>"$out/follow.err" &
follower=$!
until [ -e "$out/read-mqtt.db" ]; do sleep 0.05; done
sleep 0.5
t0=$(date +%s.%N)
pub_mqtt_s=$(seconds "$sluice" run "$out/publish-mqtt.toml" --input "$input" --store "$out/pub-mqtt.db" "${common[@]}")
# until every record is stored, or none more came for 3 s: a QoS 1 subscriber that falls
# behind has what exceeds the broker's queue for it dropped (Mosquitto's
# max_queued_messages, 1000) — counted below, not waited for
last=-1
t1=$(date +%s.%N)
while :; do
  now=$(stored "$out/read-mqtt.db")
  [ "$now" -ge "$published" ] && { t1=$(date +%s.%N); break; }
  if [ "$now" != "$last" ]; then last=$now; t1=$(date +%s.%N); fi
  (( $(echo "$(date +%s.%N) - $t1 > 3" | bc -l) )) && break
  sleep 0.1
  kill -0 "$follower" 2>/dev/null || { cat "$out/follow.err" >&2; exit 1; }
done
mqtt_stored=$(stored "$out/read-mqtt.db")
kill -TERM "$follower"
wait "$follower" || true
mqtt_s=$(echo "$t1 - $t0" | bc -l)

echo "records: $n read, $published published (the connector's condition keeps the active ones), into the store"
printf "%-44s %10s\n" "" "records/s"
printf "%-44s %10s\n" "NDJSON file → store" "$(rate "$file_s" "$n")"
printf "%-44s %10s\n" "file → NATS stream (acknowledged)" "$(rate "$pub_nats_s" "$n")"
printf "%-44s %10s\n" "NATS stream → store" "$(rate "$read_nats_s" "$published")"
printf "%-44s %10s\n" "file → RabbitMQ queue (confirmed)" "$(rate "$pub_amqp_s" "$n")"
printf "%-44s %10s\n" "RabbitMQ queue → store" "$(rate "$read_amqp_s" "$published")"
printf "%-44s %10s\n" "file → MQTT topic (PUBACKed)" "$(rate "$pub_mqtt_s" "$n")"
printf "%-44s %10s   (%s of %s stored; the broker dropped the rest)\n" "file → MQTT topic → store, followed" "$(rate "$mqtt_s" "$mqtt_stored")" "$mqtt_stored" "$published"

python3 - "$stream" <<'EOF' || true
import socket, sys
# delete the stream: the JetStream API over the plain protocol
s = socket.create_connection(("127.0.0.1", 4222))
s.recv(4096)
s.sendall(b'CONNECT {"verbose":false}\r\nPUB $JS.API.STREAM.DELETE.' + sys.argv[1].encode() + b' 0\r\n\r\nPING\r\n')
s.recv(4096)
EOF
rabbitmqctl delete_queue "sluice-bench-$$" >/dev/null 2>&1 || true
