/* bert.c — the BERT encoder forward pass (HF BertModel / BertForMaskedLM, eval mode), keeping
   every attention probability for the views.

   One sequence, no padding, so no attention mask. Per layer:
       q,k,v = x·Wqᵀ+bq, ...          P[h] = softmax(q_h·k_hᵀ / sqrt(d))   (kept)
       x = LN(x + (P·v)·Woᵀ + bo)     x = LN(x + act(x·Wiᵀ+bi)·Wfᵀ + bf)
   Precision: BL_PREC_F32 widens/dequantizes weights on the fly with f32 activations (the
   reference path); BL_PREC_NATIVE quantizes each activation row to int8 once and runs integer
   dot products against I8 weights. Attention scores, softmax and P·V are f32 in both.

   Memory: the context owns scratch sized for the largest n seen so far; a forward with a
   larger n grows it (the only allocation in bl_forward), a failure there is an error and
   leaves the context usable for smaller n. */
#include "base/internal.h"
#include "kernels/kernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct bl_ctx {
    const bl_model *m;
    int n;          /* tokens of the last successful forward; 0 before the first */
    int prec;       /* precision of the last forward (bl_mlm_logits follows it) */
    int cap;        /* scratch is sized for up to cap tokens */
    float *x;       /* [cap][hidden] hidden state */
    float *q, *k;   /* [layers][cap*hidden]: per layer [n][hidden], kept for the neuron view */
    float *v;       /* [cap][hidden] */
    float *kt;      /* [threads][head size][cap] one head's keys transposed, per thread */
    float *ctxv;    /* [cap][hidden] attention context (P·V) */
    float *tmp;     /* [cap][hidden] sublayer output before the residual */
    float *ffn;     /* [cap][intermediate] */
    float *att;     /* [layers][heads][n][n] packed for the current n, floats or (att_u16) uint16 */
    float *pblk;    /* [threads][8][cap] a block of query rows' probabilities (u16 mode) */
    bl_pool *pool;  /* borrowed (bl_ctx_set_pool); NULL = the caller only */
    int att_u16;    /* keep the maps as round(p·65535) (bl_ctx_set_attention_u16) */
    int16_t *xq;    /* [cap][max(hidden, intermediate)] quantized activations (12-bit) */
    float *xs;      /* [cap] their row scales */
    float *mlm;     /* [hidden] MLM transform output */
    int16_t *mlm_q; /* [hidden] */
    size_t max_bytes; /* scratch ceiling (bl_ctx_set_max_bytes), 0 = none */
};

/* a*b*c for sizes, 0 on overflow (callers treat 0 as "too big") */
static size_t bl_mul3(size_t a, size_t b, size_t c) {
    if (a && b > SIZE_MAX / a) return 0;
    size_t ab = a * b;
    if (ab && c > SIZE_MAX / ab) return 0;
    return ab * c;
}

/* realloc that leaves *p untouched on failure, so the context stays consistent */
static int bl_grow(void **p, size_t bytes) {
    if (bytes == 0) return -1;
    void *np = realloc(*p, bytes);
    if (!np) return -1;
    *p = np;
    return 0;
}

/* Scratch sizes for n tokens; 0 where a product overflows size_t. */
typedef struct { size_t h, qk, f, att, q, s, kt, pblk; } bl_scratch_sizes;

#define BL_QBLOCK 8   /* query rows per attention block (bl_attend) */

