/* test_kernels_simd.c — every kernel table (kernels.h: AVX2 natively when the CPU has it,
   SIMD128 under WebAssembly, and the scalar table itself) against the scalar reference (bl_k_*),
   bit for bit: the integer kernel is exact by construction and the f32 ones keep the scalar
   summation order without FMA. Shapes are chosen to hit every edge of the blocking: n = 1, 7, 511, 512
   tokens (blocks of 2 and 4, chunks of tokens), widths below one vector, not a multiple of
   8 or 16, and output counts that leave 1–3 rows after the blocks of 4. int8 operands span
   the full range, -128 included (a maddubs-style shortcut would get that wrong). */
#include "check.h"
#include "kernels/kernels.h"
#include "bertlens.h"
#include <stdio.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}
static float frand(void) { return (float)((double)rnd() / 4294967296.0 * 2.0 - 1.0); }

/* first index where the two arrays differ bitwise (-0 vs +0 counts), or -1 */
static long first_diff(const float *a, const float *b, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0) return (long)i;
    return -1;
}

/* the table under test */
static const bl_kernels *K;

static const int NS[] = {1, 7, 511, 512};
#define NN (int)(sizeof NS / sizeof NS[0])

static void test_linear(void) {
    /* in: multiples of 8 take the packed-pair int8 kernel (264: an odd number of 8-blocks;
       16384: one pair per 64 KiB chunk; 16392: too wide to pack, the row kernel), the others
       the row kernel; out: 4-row blocks and 1–3 rows after them; n: one token (rows), a lone
       token after 3 pairs, several chunks with and without a lone last token */
    const int ins[] = {1, 7, 8, 15, 17, 64, 100, 264, 773, 16384, 16392};
    const int outs[] = {1, 3, 6, 37};
    for (int a = 0; a < (int)(sizeof ins / sizeof ins[0]); a++)
        for (int b = 0; b < (int)(sizeof outs / sizeof outs[0]); b++)
            for (int c = 0; c < NN; c++) {
                const int in = ins[a], out = outs[b], n = NS[c];
                /* skip the slowest corners: 512 tokens on the widest inputs is covered by 511,
                   and the two widest only need a few tokens and rows */
                if (in == 773 && n == 512 && out > 6) continue;
                if (in > 10000 && (n > 7 || out > 6)) continue;
                int8_t *wq = malloc((size_t)out * in);
                int16_t *xq = malloc((size_t)n * in * sizeof *xq);
                const int Q = bl_k_qmax(in);
                float *ws = malloc(out * sizeof(float)), *xs = malloc(n * sizeof(float));
                float *bias = malloc(out * sizeof(float)), *wf = malloc((size_t)out * in * sizeof(float));
                float *x = malloc((size_t)n * in * sizeof(float));
                float *y0 = malloc((size_t)n * out * sizeof(float)), *y1 = malloc((size_t)n * out * sizeof(float));
                for (size_t i = 0; i < (size_t)out * in; i++) { wq[i] = (int8_t)(rnd() & 0xff); wf[i] = frand(); }
                for (size_t i = 0; i < (size_t)n * in; i++) {
                    xq[i] = (int16_t)((int)(rnd() % (2u * Q + 1)) - Q);
                    x[i] = 4.0f * frand();
                }
                /* saturate some rows at the extremes: the largest |sum| the kernel must hold */
                if (out > 2) for (int i = 0; i < in; i++) wq[(size_t)2 * in + i] = -128;
                if (n > 1) for (int i = 0; i < in; i++) xq[(size_t)1 * in + i] = (int16_t)-Q;
                for (int o = 0; o < out; o++) { ws[o] = 0.01f * (1.0f + frand()); bias[o] = frand(); }
                for (int t = 0; t < n; t++) xs[t] = 0.02f * (1.0f + frand());
                bl_tensor w = {0};
                w.dtype = BL_DT_I8; w.rows = out; w.cols = in; w.data = wq; w.scale = ws;
                for (int withb = 0; withb < 2; withb++) {
                    const float *bb = withb ? bias : NULL;
                    /* q8 */
                    memset(y0, 0x55, (size_t)n * out * sizeof(float));
                    memset(y1, 0xaa, (size_t)n * out * sizeof(float));
                    bl_k_linear_q8(y0, xq, xs, &w, bb, n);
                    K->linear_q8(y1, xq, xs, &w, bb, n);
                    long d = first_diff(y0, y1, (size_t)n * out);
                    CHECK(d < 0, "linear_q8 in=%d out=%d n=%d bias=%d: element %ld %.9g vs scalar %.9g",
                          in, out, n, withb, d, d < 0 ? 0 : y1[d], d < 0 ? 0 : y0[d]);
                    /* f32 activations against I8 weights (the --precision f32 path) */
                    bl_k_linear_f32(y0, x, &w, bb, n);
                    K->linear_f32(y1, x, &w, bb, n);
                    d = first_diff(y0, y1, (size_t)n * out);
                    CHECK(d < 0, "linear_f32/I8 in=%d out=%d n=%d bias=%d: element %ld %.9g vs scalar %.9g",
                          in, out, n, withb, d, d < 0 ? 0 : y1[d], d < 0 ? 0 : y0[d]);
                    /* f32 weights */
                    bl_tensor wf32 = {0};
                    wf32.dtype = BL_DT_F32; wf32.rows = out; wf32.cols = in; wf32.data = wf;
                    bl_k_linear_f32(y0, x, &wf32, bb, n);
                    K->linear_f32(y1, x, &wf32, bb, n);
                    d = first_diff(y0, y1, (size_t)n * out);
                    CHECK(d < 0, "linear_f32/F32 in=%d out=%d n=%d bias=%d: element %ld %.9g vs scalar %.9g",
                          in, out, n, withb, d, d < 0 ? 0 : y1[d], d < 0 ? 0 : y0[d]);
                }
                free(wq); free(xq); free(ws); free(xs); free(bias); free(wf); free(x); free(y0); free(y1);
            }
}

