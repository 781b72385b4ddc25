"""Makes the tiny exported decoders under tests/fixtures/exports/.

For each family (Qwen2, Llama) a random-weight model with a tiny hidden size and a tiny byte-level
BPE tokenizer is built with transformers and exported three ways:

* ONNX Runtime GenAI's model builder, int4 and fp32 (GroupQueryAttention, cache updated in place);
* Hugging Face optimum (`text-generation-with-past`: attention grows the cache by Concat).

Each exporting tool's own runtime then decodes a fixed prompt greedily, and the prompt ids, the
generated ids and their text are written to `expected.json` in the folder: onnxruntime-genai's
generator for the builder folders, a plain onnxruntime greedy loop (what optimum's
ORTModelForCausalLM runs) for the optimum ones.

Usage: python make-export-fixtures.py models|genai|optimum OUT_DIR WORK_DIR
(the builder needs transformers 5, optimum-onnx 0.1.0 needs transformers < 4.58: two venvs)
"""

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LlamaConfig,
    PreTrainedTokenizerFast,
    Qwen2Config,
)

PROMPT = "fn add(a: i32, b: i32) -> i32 { a + b }"
NEW_TOKENS = 12
CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS = [
    "fn main() { println!(\"hello, world\"); }",
    "pub struct Counter { n: u64 } impl Counter { pub fn bump(&mut self) { self.n += 1; } }",
    "def add(a, b):\n    return a + b\n",
    "The module reads a source tree and writes a summary of every chunk.",
    "async fn fetch(url: &str) -> Result<String, Error> { client.get(url).send().await }",
    "for (i, x) in items.iter().enumerate() { total += x * i; }",
] * 20


def make_tokenizer(out):
    """A byte-level BPE tokenizer with about 400 entries and ChatML special tokens."""
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
    )
    fast.chat_template = CHATML
    fast.save_pretrained(out)
    return fast


def make_model(family, tok, out):
    torch.manual_seed(20261129 if family == "qwen2" else 7)
    common = dict(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=1024,
        rope_theta=10000.0,
        tie_word_embeddings=False,
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        bos_token_id=None,
        pad_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
        torch_dtype="float32",
    )
    config = Qwen2Config(**common) if family == "qwen2" else LlamaConfig(**common)
    model = AutoModelForCausalLM.from_config(config)
    # Larger weights than the default init so that the greedy choice is well separated.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.2)
    model.eval()
    model.save_pretrained(out, safe_serialization=True)
    model.generation_config.save_pretrained(out)


def genai_greedy(folder, prompt_ids):
    import onnxruntime_genai as og

    model = og.Model(folder)
    params = og.GeneratorParams(model)
    params.set_search_options(
        do_sample=False, max_length=len(prompt_ids) + NEW_TOKENS, min_length=len(prompt_ids) + NEW_TOKENS
    )
    gen = og.Generator(model, params)
    gen.append_tokens(prompt_ids)
    while not gen.is_done():
        gen.generate_next_token()
    seq = list(gen.get_sequence(0))
    return [int(t) for t in seq[len(prompt_ids):]]


def ort_greedy(folder, prompt_ids):
    """The greedy loop optimum's ORTModelForCausalLM runs: past in, present out, grown by one."""
    import onnxruntime as ort

    sess = ort.InferenceSession(os.path.join(folder, "model.onnx"))
    names = [i.name for i in sess.get_inputs()]
    past = {}
    for i in sess.get_inputs():
        if i.name.startswith("past_key_values"):
            heads, dim = i.shape[1], i.shape[3]
            past[i.name] = np.zeros((1, heads, 0, dim), dtype=np.float32)
    ids = list(prompt_ids)
    out = []
    step = np.array([ids], dtype=np.int64)
    total = len(ids)
    for _ in range(NEW_TOKENS):
        feed = {"input_ids": step, "attention_mask": np.ones((1, total), dtype=np.int64)}
        if "position_ids" in names:
            n = step.shape[1]
            feed["position_ids"] = np.arange(total - n, total, dtype=np.int64)[None, :]
        feed.update(past)
        outs = sess.run(None, feed)
        onames = [o.name for o in sess.get_outputs()]
        logits = outs[onames.index("logits")]
        token = int(np.argmax(logits[0, -1]))
        out.append(token)
        for n, v in zip(onames, outs):
            if n.startswith("present"):
                past[n.replace("present", "past_key_values")] = v
        step = np.array([[token]], dtype=np.int64)
        total += 1
    return out


