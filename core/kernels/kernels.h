/* kernels.h — the numeric kernels behind the forward pass (internal boundary).

   bl_k_* (kernels_scalar.c) are the scalar reference: the definition of every result, written
   for clarity first. The kernels that also have vector versions are gathered in a bl_kernels
   table, one per target: scalar (the bl_k_* functions themselves), AVX2 (kernels_x86.c, x86-64,
   used when the CPU has it) and SIMD128 (kernels_simd.c, WebAssembly built with -msimd128).
   Every entry of every table gives the scalar result bit for bit: linear_q8 by integer math,
   the f32 ones by keeping the scalar summation order without FMA, so the table changes speed
   only, and WASM and native agree. tests/test_kernels.c checks the scalar kernels against
   double-precision maths, tests/test_kernels_simd.c every table against the scalar kernels.

   A context takes bl_kernels_best() when it is made (bl_ctx_new) and keeps it: nothing is
   chosen per call and nothing global changes. Tests and benchmarks set another table on a
   context with bl_ctx_set_kernels.

   Conventions: row-major; a linear weight is a bl_tensor [out][in] as HF nn.Linear stores it
   (dtype F32, F16, or I8 / I16 with one f32 scale per row); n is the number of activation rows
   (tokens). Kernels never allocate, never fail and never print: the caller validates shapes. */
#ifndef BL_KERNELS_H
#define BL_KERNELS_H

#include "base/internal.h"

/* ---- The scalar reference (kernels_scalar.c) ------------------------------------------- */

/* y[n][out] = x[n][in] · Wᵀ + bias (bias may be NULL). W is F32, F16, I8 or I16 and is widened /
   dequantized on the fly (I8: sum(q·x) × row scale), so the math is f32 whatever the dtype;
   each dot product as bl_k_dot (bl_k_dot_i8's same lanes for I8; F16 in chunks of 256).
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

/* Integer linear: W must be I8. y[t][o] = (Σ xq[t][i]·wq[o][i]) × (xs[t] × ws[o]) + bias[o],
   the dot product accumulated exactly in int32 (|sum| ≤ 128·bl_k_qmax(in)·in < 2^31). */
void bl_k_linear_q8(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                    const float *bias, int n);

/* The same with Q = 32767 (16 bits), the input of linear_i16: with 13-bit weights, 12-bit
   activations still moved attention on peaked heads by 0.13–0.24 (bench/README.md). */
#define BL_K_Q16 32767
void bl_k_quantize_rows16(int16_t *q, float *scale, const float *x, int n, int cols);

/* Integer linear for I16 weights (int16 holding -4095..4095, one scale per row) against
   16-bit activations (bl_k_quantize_rows16): y[t][o] = (float)acc × (xs[t] × ws[o]) + bias[o],
   acc = Σ xq[t][i]·wq[o][i] exactly, as an int64. The sum is exact, so any grouping gives the
   same acc: the vector kernels add products in int32 lanes for at most 16 products per lane
   (16·4095·32767 < 2^31) before widening to int64, and every target and thread count gets the
   same bits. (float) of an int64 rounds to nearest even on every target. */
void bl_k_linear_i16(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                     const float *bias, int n);

/* How many inputs of a row the vector kernels may sum in int32 lanes before widening, for
   these weights (q: rows × cols, |q| ≤ 4095): the largest run R = 64·2^k (at most cols rounded
   up to a power of two) such that in every row, every aligned block of R inputs and each of the
   four classes (i / 2) mod 4 — the inputs one i32x4.dot_i16x8_s lane takes; a vpmaddwd lane
   of a wider vector takes a subset of one — has Σ|q| ≤ BL_K_I16_LANE_SUM, so that the lane's
   sum against 16-bit activations stays below 2^31. 64 always qualifies (16 · 4095); normal
   weights, whose typical entry is well below the row's largest, reach 128 (heavier-tailed
   rows more), which halves the widening work or better without changing a bit of the sum. */
#define BL_K_I16_LANE_SUM 65538   /* (2^31 - 1) / 32767 */
int bl_k_i16_run(const int16_t *q, int rows, int cols);
/* out[r] = Σ_c w[r][c] (int32: exact for cols < 2^24), the int8 rows' sums a model keeps */
void bl_k_row_sums_i8(int32_t *out, const int8_t *w, int rows, int cols);

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

/* Activation in place: BL_ACT_GELU (erf, via bl_k_erf), BL_ACT_GELU_TANH (libm's tanhf, so
   WASM and native may differ there), BL_ACT_RELU. */
