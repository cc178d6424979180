/* bert.c — the BERT encoder forward pass (HF BertModel / BertForMaskedLM, eval mode), keeping
   every attention probability for the views; the whole family runs through it: DistilBERT,
   RoBERTa (positions after pad_id), ELECTRA and ALBERT (embeddings of their own width,
   projected to hidden), ALBERT's shared layers (one step per application), and the task heads
   (bl_head_logits).

   One sequence, no padding, so no attention mask. Per layer:
       q,k,v = x·Wqᵀ+bq, ...          P[h] = softmax(q_h·k_hᵀ / sqrt(d))   (kept)
       x = LN(x + (P·v)·Woᵀ + bo)     x = LN(x + act(x·Wiᵀ+bi)·Wfᵀ + bf)
   Precision: BL_PREC_F32 widens/dequantizes weights on the fly with f32 activations (the
   reference path). BL_PREC_NATIVE on an int8 file (every matrix of a file has the file's
   dtype) quantizes the input of each linear step once, to 12 bits per row (bl_k_quantize_rows;
   Q, K and V share one), and runs exact integer dot products against the int8 weights.
   An int16 file (BL_DT_I16: 13-bit weights) does the same with 16-bit activations
   (bl_k_quantize_rows16) and products summed exactly (bl_k_linear_i16), and gives Q and K a
   second 16-bit digit of their input (bl_digit2): on peaked heads int8 moved single attention
   weights by 0.1–0.5, int16 stays within 0.011 of the float model where an F16 file moves
   them by 0.045. Its embeddings are F32 (row lookups, and the tied MLM decoder through
   linear_f32).
   Attention scores, softmax and P·V are f32 in all. The numeric kernels come from the
   context's table (kernels.h), chosen when the context is made.

   Memory: the context owns scratch sized for the largest n seen so far; a forward with a
   larger n grows it (the only allocation in bl_forward), a failure there is an error and
   leaves the context usable for smaller n. */
#include "base/internal.h"
#include "kernels/kernels.h"
#include "analysis/analysis.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BL_QBLOCK 8   /* query rows per attention block (bl_attend) */
/* Linear steps over up to this many tokens are split between threads by output rows, longer
   ones by tokens (bl_linear2) */
#define BL_SPLIT_N 128

/* Every buffer the forward pass writes, for up to cap tokens (sizes: bl_scratch_list). */
typedef struct {
    float *x;       /* [n][hidden] hidden state */
    float *q, *k;   /* [layers][n][hidden], kept for the neuron view */
    float *v;       /* [n][hidden] */
    float *ctxv;    /* [n][hidden] attention context (P·V) */
    float *tmp;     /* [n][hidden] sublayer output before the residual */
    float *ffn;     /* [n][intermediate] */
    void *att;      /* [layers][heads][n][n] packed for the current n, floats or (att_u16) uint16 */
    float *kt;      /* [threads][head size][n] one head's keys transposed, per thread */
    float *pblk;    /* [threads][BL_QBLOCK][n] a block of query rows' probabilities (u16 only) */
    int16_t *xq;    /* [n][max(hidden, intermediate)] a linear step's input quantized (12-bit) */
    float *xs;      /* [n] its row scales */
    int16_t *xq2;   /* [n][hidden] int16 path: what xq leaves of the Q/K input, quantized again */
    float *xs2;     /* [n] its row scales */
    float *mlm;     /* [embed] MLM transform output */
    int16_t *mlm_q; /* [max(hidden, embed)] the MLM head's quantized input (the forward's xq stays as is) */
    float *emb;     /* [n + 1][embed] embeddings before embeddings.project, and a spare row (emb_proj only) */
    float *hd;      /* [hidden] the sequence head's dense output (SEQ heads only) */
    float *ysplit;  /* [min(n, BL_SPLIT_N)][max(5·hidden, intermediate)] a linear step's outputs
                       split by rows between threads (bl_linear2), before they go to their rows */
} bl_scratch;

struct bl_ctx {
    const bl_model *m;
    const bl_kernels *k; /* the kernel table (bl_kernels_best() unless set) */
    bl_pool *pool;  /* borrowed (bl_ctx_set_pool); NULL = the caller only */
    int n;          /* tokens of the last successful forward; 0 before the first */
    int int8;       /* the last forward's integer path: 0 none (f32), BL_Q_I8 or BL_Q_I16 (bl_mlm_logits follows it) */
    int att_u16;    /* keep the maps as round(p·65535) (bl_ctx_set_attention_u16) */
    int att_only;   /* the next forwards stop after the last layer's maps (bl_ctx_set_attention_only) */
    int partial;    /* the last forward did: no last hidden state, no heads */
    int cap;        /* scratch is sized for up to cap tokens */
    size_t ysplit_floats; /* s.ysplit's size: it is grown only with threads, and heads run
                             without a forward after the pool may have changed */
    size_t max_bytes; /* scratch ceiling (bl_ctx_set_max_bytes), 0 = none */
    bl_scratch s;
    bl_vnorm vn;    /* value-weighted norms (bl_ctx_set_value_norms), analysis/norms.c */
    int keep_hidden;  /* bl_ctx_set_keep_hidden: every layer's output into hs */
    float *hs;        /* [layers][n][hidden] */
    size_t hs_cap;    /* floats in hs */
    int hs_n;         /* n of the last forward that filled hs; 0 none */
};

