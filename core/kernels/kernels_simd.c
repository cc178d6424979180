/* kernels_simd.c — the WebAssembly SIMD128 table (see kernels.h).

   Compiled only under __wasm_simd128__ (web/wasm.cmake builds with -msimd128; the page
   refuses browsers without SIMD), so the choice is made at compile time. emcc 3.1.6 has no
   relaxed SIMD, so no i8 dot product and no FMA: the int8 kernel widens to i16 and uses
   i32x4.dot_i16x8_s, and the f32 kernels multiply then add, which keeps them bit-identical to
   the scalar reference (its summation orders: linear_f32's 8 lanes are two f32x4 accumulators,
   lanes 0–3 and 4–7; the scores' one running sum per key is one lane per key). */
#include "kernels/kernels.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#include <math.h>
#include <string.h>

/* ---- int8 × int12 linear ----------------------------------------------------------------
   16 int8 weights are sign-extended into two i16x8 halves, the activations are already i16
   (12-bit, bl_k_quantize_rows), and i32x4.dot_i16x8_s multiplies and pairs them into i32 lanes:
   exact. A block is R weight rows × T tokens, so each widened weight vector is reused T times
   and each activation vector R times; 4×2 keeps the 8 accumulators and the operands within
   the 16 vector registers V8 has on x86-64. */

static inline int32_t bl_simd_hsum_i32(v128_t v) {
    return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) +
           wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

#define BL_SIMD_Q8_BLOCK(R, T)                                                                  \
    static void bl_simd_q8_##R##x##T(int32_t *res, const int8_t *w, const int16_t *x, int in) { \
        v128_t acc[R][T];                                                                       \
        for (int r = 0; r < R; r++)                                                             \
            for (int t = 0; t < T; t++) acc[r][t] = wasm_i32x4_splat(0);                        \
        int i = 0;                                                                              \
        for (; i + 16 <= in; i += 16) {                                                         \
            v128_t xl[T], xh[T];                                                                \
            for (int t = 0; t < T; t++) {                                                       \
                xl[t] = wasm_v128_load(x + (size_t)t * in + i);                                 \
                xh[t] = wasm_v128_load(x + (size_t)t * in + i + 8);                             \
            }                                                                                   \
            for (int r = 0; r < R; r++) {                                                       \
                const v128_t wv = wasm_v128_load(w + (size_t)r * in + i);                       \
                const v128_t wl = wasm_i16x8_extend_low_i8x16(wv);                              \
                const v128_t wh = wasm_i16x8_extend_high_i8x16(wv);                             \
                for (int t = 0; t < T; t++)                                                     \
                    acc[r][t] = wasm_i32x4_add(acc[r][t],                                       \
                                               wasm_i32x4_add(wasm_i32x4_dot_i16x8(wl, xl[t]),  \
                                                              wasm_i32x4_dot_i16x8(wh, xh[t])));\
            }                                                                                   \
        }                                                                                       \
        for (int r = 0; r < R; r++)                                                             \
            for (int t = 0; t < T; t++) {                                                       \
                int32_t s = bl_simd_hsum_i32(acc[r][t]);                                        \
                const int8_t *wr = w + (size_t)r * in;                                          \
                const int16_t *xr = x + (size_t)t * in;                                         \
                for (int j = i; j < in; j++) s += (int32_t)wr[j] * (int32_t)xr[j];              \
                res[r * T + t] = s;                                                             \
            }                                                                                   \
    }

BL_SIMD_Q8_BLOCK(4, 2)
BL_SIMD_Q8_BLOCK(4, 1)
BL_SIMD_Q8_BLOCK(1, 2)
BL_SIMD_Q8_BLOCK(1, 1)

/* One step of the packed-pair kernels: 8 inputs of two tokens (x0, x1) against four weight rows
   into the accumulators a[row][token]; L0..L3 load the rows' 8 weights as i16x8 (int8 widened,
   or int16 as they are), each right before its two products, as written out by hand. */
#define BL_SIMD_PAIR_STEP(a, x0, x1, L0, L1, L2, L3)                                              \
    do {                                                                                          \
        v128_t wv_ = (L0);                                                                        \
        a[0][0] = wasm_i32x4_add(a[0][0], wasm_i32x4_dot_i16x8(wv_, x0));                         \
        a[0][1] = wasm_i32x4_add(a[0][1], wasm_i32x4_dot_i16x8(wv_, x1));                         \
        wv_ = (L1);                                                                               \
        a[1][0] = wasm_i32x4_add(a[1][0], wasm_i32x4_dot_i16x8(wv_, x0));                         \
        a[1][1] = wasm_i32x4_add(a[1][1], wasm_i32x4_dot_i16x8(wv_, x1));                         \
        wv_ = (L2);                                                                               \
        a[2][0] = wasm_i32x4_add(a[2][0], wasm_i32x4_dot_i16x8(wv_, x0));                         \
        a[2][1] = wasm_i32x4_add(a[2][1], wasm_i32x4_dot_i16x8(wv_, x1));                         \
        wv_ = (L3);                                                                               \
        a[3][0] = wasm_i32x4_add(a[3][0], wasm_i32x4_dot_i16x8(wv_, x0));                         \
        a[3][1] = wasm_i32x4_add(a[3][1], wasm_i32x4_dot_i16x8(wv_, x1));                         \
    } while (0)

/* Four weight rows against every packed pair of a chunk (bl_simd_pack_pairs: the two tokens'
   activations interleaved 8 at a time, so both come from one pointer at fixed offsets and V8
   spends no address arithmetic on them), storing y directly: the four row sums of a token are
   reduced into one vector (integer sums, exact in any order) and the scalar epilogue runs on
   four lanes, same expression and order: (float)acc × (xs[t] × ws[o]) + bias[o]. */
