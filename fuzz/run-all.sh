#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), one after another, starting from
# the committed seeds; findings land in fuzz/artifacts/<target>/.
set -uo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
for target in ${TARGETS:-formula type_soundness connector record jit_vs_interp}; do
  mkdir -p "corpus/$target"
  echo "== $target ($seconds s)"
  cargo fuzz run -s none "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=4096 2>&1 | tail -n 12
done
