#!/usr/bin/env bash
# Recall of `isg search` on an output folder against reference lines.
#
# usage: scripts/search-recall.sh OUT_DIR REFERENCES.jsonl [ISG]
#   REFERENCES.jsonl: {"path": FILE, "reference": LINE} a line (the author's doc line of FILE).
#   Each reference line is the query; the hit is the first result whose path is FILE.
# Prints recall@1, recall@5, MRR (rank within the top 10, 0 past it) and the query time after
# load that `isg search` reports (mean, median, max), then every miss at rank 1.
set -euo pipefail
out=${1:?usage: $0 OUT_DIR REFERENCES.jsonl [ISG]}
refs=${2:?usage: $0 OUT_DIR REFERENCES.jsonl [ISG]}
isg=${3:-isg}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
while IFS= read -r line; do
  query=$(printf '%s' "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["reference"])')
  "$isg" search "$query" --out "$out" -k 10 --json >"$tmp/$i.json" 2>"$tmp/$i.err" || {
    echo "isg search failed on query $i: $(tail -1 "$tmp/$i.err")" >&2; exit 1; }
  i=$((i + 1))
done <"$refs"
python3 - "$refs" "$tmp" <<'PY'
import json, re, statistics, sys
refs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r1 = r5 = mrr = 0.0
ms, misses = [], []
for i, ref in enumerate(refs):
    hits = [json.loads(l) for l in open(f"{sys.argv[2]}/{i}.json") if l.strip()]
    rank = next((j + 1 for j, h in enumerate(hits) if h["path"] == ref["path"]), None)
    r1 += rank == 1
    r5 += rank is not None and rank <= 5
    mrr += 1 / rank if rank else 0
    err = open(f"{sys.argv[2]}/{i}.err").read()
    m = re.search(r"in ([0-9.]+) ms \(load", err)
    if m:
        ms.append(float(m.group(1)))
    if rank != 1:
        misses.append((rank, ref["path"], ref["reference"], hits[0]["path"] if hits else "-"))
n = len(refs)
print(f"queries {n}  recall@1 {r1/n:.3f}  recall@5 {r5/n:.3f}  MRR {mrr/n:.3f}")
if ms:
    print(f"query ms after load: mean {statistics.mean(ms):.1f}  median {statistics.median(ms):.1f}  max {max(ms):.1f}")
for rank, path, ref, top in misses:
    print(f"  rank {rank or '>10'}: {path}  (top: {top})  query: {ref[:90]}")
PY