def record(folder, tool, tok, greedy):
    prompt_ids = tok(PROMPT, add_special_tokens=True)["input_ids"]
    ids = greedy(folder, prompt_ids)
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    if eos in ids:
        raise SystemExit(f"{folder}: the greedy answer reaches end-of-sequence; pick another seed")
    text = tok.decode(ids, skip_special_tokens=True)
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(
            {
                "tool": tool,
                "prompt": PROMPT,
                "prompt_ids": prompt_ids,
                "greedy_ids": ids,
                "greedy_text": text,
            },
            f,
            indent=1,
        )
        f.write("\n")
    print(f"{folder}: {ids}")


def stage_models(work):
    """Tokenizer and random-weight Hugging Face folders (any transformers version)."""
    tok_dir = os.path.join(work, "tokenizer")
    make_tokenizer(tok_dir)
    tok = AutoTokenizer.from_pretrained(tok_dir)
    for family in ["qwen2", "llama"]:
        hf = os.path.join(work, f"{family}-hf")
        shutil.rmtree(hf, ignore_errors=True)
        make_model(family, tok, hf)
        tok.save_pretrained(hf)
        # transformers 5 writes rope settings under `rope_parameters`; older readers (optimum's
        # transformers < 4.58) would fall back to their default unless `rope_theta` is explicit.
        path = os.path.join(hf, "config.json")
        with open(path) as f:
            config = json.load(f)
        config["rope_theta"] = 10000.0
        with open(path, "w") as f:
            json.dump(config, f, indent=2)
    for folder in [tok_dir] + [os.path.join(work, f"{f}-hf") for f in ["qwen2", "llama"]]:
        # transformers 5 names its own backend class, which transformers 4.57 does not know.
        path = os.path.join(folder, "tokenizer_config.json")
        with open(path) as f:
            config = json.load(f)
        config["tokenizer_class"] = "PreTrainedTokenizerFast"
        with open(path, "w") as f:
            json.dump(config, f, indent=2)


def stage_genai(out_root, work):
    """ONNX Runtime GenAI's model builder, int4 and fp32, checked with its own generator."""
    tok = AutoTokenizer.from_pretrained(os.path.join(work, "tokenizer"))
    for family in ["qwen2", "llama"]:
        hf = os.path.join(work, f"{family}-hf")
        for precision in ["int4", "fp32"]:
            dest = os.path.join(out_root, f"{family}-genai-{precision}")
            shutil.rmtree(dest, ignore_errors=True)
            subprocess.run(
                [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", hf, "-o", dest,
                 "-p", precision, "-e", "cpu", "-c", os.path.join(work, "cache")],
                check=True,
            )
            record(dest, f"onnxruntime-genai {version('onnxruntime-genai')} model builder "
                   f"(-p {precision} -e cpu), transformers {version('transformers')}",
                   tok, genai_greedy)


def stage_optimum(out_root, work):
    """optimum's ONNX export, checked with the greedy loop of plain onnxruntime."""
    tok = AutoTokenizer.from_pretrained(os.path.join(work, "tokenizer"))
    for family in ["qwen2", "llama"]:
        hf = os.path.join(work, f"{family}-hf")
        dest = os.path.join(out_root, f"{family}-optimum")
        shutil.rmtree(dest, ignore_errors=True)
        cli = os.path.join(os.path.dirname(sys.executable), "optimum-cli")
        subprocess.run(
            [cli, "export", "onnx", "--model", hf, "--task", "text-generation-with-past", dest],
            check=True,
        )
        record(dest, f"optimum-onnx {version('optimum-onnx')} (optimum-cli export onnx --task "
               f"text-generation-with-past), transformers {version('transformers')}, "
               f"onnxruntime {version('onnxruntime')}", tok, ort_greedy)


def main():
    stage, out_root, work = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out_root, exist_ok=True)
    os.makedirs(work, exist_ok=True)
    {"models": lambda: stage_models(work),
     "genai": lambda: stage_genai(out_root, work),
     "optimum": lambda: stage_optimum(out_root, work)}[stage]()


if __name__ == "__main__":
    main()