static bl_scratch_sizes bl_sizes(const bl_config *cfg, int n, int att_u16, int threads) {
    const size_t H = (size_t)cfg->hidden, I = (size_t)cfg->intermediate, N = (size_t)n;
    const size_t wide = H > I ? H : I;
    bl_scratch_sizes z;
    z.h = bl_mul3(N, H, sizeof(float));
    z.qk = bl_mul3((size_t)cfg->layers, bl_mul3(N, H, 1), sizeof(float));
    z.f = bl_mul3(N, I, sizeof(float));
    z.att = bl_mul3(bl_mul3((size_t)cfg->layers, (size_t)cfg->heads, 1), bl_mul3(N, N, 1),
                    att_u16 ? sizeof(uint16_t) : sizeof(float));
    z.pblk = att_u16 ? bl_mul3((size_t)threads * BL_QBLOCK, N, sizeof(float)) : 0;
    z.q = bl_mul3(N, wide, sizeof(int16_t));
    z.s = N * sizeof(float);
    z.kt = bl_mul3((size_t)threads * N, (size_t)(cfg->heads > 0 ? cfg->hidden / cfg->heads : cfg->hidden),
                   sizeof(float));
    return z;
}

/* a+b saturating at SIZE_MAX */
static size_t bl_sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

static size_t bl_bytes(const bl_model *m, int n, int att_u16, int threads) {
    if (!m || n < 1) return 0;
    const bl_config *cfg = &m->cfg;
    bl_scratch_sizes z = bl_sizes(cfg, n, att_u16, threads);
    if (!z.h || !z.qk || !z.f || !z.att || !z.q || !z.kt) return SIZE_MAX;
    size_t t = (size_t)cfg->hidden * (sizeof(float) + sizeof(int16_t));   /* MLM row (bl_ctx_new) */
    for (int i = 0; i < 4; i++) t = bl_sat_add(t, z.h);   /* x, v, ctxv, tmp */
    t = bl_sat_add(t, z.qk);
    t = bl_sat_add(t, z.qk);
    t = bl_sat_add(t, z.f);
    t = bl_sat_add(t, z.att);
    t = bl_sat_add(t, z.q);
    t = bl_sat_add(t, z.kt);
    t = bl_sat_add(t, z.pblk);
    return bl_sat_add(t, z.s);
}

size_t bl_ctx_bytes(const bl_model *m, int n) { return bl_bytes(m, n, 0, 1); }
size_t bl_ctx_bytes_u16(const bl_model *m, int n) { return bl_bytes(m, n, 1, 1); }

void bl_ctx_set_attention_u16(bl_ctx *c, int on) {
    if (!c || !!on == c->att_u16) return;
    c->att_u16 = !!on;
    c->cap = 0;   /* the maps' buffer was sized for the other element size: regrow */
    c->n = 0;     /* and what it holds is not in the new format */
}

void bl_ctx_set_max_bytes(bl_ctx *c, size_t max_bytes) { if (c) c->max_bytes = max_bytes; }

void bl_ctx_set_pool(bl_ctx *c, bl_pool *p) {
    if (!c) return;
    if (bl_pool_size(p) != bl_pool_size(c->pool)) c->cap = 0;   /* per-thread scratch: regrow */
    c->pool = p;
}

static int bl_ctx_reserve(bl_ctx *c, int n, bl_err *e) {
    if (n <= c->cap) return 0;
    if (c->max_bytes) {
        const size_t need = bl_bytes(c->m, n, c->att_u16, bl_pool_size(c->pool));
        if (need > c->max_bytes)
            return bl_fail(e, "forward: this model at n=%d needs %.1f MB, above the limit of %.1f MB",
                           n, need / 1048576.0, c->max_bytes / 1048576.0);
    }
    const bl_scratch_sizes z = bl_sizes(&c->m->cfg, n, c->att_u16, bl_pool_size(c->pool));
    const size_t N = (size_t)n, sz_h = z.h, sz_qk = z.qk, sz_f = z.f, sz_att = z.att, sz_q = z.q;
    if (!sz_h || !sz_qk || !sz_f || !sz_att || !sz_q || !z.kt)
        return bl_fail(e, "forward: scratch for n=%d tokens does not fit in memory", n);
    if (bl_grow((void **)&c->x, sz_h) || bl_grow((void **)&c->q, sz_qk) ||
        bl_grow((void **)&c->k, sz_qk) || bl_grow((void **)&c->v, sz_h) ||
        bl_grow((void **)&c->ctxv, sz_h) || bl_grow((void **)&c->tmp, sz_h) ||
        bl_grow((void **)&c->ffn, sz_f) || bl_grow((void **)&c->att, sz_att) ||
        bl_grow((void **)&c->xq, sz_q) || bl_grow((void **)&c->xs, N * sizeof(float)) ||
        bl_grow((void **)&c->kt, z.kt) || (z.pblk && bl_grow((void **)&c->pblk, z.pblk)))
        return bl_fail(e, "forward: out of memory growing scratch to n=%d tokens "
                          "(attention maps alone need %zu bytes)", n, sz_att);
    c->cap = n;
    return 0;
}

