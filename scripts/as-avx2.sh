#!/usr/bin/env bash
# Runs a command as if this CPU had AVX2 and FMA but no AVX-512, AVX-VNNI or AMX.
#
#   scripts/as-avx2.sh COMMAND [ARG...]
#
# ONNX Runtime (MLAS) and llama.cpp pick their kernels at run time from CPUID. On a CPU with
# CPUID faulting (`cpuid_fault` in /proc/cpuinfo, most Intel CPUs and their VMs), the preload
# library scripts/avx2-only/cpuid-mask.c answers every CPUID of the process with those feature
# bits cleared, so an AVX-512/AMX machine runs the AVX2 code paths. glibc, which reads CPUID
# before any preload, is told the same through GLIBC_TUNABLES. It measures the AVX2 kernels on
# this machine's cores, caches and clocks: a real AVX2-only CPU (an AMD Zen 2/3, say) differs in
# those. Code compiled for AVX-512 still runs its AVX-512 instructions: build llama.cpp without
# GGML_NATIVE for such a run (scripts/bench-vs-llamacpp.sh does, with CPU_KIND=avx2).
#
# A program that installs its own SIGSEGV handler (rustc does) takes the CPUID faults away from the
# shim and crashes: build outside it, run under it.
#
# The shim is built with cc into ${ISG_BENCH_CACHE:-~/.cache/isg-bench}/cpuid-mask/ once.
set -euo pipefail
die() {
    echo "as-avx2: $*" >&2
    exit 1
}
[[ $# -ge 1 ]] || die "usage: scripts/as-avx2.sh COMMAND [ARG...]"
here="$(cd "$(dirname "$0")" && pwd)"
grep -q -w cpuid_fault /proc/cpuinfo ||
    die "this CPU (or its hypervisor) offers no CPUID faulting (no cpuid_fault flag in /proc/cpuinfo); run on a real AVX2-only machine instead"
cache="${ISG_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/isg-bench}/cpuid-mask"
mkdir -p "$cache"
so="$cache/cpuid-mask.so"
probe="$cache/probe"
if [[ ! -f "$so" || "$here/avx2-only/cpuid-mask.c" -nt "$so" ]]; then
    cc -O2 -shared -fPIC -o "$so" "$here/avx2-only/cpuid-mask.c" || die "building the CPUID shim failed (needs cc)"
    cc -O2 -o "$probe" "$here/avx2-only/probe.c" || die "building the probe failed"
fi
seen="$(LD_PRELOAD="$so" "$probe")" || die "the CPUID shim did not load"
# The probe prints `avx2 N fma N avx512f N avx512vnni N`; under the mask the last two are 0.
if [[ "$seen" != *"avx512f 0 avx512vnni 0"* ]]; then
    die "the mask did not take hold: the probe saw '$seen'"
fi
export LD_PRELOAD="$so${LD_PRELOAD:+:$LD_PRELOAD}"
export GLIBC_TUNABLES="glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-AVX_VNNI,-AMX_TILE,-AMX_INT8,-AMX_BF16${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}"
export ISG_CPU_MASK=avx2
exec "$@"
