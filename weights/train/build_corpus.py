"""Build the training corpus from Debian packages (see README.md for the package list).

Output: work/corpus.jsonl, one document per line:
    {"src": source name, "doc": document name, "split": "train"|"heldout", "paras": [[sentence, ...], ...]}
The held-out split is chosen per document from an md5 of "src/doc" (deterministic, ~2%).
Documents are written in a fixed (sorted) order, so the output is byte-identical across runs
given the same package versions.
"""
import glob
import gzip
import hashlib
import html
import html.parser
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "work")
HELDOUT_PERCENT = 2

SENT_SPLIT = re.compile(r'(?<=[.!?])(?:["\')\]]*)\s+(?=["\'(\[]?[A-Z0-9])')
WS = re.compile(r"\s+")


def split_sentences(p):
    return [s.strip() for s in SENT_SPLIT.split(p) if s.strip()]


def prose_ok(p, min_words=5):
    words = p.split()
    if len(words) < min_words:
        return False
    letters = sum(c.isalpha() for c in p)
    if letters < 0.6 * len(p):
        return False
    code = sum(p.count(c) for c in "{}=;_<>|\\$#@*")
    if code > 0.02 * len(p) + 1:
        return False
    return True


class ParaExtractor(html.parser.HTMLParser):
    BOUNDARY = {"p", "li", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "div", "td", "th",
                "tr", "table", "blockquote", "ul", "ol", "dl", "section", "br", "title", "body",
                "figcaption", "caption", "header", "footer", "nav", "hr"}
    SKIP = {"pre", "script", "style", "head", "nav", "footer"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paras = []
        self.buf = []
        self.skip = 0

    def flush(self):
        t = WS.sub(" ", "".join(self.buf)).strip()
        self.buf = []
        if t:
            self.paras.append(t)

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.flush()
            self.skip += 1
        elif tag in self.BOUNDARY:
            self.flush()

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
            self.buf = []
        elif tag in self.BOUNDARY:
            self.flush()

    def handle_data(self, data):
        if not self.skip:
            self.buf.append(data)


def html_paras(path):
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8", errors="replace")
    p = ParaExtractor()
    try:
        p.feed(text)
        p.close()
    except Exception:
        pass
    p.flush()
    out = []
    for para in p.paras:
        para = para.replace("\u00b6", "").strip()  # sphinx permalink pilcrows
        if prose_ok(para):
            out.append(split_sentences(para))
    return out


def html_source(name, pattern_list):
    files = []
    for pat in pattern_list:
        files.extend(glob.glob(pat, recursive=True))
    for path in sorted(set(files)):
        paras = html_paras(path)
        if paras:
            yield name, os.path.relpath(path, "/usr/share"), paras


def bible():
    out = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], capture_output=True, text=True,
                         env=dict(os.environ, COLUMNS="100000")).stdout
    cur = None
    verses = []
    for line in out.splitlines():
        m = re.match(r"^(\w+?)(\d+):(\d+) (.*)$", line.strip())
        if not m:
            if verses and line.strip():
                verses[-1] += " " + line.strip()
            continue
        key = m.group(1) + m.group(2)
        if key != cur and verses:
            yield "bible-kjv", cur, [split_sentences(" ".join(verses))]
            verses = []
        cur = key
        verses.append(m.group(4))
    if verses:
        yield "bible-kjv", cur, [split_sentences(" ".join(verses))]


