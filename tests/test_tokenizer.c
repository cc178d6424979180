/* test_tokenizer.c — the tokenizer against golden data from an independent implementation
   (tests/golden/tokenizer/{uncased,cased}.jsonl, made by make_golden.mjs with @huggingface/tokenizers), plus
   unit tests for what the golden cannot express: invalid UTF-8, offsets, empty pairs, the
   known deviations of tokenizers.js from HF (see make_golden.mjs), hostile sizes. */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime under -std=c11 */
#include "bertlens.h"
#include "base/json.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static const bl_tok_opts UNCASED = { 1, -1, 1 }, CASED = { 0, -1, 1 };

/* tokenize or record a failure; returns 0 on success */
static int tok(const bl_vocab *v, const bl_tok_opts *o, const char *a, size_t alen, const char *b,
               size_t blen, int max_len, bl_encoding *enc) {
    bl_err e = {{0}};
    int rc = bl_tokenize(v, o, a, alen, b, blen, max_len, enc, &e);
    CHECK(rc == 0, "bl_tokenize failed: %s", e.msg);
    return rc;
}

static int same_ids(const bl_encoding *x, const bl_encoding *y) {
    if (x->n != y->n) return 0;
    for (int i = 0; i < x->n; i++)
        if (x->ids[i] != y->ids[i] || x->type_ids[i] != y->type_ids[i]) return 0;
    return 1;
}

static int is_ascii(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) return 0;
    return 1;
}

/* Offsets of a golden case: inside the segment, on UTF-8 boundaries, in order; for ASCII text
   the span, lowercased when the tokenizer lowercases, spells the token (minus "##"). */
static int offsets_ok(const bl_vocab *v, const bl_tok_opts *o, const bl_encoding *enc,
                      const char *a, size_t alen, const char *b, size_t blen, char *why, size_t wn) {
    int unk = bl_vocab_id(v, "[UNK]", 5), last_start[2] = { 0, 0 };
    for (int i = 0; i < enc->n; i++) {
        int seg = enc->type_ids[i], s = enc->start[i], e = enc->end[i];
        const char *t = seg ? b : a;
        size_t tl = seg ? blen : alen;
        int special = (i == 0 || i == enc->n_a - 1 || (b && i == enc->n - 1));
        if (special) {
            if (s != -1 || e != -1) { snprintf(why, wn, "token %d: special with offsets %d,%d", i, s, e); return 0; }
            continue;
        }
        if (s < 0 || e <= s || (size_t)e > tl) { snprintf(why, wn, "token %d: span %d,%d outside [0,%zu]", i, s, e, tl); return 0; }
        if (((unsigned char)t[s] & 0xC0) == 0x80 || ((size_t)e < tl && ((unsigned char)t[e] & 0xC0) == 0x80)) {
            snprintf(why, wn, "token %d: span %d,%d not on UTF-8 boundaries", i, s, e); return 0;
        }
        if (s < last_start[seg]) { snprintf(why, wn, "token %d: start %d goes backwards", i, s); return 0; }
        last_start[seg] = s;
        const char *tk = bl_vocab_token(v, enc->ids[i]);
        if (is_ascii(t, tl) && enc->ids[i] != unk) {
            if (!strncmp(tk, "##", 2) && strlen(tk) > 2) tk += 2;
            size_t n = (size_t)(e - s);
            int ok;
            int special_tok = tk[0] == '[' && n > 2;   /* [MASK] etc. kept as typed */
            /* compare with the span minus what cleaning drops (NUL, control chars) */
            size_t m = 0;
            ok = 1;
            for (size_t k = 0; ok && k < n; k++) {
                char c = t[s + k];
                if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) continue;
                if (o->lowercase && !special_tok && c >= 'A' && c <= 'Z') c = (char)(c + 32);
                ok = c == tk[m++];
            }
            ok = ok && tk[m] == 0;
            if (!ok) { snprintf(why, wn, "token %d '%s': span %d,%d is '%.*s'", i, tk, s, e, e - s, t + s); return 0; }
        }
    }
    return 1;
}

