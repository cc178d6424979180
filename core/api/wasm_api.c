/* wasm_api.c — the browser boundary: thin EMSCRIPTEN_KEEPALIVE exports over bertlens.h.

   The page's Web Worker owns exactly one session (one model, one context, one renderer), so the
   state lives in one static struct: that is the only global mutable state in the core, and it
   exists because a WASM export cannot hand an opaque handle to JS more cheaply than this.

   Memory protocol (JS side: web/worker.js, tests/e2e/wasm_api.test.mjs):
     - JS allocates with _malloc, fills the bytes, and hands the buffer to blw_model_load /
       blw_font_load, which take ownership (freed on failure or when replaced).
     - Text goes in as (pointer, byte length) pairs, so NULs and lengths are never guessed.
     - Every pointer returned here is borrowed and valid until the next call that changes the
       session (blw_run, blw_model_load, blw_render). Nothing else is ever freed behind JS.
   Functions that can fail return -1 or NULL; blw_error() says why. */
#include "bertlens.h"
#include "base/internal.h"
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#include <emscripten/heap.h>
#include <malloc.h>
#else
#define EMSCRIPTEN_KEEPALIVE
#endif

#define BLW_MAX_K 20
/* Attention maps above this size as floats are kept as uint16 (bl_ctx_set_attention_u16):
   bert-base from n ≈ 240 tokens; the default model never (17 MB at n = 512). */
#define BLW_U16_ABOVE (32.0 * 1048576.0)

/* worker.js reads bl_hit as five int32, a float32, an int32. */
_Static_assert(offsetof(bl_hit, value) == 20 && offsetof(bl_hit, side) == 24 && sizeof(int) == 4,
               "bl_hit layout read by worker.js");

typedef struct {
    uint8_t *model_buf;      /* owned: the model points into it (no copy of the arrays) */
    bl_model *m;
    bl_ctx *ctx;
    uint8_t *font;           /* owned: the renderer borrows it */
    bl_renderer *r;
    bl_encoding enc;
    int have_enc, ran;       /* ran: the last forward matches enc */
    const char **tokens;     /* [n] borrowed from the vocab */
    const float **q, **k;    /* [layers] borrowed from ctx */
    /* masked-LM top-k for every [MASK] position of the last run */
    int mlm_k, mlm_count;
    int *mlm_pos, *mlm_ids;  /* [n], [n*mlm_k] */
    float *mlm_p;            /* [n*mlm_k] */
    const char **mlm_tok;    /* [n*mlm_k] */
    float *logits;           /* [vocab] scratch */
    int fb_w, fb_h;
    bl_hit hit;
    size_t max_bytes;        /* scratch ceiling applied to every context (0 = none) */
    int att_mode;            /* blw_set_attention_mode: 0 auto, 1 floats, 2 uint16 */
    bl_pool *pool;           /* blw_set_threads: made once, lent to every context, never freed
                                (its Web Workers would only return to Emscripten's pool through
                                the event loop, and a new pool would wait for them forever) */
    bl_err err;
} blw_session;

static blw_session S;

static int fail(const char *msg) {
    snprintf(S.err.msg, sizeof S.err.msg, "%s", msg);
    return -1;
}

static void clear_run(void) {
    if (S.have_enc) bl_encoding_free(&S.enc);
    S.have_enc = S.ran = 0;
    free(S.tokens); free(S.mlm_pos); free(S.mlm_ids); free(S.mlm_p); free(S.mlm_tok);
    S.tokens = NULL; S.mlm_pos = S.mlm_ids = NULL; S.mlm_p = NULL; S.mlm_tok = NULL;
    S.mlm_count = 0;
}

static void clear_model(void) {
    clear_run();
    bl_ctx_free(S.ctx); bl_model_free(S.m); free(S.model_buf);
    free(S.q); free(S.k); free(S.logits);
    S.ctx = NULL; S.m = NULL; S.model_buf = NULL; S.q = S.k = NULL; S.logits = NULL;
}

EMSCRIPTEN_KEEPALIVE const char *blw_error(void) { return S.err.msg; }
EMSCRIPTEN_KEEPALIVE const char *blw_version(void) { return BL_VERSION_STRING; }

/* SHA-256 of bytes already in WASM memory (the page checks the manifest's file hash). */
EMSCRIPTEN_KEEPALIVE void blw_sha256(const uint8_t *data, size_t len, uint8_t *out32) { bl_sha256(data, len, out32); }

