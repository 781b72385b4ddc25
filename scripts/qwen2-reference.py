#!/usr/bin/env python3
"""Reference token ids for a Qwen2.5 GGUF's chat prompt, from Hugging Face transformers.

transformers builds its own fast tokenizer from the GGUF metadata (its GGUF-to-tokenizer
conversion: vocabulary, merges, special tokens and Qwen2's split pattern) and renders the GGUF's
chat template with jinja2. Neither shares code with isg's conversion, so the ids it gives for a
chat prompt are a reference that isg's converted tokenizer must reproduce.

Writes into OUT_DIR (default tests/fixtures/qwen2-reference):
  messages.json    the chat (system + user)
  prompt.txt       the chat template's rendering, ending with the assistant opening
  prompt_ids.json  the ids of prompt.txt (special tokens parsed, nothing added)
  reference.json   the tool versions and the GGUF's SHA-256

Usage (a virtual environment with transformers 4.x, gguf and jinja2; torch is not needed):
  python3 -m venv venv && venv/bin/pip install "transformers<5" gguf jinja2
  venv/bin/python scripts/qwen2-reference.py qwen2.5-coder-0.5b-q4_k_m.gguf

transformers reads GGUF metadata only when PyTorch is importable, although reading the
tokenizer never touches a tensor; the gate is lifted here so that a 1 GB PyTorch install is not
needed for a metadata read.
"""

import argparse
import hashlib
import json
import os
import sys
import tempfile

MESSAGES = [
    {
        "role": "system",
        "content": "You write one-line summaries of source code. Don't repeat the code; it's read by people.",
    },
    {
        "role": "user",
        "content": (
            "Summarize in one line what this Rust function does:\n\n"
            "```rust\n"
            "/// Größe eines Blocks — 1024² = 1048576 Bytes ✓ (naïve café)\n"
            "fn block_total(n: u64) -> u64 {\n"
            "\tlet  mut total = 0u64;   \n"
            "    for i in 0..=12345 {\n"
            "        total += i * 1_000_007 + n;\n"
            "    }\n"
            "\n\n"
            "    total // 日本語のコメント 🚀 x²+y²\r\n"
            "}\n"
            "```"
        ),
    },
]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("gguf", help="the Qwen2.5 GGUF file")
    parser.add_argument(
        "out_dir",
        nargs="?",
        default=os.path.join(here, "..", "tests", "fixtures", "qwen2-reference"),
    )
    args = parser.parse_args()

    from importlib.metadata import version

    import transformers.modeling_gguf_pytorch_utils as gguf_utils

    gguf_utils.is_torch_available = lambda: True
    from transformers import AutoTokenizer

    # transformers wants a folder and a file name inside it.
    with tempfile.TemporaryDirectory() as tmp:
        link = os.path.join(tmp, "model.gguf")
        os.symlink(os.path.abspath(args.gguf), link)
        tok = AutoTokenizer.from_pretrained(tmp, gguf_file="model.gguf")

    prompt = tok.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    ids = tok(prompt, add_special_tokens=False)["input_ids"]
    if not prompt.endswith("<|im_start|>assistant\n"):
        sys.exit(f"unexpected rendering (no assistant opening at the end): {prompt!r}")
    if tok.decode(ids) != prompt:
        sys.exit("the reference tokenizer does not round-trip the prompt")

    os.makedirs(args.out_dir, exist_ok=True)

    def write(name, text):
        with open(os.path.join(args.out_dir, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)

    write("messages.json", json.dumps(MESSAGES, ensure_ascii=False, indent=2) + "\n")
    write("prompt.txt", prompt)
    write("prompt_ids.json", json.dumps(ids) + "\n")
    write(
        "reference.json",
        json.dumps(
            {
                "file": os.path.basename(args.gguf),
                "gguf_sha256": sha256(args.gguf),
                "tool": "transformers AutoTokenizer.from_pretrained(dir, gguf_file=...)",
                "transformers": version("transformers"),
                "tokenizers": version("tokenizers"),
                "gguf": version("gguf"),
                "jinja2": version("jinja2"),
                "tokenizer_class": type(tok).__name__,
                "prompt_tokens": len(ids),
            },
            indent=2,
        )
        + "\n",
    )
    print(f"{len(ids)} ids written to {args.out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
