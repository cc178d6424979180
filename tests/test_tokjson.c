/* test_tokjson.c — tokenizer.json pipelines (bl_tokenizer_*) against goldens from the Rust
   `tokenizers` library (tests/golden/tokjson/make_tokjson.mjs): every case's ids, type ids and
   byte offsets, for WordPiece (uncased/cased), byte-level BPE (GPT-2 with RoBERTa's processing,
   a trained one with [a, b] merges) and Unigram (XLM-R and ALBERT layouts, Precompiled charsmap).
   Plus: errors that name unsupported components, the vocab.txt tokenizer behind the same
   interface, special-token roles, display forms. */
#include "check.h"
#include "base/json.h"
#include <string.h>

static int show_left = 12;

static void dump_case(const char *name, int line, const bl_encoding *enc, const bl_json *ids, const bl_json *offs) {
    if (show_left-- <= 0) return;
    fprintf(stderr, "  %s line %d: got n=%d:", name, line, enc->n);
    for (int k = 0; k < enc->n && k < 40; k++) fprintf(stderr, " %d(%d,%d)", enc->ids[k], enc->start[k], enc->end[k]);
    fprintf(stderr, "\n  want n=%d:", bl_json_len(ids));
    int k = 0;
    for (const bl_json *c = ids->child; c && k < 40; c = c->next, k++)
        fprintf(stderr, " %lld(%lld,%lld)", c->i64, bl_json_at(offs, 2 * k)->i64, bl_json_at(offs, 2 * k + 1)->i64);
    fputc('\n', stderr);
}

static void run_file(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "tests/golden/tokjson/%s.tokenizer.json", name);
    size_t jl;
    char *js = check_read_file(path, &jl);
    CHECK(js != NULL, "read %s", path);
    if (!js) return;
    bl_err e = {{0}};
    bl_tokenizer *t = bl_tokenizer_from_json(js, jl, &e);
    CHECK(t != NULL, "%s: %s", name, e.msg);
    free(js);
    if (!t) return;
    snprintf(path, sizeof path, "tests/golden/tokjson/%s.jsonl", name);
    size_t gl;
    char *g = check_read_file(path, &gl);
    CHECK(g != NULL, "read %s", path);
    if (!g) { bl_tokenizer_free(t); return; }
    int cases = 0, pass = 0, line = 0;
    char *p = g, *end = g + gl;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        line++;
        if (nl > p) {
            bl_json *c = bl_json_parse(p, (size_t)(nl - p), &e);
            CHECK(c != NULL, "%s line %d: %s", name, line, e.msg);
            if (c) {
                const bl_json *a = bl_json_get(c, "a"), *b = bl_json_get(c, "b");
                const bl_json *ids = bl_json_get(c, "ids"), *ty = bl_json_get(c, "type_ids");
                const bl_json *offs = bl_json_get(c, "offsets");
                const char *sp = bl_json_get_str(c, "special");
                int max_len = (int)bl_json_get(c, "max_len")->i64;
                bl_encoding enc;
                int rc = bl_tokenizer_encode(t, a->str, a->len, bl_json_is_null(b) ? NULL : b->str,
                                             bl_json_is_null(b) ? 0 : b->len, max_len, &enc, &e);
                int ok = rc == 0 && enc.n == bl_json_len(ids);
                for (int k = 0; ok && k < enc.n; k++) {
                    int special = sp[k] == '1';
                    long long ws = bl_json_at(offs, 2 * k)->i64, we = bl_json_at(offs, 2 * k + 1)->i64;
                    if (enc.ids[k] != bl_json_at(ids, k)->i64 || enc.type_ids[k] != bl_json_at(ty, k)->i64) ok = 0;
                    else if (special ? (enc.start[k] != -1 || enc.end[k] != -1) : (enc.start[k] != ws || enc.end[k] != we)) ok = 0;
                    else if (!bl_tokenizer_token(t, enc.ids[k], NULL)) ok = 0;
                }
                cases++;
                if (ok) pass++;
                else {
                    if (rc) fprintf(stderr, "  %s line %d: error %s\n", name, line, e.msg);
                    else dump_case(name, line, &enc, ids, offs);
                }
                if (rc == 0) bl_encoding_free(&enc);
                bl_json_free(c);
            }
        }
        p = nl + 1;
    }
    CHECK(pass == cases && cases > 0, "%s: %d of %d golden cases match", name, pass, cases);
    printf("%s: %d/%d cases match the Rust tokenizers library\n", name, pass, cases);
    free(g);
    bl_tokenizer_free(t);
}