static int json_int_array(const bl_json *arr, int *out, int max) {
    if (!arr || arr->type != BL_JSON_ARR || arr->n > max) return -1;
    int i = 0;
    for (const bl_json *c = arr->child; c; c = c->next) out[i++] = (int)c->i64;
    return i;
}

static void run_golden(const char *path, const bl_vocab *v, int *cases, int *passed) {
    size_t len;
    char *txt = check_read_file(path, &len);
    CHECK(txt != NULL, "cannot read %s (run from the repo root)", path);
    if (!txt) return;
    char *line = txt;
    int lineno = 0;
    static int ids[8192], types[8192];
    while (line < txt + len) {
        char *nl = memchr(line, '\n', (size_t)(txt + len - line));
        size_t ll = nl ? (size_t)(nl - line) : (size_t)(txt + len - line);
        lineno++;
        if (ll == 0) { line += 1; continue; }
        bl_err e = {{0}};
        bl_json *j = bl_json_parse(line, ll, &e);
        CHECK(j != NULL, "%s:%d: %s", path, lineno, e.msg);
        line += ll + 1;
        if (!j) continue;
        const bl_json *oj = bl_json_get(j, "opts"), *bj = bl_json_get(j, "b"), *aj = bl_json_get(j, "a");
        bl_tok_opts o = { (int)bl_json_get(oj, "lowercase")->i64, (int)bl_json_get(oj, "strip_accents")->i64,
                          (int)bl_json_get(oj, "chinese_chars")->i64 };
        int max_len = (int)bl_json_get(j, "max_len")->i64;
        int n = json_int_array(bl_json_get(j, "ids"), ids, 8192);
        int nt = json_int_array(bl_json_get(j, "type_ids"), types, 8192);
        int truncated = bl_json_get(j, "truncated")->boolean;
        const char *b = bj->type == BL_JSON_STR ? bj->str : NULL;
        size_t blen = b ? bj->len : 0;
        bl_encoding enc;
        (*cases)++;
        if (tok(v, &o, aj->str, aj->len, b, blen, max_len, &enc) == 0) {
            int ok = enc.n == n && nt == n && enc.truncated == truncated;
            for (int i = 0; ok && i < n; i++) ok = enc.ids[i] == ids[i] && enc.type_ids[i] == types[i];
            if (!ok) {
                char got[512] = "", want[512] = "";
                for (int i = 0; i < enc.n && strlen(got) < 400; i++)
                    snprintf(got + strlen(got), sizeof got - strlen(got), "%s ", bl_vocab_token(v, enc.ids[i]));
                const bl_json *tj = bl_json_get(j, "tokens");
                for (int i = 0; i < n && strlen(want) < 400; i++)   /* "tokens" is optional */
                    snprintf(want + strlen(want), sizeof want - strlen(want), "%s ",
                             tj ? bl_json_at(tj, i)->str : bl_vocab_token(v, ids[i]));
                CHECK(0, "%s:%d: opts %d/%d/%d max_len %d\n  a=%s b=%s\n  got  %s(truncated %d)\n  want %s(truncated %d)",
                      path, lineno, o.lowercase, o.strip_accents, o.chinese_chars, max_len, aj->str,
                      b ? b : "(none)", got, enc.truncated, want, truncated);
            } else {
                char why[256];
                ok = offsets_ok(v, &o, &enc, aj->str, aj->len, b, blen, why, sizeof why);
                CHECK(ok, "%s:%d: offsets: %s (a=%s)", path, lineno, why, aj->str);
                if (ok) (*passed)++;
            }
            bl_encoding_free(&enc);
        }
        bl_json_free(j);
    }
    free(txt);
}

/* ---------------------------------------------------------------- unit tests */
static int id_of(const bl_vocab *v, const char *t) { return bl_vocab_id(v, t, strlen(t)); }

