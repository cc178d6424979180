"""Export a training checkpoint (work/ckpt/last.pt by default; intermediate ones work too) to a
Hugging Face BERT directory: config.json, model.safetensors (F32), vocab.txt, tokenizer_config.json.

    /usr/bin/python3 export_hf.py [--ckpt work/ckpt/last.pt] [--out work/hf]
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import BertForMaskedLM, Cfg, load_hf, save_hf  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "work", "ckpt", "last.pt"))
    ap.add_argument("--out", default=os.path.join(HERE, "work", "hf"))
    args = ap.parse_args()
    st = torch.load(args.ckpt, map_location="cpu")
    m = BertForMaskedLM(Cfg(**st["config"]))
    m.load_state_dict(st["model"])
    meta = {"steps": st["step"], "tokens_seen": st["tokens"],
            "train_minutes": round(st["train_secs"] / 60, 1)}
    if st.get("history"):
        meta["last_heldout_subset_eval"] = st["history"][-1]
    save_hf(m, args.out, meta)
    # round trip check: reload and compare a forward pass
    m2 = load_hf(args.out)
    m.eval()
    ids = torch.tensor([[101, 1996, 4937, 2938, 2006, 1996, 103, 1012, 102]])
    typ = torch.zeros_like(ids)
    with torch.no_grad():
        d = (m(ids, typ) - m2(ids, typ)).abs().max().item()
    print("exported step %d to %s (round-trip max diff %.3g)" % (st["step"], args.out, d))
    assert d < 1e-5


if __name__ == "__main__":
    main()