static void test_errors(void) {
    bl_err e;
    const char *j1 = "{\"normalizer\":{\"type\":\"Nmt\"},\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0}}}";
    CHECK(!bl_tokenizer_from_json(j1, strlen(j1), &e) && strstr(e.msg, "normalizer type 'Nmt' is not supported") &&
          strstr(e.msg, "BertNormalizer"), "unknown normalizer named: %s", e.msg);
    const char *j2 = "{\"pre_tokenizer\":{\"type\":\"Digits\"},\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0}}}";
    CHECK(!bl_tokenizer_from_json(j2, strlen(j2), &e) && strstr(e.msg, "'Digits'"), "unknown pre_tokenizer named: %s", e.msg);
    const char *j3 = "{\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"a\":0}}}";
    CHECK(!bl_tokenizer_from_json(j3, strlen(j3), &e) && strstr(e.msg, "'WordLevel'"), "unknown model named: %s", e.msg);
    const char *j4 = "{\"post_processor\":{\"type\":\"Foo\"},\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0}}}";
    CHECK(!bl_tokenizer_from_json(j4, strlen(j4), &e) && strstr(e.msg, "'Foo'"), "unknown post_processor named: %s", e.msg);
    const char *j5 = "{\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"a|b\"},\"content\":\"\"},\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0}}}";
    CHECK(!bl_tokenizer_from_json(j5, strlen(j5), &e) && strstr(e.msg, "Regex"), "regex Replace refused: %s", e.msg);
    const char *j6 = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a b\"]}}";
    CHECK(!bl_tokenizer_from_json(j6, strlen(j6), &e) && strstr(e.msg, "'ab'"), "merge to a missing token: %s", e.msg);
    CHECK(!bl_tokenizer_from_json("[1]", 3, &e), "not an object");
    CHECK(!bl_tokenizer_from_json("{", 1, &e), "bad JSON");
}

