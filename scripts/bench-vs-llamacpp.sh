#!/usr/bin/env bash
# isg against llama.cpp on the same GGUF and the same shapes, in one invocation.
#
#   scripts/bench-vs-llamacpp.sh [MODEL]     MODEL: a catalog name (default: the default model)
#
# 1. Builds llama.cpp's `llama-batched-bench` (Release, -march=native through GGML_NATIVE, only
#    that target) from the llama.cpp tree that the PyPI sdist of llama-cpp-python vendors under
#    vendor/llama.cpp (pinned below), with cmake and ninja from a virtual environment this script
#    makes. Everything lives under ${ISG_BENCH_CACHE:-~/.cache/isg-bench}; a second run reuses the
#    build and starts benchmarking at once.
# 2. Runs `isg bench --parallel 20 --prompt-tokens 450 --new-tokens 20` on the catalog model,
#    then `llama-batched-bench -npp 450 -ntg 20 -npl 20` on the GGUF that model was converted
#    from (20 distinct prompts of 450 tokens, then 20 tokens each, decoded together).
# 3. Prints both (prefill tok/s, decode tok/s, total seconds), the ratios, the CPU and its flags,
#    and how far isg is from twice llama.cpp's speed when it is short of that.
#
# Environment: ISG_SESSIONS (sessions of isg bench, default 2 as in `isg summarize`),
# THREADS (llama.cpp threads; default: all cores, and also 1, the faster run compared), BUILD_JOBS
# (default 2), ISG_HOME (isg's cache).
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION=0.3.36 # its sdist carries the llama.cpp source that is built
PP=450
TG=20
NPL=20

die() {
    echo "bench-vs-llamacpp: $*" >&2
    exit 1
}
step() { echo "-- $*" >&2; }

here="$(cd "$(dirname "$0")/.." && pwd)"
model="${1:-}"
cache="${ISG_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/isg-bench}"
isg_home="${ISG_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/isg}"
threads="${THREADS:-$(nproc)}"
sessions="${ISG_SESSIONS:-2}"
jobs="${BUILD_JOBS:-2}"
lcpp="$cache/llama.cpp-$LLAMA_CPP_PYTHON_VERSION"
bench_bin="$lcpp/build/bin/llama-batched-bench"
mkdir -p "$cache" || die "cannot create $cache"

# --- llama.cpp -------------------------------------------------------------------------------
if [[ ! -x "$bench_bin" ]]; then
    venv="$cache/venv"
    if [[ ! -x "$venv/bin/ninja" || ! -x "$venv/bin/cmake" ]]; then
        step "making $venv with cmake and ninja"
        python3 -m venv "$venv" || die "python3 -m venv failed (install python3-venv)"
        # setuptools, wheel and scikit-build-core let pip read the sdist's metadata without
        # fetching a build environment of its own (--no-build-isolation below).
        "$venv/bin/pip" install -q cmake ninja setuptools wheel scikit-build-core ||
            die "pip install cmake ninja failed"
    fi
    if [[ ! -f "$lcpp/src/CMakeLists.txt" ]]; then
        step "fetching llama-cpp-python $LLAMA_CPP_PYTHON_VERSION (sdist) for its llama.cpp tree"
        dl="$(mktemp -d)"
        "$venv/bin/pip" download -q --no-deps --no-binary :all: --no-build-isolation \
            "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$dl" ||
            die "pip download of llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION failed"
        sdist="$(ls "$dl"/llama_cpp_python-*.tar.gz 2>/dev/null | head -n1)"
        [[ -n "$sdist" ]] || die "pip download left no llama_cpp_python-*.tar.gz in $dl"
        top="llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION"
        tar -xzf "$sdist" -C "$dl" "$top/vendor/llama.cpp" || die "unpacking $sdist failed"
        rm -rf "$lcpp/src" && mkdir -p "$lcpp"
        mv "$dl/$top/vendor/llama.cpp" "$lcpp/src" || die "moving the llama.cpp tree failed"
        rm -rf "$dl"
    fi
    step "building llama-batched-bench in $lcpp/build ($jobs jobs, niced)"
    PATH="$venv/bin:$PATH" cmake -S "$lcpp/src" -B "$lcpp/build" -G Ninja \
        -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF \
        -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_TOOLS=ON \
        >"$lcpp/cmake.log" 2>&1 || die "cmake configure failed; see $lcpp/cmake.log"
    PATH="$venv/bin:$PATH" nice -n 10 ninja -C "$lcpp/build" -j "$jobs" llama-batched-bench \
        >"$lcpp/build.log" 2>&1 || die "building llama-batched-bench failed; see $lcpp/build.log"
    [[ -x "$bench_bin" ]] || die "the build finished but $bench_bin is missing"
fi

# --- isg -------------------------------------------------------------------------------------
step "building isg (release)"
cargo build --release -q --manifest-path "$here/Cargo.toml" || die "cargo build --release failed"
isg="$here/target/release/isg"
if [[ -z "$model" ]]; then
    model="$("$isg" models --json | python3 -c 'import json,sys; print(next(m["name"] for m in json.load(sys.stdin) if m["default"]))')" ||
        die "cannot read the default model from isg models --json"
fi
gguf="$(ls "$isg_home/downloads/$model"/*.gguf 2>/dev/null | head -n1 || true)"
if [[ -z "$gguf" ]]; then
    step "setting up $model (fetches its GGUF)"
    "$isg" setup --model "$model" >&2 || die "isg setup --model $model failed"
    gguf="$(ls "$isg_home/downloads/$model"/*.gguf 2>/dev/null | head -n1 || true)"
    [[ -n "$gguf" ]] || die "no GGUF under $isg_home/downloads/$model after isg setup"
