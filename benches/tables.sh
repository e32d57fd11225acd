#!/usr/bin/env bash
# SQL tables as a source, side by side in one run with the file source on the same records
# and the same 10-mapping connector (benches/bench_connector.toml), NDJSON out: records/s of
# `sluice run` reading an NDJSON file, a PostgreSQL table and a MariaDB table (best of 3
# wall-clock runs each). Needs PostgreSQL (127.0.0.1:5432, trust) and MariaDB
# (127.0.0.1:3306, root) as on every machine here; makes and drops its own databases.
# Usage: benches/tables.sh [RECORDS]   (default 100000)
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

columns_pg="id text PRIMARY KEY, first text, last text, email text, price numeric, qty integer,
  tax_rate numeric, active boolean, status text, country text, address jsonb, phone text,
  created_at timestamptz, updated_at timestamptz, tags jsonb, notes text, credit_limit numeric,
  currency text, segment text, owner text"
pg="postgres://postgres@127.0.0.1:5432/sluice_bench"
psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS sluice_bench" -c "CREATE DATABASE sluice_bench"
psql -q -h 127.0.0.1 -U postgres -d sluice_bench \
  -c "CREATE TABLE stage (doc jsonb); CREATE TABLE records ($columns_pg)" \
  -c "\\copy stage(doc) FROM '$input' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')" \
  -c "INSERT INTO records SELECT (jsonb_populate_record(NULL::records, doc)).* FROM stage; DROP TABLE stage; ANALYZE records"

maria="mysql://root@127.0.0.1:3306/sluice_bench"
mariadb -uroot -h127.0.0.1 -P3306 -e "DROP DATABASE IF EXISTS sluice_bench; CREATE DATABASE sluice_bench"
mariadb -uroot -h127.0.0.1 -P3306 sluice_bench -e "CREATE TABLE records (id VARCHAR(20) PRIMARY KEY,
  first TEXT, last TEXT, email TEXT, price DECIMAL(12,2), qty INT, tax_rate DECIMAL(6,2), active BOOLEAN,
  status TEXT, country TEXT, address JSON, phone TEXT, created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL,
  tags JSON, notes TEXT, credit_limit DECIMAL(14,2), currency TEXT, segment TEXT, owner TEXT)"
python3 - "$input" > "$out/records.tsv" <<'EOF'
import json, sys
cols = ["id", "first", "last", "email", "price", "qty", "tax_rate", "active", "status", "country",
        "address", "phone", "created_at", "updated_at", "tags", "notes", "credit_limit", "currency",
        "segment", "owner"]
def cell(v):
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    if isinstance(v, str) and v.endswith("Z") and "T" in v:
        return v.replace("T", " ").rstrip("Z")
    return str(v)
for line in open(sys.argv[1]):
    r = json.loads(line)
    print("\t".join(cell(r.get(c)).replace("\t", " ") for c in cols))
EOF
mariadb --local-infile=1 -uroot -h127.0.0.1 -P3306 sluice_bench \
  -e "SET time_zone = '+00:00'; LOAD DATA LOCAL INFILE '$out/records.tsv' INTO TABLE records; ANALYZE TABLE records" >/dev/null

with_table() { # URL
  awk -v url="$1" '{print} /^object = "erp_record"$/ {print "[inbound.table]\nurl = \"" url "\"\nname = \"records\"\nkey = \"id\"\nbatch = 5000"}' \
    benches/bench_connector.toml
}
with_table "$pg" > "$out/pg.toml"
with_table "$maria" > "$out/maria.toml"
grep -q 'inbound.table' "$out/pg.toml"

best() { # seconds of the fastest of 3 runs
  local best_t=""
  for _ in 1 2 3; do
    local t0 t1 t
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>"$out/err" || { cat "$out/err" >&2; exit 1; }
    t1=$(date +%s.%N)
    t=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best_t" ] || [ "$(echo "$t < $best_t" | bc -l)" = 1 ]; then best_t=$t; fi
  done
  echo "$best_t"
}
common=(--output "$out/o.ndjson" --store "$out/s.db" --dead-letter "$out/dead.ndjson" --now 2024-05-01T12:00:00Z)
file_s=$(best "$sluice" run benches/bench_connector.toml --input "$input" "${common[@]}")
pg_s=$(best "$sluice" run "$out/pg.toml" "${common[@]}")
maria_s=$(best "$sluice" run "$out/maria.toml" "${common[@]}")
rate() { echo "scale=0; $n / $1" | bc -l; }
echo "records: $n (best of 3, records/s, NDJSON out)"
printf "%-22s %10s %8s\n" "source" "records/s" "vs file"
printf "%-22s %10s %8s\n" "NDJSON file" "$(rate "$file_s")" "1.00"
printf "%-22s %10s %8s\n" "PostgreSQL table" "$(rate "$pg_s")" "$(echo "scale=2; $file_s / $pg_s" | bc -l)"
printf "%-22s %10s %8s\n" "MariaDB table" "$(rate "$maria_s")" "$(echo "scale=2; $file_s / $maria_s" | bc -l)"
psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE sluice_bench"
mariadb -uroot -h127.0.0.1 -P3306 -e "DROP DATABASE sluice_bench"
