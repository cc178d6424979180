/* kernels_scalar.c — the scalar reference kernels (bl_k_*) and the scalar table (see kernels.h).

   Written for clarity first: these are the definition the vector tables are tested against,
   and what runs on targets without one. Loop orders still keep one weight row hot while it
   meets every token, which is what makes the scalar path usable on bert-base. */
#include "kernels/kernels.h"
#include <math.h>
#include <string.h>

/* F16 rows are widened in chunks into a stack buffer: no allocation, and each weight element
   is converted once per forward instead of once per token. */
#define BL_K_CHUNK 256

static float bl_k_dot_i8(const int8_t *q, const float *x, int len);
static float bl_k_dot_i16(const int16_t *q, const float *x, int len);

void bl_k_linear_f32(float *y, const float *x, const bl_tensor *w, const float *bias, int n) {
    const int in = w->cols, out = w->rows;
    for (int o = 0; o < out; o++) {
        const float b = bias ? bias[o] : 0.0f;
        if (w->dtype == BL_DT_F32) {
            const float *wr = (const float *)w->data + (size_t)o * in;
            for (int t = 0; t < n; t++) y[(size_t)t * out + o] = bl_k_dot(wr, x + (size_t)t * in, in) + b;
        } else if (w->dtype == BL_DT_I8) {
            /* dequantize on the fly: Σ q·x then × scale (the scale is common to the row) */
            const int8_t *wr = (const int8_t *)w->data + (size_t)o * in;
            const float s = w->scale[o];
            for (int t = 0; t < n; t++) y[(size_t)t * out + o] = bl_k_dot_i8(wr, x + (size_t)t * in, in) * s + b;
        } else if (w->dtype == BL_DT_I16) {
            const int16_t *wr = (const int16_t *)w->data + (size_t)o * in;
            const float s = w->scale[o];
            for (int t = 0; t < n; t++) y[(size_t)t * out + o] = bl_k_dot_i16(wr, x + (size_t)t * in, in) * s + b;
        } else {
            const uint16_t *wr = (const uint16_t *)w->data + (size_t)o * in;
            float buf[BL_K_CHUNK];
            for (int t = 0; t < n; t++) y[(size_t)t * out + o] = b;
            for (int c0 = 0; c0 < in; c0 += BL_K_CHUNK) {
                const int len = in - c0 < BL_K_CHUNK ? in - c0 : BL_K_CHUNK;
                for (int i = 0; i < len; i++) buf[i] = bl_f16_to_f32(wr[c0 + i]);
                for (int t = 0; t < n; t++)
                    y[(size_t)t * out + o] += bl_k_dot(buf, x + (size_t)t * in + c0, len);
            }
        }
    }
}

static void bl_k_quantize_rows_q(int16_t *q, float *scale, const float *x, int n, int cols, int Q);

void bl_k_quantize_rows(int16_t *q, float *scale, const float *x, int n, int cols) {
    bl_k_quantize_rows_q(q, scale, x, n, cols, bl_k_qmax(cols));
}

void bl_k_quantize_rows16(int16_t *q, float *scale, const float *x, int n, int cols) {
    bl_k_quantize_rows_q(q, scale, x, n, cols, BL_K_Q16);
}

static void bl_k_quantize_rows_q(int16_t *q, float *scale, const float *x, int n, int cols, int Q) {
    for (int t = 0; t < n; t++) {
        const float *xr = x + (size_t)t * cols;
        int16_t *qr = q + (size_t)t * cols;
        float m = 0.0f;
        for (int i = 0; i < cols; i++) m = fmaxf(m, fabsf(xr[i]));
        if (!(m > 0.0f) || !isfinite(m)) {   /* all zero (or garbage in): contribute nothing */
            memset(qr, 0, (size_t)cols * sizeof *qr);
            scale[t] = 0.0f;
            continue;
        }
        /* Multiply by the inverse and round half to even (lrintf in the default rounding mode),
           which is what SIMD convert instructions do, so vector kernels can match exactly. */
        const float inv = (float)Q / m;
        for (int i = 0; i < cols; i++) {
            long v = lrintf(xr[i] * inv);
            qr[i] = (int16_t)(v > Q ? Q : v < -Q ? -Q : v);
        }
        scale[t] = m / (float)Q;
    }
}

void bl_k_linear_q8(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                    const float *bias, int n) {
    const int in = w->cols, out = w->rows;
    for (int o = 0; o < out; o++) {
        const int8_t *wr = (const int8_t *)w->data + (size_t)o * in;
        const float ws = w->scale[o], b = bias ? bias[o] : 0.0f;
        for (int t = 0; t < n; t++) {
            const int16_t *xr = xq + (size_t)t * in;
            int32_t acc = 0;
            for (int i = 0; i < in; i++) acc += (int32_t)xr[i] * (int32_t)wr[i];
            y[(size_t)t * out + o] = (float)acc * (xs[t] * ws) + b;
        }
    }
}

