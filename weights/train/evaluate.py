"""Evaluate an HF directory (default work/hf) on the held-out split, with fixed seeds.

    /usr/bin/python3 evaluate.py [--hf work/hf] [--n-seq 2000] [--write-sample]

1. MLM loss, masked-token top-1 and top-5 accuracy on --n-seq held-out sequences of 128 tokens
   (same construction and 15% 80/10/10 masking as training, seed 4321).
2. With --write-sample: weights/train/heldout_eval.jsonl, ~200 held-out sentences with one or two
   whole words replaced by [MASK] (words that are a single wordpiece), the expected ids, and the
   torch model's top-5 predictions for each mask; the accuracy on exactly that set goes to
   weights/train/heldout_eval_summary.json. CI can run the shipped int8 model's fill-mask on
   the same lines and compare.
   Each line: {"text", "src", "expected_ids", "expected_tokens", "torch_top1_ids",
               "torch_top5_ids", "torch_correct"}; masks in order of appearance. Input to the
   model is [CLS] text [SEP] tokenized by bert_tokenize.py (HF-exact).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402
from bert_tokenize import BertTokenizer  # noqa: E402
from model import load_hf, mlm_scores  # noqa: E402


def mlm_eval(model, n_seq, seed=4321, L=128, B=64):
    held = data.Split("heldout", weighted=False)
    rng = np.random.default_rng(seed)
    batches = [data.make_batch(held, rng, min(B, n_seq - i), L) for i in range(0, n_seq, B)]
    loss, top1, top5, n = mlm_scores(model, batches)
    return {"sequences": n_seq, "masked_tokens": n, "loss": loss, "top1": top1, "top5": top5}


def build_sample(tok, n_total=200, seed=7):
    rows = [json.loads(l) for l in open(os.path.join(data.DATA, "heldout_text.jsonl"), encoding="utf-8")]
    rng = np.random.default_rng(seed)
    by_src = {}
    for r in rows:
        t = r["text"]
        words = t.split()
        if not (6 <= len(words) <= 30 and t.isascii() and r["n"] <= 60):
            continue
        letters = sum(ch.isalpha() or ch == " " for ch in t)
        if letters < 0.85 * len(t) or t[-1] not in ".!?\"'":
            continue
        by_src.setdefault(r["src"], []).append(t)
    srcs = sorted(by_src)
    per = max(1, n_total // len(srcs))
    picked = []
    for s in srcs:
        lst = by_src[s]
        idx = rng.permutation(len(lst))[:per]
        picked += [(s, lst[i]) for i in sorted(idx)]
    # top up from the largest pools if some sources were short
    i = 0
    while len(picked) < n_total and i < 10000:
        s = srcs[i % len(srcs)]
        t = by_src[s][int(rng.integers(len(by_src[s])))]
        if (s, t) not in picked:
            picked.append((s, t))
        i += 1
    out = []
    for s, t in picked:
        words = t.split()
        cands = [j for j, w in enumerate(words) if w.isalpha() and tok.vocab.get(w.lower(), 0) >= 999]
        if not cands:
            continue
        k = 2 if (len(cands) >= 4 and rng.random() < 0.25) else 1
        chosen = sorted(rng.choice(cands, size=k, replace=False).tolist())
        exp = [tok.vocab[words[j].lower()] for j in chosen]
        masked = " ".join("[MASK]" if j in chosen else w for j, w in enumerate(words))
        enc = tok.encode(masked)
        if enc["ids"].count(tok.mask_id) != k:
            continue
        out.append({"text": masked, "src": s, "expected_ids": exp,
                    "expected_tokens": [tok.inv[e] for e in exp]})
    return out[:n_total]


@torch.no_grad()
def score_sample(model, tok, sample):
    n = c1 = c5 = 0
    for r in sample:
        enc = tok.encode(r["text"])
        ids = torch.tensor([enc["ids"]])
        lg = model(ids, torch.tensor([enc["type_ids"]]))[0]
        pos = [i for i, x in enumerate(enc["ids"]) if x == tok.mask_id]
        top5 = lg[pos].topk(5, dim=-1).indices.tolist()
        r["torch_top1_ids"] = [t[0] for t in top5]
        r["torch_top5_ids"] = top5
        r["torch_correct"] = [int(t[0] == e) for t, e in zip(top5, r["expected_ids"])]
        n += len(pos)
        c1 += sum(r["torch_correct"])
        c5 += sum(int(e in t) for t, e in zip(top5, r["expected_ids"]))
    return {"sentences": len(sample), "masks": n, "top1": c1 / n, "top5": c5 / n}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hf", default=os.path.join(HERE, "work", "hf"))
    ap.add_argument("--n-seq", type=int, default=2000)
    ap.add_argument("--write-sample", action="store_true")
    ap.add_argument("--sample-out", default=os.path.join(HERE, "heldout_eval.jsonl"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_hf(args.hf)
    res = {"hf_dir": os.path.relpath(args.hf, HERE)}
    cfgp = json.load(open(os.path.join(args.hf, "config.json")))
    res["training"] = cfgp.get("bertlens_training")
    res["heldout_mlm"] = mlm_eval(model, args.n_seq)
    print(json.dumps(res["heldout_mlm"]), flush=True)
    if args.write_sample:
        tok = BertTokenizer()
        sample = build_sample(tok)
        res["fill_mask_sample"] = score_sample(model, tok, sample)
        os.makedirs(os.path.dirname(os.path.abspath(args.sample_out)), exist_ok=True)
        with open(args.sample_out, "w", encoding="utf-8") as f:
            for r in sample:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(json.dumps(res["fill_mask_sample"]), flush=True)
        summ = os.path.splitext(args.sample_out)[0] + "_summary.json"
        with open(summ, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
