/* test_kernels_relaxed.c — the relaxed-SIMD int8 linear kernel (core/kernels/kernels_relaxed.c)
   bit for bit against the scalar reference bl_k_linear_q8, on odd shapes and on the activations'
   full 12-bit range, with the weights' row sums given (as a loaded model has them) and without,
   then its speed against the SIMD128 kernel (printed, not asserted).
   Built with clang -mrelaxed-simd and linked by emcc without binaryen (tools/build_relaxed.sh);
   run in Chromium by tests/e2e/relaxed.test.mjs (node 20's V8 has a pre-standard form of the
   instruction). Natively and in a SIMD128 build bl_kernels_relaxed() is NULL and the test says so. */
#include "check.h"
#include "kernels/kernels_relaxed.h"
#include <string.h>
#include <time.h>

static uint32_t rng = 12345;
static uint32_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }
static float frand(void) { return (float)(rnd() & 0xffffff) / 16777216.0f * 2.0f - 1.0f; }

static long first_diff(const float *a, const float *b, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (memcmp(a + i, b + i, sizeof(float))) return (long)i;
    return -1;
}

/* One shape: random int8 weights (one row all -128, the largest |sum|), activations uniform on
   -Q..Q (one token all -Q, one all +Q, one alternating ±Q), scales and bias; `wide` puts some
   activations outside the 12 bits (the kernel must notice and still give the reference). */
static void check_shape(const bl_kernels *K, int in, int out, int n, int wide) {
    int8_t *wq = malloc((size_t)out * in);
    int16_t *xq = malloc((size_t)n * in * sizeof *xq);
    float *ws = malloc(out * sizeof(float)), *xs = malloc(n * sizeof(float)), *bias = malloc(out * sizeof(float));
    float *y0 = malloc((size_t)n * out * sizeof(float)), *y1 = malloc((size_t)n * out * sizeof(float));
    const int Q = bl_k_qmax(in);
    for (size_t i = 0; i < (size_t)out * in; i++) wq[i] = (int8_t)(rnd() & 0xff);
    for (size_t i = 0; i < (size_t)n * in; i++) xq[i] = (int16_t)((int)(rnd() % (2u * Q + 1)) - Q);
    if (out > 2) for (int i = 0; i < in; i++) wq[(size_t)2 * in + i] = -128;
    if (n > 1) for (int i = 0; i < in; i++) xq[(size_t)1 * in + i] = (int16_t)-Q;
    if (n > 2) for (int i = 0; i < in; i++) xq[(size_t)2 * in + i] = (int16_t)Q;
    if (n > 3) for (int i = 0; i < in; i++) xq[(size_t)3 * in + i] = (int16_t)(i & 1 ? Q : -Q);
    if (wide) xq[(size_t)(n - 1) * in + in / 2] = (int16_t)(wide > 0 ? 2048 + (int)(rnd() % 30000) : -2049 - (int)(rnd() % 30000));
    for (int o = 0; o < out; o++) { ws[o] = 0.01f * (1.0f + frand()); bias[o] = frand(); }
    for (int t = 0; t < n; t++) xs[t] = 0.02f * (1.0f + frand());
    int32_t *sums = malloc(out * sizeof *sums);
    bl_k_row_sums_i8(sums, wq, out, in);
    bl_tensor w = {0};
    w.dtype = BL_DT_I8; w.rows = out; w.cols = in; w.data = wq; w.scale = ws;
    /* without row sums (the kernel sums the rows itself) and with them, as a loaded model has */
    for (int k = 0; k < 4; k++) {
        const float *bb = k & 1 ? bias : NULL;
        w.wsum = k & 2 ? sums : NULL;
        memset(y0, 0x55, (size_t)n * out * sizeof(float));
        memset(y1, 0xaa, (size_t)n * out * sizeof(float));
        bl_k_linear_q8(y0, xq, xs, &w, bb, n);
        K->linear_q8(y1, xq, xs, &w, bb, n);
        const long d = first_diff(y0, y1, (size_t)n * out);
        CHECK(d < 0, "relaxed linear_q8 in=%d out=%d n=%d bias=%d sums=%d wide=%d: element %ld %.9g vs scalar %.9g",
              in, out, n, k & 1, k >> 1, wide, d, d < 0 ? 0 : y1[d], d < 0 ? 0 : y0[d]);
        /* rows 7.. alone (bl_tensor_rows: how threads share a step), with their scales, bias
           and sums: the same bits as those rows of the whole */
        if (out > 7) {
            const bl_tensor v = bl_tensor_rows(&w, 7, out - 7);
            K->linear_q8(y1, xq, xs, &v, bb ? bb + 7 : NULL, n);
            long dv = -1;
            for (int t = 0; t < n && dv < 0; t++) {
                const long dt = first_diff(y0 + (size_t)t * out + 7, y1 + (size_t)t * (out - 7), (size_t)(out - 7));
                if (dt >= 0) dv = (long)t * (out - 7) + dt;
            }
            CHECK(dv < 0, "relaxed linear_q8 on rows 7..%d in=%d n=%d bias=%d sums=%d: element %ld differs", out - 1,
                  in, n, k & 1, k >> 1, dv);
        }
    }
    free(wq); free(xq); free(ws); free(xs); free(bias); free(y0); free(y1); free(sums);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* GOP/s of K->linear_q8 at one shape: best of `reps` runs */
static double gops(const bl_kernels *K, const bl_tensor *w, float *y, const int16_t *xq, const float *xs, int n, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        const double t0 = now_s();
        K->linear_q8(y, xq, xs, w, NULL, n);
        const double t = now_s() - t0;
        if (t < best) best = t;
    }
    return 2.0 * n * w->rows * w->cols / best / 1e9;
}

