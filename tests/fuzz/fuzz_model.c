/* fuzz_model.c — libFuzzer target: arbitrary bytes as a weights file.
   Each input is loaded twice: with the checksum (the normal path: mutations must be caught
   there) and with BL_LOAD_SKIP_CHECKSUM (so mutations reach the parser past the checksum).
   Whatever loads is used: tokenize a fixed text with its vocab, a forward pass in both
   precisions (n <= 8), MLM logits, and (for a quarter of the inputs) heatmap, head, neuron and flow renders at a small width.
   Built by tests/fuzz/run.sh; run from the repository root (reads the font). */
#include "bertlens.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *font;
static size_t font_len;
static bl_renderer *rend;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    FILE *f = fopen("web/fonts/DejaVuSans-subset.ttf", "rb");
    if (!f) return 0;   /* no font: no render */
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    font = malloc((size_t)n);
    if (font && fread(font, 1, (size_t)n, f) == (size_t)n) {
        font_len = (size_t)n;
        bl_err e;
        rend = bl_renderer_new(font, font_len, &e);
    }
    fclose(f);
    return 0;
}

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

static void use_model(const bl_model *m) {
    const bl_config *cfg = bl_model_config(m);
    REQUIRE(cfg->hidden > 0 && cfg->heads > 0 && cfg->hidden % cfg->heads == 0);
    const bl_vocab *v = bl_model_vocab(m);
    REQUIRE(bl_vocab_size(v) == cfg->vocab_size);
    bl_err e;
    /* what `bertlens info` reads */
    for (int i = 0; i < bl_model_tensor_count(m); i++) {
        const char *name;
        int dt, rows, cols;
        REQUIRE(bl_model_tensor_info(m, i, &name, &dt, &rows, &cols) == 0);
        REQUIRE(rows > 0 && cols > 0 && strlen(name) < 96 && strcmp(bl_dtype_name(dt), "?"));
    }
    REQUIRE(bl_model_tensor_info(m, -1, NULL, NULL, NULL, NULL) < 0);
    REQUIRE(bl_model_verify(m, &e) == 0 || !bl_model_checksum_verified(m));
    /* tokenizing with the file's vocab and options must not crash (it may fail: no [CLS]) */
    static const char text[] = "Hello, [MASK] world! Ünïcödé 日本 ##ing";
    bl_encoding enc;
    if (bl_tokenize(v, bl_model_tok_opts(m), text, sizeof text - 1, "b", 1, cfg->max_pos, &enc, &e) == 0)
        bl_encoding_free(&enc);
    /* cheap only: bounded work per input */
    if ((double)cfg->layers * cfg->hidden * (cfg->hidden + cfg->intermediate) > 4e6) return;
    bl_ctx *c = bl_ctx_new(m, &e);
    REQUIRE(c != NULL);
    int n = cfg->max_pos < 8 ? cfg->max_pos : 8;
    int ids[8], types[8];
    const char *toks[8];
    for (int i = 0; i < n; i++) {
        ids[i] = (i * 7919) % cfg->vocab_size;
        types[i] = i % cfg->type_vocab;
        toks[i] = bl_vocab_token(v, ids[i]);
    }
    for (int prec = 0; prec < 2; prec++) {
        REQUIRE(bl_forward(c, ids, types, n, prec, &e) == 0);
        REQUIRE(bl_ctx_n(c) == n && bl_attention(c) && bl_hidden(c));
    }
    /* out-of-range inputs are errors, not crashes */
    int bad = cfg->vocab_size;
    REQUIRE(bl_forward(c, &bad, NULL, 1, 0, &e) < 0);
    REQUIRE(bl_forward(c, ids, NULL, cfg->max_pos + 1, 0, &e) < 0);
    REQUIRE(bl_forward(c, ids, types, n, 0, &e) == 0);
    if (cfg->has_mlm && (size_t)cfg->vocab_size <= 4096) {
        float logits[4096];
        REQUIRE(bl_mlm_logits(c, n - 1, logits, &e) == 0);
    }
    /* rendering costs ~5x the rest: draw for a quarter of the models (picked by their stored
       digest, so the choice is deterministic per input) */
    uint8_t sha[32];
    bl_model_checksum(m, sha);
    if (rend && (sha[0] & 3) == 0) {
        const int d = cfg->hidden / cfg->heads;
        const float *qs[256], *ks[256];
        int L = cfg->layers < 256 ? cfg->layers : 256;
        for (int l = 0; l < L; l++) { qs[l] = bl_query(c, l); ks[l] = bl_key(c, l); }
        bl_render_input in = { .n = n, .layers = L, .heads = cfg->heads, .head_dim = d,
                               .tokens = toks, .type_ids = types, .attn = bl_attention(c),
                               .query = qs, .key = ks };
        static const int views[] = { BL_VIEW_HEATMAP, BL_VIEW_HEAD, BL_VIEW_NEURON, BL_VIEW_FLOW };
        for (int i = 0; i < 4; i++) {
            bl_view_opts o = { .view = views[i], .layer = L - 1, .head = -1, .scale = 1.0f,
                               .width = 300, .token = 0, .hover_x = 40, .hover_y = 40 };
            int w, h;
            (void)bl_render(rend, &in, &o, &w, &h, &e);   /* may refuse (e.g. too many heads) */
        }
    }
    bl_ctx_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* the loader requires 4-byte alignment (malloc gives 16) and an exact-size buffer */
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    for (int pass = 0; pass < 2; pass++) {
        bl_err e = {{0}};
        bl_model *m = bl_model_load(buf, size, pass ? BL_LOAD_SKIP_CHECKSUM : 0, &e);
        if (!m) {
            REQUIRE(e.msg[0] != 0);
            continue;
        }
        use_model(m);
        bl_model_free(m);
        if (pass == 0) break;   /* verified: the second pass would do the same */
    }
    free(buf);
    return 0;
}