bl_ctx *bl_ctx_new(const bl_model *m, bl_err *e) {
    if (!m) { bl_fail(e, "bl_ctx_new: model is NULL"); return NULL; }
    const bl_config *cfg = &m->cfg;
    if (cfg->hidden <= 0 || cfg->heads <= 0 || cfg->hidden % cfg->heads || cfg->layers <= 0 ||
        cfg->intermediate <= 0 || cfg->max_pos <= 0) {
        bl_fail(e, "bl_ctx_new: unusable config (hidden %d, heads %d, layers %d, intermediate %d, "
                   "max_pos %d)", cfg->hidden, cfg->heads, cfg->layers, cfg->intermediate, cfg->max_pos);
        return NULL;
    }
    bl_ctx *c = calloc(1, sizeof *c);
    if (!c) { bl_fail(e, "bl_ctx_new: out of memory"); return NULL; }
    c->m = m;
    c->mlm = malloc((size_t)cfg->hidden * sizeof(float));
    c->mlm_q = malloc((size_t)cfg->hidden * sizeof *c->mlm_q);
    if (!c->mlm || !c->mlm_q) {
        bl_ctx_free(c);
        bl_fail(e, "bl_ctx_new: out of memory");
        return NULL;
    }
    return c;
}

void bl_ctx_free(bl_ctx *c) {
    if (!c) return;
    free(c->x); free(c->q); free(c->k); free(c->v); free(c->ctxv); free(c->tmp);
    free(c->ffn); free(c->att); free(c->xq); free(c->xs); free(c->mlm); free(c->mlm_q); free(c->kt);
    free(c->pblk);
    free(c);
}

/* Work split for the pool: tokens in even-sized ranges (the int8 kernel pairs tokens), one
   range per thread; every token's result is computed as without threads. */
typedef struct {
    bl_ctx *c;
    float *y;
    const float *x;
    const bl_tensor *w;
    const float *b;
    int n, prec, quant_done, tasks;
} bl_linear_job;

static void bl_token_range(int n, int tasks, int t, int *t0, int *t1) {
    const int per = ((n + tasks - 1) / tasks + 1) & ~1;
    *t0 = t * per < n ? t * per : n;
    *t1 = *t0 + per < n ? *t0 + per : n;
}

/* y[n][w.rows] = x[n][w.cols]·Wᵀ + b in the requested precision, for one token range. With
   quant_done, xq/xs already hold x quantized (Q, K and V share one input: quantize it once). */
static void bl_linear_task(void *arg, int task) {
    const bl_linear_job *j = arg;
    int t0, t1;
    bl_token_range(j->n, j->tasks, task, &t0, &t1);
    if (t0 >= t1) return;
    const int in = j->w->cols, out = j->w->rows, cnt = t1 - t0;
    float *y = j->y + (size_t)t0 * out;
    const float *x = j->x + (size_t)t0 * in;
    if (j->prec == BL_PREC_NATIVE && j->w->dtype == BL_DT_I8) {
        int16_t *xq = j->c->xq + (size_t)t0 * in;
        float *xs = j->c->xs + t0;
        if (!j->quant_done) bl_kf_quantize_rows(xq, xs, x, cnt, in);
        bl_kf_linear_q8(y, xq, xs, j->w, j->b, cnt);
    } else {
        bl_kf_linear_f32(y, x, j->w, j->b, cnt);
    }
}

