#!/usr/bin/env bash
# Hostile inputs at full size through the real `isg` binary, each in its own tree and process,
# with wall time and peak memory (from /usr/bin/time) printed per input:
#   a 10 MB single-line minified JavaScript file, 5,000 levels of nested braces (Rust, JS, C),
#   a 1,000,000-line file, a folder of 100,000 small files, NUL bytes, CRLF and Latin-1 files,
#   a symlink loop, a FIFO and a device file in the tree, and files that vanish, turn into a
#   directory or a FIFO, or grow past the size limit between the listing and the read (the run
#   stops itself there with ISG_TEST_STOP_AT=listed while the script changes the tree).
# The model is the stand-in (ISG_TEST_BACKEND=echo): the point is the walk, the chunker and the
# prompt fitting, not the summaries. With ISG_HOSTILE_MODEL=real the minified file and the
# 1,000,000-line file go through the real model (ISG_HOSTILE_MODEL_NAME, default
# qwen2.5-coder-0.5b); the long file then with --max-lines 100000, so ten chunks, each fitted
# to the model's context by the reduction ladder, keep the run to minutes.
#
# Usage: scripts/hostile-inputs.sh [WORK_DIR] [INPUT...]
#   WORK_DIR defaults to a temporary folder, removed after; INPUT names pick some inputs
#   (minified-10mb nested-5000 million-lines files-100k odd-bytes vanishing).
set -euo pipefail
cd "$(dirname "$0")/.."
nice -n 10 cargo build --release --quiet --features test-support
ISG="$PWD/target/release/isg"
WORK="${1:-$(mktemp -d)}"
[ -n "${1:-}" ] || trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK"
shift || true
INPUTS=("$@")
[ ${#INPUTS[@]} -gt 0 ] || INPUTS=(minified-10mb nested-5000 million-lines files-100k odd-bytes vanishing)
REAL_MODEL="${ISG_HOSTILE_MODEL_NAME:-qwen2.5-coder-0.5b}"

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
    vanishing)
      for f in keep gone to_dir to_fifo grown; do printf 'fn %s() {}\n' "$f" > "$dir/$f.rs"; done
      ;;
  esac
}

# The flags and the model of one input.
args_of() {
  local name=$1
  case $name in
    million-lines) echo --max-file-bytes 40000000 ;;
    vanishing) echo --max-file-bytes 1000 ;;
    *) echo --max-file-bytes 16000000 ;;
  esac
  if [ "$(model_of "$name")" != echo ] && [ "$name" = million-lines ]; then echo --max-lines 100000; fi
  return 0
}
model_of() {
  case "${ISG_HOSTILE_MODEL:-echo}:$1" in
    real:minified-10mb | real:million-lines) echo "$REAL_MODEL" ;;
    *) echo echo ;;
  esac
}

# Waits until the process `pid` or one of its descendants is stopped; prints the stopped pid.
stopped_pid() {
  local pid=$1 p kids
  for _ in $(seq 600); do
    kids=$(pgrep -P "$pid" | tr '\n' ' ')
    for p in $pid $kids $(for k in $kids; do pgrep -P "$k"; done); do
      if [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = T ]; then echo "$p"; return; fi
    done
    sleep 0.1
  done
  echo "the run never stopped at the listed point" >&2
  return 1
}

printf '%-16s %-20s %8s %10s %8s %8s %8s  %s\n' input model wall_s peak_MB chunks failed skipped "skip reasons"
for name in "${INPUTS[@]}"; do
  make_input "$name"
  out="$WORK/$name/out"
  model=$(model_of "$name")
  # shellcheck disable=SC2207 # the flags have no spaces
  args=($(args_of "$name"))
  if [ "$model" = echo ]; then
    env=(ISG_TEST_BACKEND=echo)
  else
    env=(-u ISG_TEST_BACKEND)
    args+=(--model "$model")
  fi
  [ "$name" != vanishing ] || env+=(ISG_TEST_STOP_AT=listed)
  set +e
  env "${env[@]}" /usr/bin/time -f '%e %M' -o "$WORK/$name/time" \
    timeout --foreground 1800 "$ISG" summarize "$WORK/$name/tree" --out "$out" --quiet \
      "${args[@]}" >"$WORK/$name/stdout" 2>"$WORK/$name/stderr" &
  job=$!
  if [ "$name" = vanishing ]; then
    # Listed, not read yet: change the tree under the run, then let it go on.
    stopped=$(stopped_pid "$job")
    tree="$WORK/$name/tree"
    rm "$tree/gone.rs"
    rm "$tree/to_dir.rs" && mkdir "$tree/to_dir.rs"
    rm "$tree/to_fifo.rs" && mkfifo "$tree/to_fifo.rs"
    head -c 5000 /dev/zero | tr '\0' '/' > "$tree/grown.rs"
    kill -CONT "$stopped"
  fi
  wait "$job"
  rc=$?
  set -e
  read -r wall kb < <(tail -1 "$WORK/$name/time")
  if [ -f "$out/run.json" ]; then
    python3 - "$out/run.json" "$name" "$wall" "$kb" "$rc" "$model" <<'PY'
import json, sys, collections
r = json.load(open(sys.argv[1]))
t = r["totals"]
reasons = collections.Counter(s["reason"] for s in r["skipped"])
print(f"{sys.argv[2]:<16} {sys.argv[6]:<20} {float(sys.argv[3]):8.1f} {int(sys.argv[4])/1024:10.0f} {t['chunks']:8} {t['failed']:8} {len(r['skipped']):8}  {dict(reasons)} rc={sys.argv[5]}")
PY
  else
    printf '%-16s %-20s %8s %10.0f  rc=%s: %s\n' "$name" "$model" "$wall" "$(echo "$kb/1024" | bc)" "$rc" "$(tail -1 "$WORK/$name/stderr")"
  fi
  # Big trees go as soon as they are measured: the disk is not infinite.
  rm -rf "$WORK/$name/tree"
done
