/* test_hostile.c — hostile inputs to the native core: the tokenizer on invalid UTF-8,
   overlong encodings, surrogates, NUL bytes, huge texts, endless combining marks, giant words,
   only whitespace/controls (no crash, linear time, truncation reported); the weights loader on
   every truncation length and every flipped byte of a real converted model; forward memory
   that must not grow over 1,000 re-runs; the scratch memory ceiling (bl_ctx_set_max_bytes).
   Absurd configs (hidden 2^30, 0 heads, hidden not divisible by heads, huge counts and offsets)
   are covered by tests/test_model_file.c and not repeated here.
   Time bounds are generous (2 s, ×5 under sanitizers): they catch quadratic behaviour (which on
   1 MB would take hours), not slowness. Run from the repository root. */
#define _GNU_SOURCE   /* clock_gettime, mallinfo2, mkdtemp */
#include "bertlens.h"
#include "check.h"
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define BL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BL_ASAN 1
#endif
#endif
#ifdef BL_ASAN
#include <sanitizer/allocator_interface.h>
static size_t heap_in_use(void) { return __sanitizer_get_current_allocated_bytes(); }
#define HAVE_HEAP_MEASURE 1
#define SLACK 5.0
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
static size_t heap_in_use(void) { struct mallinfo2 mi = mallinfo2(); return mi.uordblks + mi.hblkhd; }
#define HAVE_HEAP_MEASURE 1
#define SLACK 1.0
#else
#define HAVE_HEAP_MEASURE 0
#define SLACK 1.0
#endif

#define TIME_LIMIT (2.0 * SLACK)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------ tokenizer */
static const bl_tok_opts UNCASED = { 1, -1, 1 }, CASED = { 0, -1, 1 };

/* Every invariant of an encoding: specials placed, ids in range, offsets within the segment. */
static int valid_encoding(const bl_vocab *v, const bl_encoding *x, size_t alen, size_t blen, int pair) {
    const int cls = bl_vocab_id(v, "[CLS]", 5), sep = bl_vocab_id(v, "[SEP]", 5);
    if (x->n < (pair ? 3 : 2) || x->n_a < 2 || x->n_a > x->n || (!pair && x->n_a != x->n)) return 0;
    if (x->ids[0] != cls || x->ids[x->n_a - 1] != sep || x->ids[x->n - 1] != sep) return 0;
    for (int i = 0; i < x->n; i++) {
        if (x->ids[i] < 0 || x->ids[i] >= bl_vocab_size(v) || x->type_ids[i] != (i >= x->n_a)) return 0;
        if (i == 0 || i == x->n_a - 1 || i == x->n - 1) {
            if (x->start[i] != -1 || x->end[i] != -1) return 0;
        } else if (x->start[i] < 0 || x->start[i] > x->end[i] ||
                   (size_t)x->end[i] > (x->type_ids[i] ? blen : alen)) {
            return 0;
        }
    }
    return 1;
}

/* Tokenize (timed), check validity; returns n or -1. *secs gets the time. */
static int run_tok(const bl_vocab *v, const bl_tok_opts *o, const char *a, size_t alen,
                   const char *b, size_t blen, int max_len, bl_encoding *out, double *secs,
                   const char *what) {
    bl_err e = {{0}};
    double t0 = now();
    int r = bl_tokenize(v, o, a, alen, b, blen, max_len, out, &e);
    double dt = now() - t0;
    if (secs) *secs = dt;
    CHECK(r == 0, "%s: tokenize failed: %s", what, e.msg);
    if (r) return -1;
    CHECK(valid_encoding(v, out, alen, blen, b != NULL), "%s: invalid encoding", what);
    CHECK(dt < TIME_LIMIT, "%s: took %.2f s (limit %.1f s): quadratic?", what, dt, TIME_LIMIT);
    if (getenv("BL_HOSTILE_VERBOSE") && dt > 0.01) fprintf(stderr, "  %-40s %8.3f s  n=%d\n", what, dt, out->n);
    return out->n;
}

static int has_token(const bl_vocab *v, const bl_encoding *x, const char *t) {
    for (int i = 0; i < x->n; i++)
        if (!strcmp(bl_vocab_token(v, x->ids[i]), t)) return 1;
    return 0;
}

static int same_ids(const bl_encoding *x, const bl_encoding *y) {
    if (x->n != y->n) return 0;
    for (int i = 0; i < x->n; i++)
        if (x->ids[i] != y->ids[i]) return 0;
    return 1;
}

/* text with the bad bytes == clean text, ids-wise (invalid bytes become U+FFFD, then dropped) */
static void expect_same(const bl_vocab *v, const bl_tok_opts *o, const char *bad, size_t blen,
                        const char *clean, const char *what) {
    bl_encoding x, y;
    if (run_tok(v, o, bad, blen, NULL, 0, 0, &x, NULL, what) < 0) return;
    if (run_tok(v, o, clean, strlen(clean), NULL, 0, 0, &y, NULL, what) >= 0) {
        CHECK(same_ids(&x, &y), "%s: ids differ from the clean text's", what);
        bl_encoding_free(&y);
    }
    bl_encoding_free(&x);
}

