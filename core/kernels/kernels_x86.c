/* kernels_x86.c — the AVX2 table for the native CLI on x86-64 (see kernels.h).

   The build uses no -mavx2: only the vector kernels below carry __attribute__((target("avx2"))),
   and bl_kernels_avx2 offers their table only when __builtin_cpu_supports says the CPU has
   AVX2, so one binary runs on any x86-64 CPU (older ones get the scalar table). FMA is
   deliberately not enabled: a fused multiply-add rounds once where the scalar code rounds
   twice, and the f32 kernels here are bit-identical to the scalar reference (same summation
   orders). The loops around the blocks are kernels_dispatch.c's, shared with SIMD128. */
#include "kernels/kernels.h"

#if defined(__x86_64__) && !defined(__wasm_simd128__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define BL_AVX2 __attribute__((target("avx2")))

/* ---- int8 × int12 linear ----------------------------------------------------------------
   The weights are sign-extended to i16 (vpmovsxbw), the activations are i16 already (12-bit,
   bl_k_quantize_rows), and vpmaddwd multiplies them pairwise into i32 lanes: exact for every
   int8 weight, -128 included. R weight rows × T tokens per block: each widened weight vector meets
   T tokens and each widened token vector R rows, with R·T accumulators in registers. */

BL_AVX2 static inline int32_t bl_x86_hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

#define BL_X86_Q8_BLOCK(R, T)                                                                   \
    BL_AVX2 static void bl_x86_q8_##R##x##T(int32_t *res, const int8_t *w, const int16_t *x,    \
                                              int in) {                                         \
        __m256i acc[R][T];                                                                      \
        for (int r = 0; r < R; r++)                                                             \
            for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_si256();                     \
        int i = 0;                                                                              \
        for (; i + 16 <= in; i += 16) {                                                         \
            __m256i xv[T];                                                                      \
            for (int t = 0; t < T; t++)                                                         \
                xv[t] = _mm256_loadu_si256((const __m256i *)(x + (size_t)t * in + i));          \
            for (int r = 0; r < R; r++) {                                                       \
                const __m256i wv = _mm256_cvtepi8_epi16(                                        \
                    _mm_loadu_si128((const __m128i *)(w + (size_t)r * in + i)));                \
                for (int t = 0; t < T; t++)                                                     \
                    acc[r][t] = _mm256_add_epi32(acc[r][t], _mm256_madd_epi16(wv, xv[t]));      \
            }                                                                                   \
        }                                                                                       \
        for (int r = 0; r < R; r++)                                                             \
            for (int t = 0; t < T; t++) {                                                       \
                int32_t s = bl_x86_hsum_i32(acc[r][t]);                                         \
                const int8_t *wr = w + (size_t)r * in;                                          \
                const int16_t *xr = x + (size_t)t * in;                                         \
                for (int j = i; j < in; j++) s += (int32_t)wr[j] * (int32_t)xr[j];              \
                res[r * T + t] = s;                                                             \
            }                                                                                   \
    }

BL_X86_Q8_BLOCK(4, 2)
BL_X86_Q8_BLOCK(4, 1)
BL_X86_Q8_BLOCK(1, 2)
BL_X86_Q8_BLOCK(1, 1)

static bl_q8_blk *const bl_x86_q8[2][2] = {{bl_x86_q8_1x1, bl_x86_q8_1x2}, {bl_x86_q8_4x1, bl_x86_q8_4x2}};

static void bl_x86_linear_q8(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                             const float *bias, int n) {
    bl_k_linear_q8_walk(y, xq, xs, w, bias, n, bl_x86_q8);
}

/* ---- int16 (13-bit) × int16 linear -------------------------------------------------------
   Both operands are i16 already; vpmaddwd gives each i32 lane two products (≤ 2·4095·32767),
   so a lane takes 8 of them (16 products, 128 inputs of a row) before it is widened into
   int64 lanes: 16·4095·32767 < 2^31, and the total is exact whatever the grouping
   (bl_k_linear_i16). */

BL_AVX2 static inline __m256i bl_x86_widen_add(__m256i acc64, __m256i v32) {
    return _mm256_add_epi64(acc64, _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(v32)),
                                                    _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v32, 1))));
}

BL_AVX2 static inline int64_t bl_x86_hsum_i64(__m256i v) {
    int64_t l[4];
    _mm256_storeu_si256((__m256i *)l, v);
    return (l[0] + l[1]) + (l[2] + l[3]);
}