void bl_k_linear_i16(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                     const float *bias, int n) {
    const int in = w->cols, out = w->rows;
    for (int o = 0; o < out; o++) {
        const int16_t *wr = (const int16_t *)w->data + (size_t)o * in;
        const float ws = w->scale[o], b = bias ? bias[o] : 0.0f;
        for (int t = 0; t < n; t++) {
            const int16_t *xr = xq + (size_t)t * in;
            int64_t acc = 0;
            for (int i = 0; i < in; i++) acc += (int32_t)xr[i] * (int32_t)wr[i];
            y[(size_t)t * out + o] = (float)acc * (xs[t] * ws) + b;
        }
    }
}

void bl_k_row_f32(float *out, const bl_tensor *t, int row) {
    const int cols = t->cols;
    if (t->dtype == BL_DT_F32) {
        memcpy(out, (const float *)t->data + (size_t)row * cols, (size_t)cols * sizeof(float));
    } else if (t->dtype == BL_DT_F16) {
        const uint16_t *h = (const uint16_t *)t->data + (size_t)row * cols;
        for (int i = 0; i < cols; i++) out[i] = bl_f16_to_f32(h[i]);
    } else if (t->dtype == BL_DT_I16) {
        const int16_t *q = (const int16_t *)t->data + (size_t)row * cols;
        const float s = t->scale[row];
        for (int i = 0; i < cols; i++) out[i] = (float)q[i] * s;
    } else {
        const int8_t *q = (const int8_t *)t->data + (size_t)row * cols;
        const float s = t->scale[row];
        for (int i = 0; i < cols; i++) out[i] = (float)q[i] * s;
    }
}

void bl_k_layernorm(float *x, const float *g, const float *b, int n, int dim, float eps) {
    for (int t = 0; t < n; t++) {
        float *xr = x + (size_t)t * dim;
        /* two passes (mean, then squared deviations): no cancellation when |mean| >> std; each
           sum in 4 interleaved lanes, the order a 4-lane vector kernel has */
        float s[4] = {0}, v[4] = {0};
        for (int i = 0; i < dim; i++) s[i & 3] += xr[i];
        const float mean = ((s[0] + s[1]) + (s[2] + s[3])) / (float)dim;
        for (int i = 0; i < dim; i++) { float d = xr[i] - mean; v[i & 3] += d * d; }
        const float var = ((v[0] + v[1]) + (v[2] + v[3])) / (float)dim;
        const float rstd = 1.0f / sqrtf(var + eps);
        for (int i = 0; i < dim; i++) xr[i] = (xr[i] - mean) * rstd * g[i] + b[i];
    }
}

/* The vector kernels mirror these two operation for operation: x < lo ? lo : x is SIMD's pmax
   (and hi < x ? hi : x its pmin), so even NaN takes the same path. */
float bl_k_erf(float x) {
    x = x < -4.0f ? -4.0f : x;
    x = 4.0f < x ? 4.0f : x;
    const float x2 = x * x;
    float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
    p = x2 * p + -2.10102402082508e-06f;
    p = x2 * p + -5.69250639462346e-05f;
    p = x2 * p + -7.34990630326855e-04f;
    p = x2 * p + -2.95459980854025e-03f;
    p = x2 * p + -1.60960333262415e-02f;
    p = x * p;
    float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
    q = x2 * q + -1.68282697438203e-03f;
    q = x2 * q + -7.37332916720468e-03f;
    q = x2 * q + -1.42647390514189e-02f;
    return p / q;
}

float bl_k_exp(float x) {
    if (x != x) return x;
    if (x < BL_EXP_LO) return 0.0f;
    x = BL_EXP_HI < x ? BL_EXP_HI : x;
    const float fx = floorf(x * 1.44269504088896341f + 0.5f);   /* n = round(x / ln 2) */
    float r = x - fx * 0.693359375f;                             /* ln 2 in two parts */
    r = r - fx * -2.12194440e-4f;
    float y = 1.9875691500e-4f * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * (r * r) + r + 1.0f;
    const uint32_t bits = (uint32_t)((int)fx + 127) << 23;     /* 2^n, n in [-126, 127] */
    float s;
    memcpy(&s, &bits, sizeof s);
    return y * s;
}

void bl_k_softmax(float *x, int len) {
    float m = x[0];
    for (int i = 1; i < len; i++) m = fmaxf(m, x[i]);
    float s[4] = {0};
    for (int i = 0; i < len; i++) { x[i] = bl_k_exp(x[i] - m); s[i & 3] += x[i]; }
    const float inv = 1.0f / ((s[0] + s[1]) + (s[2] + s[3]));   /* >= 1: the max gives exp(0) */
    for (int i = 0; i < len; i++) x[i] *= inv;
}