/* a·b·c·d bytes, SIZE_MAX where the product overflows size_t */
static size_t bl_size(size_t a, size_t b, size_t c, size_t d) {
    const size_t f[3] = {b, c, d};
    for (int i = 0; i < 3; i++) {
        if (a && f[i] > SIZE_MAX / a) return SIZE_MAX;
        a *= f[i];
    }
    return a;
}

/* One scratch buffer: where its pointer is kept, and its size (0: not needed now). */
typedef struct { void **p; size_t bytes; } bl_buf;
#define BL_NBUF 19

/* The scratch buffers with their sizes for n tokens, listed once: bl_ctx_bytes adds these
   sizes up, bl_ctx_reserve grows each buffer to its size and bl_ctx_free frees them. */
static void bl_scratch_list(bl_scratch *s, const bl_config *cfg, int n, int att_u16, int threads,
                            bl_buf out[BL_NBUF]) {
    const size_t N = (size_t)n, H = (size_t)cfg->hidden, I = (size_t)cfg->intermediate;
    const size_t L = (size_t)cfg->layers, A = (size_t)cfg->heads, T = (size_t)threads;
    const size_t E = cfg->embed > 0 ? (size_t)cfg->embed : H;
    const size_t D = A ? H / A : H, HE = H > E ? H : E, wide = HE > I ? HE : I, F = sizeof(float), S = sizeof(int16_t);
    const bl_buf list[] = {
        {(void **)&s->x, bl_size(N, H, 1, F)},
        {(void **)&s->q, bl_size(L, N, H, F)},
        {(void **)&s->k, bl_size(L, N, H, F)},
        {(void **)&s->v, bl_size(N, H, 1, F)},
        {(void **)&s->ctxv, bl_size(N, H, 1, F)},
        {(void **)&s->tmp, bl_size(N, H, 1, F)},
        {(void **)&s->ffn, bl_size(N, I, 1, F)},
        {(void **)&s->att, bl_size(L * A, N, N, att_u16 ? sizeof(uint16_t) : F)},
        {(void **)&s->kt, bl_size(T, D, N, F)},
        {(void **)&s->pblk, att_u16 ? bl_size(T, BL_QBLOCK, N, F) : 0},
        {(void **)&s->xq, bl_size(N, wide, 1, S)},
        {(void **)&s->xs, bl_size(N, 1, 1, F)},
        {(void **)&s->xq2, bl_size(N, H, 1, S)},
        {(void **)&s->xs2, bl_size(N, 1, 1, F)},
        {(void **)&s->mlm, bl_size(E, 1, 1, F)},
        {(void **)&s->mlm_q, bl_size(HE, 1, 1, S)},
        {(void **)&s->emb, cfg->emb_proj ? bl_size(N + 1, E, 1, F) : 0},
        {(void **)&s->hd, cfg->head == BL_HEAD_SEQ ? bl_size(H, 1, 1, F) : 0},
        {(void **)&s->ysplit, T > 1 ? bl_size(N < BL_SPLIT_N ? N : BL_SPLIT_N, 5 * H > I ? 5 * H : I, 1, F) : 0},
    };
    _Static_assert(sizeof list / sizeof list[0] == BL_NBUF, "BL_NBUF counts the buffers");
    memcpy(out, list, sizeof list);
}

/* Bytes of the scratch for n tokens; SIZE_MAX when a size overflows. */
static size_t bl_bytes(const bl_model *m, int n, int att_u16, int threads) {
    if (!m || n < 1) return 0;
    bl_scratch unused;
    bl_buf b[BL_NBUF];
    bl_scratch_list(&unused, &m->cfg, n, att_u16, threads, b);
    size_t t = 0;
    for (int i = 0; i < BL_NBUF; i++) t = b[i].bytes > SIZE_MAX - t ? SIZE_MAX : t + b[i].bytes;
    return t;
}

size_t bl_ctx_bytes(const bl_model *m, int n) { return bl_bytes(m, n, 0, 1); }
size_t bl_ctx_bytes_u16(const bl_model *m, int n) { return bl_bytes(m, n, 1, 1); }

void bl_ctx_set_attention_u16(bl_ctx *c, int on) {
    if (!c || !!on == c->att_u16) return;
    c->att_u16 = !!on;
    c->cap = 0;   /* the maps' buffer was sized for the other element size: regrow */
    c->n = 0;     /* and what it holds is not in the new format */
}

void bl_ctx_set_attention_only(bl_ctx *c, int on) { if (c) c->att_only = !!on; }

void bl_ctx_set_max_bytes(bl_ctx *c, size_t max_bytes) { if (c) c->max_bytes = max_bytes; }

void bl_ctx_set_pool(bl_ctx *c, bl_pool *p) {
    if (!c) return;
    if (bl_pool_size(p) != bl_pool_size(c->pool)) c->cap = 0;   /* per-thread scratch: regrow */
    c->pool = p;
}

void bl_ctx_set_kernels(bl_ctx *c, const bl_kernels *k) {
    if (c) c->k = k ? k : bl_kernels_best();
}

const bl_kernels *bl_ctx_kernels(const bl_ctx *c) { return c ? c->k : NULL; }

/* Grows the scratch to n tokens. realloc leaves a buffer as it was when it fails, and cap
   changes only once all have grown, so a failure leaves the context usable for smaller n. */
