#!/usr/bin/python3
"""gen_models.py — write the small random Hugging Face BERT checkpoints used by test_bert.

Usage (from the repo root; numpy only, deterministic):
    /usr/bin/python3 tests/model/gen_models.py          # rewrites tests/model/models/*/
then regenerate the golden outputs with tests/model/reference.py --golden.

Each model directory is what a Hugging Face BertModel / BertForMaskedLM save looks like:
config.json, model.safetensors (written by hand here: 8-byte little-endian header length, JSON
header {name: {dtype, shape, data_offsets}}, raw little-endian data), vocab.txt (the first 200
lines of the bert-base-uncased vocab: [PAD], [unused*], [UNK]=100, [CLS]=101, [SEP]=102,
[MASK]=103, ...) and tokenizer_config.json.

The models together cover what the converter and the forward pass must handle:
  tiny_f32     F32, "bert." prefix, MLM head with the decoder stored (tied copy), pooler and
               an int64 position_ids buffer to ignore, erf GELU, 4 heads of 8
  odd_f16      F16, no prefix, LayerNorm.gamma/beta, no MLM head, 3 heads × 20 = 60 hidden,
               intermediate 100, 3 layers, type_vocab 3, gelu_new (tanh), eps 1e-5
  untied_relu  F32, "bert." prefix, MLM head with an untied decoder, relu, 6 heads of 6
  bf16_tanh    BF16, "bert." prefix, MLM head with the decoder absent (tied), gelu_pytorch_tanh,
               1 layer, 2 heads × 12, intermediate 50

Attention is made peaked on purpose (uniform attention would hide bugs in indexing and
softmax), the way trained BERT heads are: by alignment, not by huge weights. A few "anchor"
tokens ([CLS], [SEP], [MASK]) get word embeddings dominated by a direction v of their own; an
anchor head h gets key weights A·u_h vᵀ (plus small noise) and query bias B·u_h, so every token
scores the anchor token ~A·B·√hidden/√d above the rest and puts > 0.9 on it (where the
sequence has one such anchor). Random heads (query/key weights scaled by s_h ≈ 1) stay soft.
Big scores from big random weights would also be peaked, but int8 per-row quantization error
is then a fixed fraction of every score and swamps the 2e-2 attention tolerance; with aligned
vectors the error is ~1/√hidden of that, as in real checkpoints.
"""
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VOCAB_SRC = os.path.join(ROOT, "weights", "vocab-bert-base-uncased.txt")

MODELS = [
    dict(name="tiny_f32", seed=1, dtype="F32", prefix="bert.", ln="weight", mlm="stored",
         extras=True, hidden=32, heads=4, layers=2, inter=40, max_pos=24, type_vocab=2,
         act="gelu", eps=1e-12, head_scales=[0.8, 1.0, 0.5, 0.5], anchors={2: 101, 3: 102}),
    dict(name="odd_f16", seed=2, dtype="F16", prefix="", ln="gamma", mlm=None,
         extras=False, hidden=60, heads=3, layers=3, inter=100, max_pos=40, type_vocab=3,
         act="gelu_new", eps=1e-5, head_scales=[1.0, 0.5, 0.5], anchors={1: 101, 2: 103}),
    dict(name="untied_relu", seed=3, dtype="F32", prefix="bert.", ln="weight", mlm="untied",
         extras=False, hidden=36, heads=6, layers=2, inter=52, max_pos=16, type_vocab=2,
         act="relu", eps=1e-12, head_scales=[0.7, 0.8, 0.9, 0.5, 0.5, 0.5],
         anchors={3: 101, 4: 102, 5: 103}),
    dict(name="bf16_tanh", seed=4, dtype="BF16", prefix="bert.", ln="weight", mlm="tied",
         extras=False, hidden=24, heads=2, layers=1, inter=50, max_pos=12, type_vocab=2,
         act="gelu_pytorch_tanh", eps=1e-12, head_scales=[1.0, 0.5], anchors={1: 102}),
]
# Anchor heads (see the module docstring): key weight A·u vᵀ, query bias B·u.
ANCHOR_EMB, ANCHOR_A, ANCHOR_B = 3.0, 2.0, 3.0
# Residual branches (attention output, FFN output) at half the scale of the stream they add
# to, as in trained BERT: errors of one layer are not amplified by the next.
RESIDUAL_BRANCH = 0.5
VOCAB_SIZE = 200