/* Tasks for `work` multiply-adds over n tokens: one per BL_TASK_WORK (and per pair of tokens)
   at most, one per thread. Waking a thread costs more than a small share saves: splitting every
   default-model layer at n = 16 took 2.2 instead of 1.8 ms (Chromium, 2 threads), while
   bert-base layers gain from n = 16 on. */
#define BL_TASK_WORK 4e6
static int bl_tasks(const bl_ctx *c, int n, double work) {
    const double by_work = work / BL_TASK_WORK, by_pairs = n / 2;
    const double most = by_work < by_pairs ? by_work : by_pairs;
    const int T = bl_pool_size(c->pool);
    return most >= T ? T : most >= 2 ? (int)most : 1;
}

static void bl_linear(bl_ctx *c, float *y, const float *x, const bl_tensor *w, const float *b,
                      int n, int prec, int quant_done) {
    bl_linear_job j = {c, y, x, w, b, n, prec, quant_done, bl_tasks(c, n, (double)n * w->rows * w->cols)};
    bl_pool_run(c->pool, j.tasks, bl_linear_task, &j);
}

typedef struct { float *x; size_t rows, cols; int act, tasks; } bl_act_job;

static void bl_act_task(void *arg, int task) {
    const bl_act_job *j = arg;
    const size_t r0 = j->rows * task / j->tasks, r1 = j->rows * (task + 1) / j->tasks;
    bl_kf_act(j->x + r0 * j->cols, (r1 - r0) * j->cols, j->act);
}

static int bl_check_inputs(const bl_config *cfg, const int *ids, const int *type_ids, int n,
                           bl_err *e) {
    if (n < 1 || n > cfg->max_pos)
        return bl_fail(e, "forward: n=%d tokens is out of range (1..%d, the model's max positions)",
                       n, cfg->max_pos);
    if (!ids) return bl_fail(e, "forward: ids is NULL");
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= cfg->vocab_size)
            return bl_fail(e, "forward: token id %d at position %d is out of range (0..%d)",
                           ids[i], i, cfg->vocab_size - 1);
        if (type_ids && (type_ids[i] < 0 || type_ids[i] >= cfg->type_vocab))
            return bl_fail(e, "forward: token type id %d at position %d is out of range (0..%d)",
                           type_ids[i], i, cfg->type_vocab - 1);
    }
    return 0;
}

/* x = LN(word[id] + pos[i] + type[tt]) */
static void bl_embed(bl_ctx *c, const int *ids, const int *type_ids, int n) {
    const bl_weights *w = &c->m->w;
    const int H = c->m->cfg.hidden;
    float *row = c->tmp;   /* free until the first layer */
    for (int i = 0; i < n; i++) {
        float *x = c->x + (size_t)i * H;
        bl_k_row_f32(x, &w->word, ids[i]);
        bl_k_row_f32(row, &w->pos, i);
        bl_k_add(x, row, (size_t)H);
        bl_k_row_f32(row, &w->type, type_ids ? type_ids[i] : 0);
        bl_k_add(x, row, (size_t)H);
    }
    bl_kf_layernorm(c->x, w->emb_ln_g, w->emb_ln_b, n, H, c->m->cfg.ln_eps);
}

/* Scores, softmax and context for every head of one layer. */
/* Scores, softmax and context for every head of one layer; att is the layer's maps (floats, or
   uint16 in u16 mode, where each block's probabilities live in pblk until they are rounded).
   Heads are split between threads (each writes its own columns of ctxv), each with its own
   transposed keys and probability block. */
typedef struct { bl_ctx *c; const float *q, *k; void *att; int n, tasks; } bl_attend_job;

