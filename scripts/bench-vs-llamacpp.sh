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
#   CPU_KIND=avx2   both programs run under scripts/as-avx2.sh (AVX-512, AVX-VNNI and AMX hidden
#                   from CPUID), llama.cpp built for AVX2 + FMA instead of -march=native, and isg
#                   on a copy of the model converted under that mask (so `--bits auto` measures
#                   the AVX2 kernels). Needs a CPU with CPUID faulting.
#   ISG_BITS="auto 4 8 i8"
#                   isg widths to bench, each converted from the same GGUF into the bench cache
#                   (default: the model as `isg setup` converted it; with CPU_KIND=avx2, auto).
#                   The first is the one compared with llama.cpp.
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
kind="${CPU_KIND:-native}"
lcpp="$cache/llama.cpp-$LLAMA_CPP_PYTHON_VERSION"
wrap=()
ggml_flags=(-DGGML_NATIVE=ON)
build_dir="$lcpp/build"
case "$kind" in
native) ;;
avx2)
    wrap=("$here/scripts/as-avx2.sh")
    ggml_flags=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
        -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF)
    build_dir="$lcpp/build-avx2"
    "${wrap[@]}" true || die "cannot hide AVX-512 here (see scripts/as-avx2.sh)"
    ;;
*) die "CPU_KIND must be native or avx2, not $kind" ;;
esac
bench_bin="$build_dir/bin/llama-batched-bench"
mkdir -p "$cache" || die "cannot create $cache"

# --- llama.cpp -------------------------------------------------------------------------------
# build_llama DIR CMAKE_FLAGS...: llama-batched-bench built into DIR (once).
build_llama() {
    local dir="$1"
    shift
    [[ -x "$dir/bin/llama-batched-bench" ]] && return 0
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
    step "building llama-batched-bench in $dir ($*; $jobs jobs, niced)"
    PATH="$venv/bin:$PATH" cmake -S "$lcpp/src" -B "$dir" -G Ninja \
        -DCMAKE_BUILD_TYPE=Release "$@" -DBUILD_SHARED_LIBS=OFF \
        -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_TOOLS=ON \
        >"$dir.cmake.log" 2>&1 || die "cmake configure failed; see $dir.cmake.log"
    PATH="$venv/bin:$PATH" nice -n 10 ninja -C "$dir" -j "$jobs" llama-batched-bench \
        >"$dir.build.log" 2>&1 || die "building llama-batched-bench failed; see $dir.build.log"
    [[ -x "$dir/bin/llama-batched-bench" ]] || die "the build finished but $dir/bin/llama-batched-bench is missing"
}

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
build_llama "$build_dir" "${ggml_flags[@]}"
# A short run first: llama.cpp's AMX matrix kernel crashes on some AMX machines
# (ggml-org/llama.cpp#20824). There it is rebuilt without AMX, and the output says so.
smoke=("$bench_bin" -m "$gguf" -c 512 -b 512 -ub 512 -npp 64 -ntg 2 -npl 1 -t 1)
if ! "${wrap[@]}" "${smoke[@]}" >"$cache/smoke.log" 2>&1; then
    if [[ "$kind" == native ]] && grep -q -w amx_int8 /proc/cpuinfo; then
        step "llama-batched-bench failed a short run with its AMX kernels; building it without them"
        no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
        ggml_flags=(-DGGML_NATIVE=ON "-DCMAKE_C_FLAGS=$no_amx" "-DCMAKE_CXX_FLAGS=$no_amx")
        build_dir="$lcpp/build-no-amx"
        bench_bin="$build_dir/bin/llama-batched-bench"
        build_llama "$build_dir" "${ggml_flags[@]}"
        smoke[0]="$bench_bin"
        "${smoke[@]}" >"$cache/smoke.log" 2>&1 ||
            die "llama-batched-bench fails a short run even without AMX; see $cache/smoke.log"
    else
        die "llama-batched-bench fails a short run; see $cache/smoke.log"
    fi
fi

cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -n1)"
ext="$(grep -o -w -E 'avx2|avx512f|avx512_vnni|avx512_bf16|amx_tile|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' ')"
[[ "$kind" == avx2 ]] && ext="avx2 fma as both programs see them (this CPU has: ${ext}; the rest hidden by scripts/as-avx2.sh)"
load="$(cut -d' ' -f1-3 /proc/loadavg)"

work="$(mktemp -d -t isg-vs-llamacpp.XXXXXX)"
widths="${ISG_BITS:-}"
[[ -z "$widths" && "$kind" == avx2 ]] && widths=auto
: >"$work/isg.jsonl"
if [[ -z "$widths" ]]; then
    targets=("$model")
    labels=("$(sed -n 's/^bits //p' "$isg_home/models/$model/isg-weights.txt" 2>/dev/null || echo unknown) (isg setup)")
