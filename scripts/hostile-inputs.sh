#!/usr/bin/env bash
# Hostile inputs at full size through the real `isg` binary, each in its own tree and process,
# with wall time and peak memory (from /usr/bin/time) printed per input:
#   a 10 MB single-line minified JavaScript file, 5,000 levels of nested braces (Rust, JS, C),
#   a 1,000,000-line file, a folder of 100,000 small files, NUL bytes, CRLF and Latin-1 files,
#   a symlink loop, a FIFO and a device file in the tree.
# The model is the stand-in (ISG_TEST_BACKEND=echo) unless ISG_HOSTILE_MODEL=real: the point is
# the walk, the chunker and the prompt fitting, not the summaries.
#
# Usage: scripts/hostile-inputs.sh [WORK_DIR]   (default: a temporary folder, removed after)
set -euo pipefail
cd "$(dirname "$0")/.."
nice -n 10 cargo build --release --quiet
ISG="$PWD/target/release/isg"
WORK="${1:-$(mktemp -d)}"
[ -n "${1:-}" ] || trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK"
if [ "${ISG_HOSTILE_MODEL:-echo}" = echo ]; then export ISG_TEST_BACKEND=echo; fi

make_input() {
  local name=$1 dir="$WORK/$1/tree"
  rm -rf "$WORK/$name"; mkdir -p "$dir"
  case $name in
    minified-10mb)
      python3 - "$dir/bundle.min.js" <<'PY'
import sys
parts = []
i = 0
size = 0
while size < 10 * 1024 * 1024:
    s = f"function f{i}(a,b){{var c=a+b*{i};if(c>{i}){{return c-{i}}}return [a,b,c].map(function(x){{return x*{i}}})}};"
    parts.append(s); size += len(s); i += 1
open(sys.argv[1], "w").write("".join(parts))
PY
      ;;
    nested-5000)
      python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
n = 5000
open(f"{d}/deep.rs", "w").write("fn deep() {\n" + "{\n" * n + "let x = 1;\n" + "}\n" * n + "}\n")
open(f"{d}/deep.js", "w").write("function deep() {\n" + "{\n" * n + "let x = 1;\n" + "}\n" * n + "}\n")
open(f"{d}/deep.c", "w").write("int deep(void) {\n" + "{\n" * n + "int x = 1;\n" + "}\n" * n + "return 0; }\n")
open(f"{d}/deep_expr.py", "w").write("x = " + "(" * n + "1" + ")" * n + "\n")
PY
      ;;
    million-lines)
      python3 - "$dir/long.py" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(1_000_000):
        f.write(f"x{i} = {i}\n" if i % 50 else f"def f{i}():\n")
PY
      ;;
    files-100k)
      python3 - "$dir" <<'PY'
import os, sys
d = sys.argv[1]
for i in range(100_000):
    sub = f"{d}/m{i // 1000:03d}"
    if i % 1000 == 0:
        os.makedirs(sub)
    open(f"{sub}/f{i}.py", "w").write(f'"""Module {i}."""\n\ndef f{i}(x):\n    return x + {i}\n')
PY
      ;;
    odd-bytes)
      printf 'fn a() {}\n\0\0binary\n' > "$dir/nul.rs"
      printf 'fn crlf() -> u32 {\r\n    1\r\n}\r\n' > "$dir/crlf.rs"
      printf '// caf\xe9 cr\xe8me\nfn latin1() {}\n' > "$dir/latin1.rs"
      mkdir -p "$dir/loop"; ln -s .. "$dir/loop/up"; ln -s self "$dir/self"
      mkfifo "$dir/pipe.rs"
      mknod "$dir/null.rs" c 1 3 2>/dev/null || ln -s /dev/null "$dir/null.rs"
      printf 'fn ok() -> u32 { 2 }\n' > "$dir/ok.rs"
      ;;
  esac
}

printf '%-16s %8s %10s %8s %8s %8s  %s\n' input wall_s peak_MB chunks failed skipped "skip reasons"
for name in minified-10mb nested-5000 million-lines files-100k odd-bytes; do
  make_input "$name"
  out="$WORK/$name/out"
  set +e
  /usr/bin/time -f '%e %M' -o "$WORK/$name/time" \
    timeout 1800 "$ISG" summarize "$WORK/$name/tree" --out "$out" --quiet \
      --max-file-bytes 16000000 >"$WORK/$name/stdout" 2>"$WORK/$name/stderr"
  rc=$?
  set -e
  read -r wall kb < <(tail -1 "$WORK/$name/time")
  if [ -f "$out/run.json" ]; then
    python3 - "$out/run.json" "$name" "$wall" "$kb" "$rc" <<'PY'
import json, sys, collections
r = json.load(open(sys.argv[1]))
t = r["totals"]
reasons = collections.Counter(s["reason"] for s in r["skipped"])
print(f"{sys.argv[2]:<16} {float(sys.argv[3]):8.1f} {int(sys.argv[4])/1024:10.0f} {t['chunks']:8} {t['failed']:8} {len(r['skipped']):8}  {dict(reasons)} rc={sys.argv[5]}")
PY
  else
    printf '%-16s %8s %10.0f  rc=%s: %s\n' "$name" "$wall" "$(echo "$kb/1024" | bc)" "$rc" "$(tail -1 "$WORK/$name/stderr")"
  fi
done
