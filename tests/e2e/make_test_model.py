#!/usr/bin/env python3
"""make_test_model.py — a small random BERT as a Hugging Face directory, for the web tests.

    python3 tests/e2e/make_test_model.py OUT_DIR [--seed N]
    build/bertlens convert OUT_DIR -o test-model.int8.bin --dtype int8

Writes config.json, model.safetensors (F32), vocab.txt (bert-base-uncased) and
tokenizer_config.json. Standard library only (no numpy/torch on the test machines).
The weights are random but scaled so that attention is peaked rather than uniform: a uniform
map would hide errors in the comparison of the WebAssembly and native forward passes.
"""
import argparse
import array
import json
import os
import random
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CFG = dict(vocab_size=30522, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
           intermediate_size=128, max_position_embeddings=128, type_vocab_size=2,
           layer_norm_eps=1e-12, hidden_act="gelu", model_type="bert",
           architectures=["BertForMaskedLM"])


def tensors(rng):
    H, I, V, P = CFG["hidden_size"], CFG["intermediate_size"], CFG["vocab_size"], CFG["max_position_embeddings"]

    def rand(shape, std):
        n = 1
        for d in shape:
            n *= d
        return shape, array.array("f", (rng.gauss(0.0, std) for _ in range(n)))

    def const(shape, v):
        n = 1
        for d in shape:
            n *= d
        return shape, array.array("f", [v]) * n

    t = {
        "bert.embeddings.word_embeddings.weight": rand([V, H], 0.5),
        "bert.embeddings.position_embeddings.weight": rand([P, H], 0.5),
        "bert.embeddings.token_type_embeddings.weight": rand([2, H], 0.5),
        "bert.embeddings.LayerNorm.weight": const([H], 1.0),
        "bert.embeddings.LayerNorm.bias": rand([H], 0.05),
    }
    for i in range(CFG["num_hidden_layers"]):
        p = f"bert.encoder.layer.{i}."
        for n in ("query", "key", "value"):
            # large q/k so that softmax rows are far from uniform
            t[p + f"attention.self.{n}.weight"] = rand([H, H], 0.35 if n != "value" else 0.15)
            t[p + f"attention.self.{n}.bias"] = rand([H], 0.05)
        t[p + "attention.output.dense.weight"] = rand([H, H], 0.15)
        t[p + "attention.output.dense.bias"] = rand([H], 0.05)
        t[p + "attention.output.LayerNorm.weight"] = const([H], 1.0)
        t[p + "attention.output.LayerNorm.bias"] = rand([H], 0.05)
        t[p + "intermediate.dense.weight"] = rand([I, H], 0.15)
        t[p + "intermediate.dense.bias"] = rand([I], 0.05)
        t[p + "output.dense.weight"] = rand([H, I], 0.1)
        t[p + "output.dense.bias"] = rand([H], 0.05)
        t[p + "output.LayerNorm.weight"] = const([H], 1.0)
        t[p + "output.LayerNorm.bias"] = rand([H], 0.05)
    t["cls.predictions.transform.dense.weight"] = rand([H, H], 0.15)
    t["cls.predictions.transform.dense.bias"] = rand([H], 0.05)
    t["cls.predictions.transform.LayerNorm.weight"] = const([H], 1.0)
    t["cls.predictions.transform.LayerNorm.bias"] = rand([H], 0.05)
    t["cls.predictions.bias"] = rand([V], 0.1)
    return t


def write_safetensors(path, ts):
    header, off, blobs = {}, 0, []
    for name, (shape, data) in ts.items():
        if sys.byteorder != "little":
            data.byteswap()
        b = data.tobytes()
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1234)
    # bert-base shape for timing the page: --layers 12 --hidden 768 --heads 12 --intermediate 3072
    ap.add_argument("--layers", type=int, default=CFG["num_hidden_layers"])
    ap.add_argument("--hidden", type=int, default=CFG["hidden_size"])
    ap.add_argument("--heads", type=int, default=CFG["num_attention_heads"])
    ap.add_argument("--intermediate", type=int, default=CFG["intermediate_size"])
    ap.add_argument("--max-pos", type=int, default=CFG["max_position_embeddings"])
    ap.add_argument("--no-mlm", action="store_true", help="leave out the MLM head (cls.*)")
    a = ap.parse_args()
    CFG.update(num_hidden_layers=a.layers, hidden_size=a.hidden, num_attention_heads=a.heads,
               intermediate_size=a.intermediate, max_position_embeddings=a.max_pos)
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    ts = tensors(rng)
    if a.no_mlm:
        ts = {k: v for k, v in ts.items() if not k.startswith("cls.")}
        CFG["architectures"] = ["BertModel"]
    write_safetensors(os.path.join(a.out, "model.safetensors"), ts)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(CFG, f, indent=1)
    with open(os.path.join(a.out, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True}, f)
    with open(os.path.join(ROOT, "weights", "vocab-bert-base-uncased.txt"), "rb") as src, \
            open(os.path.join(a.out, "vocab.txt"), "wb") as dst:
        dst.write(src.read())


if __name__ == "__main__":
    main()