static void bl_simd_q8p_4(float *y, int out, const int8_t *w, const int16_t *pk, int in,
                          int pairs, const float *xs, const float *ws, const float *bias) {
    const v128_t wsv = wasm_v128_load(ws), bv = bias ? wasm_v128_load(bias) : wasm_f32x4_splat(0.0f);
    for (int p = 0; p < pairs; p++) {
        v128_t a[4][2];
        for (int r = 0; r < 4; r++) a[r][0] = a[r][1] = wasm_i32x4_splat(0);
        const int8_t *w0 = w, *w1 = w + in, *w2 = w + 2 * (size_t)in, *w3 = w + 3 * (size_t)in;
        const int16_t *xp = pk + (size_t)p * 2 * in, *xe = xp + 2 * (size_t)in;
        for (; xp < xe; xp += 16, w0 += 8, w1 += 8, w2 += 8, w3 += 8) {
            const v128_t x0 = wasm_v128_load(xp), x1 = wasm_v128_load(xp + 8);
            BL_SIMD_PAIR_STEP(a, x0, x1, wasm_i16x8_load8x8(w0), wasm_i16x8_load8x8(w1),
                              wasm_i16x8_load8x8(w2), wasm_i16x8_load8x8(w3));
        }
        for (int k = 0; k < 2; k++) {
            const v128_t s01 = wasm_i32x4_add(wasm_i32x4_shuffle(a[0][k], a[1][k], 0, 4, 1, 5),
                                              wasm_i32x4_shuffle(a[0][k], a[1][k], 2, 6, 3, 7));
            const v128_t s23 = wasm_i32x4_add(wasm_i32x4_shuffle(a[2][k], a[3][k], 0, 4, 1, 5),
                                              wasm_i32x4_shuffle(a[2][k], a[3][k], 2, 6, 3, 7));
            const v128_t sum = wasm_i32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5),
                                              wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7));
            const int t = 2 * p + k;
            const v128_t sc = wasm_f32x4_mul(wasm_f32x4_splat(xs[t]), wsv);
            wasm_v128_store(y + (size_t)t * out,
                            wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum), sc), bv));
        }
    }
}

/* One weight row against one packed pair (the last 1–3 rows of a layer with out % 4 != 0). */
static void bl_simd_q8p_1(int32_t *res, const int8_t *w, const int16_t *xp, int in) {
    v128_t a0 = wasm_i32x4_splat(0), a1 = a0;
    for (int i = 0; i < in; i += 8, xp += 16) {
        const v128_t wv = wasm_i16x8_load8x8(w + i);
        a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wv, wasm_v128_load(xp)));
        a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wv, wasm_v128_load(xp + 8)));
    }
    res[0] = bl_simd_hsum_i32(a0);
    res[1] = bl_simd_hsum_i32(a1);
}

/* Called through a pointer the optimiser cannot see through: binaryen inlines a function with
   a single caller whatever its size, and inlined into the chunk loops V8 ran out of vector
   registers and kept the accumulators on the stack (44 instead of 59 GOP/s at 768×768). */
static void (*volatile const bl_simd_q8p_4_fn)(float *, int, const int8_t *, const int16_t *,
                                               int, int, const float *, const float *,
                                               const float *) = bl_simd_q8p_4;

/* One token against the rows o0..o1 (a multiple of 4 apart) of W, in % 8 == 0, storing y
   directly: the MLM decoder (768 → 30522 for each masked position) and a chunk's lone last
   token. Each 8 activations are loaded once for eight weight rows (i16x8.load8x8_s widens the
   weights as it loads them; eight rows streamed at once read the 23 MB decoder faster than
   four: 39–46 against 27–41 GOP/s in interleaved rounds), and every four row sums are reduced
   into one vector for the scalar epilogue on four lanes, as in bl_simd_q8p_4. The loop over
   the rows is inside the kernel: called once per block of 4 rows through the shared walk, the
   MLM decoder ran at 23–24 instead of 33–36 GOP/s. */
/* (Σ a0, Σ a1, Σ a2, Σ a3): integer sums, exact in any order */
static v128_t bl_simd_sum4(v128_t a0, v128_t a1, v128_t a2, v128_t a3) {
    const v128_t s01 = wasm_i32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5),
                                      wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7));
    const v128_t s23 = wasm_i32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5),
                                      wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5),
                          wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7));
}
static void bl_simd_q8_tok(float *y, const int8_t *W, const int16_t *x, int in, int o0, int o1,
                           float xs, const float *ws, const float *bias) {
    const v128_t xsv = wasm_f32x4_splat(xs);
    int o = o0;
    for (; o + 8 <= o1; o += 8) {
        const int8_t *w0 = W + (size_t)o * in;
        v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int i = 0; i < in; i += 8) {
            const v128_t xv = wasm_v128_load(x + i);
            const int8_t *wp = w0 + i;
            a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(wp), xv)); wp += in;
            a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(wp), xv)); wp += in;
            a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(wp), xv)); wp += in;
            a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(wp), xv)); wp += in;
            a4 = wasm_i32x4_add(a4, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(wp), xv)); wp += in;
            a5 = wasm_i32x4_add(a5, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(wp), xv)); wp += in;
            a6 = wasm_i32x4_add(a6, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(wp), xv)); wp += in;
            a7 = wasm_i32x4_add(a7, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(wp), xv));
        }
        for (int h = 0; h < 2; h++) {
            const v128_t sum = h ? bl_simd_sum4(a4, a5, a6, a7) : bl_simd_sum4(a0, a1, a2, a3);
            const int oo = o + 4 * h;
            const v128_t bv = bias ? wasm_v128_load(bias + oo) : wasm_f32x4_splat(0.0f);
            const v128_t sc = wasm_f32x4_mul(xsv, wasm_v128_load(ws + oo));
            wasm_v128_store(y + oo, wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum), sc), bv));
        }
    }
    for (; o < o1; o += 4) {
        const int8_t *w0 = W + (size_t)o * in, *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
        v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < in; i += 8) {
            const v128_t xv = wasm_v128_load(x + i);
            a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w0 + i), xv));
            a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w1 + i), xv));
            a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w2 + i), xv));
            a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w3 + i), xv));
        }
        const v128_t sum = bl_simd_sum4(a0, a1, a2, a3);
        const v128_t bv = bias ? wasm_v128_load(bias + o) : wasm_f32x4_splat(0.0f);
        const v128_t sc = wasm_f32x4_mul(xsv, wasm_v128_load(ws + o));
        wasm_v128_store(y + o, wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum), sc), bv));
    }
}

