/* kernels.h — the numeric kernels behind the forward pass (internal boundary).

   bert.c calls only these functions for the heavy math. kernels_scalar.c is the portable
   reference; faster variants (WASM SIMD128, x86) must give the same results within float
   rounding and are checked against the scalar versions by tests/test_kernels.c.

   Conventions: row-major; a linear weight is a bl_tensor [out][in] as HF nn.Linear stores it
   (dtype F32, F16 or I8 with one f32 scale per row); n is the number of activation rows
   (tokens). Kernels never allocate, never fail and never print: the caller validates shapes. */
#ifndef BL_KERNELS_H
#define BL_KERNELS_H

#include "base/internal.h"

/* y[n][out] = x[n][in] · Wᵀ + bias (bias may be NULL). W is F32, F16 or I8 and is widened /
   dequantized on the fly (I8: sum(q·x) × row scale), so the math is f32 whatever the dtype.
   in = w->cols, out = w->rows. y must not alias x. */
void bl_k_linear_f32(float *y, const float *x, const bl_tensor *w, const float *bias, int n);

/* Symmetric per-row quantization of activations to 12 bits held in int16: for each of n rows
   of `cols` values, Q = bl_k_qmax(cols), scale[r] = max|x| / Q and q = round(x / scale) in
   [-Q, Q] (0 and scale 0 for an all-zero row). Why 12 bits and not 8: a trained model's
   activations have outlier channels (max/rms 10–20 in the default model), and int8 rows then
   moved attention by up to 0.15; the kernels widen to i16 for the multiply anyway, so the finer
   grid costs nothing there. Q is 2047 unless 128·Q·cols would overflow the int32 sum. */
static inline int bl_k_qmax(int cols) {
    const long q = 2147483647L / (128L * (cols > 0 ? cols : 1));
    return q > 2047 ? 2047 : (int)q;
}
void bl_k_quantize_rows(int16_t *q, float *scale, const float *x, int n, int cols);

/* Integer linear: W must be I8. y[t][o] = (Σ xq[t][i]·wq[o][i]) × xs[t] × ws[o] + bias[o],
   the dot product accumulated exactly in int32 (|sum| ≤ 128·bl_k_qmax(in)·in < 2^31). */
void bl_k_linear_q8(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                    const float *bias, int n);

/* One row of a matrix (embedding lookup) widened to f32: out[cols]. */
void bl_k_row_f32(float *out, const bl_tensor *t, int row);

/* In place over n rows of dim values: x = (x - mean) / sqrt(var + eps) * g + b,
   var the biased variance (as torch.nn.LayerNorm); both sums in 4 interleaved lanes (lane k
   takes i ≡ k mod 4) combined (0+1)+(2+3). */
void bl_k_layernorm(float *x, const float *g, const float *b, int n, int dim, float eps);

/* erf and exp as the kernels compute them, with plain multiplies and adds in a fixed order so
   that the vector versions reproduce them bit for bit on every target (libm's erff and expf
   differ between glibc and Emscripten's musl, and are scalar calls the SIMD code cannot inline).
   bl_k_erf: Eigen's rational approximation on [-4, 4] (±1 outside), |error| < 5e-7.
   bl_k_exp: Cephes' range reduction + degree-5 polynomial, < 1.5 ulp; 0 below -87.34 (where
   expf goes subnormal), saturates at 2.4e38 above 88.38, NaN stays NaN. */
float bl_k_erf(float x);
float bl_k_exp(float x);
#define BL_EXP_LO (-87.3365478515625f)   /* ≈ ln(FLT_MIN) */
#define BL_EXP_HI 88.3762626647949f

/* Numerically stable softmax of one row of len values, in place (subtract the max), with
   bl_k_exp; the sum in 4 interleaved lanes (lane k takes i ≡ k mod 4) combined (0+1)+(2+3), the
   order a 4-lane vector kernel has (one running sum was a chain of dependent adds: 4 of the
   15 ms the default model spent in softmax at n = 512). */
void bl_k_softmax(float *x, int len);

/* Probabilities to 16 bits for the kept attention maps: dst[i] = round(src[i]·65535) for src
   in [0, 1] (computed as trunc(src·65535 + 0.5)), 0 below, 65535 above, 0 for NaN (garbage
   weights) rather than C's undefined conversion. */
void bl_k_to_u16(uint16_t *dst, const float *src, size_t len);

/* Activation in place: BL_ACT_GELU (erf, via bl_k_erf), BL_ACT_GELU_TANH, BL_ACT_RELU. */
void bl_k_act(float *x, size_t len, int act);

/* y[i] += x[i] (residual connections). */
void bl_k_add(float *y, const float *x, size_t len);

