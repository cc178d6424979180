"""BertForMaskedLM in plain torch with Hugging Face's exact parameter names and semantics
(erf GELU, post-LayerNorm, eps 1e-12, learned absolute positions, 2 token types, tied decoder).
Also: HF config.json / safetensors writing and reading (torch 1.13 has no safetensors)."""
import json
import math
import os
import shutil
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = os.path.join(HERE, "..", "vocab-bert-base-uncased.txt")

DEFAULT_CONFIG = dict(vocab_size=30522, hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                      intermediate_size=1024, max_position_embeddings=512, type_vocab_size=2,
                      layer_norm_eps=1e-12, hidden_dropout_prob=0.1,
                      attention_probs_dropout_prob=0.1, initializer_range=0.02, pad_token_id=0)


class Cfg:
    def __init__(self, **kw):
        d = dict(DEFAULT_CONFIG)
        d.update(kw)
        self.__dict__.update(d)

    def to_dict(self):
        return {k: self.__dict__[k] for k in DEFAULT_CONFIG}


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, ids, type_ids):
        n = ids.shape[1]
        pos = torch.arange(n, device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(pos)[None] + \
            self.token_type_embeddings(type_ids)
        return self.dropout(self.LayerNorm(x))


class SelfAttn(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h = c.num_attention_heads
        self.d = c.hidden_size // c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout = nn.Dropout(c.attention_probs_dropout_prob)

    def forward(self, x, mask_add, want_probs=False):
        b, n, _ = x.shape
        q = self.query(x).view(b, n, self.h, self.d).transpose(1, 2)
        k = self.key(x).view(b, n, self.h, self.d).transpose(1, 2)
        v = self.value(x).view(b, n, self.h, self.d).transpose(1, 2)
        s = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.d))
        if mask_add is not None:
            s = s + mask_add
        p = torch.softmax(s, dim=-1)
        o = torch.matmul(self.dropout(p), v).transpose(1, 2).reshape(b, n, self.h * self.d)
        return o, (p if want_probs else None)


class DenseLN(nn.Module):  # attention.output / output: dense + dropout + residual + LayerNorm
    def __init__(self, c, din):
        super().__init__()
        self.dense = nn.Linear(din, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, h, res):
        return self.LayerNorm(self.dropout(self.dense(h)) + res)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttn(c)
        self.output = DenseLN(c, c.hidden_size)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)

    def forward(self, x):
        return F.gelu(self.dense(x))  # erf GELU


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseLN(c, c.intermediate_size)

    def forward(self, x, mask_add, want_probs=False):
        a, p = self.attention.self(x, mask_add, want_probs)
        x = self.attention.output(a, x)
        x = self.output(self.intermediate(x), x)
        return x, p


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c.num_hidden_layers)])


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)


class Transform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, x):
        return self.LayerNorm(F.gelu(self.dense(x)))