/* Token t of a layer with in % 8 == 0: blocks of four rows, then the last 1–3 rows one by one. */
static void bl_simd_linear_q8_tok(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                                  const float *bias, int t) {
    const int in = w->cols, out = w->rows, out4 = out & ~3;
    const int8_t *W = (const int8_t *)w->data;
    const int16_t *x = xq + (size_t)t * in;
    int32_t res[1];
    bl_simd_q8_tok(y + (size_t)t * out, W, x, in, 0, out4, xs[t], w->scale, bias);
    for (int o = out4; o < out; o++) {
        bl_simd_q8_1x1(res, W + (size_t)o * in, x, in);
        bl_k_q8_store(y, out, res, 1, 1, o, t, xs, w->scale, bias);
    }
}

/* Tokens t and t+1 (rows of `in`, in % 8 == 0) interleaved: [i/8][token][8]. */
static void bl_simd_pack_pairs(int16_t *dst, const int16_t *x, int in, int pairs) {
    for (int p = 0; p < pairs; p++, x += 2 * (size_t)in)
        for (int i = 0; i < in; i += 8, dst += 16) {
            wasm_v128_store(dst, wasm_v128_load(x + i));
            wasm_v128_store(dst + 8, wasm_v128_load(x + in + i));
        }
}

/* Activations of in % 8 == 0 rows, packed in pairs a chunk at a time into a 64 KiB stack
   buffer (at most 16384 inputs; the chunk's pairs then stay in L2 while every weight row meets
   them); a lone last token uses its row as it is. */
#define BL_SIMD_PACK_ELEMS 32768
static void bl_simd_linear_q8_packed(float *y, const int16_t *xq, const float *xs,
                                     const bl_tensor *w, const float *bias, int n) {
    const int in = w->cols, out = w->rows, out4 = out & ~3;
    const int8_t *W = (const int8_t *)w->data;
    int16_t pk[BL_SIMD_PACK_ELEMS];
    const int tt = (BL_SIMD_PACK_ELEMS / in) & ~1;
    int32_t res[8];
    for (int t0 = 0; t0 < n; t0 += tt) {
        const int t1 = t0 + tt < n ? t0 + tt : n, pairs = (t1 - t0) / 2;
        bl_simd_pack_pairs(pk, xq + (size_t)t0 * in, in, pairs);
        for (int o = 0; o < out4; o += 4)
            bl_simd_q8p_4_fn(y + (size_t)t0 * out + o, out, W + (size_t)o * in, pk, in, pairs,
                             xs + t0, w->scale + o, bias ? bias + o : NULL);
        for (int o = out4; o < out; o++)
            for (int p = 0; p < pairs; p++) {
                bl_simd_q8p_1(res, W + (size_t)o * in, pk + (size_t)p * 2 * in, in);
                bl_k_q8_store(y, out, res, 1, 2, o, t0 + 2 * p, xs, w->scale, bias);
            }
        if (t0 + 2 * pairs < t1)   /* the lone last token */
            bl_simd_linear_q8_tok(y, xq, xs, w, bias, t1 - 1);
    }
}

static bl_q8_blk *const bl_simd_q8[2][2] = {{bl_simd_q8_1x1, bl_simd_q8_1x2}, {bl_simd_q8_4x1, bl_simd_q8_4x2}};

/* One token by bl_simd_linear_q8_tok, packed pairs where the rows allow it (in % 8 == 0, at
   most 16384 inputs), otherwise the shared walk over the row blocks. */
static void bl_simd_linear_q8(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                              const float *bias, int n) {
    if (w->cols % 8 == 0 && n == 1)
        bl_simd_linear_q8_tok(y, xq, xs, w, bias, 0);
    else if (w->cols % 8 == 0 && 2 * w->cols <= BL_SIMD_PACK_ELEMS)
        bl_simd_linear_q8_packed(y, xq, xs, w, bias, n);
    else
        bl_k_linear_q8_walk(y, xq, xs, w, bias, n, bl_simd_q8);
}

/* ---- int16 (13-bit) × int16 linear -------------------------------------------------------
   Weights and activations are both i16: i32x4.dot_i16x8_s gives each lane two products
   (≤ 2·4095·32767), a lane takes 8 of them (16 products, 64 inputs of a row; 16·4095·32767 <
   2^31) before it is widened into two i64 lanes: exact, so any grouping gives
   bl_k_linear_i16's sum. Most of the work goes through bl_simd_i16p_4 below (packed pairs, runs
   of w->run inputs); these blocks take what it leaves (rows after the last four, a lone token,
   rows not a multiple of 8 or wider than 4096). 4 rows × 2 tokens per block: 8 i32 and 8 i64
   accumulators are more than V8's 16 vector registers, but the i64 ones are touched once per 64
   inputs, and this beat 2 rows × 2 tokens (which fit) by 6–8% on the default model in node. */
static inline v128_t bl_simd_widen_add(v128_t acc64, v128_t v32) {
    return wasm_i64x2_add(acc64, wasm_i64x2_add(wasm_i64x2_extend_low_i32x4(v32),
                                                wasm_i64x2_extend_high_i32x4(v32)));
}

#define BL_SIMD_I16_BLOCK(R, T)                                                                 \
    static void bl_simd_i16_##R##x##T(int64_t *res, const int16_t *w, const int16_t *x, int in) { \
        v128_t acc[R][T];                                                                       \
        for (int r = 0; r < R; r++)                                                             \
            for (int t = 0; t < T; t++) acc[r][t] = wasm_i64x2_splat(0);                        \
        int i = 0;                                                                              \
        while (i + 8 <= in) {                                                                   \
            v128_t a32[R][T];                                                                   \
            for (int r = 0; r < R; r++)                                                         \
                for (int t = 0; t < T; t++) a32[r][t] = wasm_i32x4_splat(0);                    \
            const int end = in - i < 64 ? i + ((in - i) & ~7) : i + 64;                         \
            for (; i < end; i += 8) {                                                           \
                v128_t xv[T];                                                                   \
                for (int t = 0; t < T; t++) xv[t] = wasm_v128_load(x + (size_t)t * in + i);     \
                for (int r = 0; r < R; r++) {                                                   \
                    const v128_t wv = wasm_v128_load(w + (size_t)r * in + i);                   \
                    for (int t = 0; t < T; t++)                                                 \
                        a32[r][t] = wasm_i32x4_add(a32[r][t], wasm_i32x4_dot_i16x8(wv, xv[t])); \
                }                                                                               \
            }                                                                                   \
            for (int r = 0; r < R; r++)                                                         \
                for (int t = 0; t < T; t++) acc[r][t] = bl_simd_widen_add(acc[r][t], a32[r][t]); \
        }                                                                                       \
        for (int r = 0; r < R; r++)                                                             \
            for (int t = 0; t < T; t++) {                                                       \
                int64_t s = wasm_i64x2_extract_lane(acc[r][t], 0) + wasm_i64x2_extract_lane(acc[r][t], 1); \
                const int16_t *wr = w + (size_t)r * in;                                         \
                const int16_t *xr = x + (size_t)t * in;                                         \
                for (int j = i; j < in; j++) s += (int32_t)wr[j] * (int32_t)xr[j];              \
                res[r * T + t] = s;                                                             \
            }                                                                                   \
    }

