/* kernels_relaxed.c — the int8 linear kernel with WebAssembly relaxed SIMD (kernels_relaxed.h).

   Compiled only under __wasm_relaxed_simd__ (clang 19 with -mrelaxed-simd, tools/build_relaxed.sh);
   elsewhere bl_kernels_relaxed() is NULL. bl_kernels_best() takes it when it exists: the page's
   relaxed core (bertlens_core_relaxed*, web/wasm.cmake), loaded by worker.js where the browser
   validates relaxed SIMD; see bench/README.md for what it measured.
   V8 lowers i32x4.relaxed_dot_i8x16_i7x16_add_s to one vpdpbusd on CPUs with AVX-VNNI (16
   multiply-adds into 4 int32 lanes), where the SIMD128 kernel spends a widening load,
   i32x4.dot_i16x8_s and an add per 8; without VNNI to pmaddubsw + pmaddwd + paddd.

   The instruction multiplies signed bytes by 7-bit ones (0..127; larger values are where
   engines may differ). The activations are 12-bit (|x| ≤ 2047, bl_k_quantize_rows), so
   u = x + 2048 (1..4095) is split into two 7-bit digits, lo = u & 127 and hi = u >> 7 (0..31):
       Σ w·x = Σ w·lo + 128·Σ w·hi − 2048·Σ w,
   two dot products against the same weight vector plus one per-row constant (the model's row
   sums, bl_tensor.wsum, or summed here: BL_RX_SUMS_MIN). All of it is
   integer math that wraps modulo 2^32 and whose true result fits in int32, so the sum is the
   scalar reference's exactly and the epilogue is its expression: the results are bit-identical
   to bl_k_linear_q8 (tests/test_kernels_relaxed.c, run in Chromium by
   tests/e2e/relaxed.test.mjs: node 20's V8 implements a pre-standard form of the instruction
   with other results). Everything else is the SIMD128 table's.
   Two dot products per 16 multiply-adds is the floor while the activations keep 12 bits; the
   blocks below run at about 9/10 of what a loop of register-only dot products reaches here
   (bench/README.md). */
#include "kernels/kernels_relaxed.h"

#if defined(__wasm_relaxed_simd__)
#include <wasm_simd128.h>

/* Digits of a chunk of activations: lo[i] = (x[i] + 2048) & 127, hi[i] = (x[i] + 2048) >> 7.
   Returns -1 if some x is outside -2048..2047 (then the caller takes the SIMD128 kernel). */
static int bl_rx_digits(uint8_t *lo, uint8_t *hi, const int16_t *x, size_t len) {
    const v128_t off = wasm_i16x8_splat(2048), m7 = wasm_i16x8_splat(127), top = wasm_i16x8_splat(4095);
    v128_t bad = wasm_i16x8_splat(0);
    size_t i = 0;
    for (; i + 16 <= len; i += 16) {
        const v128_t a = wasm_i16x8_add(wasm_v128_load(x + i), off), b = wasm_i16x8_add(wasm_v128_load(x + i + 8), off);
        bad = wasm_v128_or(bad, wasm_v128_or(wasm_u16x8_gt(a, top), wasm_u16x8_gt(b, top)));
        wasm_v128_store(lo + i, wasm_u8x16_narrow_i16x8(wasm_v128_and(a, m7), wasm_v128_and(b, m7)));
        wasm_v128_store(hi + i, wasm_u8x16_narrow_i16x8(wasm_u16x8_shr(a, 7), wasm_u16x8_shr(b, 7)));
    }
    int out = wasm_v128_any_true(bad);
    for (; i < len; i++) {
        const int u = x[i] + 2048;
        out |= u < 0 || u > 4095;
        lo[i] = (uint8_t)(u & 127);
        hi[i] = (uint8_t)((u >> 7) & 127);
    }
    return out ? -1 : 0;
}

/* (Σ a0, Σ a1, Σ a2, Σ a3) lane-wise: four rows' sums in one vector (exact in any order) */
static v128_t bl_rx_sum4(v128_t a0, v128_t a1, v128_t a2, v128_t a3) {
    const v128_t s01 = wasm_i32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5), wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7));
    const v128_t s23 = wasm_i32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5), wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5), wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7));
}

/* 2048 · Σw for weight rows w0..w3 (in % 16 == 0), one per lane: from the model's row sums
   (bl_tensor.wsum, 4 lanes from ws) when it has them, else Σw as a dot product with ones */
