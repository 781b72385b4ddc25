#!/usr/bin/env bash
# Measures catalog models the way `isg models` reports them and writes the figures into
# src/provision/measurements.json (compiled into isg: rebuild afterwards), each with the prompt
# and roll-up versions, weight width, date, CPU and CPU flags it was measured with.
# usage: scripts/measure-models.sh [MODEL...]   (default: qwen2.5-coder-0.5b qwen2.5-coder-1.5b)
#   quality: isg eval on ../shared/eval-dev (59 tokio files), scored by scripts/trust-report.py
#   speed:   isg bench --parallel P --prompt-tokens 450 --new-tokens 20 --sessions 2 (1 for the 1.5B)
# Env: ISG (binary; default target/release/isg), ISG_MEASURE_WORK (work folders, each run computed afresh;
#   default ~/.cache/isg-measure), ISG_MEASURE_PARALLEL (default 20), ISG_MEASURE_ARGS (more isg eval
#   flags, e.g. --second-look), ISG_MEASURE_CANDIDATES (answers per prompt, default 1: above 1 the
#   figures are a slower tier, `isg eval --candidates N`, recorded beside the plain run's; its
#   speed is the evaluation's time, so no bench is run for it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
isg=${ISG:-$repo/target/release/isg}
[ -x "$isg" ] || { echo "no isg binary at $isg: cargo build --release first, or set ISG" >&2; exit 1; }
dev=${ISG_EVAL_DEV:-$repo/../shared/eval-dev}
work=${ISG_MEASURE_WORK:-$HOME/.cache/isg-measure}
parallel=${ISG_MEASURE_PARALLEL:-20}
candidates=${ISG_MEASURE_CANDIDATES:-1}
py=~/.cache/isg-eval/venv/bin/python
[ -x "$py" ] || bash "$dev/score.sh" /dev/null >/dev/null
inputs=$(bash "$dev/make-inputs.sh" | tail -n 1)
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(qwen2.5-coder-0.5b qwen2.5-coder-1.5b)
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
flags=$(grep -m1 -o -w -E 'avx2|avx512_vnni|avx512f|amx_int8|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/ $//')
for m in "${models[@]}"; do
  w=$work/$m
  [ "$candidates" = 1 ] || w=$work/$m-candidates-$candidates
  mkdir -p "$w"
  # One session for the 1.5B: two do not fit the default 4 GB budget (weights, runtime and two
  # sessions' activations come to 4.1 GB); one holds 20 streams in 2.8 GB.
  case $m in *1.5b*) sessions=1 ;; *) sessions=2 ;; esac
  echo "== $m: quality (isg eval on eval-dev)" >&2
  start=$(date +%s.%N)
  "$isg" setup --model "$m" >&2
  rm -rf "$w/eval"  # every line computed: the time is the run's, not the cache's
  "$isg" eval "$inputs" --references "$dev/references.jsonl" --out "$w/eval" --model "$m" --sessions "$sessions" --candidates "$candidates" -q ${ISG_MEASURE_ARGS:-} >"$w/eval.txt"
  end=$(date +%s.%N)
  ISG_EVAL_DEV="$dev" "$py" "$here/trust-report.py" "$w/eval/run" "$dev/references.jsonl" --json "$w/trust.json" | tee "$w/trust.txt" >&2
  if [ "$candidates" = 1 ]; then
    echo "== $m: speed (isg bench --parallel $parallel)" >&2
    "$isg" bench --model "$m" --parallel "$parallel" --prompt-tokens 450 --new-tokens 20 --sessions "$sessions" --json "$w/bench.json" >&2
  else
    echo '[]' >"$w/bench.json"
  fi
  "$isg" models --json >"$w/models.json"
  "$py" - "$repo/src/provision/measurements.json" "$m" "$w" "$cpu" "$flags" "$start" "$end" "${ISG_MEASURE_ARGS:-}" "$candidates" "$parallel" "$sessions" <<'PY'
import datetime, json, sys
path, model, w, cpu, flags, start, end, _args, candidates, parallel, sessions = sys.argv[1:]
trust = json.load(open(f"{w}/trust.json"))
benches = json.load(open(f"{w}/bench.json"))
bench = benches[-1] if benches else None
run = json.load(open(f"{w}/eval/run/run.json"))
info = next(x for x in json.load(open(f"{w}/models.json")) if x["name"] == model)
weights = open(f"{info['folder']}/isg-weights.txt").read() if info.get("folder") else ""
# The width as isg-weights.txt records it (`bits i8`: 8-bit rows, not 8-bit blocks).
bits = next((l.split()[1] for l in weights.splitlines() if l.startswith("bits ")), None) or str(info.get("bits"))
entry = {
    "model": model,
    "prompt_version": run["prompt_version"],
    "rollup_version": trust["rollup_version"],
    "bits": bits,
    "date": datetime.date.today().isoformat(),
    "cpu": cpu,
    "cpu_flags": flags,
    "second_look": "--second-look" in sys.argv[8],
    "candidates": int(candidates),
    "set": "eval-dev",
    "chrf": round(trust["chrf"], 1),
    "rouge_l": round(trust["rouge_l"], 1),
    "minilm": round(trust["minilm"], 3),
    "chunk_fallback": round(trust["chunk_fallback"], 4),
    "dir_fallback": round(trust["dir_fallback"], 4),
    "eval_seconds": round(float(end) - float(start), 1),
    "eval_peak_rss_gb": round(run["totals"]["peak_rss_bytes"] / 1e9, 2),
    "parallel": bench["parallel"] if bench else int(parallel),
    "sessions": bench["sessions"] if bench else int(sessions),
}
if bench:
    entry.update({
        "requests_per_min": round(bench["requests_per_min"], 1),
        "prefill_tok_s": round(bench["prefill_tok_s"], 1),
        "decode_tok_s": round(bench["decode_tok_s"], 1),
        "peak_rss_gb": round(bench["peak_rss_mb"] / 1000, 2),
    })
try:
    all_ = json.load(open(path))
except (OSError, ValueError):
    all_ = []
same = lambda e: (e["model"], e["bits"], e.get("candidates", 1)) == (model, bits, entry["candidates"])
all_ = [e for e in all_ if not same(e)] + [entry]
all_.sort(key=lambda e: (e["model"], e["bits"], e.get("candidates", 1)))
with open(path, "w") as f:
    json.dump(all_, f, indent=2)
    f.write("\n")
print(json.dumps(entry))
PY
done
echo "wrote $repo/src/provision/measurements.json; rebuild isg (cargo build --release) for isg models to show it" >&2