void bl_k_act(float *x, size_t len, int act);

/* y[i] += x[i] (residual connections). */
void bl_k_add(float *y, const float *x, size_t len);

/* Σ a[i]·b[i] (the inner loop of bl_k_linear_f32). Summed in 8
   interleaved lanes (lane k takes i ≡ k mod 8), reduced ((0+4)+(1+5))+((2+6)+(3+7)): a
   vector kernel that keeps this order is bit-identical to the scalar one. */
float bl_k_dot(const float *a, const float *b, int len);

/* y[i] += a · x[i] (attention context: P·V one row of V at a time). */
void bl_k_axpy(float *y, float a, const float *x, int len);

/* Attention, one head. kt[c·n + j] = k[j·kstride + c] for c < d, j < n: the head's keys
   transposed (columns first; n·d floats), so that a vector holds several keys. */
void bl_k_transpose_keys(float *kt, const float *k, int kstride, int n, int d);
/* Scores of one query row: p[j] = (Σ_c q[c]·kt[c·n + j], c = 0..d-1 in order) × scale, one
   running sum per key (the order a vector kernel has with one key per lane). */
void bl_k_scores(float *p, const float *q, const float *kt, int n, int d, float scale);
/* Context of one query row: for j = 0..n-1 in order, bl_k_axpy(out, p[j], v + j·vstride, d). */
void bl_k_pv(float *out, const float *p, const float *v, int vstride, int n, int d);
/* The same for m query rows (q rows at qstride, P rows at pstride, out rows at ostride). */
void bl_k_scores_rows(float *P, int pstride, const float *q, int qstride, int m,
                      const float *kt, int n, int d, float scale);
void bl_k_pv_rows(float *out, int ostride, const float *P, int pstride, int m,
                  const float *v, int vstride, int n, int d);

/* ---- One table per target ---------------------------------------------------------------
   The kernels the forward pass calls that have vector versions, each with the signature and
   the result of the bl_k_* kernel of the same name. The rest (bl_k_row_f32, bl_k_add,
   bl_k_transpose_keys) are scalar on every target and called directly. */
typedef struct bl_kernels {
    const char *name;   /* "scalar", "avx2", "wasm-simd128" */
    void (*linear_q8)(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                      const float *bias, int n);
    /* F16 weights take the scalar kernel on every target */
    void (*linear_f32)(float *y, const float *x, const bl_tensor *w, const float *bias, int n);
    void (*quantize_rows)(int16_t *q, float *scale, const float *x, int n, int cols);
    /* Several query rows per call let each loaded key / value vector serve several queries. */
    void (*scores_rows)(float *P, int pstride, const float *q, int qstride, int m,
                        const float *kt, int n, int d, float scale);
    void (*pv_rows)(float *out, int ostride, const float *P, int pstride, int m,
                    const float *v, int vstride, int n, int d);
    void (*softmax)(float *x, int len);
    void (*layernorm)(float *x, const float *g, const float *b, int n, int dim, float eps);
    void (*act)(float *x, size_t len, int act);
    void (*to_u16)(uint16_t *dst, const float *src, size_t len);
    /* I16 weights (kernels.h bl_k_linear_i16) and their 16-bit activations */
    void (*linear_i16)(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                       const float *bias, int n);
    void (*quantize_rows16)(int16_t *q, float *scale, const float *x, int n, int cols);
} bl_kernels;

/* The tables. bl_kernels_avx2 is NULL unless this is x86-64 and the CPU has AVX2 (the build
   uses no -mavx2, so one binary runs on every x86-64 CPU); bl_kernels_simd128 is NULL unless
   the build targets WebAssembly SIMD128 (a compile-time choice: the page requires SIMD). */
const bl_kernels *bl_kernels_scalar(void);
const bl_kernels *bl_kernels_avx2(void);
const bl_kernels *bl_kernels_simd128(void);
/* The fastest of them here (kernels_dispatch.c); with the environment variable
   BERTLENS_KERNELS=scalar, the scalar table (to compare whole runs of the CLI). */
const bl_kernels *bl_kernels_best(void);
/* The table a context runs (bert.c); NULL sets bl_kernels_best() again. */
void bl_ctx_set_kernels(bl_ctx *c, const bl_kernels *k);
const bl_kernels *bl_ctx_kernels(const bl_ctx *c);

/* ---- Loop drivers the vector targets share (kernels_dispatch.c) -------------------------
   Each walks a problem in blocks and hands every block to the target's block kernels (called
   through pointers, which also keeps binaryen from inlining them into the loops: inlined, V8
   ran out of vector registers); the leftovers that fit no block run in the scalar order. */