static v128_t bl_rx_wsum4(const int32_t *ws, const int8_t *w0, const int8_t *w1, const int8_t *w2,
                          const int8_t *w3, int in) {
    if (ws) return wasm_i32x4_shl(wasm_v128_load(ws), 11);
    const v128_t one = wasm_i8x16_splat(1);
    v128_t s0 = wasm_i32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
    for (int i = 0; i < in; i += 16) {
        s0 = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(wasm_v128_load(w0 + i), one, s0);
        s1 = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(wasm_v128_load(w1 + i), one, s1);
        s2 = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(wasm_v128_load(w2 + i), one, s2);
        s3 = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(wasm_v128_load(w3 + i), one, s3);
    }
    return wasm_i32x4_shl(bl_rx_sum4(s0, s1, s2, s3), 11);
}

/* The scalar reference's epilogue on four lanes: (float)acc × (xs[t] × ws[o]) + bias[o]. */
static v128_t bl_rx_epilogue(v128_t lo, v128_t hi, v128_t sw, float xs, v128_t ws, v128_t bias) {
    const v128_t sum = wasm_i32x4_sub(wasm_i32x4_add(lo, wasm_i32x4_shl(hi, 7)), sw);
    const v128_t sc = wasm_f32x4_mul(wasm_f32x4_splat(xs), ws);
    return wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum), sc), bias);
}

/* One weight row's 16 inputs against both digit vectors: l += w·lo, h += w·hi */
#define BL_RX_ROW(l, h, wp, a, b)                                  \
    do {                                                           \
        const v128_t wv_ = wasm_v128_load(wp);                     \
        l = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(wv_, (a), l);   \
        h = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(wv_, (b), h);   \
    } while (0)
/* rows w0..w3 into l0..l3, h0..h3: both blocks' first four rows */
#define BL_RX_ROWS4(i, a, b)                   \
    do {                                       \
        BL_RX_ROW(l0, h0, w0 + (i), a, b);     \
        BL_RX_ROW(l1, h1, w1 + (i), a, b);     \
        BL_RX_ROW(l2, h2, w2 + (i), a, b);     \
        BL_RX_ROW(l3, h3, w3 + (i), a, b);     \
    } while (0)

/* Four weight rows (in % 16 == 0) against tokens 0..nt-1 of a chunk's digits, storing y rows
   directly: 8 accumulators (lo and hi per row), one weight vector and two digit vectors live. */
static void bl_rx_q8_4(float *y, int out, const int8_t *w, const int32_t *wsum, const uint8_t *lo,
                       const uint8_t *hi, int in, int nt, const float *xs, const float *ws, const float *bias) {
    const int8_t *w0 = w, *w1 = w + in, *w2 = w + 2 * (size_t)in, *w3 = w + 3 * (size_t)in;
    const v128_t sw = bl_rx_wsum4(wsum, w0, w1, w2, w3, in);
    const v128_t wsv = wasm_v128_load(ws), bv = bias ? wasm_v128_load(bias) : wasm_f32x4_splat(0.0f);
    for (int t = 0; t < nt; t++) {
        const uint8_t *xl = lo + (size_t)t * in, *xh = hi + (size_t)t * in;
        v128_t l0 = wasm_i32x4_splat(0), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
        for (int i = 0; i < in; i += 16) {
            const v128_t a = wasm_v128_load(xl + i), b = wasm_v128_load(xh + i);
            BL_RX_ROWS4(i, a, b);
        }
        wasm_v128_store(y + (size_t)t * out, bl_rx_epilogue(bl_rx_sum4(l0, l1, l2, l3), bl_rx_sum4(h0, h1, h2, h3),
                                                            sw, xs[t], wsv, bv));
    }
}

/* Six weight rows, as bl_rx_q8_4: 12 accumulators, one weight and two digit vectors, the 15
   vector registers V8 allocates on x86-64. Per 16 inputs 8 loads feed 12 dot products (6 for
   8 in the 4-row block). Nothing else may stay live across the token loop, so each token's
   integer sums go to y as they are and a second pass applies − 2048·Σw and the epilogue (rows
   4 and 5 on two lanes of it). The Σw terms are taken before the token loop (summing the rows
   there streams them into L1 first: BL_RX_SUMS_MIN, BL_RX_SIX_MIN) and kept in memory through
   it, behind a volatile pointer so that the compiler does not hand them to the loop as live
   values. */