/* Σ a[i]·b[i] (the inner loop of bl_k_linear_f32). Summed in 8
   interleaved lanes (lane k takes i ≡ k mod 8), reduced ((0+4)+(1+5))+((2+6)+(3+7)): a
   vector kernel that keeps this order is bit-identical to the scalar one. */
float bl_k_dot(const float *a, const float *b, int len);

/* y[i] += a · x[i] (attention context: P·V one row of V at a time). */
void bl_k_axpy(float *y, float a, const float *x, int len);

/* ---- Optimised variants: what bert.c calls (issue 5). ----
   Defined by kernels_simd.c under __wasm_simd128__ (chosen at compile time: the page requires
   SIMD), by kernels_x86.c on x86-64 (AVX2 chosen at run time, so the CLI still runs on CPUs
   without it) and by kernels_dispatch.c elsewhere (the scalar kernels). Each gives the same
   result as the scalar reference: bit for bit for linear_q8 (integer math) and also for the
   f32 ones, which keep the scalar summation order and use no FMA, so WASM and native agree.
   tests/test_kernels_simd.c checks every one against the scalar kernels. */
void bl_kf_linear_q8(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                     const float *bias, int n);
void bl_kf_linear_f32(float *y, const float *x, const bl_tensor *w, const float *bias, int n);
/* Attention context of one query row: for j = 0..n-1 in order, bl_k_axpy(out, p[j], v + j·vstride, d). */
void bl_kf_pv(float *out, const float *p, const float *v, int vstride, int n, int d);
/* A block of m query rows of one head against n keys given transposed (bl_k_transpose_keys):
   P[i][j] = (Σ_c q_i[c]·kt[c·n + j], c = 0..d-1 in order) × scale, q rows at qstride, P rows at
   pstride. The keys lie in vector lanes, so each multiply and add serves 4 (8) keys and no
   horizontal sum is needed (bl_k_dot's 8-lane order made Q·Kᵀ the slowest kernel in WASM).
   Then out_i += Σ_j P[i][j]·v_j in j order (bl_kf_pv per row); several query rows per call let
   each loaded key / value vector serve several queries. Same results as bl_k_scores / bl_k_pv. */
void bl_kf_scores_rows(float *P, int pstride, const float *q, int qstride, int m,
                       const float *kt, int n, int d, float scale);
void bl_kf_pv_rows(float *out, int ostride, const float *P, int pstride, int m,
                   const float *v, int vstride, int n, int d);
/* bl_k_quantize_rows, bit for bit (max|x| is order-free; the vector round-to-nearest-even is
   lrintf's; a row holding a NaN goes to the scalar code, whose fmaxf skips NaN). */
void bl_kf_quantize_rows(int16_t *q, float *scale, const float *x, int n, int cols);
/* bl_k_softmax, bit for bit: vector max, exp, sum and final scaling. */
void bl_kf_softmax(float *x, int len);
/* bl_k_layernorm, bit for bit. */
void bl_kf_layernorm(float *x, const float *g, const float *b, int n, int dim, float eps);
/* bl_k_to_u16, bit for bit. */
void bl_kf_to_u16(uint16_t *dst, const float *src, size_t len);
/* bl_k_act, bit for bit (GELU's erf in vectors). */
void bl_kf_act(float *x, size_t len, int act);
/* The walk the vector score kernels share (kernels_dispatch.c): blocks of 4 query rows (single
   rows for the last 1-3) × 2·width then width keys through blk[rows == 4][2 vectors], the last
   keys by bl_k_scores' running sum. A block kernel writes P for its rows and keys j.. */
typedef void bl_scores_blk(float *P, int pstride, const float *q, int qstride, const float *kt,
                           int n, int j, int d, float scale);
void bl_k_scores_walk(float *P, int pstride, const float *q, int qstride, int m, const float *kt,
                      int n, int d, float scale, int width, bl_scores_blk *const blk[2][2]);
/* The scalar definitions of the attention kernels above (kernels_dispatch.c): the reference the
   vector versions are tested against. kt[c·n + j] = k[j·kstride + c] for c < d, j < n (one
   head's keys, columns first; n·d floats). */
void bl_k_transpose_keys(float *kt, const float *k, int kstride, int n, int d);
void bl_k_scores(float *p, const float *q, const float *kt, int n, int d, float scale);
void bl_k_pv(float *out, const float *p, const float *v, int vstride, int n, int d);
/* Which variant runs ("wasm-simd128", "avx2", "scalar"); force the scalar kernels (benchmarks,
   tests; the environment variable BERTLENS_KERNELS=scalar does the same natively). */
const char *bl_kf_name(void);
void bl_kf_force_scalar(int on);

#endif