/* int16 (13-bit) weights × 16-bit activations: linear_i16, and linear_f32 on I16 weights,
   bit for bit. in: below one vector, not a multiple of 8 or 16, around the 64/128-input int32
   blocks, bert-base's 3072; out: 2- and 4-row blocks and the rows after them. Rows saturated
   at ±4095 × ±32767 make sums far past int32, which only an exact int64 total gets right. */
static void test_linear_i16(void) {
    const int ins[] = {1, 7, 8, 15, 16, 17, 63, 64, 65, 127, 128, 129, 200, 773, 3072};
    const int outs[] = {1, 2, 3, 5, 37};
    for (int a = 0; a < (int)(sizeof ins / sizeof ins[0]); a++)
        for (int b = 0; b < (int)(sizeof outs / sizeof outs[0]); b++)
            for (int c = 0; c < NN; c++) {
                const int in = ins[a], out = outs[b], n = NS[c];
                if (n == 512 && (in > 200 || out > 5)) continue;
                if (in == 3072 && n > 7) continue;
                int16_t *wq = malloc((size_t)out * in * sizeof *wq), *xq = malloc((size_t)n * in * sizeof *xq);
                float *ws = malloc(out * sizeof(float)), *xs = malloc(n * sizeof(float));
                float *bias = malloc(out * sizeof(float)), *x = malloc((size_t)n * in * sizeof(float));
                float *y0 = malloc((size_t)n * out * sizeof(float)), *y1 = malloc((size_t)n * out * sizeof(float));
                for (size_t i = 0; i < (size_t)out * in; i++) wq[i] = (int16_t)((int)(rnd() % 8191) - 4095);
                for (size_t i = 0; i < (size_t)n * in; i++) {
                    xq[i] = (int16_t)((int)(rnd() % 65535) - 32767);
                    x[i] = 4.0f * frand();
                }
                if (out > 1) for (int i = 0; i < in; i++) wq[(size_t)1 * in + i] = 4095;
                if (out > 2) for (int i = 0; i < in; i++) wq[(size_t)2 * in + i] = -4095;
                if (n > 1) for (int i = 0; i < in; i++) xq[(size_t)1 * in + i] = 32767;
                if (n > 2) for (int i = 0; i < in; i++) xq[(size_t)2 * in + i] = -32767;
                for (int o = 0; o < out; o++) { ws[o] = 0.01f * (1.0f + frand()); bias[o] = frand(); }
                for (int t = 0; t < n; t++) xs[t] = 0.02f * (1.0f + frand());
                bl_tensor w = {0};
                w.dtype = BL_DT_I16; w.rows = out; w.cols = in; w.data = wq; w.scale = ws;
                for (int withb = 0; withb < 2; withb++) {
                    const float *bb = withb ? bias : NULL;
                    memset(y0, 0x55, (size_t)n * out * sizeof(float));
                    memset(y1, 0xaa, (size_t)n * out * sizeof(float));
                    bl_k_linear_i16(y0, xq, xs, &w, bb, n);
                    K->linear_i16(y1, xq, xs, &w, bb, n);
                    long d = first_diff(y0, y1, (size_t)n * out);
                    CHECK(d < 0, "linear_i16 in=%d out=%d n=%d bias=%d: element %ld %.9g vs scalar %.9g",
                          in, out, n, withb, d, d < 0 ? 0 : y1[d], d < 0 ? 0 : y0[d]);
                    bl_k_linear_f32(y0, x, &w, bb, n);
                    K->linear_f32(y1, x, &w, bb, n);
                    d = first_diff(y0, y1, (size_t)n * out);
                    CHECK(d < 0, "linear_f32/I16 in=%d out=%d n=%d bias=%d: element %ld %.9g vs scalar %.9g",
                          in, out, n, withb, d, d < 0 ? 0 : y1[d], d < 0 ? 0 : y0[d]);
                }
                free(wq); free(xq); free(ws); free(xs); free(bias); free(x); free(y0); free(y1);
            }
}

/* The same kernels with the int32 run bl_k_i16_run allows for the weights (the loader sets it):
   rows like a trained model's (small entries, one ±4095) reach runs of 512 and more,
   and one row is built so that a lane's class sums to exactly BL_K_I16_LANE_SUM within its
   run, against activations of ±32767: the largest lane sum the run permits (2^31 - 2). A run
   longer than the weights allow would wrap there; the scalar reference sums in int64. */
