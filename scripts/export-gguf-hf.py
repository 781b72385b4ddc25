"""Dequantizes a Qwen2/Llama GGUF into a plain Hugging Face folder (fp32 safetensors, tokenizer)
that the exporters read, and checks each export's greedy answer with its tool's own runtime.

Usage:
  python export-gguf-hf.py hf GGUF OUT_DIR        (transformers 5: dequantize and save)
  python export-gguf-hf.py genai FOLDER HF_DIR    (onnxruntime-genai's generator on a builder folder)
  python export-gguf-hf.py optimum FOLDER         (optimum's ORTModelForCausalLM on an optimum folder)

transformers 5 will not save a model loaded from a GGUF, so a plain model is built from its
config and the weights are copied over; `quantization_config` is dropped (the builder would
read it as a quantized checkpoint) and `rope_theta` is written explicitly (transformers 4.57,
which optimum-onnx 0.1.0 needs, does not read transformers 5's `rope_parameters`).
"""

import json
import os
import sys

QUESTION = "Write a Python function that adds two numbers."
NEW_TOKENS = 30


def chat_ids(tok):
    ids = tok.apply_chat_template(
        [{"role": "user", "content": QUESTION}], add_generation_prompt=True
    )
    return list(ids["input_ids"] if hasattr(ids, "keys") else ids)


def stage_hf(gguf, out):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = os.path.split(os.path.abspath(gguf))
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    src = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    plain = AutoModelForCausalLM.from_config(src.config, dtype=torch.float32)
    plain.load_state_dict(src.state_dict(), strict=True)
    plain.eval()
    plain.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    path = os.path.join(out, "config.json")
    with open(path) as f:
        config = json.load(f)
    config.pop("quantization_config", None)
    config["rope_theta"] = float((config.get("rope_parameters") or {}).get("rope_theta", 10000.0))
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    path = os.path.join(out, "tokenizer_config.json")
    with open(path) as f:
        config = json.load(f)
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    ids = torch.tensor([chat_ids(tok)])
    with torch.no_grad():
        out_ids = plain.generate(ids, max_new_tokens=NEW_TOKENS, do_sample=False)
    print("transformers:", repr(tok.decode(out_ids[0, ids.shape[1]:], skip_special_tokens=True)))


def check_genai(folder, hf):
    import onnxruntime_genai as og
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(hf)
    ids = chat_ids(tok)
    model = og.Model(folder)
    params = og.GeneratorParams(model)
    params.set_search_options(do_sample=False, max_length=len(ids) + NEW_TOKENS)
    gen = og.Generator(model, params)
    gen.append_tokens(ids)
    while not gen.is_done():
        gen.generate_next_token()
    out = list(gen.get_sequence(0))[len(ids):]
    print(f"{folder}: {tok.decode(out, skip_special_tokens=True)!r}")


def check_optimum(folder):
    import torch
    from optimum.onnxruntime import ORTModelForCausalLM
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = ORTModelForCausalLM.from_pretrained(folder)
    ids = torch.tensor([chat_ids(tok)])
    out = model.generate(ids, max_new_tokens=NEW_TOKENS, do_sample=False)
    print(f"{folder}: {tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True)!r}")


if __name__ == "__main__":
    stage = sys.argv[1]
    if stage == "hf":
        stage_hf(sys.argv[2], sys.argv[3])
    elif stage == "genai":
        check_genai(sys.argv[2], sys.argv[3])
    elif stage == "optimum":
        check_optimum(sys.argv[2])
    else:
        raise SystemExit(f"unknown stage {stage!r}: hf, genai or optimum")
