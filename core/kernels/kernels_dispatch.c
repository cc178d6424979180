/* kernels_dispatch.c — which table a context gets (bl_kernels_best), and the loop drivers the
   vector tables share (bl_k_*_walk): the blocking, the leftovers and the epilogues are written
   once here, the targets supply only their block kernels (see kernels.h). */
#include "kernels/kernels.h"
#include "kernels/kernels_relaxed.h"
#include <stdlib.h>
#include <string.h>

const bl_kernels *bl_kernels_best(void) {
    const char *e = getenv("BERTLENS_KERNELS");
    if (e && strcmp(e, "scalar") == 0) return bl_kernels_scalar();
    /* a core compiled with -mrelaxed-simd (tools/build_relaxed.sh; the page loads it only where
       the browser validates relaxed SIMD) runs its int8 linear, bit-identical to SIMD128's */
    const bl_kernels *k = bl_kernels_relaxed();
    if (!k) k = bl_kernels_simd128();
    if (!k) k = bl_kernels_avx2();
    return k ? k : bl_kernels_scalar();
}

int bl_k_chunk(int in, size_t elem) {
    const int tt = (int)(65536 / ((size_t)in * elem));
    return tt < 4 ? 4 : tt;
}

void bl_k_q8_store(float *y, int out, const int32_t *res, int R, int T, int o, int t,
                   const float *xs, const float *ws, const float *bias) {
    for (int r = 0; r < R; r++)
        for (int k = 0; k < T; k++)
            y[(size_t)(t + k) * out + o + r] =
                (float)res[r * T + k] * (xs[t + k] * ws[o + r]) + (bias ? bias[o + r] : 0.0f);
}

void bl_k_linear_q8_walk(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                         const float *bias, int n, bl_q8_blk *const blk[2][2]) {
    const int in = w->cols, out = w->rows;
    const int8_t *W = (const int8_t *)w->data;
    const int tt = bl_k_chunk(in, sizeof *xq);
    int32_t res[8];
    for (int t0 = 0; t0 < n; t0 += tt) {
        const int t1 = t0 + tt < n ? t0 + tt : n;
        for (int o = 0; o < out; o += 4) {
            const int R = out - o < 4 ? out - o : 4, rb = R == 4 ? 4 : 1;
            for (int t = t0; t < t1; t += 2) {
                const int T = t1 - t < 2 ? t1 - t : 2;
                for (int r0 = 0; r0 < R; r0 += rb) {
                    blk[rb == 4][T == 2](res, W + (size_t)(o + r0) * in, xq + (size_t)t * in, in);
                    bl_k_q8_store(y, out, res, rb, T, o + r0, t, xs, w->scale, bias);
                }
            }
        }
    }
}

void bl_k_linear_f32_walk(float *y, const float *x, const bl_tensor *w, const float *bias,
                          int n, bl_dot4_fn *dot4) {
    if (w->dtype != BL_DT_F32 && w->dtype != BL_DT_I8) {
        bl_k_linear_f32(y, x, w, bias, n);   /* F16: the scalar chunked widening */
        return;
    }
    const int in = w->cols, out = w->rows, i8 = w->dtype == BL_DT_I8;
    const int tt = bl_k_chunk(in, sizeof(float));
    float res[4];
    for (int t0 = 0; t0 < n; t0 += tt) {
        const int t1 = t0 + tt < n ? t0 + tt : n;
        for (int o = 0; o < out; o++) {
            const void *wr = i8 ? (const void *)((const int8_t *)w->data + (size_t)o * in)
                                : (const void *)((const float *)w->data + (size_t)o * in);
            const float b = bias ? bias[o] : 0.0f;
            for (int t = t0; t < t1; t += 4) {
                const int T = t1 - t < 4 ? t1 - t : 4;
                dot4(res, wr, i8, x + (size_t)t * in, (size_t)in, in, T);
                for (int k = 0; k < T; k++)
                    y[(size_t)(t + k) * out + o] = i8 ? res[k] * w->scale[o] + b : res[k] + b;
            }
        }
    }
}

void bl_k_scores_walk(float *P, int pstride, const float *q, int qstride, int m, const float *kt,
                      int n, int d, float scale, int width, bl_scores_blk *const blk[2][2]) {
    for (int i = 0; i < m; i += 4) {
        const int R = m - i < 4 ? 1 : 4, rows = m - i < 4 ? m - i : 4;
        for (int r = 0; r < rows; r += R) {
            float *Pr = P + (size_t)(i + r) * pstride;
            const float *qr = q + (size_t)(i + r) * qstride;
            int j = 0;
            for (; j + 2 * width <= n; j += 2 * width) blk[R == 4][1](Pr, pstride, qr, qstride, kt, n, j, d, scale);
            for (; j + width <= n; j += width) blk[R == 4][0](Pr, pstride, qr, qstride, kt, n, j, d, scale);
            for (; j < n; j++)
                for (int rr = 0; rr < R; rr++) {
                    float a = 0.0f;
                    for (int c = 0; c < d; c++) a += qr[(size_t)rr * qstride + c] * kt[(size_t)c * n + j];
                    Pr[(size_t)rr * pstride + j] = a * scale;
                }
        }
    }
}

