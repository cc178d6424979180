#!/usr/bin/python3
"""gen_peaked.py — a random BERT checkpoint whose heads are as peaked as trained BERT's, and
its attention from tests/model/reference.py (torch, float64), for tests/test_fidelity.c.

The test checkpoints of gen_models.py are only mildly peaked (int8 moves their attention by
at most 0.011); on heads whose logits have the spread real BERT heads reach, per-row int8
weights move single attention weights by 0.1–0.5. This builds such a model the way
bench/fidelity_sim.py does (its numpy model chose the int12 format), but as a Hugging Face
directory that the converter and the C forward run:

  4 layers × hidden 256, 4 heads, intermediate 1024 (the default model's shape); weights
  N(0, 0.04²) as trained BERT's; LayerNorm gains of 6 on three channels (the outlier channels
  trained models have, which set each row's activation scale); every head gets an aligned
  rank-2 part in W_q and W_k, and Q and K are scaled so that the first layer's logits on the
  first case have the standard deviation asked for (trained heads: about 4–8). Word
  embeddings N(0, 1), positions N(0, 0.3²).

usage: gen_peaked.py OUT_DIR [--logit-std 4] [--seed 1] [--name peaked]
writes OUT_DIR/hf/ (config.json, model.safetensors F32, vocab.txt) and the golden files
OUT_DIR/NAME.txt + NAME.bin in reference.py's golden format (attentions and last hidden state
per case, no MLM head), and prints how peaked the heads are. numpy + torch, deterministic."""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_models  # noqa: E402  (write_safetensors, to_bytes)
import reference  # noqa: E402  (load, forward)

H, NH, L, I, P, V = 256, 4, 4, 1024, 64, 200
D = H // NH


def ln_np(x, g, b):
    m = x.mean(1, keepdims=True)
    v = ((x - m) ** 2).mean(1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-12) * g + b


def cases(rng):
    """A 48-token sentence and a 64-token pair ([CLS]=101, [SEP]=102, words from 104..199)."""
    word = lambda k: [int(t) for t in rng.integers(104, V, size=k)]
    a = [101] + word(46) + [102]
    pa, pb = word(30), word(31)
    b = [101] + pa + [102] + pb + [102]
    return [(a, [0] * len(a)), (b, [0] * (len(pa) + 2) + [1] * (len(pb) + 1))]


def make(seed, logit_std):
    rng = np.random.default_rng(seed)
    gain = np.ones(H)
    gain[rng.integers(0, H, 3)] = 6.0
    w = {"embeddings.word_embeddings.weight": rng.standard_normal((V, H)),
         "embeddings.position_embeddings.weight": rng.standard_normal((P, H)) * 0.3,
         "embeddings.token_type_embeddings.weight": rng.standard_normal((2, H)) * 0.3,
         "embeddings.LayerNorm.weight": gain.copy(), "embeddings.LayerNorm.bias": np.zeros(H)}
    names = dict(q="attention.self.query", k="attention.self.key", v="attention.self.value",
                 o="attention.output.dense", i="intermediate.dense", f="output.dense")
    shapes = dict(q=(H, H), k=(H, H), v=(H, H), o=(H, H), i=(I, H), f=(H, I))
    for l in range(L):
        p = "encoder.layer.%d." % l
        m = {k: rng.standard_normal(s) * 0.04 for k, s in shapes.items()}
        for h in range(NH):
            u, v = rng.standard_normal((D, 2)), rng.standard_normal((H, 2))
            m["q"][h * D:(h + 1) * D] += 0.3 * u @ v.T / np.sqrt(H)
            m["k"][h * D:(h + 1) * D] += 0.3 * u @ v.T / np.sqrt(H)
        for k, nm in names.items():
            w[p + nm + ".weight"] = m[k]
            w[p + nm + ".bias"] = rng.standard_normal(I if k == "i" else H) * 0.05
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[p + ln + ".weight"] = gain.copy()
            w[p + ln + ".bias"] = rng.standard_normal(H) * 0.05
    cs = cases(rng)
    # scale Q and K (weights and biases) so that layer 0's logits on case 0 have logit_std
    ids, types = cs[0]
    x0 = ln_np(w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:len(ids)]
               + w["embeddings.token_type_embeddings.weight"][types], gain, 0.0)
    p0 = "encoder.layer.0.attention.self."
    q = x0 @ w[p0 + "query.weight"].T + w[p0 + "query.bias"]
    k = x0 @ w[p0 + "key.weight"].T + w[p0 + "key.bias"]
    s0 = np.mean([(q[:, h * D:(h + 1) * D] @ k[:, h * D:(h + 1) * D].T / math.sqrt(D)).std() for h in range(NH)])
    f = math.sqrt(logit_std / s0)
    for l in range(L):
        for nm in ("query", "key"):
            for t in ("weight", "bias"):
                w["encoder.layer.%d.attention.self.%s.%s" % (l, nm, t)] *= f
    return w, cs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--logit-std", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--name", default="peaked")
    a = ap.parse_args()
    w, cs = make(a.seed, a.logit_std)
    hf = os.path.join(a.out_dir, "hf")
    os.makedirs(hf, exist_ok=True)
    cfg = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": V, "hidden_size": H,
           "num_hidden_layers": L, "num_attention_heads": NH, "intermediate_size": I,
           "max_position_embeddings": P, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu"}
    with open(os.path.join(hf, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    with open(gen_models.VOCAB_SRC) as f:
        vocab = [next(f) for _ in range(V)]
    with open(os.path.join(hf, "vocab.txt"), "w") as f:
        f.writelines(vocab)
    gen_models.write_safetensors(os.path.join(hf, "model.safetensors"),
                                 [(k, "F32", v.shape, gen_models.to_bytes(v, "F32")) for k, v in w.items()])
    # the golden: reference.py's forward on the F32 file as written (float64 maths)
    rcfg, rw = reference.load(hf)
    lines = ["# tests/model/gen_peaked.py --logit-std %g --seed %d: reference.py attention, float64" % (a.logit_std, a.seed),
             "model %d %d %d %d" % (L, NH, H, V)]
    blob = bytearray()
    peaked = []
    for ids, types in cs:
        with torch.no_grad():
            att, hid = reference.forward(rcfg, rw, ids, types)
        peaked.append(float((att.max(-1).values > 0.9).double().mean()))
        lines += ["case %d 0" % len(ids), "ids " + " ".join(map(str, ids)), "types " + " ".join(map(str, types)), "mlm"]
        blob += att.numpy().astype("<f4").tobytes() + hid.numpy().astype("<f4").tobytes()
    with open(os.path.join(a.out_dir, a.name + ".txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(a.out_dir, a.name + ".bin"), "wb") as f:
        f.write(blob)
    print("gen_peaked: logit std %g, seed %d: %.0f%% of attention rows put > 0.9 on one token"
          % (a.logit_std, a.seed, 100 * np.mean(peaked)))


if __name__ == "__main__":
    main()