static void test_bad_utf8(const bl_vocab *v) {
    /* overlong encodings must never decode to the character they spell ('/', '.', NUL) */
    static const struct { const char *bad; size_t len; const char *clean; const char *what; } cases[] = {
        { "a\xc0\xaf" "b", 4, "ab", "2-byte overlong '/'" },
        { "a\xe0\x80\xaf" "b", 5, "ab", "3-byte overlong '/'" },
        { "a\xf0\x80\x80\xaf" "b", 6, "ab", "4-byte overlong '/'" },
        { "a\xc1\xbf" "b", 4, "ab", "2-byte overlong DEL" },
        { "x\xc0\x80y", 4, "xy", "overlong NUL (modified UTF-8)" },
        { "x\xe0\x80\x80y", 5, "xy", "3-byte overlong NUL" },
        { "s\xed\xa0\x80t", 5, "st", "lone high surrogate U+D800" },
        { "s\xed\xbf\xbft", 5, "st", "lone low surrogate U+DFFF" },
        { "s\xed\xa0\xbd\xed\xb8\x80t", 8, "st", "CESU-8 surrogate pair" },
        { "q\xf4\x90\x80\x80r", 6, "qr", "above U+10FFFF" },
        { "q\xf8\x88\x80\x80\x80r", 7, "qr", "5-byte form" },
        { "q\xfc\x84\x80\x80\x80\x80r", 8, "qr", "6-byte form" },
        { "\x80\x81\xbf", 3, "", "only continuation bytes" },
        { "end\xe2\x82", 5, "end", "truncated 3-byte at the end" },
        { "end\xf0\x9f\x98", 6, "end", "truncated 4-byte at the end" },
        { "\xfe\xff hello \xff\xfe", 11, " hello ", "BOM-like FE FF bytes" },
        { "a\xc3(b", 4, "a(b", "lead byte followed by ASCII" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        expect_same(v, &UNCASED, cases[i].bad, cases[i].len, cases[i].clean, cases[i].what);
        expect_same(v, &CASED, cases[i].bad, cases[i].len, cases[i].clean, cases[i].what);
        bl_encoding x;
        if (run_tok(v, &UNCASED, cases[i].bad, cases[i].len, NULL, 0, 0, &x, NULL, cases[i].what) >= 0) {
            CHECK(!has_token(v, &x, "/") && !has_token(v, &x, "."), "%s: an overlong form decoded", cases[i].what);
            bl_encoding_free(&x);
        }
    }
    /* every 1- and 2-byte string: valid encodings, never a crash */
    char s[2];
    int bad = 0;
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b++) {
            s[0] = (char)a; s[1] = (char)b;
            bl_encoding x;
            bl_err e;
            if (bl_tokenize(v, &UNCASED, s, 2, s + 1, 1, 0, &x, &e) || !valid_encoding(v, &x, 2, 1, 1)) bad++;
            else bl_encoding_free(&x);
        }
    CHECK(bad == 0, "%d of 65536 two-byte texts failed or gave an invalid encoding", bad);
}

static void test_nul_and_whitespace(const bl_vocab *v) {
    /* NUL bytes are dropped, not a terminator: the text after them is tokenized */
    static const char nul[] = "hello\0world\0\0 again";
    expect_same(v, &UNCASED, nul, sizeof nul - 1, "helloworld again", "embedded NUL");
    bl_encoding x;
    if (run_tok(v, &UNCASED, nul, sizeof nul - 1, NULL, 0, 0, &x, NULL, "embedded NUL") >= 0) {
        CHECK(x.n >= 4 && x.end[x.n - 2] == (int)sizeof nul - 1, "NUL: the last word is reached");
        bl_encoding_free(&x);
    }
    /* only whitespace / control / format / noncharacter / U+FFFD: just [CLS] [SEP] */
    static const char ws[] = " \t\n\r\v\f\x01\x02\x1b\x7f\xc2\x80\xc2\x9f\xc2\xa0\xe2\x80\x80\xe2\x80\xa8"
                             "\xe3\x80\x80\xef\xbf\xbd\xc2\xad\xe2\x80\x8b\xef\xbb\xbf\x00";
    for (int c = 0; c < 2; c++) {
        if (run_tok(v, c ? &CASED : &UNCASED, ws, sizeof ws - 1, ws, sizeof ws - 1, 0, &x, NULL, "only whitespace") >= 0) {
            CHECK(x.n == 3 && x.n_a == 2 && !x.truncated, "only whitespace/controls: n=%d, want 3 (pair of empties)", x.n);
            bl_encoding_free(&x);
        }
    }
    /* 1 MB of whitespace and controls */
    const size_t N = 1 << 20;
    char *big = malloc(N);
    for (size_t i = 0; i < N; i++) big[i] = " \t\n\r\x01\x7f"[i % 6];
    double t;
    if (run_tok(v, &UNCASED, big, N, NULL, 0, 0, &x, &t, "1 MB of whitespace") >= 0) {
        CHECK(x.n == 2, "1 MB of whitespace: n=%d, want 2", x.n);
        bl_encoding_free(&x);
    }
    free(big);
}

