#!/usr/bin/env python3
"""The JIT against the interpreter on every mapping of benches/corpus/mappings.toml, each
timed alone with `sluice bench --json` on the same records, side by side in one run.
Prints ns per record per engine, the speed-up, the geometric mean and the worst case.

Usage: benches/corpus.py [RECORDS]   (default 20000; builds the release binary first)
"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "sluice"], cwd=root, check=True)
sluice = os.path.join(root, "target", "release", "sluice")
data = os.path.join(root, "target", "bench-data")
os.makedirs(data, exist_ok=True)
records = os.path.join(data, f"records-{n}.ndjson")
if not os.path.exists(records):
    with open(records, "w") as out:
        subprocess.run([sys.executable, os.path.join(root, "benches", "gen_records.py"), str(n)], stdout=out, check=True)

text = open(os.path.join(root, "benches", "corpus", "mappings.toml")).read()
head, rest = text.split("[[mappings]]", 1)
blocks = ["[[mappings]]" + b for b in ("[[mappings]]" + rest).split("[[mappings]]")[1:]]
schema = "[objects." + blocks[-1].split("[objects.", 1)[1]
blocks[-1] = blocks[-1].split("[objects.", 1)[0]

rows = []
with tempfile.TemporaryDirectory() as tmp:
    for block in blocks:
        target = re.search(r'target = "([^"]+)"', block).group(1)
        path = os.path.join(tmp, "c.toml")
        with open(path, "w") as f:
            f.write(head + block.replace(target, "out") + "\n" + schema)
        out = subprocess.run([sluice, "bench", path, "--input", records, "--json"], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{target}: {out.stderr.strip()}", file=sys.stderr)
            continue
        engines = json.loads(out.stdout)["engines"]
        rows.append((target, engines["interp"]["ns_per_record"], engines["jit"]["ns_per_record"], engines["jit"]["compile_ms"]))

print(f"{'mapping':28} {'interp ns':>10} {'jit ns':>10} {'speed-up':>9} {'compile ms':>11}")
for target, i, j, c in rows:
    print(f"{target:28} {i:10.1f} {j:10.1f} {i / j:8.2f}x {c:11.3f}")
ratios = [i / j for _, i, j, _ in rows]
geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
worst = min(rows, key=lambda r: r[1] / r[2])
print(f"\n{len(rows)} mappings: geometric mean speed-up {geo:.2f}x, worst {worst[0]} {worst[1] / worst[2]:.2f}x")
for group in sorted({t.split('/')[0] for t, *_ in rows}):
    rs = [i / j for t, i, j, _ in rows if t.startswith(group + "/")]
    print(f"  {group:8} geometric mean {math.exp(sum(map(math.log, rs)) / len(rs)):.2f}x over {len(rs)}")
