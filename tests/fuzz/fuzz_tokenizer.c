/* fuzz_tokenizer.c — libFuzzer target: arbitrary bytes as text for bl_tokenize.
   Input layout: byte 0 = options (bit0 pair, bit1 lowercase, bits2-3 strip_accents -1/0/1,
   bit4 chinese_chars, bit5 tiny vocab instead of bert-base-uncased), byte 1 = max_len
   (0 = no limit), byte 2 = where the pair splits the rest (fraction /255), then the text.
   Checks the encoding's invariants (ids in range, offsets inside their segment, [CLS]/[SEP]
   placement, n <= max_len) and aborts on a violation, so libFuzzer reports it.
   Built by tests/fuzz/run.sh; run from the repository root (reads the vocab files). */
#include "bertlens.h"
#include "base/internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bl_vocab *big, *tiny;

static bl_vocab *load_vocab(const char *path) {
    size_t len;
    uint8_t *t;
    if (bl_read_whole_file(path, &t, &len, NULL) != 0) { fprintf(stderr, "fuzz_tokenizer: cannot read %s (run from the repo root)\n", path); abort(); }
    bl_err e;
    bl_vocab *v = bl_vocab_parse((const char *)t, len, &e);
    free(t);
    if (!v) { fprintf(stderr, "fuzz_tokenizer: %s: %s\n", path, e.msg); abort(); }
    return v;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    big = load_vocab("weights/vocab-bert-base-uncased.txt");
    tiny = load_vocab("tests/model/models/tiny_f32/vocab.txt");
    return 0;
}

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    const int flags = data[0], max_len = data[1], split = data[2];
    const char *text = (const char *)data + 3;
    const size_t tlen = size - 3;
    const int pair = flags & 1;
    bl_tok_opts o = { (flags >> 1) & 1, ((flags >> 2) & 3) == 3 ? -1 : ((flags >> 2) & 3) == 2 ? 1 : (flags >> 2) & 1,
                      (flags >> 4) & 1 };
    const bl_vocab *v = (flags & 32) ? tiny : big;
    size_t alen = pair ? tlen * (size_t)split / 255 : tlen;
    const char *b = pair ? text + alen : NULL;
    size_t blen = pair ? tlen - alen : 0;
    /* copies of exactly the right size so ASan sees any read past a segment */
    char *ca = malloc(alen ? alen : 1), *cb = pair ? malloc(blen ? blen : 1) : NULL;
    memcpy(ca, text, alen);
    if (pair) memcpy(cb, b, blen);
    bl_encoding enc;
    bl_err e;
    int r = bl_tokenize(v, &o, ca, alen, cb, blen, max_len, &enc, &e);
    const int nspecial = pair ? 3 : 2;
    if (r != 0) {
        REQUIRE(max_len > 0 && max_len < nspecial);   /* the only documented failure */
        REQUIRE(e.msg[0] != 0);
    } else {
        const int V = bl_vocab_size(v);
        REQUIRE(enc.n >= nspecial);
        if (max_len > 0) REQUIRE(enc.n <= max_len);
        REQUIRE(enc.n_a >= 2 && enc.n_a <= enc.n);
        if (!pair) REQUIRE(enc.n_a == enc.n);
        const int cls = bl_vocab_id(v, "[CLS]", 5), sep = bl_vocab_id(v, "[SEP]", 5);
        REQUIRE(enc.ids[0] == cls && enc.ids[enc.n_a - 1] == sep && enc.ids[enc.n - 1] == sep);
        for (int i = 0; i < enc.n; i++) {
            REQUIRE(enc.ids[i] >= 0 && enc.ids[i] < V);
            REQUIRE(enc.type_ids[i] == (i >= enc.n_a));
            const size_t seglen = enc.type_ids[i] ? blen : alen;
            if (i == 0 || i == enc.n_a - 1 || i == enc.n - 1) {
                REQUIRE(enc.start[i] == -1 && enc.end[i] == -1);
            } else {
                REQUIRE(enc.start[i] >= 0 && enc.start[i] <= enc.end[i] && (size_t)enc.end[i] <= seglen);
            }
        }
        REQUIRE(!enc.truncated || enc.n == max_len);
        /* with a limit, each segment's tokens are a prefix of the unlimited encoding's, and
           `truncated` says whether anything was dropped */
        if (max_len > 0) {
            bl_encoding full;
            REQUIRE(bl_tokenize(v, &o, ca, alen, cb, blen, 0, &full, &e) == 0);
            REQUIRE(!full.truncated);
            REQUIRE(enc.truncated == (full.n > enc.n));
            REQUIRE(enc.n_a <= full.n_a && enc.n - enc.n_a <= full.n - full.n_a);
            for (int i = 0; i < enc.n_a - 1; i++) REQUIRE(enc.ids[i] == full.ids[i] && enc.start[i] == full.start[i]);
            for (int i = enc.n_a; i < enc.n - 1; i++)
                REQUIRE(enc.ids[i] == full.ids[i - enc.n_a + full.n_a] && enc.end[i] == full.end[i - enc.n_a + full.n_a]);
            bl_encoding_free(&full);
        }
        bl_encoding_free(&enc);
    }
    free(ca);
    free(cb);
    return 0;
}