/* Takes ownership of buf (allocated with _malloc). The current model stays usable when the new
   one is rejected, so a bad drag-and-drop never breaks the page. */
EMSCRIPTEN_KEEPALIVE int blw_model_load(uint8_t *buf, size_t len, int flags) {
    bl_err e = {{0}};
    bl_model *m = bl_model_load(buf, len, flags, &e);
    if (!m) { free(buf); return fail(e.msg[0] ? e.msg : "the model file was rejected"); }
    bl_ctx *ctx = bl_ctx_new(m, &e);
    const bl_config *c = bl_model_config(m);
    const float **q = calloc((size_t)c->layers, sizeof *q), **k = calloc((size_t)c->layers, sizeof *k);
    float *logits = malloc(sizeof(float) * (size_t)c->vocab_size);
    if (!ctx || !q || !k || !logits) {
        bl_ctx_free(ctx); bl_model_free(m); free(buf); free(q); free(k); free(logits);
        return fail(ctx ? "out of memory" : e.msg);
    }
    clear_model();
    bl_ctx_set_pool(ctx, S.pool);
    bl_ctx_set_max_bytes(ctx, S.max_bytes);
    S.model_buf = buf; S.m = m; S.ctx = ctx; S.q = q; S.k = k; S.logits = logits;
    return 0;
}

EMSCRIPTEN_KEEPALIVE int blw_font_load(uint8_t *buf, size_t len) {
    bl_err e = {{0}};
    bl_renderer *r = bl_renderer_new(buf, len, &e);
    if (!r) { free(buf); return fail(e.msg); }
    bl_renderer_free(S.r);
    free(S.font);
    S.r = r; S.font = buf;
    return 0;
}

/* Model configuration, one field at a time (no struct layout shared with JS). */
EMSCRIPTEN_KEEPALIVE int blw_config(int field) {
    if (!S.m) return -1;
    const bl_config *c = bl_model_config(S.m);
    switch (field) {
    case 0: return c->vocab_size;
    case 1: return c->hidden;
    case 2: return c->layers;
    case 3: return c->heads;
    case 4: return c->intermediate;
    case 5: return c->max_pos;
    case 6: return c->type_vocab;
    case 7: return c->lowercase;
    case 8: return c->has_mlm;
    case 9: return bl_model_dtype(S.m);
    default: return -1;
    }
}

EMSCRIPTEN_KEEPALIVE const char *blw_vocab_token(int id) { return S.m ? bl_vocab_token(bl_model_vocab(S.m), id) : NULL; }

/* Indices of the k largest logits, best first (k is small: insertion into a sorted list). */
static void top_k(const float *v, int n, int k, int *idx) {
    int have = 0;
    for (int i = 0; i < n; i++) {
        if (have == k && v[i] <= v[idx[k - 1]]) continue;
        int j = have < k ? have++ : k - 1;
        while (j > 0 && v[idx[j - 1]] < v[i]) { idx[j] = idx[j - 1]; j--; }
        idx[j] = i;
    }
}

static int run_mlm(int k) {
    const bl_config *c = bl_model_config(S.m);
    int mask = bl_vocab_id(bl_model_vocab(S.m), "[MASK]", 6), n = S.enc.n;
    S.mlm_k = k;
    if (!c->has_mlm || mask < 0 || k <= 0) return 0;
    S.mlm_pos = malloc(sizeof(int) * (size_t)n);
    S.mlm_ids = malloc(sizeof(int) * (size_t)(n * k));
    S.mlm_p = malloc(sizeof(float) * (size_t)(n * k));
    S.mlm_tok = malloc(sizeof(char *) * (size_t)(n * k));
    if (!S.mlm_pos || !S.mlm_ids || !S.mlm_p || !S.mlm_tok) return fail("out of memory");
    for (int i = 0; i < n; i++) {
        if (S.enc.ids[i] != mask) continue;
        if (bl_mlm_logits(S.ctx, i, S.logits, &S.err) != 0) return -1;
        float mx = -INFINITY;
        double sum = 0;
        for (int j = 0; j < c->vocab_size; j++) mx = fmaxf(mx, S.logits[j]);
        for (int j = 0; j < c->vocab_size; j++) sum += exp((double)(S.logits[j] - mx));
        int *best = S.mlm_ids + S.mlm_count * k;
        top_k(S.logits, c->vocab_size, k, best);
        for (int r = 0; r < k; r++) {
            S.mlm_p[S.mlm_count * k + r] = (float)(exp((double)(S.logits[best[r]] - mx)) / sum);
            S.mlm_tok[S.mlm_count * k + r] = bl_vocab_token(bl_model_vocab(S.m), best[r]);
        }
        S.mlm_pos[S.mlm_count++] = i;
    }
    return 0;
}

