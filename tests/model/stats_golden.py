#!/usr/bin/python3
"""stats_golden.py — head statistics, head distances and their MDS, written out in numpy with no
code shared with core/analysis/stats.c, on the attention maps reference.py computed for the
default model (tests/model/golden/default.{txt,bin}: real bert-base-uncased token ids, so [CLS],
[SEP] and punctuation are real tokens).

    /usr/bin/python3 tests/model/stats_golden.py     → tests/model/golden/stats_default.txt

Definitions (Clark et al. 2019, "What Does BERT Look At?"), per head, means over the n rows:
  entropy -sum p ln p; cls/sep/punct: attention summed over those tokens; prev/next: A[i,i-1] /
  A[i,i+1] averaged over the n-1 rows that have one; self: A[i,i].
  distance(a, b) = sqrt(mean_i JSD_bits(a_i, b_i)); MDS: classical (Torgerson) to 2-D, each axis
  signed so its largest-magnitude coordinate is positive.
  Over the cases ("sentences"): mean and sample standard deviation (ddof=1) per head statistic.

Output, one item per line:
  model L H CASES
  case N            then L*H lines "stat l h entropy cls sep punct prev next self",
                    M lines "dist" + M values, M lines "mds x y"   (M = L*H)
  mean l h ...7     and "sd l h ...7" per head, over all cases
  single I...       the cases without a second segment; "fmean"/"fsd" lines: the same over them
"""
import os
import unicodedata

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def read_golden(name):
    cases, model = [], None
    with open(os.path.join(HERE, "golden", name + ".txt")) as f:
        lines = [l.split() for l in f if l.strip() and not l.startswith("#")]
    blob = np.fromfile(os.path.join(HERE, "golden", name + ".bin"), dtype="<f4")
    off, i = 0, 0
    while i < len(lines):
        t = lines[i]
        if t[0] == "model":
            model = [int(x) for x in t[1:]]
            i += 1
            continue
        n, nmlm = int(t[1]), int(t[2])
        ids = [int(x) for x in lines[i + 1][1:]]
        i += 4
        L, H, hid, voc = model
        att = blob[off:off + L * H * n * n].reshape(L, H, n, n).astype(np.float64)
        off += L * H * n * n + n * hid + nmlm * voc
        cases.append((ids, att))
    assert off == blob.size
    return model, cases


def is_punct(ch):
    o = ord(ch)
    if (33 <= o <= 47) or (58 <= o <= 64) or (91 <= o <= 96) or (123 <= o <= 126):
        return True
    return unicodedata.category(ch).startswith("P")


def kinds_of(tokens):
    out = []
    for t in tokens:
        if t in ("[CLS]", "<s>"):
            out.append(1)
        elif t in ("[SEP]", "</s>"):
            out.append(2)
        else:
            body = t[2:] if t.startswith("##") and len(t) > 2 else t
            out.append(4 if body and all(is_punct(c) for c in body) else 0)
    return np.array(out)


def head_stats(att, kinds):
    L, H, n, _ = att.shape
    out = np.zeros((L, H, 7))
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(att > 0, att * np.log(att), 0.0)
    out[..., 0] = -plogp.sum(-1).mean(-1)
    for s, k in ((1, 1), (2, 2), (3, 4)):
        out[..., s] = att[..., kinds == k].sum(-1).mean(-1)
    if n > 1:
        out[..., 4] = np.diagonal(att, offset=-1, axis1=2, axis2=3).mean(-1)
        out[..., 5] = np.diagonal(att, offset=1, axis1=2, axis2=3).mean(-1)
    out[..., 6] = np.diagonal(att, axis1=2, axis2=3).mean(-1)
    return out


def distances(att):
    L, H, n, _ = att.shape
    maps = att.reshape(L * H, n, n)
    M = L * H
    D = np.zeros((M, M))
    for a in range(M):
        for b in range(M):
            p, q = maps[a], maps[b]
            m = 0.5 * (p + q)
            with np.errstate(divide="ignore", invalid="ignore"):
                kp = np.where(p > 0, p * np.log2(p / m), 0.0).sum(-1)
                kq = np.where(q > 0, q * np.log2(q / m), 0.0).sum(-1)
            D[a, b] = np.sqrt(max(0.0, (0.5 * kp + 0.5 * kq).mean()))
    return D


def mds(D):
    M = D.shape[0]
    J = np.eye(M) - np.ones((M, M)) / M
    B = -0.5 * J @ (D ** 2) @ J
    w, v = np.linalg.eigh(B)
    order = np.argsort(w)[::-1][:2]
    xy = np.zeros((M, 2))
    for c, k in enumerate(order):
        vec = v[:, k] * np.sqrt(max(w[k], 0.0))
        if vec[np.argmax(np.abs(vec))] < 0:
            vec = -vec
        xy[:, c] = vec
    return xy


def main():
    vocab = open(os.path.join(ROOT, "weights", "vocab-bert-base-uncased.txt"), encoding="utf-8").read().split("\n")
    (L, H, _, _), cases = read_golden("default")
    lines = ["# written by tests/model/stats_golden.py from tests/model/golden/default.{txt,bin}",
             "model %d %d %d" % (L, H, len(cases))]
    per_case = []
    for ids, att in cases:
        kinds = kinds_of([vocab[i] for i in ids])
        st = head_stats(att, kinds)
        per_case.append(st.reshape(L * H, 7))
        lines.append("case %d" % len(ids))
        for l in range(L):
            for h in range(H):
                lines.append("stat %d %d " % (l, h) + " ".join("%.9g" % x for x in st[l, h]))
        D = distances(att)
        for row in D:
            lines.append("dist " + " ".join("%.9g" % x for x in row))
        for x, y in mds(D):
            lines.append("mds %.9g %.9g" % (x, y))
    allst = np.stack(per_case)           # [cases][M][7]
    mean, sd = allst.mean(0), allst.std(0, ddof=1)
    for m in range(L * H):
        lines.append("mean %d %d " % (m // H, m % H) + " ".join("%.9g" % x for x in mean[m]))
        lines.append("sd %d %d " % (m // H, m % H) + " ".join("%.9g" % x for x in sd[m]))
    # the same over the single-sentence cases only (what `bertlens stats --file` can be given)
    single = [i for i, (ids, att) in enumerate(cases) if 102 not in ids[1:-1]]
    fm, fs = allst[single].mean(0), allst[single].std(0, ddof=1)
    lines.append("single " + " ".join(str(i) for i in single))
    for m in range(L * H):
        lines.append("fmean %d %d " % (m // H, m % H) + " ".join("%.9g" % x for x in fm[m]))
        lines.append("fsd %d %d " % (m // H, m % H) + " ".join("%.9g" % x for x in fs[m]))
    with open(os.path.join(HERE, "golden", "stats_default.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