static void bl_rx_q8_6(float *y, int out, const int8_t *w, const int32_t *wsum, const uint8_t *lo,
                       const uint8_t *hi, int in, int nt, const float *xs, const float *ws, const float *bias) {
    const int8_t *w0 = w, *w1 = w + in, *w2 = w + 2 * (size_t)in, *w3 = w + 3 * (size_t)in;
    const int8_t *w4 = w + 4 * (size_t)in, *w5 = w + 5 * (size_t)in;
    v128_t sums[2];   /* rows 0–3; rows 4 and 5 on lanes 0 and 1 (and again on 2 and 3) */
    sums[0] = bl_rx_wsum4(wsum, w0, w1, w2, w3, in);
    sums[1] = wsum ? wasm_i32x4_shl(wasm_v128_load64_splat(wsum + 4), 11) : bl_rx_wsum4(NULL, w4, w5, w4, w5, in);
    v128_t *volatile const kept = sums;
    for (int t = 0; t < nt; t++) {
        const uint8_t *xl = lo + (size_t)t * in, *xh = hi + (size_t)t * in;
        v128_t l0 = wasm_i32x4_splat(0), l1 = l0, l2 = l0, l3 = l0, l4 = l0, l5 = l0;
        v128_t h0 = l0, h1 = l0, h2 = l0, h3 = l0, h4 = l0, h5 = l0;
        for (int i = 0; i < in; i += 16) {
            const v128_t a = wasm_v128_load(xl + i), b = wasm_v128_load(xh + i);
            BL_RX_ROWS4(i, a, b);
            BL_RX_ROW(l4, h4, w4 + i, a, b);
            BL_RX_ROW(l5, h5, w5 + i, a, b);
        }
        float *yt = y + (size_t)t * out;
        wasm_v128_store(yt, wasm_i32x4_add(bl_rx_sum4(l0, l1, l2, l3), wasm_i32x4_shl(bl_rx_sum4(h0, h1, h2, h3), 7)));
        wasm_v128_store64_lane(yt + 4, wasm_i32x4_add(bl_rx_sum4(l4, l5, l4, l5), wasm_i32x4_shl(bl_rx_sum4(h4, h5, h4, h5), 7)), 0);
    }
    const v128_t sw = kept[0], sw45 = kept[1];
    const v128_t wsv = wasm_v128_load(ws), bv = bias ? wasm_v128_load(bias) : wasm_f32x4_splat(0.0f);
    const v128_t ws45 = wasm_v128_load64_zero(ws + 4), b45 = bias ? wasm_v128_load64_zero(bias + 4) : wasm_f32x4_splat(0.0f);
    const v128_t zero = wasm_i32x4_splat(0);
    for (int t = 0; t < nt; t++) {
        float *yt = y + (size_t)t * out;
        wasm_v128_store(yt, bl_rx_epilogue(wasm_v128_load(yt), zero, sw, xs[t], wsv, bv));
        wasm_v128_store64_lane(yt + 4, bl_rx_epilogue(wasm_v128_load64_zero(yt + 4), zero, sw45, xs[t], ws45, b45), 0);
    }
}

/* Called through pointers the optimiser cannot see through, as in kernels_simd.c: inlined
   into the chunk loop, the accumulators may no longer fit V8's vector registers. */
typedef void bl_rx_block(float *, int, const int8_t *, const int32_t *, const uint8_t *, const uint8_t *,
                         int, int, const float *, const float *, const float *);
static bl_rx_block *volatile const bl_rx_q8_4_fn = bl_rx_q8_4, *volatile const bl_rx_q8_6_fn = bl_rx_q8_6;

/* Digits of a chunk of tokens (lo and hi: 2 bytes per input, ≤ 128 KiB on the stack). 64 KiB
   per digit rather than 32 streams each weight block over twice the tokens: +3% on bert-base's
   FFN shapes (the activations then come from L2, which keeps up with 2 loads per 12 dots). */
#define BL_RX_CHUNK_BYTES 65536
/* Chunks of fewer tokens sum their weight rows themselves rather than take the model's row
   sums (bl_tensor.wsum): that pass streams the block's rows into L1 ahead of the dot products,
   for which a few tokens leave no time (bert-base, forwards alternated in one page: the model's
   sums took 3.6% longer at n = 16, and 3.5% less at n = 32 and 128). */
#define BL_RX_SUMS_MIN 20
/* Chunks of fewer tokens take 4-row blocks. 6-row ones, with their row sums taken before the
   token loop, gained 1.7–2.1% on bert-base at n = 16 and lost 1.5% at 12, 1–2.4% at 8 and 7–9%
   at 4 (alternated forwards in one page, Chromium 156, Zen 5); with the sums taken after the
   loop they had lost 4% at 16. */
