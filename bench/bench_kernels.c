/* bench_kernels.c — micro-benchmark of the kernels behind the forward pass: the scalar table
   (bl_kernels_scalar: the bl_k_* reference) against the best one here (bl_kernels_best: AVX2
   natively, SIMD128 in WebAssembly) on BERT-shaped problems. Prints one line per kernel and
   shape with GOP/s (one multiply-add = 2 ops) and the speed-up. Figures, not pass/fail; but a
   mismatch between the two outputs is reported and makes the exit status non-zero.

   Built by bench/run_native.sh (cc -O3, no CMake target) and bench/run_wasm.sh (emcc, node).
   usage: bench_kernels [seconds per measurement, default 0.3] [only lines whose kernel or shape
   contains this text, e.g. "30522" for the MLM decoder] */
#include "kernels/kernels.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}
static float frand(void) { return (float)((double)rnd() / 4294967296.0 * 2.0 - 1.0); }

static double budget = 0.3;
static const char *only;   /* filter on "kernel shape", NULL for all */
static int mismatches;
static const bl_kernels *K;   /* the table being timed */

/* Run fn until `budget` seconds have passed (at least twice); best seconds per call. The best
   rather than the mean: the machine is shared, and interference only ever adds time. */
typedef void (*bench_fn)(void *);
static double best_time(bench_fn fn, void *arg) {
    double best = 1e30, start = now();
    int reps = 0;
    do {
        double t0 = now();
        fn(arg);
        double dt = now() - t0;
        if (dt < best) best = dt;
        reps++;
    } while (reps < 2 || now() - start < budget);
    return best;
}

typedef struct {
    int n, in, out;
    bl_tensor w, wf, w16;
    int16_t *xq, *xq16; float *xs, *x, *bias, *y;
} lin;

static void run_q8(void *a) { lin *l = a; K->linear_q8(l->y, l->xq, l->xs, &l->w, l->bias, l->n); }
static void run_i16(void *a) { lin *l = a; K->linear_i16(l->y, l->xq16, l->xs, &l->w16, l->bias, l->n); }
static void run_f32i8(void *a) { lin *l = a; K->linear_f32(l->y, l->x, &l->w, l->bias, l->n); }
static void run_f32(void *a) { lin *l = a; K->linear_f32(l->y, l->x, &l->wf, l->bias, l->n); }

static void report(const char *kernel, const char *shape, double macs, bench_fn fn, void *arg,
                   float *y, size_t ylen) {
    if (only && !strstr(kernel, only) && !strstr(shape, only)) return;
    float *ref = malloc(ylen * sizeof(float));
    K = bl_kernels_scalar();
    double ts = best_time(fn, arg);
    memcpy(ref, y, ylen * sizeof(float));
    K = bl_kernels_best();
    double tv = best_time(fn, arg);
    int same = memcmp(ref, y, ylen * sizeof(float)) == 0;
    if (!same) mismatches++;
    printf("%-14s %-22s scalar %8.3f ms %7.2f GOP/s | %-12s %8.3f ms %7.2f GOP/s | x%5.1f%s\n",
           kernel, shape, ts * 1e3, 2 * macs / ts * 1e-9, K->name, tv * 1e3,
           2 * macs / tv * 1e-9, ts / tv, same ? "" : "  MISMATCH");
    fflush(stdout);
    free(ref);
}

static void bench_linear(int n, int in, int out) {
    lin l = {0};
    l.n = n; l.in = in; l.out = out;
    int8_t *wq = malloc((size_t)out * in);
    int16_t *wq16 = malloc((size_t)out * in * sizeof *wq16);
    l.xq16 = malloc((size_t)n * in * sizeof *l.xq16);
    float *ws = malloc(out * sizeof(float)), *wf = malloc((size_t)out * in * sizeof(float));
    l.xq = malloc((size_t)n * in * sizeof *l.xq); l.xs = malloc(n * sizeof(float));
    l.x = malloc((size_t)n * in * sizeof(float)); l.bias = malloc(out * sizeof(float));
    l.y = malloc((size_t)n * out * sizeof(float));
    for (size_t i = 0; i < (size_t)out * in; i++) { wq[i] = (int8_t)(rnd() % 255 - 127); wf[i] = frand(); }
    for (size_t i = 0; i < (size_t)n * in; i++) { l.xq[i] = (int16_t)(rnd() % 4095 - 2047);   /* 12-bit, as bl_k_quantize_rows */ l.x[i] = frand(); }
    /* the int16 file's 13-bit weights against 16-bit activations (bl_k_quantize_rows16) */
    /* roughly normal rows quantized as the converter does (the row's largest entry is ±4095),
       which is what sets the kernels' int32 run (bl_k_i16_run) */
    for (int o = 0; o < out; o++) {
        float mx = 0.0f;
        for (int i = 0; i < in; i++) {
            const float g = frand() + frand() + frand() + frand();
            wf[(size_t)o * in + i] = g;
            if (g > mx) mx = g; else if (-g > mx) mx = -g;
        }
        for (int i = 0; i < in; i++) wq16[(size_t)o * in + i] = (int16_t)lrintf(wf[(size_t)o * in + i] / mx * 4095.0f);
    }
    for (size_t i = 0; i < (size_t)n * in; i++) l.xq16[i] = (int16_t)(rnd() % 65535 - 32767);
    for (int o = 0; o < out; o++) { ws[o] = 0.01f; l.bias[o] = frand(); }
    for (int t = 0; t < n; t++) l.xs[t] = 0.02f;
    l.w.dtype = BL_DT_I8; l.w.rows = out; l.w.cols = in; l.w.data = wq; l.w.scale = ws;
    l.w16.dtype = BL_DT_I16; l.w16.rows = out; l.w16.cols = in; l.w16.data = wq16; l.w16.scale = ws;
    l.w16.run = bl_k_i16_run(wq16, out, in);
    l.wf.dtype = BL_DT_F32; l.wf.rows = out; l.wf.cols = in; l.wf.data = wf;
    char shape[64];
    snprintf(shape, sizeof shape, "n=%d %dx%d", n, out, in);
    char shape16[80];
    snprintf(shape16, sizeof shape16, "%s run %d", shape, l.w16.run);
    const double macs = (double)n * in * out;
    report("linear_q8", shape, macs, run_q8, &l, l.y, (size_t)n * out);
    report("linear_i16", shape16, macs, run_i16, &l, l.y, (size_t)n * out);
    report("linear_f32/i8", shape, macs, run_f32i8, &l, l.y, (size_t)n * out);
    report("linear_f32", shape, macs, run_f32, &l, l.y, (size_t)n * out);
    free(wq16); free(l.xq16);
    free(wq); free(ws); free(wf); free(l.xq); free(l.xs); free(l.x); free(l.bias); free(l.y);
}

