/* fuzz_tokjson.c — libFuzzer target for the tokenizer.json reader and tokenizers (tok_*.c).
   Input layout: byte 0 = mode, byte 1 = max_len (0 = none), byte 2 = where the pair splits the
   text (fraction /255; 255 = no pair), then:
     mode % 7 == 0: the rest up to the first NUL is a tokenizer.json (the reader on arbitrary
                    bytes), after it the text;
     otherwise:     one of the committed golden tokenizers (tests/golden/tokjson/, loaded once)
                    and the rest is the text (arbitrary bytes, invalid UTF-8 included).
   Checks the encoding's invariants (ids in the vocab, type ids >= 0, offsets inside their text
   or -1 for added specials, n <= max_len when one is given) and aborts on a violation.
   Built by tests/fuzz/run.sh; run from the repository root. */
#include "bertlens.h"
#include "base/internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = { "wp-uncased", "wp-cased", "gpt2", "bpe-small", "unigram", "unigram-albert" };
static bl_tokenizer *toks[6];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    for (int i = 0; i < 6; i++) {
        char path[128];
        snprintf(path, sizeof path, "tests/golden/tokjson/%s.tokenizer.json", names[i]);
        uint8_t *t; size_t len;
        if (bl_read_whole_file(path, &t, &len, NULL) != 0) { fprintf(stderr, "fuzz_tokjson: cannot read %s (run from the repo root)\n", path); abort(); }
        bl_err e;
        toks[i] = bl_tokenizer_from_json((const char *)t, len, &e);
        free(t);
        if (!toks[i]) { fprintf(stderr, "fuzz_tokjson: %s: %s\n", path, e.msg); abort(); }
    }
    return 0;
}

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

static void check(const bl_tokenizer *t, const char *text, size_t tlen, int split, int max_len) {
    int pair = split != 255;
    size_t alen = pair ? tlen * (size_t)split / 255 : tlen;
    size_t blen = pair ? tlen - alen : 0;
    /* copies of exactly the right size so ASan sees any read past a segment */
    char *ca = malloc(alen ? alen : 1), *cb = pair ? malloc(blen ? blen : 1) : NULL;
    memcpy(ca, text, alen);
    if (pair) memcpy(cb, text + alen, blen);
    bl_encoding enc;
    bl_err e;
    if (bl_tokenizer_encode(t, ca, alen, cb, blen, max_len, &enc, &e) == 0) {
        int nv = bl_tokenizer_vocab_size(t);
        REQUIRE(enc.n >= 0 && enc.n_a >= 0 && enc.n_a <= enc.n);
        if (max_len > 0) REQUIRE(enc.n <= max_len);
        for (int k = 0; k < enc.n; k++) {
            REQUIRE(enc.ids[k] >= 0 && enc.ids[k] < nv);
            REQUIRE(bl_tokenizer_token(t, enc.ids[k], NULL) != NULL);
            REQUIRE(enc.type_ids[k] >= 0);   /* a template may give any type id */
            if (enc.start[k] < 0) { REQUIRE(enc.start[k] == -1 && enc.end[k] == -1); continue; }
            REQUIRE(enc.start[k] <= enc.end[k]);
            REQUIRE((size_t)enc.end[k] <= (alen > blen ? alen : blen));   /* type ids do not always tell the text */
            char buf[64]; int f;
            REQUIRE(bl_tokenizer_display(t, enc.ids[k], buf, sizeof buf, &f) >= 0 && strlen(buf) < sizeof buf);
        }
        bl_encoding_free(&enc);
    } else {
        REQUIRE(e.msg[0] != 0);
    }
    free(ca);
    free(cb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    const int mode = data[0] % 7, max_len = data[1], split = data[2];
    const char *rest = (const char *)data + 3;
    size_t rlen = size - 3;
    if (mode == 0) {
        const char *nul = memchr(rest, 0, rlen);
        size_t jl = nul ? (size_t)(nul - rest) : rlen;
        char *js = malloc(jl ? jl : 1);
        memcpy(js, rest, jl);
        bl_err e;
        bl_tokenizer *t = bl_tokenizer_from_json(js, jl, &e);
        free(js);
        if (!t) { REQUIRE(e.msg[0] != 0); return 0; }
        const char *text = nul ? nul + 1 : "Hello, [MASK] world! héllo <mask> 中文";
        size_t tl = nul ? rlen - jl - 1 : strlen(text);
        check(t, text, tl, split, max_len);
        for (int r = 0; r < BL_TOKROLE_COUNT; r++) {
            int id = bl_tokenizer_special(t, r);
            REQUIRE(id < bl_tokenizer_vocab_size(t));
        }
        bl_tokenizer_free(t);
        return 0;
    }
    check(toks[mode - 1], rest, rlen, split, max_len);
    return 0;
}