BL_SIMD_I16_BLOCK(4, 2)
BL_SIMD_I16_BLOCK(4, 1)
BL_SIMD_I16_BLOCK(1, 2)
BL_SIMD_I16_BLOCK(1, 1)
/* called through a table, so binaryen cannot inline them (see bl_simd_q8p_4_fn) */
static bl_i16_blk *const bl_simd_i16[2][2] = {{bl_simd_i16_1x1, bl_simd_i16_1x2}, {bl_simd_i16_4x1, bl_simd_i16_4x2}};

/* Four weight rows against every packed pair of a chunk (bl_simd_pack_pairs), as bl_simd_q8p_4:
   `run` inputs at a time in i32 lanes (bl_k_i16_run: no lane can overflow within one), each
   run's lane sums stored and then widened into i64 from memory (i64 accumulators kept in
   registers spilled inside the loop: 55–60 GOP/s at 768×768 in node, from memory 59–67 with
   runs of 64 and 72–81 with runs of 128); the epilogue converts
   each exact int64 sum with the scalar (float) and runs the scalar expression on four lanes. */
#define BL_SIMD_I16_BLOCKS 64   /* rows of up to 4096 inputs */
static void bl_simd_i16p_4(float *y, int out, const int16_t *w, const int16_t *pk, int in, int run,
                           int pairs, const float *xs, const float *ws, const float *bias) {
    const v128_t wsv = wasm_v128_load(ws), bv = bias ? wasm_v128_load(bias) : wasm_f32x4_splat(0.0f);
    int32_t part[BL_SIMD_I16_BLOCKS][8][4];
    const int nb = (in + run - 1) / run;
    for (int p = 0; p < pairs; p++) {
        const int16_t *xp = pk + (size_t)p * 2 * in;
        for (int b = 0; b < nb; b++) {
            const int i0 = run * b, steps = in - i0 < run ? (in - i0) / 8 : run / 8;
            v128_t a[4][2];
            for (int r = 0; r < 4; r++) a[r][0] = a[r][1] = wasm_i32x4_splat(0);
            const int16_t *w0 = w + i0, *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
            for (int j = 0; j < steps; j++, xp += 16, w0 += 8, w1 += 8, w2 += 8, w3 += 8) {
                const v128_t x0 = wasm_v128_load(xp), x1 = wasm_v128_load(xp + 8);
                BL_SIMD_PAIR_STEP(a, x0, x1, wasm_v128_load(w0), wasm_v128_load(w1), wasm_v128_load(w2),
                                  wasm_v128_load(w3));
            }
            for (int r = 0; r < 4; r++)
                for (int k = 0; k < 2; k++) wasm_v128_store(part[b][2 * r + k], a[r][k]);
        }
        for (int k = 0; k < 2; k++) {
            float f[4];
            for (int r = 0; r < 4; r++) {
                v128_t s = wasm_i64x2_splat(0);
                for (int b = 0; b < nb; b++)
                    s = wasm_i64x2_add(s, wasm_i64x2_add(wasm_i64x2_load32x2(part[b][2 * r + k]),
                                                         wasm_i64x2_load32x2(part[b][2 * r + k] + 2)));
                f[r] = (float)(wasm_i64x2_extract_lane(s, 0) + wasm_i64x2_extract_lane(s, 1));
            }
            const int t = 2 * p + k;
            const v128_t sc = wasm_f32x4_mul(wasm_f32x4_splat(xs[t]), wsv);
            wasm_v128_store(y + (size_t)t * out,
                            wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(f), sc), bv));
        }
    }
}
static void (*volatile const bl_simd_i16p_4_fn)(float *, int, const int16_t *, const int16_t *,
                                                int, int, int, const float *, const float *,
                                                const float *) = bl_simd_i16p_4;

static void bl_simd_linear_i16(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                               const float *bias, int n) {
    const int in = w->cols, out = w->rows, out4 = out & ~3, run = w->run > 64 ? w->run : 64;
    if (in % 8 || in > 64 * BL_SIMD_I16_BLOCKS || n < 2) {
        bl_k_linear_i16_walk(y, xq, xs, w, bias, n, 4, bl_simd_i16);
        return;
    }
    const int16_t *W = (const int16_t *)w->data;
    int16_t pk[BL_SIMD_PACK_ELEMS];
    const int tt = (BL_SIMD_PACK_ELEMS / in) & ~1;
    int64_t res[2];
    for (int t0 = 0; t0 < n; t0 += tt) {
        const int t1 = t0 + tt < n ? t0 + tt : n, pairs = (t1 - t0) / 2;
        bl_simd_pack_pairs(pk, xq + (size_t)t0 * in, in, pairs);
        for (int o = 0; o < out4; o += 4)
            bl_simd_i16p_4_fn(y + (size_t)t0 * out + o, out, W + (size_t)o * in, pk, in, run, pairs,
                              xs + t0, w->scale + o, bias ? bias + o : NULL);
        for (int o = out4; o < out; o++)
            for (int t = t0; t < t0 + 2 * pairs; t += 2) {
                bl_simd_i16_1x2(res, W + (size_t)o * in, xq + (size_t)t * in, in);
                for (int k = 0; k < 2; k++)
                    y[(size_t)(t + k) * out + o] = (float)res[k] * (xs[t + k] * w->scale[o]) +
                                                   (bias ? bias[o] : 0.0f);
            }
        if (t0 + 2 * pairs < t1)   /* the lone last token */
            bl_k_linear_i16_walk(y + (size_t)(t1 - 1) * out, xq + (size_t)(t1 - 1) * in,
                                 xs + t1 - 1, w, bias, 1, 4, bl_simd_i16);
    }
}

