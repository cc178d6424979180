/* bench_forward.c — milliseconds per bl_forward on a random BERT of a given shape, with the
   scalar kernel table and with the best one here (AVX2 natively, SIMD128 in WebAssembly), set on
   the context with bl_ctx_set_kernels.

   The model is made in memory (bl_model_write + bl_model_load, int8 like the shipped model),
   so no checkpoint, converter or JSON output is involved: this times the forward pass alone.
   All layers share one pool of normal random values at different offsets (this keeps
   bert-base's 110 M parameters from needing 440 MB of f32 first).

   usage: bench_forward default|base|distilbert|roberta|albert [--prec native|f32] [--reps R] [--mode both|scalar|simd] [--att f32|u16] [--threads N]
                        [n ...]            (default n: 16 32 128 512)
                        [--warmup SECONDS] [--att-only 0|1|ab] [--dtype int8|int16|f16|f32] [--dtype-ab] [--sums-ab]
   Prints one line per n: best wall and CPU ms over R runs (after warm-up runs lasting SECONDS,
   at least one) per mode, then the optimised mode's median and max wall ms.
   --att-only 1 times forwards for the attention maps alone (bl_ctx_set_attention_only); ab
   alternates a whole and an attention-only forward R times with the optimised table (host
   drift then touches both alike) and prints both medians and their ratio.
   --dtype sets the model's matrix dtype (default int8); --dtype-ab makes the model twice, int8
   and int16, and alternates whole forwards R times with the optimised table, printing both
   medians and their ratio (what 13-bit weights with 16-bit activations cost). --sums-ab alternates
   forwards without and with the int8 rows' sums the loader keeps (what they save the relaxed-SIMD
   kernel; the other tables do not read them). */
#include "base/internal.h"
#include "kernels/kernels.h"
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of this process: the machine is shared (2 cores, other builds, a training job), and
   wall time then measures the scheduler as much as the code. Both are printed. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;
static float frand(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static size_t model_file_bytes;

static bl_model *make_model(const bl_config *cfg, int dtype) {
    /* vocab: the specials the tokenizer expects, then filler tokens */
    size_t cap = (size_t)cfg->vocab_size * 12 + 64, len = 0;
    char *vocab = malloc(cap);
    const char *spec[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < cfg->vocab_size; i++)
        len += (size_t)(i < 5 ? snprintf(vocab + len, cap - len, "%s\n", spec[i])
                              : snprintf(vocab + len, cap - len, "t%d\n", i));
    const size_t pool_len = (size_t)cfg->vocab_size * cfg->hidden + 65536;
    float *pool = malloc(pool_len * sizeof(float)), *ones = malloc(65536 * sizeof(float));
    /* normal (Box-Muller), as initialised and roughly as trained weights are: an int16 model's
       kernels take longer int32 runs the smaller the typical entry is against the row's largest
       (bl_k_i16_run), so uniform values would time them at their worst case */
    for (size_t i = 0; i + 1 < pool_len; i += 2) {
        const double u = 0.5 * (frand() + 1.0) + 1e-12, v = frand() * 3.141592653589793;
        const double r = 0.03 * sqrt(-2.0 * log(u));
        pool[i] = (float)(r * cos(v)); pool[i + 1] = (float)(r * sin(v));
    }
    pool[pool_len - 1] = 0.0f;
    for (int i = 0; i < 65536; i++) ones[i] = 1.0f;
    bl_wtensor t[512];
    char names[512][96];
    int nt = 0;
    for (int i = 0; nt < 512; i++) {
        int rows, cols, kind;
        if (bl_canonical_tensor(cfg, i, names[nt], sizeof names[nt], &rows, &cols, &kind) < 0) break;
        if (kind == 2) continue;   /* untied decoder: optional, leave it tied */
        const int ln_g = strstr(names[nt], "LayerNorm.weight") != NULL;
        const float *data = ln_g ? ones : pool + (size_t)(nt * 4099) % 65536;
        t[nt] = (bl_wtensor){names[nt], rows, cols, data};
        nt++;
    }
    uint8_t *buf = NULL;
    size_t blen = 0;
    bl_err e = {{0}};
    if (bl_model_write(cfg, dtype, vocab, len, t, nt, &buf, &blen, &e) < 0) {
        fprintf(stderr, "bench_forward: write: %s\n", e.msg);
        exit(1);
    }
    free(pool); free(ones); free(vocab);
    model_file_bytes = blen;
    bl_model *m = bl_model_load(buf, blen, 0, &e);   /* keeps buf (no copy); never freed here */
    if (!m) { fprintf(stderr, "bench_forward: load: %s\n", e.msg); exit(1); }
    return m;
}

typedef struct { double min, med, max, cpu_min; } timing;   /* ms */

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void forward_or_die(bl_ctx *c, const int *ids, int n, int prec) {
    bl_err e = {{0}};
    if (bl_forward(c, ids, NULL, n, prec, &e) < 0) { fprintf(stderr, "forward: %s\n", e.msg); exit(1); }
}

/* reps timed runs after warm-up runs (at least one: scratch growth, page faults; in a browser
   also tier-up from V8's baseline code) lasting warm_s seconds */
static timing time_forward(bl_ctx *c, const int *ids, int n, int prec, int reps, double warm_s) {
    const double w0 = now();
    do forward_or_die(c, ids, n, prec); while (now() - w0 < warm_s);
    double *t = malloc(sizeof(double) * (size_t)reps), best_cpu = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now(), c0 = cpu_now();
        forward_or_die(c, ids, n, prec);
        t[r] = (now() - t0) * 1e3;
        const double dc = (cpu_now() - c0) * 1e3;
        if (dc < best_cpu) best_cpu = dc;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    timing out = {t[0], reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]), t[reps - 1], best_cpu};
    free(t);
    return out;
}