static void test_linear_i16_run(void) {
    const int ins[] = {8, 64, 200, 256, 768, 776, 3072};
    const int outs[] = {1, 4, 5, 9};
    const int ns[] = {2, 7, 64};
    int longest = 0, boundary = 0;
    for (int a = 0; a < (int)(sizeof ins / sizeof ins[0]); a++)
        for (int b = 0; b < (int)(sizeof outs / sizeof outs[0]); b++)
            for (int c = 0; c < 3; c++) {
                const int in = ins[a], out = outs[b], n = ns[c], amp = c == 1 ? 200 : 700;
                int16_t *wq = malloc((size_t)out * in * sizeof *wq), *xq = malloc((size_t)n * in * sizeof *xq);
                float *ws = malloc(out * sizeof(float)), *xs = malloc(n * sizeof(float)), *bias = malloc(out * sizeof(float));
                float *y0 = malloc((size_t)n * out * sizeof(float)), *y1 = malloc((size_t)n * out * sizeof(float));
                for (int o = 0; o < out; o++) {
                    int16_t *row = wq + (size_t)o * in;
                    for (int i = 0; i < in; i++) row[i] = (int16_t)((int)(rnd() % (2 * amp + 1)) - amp);
                    row[rnd() % in] = (rnd() & 1) ? 4095 : -4095;
                    ws[o] = 0.01f * (1.0f + frand());
                    bias[o] = frand();
                }
                for (size_t i = 0; i < (size_t)n * in; i++) xq[i] = (int16_t)((int)(rnd() % 65535) - 32767);
                for (int i = 0; i < in; i++) xq[i] = 32767;   /* token 0 at the top of the range */
                for (int t = 0; t < n; t++) xs[t] = 0.02f * (1.0f + frand());
                bl_tensor w = {0};
                w.dtype = BL_DT_I16; w.rows = out; w.cols = in; w.data = wq; w.scale = ws;
                w.run = bl_k_i16_run(wq, out, in);
                if (out == 5 && in >= 256) {
                    /* row 2 (in the first block of four rows): class 0 (inputs 8j and 8j+1) of every
                       whole run block sums to exactly the budget, everything else 0, so a kernel
                       summing two blocks in one lane would wrap */
                    int16_t *row = wq + (size_t)2 * in;
                    memset(row, 0, (size_t)in * sizeof *row);
                    for (int b0 = 0; b0 + w.run <= in; b0 += w.run) {
                        const int cnt = w.run / 4;
                        int left = BL_K_I16_LANE_SUM;
                        for (int k = 0; k < cnt; k++) {
                            const int v = left / (cnt - k);
                            row[b0 + 8 * (k / 2) + (k & 1)] = (int16_t)v;
                            left -= v;
                        }
                        boundary += b0 > 0;   /* a second whole block: a doubled run would wrap */
                    }
                    CHECK(bl_k_i16_run(wq, out, in) == w.run, "linear_i16 run: the boundary row changed the run");
                }
                if (w.run > longest) longest = w.run;
                bl_k_linear_i16(y0, xq, xs, &w, bias, n);
                K->linear_i16(y1, xq, xs, &w, bias, n);
                const long d = first_diff(y0, y1, (size_t)n * out);
                CHECK(d < 0, "linear_i16 run %d in=%d out=%d n=%d: element %ld %.9g vs scalar %.9g",
                      w.run, in, out, n, d, d < 0 ? 0 : y1[d], d < 0 ? 0 : y0[d]);
                free(wq); free(xq); free(ws); free(xs); free(bias); free(y0); free(y1);
            }
    CHECK(longest >= 512, "linear_i16 run: trained-like rows only reached a run of %d", longest);
    CHECK(boundary > 0, "linear_i16 run: no boundary row had two whole run blocks");
}

/* F16 weights go to the scalar kernel through the table's linear_f32: still the same answer */
static void test_linear_f16(void) {
    const int in = 300, out = 5, n = 7;
    uint16_t *h = malloc((size_t)out * in * 2);
    float *x = malloc((size_t)n * in * sizeof(float));
    float y0[35], y1[35];
    for (int i = 0; i < out * in; i++) h[i] = bl_f32_to_f16(frand());
    for (int i = 0; i < n * in; i++) x[i] = frand();
    bl_tensor w = {0};
    w.dtype = BL_DT_F16; w.rows = out; w.cols = in; w.data = h;
    bl_k_linear_f32(y0, x, &w, NULL, n);
    K->linear_f32(y1, x, &w, NULL, n);
    CHECK(first_diff(y0, y1, 35) < 0, "linear_f32/F16 differs from scalar");
    free(h); free(x);
}

