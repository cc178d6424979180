/* test_threads.c — a forward on 2 and 3 threads gives one thread's bits, on a model wide enough
   that the linear steps are shared: by output rows up to 128 tokens (bert.c bl_linear2), by
   tokens above that, and the attention by heads.

   The golden models of test_bert are too narrow for the pool to take a share of their steps (a
   task needs 4 M multiply-adds, bert.c BL_TASK_WORK), so this one is made here: random weights,
   hidden 512, intermediate 2048, 2 layers, written as int8 and as int16 files (the int16 path
   adds the second digit for Q and K, which the row split must carry too). Lengths cover both
   splits and their edge: row splits over 3 to 128 tokens (rows per thread not a multiple of
   the kernels' blocks), token splits over 129 and 150. Compared: every attention map, the last
   hidden state, the last layer's keys, and the masked-LM logits of one position. */
#include "check.h"
#include "bertlens.h"
#include "base/internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void) {   /* uniform in [-1, 1) */
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* A random model of cfg's shape as a model file of `dtype`, loaded (the file is kept: *file) */
static bl_model *random_model(const bl_config *cfg, int dtype, uint8_t **file) {
    char vocab[8192];
    size_t len = 0;
    const char *spec[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < cfg->vocab_size; i++)
        len += (size_t)(i < 5 ? snprintf(vocab + len, sizeof vocab - len, "%s\n", spec[i])
                              : snprintf(vocab + len, sizeof vocab - len, "t%d\n", i));
    enum { POOL = 1 << 21, NT = 64 };
    float *pool = malloc(POOL * sizeof(float)), *ones = malloc(POOL * sizeof(float));
    for (int i = 0; i < POOL; i++) { pool[i] = 0.05f * frand(); ones[i] = 1.0f; }
    bl_wtensor t[NT];
    char names[NT][96];
    int nt = 0, rows, cols, kind;
    for (int i = 0; nt < NT && bl_canonical_tensor(cfg, i, names[nt], sizeof names[nt], &rows, &cols, &kind) == 0; i++) {
        if (kind == 2) continue;   /* the untied decoder is optional: tied */
        /* offsets into the pool differ per tensor, so that no two layers are alike */
        const float *data = strstr(names[nt], "LayerNorm.weight") ? ones : pool + (size_t)nt * 7919 % (POOL / 2);
        if ((size_t)rows * cols > POOL / 2) {
            CHECK(0, "%s: %d x %d does not fit the pool", names[nt], rows, cols);
            break;
        }
        t[nt] = (bl_wtensor){names[nt], rows, cols, data};
        nt++;
    }
    size_t blen = 0;
    bl_err e = {{0}};
    bl_model *m = NULL;
    if (bl_model_write(cfg, dtype, vocab, len, t, nt, file, &blen, &e) < 0) CHECK(0, "write: %s", e.msg);
    else if (!(m = bl_model_load(*file, blen, 0, &e))) CHECK(0, "load: %s", e.msg);
    free(pool);
    free(ones);
    return m;
}

/* Forwards on one thread and on `threads`, over the lengths below; returns how many differ */
static int compare(const bl_model *m, int threads, const char *label) {
    const bl_config *cfg = bl_model_config(m);
    static const int lens[] = {3, 16, 17, 31, 32, 47, 100, 128, 129, 150};
    bl_err e = {{0}};
    bl_ctx *one = bl_ctx_new(m, &e), *many = bl_ctx_new(m, &e);
    bl_pool *pool = bl_pool_new(threads, &e);
    CHECK(one && many && pool, "%s: %s", label, e.msg);
    if (!one || !many || !pool) return 1;
    bl_ctx_set_pool(many, pool);
    int bad = 0;
    static int ids[160];
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        const int n = lens[li];
        for (int t = 0; t < n; t++) ids[t] = 5 + (t * 7919 + n) % (cfg->vocab_size - 5);
        ids[n / 2] = cfg->mask_id;
        if (bl_forward(one, ids, NULL, n, BL_PREC_NATIVE, &e) || bl_forward(many, ids, NULL, n, BL_PREC_NATIVE, &e)) {
            CHECK(0, "%s: forward over %d tokens: %s", label, n, e.msg);
            bad++;
            continue;
        }
        const size_t na = (size_t)cfg->layers * cfg->heads * n * n, nh = (size_t)n * cfg->hidden;
        float *l1 = malloc(cfg->vocab_size * sizeof(float)), *l2 = malloc(cfg->vocab_size * sizeof(float));
        const int mlm = bl_mlm_logits(one, n / 2, l1, &e) || bl_mlm_logits(many, n / 2, l2, &e);
        CHECK(!mlm, "%s: mlm over %d tokens: %s", label, n, e.msg);
        const int differ = memcmp(bl_attention(one), bl_attention(many), na * sizeof(float)) ||
                           memcmp(bl_hidden(one), bl_hidden(many), nh * sizeof(float)) ||
                           memcmp(bl_key(one, cfg->layers - 1), bl_key(many, cfg->layers - 1), nh * sizeof(float)) ||
                           (!mlm && memcmp(l1, l2, cfg->vocab_size * sizeof(float)));
        CHECK(!differ, "%s, %d threads, %d tokens: not one thread's bits", label, threads, n);
        bad += differ;
        free(l1);
        free(l2);
    }
    bl_ctx_free(one);
    bl_ctx_free(many);
    bl_pool_free(pool);
    return bad;
}

int main(void) {
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
    printf("test_threads: this build has no threads\n");
    return 0;
#endif
    const bl_config cfg = {.vocab_size = 300, .hidden = 512, .layers = 2, .heads = 8, .intermediate = 2048,
                           .max_pos = 160, .type_vocab = 2, .ln_eps = 1e-12f, .act = BL_ACT_GELU,
                           .lowercase = 1, .strip_accents = -1, .chinese_chars = 1, .has_mlm = 1,
                           .mask_id = 4, .cls_id = 2, .sep_id = 3, .unk_id = 1};
    const int dtypes[] = {BL_DT_I8, BL_DT_I16};
    for (int d = 0; d < 2; d++) {
        uint8_t *file = NULL;
        bl_model *m = random_model(&cfg, dtypes[d], &file);
        CHECK(m != NULL, "%s model", bl_dtype_name(dtypes[d]));
        if (!m) continue;
        for (int threads = 2; threads <= 3; threads++) {
            const int bad = compare(m, threads, bl_dtype_name(dtypes[d]));
            printf("%s, %d threads: %d of 10 lengths differ from one thread\n", bl_dtype_name(dtypes[d]), threads, bad);
        }
        bl_model_free(m);
        free(file);
    }
    return check_summary("test_threads");
}
