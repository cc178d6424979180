/* test_kernels.c — every kernel of core/kernels/kernels.h against a straightforward double-precision
   computation, on odd shapes (n = 1 and 7 tokens; widths that are not multiples of 4 or 16,
   and one wider than the F16 chunk). A SIMD kernel added later runs through the same checks. */
#include "check.h"
#include "kernels/kernels.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* deterministic pseudo-random numbers (xorshift), uniform in [-1, 1) */
static uint64_t rng = 88172645463325252ull;
static float frand(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static double maxrel(const float *got, const double *want, size_t len, double floor_) {
    double m = 0;
    for (size_t i = 0; i < len; i++) {
        double d = fabs(got[i] - want[i]) / (fabs(want[i]) > floor_ ? fabs(want[i]) : floor_);
        if (!(d <= m)) m = d;   /* NaN propagates as a failure */
    }
    return m;
}

/* A random [rows][cols] matrix in the requested dtype; `ref` receives the exact values the
   tensor represents (after f16 rounding / int8 quantization), as doubles. */
typedef struct { bl_tensor t; void *data; float *scale; double *ref; } mat;

static mat make_mat(int dtype, int rows, int cols, float amp) {
    mat m = {0};
    size_t len = (size_t)rows * cols;
    m.ref = malloc(len * sizeof(double));
    float *f = malloc(len * sizeof(float));
    for (size_t i = 0; i < len; i++) f[i] = amp * frand();
    m.t.dtype = dtype; m.t.rows = rows; m.t.cols = cols;
    if (dtype == BL_DT_F32) {
        m.data = f; f = NULL;
        for (size_t i = 0; i < len; i++) m.ref[i] = ((float *)m.data)[i];
    } else if (dtype == BL_DT_F16) {
        uint16_t *h = malloc(len * 2);
        for (size_t i = 0; i < len; i++) { h[i] = bl_f32_to_f16(f[i]); m.ref[i] = bl_f16_to_f32(h[i]); }
        m.data = h;
    } else if (dtype == BL_DT_I16) {
        /* FORMAT.md's int16 rule restated: scale = max|row| / 4095, q = round(w / scale) */
        int16_t *q = malloc(len * 2);
        m.scale = malloc((size_t)rows * sizeof(float));
        for (int r = 0; r < rows; r++) {
            float mx = 0;
            for (int c = 0; c < cols; c++) mx = fmaxf(mx, fabsf(f[(size_t)r * cols + c]));
            m.scale[r] = mx / 4095.0f;
            for (int c = 0; c < cols; c++) {
                q[(size_t)r * cols + c] = mx > 0 ? (int16_t)lround(f[(size_t)r * cols + c] / m.scale[r]) : 0;
                m.ref[(size_t)r * cols + c] = (double)q[(size_t)r * cols + c] * m.scale[r];
            }
        }
        m.data = q;
    } else {
        int8_t *q = malloc(len);
        m.scale = malloc((size_t)rows * sizeof(float));
        for (int r = 0; r < rows; r++) {
            bl_quantize_row(f + (size_t)r * cols, cols, q + (size_t)r * cols, &m.scale[r]);
            for (int c = 0; c < cols; c++)
                m.ref[(size_t)r * cols + c] = (double)q[(size_t)r * cols + c] * m.scale[r];
        }
        m.data = q;
    }
    free(f);
    m.t.data = m.data; m.t.scale = m.scale;
    return m;
}
static void free_mat(mat *m) { free(m->data); free(m->scale); free(m->ref); }

static float *rand_vec(size_t len, float amp) {
    float *v = malloc(len * sizeof(float));
    for (size_t i = 0; i < len; i++) v[i] = amp * frand();
    return v;
}

static const char *dt_name(int dt) { return dt == BL_DT_F32 ? "f32" : dt == BL_DT_F16 ? "f16" : dt == BL_DT_I16 ? "i16" : "i8"; }

static void test_linear_f32(int dtype, int n, int in, int out) {
    mat w = make_mat(dtype, out, in, 0.5f);
    float *x = rand_vec((size_t)n * in, 1.0f), *b = rand_vec((size_t)out, 0.3f);
    float *y = malloc((size_t)n * out * sizeof(float));
    double *want = malloc((size_t)n * out * sizeof(double));
    for (int t = 0; t < n; t++)
        for (int o = 0; o < out; o++) {
            double s = b[o];
            for (int i = 0; i < in; i++) s += w.ref[(size_t)o * in + i] * x[(size_t)t * in + i];
            want[(size_t)t * out + o] = s;
        }
    bl_k_linear_f32(y, x, &w.t, b, n);
    /* f32 accumulation of `in` terms of size ~0.5: error grows ~ in * eps; floor 1 for rel */
    double err = maxrel(y, want, (size_t)n * out, 1.0);
    CHECK(err < 1e-5, "linear_f32 %s n=%d in=%d out=%d: max err %.3g", dt_name(dtype), n, in, out, err);
    /* without bias */
    for (int t = 0; t < n; t++) for (int o = 0; o < out; o++) want[(size_t)t * out + o] -= b[o];
    bl_k_linear_f32(y, x, &w.t, NULL, n);
    err = maxrel(y, want, (size_t)n * out, 1.0);
    CHECK(err < 1e-5, "linear_f32 %s no bias n=%d in=%d out=%d: max err %.3g", dt_name(dtype), n, in, out, err);
    free(x); free(b); free(y); free(want); free_mat(&w);
}

static void test_quantize(int n, int cols) {
    float *x = rand_vec((size_t)n * cols, 3.0f);
    if (n > 1) memset(x + (size_t)(n - 1) * cols, 0, (size_t)cols * sizeof(float)); /* zero row */
    int16_t *q = malloc((size_t)n * cols * sizeof *q);
    float *s = malloc((size_t)n * sizeof(float));
    const int Q = bl_k_qmax(cols);
    bl_k_quantize_rows(q, s, x, n, cols);
    int bad = 0, hitq = 0;
    for (int t = 0; t < n; t++) {
        double m = 0;
        for (int i = 0; i < cols; i++) m = fmax(m, fabs(x[(size_t)t * cols + i]));
        if (fabs(s[t] - m / Q) > 1e-6 * m) bad++;
        for (int i = 0; i < cols; i++) {
            double v = x[(size_t)t * cols + i], qi = q[(size_t)t * cols + i];
            /* round-to-nearest: within half a step (plus float slack) of v/scale */
            if (m > 0 && fabs(qi - v * Q / m) > 0.5 + 1e-3) bad++;
            if (m == 0 && qi != 0) bad++;
            if (qi == Q || qi == -Q) hitq++;
        }
    }
    CHECK(bad == 0, "quantize_rows n=%d cols=%d: %d bad values/scales", n, cols, bad);
    CHECK(hitq >= (n > 1 ? n - 1 : n), "quantize_rows n=%d cols=%d: row max must map to ±%d (%d)",
          n, cols, Q, hitq);
    if (n > 1) CHECK(s[n - 1] == 0.0f, "quantize_rows: all-zero row must get scale 0");
    free(x); free(q); free(s);
}

static void test_linear_q8(int n, int in, int out) {
    mat w = make_mat(BL_DT_I8, out, in, 0.5f);
    float *x = rand_vec((size_t)n * in, 2.0f), *b = rand_vec((size_t)out, 0.3f);
    int16_t *xq = malloc((size_t)n * in * sizeof *xq);
    float *xs = malloc((size_t)n * sizeof(float)), *y = malloc((size_t)n * out * sizeof(float));
    double *exact = malloc((size_t)n * out * sizeof(double)), *want = malloc((size_t)n * out * sizeof(double));
    bl_k_quantize_rows(xq, xs, x, n, in);
    const int8_t *wq = w.t.data;
    for (int t = 0; t < n; t++)
        for (int o = 0; o < out; o++) {
            double s = 0, e = b[o];
            for (int i = 0; i < in; i++) {
                s += (double)xq[(size_t)t * in + i] * wq[(size_t)o * in + i];
                e += w.ref[(size_t)o * in + i] * x[(size_t)t * in + i];
            }
            want[(size_t)t * out + o] = s * xs[t] * w.scale[o] + b[o];
            exact[(size_t)t * out + o] = e;
        }
    bl_k_linear_q8(y, xq, xs, &w.t, b, n);
    double err = maxrel(y, want, (size_t)n * out, 1.0);
    CHECK(err < 1e-5, "linear_q8 n=%d in=%d out=%d: max err %.3g vs the same integer math", n, in, out, err);
    /* and the activations' quantization error stays what rounding predicts: each of `in`
       terms is off by at most half a step (2/Q/2) times |w| <= 0.5, and the errors are
       independent, so the sum's std is sqrt(in) * (step/sqrt(12)) * (0.5/sqrt(3)); allow 6σ
       (w.ref is the dequantized W, so only the activations' rounding is measured) */
    double qerr = 0, sigma = sqrt((double)in) * (2.0 / bl_k_qmax(in) / sqrt(12.0)) * (0.5 / sqrt(3.0));
    for (size_t i = 0; i < (size_t)n * out; i++) qerr = fmax(qerr, fabs(y[i] - exact[i]));
    CHECK(qerr < 6 * sigma, "linear_q8 n=%d in=%d out=%d: %.3g from the unquantized product (6σ = %.3g)",
          n, in, out, qerr, 6 * sigma);
    free(x); free(b); free(xq); free(xs); free(y); free(exact); free(want); free_mat(&w);
}

/* int16 weights × 16-bit activations: the exact integer sum (in doubles here, exact below
   2^53) scaled as the kernel does, and the activations' rounding error against the unquantized
   product; the largest sums (every product 4095·32767, far past int32) come out exact. */
static void test_linear_i16(int n, int in, int out) {
    mat w = make_mat(BL_DT_I16, out, in, 0.5f);
    float *x = rand_vec((size_t)n * in, 2.0f), *b = rand_vec((size_t)out, 0.3f);
    int16_t *xq = malloc((size_t)n * in * sizeof *xq);
    float *xs = malloc((size_t)n * sizeof(float)), *y = malloc((size_t)n * out * sizeof(float));
    double *exact = malloc((size_t)n * out * sizeof(double)), *want = malloc((size_t)n * out * sizeof(double));
    bl_k_quantize_rows16(xq, xs, x, n, in);
    int bad = 0;
    for (int t = 0; t < n; t++) {
        double m = 0;
        for (int i = 0; i < in; i++) m = fmax(m, fabs(x[(size_t)t * in + i]));
        for (int i = 0; i < in; i++)
            /* half a step, plus the two float roundings of x · (32767 / m): ≤ 2 · 2^-24 of 32767 */
            if (fabs(xq[(size_t)t * in + i] - x[(size_t)t * in + i] * 32767.0 / m) > 0.5 + 32767.0 * 0x1p-23) bad++;
    }
    CHECK(bad == 0, "quantize_rows16 n=%d cols=%d: %d values off by more than half a step", n, in, bad);
    const int16_t *wq = w.t.data;
    for (int t = 0; t < n; t++)
        for (int o = 0; o < out; o++) {
            double s = 0, e = b[o];
            for (int i = 0; i < in; i++) {
                s += (double)xq[(size_t)t * in + i] * wq[(size_t)o * in + i];
                e += w.ref[(size_t)o * in + i] * x[(size_t)t * in + i];
            }
            want[(size_t)t * out + o] = s * xs[t] * w.scale[o] + b[o];
            exact[(size_t)t * out + o] = e;
        }
    bl_k_linear_i16(y, xq, xs, &w.t, b, n);
    double err = maxrel(y, want, (size_t)n * out, 1.0);
    CHECK(err < 1e-5, "linear_i16 n=%d in=%d out=%d: max err %.3g vs the same integer math", n, in, out, err);
    double qerr = 0, sigma = sqrt((double)in) * (2.0 / 32767 / sqrt(12.0)) * (0.5 / sqrt(3.0));
    for (size_t i = 0; i < (size_t)n * out; i++) qerr = fmax(qerr, fabs(y[i] - exact[i]));
    CHECK(qerr < 6 * sigma + 1e-6, "linear_i16 n=%d in=%d out=%d: %.3g from the unquantized product (6σ = %.3g)",
          n, in, out, qerr, 6 * sigma);
    free(x); free(b); free(xq); free(xs); free(y); free(exact); free(want); free_mat(&w);
    /* saturated: all weights 4095 / -4095, all activations ±32767, in = 3072 (bert-base's FFN) */
    const int big = 3072;
    int16_t *ws = malloc(2 * big * sizeof *ws), *xb = malloc(big * sizeof *xb);
    for (int i = 0; i < big; i++) { ws[i] = 4095; ws[big + i] = (int16_t)(i % 3 ? -4095 : 4095); xb[i] = 32767; }
    float one = 1.0f, sc[2] = {1.0f, 1.0f}, yb[2];
    bl_tensor t = {0};
    t.dtype = BL_DT_I16; t.rows = 2; t.cols = big; t.data = ws; t.scale = sc;
    bl_k_linear_i16(yb, xb, &one, &t, NULL, 1);
    const double s0 = 4095.0 * 32767.0 * big, s1 = 4095.0 * 32767.0 * (big / 3 - 2 * big / 3);
    CHECK(yb[0] == (float)s0 && yb[1] == (float)s1, "linear_i16 saturated: %.9g %.9g, want %.9g %.9g",
          yb[0], yb[1], s0, s1);
    free(ws); free(xb);
}

static void test_row(int dtype, int rows, int cols) {
    mat w = make_mat(dtype, rows, cols, 1.0f);
    float *out = malloc((size_t)cols * sizeof(float));
    int bad = 0;
    for (int r = 0; r < rows; r++) {
        bl_k_row_f32(out, &w.t, r);
        for (int c = 0; c < cols; c++)
            if (fabs(out[c] - w.ref[(size_t)r * cols + c]) > 1e-7 * fabs(w.ref[(size_t)r * cols + c])) bad++;
    }
    CHECK(bad == 0, "row_f32 %s %dx%d: %d values differ", dt_name(dtype), rows, cols, bad);
    free(out); free_mat(&w);
}

static void test_layernorm(int n, int dim, float eps) {
    float *x = rand_vec((size_t)n * dim, 2.0f), *g = rand_vec((size_t)dim, 1.0f), *b = rand_vec((size_t)dim, 0.5f);
    for (size_t i = 0; i < (size_t)n * dim; i++) x[i] += 5.0f;   /* a mean far from 0 */
    double *want = malloc((size_t)n * dim * sizeof(double));
    for (int t = 0; t < n; t++) {
        const float *r = x + (size_t)t * dim;
        double mean = 0, var = 0;
        for (int i = 0; i < dim; i++) mean += r[i];
        mean /= dim;
        for (int i = 0; i < dim; i++) var += (r[i] - mean) * (r[i] - mean);
        var /= dim;
        for (int i = 0; i < dim; i++) want[(size_t)t * dim + i] = (r[i] - mean) / sqrt(var + eps) * g[i] + b[i];
    }
    bl_k_layernorm(x, g, b, n, dim, eps);
    double err = maxrel(x, want, (size_t)n * dim, 1.0);
    CHECK(err < 1e-5, "layernorm n=%d dim=%d: max err %.3g", n, dim, err);
    free(x); free(g); free(b); free(want);
}

static void test_softmax(int len, float amp) {
    float *x = rand_vec((size_t)len, amp);
    double *want = malloc((size_t)len * sizeof(double)), m = -INFINITY, s = 0;
    for (int i = 0; i < len; i++) m = fmax(m, x[i]);
    for (int i = 0; i < len; i++) s += exp((double)x[i] - m);
    for (int i = 0; i < len; i++) want[i] = exp((double)x[i] - m) / s;
    bl_k_softmax(x, len);
    double err = 0, sum = 0;
    for (int i = 0; i < len; i++) { err = fmax(err, fabs(x[i] - want[i])); sum += x[i]; }
    CHECK(err < 1e-6, "softmax len=%d amp=%g: max abs err %.3g", len, amp, err);
    CHECK(fabs(sum - 1.0) < 1e-5, "softmax len=%d: row sums to %.8f", len, sum);
    free(x); free(want);
}

static double act_ref(double v, int act) {
    if (act == BL_ACT_RELU) return v > 0 ? v : 0;
    if (act == BL_ACT_GELU_TANH) return 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
    return 0.5 * v * (1 + erf(v / sqrt(2.0)));
}

static void test_act(int act, size_t len) {
    float *x = rand_vec(len, 6.0f);
    double *want = malloc(len * sizeof(double));
    for (size_t i = 0; i < len; i++) want[i] = act_ref(x[i], act);
    bl_k_act(x, len, act);
    double err = 0;
    for (size_t i = 0; i < len; i++) err = fmax(err, fabs(x[i] - want[i]));
    CHECK(err < 2e-6, "act %d len=%zu: max abs err %.3g", act, len, err);
    free(x); free(want);
}

/* bl_k_erf / bl_k_exp against libm's double erf / exp over a dense grid, and their edges. */
static void test_erf_exp(void) {
    double e_erf = 0, e_exp = 0;
    for (double v = -7.0; v <= 7.0; v += 1.0 / 4096) {
        const float x = (float)v;
        e_erf = fmax(e_erf, fabs(bl_k_erf(x) - erf((double)x)));
    }
    CHECK(e_erf < 5e-7, "bl_k_erf: max abs error %.3g on [-7, 7] (want < 5e-7)", e_erf);
    for (double v = -87.0; v <= 88.0; v += 1.0 / 1024) {
        const float x = (float)v;
        const double t = exp((double)x);
        e_exp = fmax(e_exp, fabs(bl_k_exp(x) - t) / t);
    }
    CHECK(e_exp < 1.5e-7, "bl_k_exp: max relative error %.3g on [-87, 88] (want < 1.5e-7, 2.5 ulp)", e_exp);
    CHECK(bl_k_exp(0.0f) == 1.0f && bl_k_exp(-0.0f) == 1.0f, "exp(0) = 1 exactly");
    CHECK(bl_k_exp(-88.0f) == 0.0f && bl_k_exp(-INFINITY) == 0.0f, "exp below ln(FLT_MIN) is 0");
    CHECK(bl_k_exp(1000.0f) > 2e38f && isfinite(bl_k_exp(INFINITY)), "exp saturates: %g", bl_k_exp(1000.0f));
    CHECK(isnan(bl_k_exp(NAN)) && isnan(bl_k_erf(NAN)), "NaN stays NaN");
    CHECK(bl_k_erf(0.0f) == 0.0f && bl_k_erf(10.0f) == 1.0f && bl_k_erf(-INFINITY) == -1.0f &&
          bl_k_erf(-2.0f) == -bl_k_erf(2.0f), "erf: 0, ±1 in the tails, odd");
}

static void test_vec(int len) {
    float *a = rand_vec((size_t)len, 1.0f), *b = rand_vec((size_t)len, 1.0f), *y = rand_vec((size_t)len, 1.0f);
    double d = 0;
    for (int i = 0; i < len; i++) d += (double)a[i] * b[i];
    float got = bl_k_dot(a, b, len);
    CHECK(fabs(got - d) < 1e-5 * (1 + len), "dot len=%d: %.9g vs %.9g", len, got, d);
    double *want = malloc((size_t)len * sizeof(double));
    for (int i = 0; i < len; i++) want[i] = y[i] + 0.37 * (double)a[i];
    bl_k_axpy(y, 0.37f, a, len);
    CHECK(maxrel(y, want, (size_t)len, 1.0) < 1e-6, "axpy len=%d", len);
    for (int i = 0; i < len; i++) want[i] = y[i] + (double)b[i];
    bl_k_add(y, b, (size_t)len);
    CHECK(maxrel(y, want, (size_t)len, 1.0) < 1e-6, "add len=%d", len);
    free(a); free(b); free(y); free(want);
}

/* 12-bit activations where the int32 sum allows it, fewer bits only for very wide inputs */
static void test_qmax(void) {
    static const int cols[] = {1, 256, 768, 3072, 8192, 8196, 8197, 16384, 65536};
    for (int i = 0; i < (int)(sizeof cols / sizeof *cols); i++) {
        const int q = bl_k_qmax(cols[i]);
        CHECK(128.0 * q * cols[i] <= 2147483647.0, "qmax(%d) = %d overflows int32", cols[i], q);
        CHECK(cols[i] <= 8196 ? q == 2047 : q < 2047 && 128.0 * (q + 1) * cols[i] > 2147483647.0,
              "qmax(%d) = %d: 2047 or the largest that fits", cols[i], q);
    }
}

/* bl_k_i16_run restated the slow way: every candidate run R = 64·2^k up to the first that
   covers the row, every row, every aligned block of R inputs, each of the four classes
   (i / 2) mod 4 summed on its own; the answer is the largest R that holds everywhere. */
static int i16_run_brute(const int16_t *q, int rows, int cols) {
    int best = 64;
    for (int R = 128; R / 2 < cols; R *= 2) {
        int ok = 1;
        for (int r = 0; r < rows && ok; r++)
            for (int b0 = 0; b0 < cols && ok; b0 += R)
                for (int c = 0; c < 4 && ok; c++) {
                    long long sum = 0;
                    for (int i = b0; i < b0 + R && i < cols; i++)
                        if ((i / 2) % 4 == c) sum += llabs(q[(size_t)r * cols + i]);
                    ok = sum <= BL_K_I16_LANE_SUM;
                }
        if (!ok) break;
        best = R;
    }
    return best;
}

static void test_i16_run(void) {
    static const int cols[] = {1, 8, 63, 64, 65, 200, 768, 1000, 3072};
    static const int amp[] = {4095, 1500, 400, 60};
    for (int c = 0; c < (int)(sizeof cols / sizeof *cols); c++)
        for (int a = 0; a < 4; a++) {
            const int rows = 5, n = cols[c];
            int16_t *q = malloc((size_t)rows * n * sizeof *q);
            for (size_t i = 0; i < (size_t)rows * n; i++)
                q[i] = (int16_t)lrint(frand() * amp[a]);
            q[(size_t)((frand() + 1.0f) * 0.5f * (float)(rows * n - 1))] = 4095;
            const int got = bl_k_i16_run(q, rows, n), want = i16_run_brute(q, rows, n);
            CHECK(got == want, "i16_run cols=%d amp=%d: %d, the restatement says %d", n, amp[a], got, want);
            /* one class of one block pushed one past the budget caps the run below that block */
            if (n >= 768 && a == 3) {
                for (int k = 0, left = BL_K_I16_LANE_SUM + 1; left > 0; k++) {
                    const int i = 256 + 8 * (k / 2) + (k & 1), v = left > 4095 ? 4095 : left;
                    q[(size_t)2 * n + i] = (int16_t)v;
                    left -= v;
                }
                const int got2 = bl_k_i16_run(q, rows, n), want2 = i16_run_brute(q, rows, n);
                CHECK(got2 == want2 && got2 < got, "i16_run cols=%d over budget: %d (was %d), the restatement says %d",
                      n, got2, got, want2);
            }
            free(q);
        }
    int16_t full[64];
    for (int i = 0; i < 64; i++) full[i] = (int16_t)(i & 1 ? -4095 : 4095);
    CHECK(bl_k_i16_run(full, 1, 64) == 64, "i16_run of a saturated row: 64");
}

int main(void) {
    test_erf_exp();
    test_qmax();
    test_i16_run();
    static const int ns[] = {1, 7};
    /* (in, out): odd, not multiples of 4/16; 300 > the 256-wide F16 chunk; 60 = 3 heads × 20 */
    static const int shapes[][2] = {{1, 1}, {5, 3}, {13, 17}, {60, 100}, {300, 33}};
    for (int ni = 0; ni < 2; ni++)
        for (int s = 0; s < 5; s++) {
            for (int dt = 0; dt < 4; dt++) test_linear_f32(dt, ns[ni], shapes[s][0], shapes[s][1]);
            test_linear_q8(ns[ni], shapes[s][0], shapes[s][1]);
            test_linear_i16(ns[ni], shapes[s][0], shapes[s][1]);
            test_quantize(ns[ni], shapes[s][0]);
        }
    for (int dt = 0; dt < 4; dt++) { test_row(dt, 7, 1); test_row(dt, 3, 61); }
    for (int ni = 0; ni < 2; ni++) {
        test_layernorm(ns[ni], 1, 1e-12f);   /* dim 1: output is exactly the bias */
        test_layernorm(ns[ni], 60, 1e-12f);
        test_layernorm(ns[ni], 37, 1e-5f);
    }
    test_softmax(1, 1.0f);
    test_softmax(7, 1.0f);
    test_softmax(13, 80.0f);   /* large scores: naive exp would overflow */
    test_softmax(129, 30.0f);
    {   /* extreme: one huge score must give ~one-hot, no NaN */
        float x[5] = {1e4f, 0, -1e4f, 3, 1e4f - 50};
        bl_k_softmax(x, 5);
        CHECK(fabsf(x[0] - 1.0f) < 1e-6f && x[2] == 0.0f && !isnan(x[4]), "softmax extreme scores");
    }
    for (int a = 0; a < 3; a++) { test_act(a, 1); test_act(a, 1001); }
    test_vec(1); test_vec(7); test_vec(61);
    return check_summary("test_kernels");
}