/* ---- f32 dot products in the scalar kernels' order ------------------------------------- */

static float bl_simd_reduce8(const float s[8]) {
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

/* bl_simd_reduce8 of four dot products at once, for when there is no tail: u_t = lo_t + hi_t
   holds s0+s4 .. s3+s7; a 4×4 transpose puts lane k of every u_t in column c_k, and
   (c0+c1)+(c2+c3) is the scalar reduction order for all four. Spilling 8 lanes to memory per
   row instead was slower than the auto-vectorised scalar code. */
static void bl_simd_reduce8x4(float *res, const v128_t *lo, const v128_t *hi) {
    const v128_t a = wasm_f32x4_add(lo[0], hi[0]), b = wasm_f32x4_add(lo[1], hi[1]);
    const v128_t c = wasm_f32x4_add(lo[2], hi[2]), d = wasm_f32x4_add(lo[3], hi[3]);
    const v128_t ab_lo = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), ab_hi = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7);
    const v128_t cd_lo = wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), cd_hi = wasm_i32x4_shuffle(c, d, 2, 6, 3, 7);
    const v128_t c0 = wasm_i32x4_shuffle(ab_lo, cd_lo, 0, 1, 4, 5);
    const v128_t c1 = wasm_i32x4_shuffle(ab_lo, cd_lo, 2, 3, 6, 7);
    const v128_t c2 = wasm_i32x4_shuffle(ab_hi, cd_hi, 0, 1, 4, 5);
    const v128_t c3 = wasm_i32x4_shuffle(ab_hi, cd_hi, 2, 3, 6, 7);
    wasm_v128_store(res, wasm_f32x4_add(wasm_f32x4_add(c0, c1), wasm_f32x4_add(c2, c3)));
}

/* Σ w[i]·x_t[i] for T tokens (rows of x at stride); w is F32 or int8 widened to f32 as the
   scalar bl_k_dot_i8 does. One function per (dtype, T) so the 2·T accumulators live in
   registers (a run-time T or dtype made clang keep them in memory, slower than scalar). */
#define BL_SIMD_W_F32(wp, i, wl, wh)                                                            \
    do { wl = wasm_v128_load((const float *)(wp) + (i));                                       \
         wh = wasm_v128_load((const float *)(wp) + (i) + 4); } while (0)
#define BL_SIMD_W_I8(wp, i, wl, wh)                                                             \
    do { const v128_t h_ = wasm_i16x8_extend_low_i8x16(                                         \
             wasm_v128_load64_zero((const int8_t *)(wp) + (i)));                               \
         wl = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(h_));                       \
         wh = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(h_)); } while (0)
#define BL_SIMD_DOT(NAME, T, WLOAD, WELEM)                                                      \
    static void NAME(float *res, const void *w, const float *x, size_t stride, int len) {       \
        v128_t lo[T], hi[T];                                                                    \
        for (int t = 0; t < T; t++) lo[t] = hi[t] = wasm_f32x4_splat(0.0f);                     \
        int i = 0;                                                                              \
        for (; i + 8 <= len; i += 8) {                                                          \
            v128_t wl, wh;                                                                      \
            WLOAD(w, i, wl, wh);                                                                \
            for (int t = 0; t < T; t++) {                                                       \
                const float *xr = x + t * stride + i;                                           \
                lo[t] = wasm_f32x4_add(lo[t], wasm_f32x4_mul(wl, wasm_v128_load(xr)));          \
                hi[t] = wasm_f32x4_add(hi[t], wasm_f32x4_mul(wh, wasm_v128_load(xr + 4)));      \
            }                                                                                   \
        }                                                                                       \
        if (T == 4 && i == len) { bl_simd_reduce8x4(res, lo, hi); return; }                     \
        for (int t = 0; t < T; t++) {                                                           \
            float s[8];                                                                         \
            wasm_v128_store(s, lo[t]);                                                          \
            wasm_v128_store(s + 4, hi[t]);                                                      \
            const float *xr = x + t * stride;                                                   \
            for (int j = i, k = 0; j < len; j++, k++) s[k] += WELEM(w, j) * xr[j];              \
            res[t] = bl_simd_reduce8(s);                                                        \
        }                                                                                       \
    }
#define BL_SIMD_EF32(wp, j) (((const float *)(wp))[j])
#define BL_SIMD_EI8(wp, j) ((float)((const int8_t *)(wp))[j])
BL_SIMD_DOT(bl_simd_dot_f32_4, 4, BL_SIMD_W_F32, BL_SIMD_EF32)
BL_SIMD_DOT(bl_simd_dot_f32_1, 1, BL_SIMD_W_F32, BL_SIMD_EF32)
BL_SIMD_DOT(bl_simd_dot_i8_4, 4, BL_SIMD_W_I8, BL_SIMD_EI8)
BL_SIMD_DOT(bl_simd_dot_i8_1, 1, BL_SIMD_W_I8, BL_SIMD_EI8)

/* T ≤ 4 tokens: a block of 4, or one at a time for the last 1–3 */
static void bl_simd_dot4(float *res, const void *w, int i8, const float *x, size_t stride,
                         int len, int T) {
    if (T == 4) {
        if (i8) bl_simd_dot_i8_4(res, w, x, stride, len); else bl_simd_dot_f32_4(res, w, x, stride, len);
        return;
    }
    for (int t = 0; t < T; t++) {
        if (i8) bl_simd_dot_i8_1(res + t, w, x + t * stride, stride, len);
        else bl_simd_dot_f32_1(res + t, w, x + t * stride, stride, len);
    }
}

static void bl_simd_linear_f32(float *y, const float *x, const bl_tensor *w, const float *bias, int n) {
    bl_k_linear_f32_walk(y, x, w, bias, n, bl_simd_dot4);
}

/* ---- attention --------------------------------------------------------------------------- */

/* out[i] += p[j]·v[j][i] for j in order (product rounded, then added, as bl_k_axpy does);
   16 outputs stay in registers across all n rows of v. */