static void test_big_texts(const bl_vocab *v) {
    const size_t N = 1 << 20;
    char *big = malloc(N);
    double t;
    bl_encoding x;
    /* 1 MB of words: no limit, then BERT's 512 (truncation reported) */
    static const char *words[] = { "the ", "quick ", "brown ", "fox, ", "jumps! ", "über ", "naïve ", "日本 " };
    size_t k = 0;
    for (int i = 0; k < N; i++) {
        const char *w = words[i % 8];
        size_t l = strlen(w);
        if (k + l > N) { memset(big + k, ' ', N - k); k = N; break; }
        memcpy(big + k, w, l);
        k += l;
    }
    int n_full = run_tok(v, &UNCASED, big, N, NULL, 0, 0, &x, &t, "1 MB of words");
    if (n_full >= 0) {
        CHECK(n_full > 150000 && !x.truncated, "1 MB of words: n=%d", n_full);
        bl_encoding_free(&x);
    }
    if (run_tok(v, &UNCASED, big, N, NULL, 0, 512, &x, &t, "1 MB of words, max 512") >= 0) {
        CHECK(x.n == 512 && x.truncated, "max_len 512: n=%d truncated=%d", x.n, x.truncated);
        bl_encoding_free(&x);
    }
    if (run_tok(v, &UNCASED, big, N, big, N / 2, 512, &x, &t, "pair of 1 MB + 512 KB, max 512") >= 0) {
        /* longest_first on 509 slots: 255 from A, 254 from B (B loses ties) */
        CHECK(x.n == 512 && x.truncated && x.n_a == 257, "pair longest_first: n=%d n_a=%d", x.n, x.n_a);
        bl_encoding_free(&x);
    }
    /* a short text is not reported as truncated; one token over is */
    if (run_tok(v, &UNCASED, "the fox", 7, NULL, 0, 4, &x, NULL, "fits exactly") >= 0) {
        CHECK(x.n == 4 && !x.truncated, "fits exactly: n=%d truncated=%d", x.n, x.truncated);
        bl_encoding_free(&x);
    }
    if (run_tok(v, &UNCASED, "the fox", 7, NULL, 0, 3, &x, NULL, "one over") >= 0) {
        CHECK(x.n == 3 && x.truncated, "one over: n=%d truncated=%d", x.n, x.truncated);
        bl_encoding_free(&x);
    }
    /* 1 MB of punctuation: one token per byte */
    memset(big, '!', N);
    if (run_tok(v, &UNCASED, big, N, NULL, 0, 0, &x, &t, "1 MB of '!'") >= 0) {
        CHECK(x.n == (int)N + 2, "1 MB of '!': n=%d", x.n);
        bl_encoding_free(&x);
    }
    /* 1 MB of '[' and of "[MASK" (the special-token matcher must not rescan) */
    memset(big, '[', N);
    if (run_tok(v, &UNCASED, big, N, NULL, 0, 0, &x, &t, "1 MB of '['") >= 0) bl_encoding_free(&x);
    for (size_t i = 0; i < N; i++) big[i] = "[MASK"[i % 5];
    if (run_tok(v, &CASED, big, N, NULL, 0, 0, &x, &t, "1 MB of '[MASK'") >= 0) bl_encoding_free(&x);
    for (size_t i = 0; i < N; i++) big[i] = "[MASK]"[i % 6];
    if (run_tok(v, &UNCASED, big, N, NULL, 0, 0, &x, &t, "1 MB of '[MASK]'") >= 0) {
        /* 174762 whole [MASK]s, then "[MAS" = "[" "mas" */
        CHECK(N % 6 == 4 && x.n == (int)(N / 6) + 2 + 2, "[MASK]×N: n=%d", x.n);
        bl_encoding_free(&x);
    }
    /* 1 MB of CJK ideographs (each its own word), 3 bytes each */
    for (size_t i = 0; i + 3 <= N; i += 3) memcpy(big + i, "\xe4\xb8\x80", 3);
    if (run_tok(v, &UNCASED, big, N / 3 * 3, NULL, 0, 0, &x, &t, "1 MB of CJK") >= 0) {
        CHECK(x.n == (int)(N / 3) + 2, "CJK: n=%d", x.n);
        bl_encoding_free(&x);
    }
    /* 1 MB of random bytes, both casings, pair */
    uint32_t r = 12345;
    for (size_t i = 0; i < N; i++) { r = r * 1664525u + 1013904223u; big[i] = (char)(r >> 24); }
    for (int c = 0; c < 2; c++)
        if (run_tok(v, c ? &CASED : &UNCASED, big, N / 2, big + N / 2, N / 2, 0, &x, &t, "1 MB of random bytes") >= 0)
            bl_encoding_free(&x);
    free(big);
}

