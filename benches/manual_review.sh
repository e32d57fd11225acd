#!/usr/bin/env bash
# manual_review at scale: N records are stored, then N changed versions of them arrive, so
# every one is a conflict queued for review. Times the second run for N = 10k, 20k, 40k:
# with the pending-review index the time per conflict stays flat (linear total time).
# Usage: benches/manual_review.sh [N...]   (default 10000 20000 40000)
set -euo pipefail
cd "$(dirname "$0")/.."
# SLUICE=path/to/another/sluice compares a different build on the same records.
if [ -z "${SLUICE:-}" ]; then
  cargo build --release --quiet --bin sluice
fi
sluice=${SLUICE:-$PWD/target/release/sluice}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 20000 40000)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/review.toml" <<'TOML'
name = "review-bench"
[inbound]
type = "ndjson"
[outbound]
type = "store"
object = "item"
primary_key = "id"
[sync]
conflict = "manual_review"
[[mappings]]
target = "id"
field = "id"
[[mappings]]
target = "price"
field = "price"
TOML
printf '%8s %12s %16s\n' conflicts seconds "µs per conflict"
for n in "${sizes[@]}"; do
  rm -f "$work"/*.db* "$work"/*.ndjson
  python3 -c "
import sys
n = int(sys.argv[1])
with open(sys.argv[2], 'w') as a, open(sys.argv[3], 'w') as b:
    for i in range(n):
        a.write('{\"id\": %d, \"price\": %d}\n' % (i, i))
        b.write('{\"id\": %d, \"price\": %d}\n' % (i, i + 1))
" "$n" "$work/first.ndjson" "$work/second.ndjson"
  (cd "$work" && "$sluice" run review.toml --input first.ndjson >/dev/null 2>&1)
  t0=$(date +%s.%N)
  (cd "$work" && "$sluice" run review.toml --input second.ndjson 2>/dev/null)
  t1=$(date +%s.%N)
  queued=$(cd "$work" && "$sluice" review list | wc -l)
  [ "$queued" = "$n" ] || { echo "expected $n queued reviews, found $queued" >&2; exit 1; }
  t=$(echo "$t1 - $t0" | bc -l)
  printf '%8d %12.3f %16.1f\n' "$n" "$t" "$(echo "$t * 1000000 / $n" | bc -l)"
done