/* One head of one layer: n query rows against n keys (scores) and n values (P·V), head size d
   inside rows of `hidden` floats, as bert.c lays them out. */
typedef struct { int n, d, hidden; float *q, *k, *kt, *p, *out; } att;

/* the keys transposed, then blocks of 8 query rows, as bert.c calls them */
static void run_scores(void *a) {
    att *s = a;
    bl_k_transpose_keys(s->kt, s->k, s->hidden, s->n, s->d);
    for (int i = 0; i < s->n; i += 8)
        K->scores_rows(s->p + (size_t)i * s->n, s->n, s->q + (size_t)i * s->hidden, s->hidden,
                          s->n - i < 8 ? s->n - i : 8, s->kt, s->n, s->d, 0.125f);
}
static void run_pv(void *a) {
    att *s = a;
    memset(s->out, 0, (size_t)s->n * s->hidden * sizeof(float));
    for (int i = 0; i < s->n; i += 8)
        K->pv_rows(s->out + (size_t)i * s->hidden, s->hidden, s->p + (size_t)i * s->n, s->n,
                      s->n - i < 8 ? s->n - i : 8, s->k, s->hidden, s->n, s->d);
}

static void bench_attention(int n, int d, int hidden) {
    att s = {n, d, hidden, NULL, NULL, NULL, NULL, NULL};
    s.kt = malloc((size_t)n * d * sizeof(float));
    s.q = malloc((size_t)n * hidden * sizeof(float)); s.k = malloc((size_t)n * hidden * sizeof(float));
    s.p = malloc((size_t)n * n * sizeof(float)); s.out = malloc((size_t)n * hidden * sizeof(float));
    for (size_t i = 0; i < (size_t)n * hidden; i++) { s.q[i] = frand(); s.k[i] = frand(); }
    char shape[64];
    snprintf(shape, sizeof shape, "n=%d d=%d", n, d);
    report("scores (QK^T)", shape, (double)n * n * d, run_scores, &s, s.p, (size_t)n * n);
    for (size_t i = 0; i < (size_t)n * n; i++) s.p[i] = (float)(rnd() % 1000) * 1e-3f / (float)n;
    report("P.V", shape, (double)n * n * d, run_pv, &s, s.out, (size_t)n * hidden);
    free(s.q); free(s.k); free(s.kt); free(s.p); free(s.out);
}

int main(int argc, char **argv) {
    if (argc > 1) budget = atof(argv[1]);
    if (argc > 2) only = argv[2];
    printf("bench_kernels: optimised variant %s, best of >= %.2f s per measurement\n", bl_kernels_best()->name, budget);
    /* BERT-base layer shapes (hidden 768, intermediate 3072) and the default model (256, 1024) */
    bench_linear(128, 768, 768);
    bench_linear(128, 768, 3072);
    bench_linear(128, 3072, 768);
    bench_linear(16, 768, 768);
    bench_linear(512, 768, 768);
    bench_linear(128, 256, 1024);
    bench_linear(1, 768, 30522);     /* MLM decoder, one position */
    bench_linear(1, 256, 30522);     /* the default model's MLM decoder */
    bench_linear(3, 768, 768);       /* a pair and a lone token */
    bench_attention(128, 64, 768);
    bench_attention(512, 64, 768);
    if (mismatches) printf("bench_kernels: %d MISMATCHES between scalar and optimised\n", mismatches);
    return mismatches ? 1 : 0;
}