static void put_cp(char **p, uint32_t cp) {
    char *s = *p;
    if (cp < 0x80) *s++ = (char)cp;
    else if (cp < 0x800) { *s++ = (char)(0xc0 | cp >> 6); *s++ = (char)(0x80 | (cp & 63)); }
    else if (cp < 0x10000) { *s++ = (char)(0xe0 | cp >> 12); *s++ = (char)(0x80 | (cp >> 6 & 63)); *s++ = (char)(0x80 | (cp & 63)); }
    else { *s++ = (char)(0xf0 | cp >> 18); *s++ = (char)(0x80 | (cp >> 12 & 63)); *s++ = (char)(0x80 | (cp >> 6 & 63)); *s++ = (char)(0x80 | (cp & 63)); }
    *p = s;
}

static void test_combining_and_long_words(const bl_vocab *v) {
    const int M = 100000;
    char *buf = malloc((size_t)M * 8 + 16), *p;
    bl_encoding x;
    double t;
    const int unk = bl_vocab_id(v, "[UNK]", 5), a_id = bl_vocab_id(v, "a", 1);
    /* "a" + 10^5 combining acute accents: uncased strips them -> "a"; cased keeps a 10^5-char
       word -> [UNK] */
    p = buf; *p++ = 'a';
    for (int i = 0; i < M; i++) put_cp(&p, 0x301);
    if (run_tok(v, &UNCASED, buf, (size_t)(p - buf), NULL, 0, 0, &x, &t, "a + 10^5 U+0301, uncased") >= 0) {
        CHECK(x.n == 3 && x.ids[1] == a_id, "uncased a+marks: n=%d id=%d, want [a]", x.n, x.n > 1 ? x.ids[1] : -1);
        bl_encoding_free(&x);
    }
    if (run_tok(v, &CASED, buf, (size_t)(p - buf), NULL, 0, 0, &x, &t, "a + 10^5 U+0301, cased") >= 0) {
        CHECK(x.n == 3 && x.ids[1] == unk, "cased a+marks: n=%d, want one [UNK]", x.n);
        bl_encoding_free(&x);
    }
    /* 10^5 marks with no base, alternating combining classes that canonical ordering must sort
       (U+0301 ccc 230, U+0316 ccc 220, U+1D165 Mc ccc 216: a non-Mn non-starter) */
    static const uint32_t marks[] = { 0x301, 0x316, 0x1d165, 0x1d16d, 0x323, 0x308 };
    p = buf;
    for (int i = 0; i < M; i++) put_cp(&p, marks[i % 6]);
    for (int c = 0; c < 2; c++)
        if (run_tok(v, c ? &CASED : &UNCASED, buf, (size_t)(p - buf), NULL, 0, 0, &x, &t, "10^5 mixed combining marks") >= 0)
            bl_encoding_free(&x);
    /* reverse order of combining classes: worst case for an insertion sort */
    p = buf;
    for (int i = 0; i < M; i++) put_cp(&p, i < M / 2 ? 0x301 : 0x316);
    for (int c = 0; c < 2; c++)
        if (run_tok(v, c ? &CASED : &UNCASED, buf, (size_t)(p - buf), NULL, 0, 0, &x, &t, "10^5 marks, reversed classes") >= 0)
            bl_encoding_free(&x);
    /* accented precomposed letters (NFD expands each): 10^5 of "é" as one word */
    p = buf;
    for (int i = 0; i < M; i++) put_cp(&p, 0xe9);
    if (run_tok(v, &UNCASED, buf, (size_t)(p - buf), NULL, 0, 0, &x, &t, "10^5 é") >= 0) {
        CHECK(x.n == 3 && x.ids[1] == unk, "10^5 é: one [UNK], n=%d", x.n);
        bl_encoding_free(&x);
    }
    /* final-sigma look-ahead: Σ followed by case-ignorable marks, over and over */
    p = buf;
    for (int i = 0; i < M / 2; i++) { put_cp(&p, 0x3a3); put_cp(&p, 0x307); }
    if (run_tok(v, &UNCASED, buf, (size_t)(p - buf), NULL, 0, 0, &x, &t, "(Σ U+0307)×5·10^4") >= 0) bl_encoding_free(&x);
    p = buf;
    put_cp(&p, 0x3a3);
    for (int i = 0; i < M; i++) put_cp(&p, i % 2 ? 0x307 : '\'');
    put_cp(&p, 0x3a3);
    if (run_tok(v, &UNCASED, buf, (size_t)(p - buf), NULL, 0, 0, &x, &t, "Σ, 10^5 ignorables, Σ") >= 0) bl_encoding_free(&x);
    /* a 10 KB word: one [UNK]; 101 chars: [UNK]; 100 chars of a vocab piece: not [UNK] */
    memset(buf, 'x', 10240);
    if (run_tok(v, &UNCASED, buf, 10240, NULL, 0, 0, &x, &t, "10 KB word") >= 0) {
        CHECK(x.n == 3 && x.ids[1] == unk && x.start[1] == 0 && x.end[1] == 10240, "10 KB word: one [UNK] over it all");
        bl_encoding_free(&x);
    }
    for (int i = 0; i < 101; i++) buf[i] = "ab"[i % 2];
    if (run_tok(v, &UNCASED, buf, 101, NULL, 0, 0, &x, NULL, "101-char word") >= 0) {
        CHECK(x.n == 3 && x.ids[1] == unk, "101 chars: one [UNK]");
        bl_encoding_free(&x);
    }
    if (run_tok(v, &UNCASED, buf, 100, NULL, 0, 0, &x, NULL, "100-char word") >= 0) {
        CHECK(x.n > 3 && !has_token(v, &x, "[UNK]"), "100 chars of 'abab…': WordPiece pieces, n=%d", x.n);
        bl_encoding_free(&x);
    }
    /* 1 MB of 100-char words (the longest WordPiece still matches) */
    const size_t N = 1 << 20;
    char *big = malloc(N);
    for (size_t i = 0; i < N; i++) big[i] = i % 101 == 100 ? ' ' : "ab"[i % 2];
    if (run_tok(v, &UNCASED, big, N, NULL, 0, 0, &x, &t, "1 MB of 100-char words") >= 0) bl_encoding_free(&x);
    free(big);
    free(buf);
}

