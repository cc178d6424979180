"""Tokenize work/corpus.jsonl once into numpy arrays (cached in work/data/).

For each split (train, heldout):
    {split}_ids.npy     uint16  all sentence token ids, concatenated (no special tokens)
    {split}_sent.npy    int64   start offset of every sentence in ids (+ one final end offset)
    {split}_src.npy     uint8   source index of every sentence (see sources.json)
    {split}_para.npy    uint8   1 if the sentence starts a paragraph, 2 if it starts a document
    {split}_text.jsonl  (heldout only) the sentences as text, for evaluate.py's fill-mask sample
"""
import json
import multiprocessing as mp
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bert_tokenize import BertTokenizer  # noqa: E402

WORK = os.path.join(HERE, "work")
OUT = os.path.join(WORK, "data")
MAX_SENT_TOKENS = 254

_tok = None


def _init():
    global _tok
    _tok = BertTokenizer()


def _work(line):
    d = json.loads(line)
    sents = []
    for pi, para in enumerate(d["paras"]):
        for si, s in enumerate(para):
            ids = _tok.encode_ids(s)[:MAX_SENT_TOKENS]
            if ids:
                flag = 2 if (pi == 0 and si == 0) else (1 if si == 0 else 0)
                sents.append((ids, flag, s))
    return d["src"], d["split"], sents


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(WORK, "corpus.jsonl"), encoding="utf-8") as f:
        lines = f.readlines()
    srcs = []
    acc = {sp: {"ids": [], "sent": [0], "src": [], "para": [], "n": 0} for sp in ("train", "heldout")}
    held_text = []
    tok_count = {}
    with mp.Pool(2, initializer=_init) as pool:
        for i, (src, split, sents) in enumerate(pool.imap(_work, lines, chunksize=64)):
            if src not in srcs:
                srcs.append(src)
            si = srcs.index(src)
            a = acc[split]
            for ids, flag, text in sents:
                a["ids"].append(np.asarray(ids, dtype=np.uint16))
                a["n"] += len(ids)
                a["sent"].append(a["n"])
                a["src"].append(si)
                a["para"].append(flag)
                tok_count.setdefault(src, {"train": 0, "heldout": 0})[split] += len(ids)
                if split == "heldout":
                    held_text.append({"src": src, "text": text, "n": len(ids)})
            if i % 5000 == 0:
                print(i, len(lines), {k: v["n"] for k, v in acc.items()}, file=sys.stderr, flush=True)
    for sp, a in acc.items():
        np.save(os.path.join(OUT, sp + "_ids.npy"), np.concatenate(a["ids"]))
        np.save(os.path.join(OUT, sp + "_sent.npy"), np.asarray(a["sent"], dtype=np.int64))
        np.save(os.path.join(OUT, sp + "_src.npy"), np.asarray(a["src"], dtype=np.uint8))
        np.save(os.path.join(OUT, sp + "_para.npy"), np.asarray(a["para"], dtype=np.uint8))
    with open(os.path.join(OUT, "heldout_text.jsonl"), "w", encoding="utf-8") as f:
        for h in held_text:
            f.write(json.dumps(h, ensure_ascii=False) + "\n")
    with open(os.path.join(OUT, "sources.json"), "w") as f:
        json.dump({"sources": srcs, "tokens": tok_count}, f, indent=1)
    print(json.dumps({"sources": srcs, "tokens": tok_count}, indent=1))


if __name__ == "__main__":
    main()