class Predictions(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transform = Transform(c)
        self.bias = nn.Parameter(torch.zeros(c.vocab_size))


class Cls(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.predictions = Predictions(c)


class BertForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.bert = Bert(c)
        self.cls = Cls(c)
        self.apply(self._init)

    def _init(self, m):
        r = self.config.initializer_range
        if isinstance(m, nn.Linear):
            m.weight.data.normal_(0.0, r)
            m.bias.data.zero_()
        elif isinstance(m, nn.Embedding):
            m.weight.data.normal_(0.0, r)
            if m.padding_idx is not None:
                m.weight.data[m.padding_idx].zero_()
        elif isinstance(m, nn.LayerNorm):
            m.weight.data.fill_(1.0)
            m.bias.data.zero_()

    def encode(self, ids, type_ids, attn_mask=None, want_probs=False):
        """ids/type_ids [b,n] long; attn_mask [b,n] (1 = real token) or None.
        Returns final hidden states [b,n,h] and (if want_probs) a list of [b,H,n,n]."""
        mask_add = None
        if attn_mask is not None:
            mask_add = ((1.0 - attn_mask.to(torch.float32)) * -1e9)[:, None, None, :]
        x = self.bert.embeddings(ids, type_ids)
        probs = []
        for layer in self.bert.encoder.layer:
            x, p = layer(x, mask_add, want_probs)
            probs.append(p)
        return x, probs

    def logits(self, h):
        """MLM logits for hidden states h [..., hidden] (decoder tied to word embeddings)."""
        t = self.cls.predictions.transform(h)
        return F.linear(t, self.bert.embeddings.word_embeddings.weight, self.cls.predictions.bias)

    def forward(self, ids, type_ids, attn_mask=None):
        h, _ = self.encode(ids, type_ids, attn_mask)
        return self.logits(h)


# ------------------------------------------------------------------------- HF directory I/O
@torch.no_grad()
def mlm_scores(model, batches, device=None):
    """Masked-token cross-entropy, top-1 and top-5 accuracy over data.make_batch batches
    (numpy: inp, typ, att, sel, tgt), in eval mode; bf16 autocast on CUDA. Returns
    (loss, top1, top5, masked token count). Used by train.py, train_gpu.py and evaluate.py."""
    dev = torch.device(device or "cpu")
    was_training = model.training
    model.eval()
    tot, n, c1, c5 = 0.0, 0, 0, 0
    for inp, typ, att, sel, tgt in batches:
        to = lambda a: torch.from_numpy(a).to(dev)  # noqa: E731
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            h, _ = model.encode(to(inp), to(typ), to(att))
            lg = model.logits(h[to(sel)]).float()
        t = to(tgt)
        tot += F.cross_entropy(lg, t, reduction="sum").item()
        k5 = lg.topk(5, dim=-1).indices
        c1 += (k5[:, 0] == t).sum().item()
        c5 += (k5 == t[:, None]).any(dim=1).sum().item()
        n += len(tgt)
    model.train(was_training)
    return tot / n, c1 / n, c5 / n, n


def hf_config_dict(c):
    d = {"architectures": ["BertForMaskedLM"], "model_type": "bert", "hidden_act": "gelu",
         "position_embedding_type": "absolute", "torch_dtype": "float32"}
    d.update(c.to_dict())
    return d


def write_safetensors(path, tensors):
    """tensors: dict name -> torch tensor (written as contiguous little-endian F32)."""
    header = {}
    blobs = []
    off = 0
    for name in sorted(tensors):
        a = tensors[name].detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (hl,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hl])
    base = 8 + hl
    out = {}
    dt = {"F32": np.float32, "F16": np.float16}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        s, e = info["data_offsets"]
        a = np.frombuffer(raw[base + s:base + e], dtype=dt[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(a.astype(np.float32))
    return out


def save_hf(model, out_dir, extra_meta=None):
    os.makedirs(out_dir, exist_ok=True)
    sd = {k: v for k, v in model.state_dict().items()}
    sd["cls.predictions.decoder.weight"] = sd["bert.embeddings.word_embeddings.weight"]
    sd["cls.predictions.decoder.bias"] = sd["cls.predictions.bias"]
    write_safetensors(os.path.join(out_dir, "model.safetensors"), sd)
    cfg = hf_config_dict(model.config)
    if extra_meta:
        cfg["bertlens_training"] = extra_meta
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    shutil.copyfile(VOCAB, os.path.join(out_dir, "vocab.txt"))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "tokenizer_class": "BertTokenizer",
                   "model_max_length": model.config.max_position_embeddings}, f, indent=2)


def load_hf(in_dir):
    with open(os.path.join(in_dir, "config.json")) as f:
        cfg = json.load(f)
    c = Cfg(**{k: cfg[k] for k in DEFAULT_CONFIG if k in cfg})
    m = BertForMaskedLM(c)
    sd = read_safetensors(os.path.join(in_dir, "model.safetensors"))
    sd.pop("cls.predictions.decoder.weight", None)
    sd.pop("cls.predictions.decoder.bias", None)
    m.load_state_dict(sd, strict=True)
    m.eval()
    return m