#define BL_X86_I16_BLOCK(R, T)                                                                  \
    BL_AVX2 static void bl_x86_i16_##R##x##T(int64_t *res, const int16_t *w, const int16_t *x,  \
                                               int in) {                                        \
        __m256i acc[R][T];                                                                      \
        for (int r = 0; r < R; r++)                                                             \
            for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_si256();                     \
        int i = 0;                                                                              \
        while (i + 16 <= in) {                                                                  \
            __m256i a32[R][T];                                                                  \
            for (int r = 0; r < R; r++)                                                         \
                for (int t = 0; t < T; t++) a32[r][t] = _mm256_setzero_si256();                 \
            const int end = in - i < 128 ? i + ((in - i) & ~15) : i + 128;                     \
            for (; i < end; i += 16) {                                                          \
                __m256i xv[T];                                                                  \
                for (int t = 0; t < T; t++)                                                     \
                    xv[t] = _mm256_loadu_si256((const __m256i *)(x + (size_t)t * in + i));      \
                for (int r = 0; r < R; r++) {                                                   \
                    const __m256i wv = _mm256_loadu_si256((const __m256i *)(w + (size_t)r * in + i)); \
                    for (int t = 0; t < T; t++)                                                 \
                        a32[r][t] = _mm256_add_epi32(a32[r][t], _mm256_madd_epi16(wv, xv[t]));  \
                }                                                                               \
            }                                                                                   \
            for (int r = 0; r < R; r++)                                                         \
                for (int t = 0; t < T; t++) acc[r][t] = bl_x86_widen_add(acc[r][t], a32[r][t]); \
        }                                                                                       \
        for (int r = 0; r < R; r++)                                                             \
            for (int t = 0; t < T; t++) {                                                       \
                int64_t s = bl_x86_hsum_i64(acc[r][t]);                                         \
                const int16_t *wr = w + (size_t)r * in;                                         \
                const int16_t *xr = x + (size_t)t * in;                                         \
                for (int j = i; j < in; j++) s += (int32_t)wr[j] * (int32_t)xr[j];              \
                res[r * T + t] = s;                                                             \
            }                                                                                   \
    }

BL_X86_I16_BLOCK(4, 2)
BL_X86_I16_BLOCK(4, 1)
BL_X86_I16_BLOCK(1, 2)
BL_X86_I16_BLOCK(1, 1)

static bl_i16_blk *const bl_x86_i16[2][2] = {{bl_x86_i16_1x1, bl_x86_i16_1x2}, {bl_x86_i16_4x1, bl_x86_i16_4x2}};

static void bl_x86_linear_i16(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                              const float *bias, int n) {
    bl_k_linear_i16_walk(y, xq, xs, w, bias, n, 4, bl_x86_i16);
}

/* ---- f32 dot products in the scalar kernels' order -------------------------------------
   Lane k of one __m256 is the scalar s[k]; the tail and the final reduction run as scalar
   code on the stored lanes, exactly as kernels_scalar.c does. */

