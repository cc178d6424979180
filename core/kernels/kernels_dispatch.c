/* kernels_dispatch.c — the scalar attention kernels (the reference for bl_kf_scores_rows / bl_kf_pv)
   and, on targets with neither WASM SIMD128 nor x86-64, the bl_kf_* entry points as plain
   calls to the scalar kernels, so bert.c has one set of names everywhere (see kernels.h). */
#include "kernels/kernels.h"

void bl_k_transpose_keys(float *kt, const float *k, int kstride, int n, int d) {
    for (int j = 0; j < n; j++)
        for (int c = 0; c < d; c++) kt[(size_t)c * n + j] = k[(size_t)j * kstride + c];
}

/* p[j] is each key's running sum over c (a product rounded, then added): the order the vector
   kernels have with one key per lane. */
void bl_k_scores(float *p, const float *q, const float *kt, int n, int d, float scale) {
    for (int j = 0; j < n; j++) p[j] = 0.0f;
    for (int c = 0; c < d; c++)
        for (int j = 0; j < n; j++) p[j] += q[c] * kt[(size_t)c * n + j];
    for (int j = 0; j < n; j++) p[j] *= scale;
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

void bl_k_pv(float *out, const float *p, const float *v, int vstride, int n, int d) {
    for (int j = 0; j < n; j++) bl_k_axpy(out, p[j], v + (size_t)j * vstride, d);
}

#if !defined(__x86_64__) && !defined(__wasm_simd128__)
/* Row at a time through the scalar kernels (x86 and wasm have blocked versions). */
void bl_kf_scores_rows(float *P, int pstride, const float *q, int qstride, int m,
                       const float *kt, int n, int d, float scale) {
    for (int i = 0; i < m; i++) bl_k_scores(P + (size_t)i * pstride, q + (size_t)i * qstride, kt, n, d, scale);
}
void bl_kf_pv_rows(float *out, int ostride, const float *P, int pstride, int m,
                   const float *v, int vstride, int n, int d) {
    for (int i = 0; i < m; i++)
        bl_kf_pv(out + (size_t)i * ostride, P + (size_t)i * pstride, v, vstride, n, d);
}
#endif

#if !defined(__wasm_simd128__) && !defined(__x86_64__)
void bl_kf_linear_q8(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                     const float *bias, int n) {
    bl_k_linear_q8(y, xq, xs, w, bias, n);
}
void bl_kf_linear_f32(float *y, const float *x, const bl_tensor *w, const float *bias, int n) {
    bl_k_linear_f32(y, x, w, bias, n);
}
void bl_kf_pv(float *out, const float *p, const float *v, int vstride, int n, int d) {
    bl_k_pv(out, p, v, vstride, n, d);
}
void bl_kf_quantize_rows(int16_t *q, float *scale, const float *x, int n, int cols) {
    bl_k_quantize_rows(q, scale, x, n, cols);
}
void bl_kf_softmax(float *x, int len) { bl_k_softmax(x, len); }
void bl_kf_act(float *x, size_t len, int act) { bl_k_act(x, len, act); }
void bl_kf_to_u16(uint16_t *dst, const float *src, size_t len) { bl_k_to_u16(dst, src, len); }
void bl_kf_layernorm(float *x, const float *g, const float *b, int n, int dim, float eps) {
    bl_k_layernorm(x, g, b, n, dim, eps);
}
const char *bl_kf_name(void) { return "scalar"; }
void bl_kf_force_scalar(int on) { (void)on; }
#endif