static int bl_ctx_reserve(bl_ctx *c, int n, bl_err *e) {
    if (n <= c->cap) return 0;
    bl_buf b[BL_NBUF];
    bl_scratch_list(&c->s, &c->m->cfg, n, c->att_u16, bl_pool_size(c->pool), b);
    const size_t need = bl_bytes(c->m, n, c->att_u16, bl_pool_size(c->pool));
    if (c->max_bytes && need > c->max_bytes)
        return bl_fail(e, "forward: this model at n=%d needs %.1f MB, above the limit of %.1f MB",
                       n, need / 1048576.0, c->max_bytes / 1048576.0);
    if (need == SIZE_MAX) return bl_fail(e, "forward: scratch for n=%d tokens does not fit in memory", n);
    for (int i = 0; i < BL_NBUF; i++) {
        if (!b[i].bytes) continue;   /* not needed in this mode */
        void *p = realloc(*b[i].p, b[i].bytes);
        if (!p)
            return bl_fail(e, "forward: out of memory growing scratch to n=%d tokens (%.1f MB in all)",
                           n, need / 1048576.0);
        *b[i].p = p;
        if (b[i].p == (void **)&c->s.ysplit) c->ysplit_floats = b[i].bytes / sizeof(float);
    }
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
    c->k = bl_kernels_best();
    return c;
}

void bl_ctx_free(bl_ctx *c) {
    if (!c) return;
    bl_buf b[BL_NBUF];
    bl_scratch_list(&c->s, &c->m->cfg, 1, 0, 1, b);
    for (int i = 0; i < BL_NBUF; i++) free(*b[i].p);
    bl_vnorm_free(&c->vn);
    free(c->hs);
    free(c);
}

/* ---- the steps of the forward pass ---- */

/* The integer paths: int8 weights × 12-bit activations, int16 weights × 16-bit activations. */
enum { BL_Q_I8 = 1, BL_Q_I16 = 2 };

/* One linear layer: y[n][w.rows] = x·Wᵀ + b. */
typedef struct { float *y; const bl_tensor *w; const float *b; } bl_proj;

/* The int16 path's second digit for the first `np` projections of a step (Q and K): the input's
   rounding residual r = x − xq·xs, quantized to 16 bits again (xq2, xs2), goes through the same
   weights into y2 and is added to their output. Q and K alone decide the logits, and on peaked
   heads the 16-bit rounding of their input moved single attention weights by up to 0.02 (with
   float activations there 0.008–0.011 on the test checkpoints where 16 bits gave 0.023–0.032,
   whichever other step kept 16 bits); the residual makes that input exact to about 31 bits for
   two more int16 passes, a sixth of a layer's multiply-adds. Elementwise float steps after exact
   integer sums: the same bits on every target and thread count. */
typedef struct { int np; int16_t *xq2; float *xs2, *r, *y2; } bl_digit2;

/* The inputs of linear layers that read x, rows t0..t0+cnt: on the integer paths quantized into
   xq, xs, and on the int16 path with d2 the second digit too. */
static void bl_linear_inputs(const bl_kernels *K, int int8, int in, const float *x, int16_t *xq, float *xs,
                             int t0, int cnt, const bl_digit2 *d2) {
    x += (size_t)t0 * in;
    if (int8 == BL_Q_I16) K->quantize_rows16(xq + (size_t)t0 * in, xs + t0, x, cnt, in);
    else if (int8) K->quantize_rows(xq + (size_t)t0 * in, xs + t0, x, cnt, in);
    if (int8 == BL_Q_I16 && d2 && d2->np) {
        float *r = d2->r + (size_t)t0 * in;
        const int16_t *q = xq + (size_t)t0 * in;
        for (int t = 0; t < cnt; t++)
            for (int i = 0; i < in; i++) {
                /* two statements: clang contracts a·b + c within one into a fused multiply-add
                   where the target has one (relaxed SIMD), which rounds differently */
                const float back = (float)q[(size_t)t * in + i] * xs[t0 + t];
                r[(size_t)t * in + i] = x[(size_t)t * in + i] - back;
            }
        K->quantize_rows16(d2->xq2 + (size_t)t0 * in, d2->xs2 + t0, r, cnt, in);
    }
}

/* y[cnt][w.rows] = one linear layer over rows t0..t0+cnt of its prepared input (bl_linear_inputs);
   y2 [cnt][w.rows]: where the int16 second digit's output goes first, when `second`. */
static void bl_project(const bl_kernels *K, int int8, float *y, const bl_tensor *w, const float *b,
                       const float *x, const int16_t *xq, const float *xs, int t0, int cnt,
                       const bl_digit2 *d2, int second, float *y2) {
    const int in = w->cols;
    if (int8 == BL_Q_I16) K->linear_i16(y, xq + (size_t)t0 * in, xs + t0, w, b, cnt);
    else if (int8) K->linear_q8(y, xq + (size_t)t0 * in, xs + t0, w, b, cnt);
    else K->linear_f32(y, x + (size_t)t0 * in, w, b, cnt);
    if (second) {
        K->linear_i16(y2, d2->xq2 + (size_t)t0 * in, d2->xs2 + t0, w, NULL, cnt);
        bl_k_add(y, y2, (size_t)cnt * w->rows);
    }
}

/* The integer path a step of linear layers takes: an int16 file's tied MLM decoder is its
   embeddings (F32), which take the f32 kernel */
static int bl_int_path(int int8, const bl_tensor *w) { return bl_dtype_scaled(w->dtype) ? int8 : 0; }