static void test_attention(void) {
    const int ds[] = {1, 7, 8, 31, 64, 65, 100};
    for (int a = 0; a < (int)(sizeof ds / sizeof ds[0]); a++)
        for (int c = 0; c < NN; c++) {
            const int d = ds[a], n = NS[c], stride = 3 * d + 5;   /* heads interleaved in a row */
            float *q = malloc(d * sizeof(float)), *kv = malloc((size_t)n * stride * sizeof(float));
            float *p0 = malloc(n * sizeof(float)), *p1 = malloc(n * sizeof(float));
            float *o0 = malloc(d * sizeof(float)), *o1 = malloc(d * sizeof(float));
            for (int i = 0; i < d; i++) q[i] = 3.0f * frand();
            for (size_t i = 0; i < (size_t)n * stride; i++) kv[i] = 3.0f * frand();
            const float scale = 0.125f + 0.01f * (float)d;
            float *kt = malloc((size_t)n * d * sizeof(float));
            bl_k_transpose_keys(kt, kv + 2, stride, n, d);
            bl_k_scores(p0, q, kt, n, d, scale);
            K->scores_rows(p1, n, q, d, 1, kt, n, d, scale);
            free(kt);
            long df = first_diff(p0, p1, (size_t)n);
            CHECK(df < 0, "scores d=%d n=%d: element %ld %.9g vs scalar %.9g", d, n, df,
                  df < 0 ? 0 : p1[df], df < 0 ? 0 : p0[df]);
            bl_k_softmax(p0, n);
            for (int i = 0; i < d; i++) o0[i] = o1[i] = frand();   /* accumulate onto non-zero */
            bl_k_pv(o0, p0, kv + 1, stride, n, d);
            K->pv_rows(o1, d, p0, n, 1, kv + 1, stride, n, d);
            df = first_diff(o0, o1, (size_t)d);
            CHECK(df < 0, "pv d=%d n=%d: element %ld %.9g vs scalar %.9g", d, n, df,
                  df < 0 ? 0 : o1[df], df < 0 ? 0 : o0[df]);
            free(q); free(kv); free(p0); free(p1); free(o0); free(o1);
        }
    /* blocks of query rows (bert.c calls these with up to 8): m odd and even, below and above
       the 4-row block, d with and without a multiple of 8 / 32, n with 0–15 keys after the
       blocks of 8 / 16 */
    const int ms[] = {1, 2, 3, 4, 5, 7, 8};
    const int d2[] = {8, 31, 32, 64, 72, 100};
    for (int a = 0; a < (int)(sizeof d2 / sizeof d2[0]); a++)
        for (int b = 0; b < (int)(sizeof ms / sizeof ms[0]); b++)
            for (int c = 0; c < NN; c++) {
                const int d = d2[a], m = ms[b], n = NS[c], stride = 2 * d + 3, ps = n + 5;
                float *q = malloc((size_t)m * stride * sizeof(float));
                float *kv = malloc((size_t)n * stride * sizeof(float));
                float *P0 = malloc((size_t)m * ps * sizeof(float)), *P1 = malloc((size_t)m * ps * sizeof(float));
                float *o0 = malloc((size_t)m * stride * sizeof(float)), *o1 = malloc((size_t)m * stride * sizeof(float));
                for (size_t i = 0; i < (size_t)m * stride; i++) { q[i] = 3.0f * frand(); o0[i] = o1[i] = frand(); }
                for (size_t i = 0; i < (size_t)n * stride; i++) kv[i] = 3.0f * frand();
                for (size_t i = 0; i < (size_t)m * ps; i++) P0[i] = P1[i] = -7.0f;   /* gaps untouched */
                float *kt = malloc((size_t)n * d * sizeof(float));
                bl_k_transpose_keys(kt, kv + 1, stride, n, d);
                for (int i = 0; i < m; i++)
                    bl_k_scores(P0 + (size_t)i * ps, q + (size_t)i * stride, kt, n, d, 0.3f);
                K->scores_rows(P1, ps, q, stride, m, kt, n, d, 0.3f);
                free(kt);
                long df = first_diff(P0, P1, (size_t)m * ps);
                CHECK(df < 0, "scores_rows d=%d m=%d n=%d: element %ld %.9g vs scalar %.9g", d, m, n, df,
                      df < 0 ? 0 : P1[df], df < 0 ? 0 : P0[df]);
                for (int i = 0; i < m; i++) bl_k_softmax(P0 + (size_t)i * ps, n);
                for (int i = 0; i < m; i++)
                    bl_k_pv(o0 + (size_t)i * stride, P0 + (size_t)i * ps, kv + 2, stride, n, d);
                K->pv_rows(o1, stride, P0, ps, m, kv + 2, stride, n, d);
                df = first_diff(o0, o1, (size_t)m * stride);
                CHECK(df < 0, "pv_rows d=%d m=%d n=%d: element %ld %.9g vs scalar %.9g", d, m, n, df,
                      df < 0 ? 0 : o1[df], df < 0 ? 0 : o0[df]);
                free(q); free(kv); free(P0); free(P1); free(o0); free(o1);
            }
    /* the scalar references spelled out: one running sum per key over the transposed keys, and
       bl_k_axpy per value row */
    float q[10], k[30], kt[30], p[3], out[10] = {0}, want[10] = {0};
    for (int i = 0; i < 10; i++) q[i] = frand();
    for (int i = 0; i < 30; i++) k[i] = frand();
    bl_k_transpose_keys(kt, k, 10, 3, 10);
    for (int j = 0; j < 3; j++)
        for (int c = 0; c < 10; c++) CHECK(kt[c * 3 + j] == k[j * 10 + c], "transpose j=%d c=%d", j, c);
    bl_k_scores(p, q, kt, 3, 10, 0.5f);
    for (int j = 0; j < 3; j++) {
        float a = 0.0f;
        for (int c = 0; c < 10; c++) a += q[c] * k[j * 10 + c];
        CHECK(p[j] == a * 0.5f, "bl_k_scores j=%d", j);
    }
    bl_k_pv(out, p, k, 10, 3, 10);
    for (int j = 0; j < 3; j++) bl_k_axpy(want, p[j], k + 10 * j, 10);
    CHECK(first_diff(out, want, 10) < 0, "bl_k_pv differs from bl_k_axpy per row");
}