static void test_api(void) {
    bl_err e;
    size_t n;
    char *js = check_read_file("tests/golden/tokjson/gpt2.tokenizer.json", &n);
    bl_tokenizer *t = js ? bl_tokenizer_from_json(js, n, &e) : NULL;
    free(js);
    CHECK(t != NULL, "gpt2 loads");
    if (t) {
        CHECK(bl_tokenizer_kind(t) == BL_TOKENIZER_BPE, "kind BPE");
        int mask = bl_tokenizer_special(t, BL_TOKROLE_MASK), cls = bl_tokenizer_special(t, BL_TOKROLE_CLS);
        size_t l;
        const char *s = bl_tokenizer_token(t, mask, &l);
        CHECK(s && l == 6 && !memcmp(s, "<mask>", 6), "mask role is <mask>");
        s = bl_tokenizer_token(t, cls, &l);
        CHECK(s && l == 3 && !memcmp(s, "<s>", 3), "cls role is <s>");
        CHECK(bl_tokenizer_id(t, "<mask>", 6) == mask, "id of <mask>");
        char buf[64];
        int f, id = bl_tokenizer_id(t, "\xC4\xA0hello", 7);   /* "Ġhello" */
        CHECK(id >= 0 && bl_tokenizer_display(t, id, buf, sizeof buf, &f) == 5 && !strcmp(buf, "hello") &&
              (f & BL_TOKD_WORD_START), "display of Ġhello: '%s' flags %d", buf, f);
        /* "é" is two bytes, Ã ©: the token "Ã©" shows as é */
        id = bl_tokenizer_id(t, "\xC3\x83\xC2\xA9", 4);
        CHECK(id >= 0 && bl_tokenizer_display(t, id, buf, sizeof buf, &f) == 2 && !strcmp(buf, "\xC3\xA9") && f == 0,
              "display of a byte pair: '%s'", buf);
        id = bl_tokenizer_id(t, "\xC3\xA2\xC4\xA2", 4);   /* "âĢ": bytes E2 80, half of a character */
        CHECK(id < 0 || (bl_tokenizer_display(t, id, buf, sizeof buf, &f) > 0 && (f & BL_TOKD_PARTIAL)), "partial bytes flagged");
        bl_encoding enc;
        CHECK(bl_tokenizer_encode(t, "a b", 3, "c", 1, 3, &enc, &e) < 0 && strstr(e.msg, "special tokens"),
              "max_len below the added tokens refused: %s", e.msg);
        bl_tokenizer_free(t);
    }
    js = check_read_file("tests/golden/tokjson/unigram.tokenizer.json", &n);
    t = js ? bl_tokenizer_from_json(js, n, &e) : NULL;
    free(js);
    CHECK(t != NULL, "unigram loads");
    if (t) {
        char buf[64];
        int f, id = bl_tokenizer_id(t, "\xE2\x96\x81the", 6);
        CHECK(id >= 0 && bl_tokenizer_display(t, id, buf, sizeof buf, &f) == 3 && !strcmp(buf, "the") &&
              (f & BL_TOKD_WORD_START), "display of ▁the: '%s'", buf);
        CHECK(bl_tokenizer_special(t, BL_TOKROLE_UNK) == 3 && bl_tokenizer_special(t, BL_TOKROLE_SEP) == 2, "unigram roles");
        bl_tokenizer_free(t);
    }
    js = check_read_file("tests/golden/tokjson/bpe-llama.tokenizer.json", &n);
    t = js ? bl_tokenizer_from_json(js, n, &e) : NULL;
    free(js);
    CHECK(t != NULL, "bpe-llama loads");
    if (t) {
        char buf[64];
        int f = 0, id, found = 0;
        size_t l;
        for (id = 0; id < bl_tokenizer_vocab_size(t) && !found; id++) {   /* the first "▁word" token */
            const char *s = bl_tokenizer_token(t, id, &l);
            if (!s || l < 5 || memcmp(s, "\xE2\x96\x81", 3) || (s[3] & 0x80)) continue;
            found = 1;
            CHECK(bl_tokenizer_display(t, id, buf, sizeof buf, &f) == (int)l - 3 && !memcmp(buf, s + 3, l - 3) &&
                  (f & BL_TOKD_WORD_START), "display of Llama-style %s: '%s'", s, buf);
        }
        CHECK(found, "a ▁word token in bpe-llama");
        CHECK(bl_tokenizer_special(t, BL_TOKROLE_CLS) == 1 && bl_tokenizer_special(t, BL_TOKROLE_SEP) == 2,
              "Llama roles: <s> opens, no separator in the template (</s> by name)");
        bl_tokenizer_free(t);
    }
    js = check_read_file("tests/golden/tokjson/wp-uncased.tokenizer.json", &n);
    t = js ? bl_tokenizer_from_json(js, n, &e) : NULL;
    free(js);
    if (t) {
        char buf[64]; int f;
        CHECK(bl_tokenizer_special(t, BL_TOKROLE_CLS) == 101 && bl_tokenizer_special(t, BL_TOKROLE_SEP) == 102 &&
              bl_tokenizer_special(t, BL_TOKROLE_MASK) == 103 && bl_tokenizer_special(t, BL_TOKROLE_PAD) == 0 &&
              bl_tokenizer_special(t, BL_TOKROLE_UNK) == 100, "WordPiece roles");
        CHECK(bl_tokenizer_display(t, 103, buf, sizeof buf, &f) == 6 && !strcmp(buf, "[MASK]") && (f & BL_TOKD_SPECIAL), "[MASK] special");
        CHECK(bl_tokenizer_vocab_size(t) == 30522 + 4, "vocab size counts the 4 added tokens outside the vocab (foo is in it)");
        bl_tokenizer_free(t);
    }
    /* vocab.txt behind the same interface: identical to bl_tokenize */
    char *v = check_read_file("weights/vocab-bert-base-uncased.txt", &n);
    bl_tok_opts o = { 1, -1, 1 };
    t = v ? bl_tokenizer_from_vocab(v, n, &o, &e) : NULL;
    CHECK(t != NULL, "vocab.txt tokenizer");
    if (t) {
        bl_vocab *voc = bl_vocab_parse(v, n, &e);
        const char *txt = "Héllo, [MASK] wörld!", *b = "second one";
        bl_encoding x, y;
        int r1 = bl_tokenizer_encode(t, txt, strlen(txt), b, strlen(b), 0, &x, &e);
        int r2 = bl_tokenize(voc, &o, txt, strlen(txt), b, strlen(b), 0, &y, &e);
        CHECK(r1 == 0 && r2 == 0 && x.n == y.n && x.n_a == y.n_a && !memcmp(x.ids, y.ids, (size_t)x.n * sizeof(int)) &&
              !memcmp(x.start, y.start, (size_t)x.n * sizeof(int)), "vocab.txt via bl_tokenizer = bl_tokenize");
        CHECK(bl_tokenizer_kind(t) == BL_TOKENIZER_VOCAB_TXT && bl_tokenizer_special(t, BL_TOKROLE_MASK) == 103 &&
              bl_tokenizer_special(t, BL_TOKROLE_CLS) == 101, "vocab.txt roles");
        char buf[32]; int f;
        CHECK(bl_tokenizer_display(t, bl_tokenizer_id(t, "##ing", 5), buf, sizeof buf, &f) == 5 && (f & BL_TOKD_CONTINUATION), "## flagged");
        if (!r1) bl_encoding_free(&x);
        if (!r2) bl_encoding_free(&y);
        bl_vocab_free(voc);
        bl_tokenizer_free(t);
    }
    free(v);
}