/* Rows t0..t0+cnt of the linear layers p[0..np) that read the same input x: on the int8 path
   x's rows are quantized into xq, xs first, once for all of them; otherwise the f32 kernel
   widens the weights. d2 (NULL for none): the int16 path's second digit, above. */
static void bl_linear_rows(const bl_kernels *K, int int8, const bl_proj *p, int np,
                           const float *x, int16_t *xq, float *xs, int t0, int cnt,
                           const bl_digit2 *d2) {
    int8 = bl_int_path(int8, p[0].w);   /* layers that share an input share a dtype */
    bl_linear_inputs(K, int8, p[0].w->cols, x, xq, xs, t0, cnt, d2);
    const int second = int8 == BL_Q_I16 && d2 ? d2->np : 0;
    for (int i = 0; i < np; i++) {
        const int out = p[i].w->rows;
        bl_project(K, int8, p[i].y + (size_t)t0 * out, p[i].w, p[i].b, x, xq, xs, t0, cnt, d2, i < second,
                   i < second ? d2->y2 + (size_t)t0 * out : NULL);
    }
}

/* Work split for the pool: tokens in even-sized ranges (the int8 kernel pairs tokens), one
   range per thread; every token's result is computed as without threads. */
static void bl_token_range(int n, int tasks, int t, int *t0, int *t1) {
    const int per = ((n + tasks - 1) / tasks + 1) & ~1;
    *t0 = t * per < n ? t * per : n;
    *t1 = *t0 + per < n ? *t0 + per : n;
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

/* A linear step for the pool. By tokens (split = 0): task t takes a range of tokens, inputs and
   outputs. By rows (split = rows per task, a multiple of 12): the inputs are prepared once and
   task t takes rows of one layer's weights for every token, into ysplit, and copies them to
   their place (one token's outputs are contiguous in any row range: written in place). Every
   output is computed as without threads either way: each kernel gives every row the scalar
   reference's bits whatever rows it is handed. */
typedef struct {
    bl_ctx *c; const float *x; const bl_proj *p; int np, n, tasks; const bl_digit2 *d2;
    int16_t *xq; float *xs;       /* the quantized input: the forward's, or the MLM head's */
    int int8, split, per_layer;   /* split: rows per task, per_layer: tasks per layer */
} bl_linear_job;

static void bl_linear_task(void *arg, int task) {
    const bl_linear_job *j = arg;
    const bl_scratch *s = &j->c->s;
    if (!j->split) {
        int t0, t1;
        bl_token_range(j->n, j->tasks, task, &t0, &t1);
        if (t0 < t1) bl_linear_rows(j->c->k, j->c->int8, j->p, j->np, j->x, j->xq, j->xs, t0, t1 - t0, j->d2);
        return;
    }
    const int i = task / j->per_layer, out = j->p[i].w->rows, n = j->n;
    const int o0 = task % j->per_layer * j->split, rows = out - o0 < j->split ? out - o0 : j->split;
    if (rows <= 0) return;
    const int second = j->int8 == BL_Q_I16 && j->d2 && i < j->d2->np;
    size_t before = 0, all = 0;   /* outputs of the layers before this one, of all of them */
    for (int k = 0; k < j->np; k++) {
        before += k < i ? (size_t)j->p[k].w->rows : 0;
        all += (size_t)j->p[k].w->rows;
    }
    float *y = n == 1 ? j->p[i].y + o0 : s->ysplit + (size_t)n * (before + o0);
    float *y2 = s->ysplit + (size_t)n * (all + before + o0);
    const bl_tensor v = bl_tensor_rows(j->p[i].w, o0, rows);
    bl_project(j->c->k, j->int8, y, &v, j->p[i].b ? j->p[i].b + o0 : NULL, j->x, j->xq, j->xs, 0, n, j->d2,
               second, y2);
    for (int t = 0; t < n && n > 1; t++)
        memcpy(j->p[i].y + (size_t)t * out + o0, y + (size_t)t * rows, (size_t)rows * sizeof(float));
}

/* Runs j split by rows in `tasks` shares of its widest layer: the inputs first, once */
static void bl_linear_by_rows(bl_linear_job *j, int tasks) {
    int widest = 0;
    for (int i = 0; i < j->np; i++) widest = j->p[i].w->rows > widest ? j->p[i].w->rows : widest;
    j->split = ((widest + tasks - 1) / tasks + 11) / 12 * 12;
    j->per_layer = (widest + j->split - 1) / j->split;
    bl_linear_inputs(j->c->k, j->int8, j->p[0].w->cols, j->x, j->xq, j->xs, 0, j->n, j->d2);
    bl_pool_run(j->c->pool, j->per_layer * j->np, bl_linear_task, j);
}

/* The linear layers p[0..np) on the same input x [n][in] (Q, K and V share one, so its int8
   quantization is done once), split between threads by tokens, or on the integer paths up to
   BL_SPLIT_N tokens by output rows: then each thread reads only its share of the weights, and
   over all the tokens, so the kernels keep their widest blocks. Bert-base on 2 threads in
   Chromium (relaxed core, the two splits' forwards alternated in one page, Zen 5): the token
   split took x1.11-1.17 the row split's time at 16 tokens (int16 files x1.19-1.21), x1.03-1.14
   at 24-63 and x1.03-1.05 at 96 and 128. d2 as bl_linear_rows. */
static void bl_linear2(bl_ctx *c, const float *x, int n, const bl_proj *p, int np, const bl_digit2 *d2) {
    const int int8 = bl_int_path(c->int8, p[0].w), second = int8 == BL_Q_I16 && d2 ? d2->np : 0;
    double work = 0;
    size_t outs = 0;
    for (int i = 0; i < np; i++) {
        work += (double)n * p[i].w->rows * p[i].w->cols * (i < second ? 2 : 1);
        outs += (size_t)p[i].w->rows * (i < second ? 2 : 1);
    }
    bl_linear_job j = {c, x, p, np, n, bl_tasks(c, n, work), d2, c->s.xq, c->s.xs, int8, 0, 0};
    /* ysplit as it is now: a task head may run on a pool lent after the last forward */
    if (j.tasks > 1 && int8 && n <= BL_SPLIT_N && (size_t)n * outs <= c->ysplit_floats) bl_linear_by_rows(&j, j.tasks);
    else bl_pool_run(c->pool, j.tasks, bl_linear_task, &j);
}
static void bl_linear(bl_ctx *c, const float *x, int n, const bl_proj *p, int np) {
    bl_linear2(c, x, n, p, np, NULL);
}

typedef struct { const bl_kernels *k; float *x; size_t rows, cols; int act, tasks; } bl_act_job;

static void bl_act_task(void *arg, int task) {
    const bl_act_job *j = arg;
    const size_t r0 = j->rows * task / j->tasks, r1 = j->rows * (task + 1) / j->tasks;
    j->k->act(j->x + r0 * j->cols, (r1 - r0) * j->cols, j->act);
}

/* The feed-forward activation in place over x [n][intermediate], split by rows. */
static void bl_activate(bl_ctx *c, float *x, int n) {
    const bl_config *cfg = &c->m->cfg;
    bl_act_job j = {c->k, x, (size_t)n, (size_t)cfg->intermediate, cfg->act,
                    bl_tasks(c, n, (double)n * cfg->intermediate * cfg->hidden)};
    bl_pool_run(c->pool, j.tasks, bl_act_task, &j);
}

static int bl_check_inputs(const bl_config *cfg, const int *ids, const int *type_ids, int n,
                           bl_err *e) {
    if (n < 1 || n > bl_config_max_tokens(cfg))
        return bl_fail(e, "forward: n=%d tokens is out of range (1..%d, the model's max positions)",
                       n, bl_config_max_tokens(cfg));
    if (!ids) return bl_fail(e, "forward: ids is NULL");
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= cfg->vocab_size)
            return bl_fail(e, "forward: token id %d at position %d is out of range (0..%d)",
                           ids[i], i, cfg->vocab_size - 1);
        /* a model without token types (DistilBERT) takes none: Hugging Face's drops them */
        if (type_ids && cfg->type_vocab > 0 && (type_ids[i] < 0 || type_ids[i] >= cfg->type_vocab))
            return bl_fail(e, "forward: token type id %d at position %d is out of range (0..%d)",
                           type_ids[i], i, cfg->type_vocab - 1);
    }
    return 0;
}