static void bl_simd_pv(float *out, const float *p, const float *v, int vstride, int n, int d) {
    int i = 0;
    for (; i + 16 <= d; i += 16) {
        v128_t a0 = wasm_v128_load(out + i), a1 = wasm_v128_load(out + i + 4);
        v128_t a2 = wasm_v128_load(out + i + 8), a3 = wasm_v128_load(out + i + 12);
        for (int j = 0; j < n; j++) {
            const v128_t pj = wasm_f32x4_splat(p[j]);
            const float *vr = v + (size_t)j * vstride + i;
            a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(pj, wasm_v128_load(vr)));
            a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(pj, wasm_v128_load(vr + 4)));
            a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(pj, wasm_v128_load(vr + 8)));
            a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(pj, wasm_v128_load(vr + 12)));
        }
        wasm_v128_store(out + i, a0); wasm_v128_store(out + i + 4, a1);
        wasm_v128_store(out + i + 8, a2); wasm_v128_store(out + i + 12, a3);
    }
    for (; i + 4 <= d; i += 4) {
        v128_t a = wasm_v128_load(out + i);
        for (int j = 0; j < n; j++)
            a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_f32x4_splat(p[j]),
                                                 wasm_v128_load(v + (size_t)j * vstride + i)));
        wasm_v128_store(out + i, a);
    }
    for (; i < d; i++) {
        float a = out[i];
        for (int j = 0; j < n; j++) a += p[j] * v[(size_t)j * vstride + i];
        out[i] = a;
    }
}

/* Scores for R query rows × 4·V keys from column j: R·V accumulators (4×2 = 8, with the 2 key
   vectors and a broadcast query element well within V8's 16 registers); per c one load of
   each key vector, one broadcast per row, then multiply and add, as bl_k_scores rounds. */
#define BL_SIMD_SCORES(R, V)                                                                    \
    static void bl_simd_scores_##R##x##V(float *P, int pstride, const float *q, int qstride,   \
                                         const float *kt, int n, int j, int d, float scale) {  \
        v128_t acc[R][V];                                                                       \
        for (int r = 0; r < R; r++)                                                             \
            for (int v = 0; v < V; v++) acc[r][v] = wasm_f32x4_splat(0.0f);                     \
        for (int c = 0; c < d; c++) {                                                           \
            v128_t kv[V];                                                                       \
            for (int v = 0; v < V; v++) kv[v] = wasm_v128_load(kt + (size_t)c * n + j + 4 * v); \
            for (int r = 0; r < R; r++) {                                                       \
                const v128_t qv = wasm_v128_load32_splat(q + (size_t)r * qstride + c);          \
                for (int v = 0; v < V; v++)                                                     \
                    acc[r][v] = wasm_f32x4_add(acc[r][v], wasm_f32x4_mul(qv, kv[v]));           \
            }                                                                                   \
        }                                                                                       \
        const v128_t sc = wasm_f32x4_splat(scale);                                              \
        for (int r = 0; r < R; r++)                                                             \
            for (int v = 0; v < V; v++)                                                         \
                wasm_v128_store(P + (size_t)r * pstride + j + 4 * v, wasm_f32x4_mul(acc[r][v], sc)); \
    }
BL_SIMD_SCORES(4, 2)
BL_SIMD_SCORES(4, 1)
BL_SIMD_SCORES(1, 2)
BL_SIMD_SCORES(1, 1)
/* called through a table, so binaryen cannot inline them (see bl_simd_q8p_4_fn) */
static bl_scores_blk *const bl_simd_scores[2][2] = {
    {bl_simd_scores_1x1, bl_simd_scores_1x2}, {bl_simd_scores_4x1, bl_simd_scores_4x2}};

static void bl_simd_scores_rows(float *P, int pstride, const float *q, int qstride, int m,
                                const float *kt, int n, int d, float scale) {
    bl_k_scores_walk(P, pstride, q, qstride, m, kt, n, d, scale, 4, bl_simd_scores);
}

/* P·V for two rows × 16 columns: each loaded value vector serves both rows (8 accumulators). */
static void bl_simd_pv2(float *o0, float *o1, const float *p0, const float *p1, const float *v,
                        int vstride, int n, int d16) {
    for (int i = 0; i < d16; i += 16) {
        v128_t a[2][4];
        for (int c = 0; c < 4; c++) {
            a[0][c] = wasm_v128_load(o0 + i + 4 * c);
            a[1][c] = wasm_v128_load(o1 + i + 4 * c);
        }
        for (int j = 0; j < n; j++) {
            const v128_t b0 = wasm_f32x4_splat(p0[j]), b1 = wasm_f32x4_splat(p1[j]);
            const float *vr = v + (size_t)j * vstride + i;
            for (int c = 0; c < 4; c++) {
                const v128_t vv = wasm_v128_load(vr + 4 * c);
                a[0][c] = wasm_f32x4_add(a[0][c], wasm_f32x4_mul(b0, vv));
                a[1][c] = wasm_f32x4_add(a[1][c], wasm_f32x4_mul(b1, vv));
            }
        }
        for (int c = 0; c < 4; c++) {
            wasm_v128_store(o0 + i + 4 * c, a[0][c]);
            wasm_v128_store(o1 + i + 4 * c, a[1][c]);
        }
    }
}

static void bl_simd_pv_rows(float *out, int ostride, const float *P, int pstride, int m,
                            const float *v, int vstride, int n, int d) {
    bl_k_pv_walk(out, ostride, P, pstride, m, v, vstride, n, d, 16, bl_simd_pv2, bl_simd_pv);
}

/* ---- activation quantization and softmax ------------------------------------------------ */

/* One row of bl_k_quantize_rows: max|x| is order-free; the rounding is lrintf's (half to even,
   below); the clamp is the scalar one and the saturating
   narrows keep element order. A NaN anywhere returns -1 for the scalar code (fmaxf skips NaN),
   found by its own test, so the maximum can take f32x4.pmax (one maxps) rather than f32x4.max,
   whose NaN and signed-zero rules cost V8 about eight instructions: the row took 2.5x less
   time (node, 128 rows of 3072), the quantization 4% of a bert-base forward before. */