void bl_k_pv_walk(float *out, int ostride, const float *P, int pstride, int m, const float *v,
                  int vstride, int n, int d, int width, bl_pv2_fn *pv2, bl_pv1_fn *pv1) {
    int i = 0;
    if (d >= width) {
        const int dw = d & ~(width - 1);
        for (; i + 2 <= m; i += 2) {
            float *o0 = out + (size_t)i * ostride, *o1 = o0 + ostride;
            const float *p0 = P + (size_t)i * pstride, *p1 = p0 + pstride;
            pv2(o0, o1, p0, p1, v, vstride, n, dw);
            if (dw < d) {
                pv1(o0 + dw, p0, v + dw, vstride, n, d - dw);
                pv1(o1 + dw, p1, v + dw, vstride, n, d - dw);
            }
        }
    }
    for (; i < m; i++) pv1(out + (size_t)i * ostride, P + (size_t)i * pstride, v, vstride, n, d);
}

void bl_k_quantize_walk(int16_t *q, float *scale, const float *x, int n, int cols,
                        bl_quantize_row_fn *row) {
    for (int t = 0; t < n; t++)
        if (row(q + (size_t)t * cols, scale + t, x + (size_t)t * cols, cols) < 0)
            bl_k_quantize_rows(q + (size_t)t * cols, scale + t, x + (size_t)t * cols, 1, cols);
}

void bl_k_linear_i16_walk(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                          const float *bias, int n, int R, bl_i16_blk *const blk[2][2]) {
    const int in = w->cols, out = w->rows;
    const int16_t *W = (const int16_t *)w->data;
    const int tt = bl_k_chunk(in, sizeof *xq);
    int64_t res[8];
    for (int t0 = 0; t0 < n; t0 += tt) {
        const int t1 = t0 + tt < n ? t0 + tt : n;
        for (int o = 0; o < out; o += R) {
            const int rows = out - o < R ? out - o : R, rb = rows == R ? R : 1;
            for (int t = t0; t < t1; t += 2) {
                const int T = t1 - t < 2 ? t1 - t : 2;
                for (int r0 = 0; r0 < rows; r0 += rb) {
                    blk[rb == R][T == 2](res, W + (size_t)(o + r0) * in, xq + (size_t)t * in, in);
                    for (int r = 0; r < rb; r++)
                        for (int k = 0; k < T; k++)
                            y[(size_t)(t + k) * out + o + r0 + r] =
                                (float)res[r * T + k] * (xs[t + k] * w->scale[o + r0 + r]) +
                                (bias ? bias[o + r0 + r] : 0.0f);
                }
            }
        }
    }
}

void bl_k_quantize16_walk(int16_t *q, float *scale, const float *x, int n, int cols,
                          bl_quantize_rowq_fn *row) {
    for (int t = 0; t < n; t++)
        if (row(q + (size_t)t * cols, scale + t, x + (size_t)t * cols, cols, BL_K_Q16) < 0)
            bl_k_quantize_rows16(q + (size_t)t * cols, scale + t, x + (size_t)t * cols, 1, cols);
}

int bl_k_i16_run(const int16_t *q, int rows, int cols) {
    /* per row: the class sums of each 64-input block, merged into aligned groups level by
       level; best = the largest level whose groups all stay within the budget */
    const int nb = (cols + 63) / 64;
    int best = 0;   /* levels above the one whose single group covers the row add nothing */
    while ((1 << best) < nb) best++;
    int64_t grp[32][4];
    for (int r = 0; r < rows && best > 0; r++) {
        const int16_t *row = q + (size_t)r * cols;
        memset(grp, 0, (size_t)(best + 1) * sizeof grp[0]);   /* only the levels still in play */
        for (int b = 0; b < nb; b++) {
            int64_t s[4] = {0, 0, 0, 0};
            const int i1 = cols - 64 * b < 64 ? cols : 64 * b + 64;
            int i = 64 * b;
            for (int32_t u0 = 0, u1 = 0, u2 = 0, u3 = 0;; i += 8) {   /* unrolled: bert-base 85 → 57 ms in WebAssembly */
                if (i + 8 > i1) { s[0] += u0; s[1] += u1; s[2] += u2; s[3] += u3; break; }
                u0 += abs(row[i]) + abs(row[i + 1]); u1 += abs(row[i + 2]) + abs(row[i + 3]);
                u2 += abs(row[i + 4]) + abs(row[i + 5]); u3 += abs(row[i + 6]) + abs(row[i + 7]);
            }
            for (; i < i1; i++) s[(i >> 1) & 3] += abs(row[i]);
            for (int k = 1; k <= best; k++) {
                for (int c = 0; c < 4; c++) grp[k][c] += s[c];
                int over = 0;
                for (int c = 0; c < 4; c++) over |= grp[k][c] > BL_K_I16_LANE_SUM;
                if (over) { best = k - 1; break; }
                if ((b + 1) % (1 << k) == 0) memset(grp[k], 0, sizeof grp[k]);
            }
        }
    }
    return 64 << best;
}

void bl_k_row_sums_i8(int32_t *out, const int8_t *w, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        const int8_t *row = w + (size_t)r * cols;
        int32_t s = 0;
        for (int c = 0; c < cols; c++) s += row[c];   /* vectorized by the compiler */
        out[r] = s;
    }
}