/* Two settings alternated (set(arg, 0) and set(arg, 1) before each forward), reps forwards of
   each after the warm-up, with the optimised table: host drift then touches both alike. Prints
   both medians and their ratio. */
typedef void ab_setting(void *arg, int on);
static void compare_ab(bl_ctx *c, ab_setting *set, void *arg, const char *names[2], const int *ids, int n,
                       int prec, int reps, double warm_s) {
    bl_ctx_set_kernels(c, bl_kernels_best());
    const double w0 = now();
    do {
        for (int a = 0; a < 2; a++) { set(arg, a); forward_or_die(c, ids, n, prec); }
    } while (now() - w0 < warm_s);
    double *t[2] = {malloc(sizeof(double) * (size_t)reps), malloc(sizeof(double) * (size_t)reps)};
    for (int r = 0; r < reps; r++)
        for (int a = 0; a < 2; a++) {
            set(arg, a);
            const double t0 = now();
            forward_or_die(c, ids, n, prec);
            t[a][r] = (now() - t0) * 1e3;
        }
    double med[2];
    for (int a = 0; a < 2; a++) {
        qsort(t[a], (size_t)reps, sizeof(double), cmp_double);
        med[a] = reps % 2 ? t[a][reps / 2] : 0.5 * (t[a][reps / 2 - 1] + t[a][reps / 2]);
    }
    printf("n=%-4d  %s: median %8.2f ms (best %8.2f)  %s: median %8.2f ms (best %8.2f)  x%.3f\n",
           n, names[0], med[0], t[0][0], names[1], med[1], t[1][0], med[0] / med[1]);
    fflush(stdout);
    set(arg, 0);
    free(t[0]);
    free(t[1]);
}

/* --att-only ab: whole forwards (0) against attention-only ones (1) */
static void set_att_only(void *ctx, int on) { bl_ctx_set_attention_only(ctx, on); }

/* --sums-ab: the layers' int8 row sums the loader keeps for the relaxed-SIMD kernel taken away
   (0: the kernel sums each row per call) and given back (1) */
typedef struct { bl_model *m; const int32_t **saved; } row_sums_ab;
static void set_row_sums(void *arg, int on) {
    row_sums_ab *a = arg;
    for (int l = 0, k = 0; l < a->m->cfg.layers; l++) {
        bl_layer *L = &a->m->w.layers[l];
        bl_tensor *ts[6] = {&L->q_w, &L->k_w, &L->v_w, &L->o_w, &L->i_w, &L->f_w};
        for (int j = 0; j < 6; j++, k++) {
            if (ts[j]->wsum) a->saved[k] = ts[j]->wsum;
            ts[j]->wsum = on ? a->saved[k] : NULL;
        }
    }
}