#define BL_RX_SIX_MIN 16
static void bl_rx_linear_q8(float *y, const int16_t *xq, const float *xs, const bl_tensor *w,
                            const float *bias, int n) {
    const int in = w->cols, out = w->rows;
    /* one token (the MLM decoder: memory-bound) and shapes without 16-byte rows stay SIMD128 */
    if (n < 2 || in % 16 != 0 || in > BL_RX_CHUNK_BYTES) {
        bl_kernels_simd128()->linear_q8(y, xq, xs, w, bias, n);
        return;
    }
    const int8_t *W = (const int8_t *)w->data;
    uint8_t lo[BL_RX_CHUNK_BYTES], hi[BL_RX_CHUNK_BYTES];
    const int tt = BL_RX_CHUNK_BYTES / in;
    for (int t0 = 0; t0 < n; t0 += tt) {
        const int nt = t0 + tt < n ? tt : n - t0;
        const int16_t *x = xq + (size_t)t0 * in;
        float *yc = y + (size_t)t0 * out;
        if (bl_rx_digits(lo, hi, x, (size_t)nt * in) < 0) {   /* not 12-bit: not for this kernel */
            bl_kernels_simd128()->linear_q8(yc, x, xs + t0, w, bias, nt);
            continue;
        }
        /* blocks of 6 rows, then one of 4 if that many are left, then the last 1–3 rows */
        const int32_t *sums = nt >= BL_RX_SUMS_MIN ? w->wsum : NULL;
        int o = 0;
        for (int step = nt >= BL_RX_SIX_MIN ? 6 : 4; step >= 4; step -= 2) {
            bl_rx_block *const blk = step == 6 ? bl_rx_q8_6_fn : bl_rx_q8_4_fn;
            for (; o + step <= out; o += step)
                blk(yc + o, out, W + (size_t)o * in, sums ? sums + o : NULL, lo, hi, in, nt, xs + t0,
                    w->scale + o, bias ? bias + o : NULL);
        }
        for (; o < out; o++)   /* the scalar sum */
            for (int t = 0; t < nt; t++) {
                int32_t s = 0;
                for (int i = 0; i < in; i++) s += (int32_t)W[(size_t)o * in + i] * x[(size_t)t * in + i];
                bl_k_q8_store(yc, out, &s, 1, 1, o, t, xs + t0, w->scale, bias);
            }
    }
}

/* The rest of the table is the SIMD128 one's, called through it (kernels_simd.c keeps its
   kernels static): an indirect call per row or chunk, nothing per element. */
#define BL_RX_SIMD(name, params, args) \
    static void bl_rx_##name params { bl_kernels_simd128()->name args; }
BL_RX_SIMD(linear_f32, (float *y, const float *x, const bl_tensor *w, const float *bias, int n), (y, x, w, bias, n))
BL_RX_SIMD(quantize_rows, (int16_t *q, float *scale, const float *x, int n, int cols), (q, scale, x, n, cols))
BL_RX_SIMD(scores_rows, (float *P, int pstride, const float *q, int qstride, int m, const float *kt, int n, int d, float scale),
           (P, pstride, q, qstride, m, kt, n, d, scale))
BL_RX_SIMD(pv_rows, (float *out, int ostride, const float *P, int pstride, int m, const float *v, int vstride, int n, int d),
           (out, ostride, P, pstride, m, v, vstride, n, d))
BL_RX_SIMD(softmax, (float *x, int len), (x, len))
BL_RX_SIMD(layernorm, (float *x, const float *g, const float *b, int n, int dim, float eps), (x, g, b, n, dim, eps))
BL_RX_SIMD(act, (float *x, size_t len, int act), (x, len, act))
BL_RX_SIMD(to_u16, (uint16_t *dst, const float *src, size_t len), (dst, src, len))
BL_RX_SIMD(linear_i16, (float *y, const int16_t *xq, const float *xs, const bl_tensor *w, const float *bias, int n),
           (y, xq, xs, w, bias, n))
BL_RX_SIMD(quantize_rows16, (int16_t *q, float *scale, const float *x, int n, int cols), (q, scale, x, n, cols))

/* A kernel added to bl_kernels must be added here too (or this table would hold a NULL). */
_Static_assert(sizeof(bl_kernels) == sizeof(const char *) + 11 * sizeof(void (*)(void)),
               "bl_kernels changed: update bl_relaxed_table");
static const bl_kernels bl_relaxed_table = {
    .name = "wasm-relaxed",
    .linear_q8 = bl_rx_linear_q8,
    .linear_f32 = bl_rx_linear_f32,
    .quantize_rows = bl_rx_quantize_rows,
    .scores_rows = bl_rx_scores_rows,
    .pv_rows = bl_rx_pv_rows,
    .softmax = bl_rx_softmax,
    .layernorm = bl_rx_layernorm,
    .act = bl_rx_act,
    .to_u16 = bl_rx_to_u16,
    .linear_i16 = bl_rx_linear_i16,
    .quantize_rows16 = bl_rx_quantize_rows16,
};

const bl_kernels *bl_kernels_relaxed(void) { return &bl_relaxed_table; }

#else
const bl_kernels *bl_kernels_relaxed(void) { return 0; }
#endif