def fortunes():
    d = "/usr/share/games/fortunes"
    skip = {"art", "ascii-art"}
    for path in sorted(glob.glob(d + "/*")):
        base = os.path.basename(path)
        if "." in base or base in skip or os.path.isdir(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            items = f.read().split("\n%\n")
        for i, it in enumerate(items):
            lines = [l for l in it.split("\n") if l.strip()]
            # drop attribution lines ("-- Someone") but keep the text
            body = " ".join(l.strip() for l in lines if not l.strip().startswith("--"))
            body = WS.sub(" ", body).strip()
            if prose_ok(body, 4):
                yield "fortunes", "%s/%d" % (base, i), [split_sentences(body)]


def wordnet():
    """WordNet usage examples (the quoted sentences in the glosses): natural sentences."""
    for pos in ("noun", "verb", "adj", "adv"):
        group = []
        gi = 0
        with open("/usr/share/wordnet/data." + pos, encoding="latin-1") as f:
            for line in f:
                if line.startswith("  ") or "|" not in line:
                    continue
                gloss = line.split("|", 1)[1]
                for ex in re.findall(r'"([^"]{12,})"', gloss):
                    ex = ex.strip()
                    if len(ex.split()) >= 4:
                        group.append(ex[0].upper() + ex[1:] if ex[0].islower() else ex)
                if len(group) >= 40:
                    yield "wordnet-examples", "%s/%d" % (pos, gi), [[s] for s in group]
                    group = []
                    gi += 1
        if group:
            yield "wordnet-examples", "%s/%d" % (pos, gi), [[s] for s in group]


def pod():
    for path in sorted(glob.glob("/usr/share/perl/5.36/pod/*.pod")):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        paras = []
        for block in re.split(r"\n\s*\n", text):
            if not block.strip() or block.startswith((" ", "\t", "=")):
                continue
            b = block
            for _ in range(3):
                b = re.sub(r"[A-Z]<<+\s(.*?)\s>>+", r"\1", b)
                b = re.sub(r"[BICFSLEXZ]<([^<>]*)>", lambda m: m.group(1).split("|")[-1]
                           if m.group(0)[0] == "L" else m.group(1), b)
            b = WS.sub(" ", b).strip()
            if prose_ok(b):
                paras.append(split_sentences(b))
        if paras:
            yield "perl-doc", os.path.basename(path), paras


def jargon():
    with gzip.open("/usr/share/doc/jargon-text/jargon.txt.gz", "rt", encoding="utf-8",
                   errors="replace") as f:
        text = f.read()
    paras = []
    n = 0
    for block in re.split(r"\n\s*\n", text):
        b = WS.sub(" ", block).strip()
        b = re.sub(r"\{([^{}]*)\}", r"\1", b)
        if b.startswith(":"):
            continue
        if prose_ok(b, 8):
            paras.append(split_sentences(b))
        if len(paras) >= 30:
            yield "jargon", "jargon/%d" % n, paras
            paras = []
            n += 1
    if paras:
        yield "jargon", "jargon/%d" % n, paras


SOURCES = [
    ("bible-kjv-text", bible),
    ("fortunes", fortunes),
    ("wordnet-base", wordnet),
    ("jargon-text", jargon),
    ("perl-doc", pod),
    ("debian-handbook", lambda: html_source("debian-handbook",
                                            ["/usr/share/doc/debian-handbook/html/en-US/*.html"])),
    ("debian-reference-en", lambda: html_source("debian-reference",
                                                ["/usr/share/debian-reference/*.en.html"])),
    ("python3-doc", lambda: html_source("python3-doc",
                                        ["/usr/share/doc/python3.11/html/**/*.html"])),
    ("postgresql-doc-15", lambda: html_source("postgresql-doc",
                                              ["/usr/share/doc/postgresql-doc-15/html/*.html"])),
    ("git-doc", lambda: html_source("git-doc", ["/usr/share/doc/git/*.html",
                                                "/usr/share/doc/git/**/*.html"])),
    ("linux-doc-6.1", lambda: html_source("linux-doc",
                                          ["/usr/share/doc/linux-doc-6.1/html/**/*.html"])),
]

# Cap on characters per source so technical manuals do not swamp the prose (documents are kept
# in sorted order until the cap is reached, after an md5-ordered shuffle so the cap samples the
# whole manual rather than its first chapters).
CAP_CHARS = {"linux-doc": 16_000_000, "python3-doc": 10_000_000, "postgresql-doc": 8_000_000}


def main():
    os.makedirs(WORK, exist_ok=True)
    out_path = os.path.join(WORK, "corpus.jsonl")
    stats = {}
    with open(out_path + ".tmp", "w", encoding="utf-8") as out:
        for pkg, fn in SOURCES:
            docs = list(fn())
            docs.sort(key=lambda d: hashlib.md5((d[0] + "/" + d[1]).encode()).hexdigest())
            total = 0
            for src, doc, paras in docs:
                chars = sum(len(s) + 1 for p in paras for s in p)
                cap = CAP_CHARS.get(src)
                if cap is not None and total + chars > cap:
                    continue
                total += chars
                h = int(hashlib.md5((src + "/" + doc).encode()).hexdigest(), 16)
                split = "heldout" if h % 100 < HELDOUT_PERCENT else "train"
                out.write(json.dumps({"src": src, "doc": doc, "split": split, "paras": paras},
                                     ensure_ascii=False) + "\n")
                st = stats.setdefault(src, {"package": pkg, "docs": 0, "paras": 0,
                                            "sentences": 0, "chars": 0, "heldout_docs": 0})
                st["docs"] += 1
                st["paras"] += len(paras)
                st["sentences"] += sum(len(p) for p in paras)
                st["chars"] += chars
                st["heldout_docs"] += split == "heldout"
            print(pkg, stats.get(src if docs else pkg), file=sys.stderr, flush=True)
    os.replace(out_path + ".tmp", out_path)
    with open(os.path.join(WORK, "corpus_stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    print(json.dumps(stats, indent=1))


if __name__ == "__main__":
    main()