else
    targets=() labels=()
    for b in $widths; do
        dir="$cache/models-$kind/$model-$b"
        if [[ ! -f "$dir/isg-weights.txt" ]]; then
            step "converting $gguf at --bits $b into $dir${wrap:+ (under the AVX2 mask)}"
            rm -rf "$dir"
            "${wrap[@]}" "$isg" convert "$gguf" "$dir" --bits "$b" >"$work/convert-$b.txt" 2>&1 ||
                { cat "$work/convert-$b.txt" >&2; die "isg convert --bits $b failed"; }
        fi
        targets+=("$dir")
        labels+=("$(sed -n 's/^bits //p' "$dir/isg-weights.txt") (--bits $b)")
    done
fi
for i in "${!targets[@]}"; do
    step "isg bench on ${targets[$i]} (${labels[$i]}, sessions $sessions)"
    "${wrap[@]}" "$isg" bench --model "${targets[$i]}" --parallel "$NPL" --prompt-tokens "$PP" --new-tokens "$TG" \
        --sessions "$sessions" --json "$work/isg-$i.json" >"$work/isg-$i.txt" 2>&1 ||
        { cat "$work/isg-$i.txt" >&2; die "isg bench failed"; }
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))[0]; r["label"]=sys.argv[2]; print(json.dumps(r))' \
        "$work/isg-$i.json" "${labels[$i]}" >>"$work/isg.jsonl"
done
weights="${labels[0]}"

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
    "${wrap[@]}" "${llama_cmd[@]}" >>"$work/llama.jsonl" 2>"$work/llama-t$t.log" ||
        { tail -n 20 "$work/llama-t$t.log" >&2; die "llama-batched-bench failed; see $work/llama-t$t.log"; }
done
grep -q '"pp"' "$work/llama.jsonl" ||
    die "llama-batched-bench printed no result row (context too small?); see $work/llama-t*.log"
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"
llama_shown="llama-batched-bench -m $gguf -c $ctx -b 2048 -ub 512 -npp $PP -ntg $TG -npl $NPL -t T -tb T, T in: $thread_counts"

python3 - "$work/isg.jsonl" "$work/llama.jsonl" <<PY || die "reading the results failed"
import json, sys
isgs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
isg = isgs[0]
runs = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
ll = min(runs, key=lambda r: r["t"])
print("cpu              $cpu, $(nproc) cores, flags: ${ext:-none}")
print("load average     $load at the start, $load_end at the end (1, 5, 15 min; above 1 per core,")
print("                 other work shares the machine and the figures are noisy)")
print("model            $model: isg runs its converted folder (weights: $weights), llama.cpp the GGUF")
print("                 $gguf")
print("                 as it is (Q4_K_M blocks); isg's i8 = 8-bit rows through MatMulIntegerToFloat,")
print("                 4 / 8 = 4-bit / 8-bit MatMulNBits blocks; --bits auto times them and keeps the fastest")
print(f"shapes           {ll['pl']} sequences x ({ll['pp']} prompt + {ll['tg']} generated) tokens, prompts not shared")
print(f"isg              isg bench --model {'$model' if len(isgs) == 1 and '${widths}' == '' else 'FOLDER'} --parallel $NPL --prompt-tokens $PP --new-tokens $TG --sessions $sessions")
if '${widths}':
    print(f"                 FOLDER: the GGUF converted at each width into $cache/models-$kind/")
print(f"llama.cpp        $llama_shown")
print(f"llama.cpp build  llama-cpp-python $LLAMA_CPP_PYTHON_VERSION's vendored tree, Release, ${ggml_flags[*]}")
print()
print(f"{'':17}{'prefill tok/s':>14}{'decode tok/s':>14}{'total s':>10}")
isg_total = isg["wall_s"]
for r in isgs:
    name = "isg " + r["label"].split(" (")[0] + (" *" if r is isg and len(isgs) > 1 else "")
    print(f"{name:17}{r['prefill_tok_s']:>14.0f}{r['decode_tok_s']:>14.1f}{r['wall_s']:>10.2f}")
for r in runs:
    name = f"llama.cpp -t {r['n_threads']}" + (" *" if r is ll and len(runs) > 1 else "")
    print(f"{name:17}{r['speed_pp']:>14.0f}{r['speed_tg']:>14.1f}{r['t']:>10.2f}")
rp = isg["prefill_tok_s"] / ll["speed_pp"]
rd = isg["decode_tok_s"] / ll["speed_tg"]
rt = ll["t"] / isg_total
if len(runs) > 1 or len(isgs) > 1:
    print("(* the runs compared below: isg's first width, llama.cpp's faster run)")
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
