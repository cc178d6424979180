#!/usr/bin/python3
"""Make small Hugging Face BERT directories for tests/test_convert.c, good and broken.

usage: make_hf.py OUTDIR

Writes OUTDIR/<case>/ with config.json, model.safetensors (written by hand here: 8-byte LE
header length + JSON header + raw little-endian data; F32, F16 and BF16, keys with and without
the "bert." prefix, LayerNorm weight/bias and gamma/beta), vocab.txt or tokenizer.json,
tokenizer_config.json. Each good case also gets vocab_expected.txt (the vocab as stored) and expected.txt: the config the converter must
read and every canonical tensor as float32 (numpy widening of the stored dtype, an
implementation independent of the C one), values as float.hex():
    config VOCAB HIDDEN LAYERS HEADS INTER MAXPOS TYPES EPS ACT LOWER STRIP CHINESE HAS_MLM TIED
    tensor NAME ROWS COLS
    v1 v2 ...
Broken cases are the good f32 case with one thing wrong; the C test knows the message each
must produce. Deterministic (fixed seeds).

The same tensors also go out in the other layouts the converter reads (weights=...):
  "sharded"     model-0000i-of-00003.safetensors + model.safetensors.index.json
  "pt"          pytorch_model.bin written by torch's own torch.save (python3-torch), the
                decoder sharing the word embeddings' storage as in a real BertForMaskedLM and
                (fuse=True) layer 0's query/key/value as views into one fused storage
  "pt_sharded"  pytorch_model-0000i-of-00002.bin + pytorch_model.bin.index.json
Each must convert to the same bytes as the plain safetensors case with the same values.
Hostile torch files (a pickle that calls os.system, a strided view, the legacy format, a
truncated or corrupted zip) are written with torch.save as well."""
import collections, json, os, struct, sys
import numpy as np

V, H, L, NH, I, P, T = 40, 8, 2, 2, 16, 16, 2
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "a", "dog",
         "##s", "##ing", "run", ".", ",", "!", "?", "hello", "world", "caf\u00e9", "\u4e2d", "##\u00e9",
         "is", "was", "it", "he", "she", "they", "##ed", "bert", "lens", "##y", "x", "y", "z", "0", "1", "2"]
assert len(VOCAB) == V


def canonical(has_mlm, untied):
    """(canonical name, shape) in the writer's order; 1-D shapes for vectors."""
    out = [("embeddings.word_embeddings.weight", (V, H)), ("embeddings.position_embeddings.weight", (P, H)),
           ("embeddings.token_type_embeddings.weight", (T, H)), ("embeddings.LayerNorm.weight", (H,)),
           ("embeddings.LayerNorm.bias", (H,))]
    for l in range(L):
        p = "encoder.layer.%d." % l
        for k in ("query", "key", "value"):
            out += [(p + "attention.self.%s.weight" % k, (H, H)), (p + "attention.self.%s.bias" % k, (H,))]
        out += [(p + "attention.output.dense.weight", (H, H)), (p + "attention.output.dense.bias", (H,)),
                (p + "attention.output.LayerNorm.weight", (H,)), (p + "attention.output.LayerNorm.bias", (H,)),
                (p + "intermediate.dense.weight", (I, H)), (p + "intermediate.dense.bias", (I,)),
                (p + "output.dense.weight", (H, I)), (p + "output.dense.bias", (H,)),
                (p + "output.LayerNorm.weight", (H,)), (p + "output.LayerNorm.bias", (H,))]
    if has_mlm:
        out += [("cls.predictions.transform.dense.weight", (H, H)), ("cls.predictions.transform.dense.bias", (H,)),
                ("cls.predictions.transform.LayerNorm.weight", (H,)), ("cls.predictions.transform.LayerNorm.bias", (H,)),
                ("cls.predictions.bias", (V,))]
        if untied:
            out += [("cls.predictions.decoder.weight", (V, H))]
    return out


def values(seed, has_mlm, untied):
    rng = np.random.RandomState(seed)
    vals = {}
    for name, shape in canonical(has_mlm, untied):
        if name.endswith("LayerNorm.weight"):
            v = 1.0 + 0.1 * rng.randn(*shape)
        else:
            v = 0.05 * rng.randn(*shape)
        vals[name] = v.astype(np.float32)
    return vals


