#!/usr/bin/python3
"""families.py — the BERT family beyond BERT: random checkpoints in each family's exact Hugging
Face key layout, and an independent torch restatement of each family's HF modeling code that
writes the golden outputs tests/test_families.c compares the C forward pass with.

Families restated here (eval mode, eager attention, one sequence, no padding mask — what
`model(input_ids, output_attentions=True)` computes in transformers):
  bert        BertModel + BertForMaskedLM / BertForTokenClassification /
              BertForSequenceClassification (pooler: dense + tanh on token 0, then classifier);
              sentence-transformers checkpoints are BertModel with bare keys
  distilbert  DistilBertModel: word + position embeddings (no token types), LayerNorm eps
              1e-12 everywhere, q_lin/k_lin/v_lin/out_lin (q scaled before Q·Kᵀ),
              sa_layer_norm, ffn.lin1/lin2 with config.activation, output_layer_norm;
              sinusoidal_pos_embds fills the position table; MLM vocab_transform + activation
              + vocab_layer_norm + vocab_projector; sequence head pre_classifier + ReLU +
              classifier on token 0
  roberta     RobertaModel (also xlm-roberta, camembert): position ids
              padding_idx + cumsum(ids != pad) · (ids != pad), i.e. pad + 1 + i without
              padding; token type ids 0; lm_head dense + erf GELU + layer_norm + decoder;
              RobertaClassificationHead dense + tanh + out_proj on token 0
  electra     ElectraModel: embeddings of size embedding_size, then embeddings_project when
              embedding_size != hidden_size; generator_predictions dense (hidden ->
              embedding) + erf GELU + LayerNorm, generator_lm_head; discriminator_predictions
              dense + hidden_act + dense_prediction (one logit per token, "replaced" =
              sigmoid); ElectraClassificationHead dense + erf GELU + out_proj on token 0
  albert      AlbertModel: factorized embeddings, encoder.embedding_hidden_mapping_in, layer
              group int(i / (num_hidden_layers / num_hidden_groups)) applied for each of the
              num_hidden_layers steps, each group running its inner_group_num layers (every
              application's attention kept: num_hidden_layers × inner_group_num maps);
              predictions dense (hidden -> embedding) + hidden_act + LayerNorm + decoder;
              sequence head pooler (dense + tanh on token 0) + classifier

Usage (/usr/bin/python3 with python3-torch and numpy; no transformers needed):
  /usr/bin/python3 tests/model/families.py            # tests/model/families/NAME/ checkpoints
                                                      # and tests/model/golden_families/NAME.*
  /usr/bin/python3 tests/model/families.py --selfcheck  # float64 restatement vs torch.nn modules
  /usr/bin/python3 tests/model/families.py HF_DIR --ids 0,31414,232,2 [--json OUT]

Golden index (NAME.txt), one item per line, '#' comments:
  model FAMILY MAPS HEADS HIDDEN VOCAB HEADKIND NLABELS
      MAPS = attention maps (layers; ALBERT: num_hidden_layers × inner_group_num),
      HEADKIND none | mlm | token | seq | disc (the task head; mlm = masked LM only)
  case N NMLM        then lines "ids ...", "types ...", "mlm POS..." as reference.py's
NAME.bin, per case: attentions [MAPS][HEADS][N][N], last hidden [N][HIDDEN], NMLM rows of MLM
logits [VOCAB], then the task head's logits: token/disc [N][NLABELS], seq [NLABELS]; float32 LE.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_models import to_bytes, write_safetensors  # noqa: E402  (the hand-written safetensors writer)
from reference import activation, linear, parse_ints, read_safetensors, write_json  # noqa: E402
from reference import layer_norm as layer_norm_gb  # noqa: E402

VOCAB_SIZE = 200


# ================================================================ the restatement (float64)
def act_fn(name):
    """reference.py's activations, plus tanh (an activation the families' configs may name)."""
    return torch.tanh if name == "tanh" else activation(name)


def layer_norm(x, w, name, eps):
    g = w[name + ".weight"] if name + ".weight" in w else w[name + ".gamma"]
    b = w[name + ".bias"] if name + ".bias" in w else w[name + ".beta"]
    return layer_norm_gb(x, g, b, eps)


def strip(w, prefix):
    """The base model's keys without the family prefix (checkpoints come with or without it)."""
    out = {}
    for k, v in w.items():
        out[k[len(prefix):] if k.startswith(prefix) else k] = v
    return out


def attention(x, w, q, k, v, nh, scale_q_first=False):
    """Eager self-attention: returns (context [n][H], probs [heads][n][n])."""
    n, H = x.shape
    d = H // nh
    split = lambda t: t.view(n, nh, d).transpose(0, 1)
    Q, K, V = split(linear(x, w, q)), split(linear(x, w, k)), split(linear(x, w, v))
    if scale_q_first:   # DistilBERT: q = q / sqrt(d); scores = q·kᵀ
        scores = (Q / math.sqrt(d)) @ K.transpose(1, 2)
    else:
        scores = Q @ K.transpose(1, 2) / math.sqrt(d)
    probs = torch.softmax(scores, dim=-1)
    return (probs @ V).transpose(0, 1).reshape(n, H), probs


