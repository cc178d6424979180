/* fuzz_conv_common.h — shared by fuzz_safetensors.c and fuzz_pickle.c: a converter set up for
   tests/data/make_hf.py's small checkpoints (vocab 40, hidden 8, 2 layers, intermediate 16,
   16 positions), fed one weights file in chunks whose sizes come from the input's first byte.
   Whatever converts must load. */
#include "bertlens.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

static const char fz_config[] =
    "{\"model_type\": \"bert\", \"vocab_size\": 40, \"hidden_size\": 8, \"num_hidden_layers\": 2,"
    " \"num_attention_heads\": 2, \"intermediate_size\": 16, \"max_position_embeddings\": 16,"
    " \"type_vocab_size\": 2}";

static void fz_convert(const char *file, const uint8_t *data, size_t size) {
    if (size < 1) return;
    uint8_t mode = data[0];
    data++;
    size--;
    char vocab[40 * 4];
    size_t vl = 0;
    for (int i = 0; i < 40; i++) vl += (size_t)snprintf(vocab + vl, sizeof vocab - vl, "t%d\n", i);
    bl_err e;
    /* no fidelity measurement: it runs two forwards per input, and the parsers are what is fuzzed here */
    bl_conv_opts o = {.dtype = mode % 3, .max_bytes = (mode & 0x40) ? 65536 : 0, .measure = 0};
    bl_conv *c = bl_conv_new(&o, &e);
    REQUIRE(c != NULL);
    int rc = bl_conv_set_config(c, fz_config, sizeof fz_config - 1, &e);
    REQUIRE(rc == 0);
    rc = bl_conv_set_tokenizer_file(c, "vocab.txt", (const uint8_t *)vocab, vl, &e);
    REQUIRE(rc == 0);
    size_t chunk = (mode >> 2) & 7 ? (size_t)1 << (((mode >> 2) & 7) * 2) : size + 1;   /* 4..16384, or all */
    rc = bl_conv_begin_file(c, file, (mode & 0x80) ? (int64_t)size : -1, &e);
    for (size_t off = 0; rc == 0 && off < size; off += chunk)
        rc = bl_conv_push(c, data + off, size - off < chunk ? size - off : chunk, &e);
    if (rc == 0) rc = bl_conv_end_file(c, &e);
    uint8_t *out = NULL;
    size_t len = 0;
    if (rc == 0) rc = bl_conv_finish(c, &out, &len, &e);
    bl_conv_progress p;
    bl_conv_get_progress(c, &p);
    REQUIRE(p.bytes <= size && p.tensors_done <= p.tensors_total);
    if (rc == 0) {
        REQUIRE(p.tensors_done == p.tensors_total);
        bl_model *m = bl_model_load(out, len, 0, &e);
        if (!m) fprintf(stderr, "converted file does not load: %s\n", e.msg);
        REQUIRE(m != NULL);
        bl_model_free(m);
    } else {
        REQUIRE(strlen(e.msg) > 0);
        /* every later call repeats the error */
        bl_err e2;
        REQUIRE(bl_conv_push(c, data, size ? 1 : 0, &e2) < 0 && !strcmp(e.msg, e2.msg));
    }
    free(out);
    bl_conv_free(c);
}