def encode(arr, dtype):
    """Raw little-endian bytes and the float32 values a reader must see."""
    if dtype == "F32":
        a = arr.astype("<f4")
        return a.tobytes(), a.astype(np.float32)
    if dtype == "F16":
        a = arr.astype("<f2")
        return a.tobytes(), a.astype(np.float32)
    if dtype == "BF16":
        # float32 -> bfloat16 with round-to-nearest-even on the dropped 16 bits, as torch does
        # (the test values are finite, so no NaN special case)
        u = np.ascontiguousarray(arr, dtype="<f4").view("<u4").astype(np.uint64)
        b = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")
        return b.tobytes(), (b.astype("<u4") << 16).view("<f4").astype(np.float32)
    if dtype == "I64":
        return arr.astype("<i8").tobytes(), None
    if dtype == "I32":
        return arr.astype("<i4").tobytes(), None
    raise ValueError(dtype)


def write_safetensors(path, tensors, header_patch=None, raw_header=None, length_patch=None):
    """tensors: list of (key, dtype, shape, bytes). header_patch(header dict) may break it."""
    header, data, off = {"__metadata__": {"format": "pt"}}, b"", 0
    for key, dt, shape, raw in tensors:
        header[key] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        data += raw
        off += len(raw)
    if header_patch:
        header_patch(header)
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    n = len(h) if length_patch is None else length_patch
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", n) + h + data)


NP = {"F32": "<f4", "F16": "<f2", "BF16": "<i2", "I64": "<i8", "I32": "<i4"}


def to_torch(dt, shape, raw):
    """The exact stored bits as a torch tensor (bf16 via its int16 bit pattern)."""
    import torch
    t = torch.from_numpy(np.frombuffer(raw, NP[dt]).copy().reshape(shape))
    return t.view(torch.bfloat16) if dt == "BF16" else t


def write_torch(path, tensors, tie=None, fuse=None, legacy=False):
    """torch.save of an OrderedDict (what HF's save_pretrained wrote for years). tie: (decoder
    key, word key) sharing one storage; fuse: keys stored as views into one concatenated tensor."""
    import torch
    sd = collections.OrderedDict()
    for key, dt, shape, raw in tensors:
        sd[key] = to_torch(dt, shape, raw)
    if fuse:
        big = torch.cat([sd[k] for k in fuse], 0)
        o = 0
        for k in fuse:
            n = sd[k].shape[0]
            sd[k] = big[o:o + n]
            o += n
    if tie:
        sd[tie[0]] = sd[tie[1]]
    torch.save(sd, path, _use_new_zipfile_serialization=not legacy)


def storage_byte(b):
    """Offset of the first data byte of storage data/0 in a torch.save zip."""
    import io, zipfile
    z = zipfile.ZipFile(io.BytesIO(bytes(b)))
    i = next(i for i in z.infolist() if i.filename.endswith("/data/0"))
    nlen, xlen = struct.unpack("<HH", bytes(b[i.header_offset + 26:i.header_offset + 30]))
    return i.header_offset + 30 + nlen + xlen