def to_bytes(a, dtype):
    a = np.asarray(a, dtype=np.float32)
    if dtype == "F32":
        return a.astype("<f4").tobytes()
    if dtype == "F16":
        return a.astype("<f2").tobytes()
    if dtype == "BF16":  # round to nearest even on the top 16 bits
        u = a.view(np.uint32).astype(np.uint64)
        u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
        return u.astype("<u2").tobytes()
    raise ValueError(dtype)


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, shape, bytes) in file order."""
    header, off = {}, 0
    for name, dt, shape, data in tensors:
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(data)]}
        off += len(data)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # the reference writer pads the header with spaces to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for _, _, _, data in tensors:
            f.write(data)


def make_model(spec, vocab_lines, root=None):
    rng = np.random.default_rng(spec["seed"])
    H, I, nh = spec["hidden"], spec["inter"], spec["heads"]
    d = H // nh
    P, dt = spec["prefix"], spec["dtype"]
    g, b = ("gamma", "beta") if spec["ln"] == "gamma" else ("weight", "bias")
    out = []

    def add(name, arr, dtype=None):
        arr = np.asarray(arr, dtype=np.float32)
        dtype = dtype or dt
        out.append((name, dtype, arr.shape, to_bytes(arr, dtype)))

    def lin(name, n_out, n_in, scale=1.0):
        add(name + ".weight", rng.normal(0, scale / np.sqrt(n_in), (n_out, n_in)))
        add(name + ".bias", rng.normal(0, 0.1, n_out))

    def ln(name, n):
        add(name + "." + g, 1.0 + rng.normal(0, 0.1, n))
        add(name + "." + b, rng.normal(0, 0.1, n))

    word = rng.normal(0, 1.0, (VOCAB_SIZE, H))
    # anchor tokens: their embedding is dominated by a direction of their own
    anchor_dir = {}
    for tok in sorted(set(spec["anchors"].values())):
        v = rng.normal(0, 1.0, H)
        anchor_dir[tok] = v / np.linalg.norm(v)
        word[tok] = ANCHOR_EMB * np.sqrt(H) * anchor_dir[tok] + rng.normal(0, 1.0, H)
    head_u = {h: (lambda u: u / np.linalg.norm(u))(rng.normal(0, 1.0, d)) for h in spec["anchors"]}
    add(P + "embeddings.word_embeddings.weight", word)
    add(P + "embeddings.position_embeddings.weight", rng.normal(0, 0.5, (spec["max_pos"], H)))
    add(P + "embeddings.token_type_embeddings.weight", rng.normal(0, 0.5, (spec["type_vocab"], H)))
    ln(P + "embeddings.LayerNorm", H)
    if spec["extras"]:  # HF saves this buffer; the converter must skip it (int64)
        ids = np.arange(spec["max_pos"], dtype="<i8")[None, :]
        out.append((P + "embeddings.position_ids", "I64", ids.shape, ids.tobytes()))
    # per-output-row scale for q/k: rows of head h are scaled by head_scales[h]
    row_scale = np.repeat(np.asarray(spec["head_scales"], dtype=np.float64), d)[:, None]
    for l in range(spec["layers"]):
        pre = P + "encoder.layer.%d." % l
        for which in ("query", "key"):
            w = rng.normal(0, 1.0 / np.sqrt(H), (H, H)) * row_scale
            bias = rng.normal(0, 0.1, H)
            for h, tok in spec["anchors"].items():
                rows = slice(h * d, (h + 1) * d)
                if which == "key":
                    w[rows] += ANCHOR_A * np.outer(head_u[h], anchor_dir[tok])
                else:
                    bias[rows] += ANCHOR_B * head_u[h]
            add(pre + "attention.self.%s.weight" % which, w)
            add(pre + "attention.self.%s.bias" % which, bias)
        lin(pre + "attention.self.value", H, H)
        lin(pre + "attention.output.dense", H, H, RESIDUAL_BRANCH)
        ln(pre + "attention.output.LayerNorm", H)
        lin(pre + "intermediate.dense", I, H)
        lin(pre + "output.dense", H, I, RESIDUAL_BRANCH)
        ln(pre + "output.LayerNorm", H)
    if spec["extras"]:
        lin(P + "pooler.dense", H, H)
    if spec["mlm"]:
        lin("cls.predictions.transform.dense", H, H)
        ln("cls.predictions.transform.LayerNorm", H)
        add("cls.predictions.bias", rng.normal(0, 0.1, VOCAB_SIZE), "F32" if dt == "F32" else dt)
        if spec["mlm"] == "stored":
            add("cls.predictions.decoder.weight", word)
        elif spec["mlm"] == "untied":
            add("cls.predictions.decoder.weight", rng.normal(0, 1.0, (VOCAB_SIZE, H)))

    arch = "BertForMaskedLM" if spec["mlm"] else "BertModel"
    cfg = {
        "architectures": [arch], "model_type": "bert", "vocab_size": VOCAB_SIZE,
        "hidden_size": H, "num_hidden_layers": spec["layers"], "num_attention_heads": nh,
        "intermediate_size": I, "hidden_act": spec["act"], "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": spec["max_pos"],
        "type_vocab_size": spec["type_vocab"], "initializer_range": 0.02,
        "layer_norm_eps": spec["eps"], "pad_token_id": 0,
        "position_embedding_type": "absolute", "torch_dtype": {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dt],
    }
    d_out = os.path.join(root or os.path.join(HERE, "models"), spec["name"])
    os.makedirs(d_out, exist_ok=True)
    with open(os.path.join(d_out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(d_out, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": spec["max_pos"]}, f, indent=2)
        f.write("\n")
    with open(os.path.join(d_out, "vocab.txt"), "w") as f:
        f.write("".join(vocab_lines))
    write_safetensors(os.path.join(d_out, "model.safetensors"), out)
    size = sum(len(t[3]) for t in out)
    print("%-12s %s %7d bytes of tensors" % (spec["name"], dt, size))


def main():
    with open(VOCAB_SRC) as f:
        lines = [next(f) for _ in range(VOCAB_SIZE)]
    for spec in MODELS:
        make_model(spec, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