/* Tokens per chunk in the linear kernels: the chunk's activations (≤ 64 KiB) stay in L2
   while every weight row passes over them, instead of streaming all n rows per weight block. */
int bl_k_chunk(int in, size_t elem);

/* linear_q8 in blocks of R = 4 weight rows (single rows for the last 1–3) × T = 2 tokens (1 for
   a chunk's odd last token): blk[R == 4][T == 2](res, w, x, in) writes the exact int32 sums
   res[r·T + t] of w rows r against x rows t (rows of `in`); the epilogue is the scalar one. */
typedef void bl_q8_blk(int32_t *res, const int8_t *w, const int16_t *x, int in);
void bl_k_linear_q8_walk(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                         const float *bias, int n, bl_q8_blk *const blk[2][2]);
/* The linear_q8 epilogue for R rows × T tokens from row o and token t, the scalar expression:
   y = (float)res × (xs[t] × ws[o]) + bias[o]. */
void bl_k_q8_store(float *y, int out, const int32_t *res, int R, int T, int o, int t,
                   const float *xs, const float *ws, const float *bias);

/* linear_f32 for F32 and I8 weights (F16 goes to bl_k_linear_f32) in chunks of tokens, each
   weight row against T ≤ 4 tokens at a time: dot4(res, w row, i8, x, stride, in, T) writes
   res[t] = bl_k_dot (I8: bl_k_dot_i8's) of the row and x + t·stride; the epilogue is the
   scalar one. */
typedef void bl_dot4_fn(float *res, const void *w, int i8, const float *x, size_t stride,
                        int len, int T);
void bl_k_linear_f32_walk(float *y, const float *x, const bl_tensor *w, const float *bias,
                          int n, bl_dot4_fn *dot4);

/* scores_rows in blocks of 4 query rows (single rows for the last 1–3) × 2·width then width
   keys through blk[rows == 4][2 vectors]; the last keys by bl_k_scores' running sum. A block
   kernel writes P for its rows and keys j.. */
typedef void bl_scores_blk(float *P, int pstride, const float *q, int qstride, const float *kt,
                           int n, int j, int d, float scale);
void bl_k_scores_walk(float *P, int pstride, const float *q, int qstride, int m, const float *kt,
                      int n, int d, float scale, int width, bl_scores_blk *const blk[2][2]);

/* pv_rows two query rows at a time over the first d & ~(width - 1) columns (pv2, each loaded
   value vector serving both rows), then pv1 (one row, any d) for the remaining columns and
   the last row. Columns are independent, so the split does not change any result. */
typedef void bl_pv2_fn(float *o0, float *o1, const float *p0, const float *p1, const float *v,
                       int vstride, int n, int dw);
typedef void bl_pv1_fn(float *out, const float *p, const float *v, int vstride, int n, int d);
void bl_k_pv_walk(float *out, int ostride, const float *P, int pstride, int m, const float *v,
                  int vstride, int n, int d, int width, bl_pv2_fn *pv2, bl_pv1_fn *pv1);

/* linear_i16 in blocks of R (2 or 4) weight rows (single rows for the rest) × T = 2 tokens (1
   for a chunk's odd last token): blk[R rows][T == 2](res, w, x, in) writes the exact sums
   res[r·T + t] (int64) of w rows r against x rows t; the epilogue is the scalar one. */
typedef void bl_i16_blk(int64_t *res, const int16_t *w, const int16_t *x, int in);
void bl_k_linear_i16_walk(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                          const float *bias, int n, int R, bl_i16_blk *const blk[2][2]);

/* quantize_rows16 as bl_k_quantize_walk with Q given to row (and the scalar fallback
   bl_k_quantize_rows16 for a row with a NaN). */
typedef int bl_quantize_rowq_fn(int16_t *q, float *scale, const float *x, int cols, int Q);
void bl_k_quantize16_walk(int16_t *q, float *scale, const float *x, int n, int cols,
                          bl_quantize_rowq_fn *row);

/* quantize_rows one row at a time through row(q, &scale, x, cols), which returns -1 for a row
   holding a NaN: that row goes to bl_k_quantize_rows (fmaxf skips NaN, vector max may not). */
typedef int bl_quantize_row_fn(int16_t *q, float *scale, const float *x, int cols);
void bl_k_quantize_walk(int16_t *q, float *scale, const float *x, int n, int cols,
                        bl_quantize_row_fn *row);

#endif