/* The memory ceiling: a run whose context would need more than max_bytes fails with a clear
   message instead of growing WASM memory until malloc fails or the module aborts. A double so JS
   can pass any byte count; <= 0 removes the limit. Kept across model loads. */
EMSCRIPTEN_KEEPALIVE void blw_set_max_bytes(double max_bytes) {
    S.max_bytes = max_bytes <= 0 ? 0 : max_bytes >= (double)SIZE_MAX ? SIZE_MAX : (size_t)max_bytes;
    if (S.ctx) bl_ctx_set_max_bytes(S.ctx, S.max_bytes);
}

/* Threads for the forward (1..16), set once per session (kept across model loads and
   blw_reset); more than 1 only in the -pthread build (bertlens_core_mt, web/wasm.cmake).
   Returns 0, or -1 (blw_error says why). */
EMSCRIPTEN_KEEPALIVE int blw_set_threads(int threads) {
    if (threads < 1 || threads > BL_MAX_THREADS) return fail("threads: out of range (1..16)");
    if (threads == bl_pool_size(S.pool)) return 0;
    if (threads > 1 && !bl_pool_supported()) return fail("threads: this build has no thread support");
    if (S.pool) return fail("threads: set once per session");
    if (threads > 1 && !(S.pool = bl_pool_new(threads, &S.err))) return -1;
    if (S.ctx) bl_ctx_set_pool(S.ctx, S.pool);
    return 0;
}

/* How runs keep the attention maps: 0 (the default) floats unless they would take more than
   BLW_U16_ABOVE bytes, then uint16; 1 always floats; 2 always uint16 (the tests). */
EMSCRIPTEN_KEEPALIVE void blw_set_attention_mode(int mode) { S.att_mode = mode >= 0 && mode <= 2 ? mode : 0; }

#ifdef __EMSCRIPTEN__
/* Heap figures for the memory tests: bytes malloc has handed out, and the WASM memory size. */
EMSCRIPTEN_KEEPALIVE double blw_heap_used(void) { return (double)mallinfo().uordblks; }
EMSCRIPTEN_KEEPALIVE double blw_heap_size(void) { return (double)emscripten_get_heap_size(); }
#endif

/* Tokenize a (and b when blen >= 0), run the encoder, and the MLM head at every [MASK] (top
   mlm_k). Returns the number of tokens, or -1. */
EMSCRIPTEN_KEEPALIVE int blw_run(const char *a, int alen, const char *b, int blen, int mlm_k) {
    if (!S.m) return fail("no model loaded");
    if (alen < 0) return fail("bad text length");
    if (mlm_k > BLW_MAX_K) mlm_k = BLW_MAX_K;
    clear_run();
    const bl_config *c = bl_model_config(S.m);
    if (bl_tokenize(bl_model_vocab(S.m), bl_model_tok_opts(S.m), a, (size_t)alen, blen >= 0 ? b : NULL,
                    blen >= 0 ? (size_t)blen : 0, c->max_pos, &S.enc, &S.err) != 0)
        return -1;
    S.have_enc = 1;
    int n = S.enc.n;
    if (!(S.tokens = malloc(sizeof(char *) * (size_t)n))) return fail("out of memory");
    for (int i = 0; i < n; i++) S.tokens[i] = bl_vocab_token(bl_model_vocab(S.m), S.enc.ids[i]);
    const double f32_maps = (double)c->layers * c->heads * n * n * sizeof(float);
    bl_ctx_set_attention_u16(S.ctx, S.att_mode == 2 || (S.att_mode == 0 && f32_maps > BLW_U16_ABOVE));
    if (bl_forward(S.ctx, S.enc.ids, S.enc.type_ids, n, BL_PREC_NATIVE, &S.err) != 0) return -1;
    for (int l = 0; l < c->layers; l++) { S.q[l] = bl_query(S.ctx, l); S.k[l] = bl_key(S.ctx, l); }
    if (run_mlm(mlm_k) != 0) return -1;
    S.ran = 1;
    return n;
}