static void test_vocab(void) {
    bl_err e = {{0}};
    const char txt[] = "[PAD]\r\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nab\n##c\nab\nlast";
    bl_vocab *v = bl_vocab_parse(txt, sizeof txt - 1, &e);
    CHECK(v != NULL, "vocab parse: %s", e.msg);
    if (!v) return;
    CHECK(bl_vocab_size(v) == 9, "size %d, want 9 (last line without newline counts)", bl_vocab_size(v));
    CHECK(id_of(v, "[PAD]") == 0, "\\r\\n line end stripped");
    CHECK(id_of(v, "ab") == 5, "duplicates keep the first id, got %d", id_of(v, "ab"));
    CHECK(id_of(v, "last") == 8 && id_of(v, "zz") == -1, "lookup");
    CHECK(bl_vocab_token(v, 6) && !strcmp(bl_vocab_token(v, 6), "##c"), "token 6");
    CHECK(bl_vocab_token(v, 9) == NULL && bl_vocab_token(v, -1) == NULL, "token out of range");
    bl_encoding enc;
    if (tok(v, &UNCASED, "abc ab abx", 10, NULL, 0, 0, &enc) == 0) {
        int want[] = { 2, 5, 6, 5, 1, 3 };
        int ok = enc.n == 6;
        for (int i = 0; ok && i < 6; i++) ok = enc.ids[i] == want[i];
        CHECK(ok, "tiny vocab: abc -> ab ##c, abx -> [UNK]");
        bl_encoding_free(&enc);
    }
    bl_vocab_free(v);
    CHECK(bl_vocab_parse("", 0, &e) == NULL && strlen(e.msg) > 0, "empty vocab is an error");
    v = bl_vocab_parse("a\nb\n", 4, &e);
    if (v) {
        CHECK(bl_tokenize(v, &UNCASED, "a", 1, NULL, 0, 0, &enc, &e) == -1 && strstr(e.msg, "[CLS]"),
              "vocab without [CLS] -> error naming it (%s)", e.msg);
        bl_vocab_free(v);
    }
}

static void test_empty_and_pairs(const bl_vocab *v) {
    bl_encoding enc;
    int cls = id_of(v, "[CLS]"), sep = id_of(v, "[SEP]");
    if (tok(v, &UNCASED, "", 0, NULL, 0, 0, &enc) == 0) {
        CHECK(enc.n == 2 && enc.ids[0] == cls && enc.ids[1] == sep && enc.n_a == 2 && !enc.truncated,
              "empty text -> [CLS] [SEP]");
        CHECK(enc.start[0] == -1 && enc.end[1] == -1, "special offsets -1");
        bl_encoding_free(&enc);
    }
    if (tok(v, &UNCASED, NULL, 0, NULL, 0, 0, &enc) == 0) { CHECK(enc.n == 2, "NULL text, 0 length"); bl_encoding_free(&enc); }
    /* HF: an empty (but present) second sequence still gets its [SEP] */
    if (tok(v, &UNCASED, "x", 1, "", 0, 0, &enc) == 0) {
        CHECK(enc.n == 4 && enc.ids[3] == sep && enc.type_ids[3] == 1 && enc.type_ids[2] == 0 && enc.n_a == 3,
              "empty pair -> [CLS] x [SEP] [SEP] with type ids 0 0 0 1");
        bl_encoding_free(&enc);
    }
    if (tok(v, &UNCASED, "a b", 3, "c", 1, 0, &enc) == 0) {
        CHECK(enc.n == 6 && enc.n_a == 4 && enc.type_ids[3] == 0 && enc.type_ids[4] == 1 && enc.type_ids[5] == 1,
              "pair layout");
        CHECK(enc.start[4] == 0 && enc.end[4] == 1, "B offsets are into B (%d,%d)", enc.start[4], enc.end[4]);
        bl_encoding_free(&enc);
    }
}

