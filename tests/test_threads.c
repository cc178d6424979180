/* test_threads.c — a forward on 2 and 3 threads gives one thread's bits, on a model wide enough
   that the linear steps are shared: by output rows up to 128 tokens (bert.c bl_linear2), by
   tokens above that, and the attention by heads.

   The golden models of test_bert are too narrow for the pool to take a share of their steps (a
   task needs 4 M multiply-adds, bert.c BL_TASK_WORK), so this one is made here: random weights,
   hidden 512 (the narrowest whose steps over 16 tokens are shared), intermediate 2048, one
   layer, 16384 tokens (so that the masked-LM decoder's rows are shared too), written as int8 and as int16 files (the int16 path adds the second digit for Q and K,
   which the row split must carry too). Lengths cover both splits and their edge: row splits
   over 3, 16, 31 and 64 tokens (rows per thread not a multiple of the kernels' blocks), a
   token split over 129; 2 threads, and 3 for one model (sizes kept down for the ASan run).
   Compared: every attention map, the last
   hidden state, the last layer's keys, and the masked-LM logits of one position, then the maps
   and keys of attention-only forwards. A second model, an ELECTRA discriminator (embeddings
   narrower than the hidden state, a task head, no masked LM), compares the head's logits, also
   on a pool lent after the forward (head_after_pool_change). */
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
    static char vocab[1 << 18];
    size_t len = 0;
    const char *spec[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < cfg->vocab_size; i++)
        len += (size_t)(i < 5 ? snprintf(vocab + len, sizeof vocab - len, "%s\n", spec[i])
                              : snprintf(vocab + len, sizeof vocab - len, "t%d\n", i));
    enum { POOL = 1 << 24, NT = 64 };
    float *pool = malloc(POOL * sizeof(float)), *ones = malloc(4096 * sizeof(float));
    for (int i = 0; i < POOL; i++) pool[i] = 0.05f * frand();
    for (int i = 0; i < 4096; i++) ones[i] = 1.0f;
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
    const char *labels = cfg->head ? "replaced\n" : NULL;   /* the discriminator's one label */
    if (bl_model_write_ex(cfg, dtype, vocab, len, labels, labels ? strlen(labels) : 0, t, nt, file, &blen, &e) < 0)
        CHECK(0, "write: %s", e.msg);
    else if (!(m = bl_model_load(*file, blen, 0, &e))) CHECK(0, "load: %s", e.msg);
    free(pool);
    free(ones);
    return m;
}

/* The task head's logits on c's last forward into out (bl_head_size floats); 0 or -1 */
static int head(bl_ctx *c, float *out) {
    bl_err e = {{0}};
    const int rc = bl_head_logits(c, out, &e);
    CHECK(rc == 0, "head logits: %s", e.msg);
    return rc;
}

/* Forwards on one thread and on `threads`, over the lengths below, whole and attention-only;
   returns how many differ */
