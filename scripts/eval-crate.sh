#!/usr/bin/env bash
# Evaluates isg on a real tree outside the development set, then reports how far its lines can be
# trusted (scripts/trust-report.py): the files with a module doc are written without it, summarized,
# and each file's line is scored against the doc's first sentence.
# usage: scripts/eval-crate.sh SRC_DIR WORK_DIR [isg eval flags...]
#   e.g. scripts/eval-crate.sh ~/.cargo/registry/src/*/rayon-1.12.0 /tmp/eval-rayon
# Env: ISG (the isg binary; default target/release/isg).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { sed -n 2,7p "$0" >&2; exit 2; }
src=$1 work=$2
shift 2
isg=${ISG:-$here/../target/release/isg}
[ -x "$isg" ] || { echo "no isg binary at $isg: cargo build --release first, or set ISG" >&2; exit 1; }
dev=${ISG_EVAL_DEV:-$here/../../shared/eval-dev}
py=~/.cache/isg-eval/venv/bin/python
[ -x "$py" ] || bash "$dev/score.sh" /dev/null >/dev/null
mkdir -p "$work"
"$isg" eval "$src" --out "$work" --json "$work/report.json" "$@"
"$py" - "$work/report.json" "$work/references.jsonl" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as out:
    for f in r["files"]:
        s = f["summary"]
        out.write(json.dumps({"path": s["path"], "reference": s["reference"]}) + "\n")
EOF
ISG_EVAL_DEV="$dev" "$py" "$here/trust-report.py" "$work/run" "$work/references.jsonl"