/* bitwise equal, except that NaN matches any NaN (payloads are not part of the contract) */
static long first_diff_nan(const float *a, const float *b, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (!(a[i] != a[i] && b[i] != b[i]) && memcmp(&a[i], &b[i], sizeof(float)) != 0) return (long)i;
    return -1;
}

/* the table's layernorm against the scalar kernel, bit for bit: dims below, at and above the vector
   width, with and without a tail, a row with a large mean, a constant row, a row holding NaN. */
static void test_layernorm_simd(void) {
    static const int dims[] = {1, 3, 4, 7, 64, 257, 773};
    for (int a = 0; a < (int)(sizeof dims / sizeof dims[0]); a++) {
        const int dim = dims[a], n = 5;
        float *x0 = malloc((size_t)n * dim * sizeof(float)), *x1 = malloc((size_t)n * dim * sizeof(float));
        float *g = malloc(dim * sizeof(float)), *b = malloc(dim * sizeof(float));
        for (int i = 0; i < dim; i++) { g[i] = 1.0f + frand(); b[i] = frand(); }
        for (int t = 0; t < n; t++)
            for (int i = 0; i < dim; i++) {
                float v = 3.0f * frand();
                if (t == 1) v += 1000.0f;   /* |mean| >> std */
                if (t == 2) v = 0.25f;      /* constant: var 0, eps only */
                if (t == 3 && i == dim / 2) v = NAN;
                x0[(size_t)t * dim + i] = x1[(size_t)t * dim + i] = v;
            }
        bl_k_layernorm(x0, g, b, n, dim, 1e-12f);
        K->layernorm(x1, g, b, n, dim, 1e-12f);
        const long d = first_diff_nan(x0, x1, (size_t)n * dim);
        CHECK(d < 0, "layernorm dim=%d: element %ld %.9g vs scalar %.9g", dim, d, d < 0 ? 0 : x1[d], d < 0 ? 0 : x0[d]);
        free(x0); free(x1); free(g); free(b);
    }
}

/* the table's to_u16 against the scalar definition, including values outside [0, 1], NaN, ±inf and
   the rounding boundaries, at lengths with and without a vector tail. */
static void test_to_u16(void) {
    static const float special[] = {0.0f, -0.0f, 1.0f, 0.5f / 65535, 1.5f / 65535, 0.99999f, 1.00001f,
                                    -1e-9f, -3.0f, 2.0f, 1e30f, -1e30f, INFINITY, -INFINITY, NAN};
    const int ns = (int)(sizeof special / sizeof special[0]);
    for (int len = 1; len <= 67; len += 11) {
        float *x = malloc(len * sizeof(float));
        uint16_t *a = malloc(len * sizeof *a), *b = malloc(len * sizeof *b);
        for (int i = 0; i < len; i++) x[i] = i % 3 == 0 ? special[(i / 3) % ns] : 0.5f + 0.6f * frand();
        bl_k_to_u16(a, x, (size_t)len);
        K->to_u16(b, x, (size_t)len);
        int bad = -1;
        for (int i = 0; i < len && bad < 0; i++) if (a[i] != b[i]) bad = i;
        CHECK(bad < 0, "to_u16 len=%d: element %d (%g): %u vs scalar %u", len, bad, bad < 0 ? 0.0 : x[bad],
              bad < 0 ? 0 : b[bad], bad < 0 ? 0 : a[bad]);
        free(x); free(a); free(b);
    }
    float v[6] = {0.0f, 1.0f, 0.5f / 65535 - 1e-9f, 0.5f / 65535 + 1e-9f, NAN, 7.0f};
    uint16_t q[6];
    bl_k_to_u16(q, v, 6);
    CHECK(q[0] == 0 && q[1] == 65535 && q[2] == 0 && q[3] == 1 && q[4] == 0 && q[5] == 65535,
          "to_u16 reference: %u %u %u %u %u %u", q[0], q[1], q[2], q[3], q[4], q[5]);
}

