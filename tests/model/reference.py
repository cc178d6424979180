#!/usr/bin/python3
"""reference.py — an independent PyTorch implementation of Hugging Face BertModel /
BertForMaskedLM inference (eval mode), used as the ground truth for the C forward pass.

It shares no code with the C side: it reads model.safetensors itself and writes the math
out in torch (float64, so the golden values carry no float32 rounding of their own).

Usage (Debian's /usr/bin/python3 has torch and numpy; no `transformers` needed):

  1. Regenerate the committed golden outputs for the test models (after gen_models.py):
       /usr/bin/python3 tests/model/reference.py --golden
     For each tests/model/models/NAME it writes tests/model/golden/NAME.txt (the index) and
     tests/model/golden/NAME.bin (little-endian float32), which tests/test_bert.c reads.

     /usr/bin/python3 tests/model/reference.py --selfcheck
     compares forward() below with the same model assembled from torch.nn modules
     (nn.MultiheadAttention, nn.LayerNorm, F.gelu) on every test model and case.

  2. Check any Hugging Face BERT directory (for example the trained default model exported
     with `bertlens export-hf -o DIR`) on token ids of your choice:
       /usr/bin/python3 tests/model/reference.py HF_DIR --ids 101,7592,2088,102 \
           [--types 0,0,0,0] [--mlm 2] [--json out.json]
     It prints a JSON object {"n", "layers", "heads", "attentions": [L][H][n][n],
     "hidden": [n][hidden], "mlm": {"POS": [vocab logits]}} (to --json FILE or stdout), the
     same attention layout as `bertlens attention --precision f32`. Get ids for a text with
     `bertlens tokenize -m MODEL TEXT`.

Golden index format (NAME.txt), one item per line, "#" lines are comments:
    model LAYERS HEADS HIDDEN VOCAB
    case N NMLM              -- then three lines:
    ids  N ints
    types N ints
    mlm  NMLM positions      (the line is "mlm" alone when NMLM = 0)
NAME.bin holds, for each case in order: attentions [L][H][N][N], last hidden state [N][HIDDEN],
then NMLM rows of logits [VOCAB]; all float32 little-endian.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- reading a checkpoint
def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (hlen,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + hlen])
    base = 8 + hlen
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = blob[base + a:base + b]
        dt, shape = info["dtype"], info["shape"]
        if dt == "F32":
            arr = np.frombuffer(raw, dtype="<f4").astype(np.float64)
        elif dt == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float64)
        elif dt == "BF16":  # bfloat16 = the top half of a float32
            u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32).astype(np.float64)
        else:
            continue  # e.g. int64 position_ids: not a weight
        out[name] = torch.from_numpy(arr.reshape(shape).copy())
    return out


def canonical(name):
    """HF key -> "embeddings.word_embeddings.weight" style (no bert. prefix, LN weight/bias)."""
    if name.startswith("bert."):
        name = name[5:]
    if "LayerNorm" in name:
        name = name.replace(".gamma", ".weight").replace(".beta", ".bias")
    return name


def load(hf_dir):
    with open(os.path.join(hf_dir, "config.json")) as f:
        cfg = json.load(f)
    raw = read_safetensors(os.path.join(hf_dir, "model.safetensors"))
    w = {canonical(k): v for k, v in raw.items()}
    return cfg, w


# ---------------------------------------------------------------- the model
def activation(name):
    if name == "gelu":
        return lambda x: 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == "relu":
        return lambda x: torch.clamp(x, min=0.0)
    raise ValueError("unsupported hidden_act %r" % name)


def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * g + b


def linear(x, w, name):
    return x @ w[name + ".weight"].T + w[name + ".bias"]


def forward(cfg, w, ids, types):
    """Returns (attentions [L][H][n][n], last hidden [n][hidden]), float64."""
    n = len(ids)
    H, nh, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg.get("layer_norm_eps", 1e-12)
    d = H // nh
    act = activation(cfg.get("hidden_act", "gelu"))
    ids_t, types_t = torch.tensor(ids), torch.tensor(types)
    x = (w["embeddings.word_embeddings.weight"][ids_t]
         + w["embeddings.position_embeddings.weight"][torch.arange(n)]
         + w["embeddings.token_type_embeddings.weight"][types_t])
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    atts = []
    for l in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % l
        split = lambda t: t.view(n, nh, d).transpose(0, 1)   # [heads][n][d]
        q = split(linear(x, w, p + "attention.self.query"))
        k = split(linear(x, w, p + "attention.self.key"))
        v = split(linear(x, w, p + "attention.self.value"))
        probs = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(d), dim=-1)
        atts.append(probs)
        ctx = (probs @ v).transpose(0, 1).reshape(n, H)
        x = layer_norm(x + linear(ctx, w, p + "attention.output.dense"),
                       w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        h = act(linear(x, w, p + "intermediate.dense"))
        x = layer_norm(x + linear(h, w, p + "output.dense"),
                       w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    return torch.stack(atts), x


def has_mlm(w):
    return "cls.predictions.transform.dense.weight" in w


def mlm_logits(cfg, w, hidden_row):
    eps = cfg.get("layer_norm_eps", 1e-12)
    act = activation(cfg.get("hidden_act", "gelu"))
    t = act(linear(hidden_row, w, "cls.predictions.transform.dense"))
    t = layer_norm(t, w["cls.predictions.transform.LayerNorm.weight"],
                   w["cls.predictions.transform.LayerNorm.bias"], eps)
    dec = w.get("cls.predictions.decoder.weight", w["embeddings.word_embeddings.weight"])  # tied
    return t @ dec.T + w["cls.predictions.bias"]


# ---------------------------------------------------------------- a second opinion
def forward_nn(cfg, w, ids, types):
    """The same model assembled from torch.nn building blocks (nn.MultiheadAttention with
    per-head weights, nn.LayerNorm, F.gelu), as a check that forward() above gets the head
    split, scaling and layer order right. Used by --selfcheck."""
    import torch.nn as nn
    import torch.nn.functional as F
    n = len(ids)
    H, nh, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg.get("layer_norm_eps", 1e-12)
    acts = {"gelu": F.gelu, "relu": F.relu,
            "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
            "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh")}
    act = acts[cfg.get("hidden_act", "gelu")]

    def norm(name):
        m = nn.LayerNorm(H, eps=eps).double()
        m.weight.data, m.bias.data = w[name + ".weight"], w[name + ".bias"]
        return m

    def dense(name):
        t = w[name + ".weight"]
        m = nn.Linear(t.shape[1], t.shape[0]).double()
        m.weight.data, m.bias.data = t, w[name + ".bias"]
        return m

    with torch.no_grad():
        emb = nn.Embedding.from_pretrained(w["embeddings.word_embeddings.weight"])
        pos = nn.Embedding.from_pretrained(w["embeddings.position_embeddings.weight"])
        typ = nn.Embedding.from_pretrained(w["embeddings.token_type_embeddings.weight"])
        x = emb(torch.tensor([ids])) + pos(torch.arange(n)[None]) + typ(torch.tensor([types]))
        x = norm("embeddings.LayerNorm")(x)
        atts = []
        for l in range(cfg["num_hidden_layers"]):
            p = "encoder.layer.%d." % l
            mha = nn.MultiheadAttention(H, nh, batch_first=True).double().eval()
            sa = p + "attention.self."
            mha.in_proj_weight.data = torch.cat([w[sa + k + ".weight"] for k in ("query", "key", "value")])
            mha.in_proj_bias.data = torch.cat([w[sa + k + ".bias"] for k in ("query", "key", "value")])
            mha.out_proj.weight.data = w[p + "attention.output.dense.weight"]
            mha.out_proj.bias.data = w[p + "attention.output.dense.bias"]
            y, a = mha(x, x, x, need_weights=True, average_attn_weights=False)
            atts.append(a[0])
            x = norm(p + "attention.output.LayerNorm")(x + y)
            h = dense(p + "output.dense")(act(dense(p + "intermediate.dense")(x)))
            x = norm(p + "output.LayerNorm")(x + h)
    return torch.stack(atts), x[0]


def selfcheck():
    worst = 0.0
    for name in sorted(os.listdir(os.path.join(HERE, "models"))):
        cfg, w = load(os.path.join(HERE, "models", name))
        d = 0.0
        for ids, types, _ in golden_cases(cfg, sum(map(ord, name))):
            a1, h1 = forward(cfg, w, ids, types)
            a2, h2 = forward_nn(cfg, w, ids, types)
            d = max(d, (a1 - a2).abs().max().item(), (h1 - h2).abs().max().item())
        worst = max(worst, d)
        print("%-12s forward() vs torch.nn modules: max diff %.3g" % (name, d))
    if worst > 1e-9:
        print("selfcheck FAILED")
        return 1
    return 0


# ---------------------------------------------------------------- golden cases
def golden_cases(cfg, seed):
    """Fixed token sequences: n=1, a length-7 single sentence, a pair with type ids 1, a
    sequence of max_pos tokens and a pair of max_pos-1 tokens. [MASK]=103, [CLS]=101,
    [SEP]=102 in the 200-token test vocab."""
    rng = np.random.default_rng(1000 + seed)
    V, P = cfg["vocab_size"], cfg["max_position_embeddings"]
    word = lambda k: [int(t) for t in rng.integers(104, V, size=k)]
    cases = []
    cases.append(([101], [0], [0]))
    a = [101, 150, 7, 199, 0, 103, 102]
    cases.append((a, [0] * 7, [5, 1]))
    A, B = word(4), word(3)
    ids = [101] + A + [102] + B + [103, 102]
    types = [0] * (len(A) + 2) + [1] * (len(B) + 2)
    cases.append((ids, types, [len(ids) - 2, 2]))
    full = [101] + word(P - 2) + [102]
    full[P // 2] = 103
    cases.append((full, [0] * P, [P // 2, P - 1, 0]))
    m = P - 1
    half = (m - 3) // 2
    ids = [101] + word(half) + [102] + word(m - 3 - half) + [102]
    types = [0] * (half + 2) + [1] * (m - half - 2)
    if cfg["type_vocab_size"] > 2:   # exercise a third token type where the model has one
        types[-2] = 2
    cases.append((ids, types, [1]))
    return cases


def write_golden(name, hf_dir=None, cases=None):
    """Golden outputs for tests/model/models/NAME (or any hf_dir with the given cases:
    [(ids, types, mlm_positions)]) into tests/model/golden/NAME.{txt,bin}."""
    hf_dir = hf_dir or os.path.join(HERE, "models", name)
    cfg, w = load(hf_dir)
    L, nh, H, V = cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["hidden_size"], cfg["vocab_size"]
    mlm = has_mlm(w)
    out_dir = os.path.join(HERE, "golden")
    os.makedirs(out_dir, exist_ok=True)
    lines = ["# golden outputs of tests/model/reference.py for %s" % (
                 "tests/model/models/" + name if cases is None else name),
             "# format: see reference.py; data in %s.bin (float32 little-endian)" % name,
             "model %d %d %d %d" % (L, nh, H, V)]
    blob = bytearray()
    seed = sum(map(ord, name))
    if cases is None:
        cases = golden_cases(cfg, seed)
    peak = 0.0
    for ids, types, mpos in cases:
        assert len(ids) == len(types) <= cfg["max_position_embeddings"]
        if not mlm:
            mpos = []
        att, hid = forward(cfg, w, ids, types)
        peak = max(peak, float(att.max()))
        lines += ["case %d %d" % (len(ids), len(mpos)),
                  "ids " + " ".join(map(str, ids)),
                  "types " + " ".join(map(str, types)),
                  " ".join(["mlm"] + [str(p) for p in mpos])]
        blob += att.numpy().astype("<f4").tobytes()
        blob += hid.numpy().astype("<f4").tobytes()
        for p in mpos:
            blob += mlm_logits(cfg, w, hid[p]).numpy().astype("<f4").tobytes()
    with open(os.path.join(out_dir, name + ".txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out_dir, name + ".bin"), "wb") as f:
        f.write(blob)
    # how peaked: the largest attention weight, and per head the mean of each row's max
    att, _ = forward(cfg, w, *cases[min(3, len(cases) - 1)][:2])
    row_max = att.max(-1).values.mean(-1)
    print("%-12s %6d bytes  max attention %.4f  mean row max per head (layer 0): %s"
          % (name, len(blob), peak, " ".join("%.2f" % v for v in row_max[0].tolist())))


def write_json(obj, path):
    """The --json output: obj as JSON into path, or on stdout without one."""
    text = json.dumps(obj)
    if path:
        with open(path, "w") as f:
            f.write(text)
    else:
        print(text)


def parse_ints(s):
    return [int(t) for t in s.replace(",", " ").split()] if s else []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("hf_dir", nargs="?", help="Hugging Face BERT directory")
    ap.add_argument("--golden", action="store_true", help="rewrite tests/model/golden/* for every test model")
    ap.add_argument("--selfcheck", action="store_true",
                    help="compare this implementation with one built from torch.nn modules")
    ap.add_argument("--ids", help="token ids, comma or space separated")
    ap.add_argument("--types", help="token type ids (default all 0)")
    ap.add_argument("--mlm", help="positions to compute MLM logits for")
    ap.add_argument("--json", help="write the JSON here instead of stdout")
    args = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    if args.selfcheck:
        return selfcheck()
    if args.golden:
        for name in sorted(os.listdir(os.path.join(HERE, "models"))):  # default.* is default_golden.py's
            write_golden(name)
        return 0
    if not args.hf_dir or not args.ids:
        ap.error("give --golden, or HF_DIR and --ids")
    cfg, w = load(args.hf_dir)
    ids = parse_ints(args.ids)
    types = parse_ints(args.types) or [0] * len(ids)
    if len(types) != len(ids):
        ap.error("--types needs one value per id")
    att, hid = forward(cfg, w, ids, types)
    res = {"n": len(ids), "layers": cfg["num_hidden_layers"], "heads": cfg["num_attention_heads"],
           "attentions": att.tolist(), "hidden": hid.tolist(), "mlm": {}}
    for p in parse_ints(args.mlm):
        if not has_mlm(w):
            ap.error("this checkpoint has no MLM head")
        res["mlm"][str(p)] = mlm_logits(cfg, w, hid[p]).tolist()
    write_json(res, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