static void bl_attend_task(void *arg, int task) {
    const bl_attend_job *j = arg;
    bl_ctx *c = j->c;
    const bl_config *cfg = &c->m->cfg;
    const int H = cfg->hidden, d = H / cfg->heads, n = j->n;
    const float scale = 1.0f / sqrtf((float)d);
    float *kt = c->kt + (size_t)task * n * d;
    float *pblk = c->att_u16 ? c->pblk + (size_t)task * BL_QBLOCK * n : NULL;
    for (int h = task; h < cfg->heads; h += j->tasks) {
        const size_t head = (size_t)h * n * n;
        bl_k_transpose_keys(kt, j->k + (size_t)h * d, H, n, d);
        /* bl_kf_*: the SIMD kernels, bit-identical to bl_k_scores / bl_k_pv. Blocks of 8 query
           rows: the kernels share each key/value load between rows, and the block's
           probabilities are still in L1 when P·V reads them. */
        for (int i0 = 0; i0 < n; i0 += BL_QBLOCK) {
            const int m = n - i0 < BL_QBLOCK ? n - i0 : BL_QBLOCK;
            float *p = pblk ? pblk : (float *)j->att + head + (size_t)i0 * n;
            bl_kf_scores_rows(p, n, j->q + (size_t)i0 * H + (size_t)h * d, H, m, kt, n, d, scale);
            for (int i = 0; i < m; i++) bl_kf_softmax(p + (size_t)i * n, n);
            bl_kf_pv_rows(c->ctxv + (size_t)i0 * H + (size_t)h * d, H, p, n, m, c->v + (size_t)h * d, H, n, d);
            if (pblk) bl_kf_to_u16((uint16_t *)j->att + head + (size_t)i0 * n, p, (size_t)m * n);
        }
    }
}

static void bl_attend(bl_ctx *c, const float *q, const float *k, void *att, int n) {
    const int heads = c->m->cfg.heads;
    memset(c->ctxv, 0, (size_t)n * c->m->cfg.hidden * sizeof(float));
    const int tasks = bl_tasks(c, n, 2.0 * n * n * c->m->cfg.hidden);   /* Q·Kᵀ and P·V, all heads */
    bl_attend_job j = {c, q, k, att, n, tasks < heads ? tasks : heads};
    bl_pool_run(c->pool, j.tasks, bl_attend_task, &j);
}

int bl_forward(bl_ctx *c, const int *ids, const int *type_ids, int n, int precision, bl_err *e) {
    if (!c) return bl_fail(e, "forward: context is NULL");
    if (precision != BL_PREC_NATIVE && precision != BL_PREC_F32)
        return bl_fail(e, "forward: unknown precision %d (BL_PREC_NATIVE or BL_PREC_F32)", precision);
    const bl_config *cfg = &c->m->cfg;
    if (bl_check_inputs(cfg, ids, type_ids, n, e)) return -1;
    c->n = 0;   /* outputs are invalid until this forward completes */
    if (bl_ctx_reserve(c, n, e)) return -1;

    const int H = cfg->hidden, I = cfg->intermediate, L = cfg->layers;
    const size_t nh = (size_t)n * H;
    bl_embed(c, ids, type_ids, n);
    for (int l = 0; l < L; l++) {
        const bl_layer *ly = &c->m->w.layers[l];
        float *q = c->q + (size_t)l * nh, *k = c->k + (size_t)l * nh;
        const size_t maps = (size_t)l * cfg->heads * n * n;
        void *att = c->att_u16 ? (void *)((uint16_t *)c->att + maps) : (void *)(c->att + maps);
        /* self-attention */
        bl_linear(c, q, c->x, &ly->q_w, ly->q_b, n, precision, 0);
        bl_linear(c, k, c->x, &ly->k_w, ly->k_b, n, precision, 1);
        bl_linear(c, c->v, c->x, &ly->v_w, ly->v_b, n, precision, 1);
        bl_attend(c, q, k, att, n);
        bl_linear(c, c->tmp, c->ctxv, &ly->o_w, ly->o_b, n, precision, 0);
        bl_k_add(c->x, c->tmp, nh);
        bl_kf_layernorm(c->x, ly->ln1_g, ly->ln1_b, n, H, cfg->ln_eps);
        /* feed-forward */
        bl_linear(c, c->ffn, c->x, &ly->i_w, ly->i_b, n, precision, 0);
        bl_act_job aj = {c->ffn, (size_t)n, (size_t)I, cfg->act, bl_tasks(c, n, (double)n * I * H)};
        bl_pool_run(c->pool, aj.tasks, bl_act_task, &aj);
        bl_linear(c, c->tmp, c->ffn, &ly->f_w, ly->f_b, n, precision, 0);
        bl_k_add(c->x, c->tmp, nh);
        bl_kf_layernorm(c->x, ly->ln2_g, ly->ln2_b, n, H, cfg->ln_eps);
    }
    c->n = n;
    c->prec = precision;
    return 0;
}