static void test_quantize_softmax(void) {
    const int cols_[] = {1, 7, 31, 32, 33, 100, 773};
    for (int a = 0; a < (int)(sizeof cols_ / sizeof cols_[0]); a++)
        for (int c = 0; c < NN; c++) {
            const int cols = cols_[a], n = NS[c];
            const size_t len = (size_t)n * cols;
            float *x = malloc(len * sizeof(float)), *x2 = malloc(len * sizeof(float));
            float *s0 = malloc(n * sizeof(float)), *s1 = malloc(n * sizeof(float));
            int16_t *q0 = malloc(len * sizeof *q0), *q1 = malloc(len * sizeof *q1);
            const int Q = bl_k_qmax(cols);
            for (size_t i = 0; i < len; i++) x[i] = 8.0f * frand();
            for (int t = 0; t < n; t++) {
                float *r = x + (size_t)t * cols;
                switch (t % 8) {
                case 1: memset(r, 0, cols * sizeof(float)); break;            /* all zero */
                case 2: r[cols / 2] = 0.0f / 0.0f; break;                     /* NaN */
                case 3: r[cols - 1] = 1.0f / 0.0f; break;                     /* inf */
                case 4:   /* max exactly Q (inv = 1): every .5 is a tie, rounded to even */
                    for (int i = 0; i < cols; i++) r[i] = (float)((int)(rnd() % (2u * Q)) - Q) + 0.5f;
                    r[0] = (float)Q;
                    break;
                case 5: r[cols - 1] = -100.0f; break;                         /* max in the tail */
                default: break;
                }
            }
            bl_k_quantize_rows(q0, s0, x, n, cols);
            K->quantize_rows(q1, s1, x, n, cols);
            long d = -1;
            for (size_t i = 0; i < len && d < 0; i++) if (q0[i] != q1[i]) d = (long)i;
            CHECK(d < 0, "quantize_rows cols=%d n=%d: q[%ld] = %d vs scalar %d", cols, n, d,
                  d < 0 ? 0 : q1[d], d < 0 ? 0 : q0[d]);
            d = first_diff(s0, s1, (size_t)n);
            CHECK(d < 0, "quantize_rows cols=%d n=%d: scale[%ld] %.9g vs scalar %.9g", cols, n, d,
                  d < 0 ? 0 : s1[d], d < 0 ? 0 : s0[d]);
            /* the 16-bit version on the same rows (ties at max = 32767 in row 7 of 8) */
            for (int t = 7; t < n; t += 8) {
                float *r = x + (size_t)t * cols;
                for (int i = 0; i < cols; i++) r[i] = (float)((int)(rnd() % 65534) - 32767) + 0.5f;
                r[0] = 32767.0f;
            }
            bl_k_quantize_rows16(q0, s0, x, n, cols);
            K->quantize_rows16(q1, s1, x, n, cols);
            d = -1;
            for (size_t i = 0; i < len && d < 0; i++) if (q0[i] != q1[i]) d = (long)i;
            CHECK(d < 0, "quantize_rows16 cols=%d n=%d: q[%ld] = %d vs scalar %d", cols, n, d,
                  d < 0 ? 0 : q1[d], d < 0 ? 0 : q0[d]);
            d = first_diff(s0, s1, (size_t)n);
            CHECK(d < 0, "quantize_rows16 cols=%d n=%d: scale[%ld] %.9g vs scalar %.9g", cols, n, d,
                  d < 0 ? 0 : s1[d], d < 0 ? 0 : s0[d]);
            /* softmax of each row (rows with NaN / inf too: all NaN either way) */
            memcpy(x2, x, len * sizeof(float));
            for (int t = 0; t < n; t++) {
                float *r = x + (size_t)t * cols, *r2 = x2 + (size_t)t * cols;
                if (t % 8 == 6) for (int i = 0; i < cols; i += 2) r[i] = r2[i] = -1.0f / 0.0f;
                bl_k_softmax(r, cols);
                K->softmax(r2, cols);
            }
            d = first_diff_nan(x, x2, len);
            CHECK(d < 0, "softmax cols=%d n=%d: element %ld %.9g vs scalar %.9g", cols, n, d,
                  d < 0 ? 0 : x2[d], d < 0 ? 0 : x[d]);
            free(x); free(x2); free(s0); free(s1); free(q0); free(q1);
        }
}

/* Activations (GELU's vector erf) bit for bit, on random values, a dense grid across erf's
   clamp and the special values, at lengths that leave every tail. */
static void test_act(void) {
    const size_t lens[] = {1, 3, 4, 5, 17, 1000, 4099};
    const float special[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 4.0f * 1.41421356f, -4.0f * 1.41421356f,
                             1e30f, -1e30f, INFINITY, -INFINITY, NAN, 3.4e38f, -3.4e38f};
    for (int act = BL_ACT_GELU; act <= BL_ACT_RELU; act++)
        for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
            const size_t len = lens[li];
            float *a = malloc(len * sizeof(float)), *b = malloc(len * sizeof(float));
            for (size_t i = 0; i < len; i++) {
                a[i] = i % 5 == 4 ? special[i / 5 % (sizeof special / sizeof *special)]
                     : i % 5 == 3 ? -8.0f + 16.0f * (float)i / (float)len
                     : 6.0f * (2.0f * (float)rand() / (float)RAND_MAX - 1.0f);
                b[i] = a[i];
            }
            bl_k_act(a, len, act);
            K->act(b, len, act);
            long d = first_diff_nan(a, b, len);
            CHECK(d < 0, "act %d len %zu: element %ld %.9g vs scalar %.9g", act, len, d,
                  d < 0 ? 0 : b[d], d < 0 ? 0 : a[d]);
            free(a); free(b);
        }
}

/* The whole forward through bert.c with the optimised kernels and with the scalar ones: every
   attention map, the hidden state and MLM logits bit-identical, in both precisions. An
   attention-only forward (bl_ctx_set_attention_only) gives the same maps, queries and keys,
   and no hidden state or MLM logits, which it did not compute. Head sizes
   64 (the vector paths) and 24 (tails everywhere); n up to 33 covers the 8-row blocks. */