static void test_hostile_vocab(void) {
    bl_err e;
    /* vocabs the parser must survive: empty lines, NULs, CRs, a 1 MB token, a 1 MB line count */
    static const char odd[] = "[PAD]\n\n\n[UNK]\r\n[CLS]\n[SEP]\n\r\n\0x\n##\n####\n#\n[MASK]";
    bl_vocab *v = bl_vocab_parse(odd, sizeof odd - 1, &e);
    if (v) {
        bl_encoding x;
        static const char t[] = "## # x\0x [MASK] ####";
        if (bl_tokenize(v, &UNCASED, t, sizeof t - 1, "", 0, 5, &x, &e) == 0) {
            CHECK(valid_encoding(v, &x, sizeof t - 1, 0, 1), "odd vocab: invalid encoding");
            bl_encoding_free(&x);
        }
        bl_vocab_free(v);
    }
    const size_t N = 1 << 20;
    char *big = malloc(N + 32);
    memcpy(big, "[CLS]\n[SEP]\n[UNK]\n", 18);
    memset(big + 18, 'y', N);
    v = bl_vocab_parse(big, N + 18, &e);
    if (v) {
        bl_encoding x;
        if (bl_tokenize(v, &UNCASED, big + 18, 5000, NULL, 0, 0, &x, &e) == 0) {
            CHECK(x.n == 3, "vocab with a 1 MB token, 5000-char word: [UNK] (n=%d)", x.n);
            bl_encoding_free(&x);
        }
        bl_vocab_free(v);
    }
    memset(big, '\n', N);
    double t0 = now();
    v = bl_vocab_parse(big, N, &e);
    CHECK(now() - t0 < TIME_LIMIT, "1 MB of empty lines: %.2f s", now() - t0);
    bl_vocab_free(v);
    /* a vocab without [CLS]/[UNK]: tokenize fails with a message, no crash */
    v = bl_vocab_parse("a\nb\n", 4, &e);
    if (v) {
        bl_encoding x;
        CHECK(bl_tokenize(v, &UNCASED, "a b", 3, NULL, 0, 0, &x, &e) < 0 && strstr(e.msg, "lacks"),
              "vocab without specials: %s", e.msg);
        bl_vocab_free(v);
    }
    free(big);
}

/* ------------------------------------------------------------------ weights */
static const char *SEED = "tests/fuzz/corpus_model/micro_mlm_int8.bin";