/* int8 and int16 models of one shape, whole forwards alternated (as compare_ab) */
static void compare_dtypes(bl_ctx *c8, bl_ctx *c16, const int *ids, int n, int reps, double warm_s) {
    bl_ctx *cs[2] = {c8, c16};
    const double w0 = now();
    do for (int a = 0; a < 2; a++) forward_or_die(cs[a], ids, n, BL_PREC_NATIVE); while (now() - w0 < warm_s);
    double *t[2] = {malloc(sizeof(double) * (size_t)reps), malloc(sizeof(double) * (size_t)reps)};
    double cpu[2] = {1e30, 1e30};   /* best process CPU ms: less moved by other processes than wall time */
    for (int r = 0; r < reps; r++)
        for (int a = 0; a < 2; a++) {
            const double t0 = now(), c0 = cpu_now();
            forward_or_die(cs[a], ids, n, BL_PREC_NATIVE);
            t[a][r] = (now() - t0) * 1e3;
            const double dc = (cpu_now() - c0) * 1e3;
            if (dc < cpu[a]) cpu[a] = dc;
        }
    double med[2];
    for (int a = 0; a < 2; a++) {
        qsort(t[a], (size_t)reps, sizeof(double), cmp_double);
        med[a] = reps % 2 ? t[a][reps / 2] : 0.5 * (t[a][reps / 2 - 1] + t[a][reps / 2]);
    }
    printf("n=%-4d  int8: median %8.2f ms (best %8.2f, cpu %8.2f)  int16: median %8.2f ms (best %8.2f, cpu %8.2f)  "
           "int16/int8 median x%.2f best x%.2f cpu x%.2f\n", n, med[0], t[0][0], cpu[0], med[1], t[1][0], cpu[1],
           med[1] / med[0], t[1][0] / t[0][0], cpu[1] / cpu[0]);
    fflush(stdout);
    free(t[0]);
    free(t[1]);
}

/* The model shapes by name (the default model and the base-size families); -1 if unknown. */
static int shape_config(bl_config *cfg, const char *name) {
    *cfg = (bl_config){.vocab_size = 30522, .hidden = 256, .layers = 4, .heads = 4, .intermediate = 1024,
                       .max_pos = 512, .type_vocab = 2, .ln_eps = 1e-12f, .act = BL_ACT_GELU,
                       .lowercase = 1, .strip_accents = -1, .chinese_chars = 1, .has_mlm = 1};
    if (!strcmp(name, "default")) return 0;
    if (!strcmp(name, "base")) {
        cfg->hidden = 768; cfg->layers = 12; cfg->heads = 12; cfg->intermediate = 3072;
    } else if (!strcmp(name, "distilbert")) {   /* distilbert-base: 6 layers, no token types */
        cfg->hidden = 768; cfg->layers = 6; cfg->heads = 12; cfg->intermediate = 3072; cfg->type_vocab = 0;
        cfg->family = BL_FAMILY_DISTILBERT;
    } else if (!strcmp(name, "roberta")) {   /* roberta-base: positions after pad_id 1 */
        cfg->vocab_size = 50265; cfg->hidden = 768; cfg->layers = 12; cfg->heads = 12; cfg->intermediate = 3072;
        cfg->max_pos = 514; cfg->type_vocab = 1; cfg->ln_eps = 1e-5f; cfg->family = BL_FAMILY_ROBERTA;
        cfg->pos_offset = 1; cfg->pad_id = 1; cfg->cls_id = 0; cfg->sep_id = 2; cfg->unk_id = 3; cfg->mask_id = 50264;
    } else if (!strcmp(name, "albert")) {   /* albert-base-v2: E = 128, one shared layer */
        cfg->vocab_size = 30000; cfg->hidden = 768; cfg->layers = 12; cfg->heads = 12; cfg->intermediate = 3072;
        cfg->family = BL_FAMILY_ALBERT; cfg->embed = 128; cfg->emb_proj = 1; cfg->groups = 1; cfg->inner = 1;
        cfg->act = BL_ACT_GELU_TANH;
    } else return -1;
    return 0;
}

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
/* Paired runs (bench_page.html engines=pair): the page holds one of these and an onnxruntime-web
   session side by side and alternates one forward of each, so that the host's drift, which
   moves figures by 2x within minutes, falls on both halves of every pair alike. The page times
   the calls with performance.now(), as it times ORT's (with threads, the -pthread build does so
   in its Web Worker, bench_worker.js). */
typedef struct {
    bl_model *m;
    bl_ctx *c;
    bl_pool *pool;   /* threads > 1 */
    int ids[1024];
} bl_bench_pair;

/* A random model of the named shape (as main makes it) with dtype "int8" or "int16", its
   context on the best kernel table and `threads` threads (> 1 only in the -pthread build),
   attention-only forwards if att_only; NULL on failure. */