/* A forward through each table against the scalar table's, on a random model written as int8
   or int16. With int16, the SHA-256 of the scalar forward's outputs is printed ("int16 forward
   sha256"): tests/run_wasm_units.sh compares the native line with the WebAssembly one. */
static void test_forward(int hidden, int heads, int inter, int dtype) {
    bl_config cfg = {.vocab_size = 40, .hidden = hidden, .layers = 2, .heads = heads,
                     .intermediate = inter, .max_pos = 40, .type_vocab = 2, .ln_eps = 1e-12f,
                     .act = BL_ACT_GELU, .lowercase = 1, .strip_accents = -1, .chinese_chars = 1,
                     .has_mlm = 1};
    char vocab[40 * 8];
    size_t vl = 0;
    const char *spec[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < 40; i++)
        vl += (size_t)(i < 5 ? snprintf(vocab + vl, sizeof vocab - vl, "%s\n", spec[i])
                             : snprintf(vocab + vl, sizeof vocab - vl, "t%d\n", i));
    bl_wtensor t[64];
    char names[64][96];
    float *data[64];
    int nt = 0;
    for (int i = 0; nt < 64; i++) {
        int rows, cols, kind;
        if (bl_canonical_tensor(&cfg, i, names[nt], sizeof names[nt], &rows, &cols, &kind) < 0) break;
        if (kind == 2) continue;
        data[nt] = malloc((size_t)rows * cols * sizeof(float));
        const int ln_g = strstr(names[nt], "LayerNorm.weight") != NULL;
        for (int k = 0; k < rows * cols; k++) data[nt][k] = ln_g ? 1.0f + 0.1f * frand() : 0.3f * frand();
        t[nt] = (bl_wtensor){names[nt], rows, cols, data[nt]};
        nt++;
    }
    uint8_t *buf = NULL;
    size_t blen = 0;
    bl_err e = {{0}};
    CHECK(bl_model_write(&cfg, dtype, vocab, vl, t, nt, &buf, &blen, &e) == 0, "write: %s", e.msg);
    bl_sha256_ctx hs;
    bl_sha256_init(&hs);
    bl_model *m = buf ? bl_model_load(buf, blen, 0, &e) : NULL;
    CHECK(m != NULL, "load: %s", e.msg);
    if (m) {
        /* two contexts with different tables, used in turn: the choice is each context's own */
        bl_ctx *c0 = bl_ctx_new(m, &e), *c1 = bl_ctx_new(m, &e), *c2 = bl_ctx_new(m, &e);
        bl_ctx_set_kernels(c0, bl_kernels_scalar());
        bl_ctx_set_kernels(c1, K);
        bl_ctx_set_kernels(c2, K);
        bl_ctx_set_attention_only(c2, 1);
        const int ns[] = {1, 7, 33};
        for (int a = 0; a < 3; a++)
            for (int prec = 0; prec < 2; prec++) {
                const int n = ns[a];
                int ids[40];
                for (int i = 0; i < n; i++) ids[i] = i == 0 ? 2 : i == n - 1 ? 3 : 5 + (int)(rnd() % 35);
                CHECK(bl_forward(c0, ids, NULL, n, prec, &e) == 0, "forward: %s", e.msg);
                CHECK(bl_forward(c1, ids, NULL, n, prec, &e) == 0, "forward: %s", e.msg);
                const size_t na = (size_t)2 * heads * n * n, nh = (size_t)n * hidden;
                long d = first_diff(bl_attention(c0), bl_attention(c1), na);
                CHECK(d < 0, "forward hidden=%d heads=%d n=%d prec=%d: attention[%ld] differs", hidden, heads, n, prec, d);
                d = first_diff(bl_hidden(c0), bl_hidden(c1), nh);
                CHECK(d < 0, "forward hidden=%d heads=%d n=%d prec=%d: hidden[%ld] differs", hidden, heads, n, prec, d);
                float l0[40], l1[40];
                CHECK(bl_mlm_logits(c0, n / 2, l0, &e) == 0, "mlm: %s", e.msg);
                CHECK(bl_mlm_logits(c1, n / 2, l1, &e) == 0, "mlm: %s", e.msg);
                CHECK(first_diff(l0, l1, 40) < 0, "forward hidden=%d n=%d prec=%d: MLM logits differ", hidden, n, prec);
                bl_sha256_update(&hs, bl_attention(c0), na * sizeof(float));
                bl_sha256_update(&hs, bl_hidden(c0), nh * sizeof(float));
                bl_sha256_update(&hs, l0, sizeof l0);
                CHECK(bl_forward(c2, ids, NULL, n, prec, &e) == 0, "forward: %s", e.msg);
                d = first_diff(bl_attention(c1), bl_attention(c2), na);
                CHECK(d < 0, "attention only hidden=%d n=%d prec=%d: attention[%ld] differs", hidden, n, prec, d);
                for (int l = 0; l < 2; l++)
                    CHECK(first_diff(bl_query(c1, l), bl_query(c2, l), nh) < 0 &&
                          first_diff(bl_key(c1, l), bl_key(c2, l), nh) < 0,
                          "attention only hidden=%d n=%d prec=%d: layer %d queries or keys differ", hidden, n, prec, l);
                CHECK(bl_hidden(c2) == NULL && bl_mlm_logits(c2, 0, l1, &e) != 0 && strstr(e.msg, "attention maps only"),
                      "attention only: no hidden state, MLM refused (%s)", e.msg);
            }
        /* switched off, the next forward is whole again */
        if (dtype == BL_DT_I16) {
            uint8_t d[32];
            bl_sha256_final(&hs, d);
            printf("int16 forward sha256 hidden=%d heads=%d ", hidden, heads);
            for (int i = 0; i < 32; i++) printf("%02x", d[i]);
            printf("\n");
        }
        bl_ctx_set_attention_only(c2, 0);
        int ids[3] = {2, 7, 3};
        CHECK(bl_forward(c2, ids, NULL, 3, 0, &e) == 0 && bl_hidden(c2) != NULL, "attention only off: hidden state back");
        bl_ctx_free(c0);
        bl_ctx_free(c1);
        bl_ctx_free(c2);
        bl_model_free(m);
    }
    free(buf);
    for (int i = 0; i < nt; i++) free(data[i]);
}