/* x = LN(word[id] + pos[p_i] + type[tt]) (width embed), then embeddings.project to hidden where
   the family has it. p_i = i, or RoBERTa's create_position_ids_from_input_ids: pad_id plus
   the count of non-pad tokens up to i, and pad_id itself at a pad token. */
static void bl_embed(bl_ctx *c, const int *ids, const int *type_ids, int n) {
    const bl_weights *w = &c->m->w;
    const bl_config *cfg = &c->m->cfg;
    const int E = cfg->embed;
    float *out = cfg->emb_proj ? c->s.emb : c->s.x;
    float *row = cfg->emb_proj ? c->s.emb + (size_t)n * E : c->s.tmp;   /* tmp is free until the first layer */
    int nonpad = 0;
    for (int i = 0; i < n; i++) {
        float *x = out + (size_t)i * E;
        int p = i;
        if (cfg->pos_offset) {
            nonpad += ids[i] != cfg->pad_id;
            p = ids[i] != cfg->pad_id ? cfg->pad_id + nonpad : cfg->pad_id;
        }
        bl_k_row_f32(x, &w->word, ids[i]);
        bl_k_row_f32(row, &w->pos, p);
        bl_k_add(x, row, (size_t)E);
        if (cfg->type_vocab > 0) {
            bl_k_row_f32(row, &w->type, type_ids ? type_ids[i] : 0);
            bl_k_add(x, row, (size_t)E);
        }
    }
    c->k->layernorm(out, w->emb_ln_g, w->emb_ln_b, n, E, cfg->ln_eps);
    if (cfg->emb_proj) bl_linear(c, out, n, &(bl_proj){c->s.x, &w->proj, w->proj_b}, 1);
}

/* Scores, softmax and context for every head of one layer; att is the layer's maps (floats, or
   uint16 in u16 mode, where each block's probabilities live in pblk until they are rounded).
   Heads are split between threads (each writes its own columns of ctxv), each with its own
   transposed keys and probability block. */
typedef struct { bl_ctx *c; const float *q, *k; void *att; int n, tasks, pv; } bl_attend_job;

