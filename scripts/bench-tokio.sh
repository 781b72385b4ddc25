#!/usr/bin/env bash
# Summarizes the whole tokio crate (1.54.1, from the cargo registry) with the default settings
# into a temporary output folder and prints wall time, chunks/min, tokens/s and peak RSS from
# its run.json. Usage: scripts/bench-tokio.sh [extra isg summarize flags...]
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

cargo build --release -q --manifest-path "$here/Cargo.toml"
out="$(mktemp -d -t isg-bench-tokio.XXXXXX)"
echo "summarizing $tokio into $out" >&2
status=0
"$here/target/release/isg" summarize "$tokio" --out "$out" "$@" || status=$?

python3 - "$out/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t, s = r["totals"], r["times"]
print(f"model            {r['model']}")
print(f"files / chunks   {t['files']} / {t['chunks']} ({t['cached']} cached, {t['computed']} computed, {t['failed']} failed)")
print(f"wall time        {t['wall_seconds']:.1f} s")
print(f"chunks/min       {t['chunks_per_min']:.1f}")
print(f"prompt tokens    {t['prompt_tokens']}  ({t['prompt_tokens'] / max(t['wall_seconds'], 1e-9):.0f} tok/s over the wall time)")
print(f"generated tokens {t['generated_tokens']}")
print(f"prefill tok/s    {t['prefill_tok_s']:.0f}")
print(f"decode tok/s     {t['decode_tok_s']:.0f}")
print(f"peak RSS         {t['peak_rss_bytes'] / 2**20:.0f} MiB")
print("stage seconds    " + ", ".join(f"{k} {v:.1f}" for k, v in s.items()))
PY
echo "outputs in $out" >&2
exit "$status"
