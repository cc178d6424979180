"""Pure-Python re-implementation of Hugging Face BertTokenizer (slow, do_lower_case=True).

Faithful to transformers' BasicTokenizer + WordpieceTokenizer + PreTrainedTokenizer special-token
handling:
  * special tokens ([CLS] [SEP] [MASK] [PAD] [UNK]) written exactly (upper case) in the text are
    split off first and kept whole (HF splits the text on added/special tokens with a trie before
    BasicTokenizer; they are also BasicTokenizer's never_split);
  * clean text: drop NUL, U+FFFD and control characters (categories Cc/Cf except \\t \\n \\r);
    whitespace (space, \\t, \\n, \\r, category Zs) becomes a space;
  * spaces around CJK ideographs;
  * NFC normalisation (recent transformers versions do this before the whitespace split; it does
    not change the result for lowercased+accent-stripped text except in canonical-equivalence
    corner cases), whitespace split;
  * lowercase, NFD, drop Mn (strip accents), split on punctuation (ASCII 33-47, 58-64, 91-96,
    123-126 and every Unicode P* category);
  * WordPiece: greedy longest match with "##"; a word longer than 100 characters, or with a piece
    that is not in the vocab, becomes a single [UNK].

API:
    tok = BertTokenizer(vocab_path)          # default: weights/vocab-bert-base-uncased.txt
    tok.tokenize(text) -> list[str]          # wordpieces, no [CLS]/[SEP]
    tok.encode_ids(text) -> list[int]        # ids of tokenize(text), fast path with memo
    tok.encode(a, b=None) -> dict(tokens, ids, type_ids)   # [CLS] A [SEP] (B [SEP])

Command line: python3 bert_tokenize.py "some text" [--pair "text b"]
"""
import json
import os
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_VOCAB = os.path.join(HERE, "..", "vocab-bert-base-uncased.txt")
SPECIALS = ("[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]")
MAX_CHARS_PER_WORD = 100


def is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def clean_text(text):
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or is_control(ch):
            continue
        out.append(" " if is_whitespace(ch) else ch)
    return "".join(out)


def pad_cjk(text):
    out = []
    for ch in text:
        if is_cjk(ord(ch)):
            out.append(" ")
            out.append(ch)
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def strip_accents(text):
    text = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Mn")


def split_on_punc(text):
    out = []
    cur = []
    for ch in text:
        if is_punctuation(ch):
            if cur:
                out.append("".join(cur))
                cur = []
            out.append(ch)
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


# ASCII fast path tables (exactly equivalent to clean_text on ASCII input)
_ASCII_CLEAN = {}
for _cp in range(128):
    _c = chr(_cp)
    if _cp == 0 or is_control(_c):
        _ASCII_CLEAN[_cp] = None
    elif is_whitespace(_c):
        _ASCII_CLEAN[_cp] = " "


def split_specials(text, specials=SPECIALS):
    """Split text on exact occurrences of special tokens (leftmost, longest), like HF's trie."""
    parts = []  # (is_special, str)
    i = 0
    start = 0
    n = len(text)
    while i < n:
        if text[i] == "[":
            hit = None
            for s in specials:
                if text.startswith(s, i) and (hit is None or len(s) > len(hit)):
                    hit = s
            if hit is not None:
                if start < i:
                    parts.append((False, text[start:i]))
                parts.append((True, hit))
                i += len(hit)
                start = i
                continue
        i += 1
    if start < n:
        parts.append((False, text[start:]))
    return parts


class BertTokenizer:
    def __init__(self, vocab_path=DEFAULT_VOCAB):
        self.vocab = {}
        self.inv = []
        with open(vocab_path, "r", encoding="utf-8") as f:
            for line in f:
                tok = line.rstrip("\n").rstrip("\r")
                if tok not in self.vocab:
                    self.vocab[tok] = len(self.inv)
                self.inv.append(tok)
        self.unk = "[UNK]"
        self.unk_id = self.vocab["[UNK]"]
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]
        self.mask_id = self.vocab["[MASK]"]
        self.pad_id = self.vocab["[PAD]"]
        self._memo = {}

    # ---- reference path -------------------------------------------------------------
    def basic_words(self, text):
        """BasicTokenizer on a chunk that contains no special token."""
        if text.isascii():
            text = text.translate(_ASCII_CLEAN)
        else:
            text = clean_text(text)
            text = pad_cjk(text)
            text = unicodedata.normalize("NFC", text)
        return text.split()  # str.split() == HF whitespace_tokenize after cleaning

    def _word_pieces(self, raw):
        """lowercase + strip accents + punctuation split + wordpiece of one whitespace token."""
        r = self._memo.get(raw)
        if r is not None:
            return r
        t = raw.lower()
        if not t.isascii():
            t = strip_accents(t)
        pieces = []
        for w in split_on_punc(t):
            pieces.extend(self.wordpiece(w))
        if len(self._memo) < 3_000_000:
            self._memo[raw] = pieces
        return pieces

    def wordpiece(self, word):
        out = []
        for w in word.split():  # HF whitespace_tokenize again
            chars = w
            if len(chars) > MAX_CHARS_PER_WORD:
                out.append(self.unk)
                continue
            start = 0
            sub = []
            bad = False
            while start < len(chars):
                end = len(chars)
                cur = None
                while start < end:
                    s = chars[start:end]
                    if start > 0:
                        s = "##" + s
                    if s in self.vocab:
                        cur = s
                        break
                    end -= 1
                if cur is None:
                    bad = True
                    break
                sub.append(cur)
                start = end
            if bad:
                out.append(self.unk)
            else:
                out.extend(sub)
        return out

    def tokenize(self, text):
        toks = []
        for is_special, chunk in split_specials(text):
            if is_special:
                toks.append(chunk)
                continue
            for raw in self.basic_words(chunk):
                toks.extend(self._word_pieces(raw))
        return toks

    def convert_tokens_to_ids(self, toks):
        v = self.vocab
        return [v.get(t, self.unk_id) for t in toks]

    def encode_ids(self, text):
        return self.convert_tokens_to_ids(self.tokenize(text))

    def encode(self, a, b=None):
        ta = self.tokenize(a)
        toks = ["[CLS]"] + ta + ["[SEP]"]
        types = [0] * len(toks)
        if b is not None:
            tb = self.tokenize(b)
            toks += tb + ["[SEP]"]
            types += [1] * (len(tb) + 1)
        return {"tokens": toks, "ids": self.convert_tokens_to_ids(toks), "type_ids": types}


_default = None


def get_tokenizer(vocab_path=DEFAULT_VOCAB):
    global _default
    if _default is None or vocab_path != DEFAULT_VOCAB:
        t = BertTokenizer(vocab_path)
        if vocab_path == DEFAULT_VOCAB:
            _default = t
        return t
    return _default


def tokenize(text):
    return get_tokenizer().tokenize(text)


def encode(a, b=None):
    return get_tokenizer().encode(a, b)


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("text", nargs="?")
    ap.add_argument("--pair")
    ap.add_argument("--jsonl", action="store_true", help='stdin lines {"a":..,"b":..}')
    ap.add_argument("--vocab", default=DEFAULT_VOCAB)
    args = ap.parse_args()
    tk = BertTokenizer(args.vocab)
    if args.jsonl:
        for line in sys.stdin:
            if not line.strip():
                continue
            d = json.loads(line)
            print(json.dumps(tk.encode(d["a"], d.get("b")), ensure_ascii=False))
    else:
        print(json.dumps(tk.encode(args.text, args.pair), ensure_ascii=False))