static void bl_attend_task(void *arg, int task) {
    const bl_attend_job *j = arg;
    const bl_kernels *K = j->c->k;
    const bl_scratch *s = &j->c->s;
    const bl_config *cfg = &j->c->m->cfg;
    const int H = cfg->hidden, d = H / cfg->heads, n = j->n;
    const float scale = 1.0f / sqrtf((float)d);
    float *kt = s->kt + (size_t)task * n * d;
    float *pblk = j->c->att_u16 ? s->pblk + (size_t)task * BL_QBLOCK * n : NULL;
    for (int h = task; h < cfg->heads; h += j->tasks) {
        const size_t head = (size_t)h * n * n;
        bl_k_transpose_keys(kt, j->k + (size_t)h * d, H, n, d);
        /* Blocks of 8 query rows: the kernels share each key/value load between rows, and the
           block's probabilities are still in L1 when P·V reads them. */
        for (int i0 = 0; i0 < n; i0 += BL_QBLOCK) {
            const int m = n - i0 < BL_QBLOCK ? n - i0 : BL_QBLOCK;
            float *p = pblk ? pblk : (float *)j->att + head + (size_t)i0 * n;
            K->scores_rows(p, n, j->q + (size_t)i0 * H + (size_t)h * d, H, m, kt, n, d, scale);
            for (int i = 0; i < m; i++) K->softmax(p + (size_t)i * n, n);
            if (j->pv) K->pv_rows(s->ctxv + (size_t)i0 * H + (size_t)h * d, H, p, n, m, s->v + (size_t)h * d, H, n, d);
            if (pblk) K->to_u16((uint16_t *)j->att + head + (size_t)i0 * n, p, (size_t)m * n);
        }
    }
}

/* pv = 0: the maps only (no values, no context). */
static void bl_attend(bl_ctx *c, const float *q, const float *k, void *att, int n, int pv) {
    const int heads = c->m->cfg.heads;
    if (pv) memset(c->s.ctxv, 0, (size_t)n * c->m->cfg.hidden * sizeof(float));
    const int tasks = bl_tasks(c, n, (1.0 + pv) * n * n * c->m->cfg.hidden);   /* Q·Kᵀ and P·V, all heads */
    bl_attend_job j = {c, q, k, att, n, tasks < heads ? tasks : heads, pv};
    bl_pool_run(c->pool, j.tasks, bl_attend_task, &j);
}

/* ---- the forward pass ---- */

/* Value-weighted norms of layer l from its values (still in s.v) and W_O as floats. */
static int bl_value_norms_step(bl_ctx *c, const bl_layer *ly, int l, const void *att, int n, bl_err *e) {
    const bl_config *cfg = &c->m->cfg;
    bl_vnorm *vn = &c->vn;
    if (!vn->wo && !(vn->wo = malloc(sizeof(float) * (size_t)cfg->hidden * cfg->hidden)))
        return bl_fail(e, "forward: out of memory (value norms)");
    bl_tensor_to_f32(&ly->o_w, vn->wo);
    if (bl_vnorm_layer(vn, cfg->layers, cfg->heads, cfg->hidden, l, n, c->s.v, c->att_u16 ? NULL : att,
                       c->att_u16 ? att : NULL))
        return bl_fail(e, "forward: out of memory (value norms)");
    return 0;
}

static int bl_keep_hidden_reserve(bl_ctx *c, int n, bl_err *e) {
    const size_t need = (size_t)c->m->cfg.layers * n * c->m->cfg.hidden;
    if (need > c->hs_cap) {
        float *p = realloc(c->hs, need * sizeof *p);
        if (!p) return bl_fail(e, "forward: out of memory (hidden states of every layer)");
        c->hs = p;
        c->hs_cap = need;
    }
    return 0;
}

void bl_ctx_set_keep_hidden(bl_ctx *c, int on) { if (c) c->keep_hidden = !!on; }
const float *bl_hidden_at(const bl_ctx *c, int layer) {
    if (!c || !c->n || !c->keep_hidden || c->hs_n != c->n || layer < 0 || layer >= c->m->cfg.layers) return NULL;
    return c->hs + (size_t)layer * c->n * c->m->cfg.hidden;
}

void bl_ctx_set_value_norms(bl_ctx *c, int on) { if (c) c->vn.on = !!on; }
const float *bl_value_norms(const bl_ctx *c) { return c && c->n && c->vn.on && c->vn.n == c->n ? c->vn.norms : NULL; }
const float *bl_value_norms_layer(const bl_ctx *c) { return c && c->n && c->vn.on && c->vn.n == c->n ? c->vn.layer : NULL; }

