#!/usr/bin/env bash
# Exports a real GGUF model (default: the catalog's Qwen2.5-Coder-0.5B) with ONNX Runtime GenAI's
# model builder (int4, fp32) and with optimum, and checks each export's greedy answer with the
# exporting tool's own runtime. The README's figures for exported models come from these folders.
#
# Usage: scripts/export-real-model.sh GGUF OUT_DIR [GENAI_VENV] [OPTIMUM_VENV]
# The venvs are those of scripts/make-export-fixtures.sh (created there when missing). OUT_DIR
# gets hf/ (about 2.5 GB for the 0.5B), genai-int4/ (0.9 GB), genai-fp32/ and optimum/ (2.5 GB each).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
gguf="$1"
out="$2"
genai="${3:-$root/.venv-exports-genai}"
optimum="${4:-$root/.venv-exports-optimum}"
mkdir -p "$out"
py="$root/scripts/export-gguf-hf.py"
"$genai/bin/python" "$py" hf "$gguf" "$out/hf"
for p in int4 fp32; do
    rm -rf "$out/genai-$p"
    "$genai/bin/python" -m onnxruntime_genai.models.builder -i "$out/hf" -o "$out/genai-$p" \
        -p "$p" -e cpu -c "$out/cache-$p"
    rm -rf "$out/cache-$p"
    "$genai/bin/python" "$py" genai "$out/genai-$p" "$out/hf"
done
rm -rf "$out/optimum"
"$optimum/bin/optimum-cli" export onnx --model "$out/hf" --task text-generation-with-past "$out/optimum"
"$optimum/bin/python" "$py" optimum "$out/optimum"