def bert_layer(x, w, p, nh, eps, act):
    """BertLayer / RobertaLayer / ElectraLayer (identical keys)."""
    ctx, probs = attention(x, w, p + "attention.self.query", p + "attention.self.key",
                           p + "attention.self.value", nh)
    x = layer_norm(linear(ctx, w, p + "attention.output.dense") + x, w, p + "attention.output.LayerNorm", eps)
    h = act(linear(x, w, p + "intermediate.dense"))
    x = layer_norm(linear(h, w, p + "output.dense") + x, w, p + "output.LayerNorm", eps)
    return x, probs


def roberta_position_ids(ids, pad):
    mask = (ids != pad).long()
    return torch.cumsum(mask, dim=0) * mask + pad


def forward(cfg, raw, ids, types):
    """Returns dict: attentions [maps][heads][n][n], hidden [n][H], and callables mlm(pos) /
    head() for the checkpoint's heads (None when absent)."""
    mt = cfg["model_type"]
    ids_t = torch.tensor(ids)
    n = len(ids)
    out = {"mlm": None, "head": None, "head_kind": "none", "labels": 0}
    arch = (cfg.get("architectures") or [""])[0]
    if mt == "distilbert":
        w = strip(raw, "distilbert.")
        nh, eps, act = cfg["n_heads"], 1e-12, act_fn(cfg.get("activation", "gelu"))
        x = w["embeddings.word_embeddings.weight"][ids_t] + w["embeddings.position_embeddings.weight"][torch.arange(n)]
        x = layer_norm(x, w, "embeddings.LayerNorm", eps)
        atts = []
        for l in range(cfg["n_layers"]):
            p = "transformer.layer.%d." % l
            ctx, probs = attention(x, w, p + "attention.q_lin", p + "attention.k_lin", p + "attention.v_lin", nh,
                                   scale_q_first=True)
            sa = layer_norm(linear(ctx, w, p + "attention.out_lin") + x, w, p + "sa_layer_norm", eps)
            f = linear(act(linear(sa, w, p + "ffn.lin1")), w, p + "ffn.lin2")
            x = layer_norm(f + sa, w, p + "output_layer_norm", eps)
            atts.append(probs)
        if "vocab_transform.weight" in raw:
            def mlm(pos, x=x):
                t = act(linear(x[pos], raw, "vocab_transform"))
                t = layer_norm(t, raw, "vocab_layer_norm", 1e-12)
                dec = raw.get("vocab_projector.weight", w["embeddings.word_embeddings.weight"])
                return t @ dec.T + raw["vocab_projector.bias"]
            out["mlm"] = mlm
        if "pre_classifier.weight" in raw:
            out["head_kind"] = "seq"
            out["head"] = lambda x=x: linear(torch.relu(linear(x[0], raw, "pre_classifier")), raw, "classifier")
        elif "classifier.weight" in raw:
            out["head_kind"] = "token"
            out["head"] = lambda x=x: linear(x, raw, "classifier")
    elif mt in ("bert", "roberta", "xlm-roberta", "camembert", "electra"):
        pref = {"bert": "bert.", "electra": "electra."}.get(mt, "roberta.")
        w = strip(raw, pref)
        nh, eps = cfg["num_attention_heads"], cfg.get("layer_norm_eps", 1e-12)
        act = act_fn(cfg.get("hidden_act", "gelu"))
        if mt in ("roberta", "xlm-roberta", "camembert"):
            pos = roberta_position_ids(ids_t, cfg["pad_token_id"])
        else:
            pos = torch.arange(n)
        types_t = torch.tensor(types) if mt in ("bert", "electra") else torch.zeros(n, dtype=torch.long)
        x = (w["embeddings.word_embeddings.weight"][ids_t] + w["embeddings.position_embeddings.weight"][pos]
             + w["embeddings.token_type_embeddings.weight"][types_t])
        x = layer_norm(x, w, "embeddings.LayerNorm", eps)
        if mt == "electra" and "embeddings_project.weight" in w:
            x = linear(x, w, "embeddings_project")
        atts = []
        for l in range(cfg["num_hidden_layers"]):
            x, probs = bert_layer(x, w, "encoder.layer.%d." % l, nh, eps, act)
            atts.append(probs)
        gelu = act_fn("gelu")
        if mt == "bert":
            if "cls.predictions.transform.dense.weight" in raw:
                def mlm(pos, x=x):
                    t = act(linear(x[pos], raw, "cls.predictions.transform.dense"))
                    t = layer_norm(t, raw, "cls.predictions.transform.LayerNorm", eps)
                    dec = raw.get("cls.predictions.decoder.weight", w["embeddings.word_embeddings.weight"])
                    return t @ dec.T + raw["cls.predictions.bias"]
                out["mlm"] = mlm
            if "classifier.weight" in raw and "SequenceClassification" in arch:
                out["head_kind"] = "seq"
                out["head"] = lambda x=x: linear(torch.tanh(linear(x[0], w, "pooler.dense")), raw, "classifier")
            elif "classifier.weight" in raw:
                out["head_kind"] = "token"
                out["head"] = lambda x=x: linear(x, raw, "classifier")
        elif mt == "electra":
            if "generator_predictions.dense.weight" in raw:
                def mlm(pos, x=x):
                    t = gelu(linear(x[pos], raw, "generator_predictions.dense"))
                    t = layer_norm(t, raw, "generator_predictions.LayerNorm", eps)
                    dec = raw.get("generator_lm_head.weight", w["embeddings.word_embeddings.weight"])
                    return t @ dec.T + raw["generator_lm_head.bias"]
                out["mlm"] = mlm
            if "discriminator_predictions.dense.weight" in raw:
                out["head_kind"] = "disc"
                out["head"] = lambda x=x: linear(act(linear(x, raw, "discriminator_predictions.dense")), raw,
                                                 "discriminator_predictions.dense_prediction")
            elif "classifier.out_proj.weight" in raw:
                out["head_kind"] = "seq"
                out["head"] = lambda x=x: linear(gelu(linear(x[0], raw, "classifier.dense")), raw, "classifier.out_proj")
            elif "classifier.weight" in raw:
                out["head_kind"] = "token"
                out["head"] = lambda x=x: linear(x, raw, "classifier")
        else:  # roberta, xlm-roberta, camembert
            if "lm_head.dense.weight" in raw:
                def mlm(pos, x=x):
                    t = gelu(linear(x[pos], raw, "lm_head.dense"))
                    t = layer_norm(t, raw, "lm_head.layer_norm", eps)
                    dec = raw.get("lm_head.decoder.weight", w["embeddings.word_embeddings.weight"])
                    return t @ dec.T + raw["lm_head.bias"]
                out["mlm"] = mlm
            if "classifier.out_proj.weight" in raw:
                out["head_kind"] = "seq"
                out["head"] = lambda x=x: linear(torch.tanh(linear(x[0], raw, "classifier.dense")), raw, "classifier.out_proj")
            elif "classifier.weight" in raw:
                out["head_kind"] = "token"
                out["head"] = lambda x=x: linear(x, raw, "classifier")
    elif mt == "albert":
        w = strip(raw, "albert.")
        nh, eps = cfg["num_attention_heads"], cfg.get("layer_norm_eps", 1e-12)
        act = act_fn(cfg.get("hidden_act", "gelu_new"))
        x = (w["embeddings.word_embeddings.weight"][ids_t] + w["embeddings.position_embeddings.weight"][torch.arange(n)]
             + w["embeddings.token_type_embeddings.weight"][torch.tensor(types)])
        x = layer_norm(x, w, "embeddings.LayerNorm", eps)
        x = linear(x, w, "encoder.embedding_hidden_mapping_in")
        N, G, K = cfg["num_hidden_layers"], cfg.get("num_hidden_groups", 1), cfg.get("inner_group_num", 1)
        atts = []
        for i in range(N):
            g = int(i / (N / G))
            for j in range(K):
                p = "encoder.albert_layer_groups.%d.albert_layers.%d." % (g, j)
                ctx, probs = attention(x, w, p + "attention.query", p + "attention.key", p + "attention.value", nh)
                a = layer_norm(x + linear(ctx, w, p + "attention.dense"), w, p + "attention.LayerNorm", eps)
                f = linear(act(linear(a, w, p + "ffn")), w, p + "ffn_output")
                x = layer_norm(f + a, w, p + "full_layer_layer_norm", eps)
                atts.append(probs)
        if "predictions.dense.weight" in raw:
            def mlm(pos, x=x):
                t = act(linear(x[pos], raw, "predictions.dense"))
                t = layer_norm(t, raw, "predictions.LayerNorm", eps)
                dec = raw.get("predictions.decoder.weight", w["embeddings.word_embeddings.weight"])
                return t @ dec.T + raw["predictions.bias"]
            out["mlm"] = mlm
        if "classifier.weight" in raw and "SequenceClassification" in arch:
            out["head_kind"] = "seq"
            out["head"] = lambda x=x: linear(torch.tanh(linear(x[0], w, "pooler")), raw, "classifier")
        elif "classifier.weight" in raw:
            out["head_kind"] = "token"
            out["head"] = lambda x=x: linear(x, raw, "classifier")
    else:
        raise ValueError("unsupported model_type %r" % mt)
    out["attentions"] = torch.stack(atts)
    out["hidden"] = x
    if out["head"] is not None:
        out["labels"] = 1 if out["head_kind"] == "disc" else len(cfg["id2label"])
    return out