static void wr64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static void test_truncation_and_flips(void) {
    size_t len = 0;
    uint8_t *orig = (uint8_t *)check_read_file(SEED, &len);
    CHECK(orig != NULL && len > 1000, "read %s", SEED);
    if (!orig) return;
    bl_err e;
    bl_model *m = bl_model_load(orig, len, 0, &e);
    CHECK(m != NULL, "seed model loads: %s", e.msg);
    bl_model_free(m);
    uint8_t *b = malloc(len);
    /* every truncation length, checksum on and off: rejected with a message */
    int bad = 0, bad_patched = 0;
    for (size_t cut = 0; cut < len; cut++) {
        for (int fl = 0; fl < 2; fl++) {
            memcpy(b, orig, cut);
            e.msg[0] = 0;
            m = bl_model_load(b, cut, fl ? BL_LOAD_SKIP_CHECKSUM : 0, &e);
            if (m || !e.msg[0] || !(strstr(e.msg, "truncated") || strstr(e.msg, "too small") || strstr(e.msg, "no data"))) {
                if (bad++ < 3) fprintf(stderr, "  cut %zu: %s\n", cut, m ? "loaded" : e.msg);
            }
            bl_model_free(m);
        }
        /* the header's size patched to the cut (and the checksum skipped): the parser itself
           must find that sections or tensors lie outside the file */
        if (cut >= 192) {
            wr64(b + 16, cut);
            e.msg[0] = 0;
            m = bl_model_load(b, cut, BL_LOAD_SKIP_CHECKSUM, &e);
            if (m || !e.msg[0]) {
                if (bad_patched++ < 3) fprintf(stderr, "  patched cut %zu: %s\n", cut, m ? "loaded" : "no message");
            }
            bl_model_free(m);
        }
    }
    CHECK(bad == 0, "%d truncations accepted or without a 'truncated' message", bad);
    CHECK(bad_patched == 0, "%d truncations with a patched size accepted", bad_patched);
    /* every single payload byte flipped: checksum mismatch, by name */
    bad = 0;
    for (size_t i = 64; i < len; i++) {
        memcpy(b, orig, len);
        b[i] ^= 0x41;
        m = bl_model_load(b, len, 0, &e);
        if (m || !strstr(e.msg, "checksum mismatch")) bad++;
        bl_model_free(m);
    }
    CHECK(bad == 0, "%d payload flips not reported as 'checksum mismatch'", bad);
    /* the stored digest itself flipped: same */
    memcpy(b, orig, len);
    b[40] ^= 1;
    m = bl_model_load(b, len, 0, &e);
    CHECK(!m && strstr(e.msg, "checksum mismatch"), "flipped digest: %s", m ? "loaded" : e.msg);
    bl_model_free(m);
    free(b);
    free(orig);
}

/* The tiny_f32 test checkpoint converted to int8, in memory. */
static uint8_t *convert_tiny(size_t *len) {
    char dir[] = "/tmp/bl_hostile_XXXXXX";
    if (!mkdtemp(dir)) return NULL;
    char path[64];
    snprintf(path, sizeof path, "%s/m.bin", dir);
    bl_err e;
    uint8_t *buf = NULL;
    if (bl_convert_hf("tests/model/models/tiny_f32", path, BL_DT_I8, 0, &e) == 0)
        buf = (uint8_t *)check_read_file(path, len);
    else
        CHECK(0, "convert tiny_f32: %s", e.msg);
    unlink(path);
    rmdir(dir);
    return buf;
}

static void test_forward_memory(const bl_model *m) {
    const bl_config *cfg = bl_model_config(m);
    bl_err e;
    bl_ctx *c = bl_ctx_new(m, &e);
    CHECK(c != NULL, "ctx: %s", e.msg);
    if (!c) return;
    int ids[64], types[64];
    const int N = cfg->max_pos < 64 ? cfg->max_pos : 64;
    for (int i = 0; i < N; i++) { ids[i] = (i * 37 + 5) % cfg->vocab_size; types[i] = i >= N / 2; }
    float *logits = malloc((size_t)cfg->vocab_size * sizeof(float));
#if HAVE_HEAP_MEASURE
    /* the measure must see the forward's scratch: the first full-size forward grows it */
    size_t h0 = heap_in_use();
    CHECK(bl_forward(c, ids, types, N, BL_PREC_NATIVE, &e) == 0, "forward: %s", e.msg);
    size_t h1 = heap_in_use();
    size_t att = (size_t)cfg->layers * cfg->heads * N * N * sizeof(float);
    CHECK(h1 >= h0 + att, "heap measure sees the scratch (grew %zu bytes, attention alone %zu)", h1 - h0, att);
    /* and bl_ctx_bytes (what the memory ceiling compares) accounts for all of it */
    CHECK(h1 - h0 <= bl_ctx_bytes(m, N) + 1024, "forward scratch %zu bytes > bl_ctx_bytes %zu",
          h1 - h0, bl_ctx_bytes(m, N));
#endif
    /* 1,000 re-runs: varying n (never above N), both precisions, MLM logits, failing calls */
    int fails = 0;
    for (int it = 0; it < 1000; it++) {
        int n = 1 + it % N, prec = it & 1;
        if (bl_forward(c, ids, types, n, prec, &e)) fails++;
        if (cfg->has_mlm && bl_mlm_logits(c, n - 1, logits, &e)) fails++;
        int bad = cfg->vocab_size;
        if (bl_forward(c, &bad, NULL, 1, prec, &e) == 0) fails++;             /* rejected */
        if (bl_forward(c, ids, NULL, cfg->max_pos + 1, prec, &e) == 0) fails++; /* rejected */
    }
    CHECK(fails == 0, "%d unexpected results in 1,000 re-runs", fails);
#if HAVE_HEAP_MEASURE
    size_t h2 = heap_in_use();
    CHECK(h2 <= h1 + 4096, "heap grew by %zd bytes over 1,000 forward re-runs", (ssize_t)(h2 - h1));
#endif
    free(logits);
    bl_ctx_free(c);
}

