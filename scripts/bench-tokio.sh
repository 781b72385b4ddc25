#!/usr/bin/env bash
# Summarizes the whole tokio crate (1.54.1, from the cargo registry) into a fresh output folder
# (no cache carried over) and prints wall time, chunks/min, prefill and decode tokens/s, peak RSS
# and the roll-up's share of the wall time from its run.json.
#
# Usage:
#   scripts/bench-tokio.sh [FLAGS...]                 one run with these `isg summarize` flags
#   scripts/bench-tokio.sh --compare "FLAGS A" "FLAGS B"
#                                                     run A, then B, in one invocation, and print
#                                                     the ratio of their wall times (B / A)
# Flags are split on spaces, e.g. --compare "--model smollm2-135m" "--model qwen2.5-coder-0.5b".
# Add `--include 'src/sync/**'` to a configuration to time a part of tokio.
# For the AVX2 kernels on an AVX-512 machine: scripts/as-avx2.sh scripts/bench-tokio.sh --model DIR,
# with DIR a model folder converted under that mask (scripts/bench-vs-llamacpp.sh with
# CPU_KIND=avx2 leaves one in its cache).
# The CPU model and its vector extensions are printed first: figures from different machines
# do not compare.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
tokio="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/tokio-1.54.1 2>/dev/null | head -n1 || true)"
if [[ -z "$tokio" ]]; then
    tmp_crate="$(mktemp -d)"
    mkdir -p "$tmp_crate/src" && touch "$tmp_crate/src/lib.rs"
    printf '[package]\nname = "fetch-tokio"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\ntokio = "=1.54.1"\n' \
        >"$tmp_crate/Cargo.toml"
    (cd "$tmp_crate" && cargo fetch -q)
    rm -rf "$tmp_crate"
    tokio="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/tokio-1.54.1 | head -n1)"
fi

# Never under the CPUID mask (scripts/as-avx2.sh): rustc installs its own SIGSEGV handler.
env -u LD_PRELOAD -u GLIBC_TUNABLES cargo build --release -q --manifest-path "$here/Cargo.toml"
set -f # configurations are split on spaces; their globs go to isg as they are

cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -n1)"
ext="$(grep -o -w -E 'avx512_vnni|amx_tile|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
if [[ "${ISG_CPU_MASK:-}" == avx2 ]]; then
    # Under scripts/as-avx2.sh: the kernels see AVX2 and FMA only.
    echo "cpu              $cpu, $(nproc) cores, $ext; AVX-512, VNNI and AMX hidden by scripts/as-avx2.sh"
    ext="avx2"
else
    echo "cpu              $cpu, $(nproc) cores, ${ext:-no AVX}"
fi
echo "load average     $(cut -d' ' -f1-3 /proc/loadavg) at the start (above 0.5 per core: other work shares the machine)"

# One run: prints its figures and leaves its wall time in $wall.
run_one() {
    local out status=0
    out="$(mktemp -d -t isg-bench-tokio.XXXXXX)"
    echo "summarizing $tokio into $out with: $*" >&2
    # shellcheck disable=SC2068
    "$here/target/release/isg" summarize "$tokio" --quiet --out "$out" $@ || status=$?
    CPU_EXT="$ext" NCORES="$(nproc)" python3 - "$out/run.json" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
t, s = r["totals"], r["times"]
print(f"model            {r['model']}")
print(f"files / chunks   {t['files']} / {t['chunks']} ({t['cached']} cached, {t['computed']} computed, {t['failed']} failed)")
print(f"wall time        {t['wall_seconds']:.1f} s")
print(f"chunks/min       {t['chunks_per_min']:.1f}")
print(f"prompt tokens    {t['prompt_tokens']}  ({t['prompt_tokens'] / max(t['chunks'], 1):.0f} per chunk, {t['prompt_tokens'] / max(t['wall_seconds'], 1e-9):.0f} tok/s over the wall time)")
print(f"generated tokens {t['generated_tokens']}")
print(f"prefill tok/s    {t['prefill_tok_s']:.0f}")
print(f"decode tok/s     {t['decode_tok_s']:.0f}")
print(f"peak RSS         {t['peak_rss_bytes'] / 2**20:.0f} MiB")
print("stage seconds    " + ", ".join(f"{k} {v:.1f}" for k, v in s.items()))
ru = r.get("rollup")
if ru:
    share = ru["seconds"] / max(t["wall_seconds"], 1e-9)
    print(f"roll-up          {ru['seconds']:.1f} s of {t['wall_seconds']:.1f} s ({share:.0%} of the wall time): "
          f"{ru['computed']} lines asked, {ru['copied']} copied, {ru.get('authored', 0)} authored, "
          f"{ru.get('only_child', 0)} only-child, {ru['cached']} cached")
else:
    print("roll-up          none ran")
# Targets for all of tokio with the default model on 2 cores: 6 min with AMX, 25 min with AVX2 only.
ext, cores = os.environ.get("CPU_EXT", "").split(), int(os.environ.get("NCORES", "0"))
kind, target = (("AMX", 6) if "amx_tile" in ext else ("AVX2 only", 25) if "avx2" in ext and "avx512f" not in ext
                else (None, None))
minutes = t["wall_seconds"] / 60
if target is None or cores != 2:
    print(f"target           none set for this CPU ({cores} cores, {' '.join(ext) or 'no AVX'}); {minutes:.1f} min")
elif minutes <= target:
    print(f"target           <= {target} min on 2 {kind} cores: met ({minutes:.1f} min)")
else:
    print(f"target           <= {target} min on 2 {kind} cores: NOT met, {minutes:.1f} min "
          f"({minutes - target:.1f} min over, a {minutes / target:.2f}x speed-up needed)")
PY
    wall="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["wall_seconds"])' "$out/run.json")"
    echo "outputs in $out" >&2
    return "$status"
}

if [[ "${1:-}" == "--compare" ]]; then
    [[ $# -eq 3 ]] || { echo "usage: $0 --compare \"FLAGS A\" \"FLAGS B\"" >&2; exit 2; }
    echo "== A: $2"
    run_one $2 || echo "(A exited with $?)"
    wall_a="$wall"
    echo "== B: $3"
    run_one $3 || echo "(B exited with $?)"
    wall_b="$wall"
    python3 -c 'import sys; a, b = map(float, sys.argv[1:]); print(f"wall time B / A  {b / a:.2f}  ({b:.1f} s / {a:.1f} s)")' "$wall_a" "$wall_b"
else
    run_one "$@"
fi