EMSCRIPTEN_KEEPALIVE bl_bench_pair *bl_bench_pair_new(const char *shape, const char *dtype, int att_only, int threads) {
    bl_config cfg;
    const int dt = bl_dtype_parse(dtype);
    if (shape_config(&cfg, shape) < 0 || (dt != BL_DT_I8 && dt != BL_DT_I16)) return NULL;
    bl_bench_pair *p = calloc(1, sizeof *p);
    bl_err e = {{0}};
    if (!p || !(p->m = make_model(&cfg, dt)) || !(p->c = bl_ctx_new(p->m, &e)) ||
        (threads > 1 && !(p->pool = bl_pool_new(threads, &e)))) {
        fprintf(stderr, "bench_forward: %s\n", e.msg);
        return NULL;
    }
    bl_ctx_set_kernels(p->c, bl_kernels_best());
    bl_ctx_set_pool(p->c, p->pool);
    bl_ctx_set_attention_only(p->c, att_only);
    /* ordinary tokens (the forward's time does not depend on which) */
    for (int j = 0; j < 1024; j++) p->ids[j] = 1000 + (j * 7919) % 28000;
    return p;
}

/* One forward over n tokens (2..max_pos); 0, or -1 with the message on stderr. */
EMSCRIPTEN_KEEPALIVE int bl_bench_pair_forward(bl_bench_pair *p, int n) {
    bl_err e = {{0}};
    if (n < 2 || n > 1024 || n > p->m->cfg.max_pos) return -1;
    const int rc = bl_forward(p->c, p->ids, NULL, n, BL_PREC_NATIVE, &e);
    if (rc < 0) fprintf(stderr, "forward: %s\n", e.msg);
    return rc;
}
#endif

