#!/usr/bin/python3
"""norms_golden.py — value-weighted attention norms (Kobayashi et al. 2020, "Attention is Not
Only a Weight") written out in torch float64, for tests/test_norms.c. No code shared with
core/analysis/norms.c: the forward pass is reference.py's (an independent restatement of
Hugging Face BertModel), and the norms are computed straight from their definition:

    f_h(x_j) = (x_j W_V^h + b_V^h) W_O^h          W_O^h: the d input columns of the output dense
    norms[l][h][i][j]     = || alpha^h_ij f_h(x_j) ||
    norms_layer[l][i][j]  = || sum_h alpha^h_ij f_h(x_j) ||   (the output bias is left out)

    /usr/bin/python3 tests/model/norms_golden.py
reads the cases (token ids, type ids) of tests/model/golden/NAME.txt for each BERT test model
and writes tests/model/golden/norms_NAME.bin: per case, norms [L][H][n][n] then norms_layer
[L][n][n], float32 little-endian.
"""
import math
import os

import numpy as np
import torch

import reference as R

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = ["tiny_f32", "untied_relu", "bf16_tanh", "odd_f16"]


def cases_of(name):
    out, lines = [], [l.split() for l in open(os.path.join(HERE, "golden", name + ".txt")) if l.strip() and l[0] != "#"]
    for i, t in enumerate(lines):
        if t[0] == "case":
            out.append(([int(x) for x in lines[i + 1][1:]], [int(x) for x in lines[i + 2][1:]]))
    return out


def norms(cfg, w, ids, types):
    n = len(ids)
    H, nh, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg.get("layer_norm_eps", 1e-12)
    d = H // nh
    act = R.activation(cfg.get("hidden_act", "gelu"))
    x = (w["embeddings.word_embeddings.weight"][torch.tensor(ids)]
         + w["embeddings.position_embeddings.weight"][torch.arange(n)]
         + w["embeddings.token_type_embeddings.weight"][torch.tensor(types)])
    x = R.layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    per_head, per_layer = [], []
    for l in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % l
        q = R.linear(x, w, p + "attention.self.query")
        k = R.linear(x, w, p + "attention.self.key")
        v = R.linear(x, w, p + "attention.self.value")
        wo = w[p + "attention.output.dense.weight"]              # [out][in]
        nl = torch.zeros(nh, n, n, dtype=torch.float64)
        summed = torch.zeros(n, n, H, dtype=torch.float64)       # sum_h alpha^h_ij f_h(x_j)
        ctx = torch.zeros(n, H, dtype=torch.float64)
        for h in range(nh):
            sl = slice(h * d, (h + 1) * d)
            a = torch.softmax(q[:, sl] @ k[:, sl].T / math.sqrt(d), dim=-1)   # [i][j]
            f = v[:, sl] @ wo[:, sl].T                                        # [j][H] = f_h(x_j)
            weighted = a[:, :, None] * f[None, :, :]                          # [i][j][H]
            nl[h] = weighted.norm(dim=-1)
            summed += weighted
            ctx[:, sl] = a @ v[:, sl]
        per_head.append(nl)
        per_layer.append(summed.norm(dim=-1))
        # the rest of the layer, as reference.forward computes it
        x = R.layer_norm(x + R.linear(ctx, w, p + "attention.output.dense"),
                         w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        hdn = act(R.linear(x, w, p + "intermediate.dense"))
        x = R.layer_norm(x + R.linear(hdn, w, p + "output.dense"),
                         w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    return torch.stack(per_head), torch.stack(per_layer)


def selfcheck_layer_sum():
    """sum over heads of the attention-weighted f_h is the attention output minus its bias:
    a second statement of f_h, checked on the first model and case."""
    cfg, w = R.load(os.path.join(HERE, "models", MODELS[0]))
    ids, types = cases_of(MODELS[0])[1]
    atts, _ = R.forward(cfg, w, ids, types)
    nh, H = cfg["num_attention_heads"], cfg["hidden_size"]
    d = H // nh
    # reference.forward's layer 0 input
    n = len(ids)
    eps = cfg.get("layer_norm_eps", 1e-12)
    x = (w["embeddings.word_embeddings.weight"][torch.tensor(ids)] + w["embeddings.position_embeddings.weight"][torch.arange(n)]
         + w["embeddings.token_type_embeddings.weight"][torch.tensor(types)])
    x = R.layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    v = R.linear(x, w, "encoder.layer.0.attention.self.value")
    wo = w["encoder.layer.0.attention.output.dense.weight"]
    out = sum(atts[0][h] @ (v[:, h * d:(h + 1) * d] @ wo[:, h * d:(h + 1) * d].T) for h in range(nh))
    ctx = torch.cat([atts[0][h] @ v[:, h * d:(h + 1) * d] for h in range(nh)], dim=1)
    assert torch.allclose(out, ctx @ wo.T, atol=1e-10), "f_h slices do not add up to the output projection"


def main():
    torch.set_grad_enabled(False)
    selfcheck_layer_sum()
    for name in MODELS:
        cfg, w = R.load(os.path.join(HERE, "models", name))
        chunks = []
        for ids, types in cases_of(name):
            a, b = norms(cfg, w, ids, types)
            chunks += [a.numpy().astype("<f4").ravel(), b.numpy().astype("<f4").ravel()]
        np.concatenate(chunks).tofile(os.path.join(HERE, "golden", "norms_%s.bin" % name))


if __name__ == "__main__":
    main()