int bl_forward(bl_ctx *c, const int *ids, const int *type_ids, int n, int precision, bl_err *e) {
    if (!c) return bl_fail(e, "forward: context is NULL");
    if (precision != BL_PREC_NATIVE && precision != BL_PREC_F32)
        return bl_fail(e, "forward: unknown precision %d (BL_PREC_NATIVE or BL_PREC_F32)", precision);
    const bl_config *cfg = &c->m->cfg;
    if (bl_check_inputs(cfg, ids, type_ids, n, e)) return -1;
    c->n = 0;   /* outputs are invalid until this forward completes */
    if (bl_ctx_reserve(c, n, e)) return -1;
    c->int8 = precision != BL_PREC_NATIVE ? 0 : c->m->dtype == BL_DT_I8 ? BL_Q_I8 : c->m->dtype == BL_DT_I16 ? BL_Q_I16 : 0;

    const bl_kernels *K = c->k;
    bl_scratch *s = &c->s;
    const int H = cfg->hidden;
    const size_t nh = (size_t)n * H;
    c->hs_n = 0;
    if (c->keep_hidden && bl_keep_hidden_reserve(c, n, e)) return -1;
    bl_embed(c, ids, type_ids, n);
    for (int l = 0; l < cfg->layers; l++) {
        const bl_layer *ly = &c->m->w.layers[bl_layer_for_step(cfg, l)];   /* ALBERT: shared */
        float *q = s->q + (size_t)l * nh, *k = s->k + (size_t)l * nh;
        const size_t maps = (size_t)l * cfg->heads * n * n;
        void *att = c->att_u16 ? (void *)((uint16_t *)s->att + maps) : (void *)((float *)s->att + maps);
        /* self-attention; the last layer of an attention-only forward stops at the maps, which
           need only Q and K (the default model: a fifth of the work at n = 128) */
        const int full = !c->att_only || l + 1 < cfg->layers || c->vn.on;   /* value norms need V */
        const bl_proj qkv[3] = {{q, &ly->q_w, ly->q_b}, {k, &ly->k_w, ly->k_b}, {s->v, &ly->v_w, ly->v_b}};
        /* tmp and ctxv are free until the attention: the residual and the second digit's output */
        const bl_digit2 d2 = {2, s->xq2, s->xs2, s->tmp, s->ctxv};
        bl_linear2(c, s->x, n, qkv, full ? 3 : 2, &d2);
        bl_attend(c, q, k, att, n, full);
        if (!full) break;
        if (c->vn.on && bl_value_norms_step(c, ly, l, att, n, e)) return -1;   /* needs this layer's V */
        bl_linear(c, s->ctxv, n, &(bl_proj){s->tmp, &ly->o_w, ly->o_b}, 1);
        bl_k_add(s->x, s->tmp, nh);
        K->layernorm(s->x, ly->ln1_g, ly->ln1_b, n, H, cfg->ln_eps);
        /* feed-forward */
        bl_linear(c, s->x, n, &(bl_proj){s->ffn, &ly->i_w, ly->i_b}, 1);
        bl_activate(c, s->ffn, n);
        bl_linear(c, s->ffn, n, &(bl_proj){s->tmp, &ly->f_w, ly->f_b}, 1);
        bl_k_add(s->x, s->tmp, nh);
        K->layernorm(s->x, ly->ln2_g, ly->ln2_b, n, H, cfg->ln_eps);
        if (c->keep_hidden) memcpy(c->hs + (size_t)l * nh, s->x, nh * sizeof(float));   /* logit lens */
    }
    c->n = n;
    if (c->keep_hidden && !c->att_only) c->hs_n = n;
    c->partial = c->att_only;
    return 0;
}

int bl_ctx_n(const bl_ctx *c) { return c ? c->n : 0; }
const float *bl_attention(const bl_ctx *c) { return c && c->n && !c->att_u16 ? c->s.att : NULL; }
const uint16_t *bl_attention_u16(const bl_ctx *c) { return c && c->n && c->att_u16 ? c->s.att : NULL; }
const float *bl_hidden(const bl_ctx *c) { return c && c->n && !c->partial ? c->s.x : NULL; }

const float *bl_query(const bl_ctx *c, int layer) {
    if (!c || !c->n || layer < 0 || layer >= c->m->cfg.layers) return NULL;
    return c->s.q + (size_t)layer * c->n * c->m->cfg.hidden;
}

const float *bl_key(const bl_ctx *c, int layer) {
    if (!c || !c->n || layer < 0 || layer >= c->m->cfg.layers) return NULL;
    return c->s.k + (size_t)layer * c->n * c->m->cfg.hidden;
}

/* cls.predictions: LN(act(h·Wtᵀ + bt)) · decoderᵀ + bias, for one position, in the last
   forward's precision. The int8 path quantizes into mlm_q, leaving the forward's xq alone. */
static void bl_mlm_row(bl_ctx *c, const float *row, float *logits);

int bl_mlm_logits(bl_ctx *c, int pos, float *logits, bl_err *e) {
    if (!c) return bl_fail(e, "mlm: context is NULL");
    const bl_config *cfg = &c->m->cfg;
    if (!cfg->has_mlm) return bl_fail(e, "mlm: this model has no masked-LM head (cls.predictions)");
    if (!c->n) return bl_fail(e, "mlm: no forward has been run on this context");
    if (c->partial) return bl_fail(e, "mlm: the last forward ran for the attention maps only (bl_ctx_set_attention_only)");
    if (pos < 0 || pos >= c->n)
        return bl_fail(e, "mlm: position %d is out of range (0..%d)", pos, c->n - 1);
    if (!logits) return bl_fail(e, "mlm: logits is NULL");
    bl_mlm_row(c, c->s.x + (size_t)pos * cfg->hidden, logits);
    return 0;
}

int bl_mlm_logits_at(bl_ctx *c, int layer, int pos, float *logits, bl_err *e) {
    if (!c) return bl_fail(e, "mlm: context is NULL");
    const bl_config *cfg = &c->m->cfg;
    if (!cfg->has_mlm) return bl_fail(e, "mlm: this model has no masked-LM head (cls.predictions)");
    const float *hs = bl_hidden_at(c, layer);
    if (!hs) return bl_fail(e, "mlm: no hidden state of layer %d kept (bl_ctx_set_keep_hidden before the forward)", layer);
    if (pos < 0 || pos >= c->n) return bl_fail(e, "mlm: position %d is out of range (0..%d)", pos, c->n - 1);
    if (!logits) return bl_fail(e, "mlm: logits is NULL");
    bl_mlm_row(c, hs + (size_t)pos * cfg->hidden, logits);
    return 0;
}