int bl_ctx_n(const bl_ctx *c) { return c ? c->n : 0; }
const float *bl_attention(const bl_ctx *c) { return c && c->n && !c->att_u16 ? c->att : NULL; }
const uint16_t *bl_attention_u16(const bl_ctx *c) {
    return c && c->n && c->att_u16 ? (const uint16_t *)c->att : NULL;
}
const float *bl_hidden(const bl_ctx *c) { return c && c->n ? c->x : NULL; }

const float *bl_query(const bl_ctx *c, int layer) {
    if (!c || !c->n || layer < 0 || layer >= c->m->cfg.layers) return NULL;
    return c->q + (size_t)layer * c->n * c->m->cfg.hidden;
}

const float *bl_key(const bl_ctx *c, int layer) {
    if (!c || !c->n || layer < 0 || layer >= c->m->cfg.layers) return NULL;
    return c->k + (size_t)layer * c->n * c->m->cfg.hidden;
}

/* cls.predictions: LN(act(h·Wtᵀ + bt)) · decoderᵀ + bias, for one position. */
int bl_mlm_logits(bl_ctx *c, int pos, float *logits, bl_err *e) {
    if (!c) return bl_fail(e, "mlm: context is NULL");
    const bl_config *cfg = &c->m->cfg;
    const bl_weights *w = &c->m->w;
    if (!cfg->has_mlm) return bl_fail(e, "mlm: this model has no masked-LM head (cls.predictions)");
    if (!c->n) return bl_fail(e, "mlm: no forward has been run on this context");
    if (pos < 0 || pos >= c->n)
        return bl_fail(e, "mlm: position %d is out of range (0..%d)", pos, c->n - 1);
    if (!logits) return bl_fail(e, "mlm: logits is NULL");
    const int H = cfg->hidden;
    const float *h = c->x + (size_t)pos * H;
    /* n = 1 linears; the int8 path uses mlm_q so the forward's scratch (xq) is left alone */
    if (c->prec == BL_PREC_NATIVE && w->mlm_w.dtype == BL_DT_I8) {
        float s;
        bl_kf_quantize_rows(c->mlm_q, &s, h, 1, H);
        bl_kf_linear_q8(c->mlm, c->mlm_q, &s, &w->mlm_w, w->mlm_b, 1);
    } else {
        bl_kf_linear_f32(c->mlm, h, &w->mlm_w, w->mlm_b, 1);
    }
    bl_kf_act(c->mlm, (size_t)H, cfg->act);
    bl_kf_layernorm(c->mlm, w->mlm_ln_g, w->mlm_ln_b, 1, H, cfg->ln_eps);
    if (c->prec == BL_PREC_NATIVE && w->decoder.dtype == BL_DT_I8) {
        float s;
        bl_kf_quantize_rows(c->mlm_q, &s, c->mlm, 1, H);
        bl_kf_linear_q8(logits, c->mlm_q, &s, &w->decoder, w->decoder_b, 1);
    } else {
        bl_kf_linear_f32(logits, c->mlm, &w->decoder, w->decoder_b, 1);
    }
    return 0;
}