static int bl_simd_quantize_row_q(int16_t *q, float *scale, const float *x, int cols, int Q) {
    v128_t mx = wasm_f32x4_splat(0.0f), nan = wasm_i32x4_splat(0);
    int i = 0;
    for (; i + 4 <= cols; i += 4) {
        const v128_t v = wasm_v128_load(x + i);
        mx = wasm_f32x4_pmax(mx, wasm_f32x4_abs(v));
        nan = wasm_v128_or(nan, wasm_f32x4_ne(v, v));
    }
    if (wasm_v128_any_true(nan)) return -1;
    float m = 0.0f;
    for (int k = 0; k < 4; k++) {
        float l = k == 0 ? wasm_f32x4_extract_lane(mx, 0) : k == 1 ? wasm_f32x4_extract_lane(mx, 1)
                : k == 2 ? wasm_f32x4_extract_lane(mx, 2) : wasm_f32x4_extract_lane(mx, 3);
        m = l > m ? l : m;
    }
    for (int j = i; j < cols; j++) {
        if (x[j] != x[j]) return -1;
        m = fabsf(x[j]) > m ? fabsf(x[j]) : m;
    }
    if (!(m > 0.0f) || isinf(m)) {
        memset(q, 0, (size_t)cols * sizeof *q);
        *scale = 0.0f;
        return 0;
    }
    const float inv = (float)Q / m;
    const v128_t vinv = wasm_f32x4_splat(inv);
    const v128_t lo = wasm_i32x4_splat(-Q), hi = wasm_i32x4_splat(Q);
    const v128_t magic = wasm_f32x4_splat(12582912.0f), magic_bits = wasm_i32x4_splat(0x4B400000);
    i = 0;
    for (; i + 8 <= cols; i += 8) {
        v128_t v[2];
        /* x·inv is within ±Q(1+ε): adding 1.5·2^23 rounds it to an integer half to even (as
           lrintf does) in the low mantissa bits, cheaper than f32x4.nearest + V8's saturating
           float-to-int sequence */
        for (int k = 0; k < 2; k++)
            v[k] = wasm_i32x4_min(wasm_i32x4_max(wasm_i32x4_sub(wasm_f32x4_add(wasm_f32x4_mul(
                       wasm_v128_load(x + i + 4 * k), vinv), magic), magic_bits), lo), hi);
        wasm_v128_store(q + i, wasm_i16x8_narrow_i32x4(v[0], v[1]));
    }
    for (; i < cols; i++) {
        const long r = lrintf(x[i] * inv);
        q[i] = (int16_t)(r > Q ? Q : r < -Q ? -Q : r);
    }
    *scale = m / (float)Q;
    return 0;
}

static int bl_simd_quantize_row(int16_t *q, float *scale, const float *x, int cols) {
    return bl_simd_quantize_row_q(q, scale, x, cols, bl_k_qmax(cols));
}

static void bl_simd_quantize_rows(int16_t *q, float *scale, const float *x, int n, int cols) {
    bl_k_quantize_walk(q, scale, x, n, cols, bl_simd_quantize_row);
}

static void bl_simd_quantize_rows16(int16_t *q, float *scale, const float *x, int n, int cols) {
    bl_k_quantize16_walk(q, scale, x, n, cols, bl_simd_quantize_row_q);
}

/* bl_k_exp on four lanes, operation for operation (lanes below BL_EXP_LO give 0; no NaN
   reaches it: bl_simd_softmax sends rows with a non-finite max to the scalar code). */
static v128_t bl_simd_exp(v128_t x) {
    const v128_t below = wasm_f32x4_lt(x, wasm_f32x4_splat(BL_EXP_LO));
    x = wasm_f32x4_pmin(x, wasm_f32x4_splat(BL_EXP_HI));
    const v128_t fx = wasm_f32x4_floor(wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)),
                                                      wasm_f32x4_splat(0.5f)));
    v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, wasm_f32x4_splat(0.693359375f)));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(fx, wasm_f32x4_splat(-2.12194440e-4f)));
#define BL_MA(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), wasm_f32x4_splat(c))
    v128_t y = BL_MA(wasm_f32x4_splat(1.9875691500e-4f), r, 1.3981999507e-3f);
    y = BL_MA(y, r, 8.3334519073e-3f);
    y = BL_MA(y, r, 4.1665795894e-2f);
    y = BL_MA(y, r, 1.6666665459e-1f);
    y = BL_MA(y, r, 5.0000001201e-1f);
    y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(y, wasm_f32x4_mul(r, r)), r), wasm_f32x4_splat(1.0f));
    /* 2^n from n = fx, an integer in [-127, 128] wherever the result is kept: fx + 1.5·2^23 has
       n in its low mantissa bits (exact), cheaper than V8's saturating float-to-int sequence */
    const v128_t nb = wasm_f32x4_add(fx, wasm_f32x4_splat(12582912.0f));
    const v128_t s = wasm_i32x4_shl(wasm_i32x4_add(nb, wasm_i32x4_splat(127 - 0x4B400000)), 23);
    /* a lane below BL_EXP_LO may have clamped n below -126 into a garbage scale: masked to 0 */
    return wasm_v128_andnot(wasm_f32x4_mul(y, s), below);
}

/* bl_k_erf on four lanes, operation for operation. */
static v128_t bl_simd_erf(v128_t x) {
    x = wasm_f32x4_pmax(x, wasm_f32x4_splat(-4.0f));
    x = wasm_f32x4_pmin(x, wasm_f32x4_splat(4.0f));
    const v128_t x2 = wasm_f32x4_mul(x, x);
    v128_t p = BL_MA(x2, wasm_f32x4_splat(-2.72614225801306e-10f), 2.77068142495902e-08f);
    p = BL_MA(x2, p, -2.10102402082508e-06f);
    p = BL_MA(x2, p, -5.69250639462346e-05f);
    p = BL_MA(x2, p, -7.34990630326855e-04f);
    p = BL_MA(x2, p, -2.95459980854025e-03f);
    p = BL_MA(x2, p, -1.60960333262415e-02f);
    p = wasm_f32x4_mul(x, p);
    v128_t q = BL_MA(x2, wasm_f32x4_splat(-1.45660718464996e-05f), -2.13374055278905e-04f);
    q = BL_MA(x2, q, -1.68282697438203e-03f);
    q = BL_MA(x2, q, -7.37332916720468e-03f);
    q = BL_MA(x2, q, -1.42647390514189e-02f);
#undef BL_MA
    return wasm_f32x4_div(p, q);
}

/* Vector max, exp, sum (lane k holds i ≡ k mod 4, as bl_k_softmax's) and final scaling.
   A non-finite max (NaN, or +inf making inf - inf) goes to the scalar code. */