static void test_truncation(const bl_vocab *v) {
    bl_encoding enc;
    bl_err e = {{0}};
    if (tok(v, &UNCASED, "a b c d", 7, NULL, 0, 4, &enc) == 0) {
        CHECK(enc.n == 4 && enc.truncated == 1 && enc.ids[1] == id_of(v, "a") && enc.ids[2] == id_of(v, "b") &&
              enc.ids[3] == id_of(v, "[SEP]"), "single: keep the first max_len-2 tokens");
        bl_encoding_free(&enc);
    }
    if (tok(v, &UNCASED, "a b c d", 7, NULL, 0, 6, &enc) == 0) {
        CHECK(enc.n == 6 && enc.truncated == 0, "exact fit is not truncated");
        bl_encoding_free(&enc);
    }
    if (tok(v, &UNCASED, "a b c d e", 9, "f g h i j", 9, 9, &enc) == 0) {
        /* 10 tokens into 6: 5,5 -> 5,4 -> 4,4 -> 4,3 -> 3,3 (B loses ties) */
        CHECK(enc.n == 9 && enc.n_a == 5 && enc.truncated, "pair longest_first 5+5 -> 3+3 (n %d n_a %d)", enc.n, enc.n_a);
        bl_encoding_free(&enc);
    }
    if (tok(v, &UNCASED, "a b c d e", 9, "f g h i j", 9, 10, &enc) == 0) {
        CHECK(enc.n == 10 && enc.n_a == 6, "pair 5+5 -> 4+3 (A keeps the odd one) n_a %d", enc.n_a);
        bl_encoding_free(&enc);
    }
    CHECK(bl_tokenize(v, &UNCASED, "a", 1, NULL, 0, 1, &enc, &e) == -1 && strstr(e.msg, "max_len"),
          "max_len 1 is an error: %s", e.msg);
    CHECK(bl_tokenize(v, &UNCASED, "a", 1, "b", 1, 2, &enc, &e) == -1, "pair max_len 2 is an error");
    if (tok(v, &UNCASED, "a", 1, "b", 1, 3, &enc) == 0) {
        CHECK(enc.n == 3 && enc.truncated, "pair max_len 3 -> [CLS] [SEP] [SEP]");
        bl_encoding_free(&enc);
    }
}