void bl_k_to_u16(uint16_t *dst, const float *src, size_t len) {
    for (size_t i = 0; i < len; i++) {
        const float v = src[i] * 65535.0f + 0.5f;
        dst[i] = v >= 1.0f ? (v < 65535.0f ? (uint16_t)v : 65535) : 0;
    }
}

void bl_k_act(float *x, size_t len, int act) {
    if (act == BL_ACT_RELU) {
        for (size_t i = 0; i < len; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    } else if (act == BL_ACT_GELU_TANH) {
        /* HF "gelu_new" / "gelu_pytorch_tanh" */
        const float k = 0.7978845608028654f;   /* sqrt(2/pi) */
        for (size_t i = 0; i < len; i++) {
            const float v = x[i];
            x[i] = 0.5f * v * (1.0f + tanhf(k * (v + 0.044715f * v * v * v)));
        }
    } else {
        /* HF "gelu": the exact erf form */
        for (size_t i = 0; i < len; i++) x[i] = 0.5f * x[i] * (1.0f + bl_k_erf(x[i] * 0.7071067811865476f));
    }
}

void bl_k_add(float *y, const float *x, size_t len) {
    for (size_t i = 0; i < len; i++) y[i] += x[i];
}

/* Eight interleaved partial sums, combined pairwise at the end: this fixes the summation order
   that a vector kernel with 8 (or 2×4) lanes naturally has, lets the compiler vectorize the
   scalar code without -ffast-math, and halves the error growth of one long running sum. */
#define BL_K_LANES 8
static float bl_k_reduce8(const float s[BL_K_LANES]) {
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

float bl_k_dot(const float *a, const float *b, int len) {
    float s[BL_K_LANES] = {0};
    int i = 0;
    for (; i + BL_K_LANES <= len; i += BL_K_LANES)
        for (int k = 0; k < BL_K_LANES; k++) s[k] += a[i + k] * b[i + k];
    for (int k = 0; i < len; i++, k++) s[k] += a[i] * b[i];
    return bl_k_reduce8(s);
}

/* Σ q[i]·x[i] for an int8 weight row against f32 activations, same lane order as bl_k_dot */
static float bl_k_dot_i8(const int8_t *q, const float *x, int len) {
    float s[BL_K_LANES] = {0};
    int i = 0;
    for (; i + BL_K_LANES <= len; i += BL_K_LANES)
        for (int k = 0; k < BL_K_LANES; k++) s[k] += (float)q[i + k] * x[i + k];
    for (int k = 0; i < len; i++, k++) s[k] += (float)q[i] * x[i];
    return bl_k_reduce8(s);
}

/* the same for an int16 row (int16 storage) */
static float bl_k_dot_i16(const int16_t *q, const float *x, int len) {
    float s[BL_K_LANES] = {0};
    int i = 0;
    for (; i + BL_K_LANES <= len; i += BL_K_LANES)
        for (int k = 0; k < BL_K_LANES; k++) s[k] += (float)q[i + k] * x[i + k];
    for (int k = 0; i < len; i++, k++) s[k] += (float)q[i] * x[i];
    return bl_k_reduce8(s);
}

void bl_k_axpy(float *y, float a, const float *x, int len) {
    for (int i = 0; i < len; i++) y[i] += a * x[i];
}

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

void bl_k_pv(float *out, const float *p, const float *v, int vstride, int n, int d) {
    for (int j = 0; j < n; j++) bl_k_axpy(out, p[j], v + (size_t)j * vstride, d);
}

void bl_k_scores_rows(float *P, int pstride, const float *q, int qstride, int m,
                      const float *kt, int n, int d, float scale) {
    for (int i = 0; i < m; i++) bl_k_scores(P + (size_t)i * pstride, q + (size_t)i * qstride, kt, n, d, scale);
}

void bl_k_pv_rows(float *out, int ostride, const float *P, int pstride, int m,
                  const float *v, int vstride, int n, int d) {
    for (int i = 0; i < m; i++) bl_k_pv(out + (size_t)i * ostride, P + (size_t)i * pstride, v, vstride, n, d);
}

static const bl_kernels bl_scalar_table = {
    .name = "scalar",
    .linear_q8 = bl_k_linear_q8,
    .linear_f32 = bl_k_linear_f32,
    .quantize_rows = bl_k_quantize_rows,
    .scores_rows = bl_k_scores_rows,
    .pv_rows = bl_k_pv_rows,
    .softmax = bl_k_softmax,
    .layernorm = bl_k_layernorm,
    .act = bl_k_act,
    .to_u16 = bl_k_to_u16,
    .linear_i16 = bl_k_linear_i16,
    .quantize_rows16 = bl_k_quantize_rows16,
};

const bl_kernels *bl_kernels_scalar(void) { return &bl_scalar_table; }
