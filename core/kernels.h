/* kernels.h — the numeric kernels behind the forward pass (internal boundary).

   bert.c calls only these functions for the heavy math. kernels_scalar.c is the portable
   reference; faster variants (WASM SIMD128, x86) must give the same results within float
   rounding and are checked against the scalar versions by tests/test_kernels.c.

   Conventions: row-major; a linear weight is a bl_tensor [out][in] as HF nn.Linear stores it
   (dtype F32, F16 or I8 with one f32 scale per row); n is the number of activation rows
   (tokens). Kernels never allocate, never fail and never print: the caller validates shapes. */
#ifndef BL_KERNELS_H
#define BL_KERNELS_H

#include "internal.h"

/* y[n][out] = x[n][in] · Wᵀ + bias (bias may be NULL). W is F32, F16 or I8 and is widened /
   dequantized on the fly (I8: sum(q·x) × row scale), so the math is f32 whatever the dtype.
   in = w->cols, out = w->rows. y must not alias x. */
void bl_k_linear_f32(float *y, const float *x, const bl_tensor *w, const float *bias, int n);

/* Symmetric per-row int8 quantization of activations: for each of n rows of `cols` values,
   scale[r] = max|x| / 127 and q = round(x / scale) (0 and scale 0 for an all-zero row). */
void bl_k_quantize_rows(int8_t *q, float *scale, const float *x, int n, int cols);

/* Integer linear: W must be I8. y[t][o] = (Σ xq[t][i]·wq[o][i]) × xs[t] × ws[o] + bias[o],
   the dot product accumulated exactly in int32 (|sum| ≤ 127²·in fits for in < 133000). */
void bl_k_linear_q8(float *y, const int8_t *xq, const float *xs, const bl_tensor *w,
                    const float *bias, int n);

/* One row of a matrix (embedding lookup) widened to f32: out[cols]. */
void bl_k_row_f32(float *out, const bl_tensor *t, int row);

/* In place over n rows of dim values: x = (x - mean) / sqrt(var + eps) * g + b,
   var the biased variance (as torch.nn.LayerNorm). */
void bl_k_layernorm(float *x, const float *g, const float *b, int n, int dim, float eps);

/* Numerically stable softmax of one row of len values, in place (subtract the max). */
void bl_k_softmax(float *x, int len);

/* Activation in place: BL_ACT_GELU (erf), BL_ACT_GELU_TANH, BL_ACT_RELU. */
void bl_k_act(float *x, size_t len, int act);

/* y[i] += x[i] (residual connections). */
void bl_k_add(float *y, const float *x, size_t len);

/* Σ a[i]·b[i] (attention scores; also the inner loop of bl_k_linear_f32). Summed in 8
   interleaved lanes (lane k takes i ≡ k mod 8), reduced ((0+4)+(1+5))+((2+6)+(3+7)): a
   vector kernel that keeps this order is bit-identical to the scalar one. */
float bl_k_dot(const float *a, const float *b, int len);

/* y[i] += a · x[i] (attention context: P·V one row of V at a time). */
void bl_k_axpy(float *y, float a, const float *x, int len);

#endif