int main(int argc, char **argv) {
    bl_config cfg;
    const char *shape = "default";
    shape_config(&cfg, shape);
    int prec = BL_PREC_NATIVE, reps = 3, ns[16], nn = 0, do_scalar = 1, do_simd = 1, att_u16 = 0, threads = 1, att_only = 0;
    double warm_s = 0;
    int dtype = BL_DT_I8, dtype_ab = 0, sums_ab = 0;
    for (int i = 1; i < argc; i++) {
        bl_config named;
        if (shape_config(&named, argv[i]) == 0) { cfg = named; shape = argv[i]; }
        else if (!strcmp(argv[i], "--prec") && i + 1 < argc) prec = !strcmp(argv[++i], "f32") ? BL_PREC_F32 : BL_PREC_NATIVE;
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warm_s = atof(argv[++i]);
        else if (!strcmp(argv[i], "--att") && i + 1 < argc) att_u16 = !strcmp(argv[++i], "u16");
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dtype") && i + 1 < argc) {
            if ((dtype = bl_dtype_parse(argv[++i])) < 0) { fprintf(stderr, "bench_forward: unknown dtype %s\n", argv[i]); return 2; }
        } else if (!strcmp(argv[i], "--dtype-ab")) dtype_ab = 1;
        else if (!strcmp(argv[i], "--sums-ab")) sums_ab = 1;
        else if (!strcmp(argv[i], "--att-only") && i + 1 < argc) {
            const char *a = argv[++i];
            att_only = !strcmp(a, "ab") ? 2 : atoi(a) != 0;
        }
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
            const char *m = argv[++i];
            do_scalar = strcmp(m, "simd") != 0;
            do_simd = strcmp(m, "scalar") != 0;
        } else if (nn < 16 && atoi(argv[i]) > 0) ns[nn++] = atoi(argv[i]);
        else { fprintf(stderr, "bench_forward: unknown argument %s\n", argv[i]); return 2; }
    }
    if (reps < 1) reps = 1;
    if (!nn) { ns[0] = 16; ns[1] = 32; ns[2] = 128; ns[3] = 512; nn = 4; }
    bl_model *m = make_model(&cfg, dtype_ab ? BL_DT_I8 : dtype);
    bl_err e = {{0}};
    bl_ctx *c = bl_ctx_new(m, &e);
    const int32_t *saved[6 * 64] = {0};
    row_sums_ab sums = {m, saved};
    if (sums_ab && cfg.layers > 64) { fprintf(stderr, "bench_forward: --sums-ab takes at most 64 layers\n"); return 2; }
    if (!c) { fprintf(stderr, "bench_forward: %s\n", e.msg); return 1; }
    bl_ctx_set_attention_u16(c, att_u16);
    bl_ctx_set_attention_only(c, att_only == 1);
    bl_pool *pool = NULL;
    if (threads > 1 && !(pool = bl_pool_new(threads, &e))) { fprintf(stderr, "bench_forward: %s\n", e.msg); return 1; }
    bl_ctx_set_pool(c, pool);
    const char *opt = bl_kernels_best()->name;
    printf("bench_forward: %s model (%d layers, hidden %d, %d heads, intermediate %d), %s, "
           "%d thread%s, best of %d after %.1f s of warm-up per n\n", shape, cfg.layers, cfg.hidden, cfg.heads,
           cfg.intermediate, prec == BL_PREC_F32 ? "f32" : dtype_ab ? "int8 vs int16 (native)" : bl_dtype_name(dtype),
           threads, threads > 1 ? "s" : "", reps, warm_s);
    bl_ctx *c16 = NULL;
    if (dtype_ab) {
        const size_t b8 = model_file_bytes;
        bl_model *m16 = make_model(&cfg, BL_DT_I16);   /* kept to the end, as m */
        if (!(c16 = bl_ctx_new(m16, &e))) { fprintf(stderr, "bench_forward: %s\n", e.msg); return 1; }
        bl_ctx_set_attention_u16(c16, att_u16);
        bl_ctx_set_pool(c16, pool);
        int rmin = 1 << 30, rmax = 0;
        bl_tensor t;
        for (int k = 0; bl_model_tensor_at(m16, k, &t, NULL) == 0; k++)
            if (t.dtype == BL_DT_I16) {
                const int r = bl_k_i16_run(t.data, t.rows, t.cols);
                rmin = r < rmin ? r : rmin; rmax = r > rmax ? r : rmax;
            }
        printf("model files: int8 %.1f MB, int16 %.1f MB (int32 runs %d-%d inputs)\n", b8 / 1e6,
               model_file_bytes / 1e6, rmin, rmax);
    }
    for (int i = 0; i < nn; i++) {
        int *ids = malloc(ns[i] * sizeof(int));
        for (int j = 0; j < ns[i]; j++) ids[j] = j == 0 ? 2 : j == ns[i] - 1 ? 3 : 5 + (int)((frand() + 1) * 10000);
        if (dtype_ab) {
            bl_ctx_set_kernels(c, bl_kernels_best());
            compare_dtypes(c, c16, ids, ns[i], reps, warm_s);
            free(ids);
            continue;
        }
        if (att_only == 2 || sums_ab) {
            const char *att_names[2] = {"whole", "attention only"}, *sum_names[2] = {"sums per call", "sums at load"};
            if (sums_ab) compare_ab(c, set_row_sums, &sums, sum_names, ids, ns[i], prec, reps, warm_s);
            else compare_ab(c, set_att_only, c, att_names, ids, ns[i], prec, reps, warm_s);
            free(ids);
            continue;
        }
        timing ts = {0}, tv = {0};
        if (do_scalar) { bl_ctx_set_kernels(c, bl_kernels_scalar()); ts = time_forward(c, ids, ns[i], prec, reps, warm_s); }
        if (do_simd) { bl_ctx_set_kernels(c, bl_kernels_best()); tv = time_forward(c, ids, ns[i], prec, reps, warm_s); }
        printf("n=%-4d", ns[i]);
        if (do_scalar) printf("  scalar %9.1f ms (cpu %9.1f)", ts.min, ts.cpu_min);
        if (do_simd) printf("  %s %9.1f ms (cpu %9.1f)", opt, tv.min, tv.cpu_min);
        if (do_scalar && do_simd) printf("  x%.1f (cpu x%.1f)", ts.min / tv.min, ts.cpu_min / tv.cpu_min);
        if (do_simd) printf("  median %.1f max %.1f", tv.med, tv.max);
        /* memory: the model file (the page keeps it in the heap as the core's weights) and the
           context's scratch at this n (attention maps included); in WebAssembly also the
           linear memory's size, which is what the page's worker holds */
        printf("  | model %.1f MB + context %.1f MB (attention as %s)", model_file_bytes / 1e6,
               (att_u16 ? bl_ctx_bytes_u16(m, ns[i]) : bl_ctx_bytes(m, ns[i])) / 1e6, att_u16 ? "u16" : "f32");
#ifdef __EMSCRIPTEN__
        printf(", wasm memory %.1f MB", (double)__builtin_wasm_memory_size(0) * 65536 / 1e6);
#endif
        printf("\n");
        fflush(stdout);
        free(ids);
    }
    bl_ctx_free(c);
    bl_ctx_free(c16);
    bl_pool_free(pool);
    return 0;
}