static float bl_x86_reduce8(const float s[8]) {
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

/* Σ w[i]·x_t[i] for T ≤ 4 tokens (rows of x at stride); w is F32 or, with i8 set, int8 widened
   to f32 (the scalar bl_k_dot_i8: (float)q · x). */
BL_AVX2 static void bl_x86_dot4(float *res, const void *w, int i8, const float *x, size_t stride,
                                int len, int T) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    const float *wf = (const float *)w;
    const int8_t *wq = (const int8_t *)w;
    int i = 0;
    if (T == 4) {
        for (; i + 8 <= len; i += 8) {
            const __m256 wv = i8 ? _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
                                       _mm_loadl_epi64((const __m128i *)(wq + i))))
                                 : _mm256_loadu_ps(wf + i);
            for (int t = 0; t < 4; t++)
                acc[t] = _mm256_add_ps(acc[t], _mm256_mul_ps(wv, _mm256_loadu_ps(x + t * stride + i)));
        }
    } else {
        for (; i + 8 <= len; i += 8) {
            const __m256 wv = i8 ? _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
                                       _mm_loadl_epi64((const __m128i *)(wq + i))))
                                 : _mm256_loadu_ps(wf + i);
            for (int t = 0; t < T; t++)
                acc[t] = _mm256_add_ps(acc[t], _mm256_mul_ps(wv, _mm256_loadu_ps(x + t * stride + i)));
        }
    }
    if (T == 4 && i == len) {
        /* no tail: u_t = low + high half holds s0+s4 .. s3+s7; after a 4×4 transpose column k
           has lane k of every u_t, and (c0+c1)+(c2+c3) is bl_x86_reduce8's order for all four
           at once (storing 8 lanes per row was barely faster than scalar) */
        __m128 u0 = _mm_add_ps(_mm256_castps256_ps128(acc[0]), _mm256_extractf128_ps(acc[0], 1));
        __m128 u1 = _mm_add_ps(_mm256_castps256_ps128(acc[1]), _mm256_extractf128_ps(acc[1], 1));
        __m128 u2 = _mm_add_ps(_mm256_castps256_ps128(acc[2]), _mm256_extractf128_ps(acc[2], 1));
        __m128 u3 = _mm_add_ps(_mm256_castps256_ps128(acc[3]), _mm256_extractf128_ps(acc[3], 1));
        _MM_TRANSPOSE4_PS(u0, u1, u2, u3);
        _mm_storeu_ps(res, _mm_add_ps(_mm_add_ps(u0, u1), _mm_add_ps(u2, u3)));
        return;
    }
    for (int t = 0; t < T; t++) {
        float s[8];
        _mm256_storeu_ps(s, acc[t]);
        const float *xr = x + t * stride;
        for (int j = i, k = 0; j < len; j++, k++) s[k] += (i8 ? (float)wq[j] : wf[j]) * xr[j];
        res[t] = bl_x86_reduce8(s);
    }
}

static void bl_x86_linear_f32(float *y, const float *x, const bl_tensor *w, const float *bias, int n) {
    bl_k_linear_f32_walk(y, x, w, bias, n, bl_x86_dot4);
}

/* ---- attention --------------------------------------------------------------------------- */

/* out[i] += p[j]·v[j][i] for j in order: a product rounded, then added, as bl_k_axpy does;
   32 outputs stay in registers across all n rows of v. */
BL_AVX2 static void bl_x86_pv(float *out, const float *p, const float *v, int vstride, int n,
                              int d) {
    int i = 0;
    for (; i + 32 <= d; i += 32) {
        __m256 a0 = _mm256_loadu_ps(out + i), a1 = _mm256_loadu_ps(out + i + 8);
        __m256 a2 = _mm256_loadu_ps(out + i + 16), a3 = _mm256_loadu_ps(out + i + 24);
        for (int j = 0; j < n; j++) {
            const __m256 pj = _mm256_set1_ps(p[j]);
            const float *vr = v + (size_t)j * vstride + i;
            a0 = _mm256_add_ps(a0, _mm256_mul_ps(pj, _mm256_loadu_ps(vr)));
            a1 = _mm256_add_ps(a1, _mm256_mul_ps(pj, _mm256_loadu_ps(vr + 8)));
            a2 = _mm256_add_ps(a2, _mm256_mul_ps(pj, _mm256_loadu_ps(vr + 16)));
            a3 = _mm256_add_ps(a3, _mm256_mul_ps(pj, _mm256_loadu_ps(vr + 24)));
        }
        _mm256_storeu_ps(out + i, a0); _mm256_storeu_ps(out + i + 8, a1);
        _mm256_storeu_ps(out + i + 16, a2); _mm256_storeu_ps(out + i + 24, a3);
    }
    for (; i + 8 <= d; i += 8) {
        __m256 a = _mm256_loadu_ps(out + i);
        for (int j = 0; j < n; j++)
            a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_set1_ps(p[j]), _mm256_loadu_ps(v + (size_t)j * vstride + i)));
        _mm256_storeu_ps(out + i, a);
    }
    for (; i < d; i++) {
        float a = out[i];
        for (int j = 0; j < n; j++) a += p[j] * v[(size_t)j * vstride + i];
        out[i] = a;
    }
}

/* Scores for R query rows × 8·V keys from column j (kernels_simd.c's scheme in 256-bit
   vectors): per c one load of each key vector, one broadcast per row, multiply then add. */
