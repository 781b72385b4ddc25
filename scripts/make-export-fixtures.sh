#!/usr/bin/env bash
# Regenerates tests/fixtures/exports/: tiny random-weight Qwen2 and Llama decoders exported by
# ONNX Runtime GenAI's model builder (int4, fp32) and by optimum, each with the greedy tokens its
# exporting tool's runtime produced on a fixed prompt (expected.json).
#
# Usage: scripts/make-export-fixtures.sh [GENAI_VENV] [OPTIMUM_VENV]
# The builder (onnxruntime-genai 0.18.0) needs transformers 5; optimum-onnx 0.1.0 needs
# transformers < 4.58, hence two virtual environments, created when missing
# (default .venv-exports-genai and .venv-exports-optimum).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
genai="${1:-$root/.venv-exports-genai}"
optimum="${2:-$root/.venv-exports-optimum}"
# torch from PyPI pulls GPU libraries these CPU exports do not need: install it alone, then its
# pure-Python dependencies.
base="filelock typing-extensions sympy networkx jinja2 fsspec numpy onnx onnxruntime"
if [ ! -x "$genai/bin/python" ]; then
    python3 -m venv "$genai"
    "$genai/bin/pip" install --no-deps torch
    "$genai/bin/pip" install $base "transformers>=5,<6" onnxruntime-genai==0.18.0 onnx-ir
fi
if [ ! -x "$optimum/bin/python" ]; then
    python3 -m venv "$optimum"
    "$optimum/bin/pip" install --no-deps torch
    "$optimum/bin/pip" install $base "transformers>=4.57,<4.58" optimum-onnx==0.1.0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$root/tests/fixtures/exports"
"$genai/bin/python" "$root/scripts/make-export-fixtures.py" models "$out" "$work"
"$genai/bin/python" "$root/scripts/make-export-fixtures.py" genai "$out" "$work"
"$optimum/bin/python" "$root/scripts/make-export-fixtures.py" optimum "$out" "$work"
for v in "$genai" "$optimum"; do
    "$v/bin/pip" freeze | grep -iE '^(torch|transformers|onnx|onnxruntime|onnxruntime-genai|onnx-ir|optimum|optimum-onnx|tokenizers)==' | sed "s|^|$(basename "$v"): |"
done > "$out/versions.txt"
du -sh "$out"/*