static void test_memory_ceiling(const bl_model *m) {
    const bl_config *cfg = bl_model_config(m);
    bl_err e;
    bl_ctx *c = bl_ctx_new(m, &e);
    if (!c) { CHECK(0, "ctx: %s", e.msg); return; }
    const int n_ok = cfg->max_pos / 2, n_big = n_ok + 1;
    int ids[512] = {0};
    /* bl_ctx_bytes: grows with n, at least the attention maps, saturates instead of wrapping */
    size_t b_ok = bl_ctx_bytes(m, n_ok), b_big = bl_ctx_bytes(m, n_big);
    CHECK(b_ok >= (size_t)cfg->layers * cfg->heads * n_ok * n_ok * 4 && b_big > b_ok, "bl_ctx_bytes %zu, %zu", b_ok, b_big);
    CHECK(bl_ctx_bytes(m, 0) == 0 && bl_ctx_bytes(NULL, 5) == 0, "bl_ctx_bytes of nothing is 0");
    if (sizeof(size_t) == 8)
        CHECK(bl_ctx_bytes(m, INT_MAX) > ((size_t)1 << 62), "n = INT_MAX: %zu (must not wrap)", bl_ctx_bytes(m, INT_MAX));
    else
        CHECK(bl_ctx_bytes(m, INT_MAX) == SIZE_MAX, "n = INT_MAX saturates");
    bl_ctx_set_max_bytes(c, b_ok);
    CHECK(bl_forward(c, ids, NULL, n_ok, BL_PREC_NATIVE, &e) == 0, "under the limit: %s", e.msg);
    e.msg[0] = 0;
    CHECK(bl_forward(c, ids, NULL, n_big, BL_PREC_NATIVE, &e) < 0, "over the limit: must fail");
    char want[64];
    snprintf(want, sizeof want, "this model at n=%d needs ", n_big);
    CHECK(strstr(e.msg, want) && strstr(e.msg, "MB, above the limit of "), "limit message: '%s'", e.msg);
    CHECK(bl_ctx_n(c) == 0 && bl_attention(c) == NULL, "a refused forward leaves no stale outputs");
    CHECK(bl_forward(c, ids, NULL, 3, BL_PREC_F32, &e) == 0 && bl_ctx_n(c) == 3, "still usable below: %s", e.msg);
    bl_ctx_set_max_bytes(c, 0);
    CHECK(bl_forward(c, ids, NULL, n_big, BL_PREC_NATIVE, &e) == 0, "no limit again: %s", e.msg);
    /* a limit below what is already allocated does not break smaller runs */
    bl_ctx_set_max_bytes(c, 1);
    CHECK(bl_forward(c, ids, NULL, n_big, BL_PREC_NATIVE, &e) == 0, "already-allocated n under a tiny limit: %s", e.msg);
    bl_ctx_free(c);
    /* a fresh context with a 1-byte limit refuses even n=1, with the message */
    c = bl_ctx_new(m, &e);
    bl_ctx_set_max_bytes(c, 1);
    CHECK(bl_forward(c, ids, NULL, 1, BL_PREC_NATIVE, &e) < 0 && strstr(e.msg, "above the limit of 0.0 MB"),
          "1-byte limit: '%s'", e.msg);
    bl_ctx_free(c);
    bl_ctx_set_max_bytes(NULL, 5);   /* no crash */
}


/* ------------------------------------------------------------------ renderer on hostile values
   A weights file with inf/NaN (the checksum only proves integrity, not sanity) gives NaN/inf
   attention and q/k; token strings come from the file's vocab (any bytes). Every view must
   draw or refuse with a message, in bounded time (attention flow runs max-flow per token). */
