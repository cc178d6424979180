"""Turns train_gpu.py's output (state.safetensors, config.json) into an HF directory like
export_hf.py's (decoder tied, vocab.txt, tokenizer_config.json), with a reload round-trip check.

    /usr/bin/python3 import_gpu.py GPU_OUT_DIR [--out work/hf]
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import BertForMaskedLM, Cfg, DEFAULT_CONFIG, load_hf, read_safetensors, save_hf  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("--out", default=os.path.join(HERE, "work", "hf"))
    a = ap.parse_args()
    with open(os.path.join(a.src, "config.json")) as f:
        c = json.load(f)
    model = BertForMaskedLM(Cfg(**{k: c[k] for k in DEFAULT_CONFIG if k in c}))
    model.load_state_dict(read_safetensors(os.path.join(a.src, "state.safetensors")), strict=True)
    save_hf(model, a.out, extra_meta=c.get("bertlens_training"))
    back = load_hf(a.out)
    d = max((back.state_dict()[k] - v).abs().max().item() for k, v in model.state_dict().items())
    print("imported %s -> %s (round-trip max diff %g)" % (a.src, a.out, d))
    sys.exit(0 if d == 0 else 1)


if __name__ == "__main__":
    main()