/* Speed on ~1 MB of mixed text per tokenizer (printed, not asserted). */
#include <time.h>
static void bench(void) {
    static const char *const names[] = { "wp-uncased", "gpt2", "unigram" };
    const char *piece = "The quick brown fox jumps over the lazy dog's back, naïve café 中文 😀 <mask> [MASK]. ";
    size_t pl = strlen(piece), n = 0, cap = 1 << 20;
    char *txt = malloc(cap + pl);
    while (n < cap) { memcpy(txt + n, piece, pl); n += pl; }
    for (int i = 0; i < 3; i++) {
        char path[128];
        snprintf(path, sizeof path, "tests/golden/tokjson/%s.tokenizer.json", names[i]);
        size_t jl; bl_err e;
        char *js = check_read_file(path, &jl);
        bl_tokenizer *t = js ? bl_tokenizer_from_json(js, jl, &e) : NULL;
        free(js);
        if (!t) continue;
        bl_encoding enc;
        clock_t c0 = clock();
        int rc = bl_tokenizer_encode(t, txt, n, NULL, 0, 0, &enc, &e);
        double s = (double)(clock() - c0) / CLOCKS_PER_SEC;
        CHECK(rc == 0, "bench encode %s", names[i]);
        if (!rc) { printf("  %-11s %.1f MB in %.3f s (%.1f MB/s), %d tokens\n", names[i], n / 1e6, s, n / 1e6 / s, enc.n); bl_encoding_free(&enc); }
        bl_tokenizer_free(t);
    }
    free(txt);
}

int main(int argc, char **argv) {
    static const char *const files[] = { "wp-uncased", "wp-cased", "wp-misc", "gpt2", "bpe-small", "bpe-llama",
                                         "unigram", "unigram-albert", "unigram-misc" };
    int only = argc > 1;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (only) { int hit = 0; for (int k = 1; k < argc; k++) hit |= !strcmp(argv[k], files[i]); if (!hit) continue; }
        run_file(files[i]);
    }
    if (!only) { test_errors(); test_api(); bench(); }
    return check_summary("test_tokjson");
}