# ================================================================ a second opinion
def selfcheck_layer(x, wq, bq, wk, bk, wv, bv, nh):
    """nn.MultiheadAttention's probabilities for the same projections (float64)."""
    import torch.nn as nn
    n, H = x.shape
    mha = nn.MultiheadAttention(H, nh, batch_first=True).double().eval()
    mha.in_proj_weight.data = torch.cat([wq, wk, wv])
    mha.in_proj_bias.data = torch.cat([bq, bk, bv])
    _, a = mha(x[None], x[None], x[None], need_weights=True, average_attn_weights=False)
    return a[0]


def selfcheck():
    """Every family's first map against nn.MultiheadAttention on the same embedded input,
    and the final LayerNorm of every family against nn.LayerNorm: catches head splitting,
    scaling and normalisation mistakes in the restatement."""
    worst = 0.0
    for name in sorted(os.listdir(os.path.join(HERE, "families"))):
        d = os.path.join(HERE, "families", name)
        cfg, raw = load(d)
        ids, types, _ = cases(cfg, name)[1]
        res = forward(cfg, raw, ids, types)
        mt = cfg["model_type"]
        pre = {"distilbert": "distilbert.", "albert": "albert.", "electra": "electra.", "bert": "bert."}.get(mt, "roberta.")
        w = strip(raw, pre)
        nh = cfg.get("n_heads", cfg.get("num_attention_heads"))
        x_in = embed_only(cfg, raw, ids, types)
        if mt == "distilbert":
            p = "transformer.layer.0.attention."
            names = [p + "q_lin", p + "k_lin", p + "v_lin"]
        elif mt == "albert":
            p = "encoder.albert_layer_groups.0.albert_layers.0.attention."
            names = [p + "query", p + "key", p + "value"]
        else:
            p = "encoder.layer.0.attention.self."
            names = [p + "query", p + "key", p + "value"]
        a = selfcheck_layer(x_in, *[w[nm + s] for nm in names for s in (".weight", ".bias")], nh)
        dd = (a - res["attentions"][0]).abs().max().item()
        worst = max(worst, dd)
        print("%-16s layer-0 attention vs nn.MultiheadAttention: %.3g" % (name, dd))
    if worst > 1e-9:
        print("selfcheck FAILED")
        return 1
    return 0