/* Which tables exist and which one a context gets: the scalar table is the bl_k_* functions
   themselves; a SIMD128 build has its table and uses it; natively AVX2 exactly when the CPU
   has it; a new context takes the best, bl_ctx_set_kernels changes it and NULL restores it. */
static void test_tables(void) {
    const bl_kernels *S = bl_kernels_scalar(), *best = bl_kernels_best();
    CHECK(S && !strcmp(S->name, "scalar") && S->linear_q8 == bl_k_linear_q8 &&
          S->linear_f32 == bl_k_linear_f32 && S->quantize_rows == bl_k_quantize_rows &&
          S->scores_rows == bl_k_scores_rows && S->pv_rows == bl_k_pv_rows &&
          S->softmax == bl_k_softmax && S->layernorm == bl_k_layernorm && S->act == bl_k_act &&
          S->to_u16 == bl_k_to_u16 && S->linear_i16 == bl_k_linear_i16 &&
          S->quantize_rows16 == bl_k_quantize_rows16, "the scalar table is the bl_k_* kernels");
#if defined(__wasm_simd128__)
    CHECK(bl_kernels_simd128() && best == bl_kernels_simd128() && !bl_kernels_avx2(),
          "a SIMD128 build runs the %s kernels", best->name);
#elif defined(__x86_64__)
    __builtin_cpu_init();
    CHECK(!bl_kernels_simd128() && !bl_kernels_avx2() == !__builtin_cpu_supports("avx2"),
          "AVX2 table offered exactly when the CPU has AVX2");
    if (!getenv("BERTLENS_KERNELS"))
        CHECK(best == (bl_kernels_avx2() ? bl_kernels_avx2() : S), "best here: %s", best->name);
#else
    CHECK(!bl_kernels_simd128() && !bl_kernels_avx2() && best == S, "best here: %s", best->name);
#endif
    const bl_kernels *all[3] = {S, bl_kernels_avx2(), bl_kernels_simd128()};
    for (int i = 0; i < 3; i++)
        if (all[i])
            CHECK(all[i]->name && all[i]->linear_q8 && all[i]->linear_f32 && all[i]->quantize_rows &&
                  all[i]->scores_rows && all[i]->pv_rows && all[i]->softmax && all[i]->layernorm &&
                  all[i]->act && all[i]->to_u16 && all[i]->linear_i16 && all[i]->quantize_rows16,
                  "table %d has every entry", i);
    const bl_config cfg = {.vocab_size = 8, .hidden = 8, .layers = 1, .heads = 2, .intermediate = 8,
                           .max_pos = 4, .type_vocab = 1, .ln_eps = 1e-12f, .act = BL_ACT_GELU};
    bl_model fake = {0};
    fake.cfg = cfg;
    bl_err e = {{0}};
    bl_ctx *c = bl_ctx_new(&fake, &e);
    CHECK(c && bl_ctx_kernels(c) == best, "a new context takes the best table");
    bl_ctx_set_kernels(c, S);
    CHECK(bl_ctx_kernels(c) == S, "bl_ctx_set_kernels sets the table");
    bl_ctx_set_kernels(c, NULL);
    CHECK(bl_ctx_kernels(c) == best, "NULL restores the best table");
    bl_ctx_free(c);
}

int main(void) {
    test_tables();
    /* every vector table this build and CPU have (none: only the table checks above) */
    const bl_kernels *tables[2] = {bl_kernels_avx2(), bl_kernels_simd128()};
    for (int i = 0; i < 2; i++) {
        if (!(K = tables[i])) continue;
        printf("test_kernels_simd: the %s table against the scalar kernels\n", K->name);
        test_linear();
        test_linear_i16();
        test_linear_i16_run();
        test_linear_f16();
        test_attention();
        test_quantize_softmax();
        test_to_u16();
        test_layernorm_simd();
        test_act();
        for (int dt = BL_DT_I8; dt <= BL_DT_I16; dt++) {
            test_forward(128, 2, 200, dt);   /* d = 64 */
            test_forward(72, 3, 100, dt);    /* d = 24 */
        }
    }
    return check_summary("test_kernels_simd");
}