/* Invalid UTF-8: every bad byte is U+FFFD, which cleaning drops (so neighbours join). */
static void test_invalid_utf8(const bl_vocab *v) {
    static const struct { const char *bad, *clean; } cases[] = {
        { "a\xff" "b", "ab" }, { "caf\xc3", "caf" }, { "\xe2\x82 x", " x" }, { "\xc0\xaf" "x", "x" },
        { "y\xed\xa0\x80", "y" }, { "\xf4\x90\x80\x80z", "z" }, { "\x80\x80\x80", "" },
        { "hello \xfe\xfe world", "hello  world" }, { "\xf0\x9f\x98", "" }, { "a\xc3(b", "a(b" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bl_encoding x, y;
        if (tok(v, &UNCASED, cases[i].bad, strlen(cases[i].bad), NULL, 0, 0, &x)) continue;
        if (tok(v, &UNCASED, cases[i].clean, strlen(cases[i].clean), NULL, 0, 0, &y) == 0) {
            CHECK(same_ids(&x, &y), "invalid UTF-8 case %zu: same ids as the text without the bad bytes", i);
            bl_encoding_free(&y);
        }
        bl_encoding_free(&x);
    }
    bl_encoding enc;
    if (tok(v, &UNCASED, "a\xff" "b", 3, NULL, 0, 0, &enc) == 0) {
        CHECK(enc.n == 3 && enc.start[1] == 0 && enc.end[1] == 3, "joined word spans the dropped byte");
        bl_encoding_free(&enc);
    }
}

static void expect_offsets(const bl_vocab *v, const bl_tok_opts *o, const char *text, const char *b,
                           const char *const *toks, const int *se, int n) {
    bl_encoding enc;
    if (tok(v, o, text, strlen(text), b, b ? strlen(b) : 0, 0, &enc)) return;
    int ok = enc.n == n;
    for (int i = 0; ok && i < n; i++)
        ok = enc.ids[i] == id_of(v, toks[i]) && enc.start[i] == se[2 * i] && enc.end[i] == se[2 * i + 1];
    CHECK(ok, "offsets of '%s'", text);
    if (!ok)
        for (int i = 0; i < enc.n; i++)
            fprintf(stderr, "   %s [%d,%d)\n", bl_vocab_token(v, enc.ids[i]), enc.start[i], enc.end[i]);
    bl_encoding_free(&enc);
}

static void test_offsets(const bl_vocab *v) {
    {   /* accents stripped and İ -> i̇ -> i: spans cover the original characters */
        const char *t[] = { "[CLS]", "cafe", "naive", "istanbul", "[SEP]" };
        int se[] = { -1, -1, 0, 5, 6, 12, 13, 22, -1, -1 };
        expect_offsets(v, &UNCASED, "Caf\xc3\xa9 na\xc3\xafve \xc4\xb0stanbul", NULL, t, se, 5);
    }
    {   /* a word split into pieces; punctuation */
        const char *t[] = { "[CLS]", "un", "##aff", "##able", "!", "[SEP]" };
        int se[] = { -1, -1, 0, 2, 2, 5, 5, 9, 9, 10, -1, -1 };
        if (id_of(v, "##aff") >= 0) expect_offsets(v, &UNCASED, "unaffable!", NULL, t, se, 6);
    }
    {   /* special token glued to text; CJK isolated */
        const char *t[] = { "[CLS]", "a", "[MASK]", "b", "\xe4\xb8\xad", "c", "[SEP]" };
        int se[] = { -1, -1, 0, 1, 1, 7, 7, 8, 8, 11, 11, 12, -1, -1 };
        expect_offsets(v, &UNCASED, "a[MASK]b\xe4\xb8\xad" "c", NULL, t, se, 7);
    }
    {   /* a separate combining accent is deleted by normalization, so, as in HF's offset
           mapping, no token covers it (a precomposed é is covered: it becomes e); a dropped
           control char inside a word is covered */
        const char *t[] = { "[CLS]", "cafe", "ab", "[SEP]", "x", "[SEP]" };
        int se[] = { -1, -1, 0, 4, 7, 10, -1, -1, 2, 3, -1, -1 };
        expect_offsets(v, &UNCASED, "cafe\xcc\x81 a\x01" "b", "  x", t, se, 6);
    }
    {   /* a word over 100 chars -> one [UNK] spanning it */
        char big[300];
        memset(big, 'a', 101);
        strcpy(big + 101, " b");
        const char *t[] = { "[CLS]", "[UNK]", "b", "[SEP]" };
        int se[] = { -1, -1, 0, 101, 102, 103, -1, -1 };
        expect_offsets(v, &UNCASED, big, NULL, t, se, 4);
    }
}

/* A NUL inside text is a character like any other until cleaning drops it (HF's _clean_text:
   cp == 0 is skipped, what follows is kept), in both segments, at either end, and the offsets
   of what follows still point into the original bytes. The text with the NUL removed is what
   HF tokenizes; ids of "Hello\0 here" / "you\0 there" checked against @huggingface/tokenizers. */
static void test_nul(const bl_vocab *v) {
    static const char a[] = "Hello\0 here\0", b[] = "\0you\0 there";
    bl_encoding x, y;
    if (tok(v, &UNCASED, a, sizeof a - 1, b, sizeof b - 1, 0, &x)) return;
    const int want[] = {101, 7592, 2182, 102, 2017, 2045, 102};
    int ok = x.n == 7;
    for (int i = 0; ok && i < 7; i++) ok = x.ids[i] == want[i];
    CHECK(ok, "NUL inside text: the tokens after it are kept (n %d)", x.n);
    /* offsets: "here" is a[7..11), "you" b[1..4), "there" b[6..11) */
    CHECK(ok && x.start[2] == 7 && x.end[2] == 11 && x.start[4] == 1 && x.end[4] == 4 && x.start[5] == 6 &&
              x.end[5] == 11, "offsets after a NUL point into the original bytes");
    if (tok(v, &UNCASED, "Hello here", 10, "you there", 9, 0, &y) == 0) {
        CHECK(same_ids(&x, &y), "NUL inside text: as the text without it");
        bl_encoding_free(&y);
    }
    bl_encoding_free(&x);
    if (tok(v, &UNCASED, "hello\0here", 10, NULL, 0, 0, &x) == 0) {   /* dropped, not a space: one word */
        CHECK(x.n == 5 && x.ids[1] == 7592 && x.ids[2] == id_of(v, "##her") && x.ids[3] == id_of(v, "##e"),
              "hello\\0here is hello ##her ##e");
        bl_encoding_free(&x);
    }
}

/* HF rules tokenizers.js gets wrong (so not in the golden); expectations from HF's code:
   _is_control is cat.startswith("C") (drops unassigned Cn), _is_chinese_char covers
   U+20000-U+2A6DF. */
static void test_hf_rules(const bl_vocab *v) {
    bl_encoding x, y;
    if (tok(v, &UNCASED, "a\xcd\xb8" "b", 4, NULL, 0, 0, &x) == 0) {       /* U+0378 unassigned */
        if (tok(v, &UNCASED, "ab", 2, NULL, 0, 0, &y) == 0) {
            CHECK(same_ids(&x, &y), "unassigned (Cn) code point dropped like a control char");
            bl_encoding_free(&y);
        }
        bl_encoding_free(&x);
    }
    const char *ext_b = "a\xf0\xa0\x80\x80" "b";                          /* U+20000 */
    if (tok(v, &UNCASED, ext_b, strlen(ext_b), NULL, 0, 0, &x) == 0) {
        CHECK(x.n == 5 && x.ids[1] == id_of(v, "a") && x.ids[3] == id_of(v, "b") && x.start[2] == 1 && x.end[2] == 5,
              "CJK Ext. B ideograph is a word of its own");
        bl_encoding_free(&x);
    }
    if (tok(v, &(bl_tok_opts){ 1, -1, 0 }, ext_b, strlen(ext_b), NULL, 0, 0, &x) == 0) {
        CHECK(x.n == 3, "chinese_chars=0: no isolation (one [UNK] word)");
        bl_encoding_free(&x);
    }
    /* Canonical reordering of non-Mn non-starters (NFD): U+1D16D (ccc 226) U+1D165 (ccc 216)
       -> U+1D165 U+1D16D, also across an Mn of ccc 230; an Mn of ccc 0 (U+0B3F) blocks it.
       Checked against unicodedata.normalize("NFD") when this test was written. */
    const char tv[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n\xf0\x9d\x85\xa5\xf0\x9d\x85\xad\n";
    bl_err e = {{0}};
    bl_vocab *mv = bl_vocab_parse(tv, sizeof tv - 1, &e);
    if (mv) {
        static const struct { const char *s; int strip, want; } rc[] = {
            { "\xf0\x9d\x85\xad\xf0\x9d\x85\xa5", 1, 5 },
            { "\xf0\x9d\x85\xad\xcc\x81\xf0\x9d\x85\xa5", 1, 5 },
            { "\xf0\x9d\x85\xad\xe0\xac\xbf\xf0\x9d\x85\xa5", 1, 1 },
            { "\xf0\x9d\x85\xad\xf0\x9d\x85\xa5", 0, 1 },
            { "\xf0\x9d\x85\xa5\xf0\x9d\x85\xad", 0, 5 },
        };
        for (size_t i = 0; i < sizeof rc / sizeof *rc; i++) {
            bl_tok_opts o = { 0, rc[i].strip, 1 };
            if (tok(mv, &o, rc[i].s, strlen(rc[i].s), NULL, 0, 0, &x) == 0) {
                CHECK(x.n == 3 && x.ids[1] == rc[i].want, "canonical reordering case %zu: got id %d want %d",
                      i, x.n == 3 ? x.ids[1] : -1, rc[i].want);
                bl_encoding_free(&x);
            }
        }
        bl_vocab_free(mv);
    }
}

/* Hostile sizes: must stay linear. Limits are generous (sanitizer builds), quadratic code would
   take minutes on these. */
static void test_hostile(const bl_vocab *v) {
    const size_t MB = 1 << 20;
    char *s = malloc(MB + 16);
    if (!s) return;
    bl_encoding enc;
    double t0, dt;
#define TIMED(WHAT, OPTS, N, CHECKS) do { t0 = now(); \
        if (tok(v, OPTS, s, N, NULL, 0, 0, &enc) == 0) { dt = now() - t0; CHECKS; \
            printf("  %-32s %.3f s\n", WHAT, dt); \
            CHECK(dt < 10.0, "%s took %.2f s", WHAT, dt); bl_encoding_free(&enc); } } while (0)
    for (size_t i = 0; i < MB; i++) s[i] = "the cat sat on a mat. "[i % 22];
    TIMED("1 MB of English", &UNCASED, MB, CHECK(enc.n > 300000, "1 MB text tokens %d", enc.n));
    for (size_t i = 0; i < MB; i++) s[i] = (i % 100 == 99) ? ' ' : 'q';
    TIMED("1 MB of 99-char words", &UNCASED, MB, CHECK(enc.n > 10000, "99-char words"));
    memset(s, 'z', 10240);
    TIMED("10 KB word", &UNCASED, 10240, CHECK(enc.n == 3 && enc.ids[1] == id_of(v, "[UNK]"), "10 KB word -> [UNK]"));
    s[0] = 'a';
    for (size_t i = 0; i < 100000; i++) { s[1 + 2 * i] = (char)0xcc; s[2 + 2 * i] = (char)0x81; }
    TIMED("10^5 combining marks (uncased)", &UNCASED, 200001, CHECK(enc.n == 3 && enc.ids[1] == id_of(v, "a"), "marks stripped"));
    TIMED("10^5 combining marks (cased)", &CASED, 200001, CHECK(enc.n == 3 && enc.ids[1] == id_of(v, "[UNK]"), "long word"));
    /* sigma followed by long case-ignorable runs */
    size_t n = 0;
    while (n + 8 < MB) { memcpy(s + n, "\xce\x91\xce\xa3\xc2\xad\xc2\xad", 8); n += 8; }   /* ΑΣ + soft hyphens */
    TIMED("1 MB of sigma contexts", &UNCASED, n, (void)0);
    /* alternating non-Mn non-starters: canonical reordering of one 10^5 run */
    n = 0;
    while (n + 8 < 800000) { memcpy(s + n, "\xf0\x9d\x85\xad\xf0\x9d\x85\xa5", 8); n += 8; }
    TIMED("10^5 reorderable marks", &UNCASED, n, (void)0);
    memset(s, '[', MB);
    TIMED("1 MB of '['", &UNCASED, MB, CHECK(enc.n == (int)MB + 2, "every '[' is punctuation"));
    for (size_t i = 0; i < MB; i++) s[i] = (char)(0x80 + i % 64);
    TIMED("1 MB of invalid UTF-8", &UNCASED, MB, CHECK(enc.n == 2, "all dropped"));
#undef TIMED
    free(s);
}

static bl_vocab *load_vocab(const char *path, const char *extra_path) {
    size_t n1 = 0, n2 = 0;
    char *a = check_read_file(path, &n1), *b = extra_path ? check_read_file(extra_path, &n2) : NULL;
    CHECK(a != NULL && (!extra_path || b), "cannot read %s / %s", path, extra_path ? extra_path : "");
    if (!a || (extra_path && !b)) { free(a); free(b); return NULL; }
    char *all = malloc(n1 + n2 + 1);
    memcpy(all, a, n1);
    if (b) memcpy(all + n1, b, n2);
    bl_err e = {{0}};
    bl_vocab *v = bl_vocab_parse(all, n1 + n2, &e);
    CHECK(v != NULL, "vocab: %s", e.msg);
    free(a); free(b); free(all);
    return v;
}

int main(void) {
    bl_vocab *uncased = load_vocab("weights/vocab-bert-base-uncased.txt", NULL);
    bl_vocab *cased = load_vocab("weights/vocab-bert-base-uncased.txt", "tests/golden/tokenizer/cased-extra.txt");
    if (!uncased || !cased) return check_summary("test_tokenizer");
    CHECK(bl_vocab_size(uncased) == 30522, "uncased vocab size %d", bl_vocab_size(uncased));
    int cases = 0, passed = 0;
    run_golden("tests/golden/tokenizer/uncased.jsonl", uncased, &cases, &passed);
    run_golden("tests/golden/tokenizer/cased.jsonl", cased, &cases, &passed);
    /* every assigned code point of Unicode 14.0 through a port of HF's Python tokenizer */
    run_golden("tests/golden/tokenizer/unicode.jsonl", uncased, &cases, &passed);
    printf("golden: %d/%d cases pass\n", passed, cases);
    CHECK(cases >= 150, "only %d golden cases", cases);
    test_vocab();
    test_empty_and_pairs(uncased);
    test_truncation(uncased);
    test_invalid_utf8(uncased);
    test_offsets(uncased);
    test_hf_rules(uncased);
    test_nul(uncased);
    test_hostile(uncased);
    bl_vocab_free(uncased);
    bl_vocab_free(cased);
    return check_summary("test_tokenizer");
}