static void test_render_hostile(void) {
    size_t flen = 0;
    uint8_t *font = (uint8_t *)check_read_file("web/fonts/DejaVuSans-subset.ttf", &flen);
    CHECK(font != NULL, "read web/fonts/DejaVuSans-subset.ttf");
    if (!font) return;
    bl_err e;
    bl_renderer *r = bl_renderer_new(font, flen, &e);
    CHECK(r != NULL, "renderer: %s", e.msg);
    if (!r) { free(font); return; }
    enum { N = 24, L = 3, H = 2, D = 4 };
    static float att[L * H * N * N], q[L][N * H * D], k[L][N * H * D];
    const float *qs[L], *ks[L];
    char longtok[4096];
    memset(longtok, 'W', sizeof longtok - 1);
    longtok[sizeof longtok - 1] = 0;
    const char *toks[N] = { "[CLS]", "", "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "\xf0\x9f\x98", longtok,
                            "\xe2\x80\xae" "rtl", "\t\n\r", "\x7f", "日本語", "e\xcc\x81\xcc\x81\xcc\x81", "👨‍👩‍👧",
                            "[SEP]", "b", "\xef\xbf\xbd", "##", "[MASK]", "x", "y", "z", "\x01", "w", "[SEP]" };
    int types[N];
    for (int i = 0; i < N; i++) types[i] = i > 13;
    const float vals[] = { NAN, INFINITY, -INFINITY, -1.0f, 1e30f, 0.0f, 2.0f, -0.0f, 1e-40f };
    const int nv = sizeof vals / sizeof *vals;
    for (int pattern = 0; pattern < 4; pattern++) {
        for (int i = 0; i < L * H * N * N; i++)
            att[i] = pattern == 0 ? vals[i % nv] : pattern == 1 ? NAN : pattern == 2 ? (i % 7 ? 1.0f / N : INFINITY) : (float)(i % 3);
        for (int l = 0; l < L; l++) {
            for (int i = 0; i < N * H * D; i++) { q[l][i] = vals[(i + l) % nv]; k[l][i] = vals[(i * 3 + l) % nv]; }
            qs[l] = q[l]; ks[l] = k[l];
        }
        const char *mt[2 * 3] = { "a", "\xff", "", longtok, "b", "c" };
        const float mp[6] = { NAN, INFINITY, -1.0f, 0.5f, 1e30f, 0.0f };
        const int mpos[2] = { 17, 999 };   /* the second is out of range */
        bl_render_input in = { .n = N, .layers = L, .heads = H, .head_dim = D, .tokens = toks,
                               .type_ids = types, .attn = att, .query = qs, .key = ks,
                               .mlm_count = 2, .mlm_k = 3, .mlm_pos = mpos, .mlm_tokens = mt, .mlm_p = mp };
        for (int view = 0; view < BL_VIEW_COUNT; view++) {
            const float thr[] = { NAN, -1.0f, 0.1f };
            for (int t = 0; t < 3; t++) {
                bl_view_opts o = { .view = view, .layer = L - 1, .head = t - 1, .colormap = t, .dark = t & 1,
                                   .scale = t == 2 ? 3.0f : 1.0f, .width = t == 1 ? 1 : 700, .hide_special = t & 1,
                                   .pair_filter = t, .threshold = thr[t], .token = t == 2 ? 5 : -1,
                                   .hover_x = 50, .hover_y = 80, .vmax = t == 0 ? NAN : 0.0f };
                int w = 0, h = 0;
                e.msg[0] = 0;
                double t0 = now();
                const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
                double dt = now() - t0;
                CHECK(px ? (w > 0 && h > 0 && w <= 4096 && h <= 4096) : e.msg[0] != 0,
                      "render view %d pattern %d: %s (%dx%d)", view, pattern, px ? "bad size" : "no message", w, h);
                CHECK(dt < TIME_LIMIT, "render view %d pattern %d took %.2f s", view, pattern, dt);
                (void)bl_hit_test(r, 50, 80);
                (void)bl_hit_test(r, -5, 1 << 30);
            }
        }
    }
    /* hostile geometry: n = 0, absurd scale/width, layer/head out of range, NULL arrays */
    const bl_render_input empty = { .n = 0, .layers = L, .heads = H, .head_dim = D, .tokens = toks, .attn = att };
    const bl_render_input noattn = { .n = N, .layers = L, .heads = H, .head_dim = D, .tokens = toks, .type_ids = types };
    const bl_render_input *ins[2] = { &empty, &noattn };
    const float scales[] = { 0.0f, -1.0f, NAN, INFINITY, 1e9f };
    for (int i = 0; i < 2; i++)
        for (int view = 0; view < BL_VIEW_COUNT; view++)
            for (int si = 0; si < 5; si++) {
                bl_view_opts o = { .view = view, .layer = 99 * (si & 1) - 1, .head = 99, .scale = scales[si],
                                   .width = si == 4 ? INT_MAX : -5, .token = INT_MAX, .hover_x = -1, .hover_y = -1 };
                int w, h;
                (void)bl_render(r, ins[i], &o, &w, &h, &e);
            }
    bl_view_opts o = { .view = 99, .scale = 1.0f, .width = 300 };
    int w, h;
    CHECK(bl_render(r, &empty, &o, &w, &h, &e) == NULL, "unknown view refused");
    bl_renderer_free(r);
    free(font);
}

int main(void) {
    size_t vlen = 0;
    char *vt = check_read_file("weights/vocab-bert-base-uncased.txt", &vlen);
    CHECK(vt != NULL, "read weights/vocab-bert-base-uncased.txt (run from the repository root)");
    if (vt) {
        bl_err e;
        bl_vocab *v = bl_vocab_parse(vt, vlen, &e);
        CHECK(v != NULL, "vocab: %s", e.msg);
        if (v) {
            test_bad_utf8(v);
            test_nul_and_whitespace(v);
            test_big_texts(v);
            test_combining_and_long_words(v);
            bl_vocab_free(v);
        }
        free(vt);
    }
    test_hostile_vocab();
    test_render_hostile();
    test_truncation_and_flips();
    size_t len = 0;
    uint8_t *buf = convert_tiny(&len);
    if (buf) {
        bl_err e;
        bl_model *m = bl_model_load(buf, len, 0, &e);
        CHECK(m != NULL, "tiny_f32 int8: %s", e.msg);
        if (m) {
            test_forward_memory(m);
            test_memory_ceiling(m);
            bl_model_free(m);
        }
        free(buf);
    }
    return check_summary("test_hostile");
}