int main(void) {
    const bl_kernels *K = bl_kernels_relaxed();
#if !defined(__wasm_relaxed_simd__)
    /* natively (ctest) and in the SIMD128 build: no table, so nothing can pick it by mistake */
    CHECK(!K, "bl_kernels_relaxed() is NULL without relaxed SIMD");
    printf("test_kernels_relaxed: this build has no relaxed SIMD (bl_kernels_relaxed() is NULL)\n");
    return check_summary("test_kernels_relaxed");
#endif
    if (!K) { CHECK(K, "bl_kernels_relaxed() in a relaxed-SIMD build"); return check_summary("test_kernels_relaxed"); }
    CHECK(!strcmp(K->name, "wasm-relaxed"), "relaxed table's name: %s", K->name);
    const void *const *f = (const void *const *)((const char *)K + sizeof(const char *));
    for (size_t i = 0; i < (sizeof(bl_kernels) - sizeof(const char *)) / sizeof(void *); i++)
        CHECK(f[i] != NULL, "relaxed table: entry %zu is NULL", i);
    /* in: not a multiple of 16 (the SIMD128 kernel), 16, 32, BERT's widths, the largest chunk
       and beyond; out: the 6-row blocks with every remainder (a 4-row block for 4 and 5, then
       0–3 rows of the scalar sum), and 1–4 rows alone; n: 1 (SIMD128's token kernel), 2, a
       lone token, 17 (6-row blocks that sum their rows), several chunks (in = 768: 85 tokens
       a chunk, 3072: 21; chunks of 20+ take the row sums given) */
    const int ins[] = {8, 24, 16, 32, 48, 256, 768, 1024, 3072, 16384, 65536, 65552};
    const int outs[] = {1, 3, 4, 6, 7, 10, 11, 37, 44};
    const int ns[] = {1, 2, 3, 5, 17, 43, 130};
    for (int a = 0; a < (int)(sizeof ins / sizeof ins[0]); a++)
        for (int b = 0; b < (int)(sizeof outs / sizeof outs[0]); b++)
            for (int c = 0; c < (int)(sizeof ns / sizeof ns[0]); c++) {
                if (ins[a] > 4096 && (ns[c] > 5 || outs[b] > 11)) continue;   /* the slow corners */
                check_shape(K, ins[a], outs[b], ns[c], 0);
            }
    for (int wide = -1; wide <= 1; wide += 2) { check_shape(K, 768, 8, 45, wide); check_shape(K, 64, 5, 3, wide); }

    /* speed: relaxed and SIMD128 alternated, BERT-base's shapes at n = 128 */
    const int shapes[][2] = {{768, 768}, {768, 3072}, {3072, 768}, {256, 1024}};
    const int n = 128;
    for (int s = 0; s < 4; s++) {
        const int in = shapes[s][0], out = shapes[s][1];
        int8_t *wq = malloc((size_t)out * in);
        int16_t *xq = malloc((size_t)n * in * sizeof *xq);
        float *ws = malloc(out * sizeof(float)), *xs = malloc(n * sizeof(float)), *y = malloc((size_t)n * out * sizeof(float));
        for (size_t i = 0; i < (size_t)out * in; i++) wq[i] = (int8_t)(rnd() & 0xff);
        for (size_t i = 0; i < (size_t)n * in; i++) xq[i] = (int16_t)((int)(rnd() % 4095) - 2047);
        for (int o = 0; o < out; o++) ws[o] = 0.01f;
        for (int t = 0; t < n; t++) xs[t] = 0.02f;
        int32_t *sums = malloc(out * sizeof *sums);
        bl_k_row_sums_i8(sums, wq, out, in);
        bl_tensor w = {0};
        w.dtype = BL_DT_I8; w.rows = out; w.cols = in; w.data = wq; w.scale = ws; w.wsum = sums;
        double gr[5], gs[5];
        for (int r = 0; r < 5; r++) { gr[r] = gops(K, &w, y, xq, xs, n, 5); gs[r] = gops(bl_kernels_simd128(), &w, y, xq, xs, n, 5); }
        double br = 0, bs = 0;
        for (int r = 0; r < 5; r++) { if (gr[r] > br) br = gr[r]; if (gs[r] > bs) bs = gs[r]; }
        printf("speed linear_q8 n=%d %d->%d: relaxed %.1f GOP/s, simd128 %.1f GOP/s (best of 5 alternated rounds of 5), x%.2f\n",
               n, in, out, br, bs, br / bs);
        free(wq); free(xq); free(ws); free(xs); free(y); free(sums);
    }
    return check_summary("test_kernels_relaxed");
}