def embed_only(cfg, raw, ids, types):
    """The input of the first attention, written with nn.Embedding / nn.LayerNorm modules."""
    import torch.nn as nn
    mt = cfg["model_type"]
    pre = {"distilbert": "distilbert.", "albert": "albert.", "electra": "electra.", "bert": "bert."}.get(mt, "roberta.")
    w = strip(raw, pre)
    ids_t = torch.tensor([ids])
    n = len(ids)
    E = w["embeddings.word_embeddings.weight"].shape[1]
    eps = 1e-12 if mt == "distilbert" else cfg.get("layer_norm_eps", 1e-12)
    emb = lambda k: nn.Embedding.from_pretrained(w["embeddings.%s.weight" % k])
    if mt in ("roberta", "xlm-roberta", "camembert"):
        pad = cfg["pad_token_id"]
        pos = torch.tensor([[pad + 1 + sum(1 for t in ids[:i + 1] if t != pad) - 1 if ids[i] != pad else pad
                             for i in range(n)]])
    else:
        pos = torch.arange(n)[None]
    x = emb("word_embeddings")(ids_t) + emb("position_embeddings")(pos)
    if mt != "distilbert":
        tt = torch.zeros_like(ids_t) if mt in ("roberta", "xlm-roberta", "camembert") else torch.tensor([types])
        x = x + emb("token_type_embeddings")(tt)
    ln = nn.LayerNorm(E, eps=eps).double()
    ln.weight.data, ln.bias.data = w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"]
    x = ln(x)[0]
    if mt == "electra" and "embeddings_project.weight" in w:
        x = x @ w["embeddings_project.weight"].T + w["embeddings_project.bias"]
    if mt == "albert":
        x = x @ w["encoder.embedding_hidden_mapping_in.weight"].T + w["encoder.embedding_hidden_mapping_in.bias"]
    return x


# ================================================================ checkpoints
def load(d):
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    return cfg, read_safetensors(os.path.join(d, "model.safetensors"))


SPECIALS_BERT = {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]"}
SPECIALS_ROBERTA = ["<s>", "<pad>", "</s>", "<unk>"]   # ids 0..3; <mask> is the last id

