#!/usr/bin/python3
"""export_onnx.py — a random BERT encoder of a given shape as ONNX, for bench/run.sh.

    /usr/bin/python3 bench/export_onnx.py OUT.onnx [--shape default|base|distilbert|roberta]

The graph is what bertlens computes per forward: embeddings + LayerNorm, then per layer
self-attention (all attention probabilities returned, as the visualizer needs them) and the
feed-forward block, GELU (erf). Inputs: input_ids [1, n] (int64); outputs: last_hidden
[1, n, hidden] and attentions [layers, heads, n, n]; n is a dynamic axis. The weights are
random: the benchmark measures time, and onnxruntime-web runs the f32 graph (no int8 tooling
on this machine), so the comparison is bertlens int8 vs onnxruntime-web f32, said so in the
results. Only torch is needed (torch.onnx.export), no transformers.
"""
import argparse
import math

import torch
import torch.nn as nn

SHAPES = {
    "default": dict(layers=4, hidden=256, heads=4, intermediate=1024),
    "base": dict(layers=12, hidden=768, heads=12, intermediate=3072),
    # the shapes bench_forward.c makes for these families: DistilBERT 6 layers without token
    # types; RoBERTa BERT-base with a 50265-piece vocabulary and positions after pad_id 1
    "distilbert": dict(layers=6, hidden=768, heads=12, intermediate=3072, type_vocab=0),
    "roberta": dict(layers=12, hidden=768, heads=12, intermediate=3072, vocab=50265, max_pos=514, pos_offset=2),
}


class Layer(nn.Module):
    def __init__(self, H, heads, I):
        super().__init__()
        self.heads, self.d = heads, H // heads
        self.q, self.k, self.v, self.o = (nn.Linear(H, H) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(H, eps=1e-12), nn.LayerNorm(H, eps=1e-12)
        self.i, self.f = nn.Linear(H, I), nn.Linear(I, H)

    def forward(self, x):                      # x [n, H]
        n = x.shape[0]
        def split(t):
            return t.view(n, self.heads, self.d).transpose(0, 1)   # [heads, n, d]
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        p = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(self.d), dim=-1)
        ctx = (p @ v).transpose(0, 1).reshape(n, -1)
        x = self.ln1(x + self.o(ctx))
        x = self.ln2(x + self.f(torch.nn.functional.gelu(self.i(x))))
        return x, p


class Bert(nn.Module):
    def __init__(self, layers, hidden, heads, intermediate, vocab=30522, max_pos=512, type_vocab=2, pos_offset=0):
        super().__init__()
        self.word = nn.Embedding(vocab, hidden)
        self.pos = nn.Embedding(max_pos, hidden)
        self.pos_offset = pos_offset
        self.token_type = nn.Embedding(type_vocab, hidden) if type_vocab else None
        self.ln = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList(Layer(hidden, heads, intermediate) for _ in range(layers))

    def forward(self, input_ids):             # [1, n]
        ids = input_ids[0]
        n = ids.shape[0]
        pos = torch.arange(n, dtype=torch.int64) + self.pos_offset
        x = self.word(ids) + self.pos(pos)
        if self.token_type is not None:
            x = x + self.token_type(torch.zeros_like(ids))
        x = self.ln(x)
        atts = []
        for layer in self.layers:
            x, p = layer(x)
            atts.append(p)
        return x.unsqueeze(0), torch.stack(atts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="default")
    a = ap.parse_args()
    torch.manual_seed(0)
    m = Bert(**SHAPES[a.shape]).eval()
    ids = torch.randint(5, 30000, (1, 16), dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(m, (ids,), a.out, input_names=["input_ids"],
                          output_names=["last_hidden", "attentions"],
                          dynamic_axes={"input_ids": {1: "n"}, "last_hidden": {1: "n"},
                                        "attentions": {2: "n", 3: "n"}},
                          opset_version=14, do_constant_folding=True)
    print(a.out)


if __name__ == "__main__":
    main()