#define BL_X86_SCORES(R, V)                                                                     \
    BL_AVX2 static void bl_x86_scores_##R##x##V(float *P, int pstride, const float *q,         \
                                                int qstride, const float *kt, int n, int j,    \
                                                int d, float scale) {                          \
        __m256 acc[R][V];                                                                       \
        for (int r = 0; r < R; r++)                                                             \
            for (int v = 0; v < V; v++) acc[r][v] = _mm256_setzero_ps();                       \
        for (int c = 0; c < d; c++) {                                                           \
            __m256 kv[V];                                                                       \
            for (int v = 0; v < V; v++) kv[v] = _mm256_loadu_ps(kt + (size_t)c * n + j + 8 * v); \
            for (int r = 0; r < R; r++) {                                                       \
                const __m256 qv = _mm256_broadcast_ss(q + (size_t)r * qstride + c);             \
                for (int v = 0; v < V; v++)                                                     \
                    acc[r][v] = _mm256_add_ps(acc[r][v], _mm256_mul_ps(qv, kv[v]));             \
            }                                                                                   \
        }                                                                                       \
        const __m256 sc = _mm256_set1_ps(scale);                                                \
        for (int r = 0; r < R; r++)                                                             \
            for (int v = 0; v < V; v++)                                                         \
                _mm256_storeu_ps(P + (size_t)r * pstride + j + 8 * v, _mm256_mul_ps(acc[r][v], sc)); \
    }
BL_X86_SCORES(4, 2)
BL_X86_SCORES(4, 1)
BL_X86_SCORES(1, 2)
BL_X86_SCORES(1, 1)

static bl_scores_blk *const bl_x86_scores[2][2] = {
    {bl_x86_scores_1x1, bl_x86_scores_1x2}, {bl_x86_scores_4x1, bl_x86_scores_4x2}};

static void bl_x86_scores_rows(float *P, int pstride, const float *q, int qstride, int m,
                               const float *kt, int n, int d, float scale) {
    bl_k_scores_walk(P, pstride, q, qstride, m, kt, n, d, scale, 8, bl_x86_scores);
}

/* Two output rows × 32 columns: each loaded value vector serves both rows (8 accumulators). */
BL_AVX2 static void bl_x86_pv2(float *o0, float *o1, const float *p0, const float *p1,
                               const float *v, int vstride, int n, int d32) {
    for (int i = 0; i < d32; i += 32) {
        __m256 a[2][4];
        for (int c = 0; c < 4; c++) {
            a[0][c] = _mm256_loadu_ps(o0 + i + 8 * c);
            a[1][c] = _mm256_loadu_ps(o1 + i + 8 * c);
        }
        for (int j = 0; j < n; j++) {
            const __m256 b0 = _mm256_set1_ps(p0[j]), b1 = _mm256_set1_ps(p1[j]);
            const float *vr = v + (size_t)j * vstride + i;
            for (int c = 0; c < 4; c++) {
                const __m256 vv = _mm256_loadu_ps(vr + 8 * c);
                a[0][c] = _mm256_add_ps(a[0][c], _mm256_mul_ps(b0, vv));
                a[1][c] = _mm256_add_ps(a[1][c], _mm256_mul_ps(b1, vv));
            }
        }
        for (int c = 0; c < 4; c++) {
            _mm256_storeu_ps(o0 + i + 8 * c, a[0][c]);
            _mm256_storeu_ps(o1 + i + 8 * c, a[1][c]);
        }
    }
}

static void bl_x86_pv_rows(float *out, int ostride, const float *P, int pstride, int m,
                           const float *v, int vstride, int n, int d) {
    bl_k_pv_walk(out, ostride, P, pstride, m, v, vstride, n, d, 32, bl_x86_pv2, bl_x86_pv);
}

/* ---- activation quantization and softmax ------------------------------------------------ */

/* One row of bl_k_quantize_rows. max|x| does not depend on order; vcvtps2dq rounds half to
   even under the default MXCSR, as lrintf does; the clamp is the scalar one. A NaN anywhere
   returns -1 so the caller runs the scalar code (fmaxf skips NaN, vmaxps may not). */