static int compare(const bl_model *m, int threads, const char *label) {
    const bl_config *cfg = bl_model_config(m);
    static const int lens[] = {3, 16, 31, 64, 129};
    bl_err e = {{0}};
    bl_ctx *one = bl_ctx_new(m, &e), *many = bl_ctx_new(m, &e);
    bl_pool *pool = bl_pool_new(threads, &e);
    CHECK(one && many && pool, "%s: %s", label, e.msg);
    if (!one || !many || !pool) return 1;
    bl_ctx_set_pool(many, pool);
    int bad = 0;
    static int ids[136];
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
        /* the masked-LM logits of one position, or the task head's (ELECTRA's discriminator) */
        const size_t nl = cfg->has_mlm ? (size_t)cfg->vocab_size : (size_t)bl_head_size(one);
        float *l1 = malloc(nl * sizeof(float)), *l2 = malloc(nl * sizeof(float));
        const int lg = cfg->has_mlm ? bl_mlm_logits(one, n / 2, l1, &e) || bl_mlm_logits(many, n / 2, l2, &e)
                                    : head(one, l1) || head(many, l2);
        CHECK(!lg, "%s: logits over %d tokens: %s", label, n, e.msg);
        int differ = memcmp(bl_attention(one), bl_attention(many), na * sizeof(float)) ||
                     memcmp(bl_hidden(one), bl_hidden(many), nh * sizeof(float)) ||
                     memcmp(bl_key(one, cfg->layers - 1), bl_key(many, cfg->layers - 1), nh * sizeof(float)) ||
                     (!lg && memcmp(l1, l2, nl * sizeof(float)));
        /* attention-only forwards: the last layer takes Q and K alone */
        bl_ctx_set_attention_only(one, 1);
        bl_ctx_set_attention_only(many, 1);
        if (bl_forward(one, ids, NULL, n, BL_PREC_NATIVE, &e) || bl_forward(many, ids, NULL, n, BL_PREC_NATIVE, &e))
            CHECK(0, "%s: attention-only forward over %d tokens: %s", label, n, e.msg);
        else differ |= memcmp(bl_attention(one), bl_attention(many), na * sizeof(float)) ||
                       memcmp(bl_key(one, cfg->layers - 1), bl_key(many, cfg->layers - 1), nh * sizeof(float));
        bl_ctx_set_attention_only(one, 0);
        bl_ctx_set_attention_only(many, 0);
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

/* A task head on a pool lent after the forward, without another forward (the head's own
   linear steps then see scratch sized for one thread), and after 2 → 1 → 2 threads with a
   longer forward on one thread between: one thread's logits, and no overrun (ASan) */
static void head_after_pool_change(const bl_model *m) {
    const bl_config *cfg = bl_model_config(m);
    static int ids[100];
    for (int t = 0; t < 100; t++) ids[t] = 5 + t * 31 % (cfg->vocab_size - 5);
    bl_err e = {{0}};
    bl_ctx *c = bl_ctx_new(m, &e);
    bl_pool *pool = bl_pool_new(2, &e);
    CHECK(c && pool, "head after pool change: %s", e.msg);
    if (!c || !pool) return;
    float *want = malloc(100 * sizeof(float) * cfg->n_labels), *got = malloc(100 * sizeof(float) * cfg->n_labels);
    /* one thread: the reference, then the pool */
    if (bl_forward(c, ids, NULL, 64, BL_PREC_NATIVE, &e) == 0 && head(c, want) == 0) {
        bl_ctx_set_pool(c, pool);
        CHECK(head(c, got) == 0 && !memcmp(want, got, 64 * sizeof(float) * cfg->n_labels),
              "a head on a pool lent after a one-thread forward: not one thread's bits");
    } else CHECK(0, "one-thread forward: %s", e.msg);
    /* 2 threads over 10 tokens (scratch for 10), 1 thread over 100, 2 threads again: the head */
    bl_ctx_set_pool(c, pool);
    int ok = bl_forward(c, ids, NULL, 10, BL_PREC_NATIVE, &e) == 0;
    bl_ctx_set_pool(c, NULL);
    ok = ok && bl_forward(c, ids, NULL, 100, BL_PREC_NATIVE, &e) == 0 && head(c, want) == 0;
    bl_ctx_set_pool(c, pool);
    CHECK(ok && head(c, got) == 0 && !memcmp(want, got, 100 * sizeof(float) * cfg->n_labels),
          "a head after 2, 1 and 2 threads: not one thread's bits (%s)", e.msg);
    free(want);
    free(got);
    bl_ctx_free(c);
    bl_pool_free(pool);
}

int main(void) {
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
    printf("test_threads: this build has no threads\n");
    return 0;
#endif
    const bl_config cfg = {.vocab_size = 16384, .hidden = 512, .layers = 1, .heads = 8, .intermediate = 2048,
                           .max_pos = 136, .type_vocab = 2, .ln_eps = 1e-12f, .act = BL_ACT_GELU,
                           .lowercase = 1, .strip_accents = -1, .chinese_chars = 1, .has_mlm = 1,
                           .mask_id = 4, .cls_id = 2, .sep_id = 3, .unk_id = 1};
    /* an ELECTRA discriminator: embeddings 128 wide projected to the hidden 512 (an input
       narrower than the hidden state), a token head of one logit, no masked LM */
    bl_config disc = cfg;
    disc.family = BL_FAMILY_ELECTRA;
    disc.embed = 128;
    disc.emb_proj = 1;
    disc.has_mlm = 0;
    disc.head = BL_HEAD_DISC;
    disc.n_labels = 1;
    disc.head_sigmoid = 1;
    const bl_config *cfgs[] = {&cfg, &disc};
    const int dtypes[] = {BL_DT_I8, BL_DT_I16};
    for (int k = 0; k < 2; k++)
        for (int d = 0; d < 2; d++) {
            char label[64];
            snprintf(label, sizeof label, "%s %s", k ? "electra-disc" : "bert", bl_dtype_name(dtypes[d]));
            uint8_t *file = NULL;
            bl_model *m = random_model(cfgs[k], dtypes[d], &file);
            CHECK(m != NULL, "%s model", label);
            if (!m) continue;
            for (int threads = 2; threads <= (k || d ? 2 : 3); threads++) {   /* 3: one model (ASan time) */
                const int bad = compare(m, threads, label);
                printf("%s, %d threads: %d of 5 lengths differ from one thread\n", label, threads, bad);
            }
            if (k) head_after_pool_change(m);
            bl_model_free(m);
            free(file);
        }
    return check_summary("test_threads");
}
