"""Sequence sampling and MLM masking over the pre-tokenized corpus (work/data/*.npy)."""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "work", "data")

PAD, UNK, CLS, SEP, MASK = 0, 100, 101, 102, 103
FIRST_NORMAL_ID = 999  # bert-base-uncased: 0 [PAD], 1-998 [unusedN]/specials, 999.. real pieces
VOCAB_SIZE = 30522

# Sampling weight per source (per token). Natural prose is up-weighted relative to the
# technical manuals; see README.md.
SOURCE_WEIGHTS = {"fortunes": 3.0, "wordnet-examples": 3.0, "jargon": 2.0, "debian-handbook": 2.0,
                  "bible-kjv": 1.5, "debian-reference": 1.5}


class Split:
    def __init__(self, name, weighted=True):
        self.ids = np.load(os.path.join(DATA, name + "_ids.npy"))
        self.sent = np.load(os.path.join(DATA, name + "_sent.npy"))
        self.src = np.load(os.path.join(DATA, name + "_src.npy"))
        with open(os.path.join(DATA, "sources.json")) as f:
            self.sources = json.load(f)["sources"]
        self.nsent = len(self.sent) - 1
        lens = np.diff(self.sent).astype(np.float64)
        w = np.array([SOURCE_WEIGHTS.get(s, 1.0) if weighted else 1.0 for s in self.sources])
        p = lens * w[self.src]
        self.cum = np.cumsum(p)
        self.cum /= self.cum[-1]

    def sent_ids(self, i):
        return self.ids[self.sent[i]:self.sent[i + 1]]

    def pick(self, rng):
        return int(min(np.searchsorted(self.cum, rng.random()), self.nsent - 1))


def make_example(split, rng, L, p_pair=0.6, p_short=0.15, p_fill=0.7):
    """One sequence of exactly L positions: [CLS] A [SEP] (B [SEP]) [PAD]...
    A and B are runs of consecutive sentences (B follows A in the corpus), split at a sentence
    boundary. Returns ids, type_ids, attention mask (int arrays of length L)."""
    budget = L
    if rng.random() < p_short:
        budget = int(rng.integers(8, L + 1))
    pair = rng.random() < p_pair
    room = budget - (3 if pair else 2)
    pieces = []
    used = 0
    s = split.pick(rng)
    while used < room and s < split.nsent:
        t = split.sent_ids(s)
        if used + len(t) <= room:
            pieces.append(t)
            used += len(t)
            s += 1
            continue
        # sentence does not fit: truncate it to fill (or when nothing fits yet), else stop
        if not pieces or rng.random() < p_fill:
            pieces.append(t[:room - used])
            used = room
        break
    if pair and len(pieces) < 2:
        # split the one piece at a random token position instead
        if pieces and len(pieces[0]) >= 2:
            t = pieces[0]
            j = int(rng.integers(1, len(t)))
            pieces = [t[:j], t[j:]]
        else:
            pair = False
    ids = np.full(L, PAD, dtype=np.int64)
    typ = np.zeros(L, dtype=np.int64)
    if pair:
        j = int(rng.integers(1, len(pieces)))
        a = np.concatenate(pieces[:j])
        b = np.concatenate(pieces[j:])
        seq = np.concatenate([[CLS], a, [SEP], b, [SEP]])
        n = len(seq)
        ids[:n] = seq
        typ[len(a) + 2:n] = 1
    else:
        a = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
        seq = np.concatenate([[CLS], a, [SEP]])
        n = len(seq)
        ids[:n] = seq
    att = np.zeros(L, dtype=np.int64)
    att[:n] = 1
    return ids, typ, att


def mask_tokens(ids, att, rng, p=0.15):
    """BERT MLM masking (80% [MASK], 10% random, 10% unchanged) on non-special, non-pad tokens.
    Returns (input ids, boolean mask of predicted positions, target ids)."""
    cand = (att == 1) & (ids != CLS) & (ids != SEP) & (ids != PAD)
    sel = cand & (rng.random(ids.shape) < p)
    # at least one prediction per row with candidates
    for r in np.nonzero(~sel.any(axis=1) & cand.any(axis=1))[0]:
        c = np.nonzero(cand[r])[0]
        sel[r, c[rng.integers(len(c))]] = True
    inp = ids.copy()
    u = rng.random(ids.shape)
    inp[sel & (u < 0.8)] = MASK
    rnd = sel & (u >= 0.8) & (u < 0.9)
    inp[rnd] = rng.integers(FIRST_NORMAL_ID, VOCAB_SIZE, size=int(rnd.sum()))
    return inp, sel, ids[sel]


def make_batch(split, rng, B, L, **kw):
    ex = [make_example(split, rng, L, **kw) for _ in range(B)]
    ids = np.stack([e[0] for e in ex])
    typ = np.stack([e[1] for e in ex])
    att = np.stack([e[2] for e in ex])
    inp, sel, tgt = mask_tokens(ids, att, rng)
    return inp, typ, att, sel, tgt


def add_step_args(ap, batch, long_batch, warmup, dropout, seed):
    """The arguments both trainers share (argparse), with each trainer's defaults."""
    ap.add_argument("--warmup", type=int, default=warmup)
    ap.add_argument("--batch", type=int, default=batch)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--long-every", type=int, default=10, help="every Nth step uses length 512")
    ap.add_argument("--long-batch", type=int, default=long_batch)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--dropout", type=float, default=dropout)
    ap.add_argument("--seed", type=int, default=seed)


def step_batch(split, a, k):
    """Training step k's batch: drawn from default_rng([seed, k]) so a resumed or re-run
    training sees the same data; every long_every-th step is long_batch × 512."""
    rng = np.random.default_rng([a.seed, k])
    if a.long_every and k % a.long_every == a.long_every - 1:
        return make_batch(split, rng, a.long_batch, 512)
    return make_batch(split, rng, a.batch, a.seq)


def fixed_eval_batches(split, n_seq=256, L=128, B=64, seed=1234):
    """Deterministic held-out batches (same sequences and masks every time)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(0, n_seq, B):
        out.append(make_batch(split, rng, min(B, n_seq - i), L))
    return out