# name, family, architecture, dtype, dims, head, extras
SPECS = [
    dict(name="distil_mlm_f32", mt="distilbert", arch="DistilBertForMaskedLM", dtype="F32", H=32, nh=4, L=2,
         I=48, P=20, act="gelu", mlm=True, sinusoidal=True, decoder="stored", seed=11),
    dict(name="distil_seq_f16", mt="distilbert", arch="DistilBertForSequenceClassification", dtype="F16",
         H=24, nh=3, L=2, I=40, P=16, act="relu", labels=["negative", "neutral", "positive"], seed=12),
    dict(name="roberta_mlm_f32", mt="roberta", arch="RobertaForMaskedLM", dtype="F32", H=32, nh=4, L=2, I=48,
         P=22, act="gelu", eps=1e-5, mlm=True, decoder="stored", prefix="roberta.", seed=13),
    dict(name="xlmr_token_f16", mt="xlm-roberta", arch="XLMRobertaForTokenClassification", dtype="F16",
         H=24, nh=2, L=2, I=36, P=20, act="gelu", eps=1e-5, labels=["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
         prefix="roberta.", seed=14),
    dict(name="camembert_seq_bf16", mt="camembert", arch="CamembertForSequenceClassification", dtype="BF16",
         H=32, nh=4, L=1, I=40, P=18, act="gelu", eps=1e-5, labels=["LABEL_0", "LABEL_1"], prefix="roberta.",
         seed=15),
    dict(name="electra_disc_f32", mt="electra", arch="ElectraForPreTraining", dtype="F32", E=16, H=32, nh=4, L=2,
         I=48, P=20, act="gelu", disc=True, prefix="electra.", seed=16),
    dict(name="electra_gen_f16", mt="electra", arch="ElectraForMaskedLM", dtype="F16", E=24, H=16, nh=2, L=2,
         I=32, P=16, act="gelu", mlm=True, decoder="tied", prefix="electra.", seed=17),
    dict(name="electra_seq_f32", mt="electra", arch="ElectraForSequenceClassification", dtype="F32", H=24, nh=3,
         L=1, I=40, P=16, act="gelu", labels=["no", "yes"], prefix="electra.", seed=18),
    dict(name="albert_mlm_f32", mt="albert", arch="AlbertForMaskedLM", dtype="F32", E=16, H=32, nh=4, L=3, I=48,
         P=20, act="gelu_new", mlm=True, decoder="stored", prefix="albert.", groups=1, inner=1, seed=19),
    dict(name="albert_seq_bf16", mt="albert", arch="AlbertForSequenceClassification", dtype="BF16", E=12, H=24,
         nh=2, L=4, I=40, P=16, act="gelu_new", labels=["a", "b", "c"], prefix="albert.", groups=2, inner=2,
         seed=20),
    dict(name="bert_token_f32", mt="bert", arch="BertForTokenClassification", dtype="F32", H=32, nh=4, L=2, I=48,
         P=20, act="gelu", labels=["O", "B-MISC", "I-MISC", "B-ORG"], prefix="bert.", seed=21),
    dict(name="bert_seq_bf16", mt="bert", arch="BertForSequenceClassification", dtype="BF16", H=24, nh=2, L=2,
         I=36, P=16, act="gelu", labels=["NEGATIVE", "POSITIVE"], prefix="bert.", seed=22),
    dict(name="minilm_f16", mt="bert", arch="BertModel", dtype="F16", H=32, nh=4, L=2, I=64, P=20, act="gelu",
         prefix="", pooler=True, position_ids=True, seed=23),
]
ANCHOR_EMB, ANCHOR_A, ANCHOR_B, RESIDUAL = 3.0, 2.0, 3.0, 0.5


def vocab_for(spec):
    """Token strings: BERT-style ([CLS]=101 ...) for WordPiece families, <s>=0 <pad>=1 </s>=2
    <unk>=3 ... <mask>=last for RoBERTa/XLM-R/CamemBERT, ALBERT's [CLS]=2 [SEP]=3 <pad>=0
    <unk>=1 [MASK]=4."""
    mt = spec["mt"]
    if mt in ("roberta", "xlm-roberta", "camembert"):
        toks = SPECIALS_ROBERTA + ["\u0120w%d" % i if i % 2 else "w%d" % i for i in range(4, VOCAB_SIZE - 1)] + ["<mask>"]
    elif mt == "albert":
        toks = ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"] + ["\u2581w%d" % i for i in range(5, VOCAB_SIZE)]
    else:
        with open(os.path.join(os.path.dirname(os.path.dirname(HERE)), "weights", "vocab-bert-base-uncased.txt")) as f:
            toks = [next(f).rstrip("\n") for _ in range(VOCAB_SIZE)]
    assert len(toks) == VOCAB_SIZE
    return toks


def specials(spec):
    """(cls, sep, pad, mask) ids of the family's vocab."""
    mt = spec["mt"]
    if mt in ("roberta", "xlm-roberta", "camembert"):
        return 0, 2, 1, VOCAB_SIZE - 1
    if mt == "albert":
        return 2, 3, 0, 4
    return 101, 102, 0, 103


def make(spec, root):
    rng = np.random.default_rng(spec["seed"])
    mt, dt = spec["mt"], spec["dtype"]
    H, nh, L, I, P = spec["H"], spec["nh"], spec["L"], spec["I"], spec["P"]
    E = spec.get("E", H)
    d = H // nh
    pre = spec.get("prefix", "distilbert." if mt == "distilbert" else "")
    tensors = []

    def add(name, arr, dtype=None):
        arr = np.asarray(arr, dtype=np.float32)
        tensors.append((name, dtype or dt, arr.shape, to_bytes(arr, dtype or dt)))

    def lin(name, n_out, n_in, scale=1.0):
        add(name + ".weight", rng.normal(0, scale / np.sqrt(n_in), (n_out, n_in)))
        add(name + ".bias", rng.normal(0, 0.1, n_out))

    def ln(name, n):
        add(name + ".weight", 1.0 + rng.normal(0, 0.1, n))
        add(name + ".bias", rng.normal(0, 0.1, n))

    cls, sep, pad, mask = specials(spec)
    anchors_tok = [cls, sep, mask]
    # anchor directions live in the space attention reads: hidden (after any projection).
    # With E != H the word embedding gets the direction through the projection's pseudo-inverse
    # direction, so peaked attention survives factorization.
    word = rng.normal(0, 1.0, (VOCAB_SIZE, E))
    dirs = {}
    for t in anchors_tok:
        v = rng.normal(0, 1.0, E)
        dirs[t] = v / np.linalg.norm(v)
        word[t] = ANCHOR_EMB * np.sqrt(E) * dirs[t] + rng.normal(0, 1.0, E)
    proj = None
    if mt == "albert" or (mt == "electra" and E != H):
        proj = rng.normal(0, 1.0 / np.sqrt(E), (H, E))
    hdir = {t: (proj @ dirs[t] if proj is not None else dirs[t]) for t in anchors_tok}
    hdir = {t: v / np.linalg.norm(v) for t, v in hdir.items()}
    add(pre + "embeddings.word_embeddings.weight", word)
    if spec.get("sinusoidal"):
        pe = np.array([[pos / np.power(10000, 2 * (j // 2) / E) for j in range(E)] for pos in range(P)])
        pe[:, 0::2], pe[:, 1::2] = np.sin(pe[:, 0::2]), np.cos(pe[:, 1::2])
        add(pre + "embeddings.position_embeddings.weight", pe)
    else:
        add(pre + "embeddings.position_embeddings.weight", rng.normal(0, 0.5, (P, E)))
    if mt != "distilbert":
        add(pre + "embeddings.token_type_embeddings.weight", rng.normal(0, 0.5, (1 if mt in ("roberta", "xlm-roberta", "camembert") else 2, E)))
    ln(pre + "embeddings.LayerNorm", E)
    if spec.get("position_ids"):
        ids = np.arange(P, dtype="<i8")[None, :]
        tensors.append((pre + "embeddings.position_ids", "I64", ids.shape, ids.tobytes()))
    if mt == "electra" and proj is not None:
        add(pre + "embeddings_project.weight", proj)
        add(pre + "embeddings_project.bias", rng.normal(0, 0.1, H))
    if mt == "albert":
        add(pre + "encoder.embedding_hidden_mapping_in.weight", proj)
        add(pre + "encoder.embedding_hidden_mapping_in.bias", rng.normal(0, 0.1, H))

    # layer key names per family
    if mt == "distilbert":
        names = dict(q="attention.q_lin", k="attention.k_lin", v="attention.v_lin", o="attention.out_lin",
                     ln1="sa_layer_norm", i="ffn.lin1", f="ffn.lin2", ln2="output_layer_norm")
        layer_prefixes = [pre + "transformer.layer.%d." % l for l in range(L)]
    elif mt == "albert":
        names = dict(q="attention.query", k="attention.key", v="attention.value", o="attention.dense",
                     ln1="attention.LayerNorm", i="ffn", f="ffn_output", ln2="full_layer_layer_norm")
        layer_prefixes = [pre + "encoder.albert_layer_groups.%d.albert_layers.%d." % (g, j)
                          for g in range(spec["groups"]) for j in range(spec["inner"])]
    else:
        names = dict(q="attention.self.query", k="attention.self.key", v="attention.self.value",
                     o="attention.output.dense", ln1="attention.output.LayerNorm", i="intermediate.dense",
                     f="output.dense", ln2="output.LayerNorm")
        layer_prefixes = [pre + "encoder.layer.%d." % l for l in range(L)]
    # head h anchors on token anchors_tok[h % 3] for the first heads, the last head stays soft
    anchor_heads = {h: anchors_tok[h % 3] for h in range(max(1, nh - 1))}
    for lp in layer_prefixes:
        u = {h: (lambda v: v / np.linalg.norm(v))(rng.normal(0, 1.0, d)) for h in anchor_heads}
        for which in ("q", "k"):
            wm = rng.normal(0, 1.0 / np.sqrt(H), (H, H)) * 0.7
            b = rng.normal(0, 0.1, H)
            for h, t in anchor_heads.items():
                rows = slice(h * d, (h + 1) * d)
                if which == "k":
                    wm[rows] += ANCHOR_A * np.outer(u[h], hdir[t])
                else:
                    b[rows] += ANCHOR_B * u[h]
            add(lp + names[which] + ".weight", wm)
            add(lp + names[which] + ".bias", b)
        lin(lp + names["v"], H, H)
        lin(lp + names["o"], H, H, RESIDUAL)
        ln(lp + names["ln1"], H)
        lin(lp + names["i"], I, H)
        lin(lp + names["f"], H, I, RESIDUAL)
        ln(lp + names["ln2"], H)
    if spec.get("pooler"):
        lin(pre + "pooler.dense", H, H)
    labels = spec.get("labels")
    # heads (their keys are outside the base prefix, as HF saves them)
    if spec.get("mlm"):
        if mt == "distilbert":
            lin("vocab_transform", H, H)
            ln("vocab_layer_norm", H)
            add("vocab_projector.bias", rng.normal(0, 0.1, VOCAB_SIZE))
            if spec["decoder"] == "stored":
                add("vocab_projector.weight", word)
        elif mt in ("roberta", "xlm-roberta", "camembert"):
            lin("lm_head.dense", H, H)
            ln("lm_head.layer_norm", H)
            bias = rng.normal(0, 0.1, VOCAB_SIZE)
            add("lm_head.bias", bias)
            add("lm_head.decoder.bias", bias)
            if spec["decoder"] == "stored":
                add("lm_head.decoder.weight", word)
        elif mt == "electra":
            lin("generator_predictions.dense", E, H)
            ln("generator_predictions.LayerNorm", E)
            add("generator_lm_head.bias", rng.normal(0, 0.1, VOCAB_SIZE))
            if spec["decoder"] == "stored":
                add("generator_lm_head.weight", word)
        elif mt == "albert":
            lin("predictions.dense", E, H)
            ln("predictions.LayerNorm", E)
            bias = rng.normal(0, 0.1, VOCAB_SIZE)
            add("predictions.bias", bias)
            add("predictions.decoder.bias", bias)
            if spec["decoder"] == "stored":
                add("predictions.decoder.weight", word)
    if spec.get("disc"):
        lin("discriminator_predictions.dense", H, H)
        lin("discriminator_predictions.dense_prediction", 1, H, 3.0)
    if labels:
        C = len(labels)
        seq = "SequenceClassification" in spec["arch"]
        if seq and mt == "bert":
            lin(pre + "pooler.dense", H, H)
            lin("classifier", C, H, 3.0)
        elif seq and mt == "albert":
            lin(pre + "pooler", H, H)
            lin("classifier", C, H, 3.0)
        elif seq and mt == "distilbert":
            lin("pre_classifier", H, H)
            lin("classifier", C, H, 3.0)
        elif seq:   # roberta family, electra
            lin("classifier.dense", H, H)
            lin("classifier.out_proj", C, H, 3.0)
        else:
            lin("classifier", C, H, 3.0)

    cfg = {"architectures": [spec["arch"]], "model_type": mt, "vocab_size": VOCAB_SIZE,
           "torch_dtype": {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dt]}
    if mt == "distilbert":
        cfg.update(dim=H, n_heads=nh, n_layers=L, hidden_dim=I, max_position_embeddings=P,
                   activation=spec["act"], sinusoidal_pos_embds=bool(spec.get("sinusoidal")), pad_token_id=pad,
                   dropout=0.1, attention_dropout=0.1, initializer_range=0.02, qa_dropout=0.1,
                   seq_classif_dropout=0.2, tie_weights_=True)
    else:
        cfg.update(hidden_size=H, num_attention_heads=nh, num_hidden_layers=L, intermediate_size=I,
                   max_position_embeddings=P, hidden_act=spec["act"], layer_norm_eps=spec.get("eps", 1e-12),
                   type_vocab_size=1 if mt in ("roberta", "xlm-roberta", "camembert") else 2,
                   pad_token_id=pad, position_embedding_type="absolute", hidden_dropout_prob=0.1,
                   attention_probs_dropout_prob=0.1, initializer_range=0.02)
        if mt in ("roberta", "xlm-roberta", "camembert"):
            cfg.update(bos_token_id=0, eos_token_id=2)
        if mt in ("electra", "albert"):
            cfg["embedding_size"] = E
        if mt == "albert":
            cfg.update(num_hidden_groups=spec["groups"], inner_group_num=spec["inner"])
    if labels:
        cfg["id2label"] = {str(i): s for i, s in enumerate(labels)}
        cfg["label2id"] = {s: i for i, s in enumerate(labels)}
    out = os.path.join(root, spec["name"])
    os.makedirs(out, exist_ok=True)
    for stale in os.listdir(out):
        os.remove(os.path.join(out, stale))
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    toks = vocab_for(spec)
    if mt in ("bert", "distilbert", "electra"):
        with open(os.path.join(out, "vocab.txt"), "w") as f:
            f.write("".join(t + "\n" for t in toks))
        with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
            json.dump({"do_lower_case": True, "model_max_length": P}, f, indent=2)
    else:
        tok = tokenizer_json(spec, toks)
        with open(os.path.join(out, "tokenizer.json"), "w") as f:
            json.dump(tok, f, indent=1, ensure_ascii=False)
        with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
            tc = {"model_max_length": P - (pad + 1 if mt in ("roberta", "xlm-roberta", "camembert") else 0)}
            if mt == "albert":
                tc.update(do_lower_case=True, cls_token="[CLS]", sep_token="[SEP]", pad_token="<pad>",
                          mask_token={"content": "[MASK]", "lstrip": True, "__type": "AddedToken"}, unk_token="<unk>")
            else:
                tc.update(bos_token="<s>", eos_token="</s>", cls_token="<s>", sep_token="</s>", pad_token="<pad>",
                          unk_token="<unk>", mask_token="<mask>")
            json.dump(tc, f, indent=2)
    write_safetensors(os.path.join(out, "model.safetensors"), tensors)
    print("%-20s %-5s %7d bytes of tensors" % (spec["name"], dt, sum(len(t[3]) for t in tensors)))


def tokenizer_json(spec, toks):
    """A tokenizer.json whose model vocab is toks: byte-level BPE (RoBERTa family, no merges)
    or Unigram (XLM-R, CamemBERT, ALBERT)."""
    mt = spec["mt"]
    added = [{"id": i, "content": t, "single_word": False, "lstrip": t == "<mask>" or t == "[MASK]",
              "rstrip": False, "normalized": False, "special": True}
             for i, t in enumerate(toks) if t.startswith("<") or t.startswith("[")]
    if mt == "roberta":
        return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
                "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
                "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                                   "trim_offsets": True, "add_prefix_space": False},
                "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
                "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                          "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                          "vocab": {t: i for i, t in enumerate(toks)}, "merges": []}}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": {"type": "Sequence", "normalizers": [{"type": "Replace", "pattern": {"String": "``"}, "content": "\""}]},
            "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True},
            "post_processor": {"type": "TemplateProcessing",
                               "single": [{"SpecialToken": {"id": toks[specials(spec)[0]], "type_id": 0}},
                                          {"Sequence": {"id": "A", "type_id": 0}},
                                          {"SpecialToken": {"id": toks[specials(spec)[1]], "type_id": 0}}],
                               "pair": [{"SpecialToken": {"id": toks[specials(spec)[0]], "type_id": 0}},
                                        {"Sequence": {"id": "A", "type_id": 0}},
                                        {"SpecialToken": {"id": toks[specials(spec)[1]], "type_id": 0}},
                                        {"Sequence": {"id": "B", "type_id": 1}},
                                        {"SpecialToken": {"id": toks[specials(spec)[1]], "type_id": 1}}],
                               "special_tokens": {toks[i]: {"id": toks[i], "ids": [i], "tokens": [toks[i]]}
                                                  for i in specials(spec)[:2]}},
            "decoder": {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True},
            "model": {"type": "Unigram", "unk_id": 1 if mt == "albert" else 3,
                      "vocab": [[t, 0.0 if t.startswith("<") or t.startswith("[") else -float(i) / 10]
                                for i, t in enumerate(toks)], "byte_fallback": False}}