/* Results of the last blw_run. */
EMSCRIPTEN_KEEPALIVE int blw_n(void) { return S.have_enc ? S.enc.n : 0; }
EMSCRIPTEN_KEEPALIVE int blw_n_a(void) { return S.have_enc ? S.enc.n_a : 0; }
EMSCRIPTEN_KEEPALIVE int blw_truncated(void) { return S.have_enc ? S.enc.truncated : 0; }
EMSCRIPTEN_KEEPALIVE const int *blw_ids(void) { return S.have_enc ? S.enc.ids : NULL; }
EMSCRIPTEN_KEEPALIVE const int *blw_type_ids(void) { return S.have_enc ? S.enc.type_ids : NULL; }
EMSCRIPTEN_KEEPALIVE const int *blw_starts(void) { return S.have_enc ? S.enc.start : NULL; }
EMSCRIPTEN_KEEPALIVE const int *blw_ends(void) { return S.have_enc ? S.enc.end : NULL; }
EMSCRIPTEN_KEEPALIVE const char *blw_token(int i) { return S.have_enc && i >= 0 && i < S.enc.n ? S.tokens[i] : NULL; }
/* Exactly one of these is non-NULL after a run: the maps as floats, or × 65535 as uint16. */
EMSCRIPTEN_KEEPALIVE const float *blw_attention(void) { return S.ran ? bl_attention(S.ctx) : NULL; }
EMSCRIPTEN_KEEPALIVE const uint16_t *blw_attention_u16(void) { return S.ran ? bl_attention_u16(S.ctx) : NULL; }
EMSCRIPTEN_KEEPALIVE int blw_mlm_count(void) { return S.ran ? S.mlm_count : 0; }
EMSCRIPTEN_KEEPALIVE int blw_mlm_k(void) { return S.mlm_k; }
EMSCRIPTEN_KEEPALIVE const int *blw_mlm_pos(void) { return S.mlm_pos; }
EMSCRIPTEN_KEEPALIVE const int *blw_mlm_ids(void) { return S.mlm_ids; }
EMSCRIPTEN_KEEPALIVE const float *blw_mlm_p(void) { return S.mlm_p; }

/* Draw a view of the last run. Returns the RGBA framebuffer (blw_fb_width × blw_fb_height
   device pixels), or NULL. Sizes and hover coordinates are CSS pixels; scale is the dpr. */
EMSCRIPTEN_KEEPALIVE const uint8_t *blw_render(int view, int layer, int head, int colormap, int dark, float scale,
                                               int width, int hide_special, int pair_filter, float threshold,
                                               float vmax, int token, int hover_x, int hover_y) {
    if (!S.r) { fail("no font loaded"); return NULL; }
    if (!S.ran) { fail("nothing to draw: no text has been run"); return NULL; }
    const bl_config *c = bl_model_config(S.m);
    bl_render_input in = {
        .n = S.enc.n, .layers = c->layers, .heads = c->heads, .head_dim = c->hidden / c->heads,
        .tokens = S.tokens, .type_ids = S.enc.type_ids, .attn = bl_attention(S.ctx),
        .attn16 = bl_attention_u16(S.ctx),
        .query = S.q, .key = S.k,
        .mlm_count = S.mlm_count, .mlm_k = S.mlm_k, .mlm_pos = S.mlm_pos, .mlm_tokens = S.mlm_tok, .mlm_p = S.mlm_p,
    };
    bl_view_opts o = {
        .view = view, .layer = layer, .head = head, .colormap = colormap, .dark = dark, .scale = scale,
        .width = width, .hide_special = hide_special, .pair_filter = pair_filter, .threshold = threshold,
        .vmax = vmax, .token = token, .hover_x = hover_x, .hover_y = hover_y,
    };
    const uint8_t *px = bl_render(S.r, &in, &o, &S.fb_w, &S.fb_h, &S.err);
    if (!px) S.fb_w = S.fb_h = 0;
    return px;
}
EMSCRIPTEN_KEEPALIVE int blw_fb_width(void) { return S.fb_w; }
EMSCRIPTEN_KEEPALIVE int blw_fb_height(void) { return S.fb_h; }

/* Hit test of the last render at CSS pixel (x, y). Returns a pointer to
   {int kind, from, to, layer, head; float value; int side} (see bl_hit), valid until the next call. */
EMSCRIPTEN_KEEPALIVE const bl_hit *blw_hit(int x, int y) {
    bl_hit none = {0};
    S.hit = S.r ? bl_hit_test(S.r, x, y) : none;
    return &S.hit;
}

/* Free everything (tests check for leaks by calling it and reloading). */
EMSCRIPTEN_KEEPALIVE void blw_reset(void) {
    clear_model();
    bl_renderer_free(S.r);
    free(S.font);
    S.r = NULL; S.font = NULL;
}
