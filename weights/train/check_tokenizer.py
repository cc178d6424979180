"""Compare bert_tokenize.py (pure-Python HF BertTokenizer) with the C CLI on a corpus sample.

    /usr/bin/python3 weights/train/check_tokenizer.py [--cli build/bertlens] [--n 3000]
        [--corpus weights/train/work/corpus.jsonl] [--seed 1]

Feeds lines {"a": text} (and some {"a":…, "b":…} pairs) to `bertlens tokenize --jsonl` on stdin
and compares tokens, ids and type_ids with the Python reference, line by line. The sample is:
a fixed set of hand-written edge cases (accents, CJK, control characters, Unicode punctuation and
spaces, [MASK] and other specials, long words, empty text) plus --n sentences drawn with a fixed
seed from the corpus (all sources). Works without the corpus (edge cases only).
Exit status 0 when every line matches; otherwise prints the first mismatches and exits 1.
No truncation: inputs longer than --max-len tokens (default 512) are skipped; pass the
model's max positions when checking with a smaller test model.
"""
import argparse
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from bert_tokenize import BertTokenizer  # noqa: E402

EDGE_CASES = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "HeLLo WoRLD  multiple   spaces\tand\ttabs\nand newlines\r\n",
    "Café naïve résumé coöperate façade jalapeño Ångström",
    "ÀÉÎÕÜ àéîõü ÇçÑñ ß ø Ø æ Æ œ",
    "don't can't won't it's you're we'll",
    "e-mail, U.S.A., $100.00, 50%, #hashtag, @user, a_b, x^2, ~tilde, `tick`, {brace}, [bracket], |pipe|",
    "The [MASK] sat on the mat.",
    "[CLS] [SEP] [PAD] [UNK] [MASK]",
    "x[MASK]y and [mask] lower case and [ MASK ]",
    "Paris is the [MASK] of France. [MASK] [MASK]",
    "中文字符测试 and 日本語のテキスト and 한국어",
    "mixed中文text",
    "emoji 😀 🎉 👍🏽 and symbols ™ © ® ° ± × ÷",
    "unicode dashes – — and quotes “double” ‘single’ «guillemets» „low“",
    "ellipsis… bullet • middle·dot",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom",
    "soft\u00adhyphen and nbsp\u00a0here and thin\u2009space and ideographic\u3000space",
    "control\x01chars\x07here\x1b[0m and \x7f del and \x0bvtab \x0cff",
    "replacement \ufffd char and NUL-free text",
    "line\u2028separator and para\u2029separator and nel\u0085here",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "a" * 100,
    "a" * 101,
    "b" * 99 + "!",
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    "Ⅻ ½ ² ﬁ ligature ＦＵＬＬＷＩＤＴＨ",
    "Ελληνικά Русский текст עברית العربية हिन्दी ไทย",
    "İstanbul ǅ ǈ ﬀ Σίσυφος",
    "1,234,567.89 3.14159 2024-01-01 12:30:45",
    "http://example.com/path?query=1&b=2#frag",
    "C++ and C# and .NET and Node.js",
    "",
    "   ",
    "!!!???...",
    "\u0301combining at start, e\u0301 decomposed, and n\u0303",
]

PAIRS = [
    ("The cat sat on the mat.", "It was very happy."),
    ("Where is the [MASK]?", "It is in the kitchen."),
    ("First segment", ""),
]


def corpus_sample(path, n, seed):
    sents = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            for p in d["paras"]:
                sents.extend(p)
    rng = random.Random(seed)
    return rng.sample(sents, min(n, len(sents)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "bertlens"))
    ap.add_argument("--model", help="passed as -m to the CLI")
    ap.add_argument("--corpus", default=os.path.join(HERE, "work", "corpus.jsonl"))
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show", type=int, default=10)
    ap.add_argument("--max-len", type=int, default=512,
                    help="skip inputs longer than this many tokens (the model's max positions)")
    args = ap.parse_args()

    tok = BertTokenizer()
    items = [{"a": t} for t in EDGE_CASES] + [{"a": a, "b": b} for a, b in PAIRS]
    if os.path.exists(args.corpus):
        items += [{"a": s} for s in corpus_sample(args.corpus, args.n, args.seed)]
    else:
        print("note: %s not found; edge cases only" % args.corpus, file=sys.stderr)
    # keep under the model's positions so truncation never applies
    items = [it for it in items if len(tok.encode(it["a"], it.get("b"))["ids"]) <= args.max_len]

    cmd = [args.cli, "tokenize"] + (["-m", args.model] if args.model else []) + ["--jsonl"]
    inp = "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items)
    p = subprocess.run(cmd, input=inp.encode("utf-8"), capture_output=True)
    if p.returncode != 0:
        print("CLI failed (%d): %s" % (p.returncode, p.stderr.decode("utf-8", "replace")[:2000]))
        sys.exit(2)
    outs = [l for l in p.stdout.decode("utf-8").split("\n") if l.strip()]
    if len(outs) != len(items):
        print("CLI returned %d lines for %d inputs" % (len(outs), len(items)))
        sys.exit(1)
    bad = 0
    for it, line in zip(items, outs):
        got = json.loads(line)
        exp = tok.encode(it["a"], it.get("b"))
        diff = [k for k in ("tokens", "ids", "type_ids") if got.get(k) != exp[k]]
        if diff:
            bad += 1
            if bad <= args.show:
                print("MISMATCH %s for input %s" % (diff, json.dumps(it, ensure_ascii=False)))
                print("  python: %s" % json.dumps(exp["tokens"], ensure_ascii=False))
                print("  cli:    %s" % json.dumps(got.get("tokens"), ensure_ascii=False))
    print("%d/%d lines match (%d edge cases, %d pairs, %d corpus sentences)" % (
        len(items) - bad, len(items), len(EDGE_CASES), len(PAIRS),
        len(items) - len(EDGE_CASES) - len(PAIRS)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