fi
weights="$(sed -n 's/^bits //p' "$isg_home/models/$model/isg-weights.txt" 2>/dev/null || true)"

cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -n1)"
ext="$(grep -o -w -E 'avx2|avx512f|avx512_vnni|avx512_bf16|amx_tile|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' ')"
load="$(cut -d' ' -f1-3 /proc/loadavg)"

work="$(mktemp -d -t isg-vs-llamacpp.XXXXXX)"
step "isg bench on $model (sessions $sessions)"
"$isg" bench --model "$model" --parallel "$NPL" --prompt-tokens "$PP" --new-tokens "$TG" \
    --sessions "$sessions" --json "$work/isg.json" >"$work/isg.txt" 2>&1 ||
    { cat "$work/isg.txt" >&2; die "isg bench failed"; }

ctx=$(((NPL * (PP + TG) + 1023) / 1024 * 1024)) # every sequence's own prompt and output
# llama.cpp's threads wait for each other at every operation, which costs most when other work
# shares the cores: it runs with all of them and with one, and the faster run is compared.
thread_counts="$threads"
[[ "$threads" -gt 1 && -z "${THREADS:-}" ]] && thread_counts="$threads 1"
: >"$work/llama.jsonl"
for t in $thread_counts; do
    step "llama-batched-bench on $gguf (-c $ctx -t $t)"
    llama_cmd=("$bench_bin" -m "$gguf" -c "$ctx" -b 2048 -ub 512 -npp "$PP" -ntg "$TG" -npl "$NPL"
        -t "$t" -tb "$t" --output-format jsonl)
    "${llama_cmd[@]}" >>"$work/llama.jsonl" 2>"$work/llama-t$t.log" ||
        { tail -n 20 "$work/llama-t$t.log" >&2; die "llama-batched-bench failed; see $work/llama-t$t.log"; }
done
grep -q '"pp"' "$work/llama.jsonl" ||
    die "llama-batched-bench printed no result row (context too small?); see $work/llama-t*.log"
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"
llama_shown="llama-batched-bench -m $gguf -c $ctx -b 2048 -ub 512 -npp $PP -ntg $TG -npl $NPL -t T -tb T, T in: $thread_counts"

python3 - "$work/isg.json" "$work/llama.jsonl" <<PY || die "reading the results failed"
import json, sys
isg = json.load(open(sys.argv[1]))[0]
runs = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
ll = min(runs, key=lambda r: r["t"])
print("cpu              $cpu, $(nproc) cores, flags: ${ext:-none}")
print("load average     $load at the start, $load_end at the end (1, 5, 15 min; above 1 per core,")
print("                 other work shares the machine and the figures are noisy)")
print("model            $model: isg runs its converted folder (weights: ${weights:-unknown}), llama.cpp the GGUF")
print("                 $gguf")
print("                 as it is (Q4_K_M blocks); isg's i8 = 8-bit rows through MatMulIntegerToFloat,")
print("                 what --bits auto gives on AVX-512 VNNI or AMX; on AVX2-only CPUs it may pick 4-bit blocks")
print(f"shapes           {ll['pl']} sequences x ({ll['pp']} prompt + {ll['tg']} generated) tokens, prompts not shared")
print(f"isg              isg bench --model $model --parallel $NPL --prompt-tokens $PP --new-tokens $TG --sessions $sessions")
print(f"llama.cpp        $llama_shown")
print(f"llama.cpp build  llama-cpp-python $LLAMA_CPP_PYTHON_VERSION's vendored tree, Release, GGML_NATIVE")
print()
print(f"{'':17}{'prefill tok/s':>14}{'decode tok/s':>14}{'total s':>10}")
isg_total = isg["wall_s"]
print(f"{'isg':17}{isg['prefill_tok_s']:>14.0f}{isg['decode_tok_s']:>14.1f}{isg_total:>10.2f}")
for r in runs:
    name = f"llama.cpp -t {r['n_threads']}" + (" *" if r is ll and len(runs) > 1 else "")
    print(f"{name:17}{r['speed_pp']:>14.0f}{r['speed_tg']:>14.1f}{r['t']:>10.2f}")
rp = isg["prefill_tok_s"] / ll["speed_pp"]
rd = isg["decode_tok_s"] / ll["speed_tg"]
rt = ll["t"] / isg_total
if len(runs) > 1:
    print("(* the faster llama.cpp run, compared below)")
print(f"{'isg / llama.cpp':17}{rp:>13.2f}x{rd:>13.2f}x{rt:>9.2f}x  (total: llama.cpp seconds / isg seconds)")
print()
print("isg's total is the wall time of the 20 requests (prefill and decode interleaved by its engine);")
print("llama.cpp's is T_PP + T_TG (all prompts prefilled, then 20 batched decode steps).")
target = 2.0
if rt >= target:
    print(f"target           isg >= {target:.0f}x llama.cpp's speed: met ({rt:.2f}x)")
else:
    print(f"target           isg >= {target:.0f}x llama.cpp's speed: NOT met, {rt:.2f}x; isg would need "
          f"{isg_total - ll['t'] / target:.2f} s less ({isg_total:.2f} s -> {ll['t'] / target:.2f} s), "
          f"a {target / rt:.2f}x speed-up")
PY
echo "raw outputs in $work" >&2