def write_sharded(d, tensors, n, torch_files=False):
    """Split the tensors into n files and write the HF index next to them."""
    per = (len(tensors) + n - 1) // n
    wm, total = {}, 0
    for i in range(n):
        part = tensors[i * per:(i + 1) * per]
        fn = ("pytorch_model-%05d-of-%05d.bin" if torch_files else "model-%05d-of-%05d.safetensors") % (i + 1, n)
        if torch_files:
            write_torch(os.path.join(d, fn), part)
        else:
            write_safetensors(os.path.join(d, fn), part)
        for key, dt, shape, raw in part:
            wm[key] = fn
            total += len(raw)
    idx = "pytorch_model.bin.index.json" if torch_files else "model.safetensors.index.json"
    with open(os.path.join(d, idx), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": wm}, f, indent=2)


def hf_key(name, prefix, gamma):
    k = name
    if gamma and "LayerNorm." in k:
        k = k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
    if prefix and not k.startswith("cls."):
        k = "bert." + k
    return k


def make(out, case, dtype="F32", prefix=True, gamma=False, has_mlm=True, untied=False, explicit_tied=False,
         extras=True, vocab_style="txt", tok_config={"do_lower_case": True}, act="gelu", eps=1e-12,
         config_patch=None, drop=None, shape_patch=None, header_patch=None, raw_header=None,
         length_patch=None, vocab_drop=0, dtype_patch=None, nan_in=None, config_raw=None, seed=1,
         expect=True, weights="st", fuse=False, legacy=False, truncate=None, flip=None, strided=None):
    d = os.path.join(out, case)
    os.makedirs(d, exist_ok=True)
    cfg = {"architectures": ["BertForMaskedLM" if has_mlm else "BertModel"], "model_type": "bert",
           "vocab_size": V, "hidden_size": H, "num_hidden_layers": L, "num_attention_heads": NH,
           "intermediate_size": I, "max_position_embeddings": P, "type_vocab_size": T,
           "layer_norm_eps": eps, "hidden_act": act, "position_embedding_type": "absolute"}
    if config_patch:
        config_patch(cfg)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(config_raw if config_raw is not None else json.dumps(cfg, indent=2))
    vocab = VOCAB[:V - vocab_drop]
    if vocab_style == "txt":
        with open(os.path.join(d, "vocab.txt"), "w", encoding="utf-8", newline="") as f:
            f.write("".join(t + "\n" for t in vocab))
    elif vocab_style == "crlf":   # Windows line ends, no final newline
        with open(os.path.join(d, "vocab.txt"), "w", encoding="utf-8", newline="") as f:
            f.write("\r\n".join(vocab))
    elif vocab_style == "json":
        tj = {"version": "1.0", "model": {"type": "WordPiece", "unk_token": "[UNK]",
                                         "vocab": {t: i for i, t in enumerate(vocab)}}}
        if tok_config is None:
            tj["normalizer"] = {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": False,
                                "strip_accents": True, "lowercase": False}
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tj, f, ensure_ascii=False)
    if tok_config is not None:
        with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
            json.dump(tok_config, f)

    vals = values(seed, has_mlm, untied)
    if nan_in:
        vals[nan_in][0] = np.nan
    tensors, seen = [], {}
    for name, shape in canonical(has_mlm, untied):
        if drop == name:
            continue
        dt = dtype_patch[1] if dtype_patch and dtype_patch[0] == name else dtype
        arr = vals[name]
        if shape_patch and shape_patch[0] == name:
            arr = np.zeros(shape_patch[1], np.float32)
        raw, seen[name] = encode(arr, dt)
        tensors.append((hf_key(name, prefix, gamma), dt, arr.shape, raw))
    if has_mlm and explicit_tied:   # decoder stored but equal to the embeddings: still tied
        raw, _ = encode(vals["embeddings.word_embeddings.weight"], dtype)
        tensors.append(("cls.predictions.decoder.weight", dtype, (V, H), raw))
    if extras:   # things a real checkpoint has and the converter must ignore
        tensors.append((hf_key("embeddings.position_ids", prefix, False), "I64", (1, P),
                        np.arange(P).reshape(1, P).astype("<i8").tobytes()))
        raw, _ = encode(np.ones((H, H), np.float32), dtype)
        tensors.append((hf_key("pooler.dense.weight", prefix, False), dtype, (H, H), raw))
        if has_mlm:
            raw, _ = encode(vals["cls.predictions.bias"], dtype)
            tensors.append(("cls.predictions.decoder.bias", dtype, (V,), raw))
            raw, _ = encode(np.zeros((2, H), np.float32), dtype)
            tensors.append(("cls.seq_relationship.weight", dtype, (2, H), raw))
    tensors.reverse()   # file order must not matter
    if weights == "st":
        wpath = os.path.join(d, "model.safetensors")
        write_safetensors(wpath, tensors, header_patch, raw_header, length_patch)
    elif weights == "sharded":
        write_sharded(d, tensors, 3)
    elif weights == "pt_sharded":
        write_sharded(d, tensors, 2, torch_files=True)
    else:
        wpath = os.path.join(d, "pytorch_model.bin")
        word = hf_key("embeddings.word_embeddings.weight", prefix, False)
        tie = ("cls.predictions.decoder.weight", word) if has_mlm and not untied else None
        fz = [hf_key("encoder.layer.0.attention.self.%s.weight" % k, prefix, False)
              for k in ("query", "key", "value")] if fuse else None
        write_torch(wpath, tensors, tie=tie, fuse=fz, legacy=legacy)
        if strided:   # one square matrix saved as a transposed (non-contiguous) view
            import torch
            sd = torch.load(wpath)
            sd[strided] = sd[strided].t()
            torch.save(sd, wpath)
    if truncate or flip:
        b = bytearray(open(wpath, "rb").read())
        if flip:
            b[flip(b)] ^= 0x40
        if truncate:
            b = b[:truncate(b)]
        open(wpath, "wb").write(bytes(b))

    if expect:
        lower = 1 if tok_config is None and vocab_style != "json" else int((tok_config or {}).get("do_lower_case", True))
        strip = -1
        if tok_config is None and vocab_style == "json":
            lower, strip, chinese = 0, 1, 0
        else:
            sa = (tok_config or {}).get("strip_accents", None)
            strip = -1 if sa is None else int(sa)
            chinese = int((tok_config or {}).get("tokenize_chinese_chars", True))
        acts = {"gelu": 0, "gelu_new": 1, "relu": 2}
        with open(os.path.join(d, "vocab_expected.txt"), "w", encoding="utf-8", newline="") as f:
            f.write("".join(t + "\n" for t in vocab))   # as the weights file stores it
        with open(os.path.join(d, "expected.txt"), "w") as f:
            f.write("config %d %d %d %d %d %d %d %s %d %d %d %d %d %d\n" % (
                V, H, L, NH, I, P, T, float(np.float32(eps)).hex(), acts[act], lower, strip, chinese,
                int(has_mlm), int(has_mlm and not untied)))
            for name, shape in canonical(has_mlm, untied):
                v = seen[name].reshape(-1)
                rows, cols = (1, shape[0]) if len(shape) == 1 else shape
                f.write("tensor %s %d %d\n" % (name, rows, cols))
                f.write(" ".join(float(x).hex() for x in v) + "\n")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    # good inputs
    make(out, "f32_prefix", "F32", prefix=True)
    make(out, "f16_plain_gamma", "F16", prefix=False, gamma=True, has_mlm=False, vocab_style="json",
         tok_config=None, act="gelu_new", eps=1e-5, seed=2)
    make(out, "bf16_untied", "BF16", prefix=True, untied=True, vocab_style="crlf",
         tok_config={"do_lower_case": False, "strip_accents": True, "tokenize_chinese_chars": False},
         act="relu", seed=3)
    make(out, "f32_explicit_tied", "F32", prefix=False, explicit_tied=True, extras=False, seed=4)
    # broken inputs (no expected.txt)
    bad = dict(expect=False)
    make(out, "not_bert", config_patch=lambda c: c.update(model_type="gpt2"), **bad)
    make(out, "no_type", config_patch=lambda c: (c.pop("model_type"), c.update(architectures=["GPT2Model"])), **bad)
    make(out, "missing_field", config_patch=lambda c: c.pop("num_attention_heads"), **bad)
    make(out, "bad_act", act="swish", **bad)
    make(out, "heads_divide", config_patch=lambda c: c.update(num_attention_heads=3), **bad)
    make(out, "config_syntax", config_raw='{"model_type": "bert",\n  "vocab_size": 40,,\n}', **bad)
    make(out, "header_len", length_patch=1 << 40, **bad)
    make(out, "header_json", raw_header=b'{"a": [1, 2}', **bad)

    def overlap(h):
        k = "bert.embeddings.LayerNorm.bias"
        h[k]["data_offsets"] = list(h["bert.embeddings.LayerNorm.weight"]["data_offsets"])
    make(out, "overlap", header_patch=overlap, **bad)

    def out_of_range(h):
        b, e = h["cls.predictions.bias"]["data_offsets"]
        h["cls.predictions.bias"]["data_offsets"] = [b + 10 ** 6, e + 10 ** 6]
    make(out, "out_of_range", header_patch=out_of_range, **bad)

    def span(h):
        h["bert.embeddings.LayerNorm.weight"]["shape"] = [H + 1]
    make(out, "span", header_patch=span, **bad)

    def unknown_dtype(h):
        h["bert.encoder.layer.0.output.dense.bias"]["dtype"] = "Q4"
    make(out, "unknown_dtype", header_patch=unknown_dtype, **bad)
    make(out, "int_dtype", dtype_patch=("encoder.layer.1.attention.self.key.weight", "I32"), **bad)
    make(out, "wrong_shape", shape_patch=("encoder.layer.0.attention.self.query.weight", (H, 4)), **bad)
    make(out, "missing_tensor", drop="encoder.layer.1.intermediate.dense.bias", **bad)
    make(out, "vocab_short", vocab_drop=1, **bad)
    make(out, "no_vocab", vocab_style="none", **bad)
    make(out, "nan", nan_in="encoder.layer.0.output.LayerNorm.bias", **bad)
    os.makedirs(os.path.join(out, "empty"), exist_ok=True)

    # the same checkpoints in the other layouts (same values as the case named in the comment)
    make(out, "f32_sharded", "F32", prefix=True, weights="sharded")                     # f32_prefix
    make(out, "f16_sharded", "F16", prefix=False, gamma=True, has_mlm=False, vocab_style="json",
         tok_config=None, act="gelu_new", eps=1e-5, seed=2, weights="sharded")          # f16_plain_gamma
    try:
        import torch  # noqa: F401
    except ImportError:
        print("make_hf.py: no torch (apt install python3-torch): pytorch_model.bin cases skipped")
        return
    make(out, "pt_f32", "F32", prefix=True, weights="pt", fuse=True)                    # f32_prefix
    make(out, "pt_f16", "F16", prefix=False, gamma=True, has_mlm=False, vocab_style="json",
         tok_config=None, act="gelu_new", eps=1e-5, seed=2, weights="pt")               # f16_plain_gamma
    make(out, "pt_bf16_untied", "BF16", prefix=True, untied=True, vocab_style="crlf",
         tok_config={"do_lower_case": False, "strip_accents": True, "tokenize_chinese_chars": False},
         act="relu", seed=3, weights="pt")                                              # bf16_untied
    make(out, "pt_sharded", "F32", prefix=True, weights="pt_sharded")                   # f32_prefix
    make(out, "pt_strided", weights="pt", strided="bert.encoder.layer.1.attention.output.dense.weight", **bad)
    make(out, "pt_legacy", weights="pt", legacy=True, **bad)
    make(out, "pt_truncated", weights="pt", truncate=lambda b: len(b) * 2 // 3, **bad)
    # a byte inside the data of the first storage (data/0)
    make(out, "pt_corrupt", weights="pt", flip=storage_byte, **bad)
    make(out, "pt_deflated", weights="pt", **bad)   # the same zip, entries compressed
    import zipfile
    src = os.path.join(out, "pt_deflated", "pytorch_model.bin")
    zi = zipfile.ZipFile(src)
    ents = [(i.filename, zi.read(i.filename)) for i in zi.infolist()]
    zi.close()
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zo:
        for n, data in ents:
            zo.writestr(n, data)
    make(out, "st_truncated", truncate=lambda b: len(b) - 100, **bad)
    make(out, "st_huge", header_patch=lambda h: h["bert.embeddings.LayerNorm.weight"].update(
        shape=[1 << 40, 1 << 40, 1 << 40]), **bad)
    make(out, "st_huge_offsets", header_patch=lambda h: h["cls.predictions.bias"].update(
        data_offsets=[0, 1 << 62]), **bad)

    class CallsSystem:   # what a malicious checkpoint does: pickle a call to os.system
        def __reduce__(self):
            return (os.system, ("echo the pickle ran a command > /dev/null",))
    make(out, "pt_system", weights="pt", **bad)
    torch.save({"bert.embeddings.word_embeddings.weight": CallsSystem()}, os.path.join(out, "pt_system", "pytorch_model.bin"))


if __name__ == "__main__":
    main()