static void bl_simd_softmax(float *x, int len) {
    /* the maximum by f32x4.pmax (as in quantization, above); a NaN anywhere, found on its own,
       or an infinite maximum goes to the scalar code */
    v128_t mv = wasm_f32x4_splat(x[0]), nan = wasm_i32x4_splat(0);
    int i = 0;
    for (; i + 4 <= len; i += 4) {
        const v128_t v = wasm_v128_load(x + i);
        mv = wasm_f32x4_pmax(mv, v);
        nan = wasm_v128_or(nan, wasm_f32x4_ne(v, v));
    }
    float m = wasm_f32x4_extract_lane(mv, 0);
    m = fmaxf(m, wasm_f32x4_extract_lane(mv, 1));
    m = fmaxf(m, wasm_f32x4_extract_lane(mv, 2));
    m = fmaxf(m, wasm_f32x4_extract_lane(mv, 3));
    int bad = wasm_v128_any_true(nan);
    for (; i < len; i++) { m = fmaxf(m, x[i]); bad |= x[i] != x[i]; }
    if (bad || !isfinite(m)) { bl_k_softmax(x, len); return; }
    const v128_t vm = wasm_f32x4_splat(m);
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (i = 0; i + 4 <= len; i += 4) {
        const v128_t e = bl_simd_exp(wasm_f32x4_sub(wasm_v128_load(x + i), vm));
        wasm_v128_store(x + i, e);
        acc = wasm_f32x4_add(acc, e);
    }
    float s[4];
    wasm_v128_store(s, acc);
    for (; i < len; i++) { x[i] = bl_k_exp(x[i] - m); s[i & 3] += x[i]; }
    const float inv = 1.0f / ((s[0] + s[1]) + (s[2] + s[3]));
    const v128_t vi = wasm_f32x4_splat(inv);
    for (i = 0; i + 4 <= len; i += 4) wasm_v128_store(x + i, wasm_f32x4_mul(wasm_v128_load(x + i), vi));
    for (; i < len; i++) x[i] *= inv;
}

/* Lane k of each vector sum holds i ≡ k mod 4 as in the scalar kernel; the tail goes into the
   same lanes; then (0+1)+(2+3). The normalisation is elementwise. */
static void bl_simd_layernorm(float *x, const float *g, const float *b, int n, int dim, float eps) {
    const int d4 = dim & ~3;
    for (int t = 0; t < n; t++) {
        float *xr = x + (size_t)t * dim;
        v128_t acc = wasm_f32x4_splat(0.0f);
        for (int i = 0; i < d4; i += 4) acc = wasm_f32x4_add(acc, wasm_v128_load(xr + i));
        float s[4];
        wasm_v128_store(s, acc);
        for (int i = d4; i < dim; i++) s[i & 3] += xr[i];
        const float mean = ((s[0] + s[1]) + (s[2] + s[3])) / (float)dim;
        const v128_t vm = wasm_f32x4_splat(mean);
        acc = wasm_f32x4_splat(0.0f);
        for (int i = 0; i < d4; i += 4) {
            const v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + i), vm);
            acc = wasm_f32x4_add(acc, wasm_f32x4_mul(d, d));
        }
        wasm_v128_store(s, acc);
        for (int i = d4; i < dim; i++) { const float d = xr[i] - mean; s[i & 3] += d * d; }
        const float var = ((s[0] + s[1]) + (s[2] + s[3])) / (float)dim;
        const float rstd = 1.0f / sqrtf(var + eps);
        const v128_t vr = wasm_f32x4_splat(rstd);
        for (int i = 0; i < d4; i += 4)
            wasm_v128_store(xr + i, wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_sub(
                wasm_v128_load(xr + i), vm), vr), wasm_v128_load(g + i)), wasm_v128_load(b + i)));
        for (int i = d4; i < dim; i++) xr[i] = (xr[i] - mean) * rstd * g[i] + b[i];
    }
}

/* trunc_sat gives 0 for NaN and INT_MAX for huge values, and the unsigned saturating narrow of
   those signed lanes clamps to [0, 65535]: the scalar kernel's three cases, 8 values at a time. */
static void bl_simd_to_u16(uint16_t *dst, const float *src, size_t len) {
    size_t i = 0;
    const v128_t k = wasm_f32x4_splat(65535.0f), h = wasm_f32x4_splat(0.5f);
    for (; i + 8 <= len; i += 8) {
        const v128_t a = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(src + i), k), h));
        const v128_t b = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(src + i + 4), k), h));
        wasm_v128_store(dst + i, wasm_u16x8_narrow_i32x4(a, b));
    }
    bl_k_to_u16(dst + i, src + i, len - i);
}

/* GELU (erf) in vectors: 0.5·x·(1 + erf(x·√½)) in the scalar expression's order. */
static void bl_simd_act(float *x, size_t len, int act) {
    if (act != BL_ACT_GELU) { bl_k_act(x, len, act); return; }
    const v128_t half = wasm_f32x4_splat(0.5f), one = wasm_f32x4_splat(1.0f),
                 rs2 = wasm_f32x4_splat(0.7071067811865476f);
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        const v128_t v = wasm_v128_load(x + i);
        const v128_t e = bl_simd_erf(wasm_f32x4_mul(v, rs2));
        wasm_v128_store(x + i, wasm_f32x4_mul(wasm_f32x4_mul(half, v), wasm_f32x4_add(one, e)));
    }
    if (i < len) bl_k_act(x + i, len - i, act);
}

static const bl_kernels bl_simd128_table = {
    .name = "wasm-simd128",
    .linear_q8 = bl_simd_linear_q8,
    .linear_f32 = bl_simd_linear_f32,
    .quantize_rows = bl_simd_quantize_rows,
    .scores_rows = bl_simd_scores_rows,
    .pv_rows = bl_simd_pv_rows,
    .softmax = bl_simd_softmax,
    .layernorm = bl_simd_layernorm,
    .act = bl_simd_act,
    .to_u16 = bl_simd_to_u16,
    .linear_i16 = bl_simd_linear_i16,
    .quantize_rows16 = bl_simd_quantize_rows16,
};

const bl_kernels *bl_kernels_simd128(void) { return &bl_simd128_table; }

#else
const bl_kernels *bl_kernels_simd128(void) { return 0; }
#endif