/* One row through a wide linear layer, its output rows shared between the pool's threads (as
   bl_linear2 does, written in place): the MLM decoder (bert-base: 30522 rows, read once per
   masked position, and per layer in the logit lens). */
static void bl_linear_one(bl_ctx *c, const bl_proj *p, const float *x, int16_t *xq, float *xs) {
    const int tasks = bl_tasks(c, 2 * bl_pool_size(c->pool), (double)p->w->rows * p->w->cols);   /* (no pairs cap) */
    bl_linear_job j = {c, x, p, 1, 1, tasks, NULL, xq, xs, bl_int_path(c->int8, p->w), 0, 0};
    if (tasks > 1) bl_linear_by_rows(&j, tasks);
    else bl_linear_rows(c->k, c->int8, p, 1, x, xq, xs, 0, 1, NULL);
}

/* The MLM head on one hidden-state row, in the last forward's precision. */
static void bl_mlm_row(bl_ctx *c, const float *row, float *logits) {
    const bl_config *cfg = &c->m->cfg;
    const bl_weights *w = &c->m->w;
    const bl_kernels *K = c->k;
    const int E = cfg->embed;
    float scale;
    /* ALBERT and the ELECTRA generator map hidden down to the embedding width first */
    bl_linear_rows(K, c->int8, &(bl_proj){c->s.mlm, &w->mlm_w, w->mlm_b}, 1, row, c->s.mlm_q, &scale, 0, 1, NULL);
    K->act(c->s.mlm, (size_t)E, bl_mlm_act(cfg));
    K->layernorm(c->s.mlm, w->mlm_ln_g, w->mlm_ln_b, 1, E, cfg->ln_eps);
    bl_linear_one(c, &(bl_proj){logits, &w->decoder, w->decoder_b}, c->s.mlm, c->s.mlm_q, &scale);
}

/* ---- task heads ---- */

static void bl_head_activate(const bl_kernels *K, float *x, size_t n, int act) {
    if (act == BL_ACT_TANH)
        for (size_t i = 0; i < n; i++) x[i] = tanhf(x[i]);
    else K->act(x, n, act);
}

int bl_head_size(const bl_ctx *c) {
    if (!c || !c->n || c->partial || c->m->cfg.head == BL_HEAD_NONE) return 0;
    return c->m->cfg.n_labels * (c->m->cfg.head == BL_HEAD_SEQ ? 1 : c->n);
}

int bl_head_logits(bl_ctx *c, float *logits, bl_err *e) {
    if (!c) return bl_fail(e, "head: context is NULL");
    const bl_config *cfg = &c->m->cfg;
    const bl_weights *w = &c->m->w;
    if (cfg->head == BL_HEAD_NONE) return bl_fail(e, "head: this model has no task head (classifier)");
    if (!c->n) return bl_fail(e, "head: no forward has been run on this context");
    if (c->partial) return bl_fail(e, "head: the last forward ran for the attention maps only (bl_ctx_set_attention_only)");
    if (!logits) return bl_fail(e, "head: logits is NULL");
    const int n = c->n, H = cfg->hidden;
    const bl_proj out = {logits, &w->out_w, w->out_b};
    if (cfg->head == BL_HEAD_TOKEN) {
        bl_linear(c, c->s.x, n, &out, 1);
    } else if (cfg->head == BL_HEAD_DISC) {
        /* the forward is done with tmp: dense + act on every token, then the one logit */
        bl_linear(c, c->s.x, n, &(bl_proj){c->s.tmp, &w->head_w, w->head_b}, 1);
        bl_head_activate(c->k, c->s.tmp, (size_t)n * H, bl_head_act(cfg));
        bl_linear(c, c->s.tmp, n, &out, 1);
    } else {   /* SEQ: token 0 through the pooler / classifier.dense, then the classifier */
        float scale;
        bl_linear_rows(c->k, c->int8, &(bl_proj){c->s.hd, &w->head_w, w->head_b}, 1, c->s.x, c->s.mlm_q, &scale, 0, 1, NULL);
        bl_head_activate(c->k, c->s.hd, (size_t)H, bl_head_act(cfg));
        bl_linear_rows(c->k, c->int8, &out, 1, c->s.hd, c->s.mlm_q, &scale, 0, 1, NULL);
    }
    return 0;
}

int bl_head_probs(bl_ctx *c, float *probs, bl_err *e) {
    if (bl_head_logits(c, probs, e)) return -1;
    const bl_config *cfg = &c->m->cfg;
    const int C = cfg->n_labels, rows = bl_head_size(c) / C;
    for (int r = 0; r < rows; r++) {
        float *p = probs + (size_t)r * C;
        if (cfg->head_sigmoid) {
            for (int j = 0; j < C; j++) p[j] = (float)(1.0 / (1.0 + exp(-(double)p[j])));
            continue;
        }
        double mx = p[0], sum = 0;
        for (int j = 1; j < C; j++) mx = p[j] > mx ? p[j] : mx;
        for (int j = 0; j < C; j++) sum += exp((double)p[j] - mx);
        for (int j = 0; j < C; j++) p[j] = (float)(exp((double)p[j] - mx) / sum);
    }
    return 0;
}