# ================================================================ golden cases and files
def max_len(cfg):
    P = cfg["max_position_embeddings"]
    if cfg["model_type"] in ("roberta", "xlm-roberta", "camembert"):
        return P - cfg["pad_token_id"] - 1
    return P


def cases(cfg, name):
    """(ids, types, mlm positions): one token; a short sentence with a [MASK]; a pair (type
    ids 1 where the family has them); the longest input; for the RoBERTa family also a pad id
    inside the sequence (its position stays padding_idx)."""
    spec = next(s for s in SPECS if s["name"] == name)
    cls, sep, pad, mask = specials(spec)
    rng = np.random.default_rng(1000 + spec["seed"])
    V, N = cfg["vocab_size"], max_len(cfg)
    word = lambda k: [int(t) for t in rng.integers(105, V - 1, size=k)]
    pairs = cfg["model_type"] in ("bert", "electra", "albert")
    out = [([cls], [0], [0])]
    a = [cls] + word(3) + [mask] + word(1) + [sep]
    out.append((a, [0] * len(a), [4, 1]))
    A, B = word(4), word(3)
    ids = [cls] + A + [sep] + ([sep] if not pairs else []) + B + [mask, sep]
    na = len(A) + 2 + (0 if pairs else 1)
    types = [0] * na + [1 if pairs else 0] * (len(ids) - na)
    out.append((ids, types, [len(ids) - 2]))
    full = [cls] + word(N - 2) + [sep]
    full[N // 2] = mask
    out.append((full, [0] * N, [N // 2, 0]))
    if cfg["model_type"] in ("roberta", "xlm-roberta", "camembert"):
        ids = [cls] + word(2) + [pad] + word(2) + [mask, sep]
        out.append((ids, [0] * len(ids), [6]))
    return out


def write_golden(name, root, gold):
    d = os.path.join(root, name)
    cfg, raw = load(d)
    blob = bytearray()
    lines = None
    peak = 0.0
    for ids, types, mpos in cases(cfg, name):
        res = forward(cfg, raw, ids, types)
        if lines is None:
            att = res["attentions"]
            kind = res["head_kind"] if res["head"] is not None else ("mlm" if res["mlm"] else "none")
            lines = ["# golden outputs of tests/model/families.py for tests/model/families/%s" % name,
                     "# format: see families.py; data in %s.bin (float32 little-endian)" % name,
                     "model %s %d %d %d %d %s %d" % (cfg["model_type"], att.shape[0], att.shape[1],
                                                     res["hidden"].shape[1], cfg["vocab_size"], kind, res["labels"])]
        if res["mlm"] is None:
            mpos = []
        peak = max(peak, float(res["attentions"].max()))
        lines += ["case %d %d" % (len(ids), len(mpos)), "ids " + " ".join(map(str, ids)),
                  "types " + " ".join(map(str, types)), " ".join(["mlm"] + [str(p) for p in mpos])]
        blob += res["attentions"].numpy().astype("<f4").tobytes()
        blob += res["hidden"].numpy().astype("<f4").tobytes()
        for p in mpos:
            blob += res["mlm"](p).numpy().astype("<f4").tobytes()
        if res["head"] is not None:
            blob += res["head"]().numpy().astype("<f4").tobytes()
    os.makedirs(gold, exist_ok=True)
    with open(os.path.join(gold, name + ".txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(gold, name + ".bin"), "wb") as f:
        f.write(blob)
    print("%-20s golden %6d bytes, max attention %.3f" % (name, len(blob), peak))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("hf_dir", nargs="?")
    ap.add_argument("--selfcheck", action="store_true")
    ap.add_argument("--ids")
    ap.add_argument("--types")
    ap.add_argument("--mlm")
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    if args.selfcheck:
        return selfcheck()
    if args.hf_dir:
        cfg, raw = load(args.hf_dir)
        ids = parse_ints(args.ids)
        types = parse_ints(args.types) or [0] * len(ids)
        res = forward(cfg, raw, ids, types)
        o = {"n": len(ids), "layers": res["attentions"].shape[0], "heads": res["attentions"].shape[1],
             "attentions": res["attentions"].tolist(), "hidden": res["hidden"].tolist(),
             "mlm": {str(p): res["mlm"](p).tolist() for p in parse_ints(args.mlm)},
             "head": res["head"]().tolist() if res["head"] is not None else None, "head_kind": res["head_kind"]}
        write_json(o, args.json)
        return 0
    root, gold = os.path.join(HERE, "families"), os.path.join(HERE, "golden_families")
    for spec in SPECS:
        make(spec, root)
    for spec in SPECS:
        write_golden(spec["name"], root, gold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