BL_AVX2 static int bl_x86_quantize_row_q(int16_t *q, float *scale, const float *x, int cols, int Q) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 mx = _mm256_setzero_ps(), nan = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= cols; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        mx = _mm256_max_ps(mx, _mm256_and_ps(v, absmask));
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    if (_mm256_movemask_ps(nan)) return -1;
    float lanes[8], m = 0.0f;
    _mm256_storeu_ps(lanes, mx);
    for (int k = 0; k < 8; k++) m = lanes[k] > m ? lanes[k] : m;
    for (int j = i; j < cols; j++) {
        if (x[j] != x[j]) return -1;
        const float a = x[j] < 0 ? -x[j] : x[j];
        m = a > m ? a : m;
    }
    if (!(m > 0.0f) || isinf(m)) {
        memset(q, 0, (size_t)cols * sizeof *q);
        *scale = 0.0f;
        return 0;
    }
    const float inv = (float)Q / m;
    const __m256 vinv = _mm256_set1_ps(inv);
    const __m256i lo = _mm256_set1_epi32(-Q), hi = _mm256_set1_epi32(Q);
    i = 0;
    for (; i + 16 <= cols; i += 16) {
        __m256i v[2];
        for (int k = 0; k < 2; k++)
            v[k] = _mm256_min_epi32(_mm256_max_epi32(
                       _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * k), vinv)), lo), hi);
        /* packs works within 128-bit halves: the 64-bit permute restores element order */
        _mm256_storeu_si256((__m256i *)(q + i), _mm256_permute4x64_epi64(_mm256_packs_epi32(v[0], v[1]), 0xd8));
    }
    for (; i < cols; i++) {
        const long r = lrintf(x[i] * inv);
        q[i] = (int16_t)(r > Q ? Q : r < -Q ? -Q : r);
    }
    *scale = m / (float)Q;
    return 0;
}

static int bl_x86_quantize_row(int16_t *q, float *scale, const float *x, int cols) {
    return bl_x86_quantize_row_q(q, scale, x, cols, bl_k_qmax(cols));
}

static void bl_x86_quantize_rows(int16_t *q, float *scale, const float *x, int n, int cols) {
    bl_k_quantize_walk(q, scale, x, n, cols, bl_x86_quantize_row);
}

static void bl_x86_quantize_rows16(int16_t *q, float *scale, const float *x, int n, int cols) {
    bl_k_quantize16_walk(q, scale, x, n, cols, bl_x86_quantize_row_q);
}

/* The max is order-free, and with a NaN the scalar result is all NaN either way; equal ±0
   maxima give the same x - m. bl_k_exp and the 4-lane sum stay scalar (natively the exp is a
   call either way), the final scaling is a plain vector multiply. */
BL_AVX2 static void bl_x86_softmax(float *x, int len) {
    __m256 mv = _mm256_set1_ps(x[0]);
    int i = 0;
    for (; i + 8 <= len; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(x + i));
    float lanes[8], m;
    _mm256_storeu_ps(lanes, mv);
    m = lanes[0];
    for (int k = 1; k < 8; k++) m = lanes[k] > m ? lanes[k] : m;
    for (; i < len; i++) m = x[i] > m ? x[i] : m;
    if (m != m) { bl_k_softmax(x, len); return; }
    float s[4] = {0};
    for (i = 0; i < len; i++) { x[i] = bl_k_exp(x[i] - m); s[i & 3] += x[i]; }
    const float inv = 1.0f / ((s[0] + s[1]) + (s[2] + s[3]));
    const __m256 vi = _mm256_set1_ps(inv);
    for (i = 0; i + 8 <= len; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vi));
    for (; i < len; i++) x[i] *= inv;
}

/* GELU, LayerNorm and the 16-bit rounding have no AVX2 versions: the scalar kernels. */
static const bl_kernels bl_avx2_table = {
    .name = "avx2",
    .linear_q8 = bl_x86_linear_q8,
    .linear_f32 = bl_x86_linear_f32,
    .quantize_rows = bl_x86_quantize_rows,
    .scores_rows = bl_x86_scores_rows,
    .pv_rows = bl_x86_pv_rows,
    .softmax = bl_x86_softmax,
    .layernorm = bl_k_layernorm,
    .act = bl_k_act,
    .to_u16 = bl_k_to_u16,
    .linear_i16 = bl_x86_linear_i16,
    .quantize_rows16 = bl_x86_quantize_rows16,
};

const bl_kernels *bl_kernels_avx2(void) {
    __builtin_cpu_init();   /* a no-op once the startup constructors have run */
    return __builtin_cpu_supports("avx2") ? &bl_avx2_table : NULL;
}

#else
const bl_kernels *bl_kernels_avx2(void) { return 0; }
#endif
