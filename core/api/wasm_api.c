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
   Functions that can fail return -1 or NULL; blw_error() says why.
   Structs shared with JS (bl_view_opts written by the worker, bl_hit read by it) are described
   field by field, with offsets from offsetof, by blw_abi(); JS reads and writes them by name. */
#include "bertlens.h"
#include "base/internal.h"
#include "kernels/kernels.h"
#include <stddef.h>
#include <stdarg.h>
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

/* The structs JS reads and writes through blw_abi(): every field an int32 or a float32, and
   every field in the tables below (a field added to the struct and not to its table fails
   the size check, so JS can never leave it uninitialised or misread what follows it). */
typedef struct { const char *name; size_t offset; const char *type; } blw_field;
#define BLW_I32(S, f) {#f, offsetof(S, f), "i32"}
#define BLW_F32(S, f) {#f, offsetof(S, f), "f32"}
static const blw_field VIEW_FIELDS[] = {
    BLW_I32(bl_view_opts, view), BLW_I32(bl_view_opts, layer), BLW_I32(bl_view_opts, head),
    BLW_I32(bl_view_opts, colormap), BLW_I32(bl_view_opts, dark), BLW_F32(bl_view_opts, scale),
    BLW_I32(bl_view_opts, width), BLW_I32(bl_view_opts, hide_special), BLW_I32(bl_view_opts, pair_filter),
    BLW_F32(bl_view_opts, threshold), BLW_I32(bl_view_opts, token), BLW_I32(bl_view_opts, hover_x),
    BLW_I32(bl_view_opts, hover_y), BLW_F32(bl_view_opts, vmax), BLW_I32(bl_view_opts, words),
    BLW_I32(bl_view_opts, value_weighted),
    BLW_I32(bl_view_opts, stat_bar), BLW_I32(bl_view_opts, rank), BLW_I32(bl_view_opts, rank_from),
    BLW_I32(bl_view_opts, rank_to), BLW_I32(bl_view_opts, zoom_size), BLW_I32(bl_view_opts, zoom_row),
    BLW_I32(bl_view_opts, zoom_col),
};
static const blw_field HIT_FIELDS[] = {
    BLW_I32(bl_hit, kind), BLW_I32(bl_hit, from), BLW_I32(bl_hit, to), BLW_I32(bl_hit, layer),
    BLW_I32(bl_hit, head), BLW_F32(bl_hit, value), BLW_I32(bl_hit, side),
};
/* bl_hit.kind by name, indexed by BL_HIT_* */
static const char *const HIT_KINDS[BL_HIT_COUNT] = {"none", "cell", "token", "head", "mlm", "label"};
_Static_assert(sizeof(int) == 4 && sizeof(float) == 4, "int32 and float32 fields");
_Static_assert(sizeof(bl_view_opts) == sizeof VIEW_FIELDS / sizeof VIEW_FIELDS[0] * 4, "every bl_view_opts field is in VIEW_FIELDS");
_Static_assert(sizeof(bl_hit) == sizeof HIT_FIELDS / sizeof HIT_FIELDS[0] * 4, "every bl_hit field is in HIT_FIELDS");
_Static_assert(BL_HIT_NONE == 0 && BL_HIT_CELL == 1 && BL_HIT_TOKEN == 2 && BL_HIT_HEAD == 3 && BL_HIT_MLM == 4 &&
               BL_HIT_LABEL == 5 && BL_HIT_COUNT == 6, "HIT_KINDS follows BL_HIT_*");

typedef struct {
    uint8_t *model_buf;      /* owned: the model points into it (no copy of the arrays) */
    bl_model *m;
    bl_ctx *ctx;
    uint8_t *font;           /* owned: the renderer borrows it */
    bl_renderer *r;
    bl_tokenizer *tok;       /* bl_model_tokenizer: the CLI's choice; NULL when the file lacks it */
    bl_err tok_err;          /* why tok is NULL */
    bl_encoding enc;
    int have_enc, ran;       /* ran: the last forward matches enc */
    uint64_t maps_id;        /* forward passes so far: the renderer caches key on it (bl_render_input) */
    const char **tokens;     /* [n] borrowed from the vocab: the pieces as the CLI prints them */
    char **shown;            /* [n] owned: their readable forms (bl_model_token_display), drawn */
    int *word_of;            /* [n] words from the pieces' own markers (Ġ, ▁, ##) */
    char **mlm_shown;        /* [mlm.count × k] owned: readable forms of the masked-LM choices */
    float *head_p;           /* [bl_head_size] the task head's probabilities, NULL without one */
    const char **labels;     /* [n_labels] borrowed from the model (config.id2label) */
    int head_size;
    const float **q, **k;    /* [layers] borrowed from ctx */
    int mlm_k;               /* k asked of the last run */
    bl_mlm_top mlm;          /* bl_fill_mask's top-k at every [MASK] of the last run */
    bl_view_opts opts;       /* written by JS (blw_view_opts), read by blw_render */
    int fb_w, fb_h;
    bl_hit hit;
    char *json;              /* the last JSON answer (blw_abi, blw_model_info, blw_model_list, …) */
    size_t max_bytes;        /* scratch ceiling applied to every context (0 = none) */
    int att_mode;            /* blw_set_attention_mode: 0 auto, 1 floats, 2 uint16 */
    int att_only, partial;   /* blw_set_attention_only; partial: the last run was one */
    int value_norms;         /* blw_set_value_norms: runs compute ‖α f(x)‖ (value-weighted views) */
    int *groups;             /* [n] blw_set_groups: word_of for the views (words, selections), NULL: words */
    bl_pool *pool;           /* blw_set_threads: made once, lent to every context, never freed
                                (its Web Workers would only return to Emscripten's pool through
                                the event loop, and a new pool would wait for them forever) */
    bl_err err;
} blw_session;

static blw_session S;

/* The logit lens and compare mode: their state beside the session's, cleared with its run
   (lens, the comparison) and its model (B's context). The functions are at the end. */
typedef struct {
    int on;                  /* blw_set_lens: the next full runs keep every layer's hidden state */
    int layers;              /* rows per [MASK] of the last run's lens (0: none) */
    bl_mlm_top top;          /* bl_logit_lens: [masks × layers][k] */
    char **shown;            /* [top.count × k] readable forms of its choices */
} blw_lens;
static blw_lens LENS;
typedef struct {
    bl_ctx *ctx;             /* B's forward, on the session's model */
    bl_encoding enc;         /* B's tokens */
    int have_enc;
    const char **tokens;     /* [nb] borrowed from the vocab, as the CLI prints them */
    char **shown;            /* [nb] readable forms */
    int *word_of;            /* [nb] */
    int n;                   /* aligned positions min(nA, nB); 0: no comparison */
    float *a, *b;            /* [layers·heads][n][n] A's and B's maps on those positions, floats */
    float *dent;             /* [layers·heads] entropy(A) − entropy(B) (each over its whole map) */
    int *differ, ndiffer;    /* aligned positions whose tokens differ */
    float max_abs;           /* max |A − B| over every map (bl_attention_diff) */
    int model_b;             /* B ran on the second model (MB) */
} blw_compare;
static blw_compare CMP;
typedef struct {             /* compare mode's second model (blw_compare_model_load), kept across runs */
    uint8_t *buf;            /* owned: the model points into it */
    bl_model *m;
    bl_tokenizer *tok;
    bl_ctx *ctx;
} blw_model_b;
static blw_model_b MB;
static void lens_clear(void);
static void compare_clear(int with_ctx);
static void compare_model_free(void);
static int lens_after_run(void);

static int fail(const char *msg) {
    snprintf(S.err.msg, sizeof S.err.msg, "%s", msg);
    return -1;
}

static void free_strs(char **v, int n) {
    for (int i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

static void clear_run(void) {
    free_strs(S.shown, S.have_enc ? S.enc.n : 0);
    free_strs(S.mlm_shown, S.mlm.count * S.mlm.k);
    if (S.have_enc) bl_encoding_free(&S.enc);
    S.have_enc = S.ran = S.partial = 0;
    free(S.tokens); free(S.word_of); free(S.head_p); free(S.groups);
    S.groups = NULL;
    S.tokens = NULL; S.shown = NULL; S.word_of = NULL; S.mlm_shown = NULL; S.head_p = NULL;
    S.head_size = 0;
    bl_mlm_top_free(&S.mlm);
    lens_clear();
    compare_clear(0);
}

/* The readable form of token id (a malloc'd string, NULL when out of memory). */
static char *shown_token(int id) {
    char buf[512];
    if (bl_model_token_display(S.tok, id, buf, sizeof buf) < 0) {
        const char *raw = bl_vocab_token(bl_model_vocab(S.m), id);
        snprintf(buf, sizeof buf, "%s", raw ? raw : "");
    }
    return strdup(buf);
}

static void clear_model(void) {
    clear_run();
    compare_clear(1);   /* B's context belongs to the model */
    bl_ctx_free(S.ctx); bl_tokenizer_free(S.tok); bl_model_free(S.m); free(S.model_buf);
    free(S.q); free(S.k); free(S.labels);
    S.labels = NULL;
    S.ctx = NULL; S.tok = NULL; S.m = NULL; S.model_buf = NULL; S.q = S.k = NULL;
}

EMSCRIPTEN_KEEPALIVE const char *blw_error(void) { return S.err.msg; }
EMSCRIPTEN_KEEPALIVE const char *blw_version(void) { return BL_VERSION_STRING; }

/* SHA-256 of bytes already in WASM memory (the page checks the manifest's file hash). */
EMSCRIPTEN_KEEPALIVE void blw_sha256(const uint8_t *data, size_t len, uint8_t *out32) { bl_sha256(data, len, out32); }
/* The loaded model's payload SHA-256 as its file stores it (bl_model_checksum, what `bertlens
   info` prints): the page's view export names the model by it. 0, or -1 without a model. */
EMSCRIPTEN_KEEPALIVE int blw_model_checksum(uint8_t *out32) {
    if (!S.m) return fail("no model loaded");
    bl_model_checksum(S.m, out32);
    return 0;
}

/* Takes ownership of buf (allocated with _malloc). The current model stays usable when the new
   one is rejected, so a bad drag-and-drop never breaks the page. */
EMSCRIPTEN_KEEPALIVE int blw_model_load(uint8_t *buf, size_t len, int flags) {
    bl_err e = {{0}};
    bl_model *m = bl_model_load(buf, len, flags, &e);
    if (!m) { free(buf); return fail(e.msg[0] ? e.msg : "the model file was rejected"); }
    /* a stored tokenizer.json that does not parse rejects the file, as in the CLI; a file
       without the tokenizer its family needs still loads (it has attention to show for ids) */
    bl_err te = {{0}};
    bl_tokenizer *tok = bl_model_tokenizer(m, &te);
    if (!tok && bl_model_tokenizer_json(m, NULL)) { bl_model_free(m); free(buf); return fail(te.msg); }
    bl_ctx *ctx = bl_ctx_new(m, &e);
    const bl_config *c = bl_model_config(m);
    const float **q = calloc((size_t)c->layers, sizeof *q), **k = calloc((size_t)c->layers, sizeof *k);
    if (!ctx || !q || !k) {
        bl_ctx_free(ctx); bl_tokenizer_free(tok); bl_model_free(m); free(buf); free(q); free(k);
        return fail(ctx ? "out of memory" : e.msg);
    }
    clear_model();
    bl_ctx_set_pool(ctx, S.pool);
    bl_ctx_set_max_bytes(ctx, S.max_bytes);
    S.model_buf = buf; S.m = m; S.ctx = ctx; S.q = q; S.k = k; S.tok = tok; S.tok_err = te;
    if (c->n_labels > 0 && (S.labels = malloc(sizeof(char *) * (size_t)c->n_labels)))
        for (int i = 0; i < c->n_labels; i++) S.labels[i] = bl_model_label(m, i);
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

/* A JSON answer kept until the next one (the pointer JS gets is borrowed, as every other). */
static const char *answer(char *json) {
    free(S.json);
    S.json = json;
    if (!json) fail("out of memory");
    return json;
}

/* A growing string for the JSON answers. */
typedef struct { char *s; size_t len, cap; int oom; } blw_buf;
static void put(blw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(blw_buf *b, const char *fmt, ...) {
    va_list ap;
    for (int pass = 0; pass < 2 && !b->oom; pass++) {
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { b->oom = 1; return; }
        if (b->s && b->len + (size_t)n < b->cap) { b->len += (size_t)n; return; }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *ns = realloc(b->s, cap);
        if (!ns) { b->oom = 1; return; }
        b->s = ns;
        b->cap = cap;
    }
}
/* A JSON string literal of s[0..len) (names and paths from manifests: escape what JSON needs). */
static void put_str(blw_buf *b, const char *s, size_t len) {
    put(b, "\"");
    for (size_t i = 0; i < len; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') put(b, "\\%c", c);
        else if (c < 0x20 || c == 0x7f) put(b, "\\u%04x", c);
        else put(b, "%c", c);
    }
    put(b, "\"");
}
static const char *finish(blw_buf *b) {
    if (b->oom) { free(b->s); return answer(NULL); }
    return answer(b->s);
}

static void put_fields(blw_buf *b, const char *name, size_t size, const blw_field *f, size_t n) {
    put(b, "\"%s\":{\"size\":%zu,\"fields\":{", name, size);
    for (size_t i = 0; i < n; i++) put(b, "%s\"%s\":[%zu,\"%s\"]", i ? "," : "", f[i].name, f[i].offset, f[i].type);
    put(b, "}}");
}

/* The layouts JS uses to write bl_view_opts and read bl_hit, and the hit kinds by name:
   {"view_opts": {"size": 56, "fields": {"view": [0, "i32"], …}}, "hit": {…},
    "hit_kinds": ["none", "cell", "token", "head", "mlm", "label"]} */
EMSCRIPTEN_KEEPALIVE const char *blw_abi(void) {
    blw_buf b = {0};
    put(&b, "{");
    put_fields(&b, "view_opts", sizeof(bl_view_opts), VIEW_FIELDS, sizeof VIEW_FIELDS / sizeof VIEW_FIELDS[0]);
    put(&b, ",");
    put_fields(&b, "hit", sizeof(bl_hit), HIT_FIELDS, sizeof HIT_FIELDS / sizeof HIT_FIELDS[0]);
    put(&b, ",\"hit_kinds\":[");
    for (int i = 0; i < BL_HIT_COUNT; i++) put(&b, "%s\"%s\"", i ? "," : "", HIT_KINDS[i]);
    put(&b, "]}");
    return finish(&b);
}

/* The loaded model as JSON: {"config": {bl_config's fields}, "dtype": "int8", "has_mlm": true,
   "bytes": the file's size, "tensors": their count, "family": "roberta", "head": bl_head_name,
   "head_sigmoid": bool, "labels": [config.id2label], "mask_token": "<mask>" or null,
   "tokenizer": "tokenizer.json" or "vocab.txt" (null: none, "tokenizer_error" says why),
   "fidelity": {"status": "measured" or "not measured", "max", "mean" (measured only), "text": the
   line `bertlens info` prints (bl_fidelity_text)}}; NULL without a model. The name is the
   caller's (a file name, or the model list's). */
EMSCRIPTEN_KEEPALIVE const char *blw_model_info(void) {
    if (!S.m) { fail("no model loaded"); return NULL; }
    const bl_config *c = bl_model_config(S.m);
    blw_buf b = {0};
    put(&b, "{\"config\":{\"vocab_size\":%d,\"hidden\":%d,\"layers\":%d,\"heads\":%d,\"intermediate\":%d,"
            "\"max_pos\":%d,\"type_vocab\":%d,\"ln_eps\":%.9g,\"act\":\"%s\",\"lowercase\":%s,\"strip_accents\":%d,"
            "\"chinese_chars\":%s,\"has_mlm\":%s,\"family\":\"%s\",\"embed\":%d,\"head\":\"%s\",\"n_labels\":%d},",
        c->vocab_size, c->hidden, c->layers, c->heads, c->intermediate, c->max_pos, c->type_vocab, (double)c->ln_eps,
        c->act == BL_ACT_GELU ? "gelu" : c->act == BL_ACT_GELU_TANH ? "gelu_tanh" : "relu",
        c->lowercase ? "true" : "false", c->strip_accents, c->chinese_chars ? "true" : "false", c->has_mlm ? "true" : "false",
        bl_family_name(c->family), c->embed, bl_head_name(c->head), c->n_labels);
    put(&b, "\"dtype\":\"%s\",\"has_mlm\":%s,\"bytes\":%zu,\"tensors\":%d,", bl_dtype_name(bl_model_dtype(S.m)),
        c->has_mlm ? "true" : "false", bl_model_file_size(S.m), bl_model_tensor_count(S.m));
    /* the kernel table this module's runs take (wasm-relaxed in the relaxed-SIMD core) */
    put(&b, "\"kernels\":\"%s\",", bl_kernels_best()->name);
    put(&b, "\"family\":\"%s\",\"head\":\"%s\",\"head_sigmoid\":%s,\"labels\":[", bl_family_name(c->family),
        bl_head_name(c->head), c->head_sigmoid || c->head == BL_HEAD_DISC ? "true" : "false");
    for (int i = 0; i < c->n_labels; i++) {
        const char *l = bl_model_label(S.m, i);
        put(&b, "%s", i ? "," : "");
        if (l) put_str(&b, l, strlen(l)); else put(&b, "null");
    }
    bl_fidelity fid;
    bl_model_fidelity(S.m, &fid);
    char ftext[256];
    bl_fidelity_text(&fid, bl_model_dtype(S.m), ftext, sizeof ftext);
    put(&b, "],\"fidelity\":{\"status\":\"%s\",", fid.status == BL_FID_MEASURED ? "measured" : "not measured");
    if (fid.status == BL_FID_MEASURED) put(&b, "\"max\":%.9g,\"mean\":%.9g,", (double)fid.max_dev, (double)fid.mean_dev);
    put(&b, "\"text\":");
    put_str(&b, ftext, strlen(ftext));
    put(&b, "},\"mask_token\":");
    const char *mt = c->mask_id >= 0 ? bl_vocab_token(bl_model_vocab(S.m), c->mask_id) : NULL;
    if (mt) put_str(&b, mt, strlen(mt)); else put(&b, "null");
    put(&b, ",\"tokenizer\":");
    if (S.tok) put(&b, "\"%s\",\"tokenizer_error\":null", bl_model_tokenizer_json(S.m, NULL) ? "tokenizer.json" : "vocab.txt");
    else {
        put(&b, "null,\"tokenizer_error\":");
        put_str(&b, S.tok_err.msg, strlen(S.tok_err.msg));
    }
    put(&b, "}");
    return finish(&b);
}

static void put_size_sha(blw_buf *b, int64_t size, const char *sha) {
    if (size >= 0) put(b, "\"size\":%lld,", (long long)size); else put(b, "\"size\":null,");
    if (sha[0]) put(b, "\"sha256\":\"%s\"", sha); else put(b, "\"sha256\":null");
}

/* The model a model list (weights/manifest.json, json[0..len)) names, by weights/FORMAT.md:
   {"name", "file", "sharded": bool, "size": n|null, "sha256": hex|null}; NULL if the list is
   invalid (blw_error says why). */
EMSCRIPTEN_KEEPALIVE const char *blw_model_list(const char *json, int len) {
    if (len < 0) { fail("bad length"); return NULL; }
    bl_model_entry m;
    if (bl_model_list_resolve(json, (size_t)len, &m, &S.err) != 0) return NULL;
    blw_buf b = {0};
    put(&b, "{\"name\":");
    put_str(&b, m.name, strlen(m.name));
    put(&b, ",\"file\":");
    put_str(&b, m.file, strlen(m.file));
    put(&b, ",\"sharded\":%s,", m.sharded ? "true" : "false");
    put_size_sha(&b, m.size, m.sha256);
    put(&b, "}");
    bl_model_entry_free(&m);
    return finish(&b);
}

/* A shard manifest's parts, checked by weights/FORMAT.md: {"size", "sha256", "parts": [{"path",
   "size", "sha256"}…]}. entry_size (< 0: none) and entry_sha256 (NULL or "": none) are what the
   model list's entry says of the whole file, which must agree. NULL if invalid. */
EMSCRIPTEN_KEEPALIVE const char *blw_shard_manifest(const char *json, int len, double entry_size, const char *entry_sha256) {
    if (len < 0) { fail("bad length"); return NULL; }
    bl_model_entry ent = {.size = entry_size >= 0 ? (int64_t)entry_size : -1};
    if (entry_sha256) snprintf(ent.sha256, sizeof ent.sha256, "%s", entry_sha256);
    bl_shard_manifest sm;
    if (bl_shard_manifest_parse(json, (size_t)len, &ent, &sm, &S.err) != 0) return NULL;
    blw_buf b = {0};
    put(&b, "{");
    put_size_sha(&b, sm.size, sm.sha256);
    put(&b, ",\"parts\":[");
    for (int i = 0; i < sm.nparts; i++) {
        put(&b, "%s{\"path\":", i ? "," : "");
        put_str(&b, sm.parts[i].path, strlen(sm.parts[i].path));
        put(&b, ",");
        put_size_sha(&b, sm.parts[i].size, sm.parts[i].sha256);
        put(&b, "}");
    }
    put(&b, "]}");
    bl_shard_manifest_free(&sm);
    return finish(&b);
}

EMSCRIPTEN_KEEPALIVE const char *blw_vocab_token(int id) { return S.m ? bl_vocab_token(bl_model_vocab(S.m), id) : NULL; }

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

/* 1: the next runs are for the attention views alone (bl_ctx_set_attention_only): the last
   layer stops after its attention maps (every layer's maps, queries and keys are the same bits
   as a full run's), with no masked-LM answer and no task head; the masked-LM and prediction
   views refuse to draw until a full run (0, the default). Kept across model loads. */
EMSCRIPTEN_KEEPALIVE void blw_set_attention_only(int on) { S.att_only = !!on; }
/* The masked-LM and prediction views after an attention-only run: an error, not an empty answer. */
static int partial_refuses(void) {
    if (!S.partial || (S.opts.view != BL_VIEW_MLM && S.opts.view != BL_VIEW_TASK)) return 0;
    fail("this view needs a full run (the last one was for the attention maps only)");
    return 1;
}

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
    if (!S.tok) { snprintf(S.err.msg, sizeof S.err.msg, "tokenize: %s", S.tok_err.msg); return -1; }
    if (bl_tokenizer_encode(S.tok, a, (size_t)alen, blen >= 0 ? b : NULL, blen >= 0 ? (size_t)blen : 0,
                            bl_config_max_tokens(c), &S.enc, &S.err) != 0)
        return -1;
    S.have_enc = 1;
    int n = S.enc.n;
    S.tokens = malloc(sizeof(char *) * (size_t)n);
    S.shown = calloc((size_t)n, sizeof(char *));
    S.word_of = malloc(sizeof(int) * (size_t)n);
    if (!S.tokens || !S.shown || !S.word_of) return fail("out of memory");
    for (int i = 0; i < n; i++) {
        S.tokens[i] = bl_vocab_token(bl_model_vocab(S.m), S.enc.ids[i]);
        if (!S.tokens[i]) S.tokens[i] = "";
        if (!(S.shown[i] = shown_token(S.enc.ids[i]))) return fail("out of memory");
    }
    /* words from the pieces as the tokenizer wrote them: the readable forms drop the markers */
    if (bl_word_ids(S.tokens, n, S.word_of) < 0) return fail("word ids: bad tokens");
    const double f32_maps = (double)c->layers * c->heads * n * n * sizeof(float);
    bl_ctx_set_attention_u16(S.ctx, S.att_mode == 2 || (S.att_mode == 0 && f32_maps > BLW_U16_ABOVE));
    bl_ctx_set_value_norms(S.ctx, S.value_norms);
    bl_ctx_set_keep_hidden(S.ctx, LENS.on && !S.att_only && mlm_k > 0 && c->has_mlm);   /* the logit lens */
    bl_ctx_set_attention_only(S.ctx, S.att_only);
    S.maps_id++;   /* the renderer's caches key on it rather than sampling the maps */
    if (bl_forward(S.ctx, S.enc.ids, S.enc.type_ids, n, BL_PREC_NATIVE, &S.err) != 0) return -1;
    for (int l = 0; l < c->layers; l++) { S.q[l] = bl_query(S.ctx, l); S.k[l] = bl_key(S.ctx, l); }
    S.mlm_k = mlm_k;
    if (S.att_only) {   /* no last hidden state: no masked LM, no task head */
        S.mlm_k = 0;
        S.partial = S.ran = 1;
        return n;
    }
    if (mlm_k > 0 && bl_model_config(S.m)->has_mlm &&
        bl_fill_mask(S.ctx, S.m, S.enc.ids, n, mlm_k, &S.mlm, &S.err) != 0) return -1;
    if (S.mlm.count > 0) {
        const int nm = S.mlm.count * S.mlm.k;
        if (!(S.mlm_shown = calloc((size_t)nm, sizeof(char *)))) return fail("out of memory");
        for (int i = 0; i < nm; i++) if (!(S.mlm_shown[i] = shown_token(S.mlm.ids[i]))) return fail("out of memory");
    }
    if (lens_after_run() != 0) return -1;
    if (c->head != BL_HEAD_NONE) {
        S.head_size = bl_head_size(S.ctx);
        if (!(S.head_p = malloc(sizeof(float) * (size_t)(S.head_size > 0 ? S.head_size : 1)))) return fail("out of memory");
        if (bl_head_probs(S.ctx, S.head_p, &S.err) != 0) return -1;
    }
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
/* Its readable form (Ġ/▁ dropped from word starts, byte-level pieces decoded): what the views draw. */
EMSCRIPTEN_KEEPALIVE const char *blw_token_shown(int i) { return S.have_enc && i >= 0 && i < S.enc.n ? S.shown[i] : NULL; }
/* The task head's probabilities of the last run (bl_head_probs): token classification and the
   ELECTRA discriminator [n][n_labels], sequence classification [n_labels]; NULL without a head. */
EMSCRIPTEN_KEEPALIVE int blw_head_size(void) { return S.ran ? S.head_size : 0; }
EMSCRIPTEN_KEEPALIVE const float *blw_head_probs(void) { return S.ran ? S.head_p : NULL; }
/* Exactly one of these is non-NULL after a run: the maps as floats, or × 65535 as uint16. */
EMSCRIPTEN_KEEPALIVE const float *blw_attention(void) { return S.ran ? bl_attention(S.ctx) : NULL; }
EMSCRIPTEN_KEEPALIVE const uint16_t *blw_attention_u16(void) { return S.ran ? bl_attention_u16(S.ctx) : NULL; }
/* bl_fill_mask's answer: count [MASK] positions × k choices (k = the smaller of blw_run's mlm_k
   and the vocab). */
EMSCRIPTEN_KEEPALIVE int blw_mlm_count(void) { return S.ran ? S.mlm.count : 0; }
EMSCRIPTEN_KEEPALIVE int blw_mlm_k(void) { return S.mlm.k ? S.mlm.k : S.mlm_k; }
EMSCRIPTEN_KEEPALIVE const int *blw_mlm_pos(void) { return S.mlm.pos; }
EMSCRIPTEN_KEEPALIVE const int *blw_mlm_ids(void) { return S.mlm.ids; }
EMSCRIPTEN_KEEPALIVE const float *blw_mlm_p(void) { return S.mlm.p; }
/* Choice i's readable form (as blw_token_shown): what the view draws and what a click puts in
   the text in place of the mask token. */
EMSCRIPTEN_KEEPALIVE const char *blw_mlm_shown(int i) {
    return S.ran && S.mlm_shown && i >= 0 && i < S.mlm.count * S.mlm.k ? S.mlm_shown[i] : NULL;
}

/* Head statistics of the last run's maps (bl_head_stats, Clark et al. 2019), shaped as
   `bertlens stats` prints them: {"layers":L,"heads":H,"stats":{"entropy":[L][H],"cls":…,…}},
   token kinds from the tokens as the vocabulary spells them, as the CLI does. NULL before a
   run or when out of memory (blw_error says why). */
EMSCRIPTEN_KEEPALIVE const char *blw_head_stats(void) {
    if (!S.ran) { fail("no run yet"); return NULL; }
    const bl_config *c = bl_model_config(S.m);
    const int L = c->layers, H = c->heads, n = S.enc.n;
    float *st = malloc(sizeof(float) * (size_t)L * H * BL_STAT_COUNT);
    uint8_t *kinds = malloc((size_t)n);
    if (!st || !kinds) { free(st); free(kinds); fail("out of memory"); return NULL; }
    for (int i = 0; i < n; i++) kinds[i] = (uint8_t)bl_token_kind(S.tokens[i]);
    const float *a = bl_attention(S.ctx);
    const uint16_t *a16 = a ? NULL : bl_attention_u16(S.ctx);
    if (bl_head_stats(a, a16, L, H, n, kinds, st, &S.err) != 0) { free(st); free(kinds); return NULL; }
    blw_buf b = {0};
    put(&b, "{\"layers\":%d,\"heads\":%d,\"stats\":{", L, H);
    for (int s = 0; s < BL_STAT_COUNT; s++) {
        put(&b, "%s\"%s\":[", s ? "," : "", bl_stat_name(s));
        for (int l = 0; l < L; l++) {
            put(&b, l ? ",[" : "[");
            for (int h = 0; h < H; h++) put(&b, h ? ",%.6g" : "%.6g", (double)st[((size_t)l * H + h) * BL_STAT_COUNT + s]);
            put(&b, "]");
        }
        put(&b, "]");
    }
    put(&b, "}}");
    free(st);
    free(kinds);
    return finish(&b);
}

/* The view options blw_render draws with: JS writes the fields by name at the offsets blw_abi()
   gives (sizes and hover coordinates in CSS pixels, scale the dpr). Kept between renders. */
EMSCRIPTEN_KEEPALIVE bl_view_opts *blw_view_opts(void) { return &S.opts; }

/* Value-weighted attention: 1 makes the next runs compute ‖α f(x)‖ (bl_ctx_set_value_norms:
   (heads + 1)·layers·n² more floats), which the views draw with opts.value_weighted. */
EMSCRIPTEN_KEEPALIVE void blw_set_value_norms(int on) { S.value_norms = on ? 1 : 0; }
/* The last run's norms, [layers][heads][n][n] and [layers][n][n]; NULL unless it computed them. */
EMSCRIPTEN_KEEPALIVE const float *blw_value_norms(void) { return S.ran ? bl_value_norms(S.ctx) : NULL; }
EMSCRIPTEN_KEEPALIVE const float *blw_value_norms_layer(void) { return S.ran ? bl_value_norms_layer(S.ctx) : NULL; }
/* The word of each token of the last run (bl_word_ids on the pieces): [n]. */
EMSCRIPTEN_KEEPALIVE const int *blw_word_of(void) { return S.ran ? S.word_of : NULL; }
/* What the views merge with opts.words until the next run: groups[n] (0..count-1, each used),
   e.g. the words with a selection of tokens as one group; copied. n = 0 goes back to the words.
   Returns 0, or -1 (n is not the run's, or a group is out of range or empty). */
EMSCRIPTEN_KEEPALIVE int blw_set_groups(const int *groups, int n) {
    free(S.groups);
    S.groups = NULL;
    if (n == 0) return 0;
    if (!S.ran || n != S.enc.n) return fail("groups: not one per token of the last run");
    int *g = malloc(sizeof(int) * (size_t)n), *used = calloc((size_t)n, sizeof(int));
    if (!g || !used) { free(g); free(used); return fail("out of memory"); }
    int count = 0, ok = 1;
    for (int i = 0; i < n; i++) {
        if (groups[i] < 0 || groups[i] >= n) { ok = 0; break; }
        g[i] = groups[i];
        if (!used[g[i]]++) count = g[i] + 1 > count ? g[i] + 1 : count;
    }
    for (int k = 0; ok && k < count; k++) ok = used[k] > 0;
    free(used);
    if (!ok) { free(g); return fail("groups: every group 0..count-1 needs a token"); }
    S.groups = g;
    return 0;
}
/* What the last run draws, shared by blw_render and blw_render_svg. Returns 0, or -1 (S.err says
   why) when there is nothing to draw. */
static int blw_render_input(bl_render_input *in) {
    if (!S.r) return fail("no font loaded");
    if (!S.ran) return fail("nothing to draw: no text has been run");
    if (partial_refuses()) return -1;
    const bl_config *c = bl_model_config(S.m);
    *in = (bl_render_input){
        .n = S.enc.n, .layers = c->layers, .heads = c->heads, .head_dim = c->hidden / c->heads,
        .tokens = (const char *const *)S.shown, .word_of = S.word_of, .type_ids = S.enc.type_ids, .attn = bl_attention(S.ctx),
        .attn16 = bl_attention_u16(S.ctx),
        .query = S.q, .key = S.k,
        .mlm_count = S.mlm.count, .mlm_k = blw_mlm_k(), .mlm_pos = S.mlm.pos, .mlm_tokens = (const char *const *)S.mlm_shown, .mlm_p = S.mlm.p,
        .head = c->head, .n_labels = c->n_labels, .labels = S.labels, .head_p = S.head_p,
        .lens_layers = LENS.layers, .lens_tokens = LENS.layers ? (const char *const *)LENS.shown : NULL, .lens_p = LENS.top.p,
        .norms = bl_value_norms(S.ctx), .norms_layer = bl_value_norms_layer(S.ctx),
        .maps_id = S.maps_id,
    };
    if (S.groups) in->word_of = S.groups;
    return 0;
}

/* Draw a view of the last run with blw_view_opts(). Returns the RGBA framebuffer (blw_fb_width ×
   blw_fb_height device pixels), or NULL. */
EMSCRIPTEN_KEEPALIVE const uint8_t *blw_render(void) {
    bl_render_input in;
    if (blw_render_input(&in) < 0) return NULL;
    const uint8_t *px = bl_render(S.r, &in, &S.opts, &S.fb_w, &S.fb_h, &S.err);
    if (!px) S.fb_w = S.fb_h = 0;
    return px;
}
EMSCRIPTEN_KEEPALIVE int blw_fb_width(void) { return S.fb_w; }
/* The same view as an SVG document (bl_render_svg), NUL-terminated, kept until the next JSON or
   SVG answer; NULL on failure. */
EMSCRIPTEN_KEEPALIVE const char *blw_render_svg(void) {
    bl_render_input in;
    if (blw_render_input(&in) < 0) return NULL;
    size_t len = 0;
    char *svg = bl_render_svg(S.r, &in, &S.opts, &len, &S.err);
    if (!svg) return NULL;
    return answer(svg);
}
EMSCRIPTEN_KEEPALIVE int blw_fb_height(void) { return S.fb_h; }

/* Hit test of the last render at CSS pixel (x, y). Returns a pointer to a bl_hit (fields at
   the offsets blw_abi() gives; kind is BL_HIT_*, by name in its "hit_kinds"), valid until the
   next call. */
EMSCRIPTEN_KEEPALIVE const bl_hit *blw_hit(int x, int y) {
    bl_hit none = {0};
    S.hit = S.r ? bl_hit_test(S.r, x, y) : none;
    return &S.hit;
}

/* Free everything (tests check for leaks by calling it and reloading). */
EMSCRIPTEN_KEEPALIVE void blw_reset(void) {
    clear_model();
    compare_model_free();
    bl_renderer_free(S.r);
    free(S.font);
    free(S.json);
    S.r = NULL; S.font = NULL; S.json = NULL;
}

/* ---------------------------------------------------------------- logit lens
   blw_set_lens(1): the next full runs keep every layer's hidden state and compute bl_logit_lens
   at every [MASK] with blw_run's k; the masked-LM view then draws the layer × rank table. */
EMSCRIPTEN_KEEPALIVE void blw_set_lens(int on) { LENS.on = on ? 1 : 0; }

static void lens_clear(void) {
    free_strs(LENS.shown, LENS.top.count * LENS.top.k);
    bl_mlm_top_free(&LENS.top);
    LENS.shown = NULL;
    LENS.layers = 0;
}

static int lens_after_run(void) {
    if (!LENS.on || S.mlm.count == 0 || !bl_hidden_at(S.ctx, 0)) return 0;
    if (bl_logit_lens(S.ctx, S.m, S.enc.ids, S.enc.n, S.mlm.k, &LENS.top, &S.err) != 0) return -1;
    const int nm = LENS.top.count * LENS.top.k;
    if (!(LENS.shown = calloc((size_t)nm, sizeof(char *)))) return fail("out of memory");
    for (int i = 0; i < nm; i++) if (!(LENS.shown[i] = shown_token(LENS.top.ids[i]))) return fail("out of memory");
    LENS.layers = LENS.top.count / S.mlm.count;
    return 0;
}

/* The last run's lens: layers per [MASK] (0: none), then [masks][layers][k] ids, probabilities
   and readable forms (k = blw_mlm_k). */
EMSCRIPTEN_KEEPALIVE int blw_lens_layers(void) { return S.ran ? LENS.layers : 0; }
EMSCRIPTEN_KEEPALIVE const int *blw_lens_ids(void) { return LENS.layers ? LENS.top.ids : NULL; }
EMSCRIPTEN_KEEPALIVE const float *blw_lens_p(void) { return LENS.layers ? LENS.top.p : NULL; }
EMSCRIPTEN_KEEPALIVE const char *blw_lens_shown(int i) {
    return LENS.layers && i >= 0 && i < LENS.top.count * LENS.top.k ? LENS.shown[i] : NULL;
}

/* ---------------------------------------------------------------- compare mode
   A is the session's last run; blw_compare_run runs B (a second text) on the same model in a
   context of its own, aligns the two by token position over n = min(nA, nB) and computes what
   `bertlens compare` prints: each head's entropy change (bl_entropy_change), the positions whose
   tokens differ (bl_compare_tokens) and, for the zero check, max |A − B| (bl_attention_diff).
   blw_compare_render draws A's or B's heatmap, or A − B (attn_b) with the diverging colours. */
static void compare_clear(int with_ctx) {
    if (CMP.have_enc) { free_strs(CMP.shown, CMP.enc.n); bl_encoding_free(&CMP.enc); }
    free(CMP.tokens); free(CMP.word_of); free(CMP.a); free(CMP.b); free(CMP.dent); free(CMP.differ);
    bl_ctx *ctx = CMP.ctx;
    memset(&CMP, 0, sizeof CMP);
    if (with_ctx) bl_ctx_free(ctx); else CMP.ctx = ctx;
}

/* maps [maps][n0][n0] (floats or × 65535) cut to their first n positions, as floats */
static float *cut_maps(const float *f, const uint16_t *u, int maps, int n0, int n) {
    float *out = malloc(sizeof(float) * (size_t)maps * n * n);
    for (int m = 0; out && m < maps; m++)
        for (int i = 0; i < n; i++) {
            const size_t from = ((size_t)m * n0 + i) * n0;
            float *o = out + ((size_t)m * n + i) * n;
            for (int j = 0; j < n; j++) o[j] = f ? f[from + j] : (float)u[from + j] * (1.0f / 65535.0f);
        }
    return out;
}

/* Each head's entropy(A) − entropy(B): bl_entropy_change on float maps, the same statistics
   from the 16-bit maps otherwise. */
static int entropy_change(const bl_ctx *ca, const bl_ctx *cb, int L, int H, float *out) {
    const float *fa = bl_attention(ca), *fb = bl_attention(cb);
    if (fa && fb) return bl_entropy_change(fa, bl_ctx_n(ca), fb, bl_ctx_n(cb), L, H, out, &S.err);
    const int na = bl_ctx_n(ca), nb = bl_ctx_n(cb), M = L * H;
    uint8_t *kinds = calloc((size_t)(na > nb ? na : nb), 1);
    float *sa = malloc(sizeof(float) * (size_t)M * BL_STAT_COUNT), *sb = malloc(sizeof(float) * (size_t)M * BL_STAT_COUNT);
    int rc = !kinds || !sa || !sb ? fail("out of memory")
             : bl_head_stats(fa, fa ? NULL : bl_attention_u16(ca), L, H, na, kinds, sa, &S.err) != 0 ||
                   bl_head_stats(fb, fb ? NULL : bl_attention_u16(cb), L, H, nb, kinds, sb, &S.err) != 0 ? -1 : 0;
    for (int m = 0; !rc && m < M; m++) out[m] = sa[m * BL_STAT_COUNT + BL_STAT_ENTROPY] - sb[m * BL_STAT_COUNT + BL_STAT_ENTROPY];
    free(kinds); free(sa); free(sb);
    return rc;
}

/* compare mode's second model: a weights file as blw_model_load takes it (ownership of buf);
   the current one stays when it is rejected. Returns 0, or -1. */
EMSCRIPTEN_KEEPALIVE int blw_compare_model_load(uint8_t *buf, size_t len, int flags) {
    bl_err e = {{0}};
    bl_model *m = bl_model_load(buf, len, flags, &e);
    if (!m) { free(buf); return fail(e.msg[0] ? e.msg : "model B was rejected"); }
    bl_tokenizer *tok = bl_model_tokenizer(m, &e);
    bl_ctx *ctx = tok ? bl_ctx_new(m, &e) : NULL;
    if (!ctx) { bl_tokenizer_free(tok); bl_model_free(m); free(buf); return fail(e.msg); }
    compare_model_free();
    bl_ctx_set_pool(ctx, S.pool);
    bl_ctx_set_max_bytes(ctx, S.max_bytes);
    MB.buf = buf; MB.m = m; MB.tok = tok; MB.ctx = ctx;
    return 0;
}
static void compare_model_free(void) {
    if (CMP.model_b) compare_clear(0);   /* its tokens are model B's */
    bl_ctx_free(MB.ctx); bl_tokenizer_free(MB.tok); bl_model_free(MB.m); free(MB.buf);
    memset(&MB, 0, sizeof MB);
}
EMSCRIPTEN_KEEPALIVE int blw_compare_model_loaded(void) { return MB.m != NULL; }

/* The readable form of token id in model m with tokenizer t (malloc'd; NULL out of memory). */
static char *shown_token_of(const bl_model *m, const bl_tokenizer *t, int id) {
    char buf[512];
    if (bl_model_token_display(t, id, buf, sizeof buf) < 0) {
        const char *raw = bl_vocab_token(bl_model_vocab(m), id);
        snprintf(buf, sizeof buf, "%s", raw ? raw : "");
    }
    return strdup(buf);
}

/* B = b (with the pair text when plen >= 0, as A's run had it) on the session's model, or on
   model B (blw_compare_model_load) when model_b: two models on one input, as `bertlens compare
   --model-b`. Returns n (the aligned positions), or -1. */
EMSCRIPTEN_KEEPALIVE int blw_compare_run(const char *b, int blen, const char *pair, int plen, int model_b) {
    if (!S.ran) return fail("compare: run the first text before the second");
    if (blen < 0) return fail("bad text length");
    if (model_b && !MB.m) return fail("compare: no second model loaded");
    const bl_model *m = model_b ? MB.m : S.m;
    const bl_tokenizer *tok = model_b ? MB.tok : S.tok;
    if (!tok) { snprintf(S.err.msg, sizeof S.err.msg, "tokenize: %s", S.tok_err.msg); return -1; }
    compare_clear(0);
    const bl_config *c = bl_model_config(S.m), *cb = bl_model_config(m);
    if (cb->layers != c->layers || cb->heads != c->heads) {
        snprintf(S.err.msg, sizeof S.err.msg, "compare: the models differ in shape (%d×%d and %d×%d layers × heads)", c->layers,
                 c->heads, cb->layers, cb->heads);
        return -1;
    }
    if (!model_b && !CMP.ctx) {
        if (!(CMP.ctx = bl_ctx_new(S.m, &S.err))) return -1;
        bl_ctx_set_pool(CMP.ctx, S.pool);
        bl_ctx_set_max_bytes(CMP.ctx, S.max_bytes);
    }
    bl_ctx *ctx = model_b ? MB.ctx : CMP.ctx;
    CMP.model_b = model_b ? 1 : 0;
    if (bl_tokenizer_encode(tok, b, (size_t)blen, plen >= 0 ? pair : NULL, plen >= 0 ? (size_t)plen : 0,
                            bl_config_max_tokens(cb), &CMP.enc, &S.err) != 0)
        return -1;
    CMP.have_enc = 1;
    const int nb = CMP.enc.n, na = S.enc.n, n = na < nb ? na : nb, L = c->layers, H = c->heads;
    CMP.tokens = malloc(sizeof(char *) * (size_t)nb);
    CMP.shown = calloc((size_t)nb, sizeof(char *));
    CMP.word_of = malloc(sizeof(int) * (size_t)nb);
    if (!CMP.tokens || !CMP.shown || !CMP.word_of) return fail("out of memory");
    for (int i = 0; i < nb; i++) {
        CMP.tokens[i] = bl_vocab_token(bl_model_vocab(m), CMP.enc.ids[i]);
        if (!CMP.tokens[i]) CMP.tokens[i] = "";
        if (!(CMP.shown[i] = shown_token_of(m, tok, CMP.enc.ids[i]))) return fail("out of memory");
    }
    if (bl_word_ids(CMP.tokens, nb, CMP.word_of) < 0) return fail("word ids: bad tokens");
    /* B's maps kept as A's are (floats, or 16-bit when A's are) */
    bl_ctx_set_attention_u16(ctx, bl_attention_u16(S.ctx) != NULL);
    bl_ctx_set_attention_only(ctx, 1);   /* the maps are all compare mode reads */
    if (bl_forward(ctx, CMP.enc.ids, CMP.enc.type_ids, nb, BL_PREC_NATIVE, &S.err) != 0) return -1;
    CMP.a = cut_maps(bl_attention(S.ctx), bl_attention_u16(S.ctx), L * H, na, n);
    CMP.b = cut_maps(bl_attention(ctx), bl_attention_u16(ctx), L * H, nb, n);
    CMP.dent = malloc(sizeof(float) * (size_t)L * H);
    CMP.differ = malloc(sizeof(int) * (size_t)n);
    float *d = malloc(sizeof(float) * (size_t)L * H * n * n);
    if (!CMP.a || !CMP.b || !CMP.dent || !CMP.differ || !d) { free(d); return fail("compare: out of memory"); }
    bl_attention_diff(CMP.a, n, CMP.b, n, L * H, d);
    for (size_t k = 0; k < (size_t)L * H * n * n; k++) {
        const float v = d[k] < 0 ? -d[k] : d[k];
        if (v > CMP.max_abs) CMP.max_abs = v;
    }
    free(d);
    if (entropy_change(S.ctx, ctx, L, H, CMP.dent) != 0) return -1;
    CMP.ndiffer = bl_compare_tokens(S.tokens, na, CMP.tokens, nb, CMP.differ);
    CMP.n = n;
    return n;
}

/* The last comparison: aligned positions (0: none), B's tokens, the differing positions,
   each head's entropy change [layers·heads] and max |A − B|. */
EMSCRIPTEN_KEEPALIVE int blw_compare_n(void) { return CMP.n; }
EMSCRIPTEN_KEEPALIVE int blw_compare_nb(void) { return CMP.n ? CMP.enc.n : 0; }
EMSCRIPTEN_KEEPALIVE const char *blw_compare_token(int i) { return CMP.n && i >= 0 && i < CMP.enc.n ? CMP.tokens[i] : NULL; }
EMSCRIPTEN_KEEPALIVE const char *blw_compare_shown(int i) { return CMP.n && i >= 0 && i < CMP.enc.n ? CMP.shown[i] : NULL; }
EMSCRIPTEN_KEEPALIVE int blw_compare_ndiffer(void) { return CMP.n ? CMP.ndiffer : 0; }
EMSCRIPTEN_KEEPALIVE const int *blw_compare_differ(void) { return CMP.n ? CMP.differ : NULL; }
EMSCRIPTEN_KEEPALIVE const float *blw_compare_entropy(void) { return CMP.n ? CMP.dent : NULL; }
EMSCRIPTEN_KEEPALIVE double blw_compare_max_abs(void) { return CMP.n ? CMP.max_abs : -1; }

/* which 0: A's heatmap, 1: B's, 2: A − B over the aligned positions; drawn with blw_view_opts()
   at width CSS pixels (layer, head, colours; no hover for A and B; attention weights of tokens,
   whatever the value-weighted and word switches say). The framebuffer as
   blw_render's; the hit regions are this picture's. */
EMSCRIPTEN_KEEPALIVE const uint8_t *blw_compare_render(int which, int width) {
    if (!S.r) { fail("no font loaded"); return NULL; }
    if (!CMP.n) { fail("compare: no second text has been run"); return NULL; }
    const bl_config *c = bl_model_config(S.m);
    bl_view_opts o = S.opts;
    o.view = BL_VIEW_HEATMAP;
    o.value_weighted = 0;   /* A − B is of the attention weights, as `bertlens compare` */
    o.words = 0;            /* A and B are aligned token by token */
    if (width > 0) o.width = width;
    if (which != 2) o.hover_x = o.hover_y = -1;
    bl_render_input in = {.layers = c->layers, .heads = c->heads, .head_dim = c->hidden / c->heads};
    if (which == 0) {
        in.n = S.enc.n; in.tokens = (const char *const *)S.shown; in.word_of = S.word_of; in.type_ids = S.enc.type_ids;
        in.attn = bl_attention(S.ctx); in.attn16 = bl_attention_u16(S.ctx);
    } else if (which == 1) {
        in.n = CMP.enc.n; in.tokens = (const char *const *)CMP.shown; in.word_of = CMP.word_of; in.type_ids = CMP.enc.type_ids;
        const bl_ctx *cb = CMP.model_b ? MB.ctx : CMP.ctx;
        in.attn = bl_attention(cb); in.attn16 = bl_attention_u16(cb);
    } else {
        in.n = CMP.n; in.tokens = (const char *const *)S.shown; in.word_of = S.word_of; in.type_ids = S.enc.type_ids;
        in.attn = CMP.a; in.attn_b = CMP.b;
    }
    const uint8_t *px = bl_render(S.r, &in, &o, &S.fb_w, &S.fb_h, &S.err);
    if (!px) S.fb_w = S.fb_h = 0;
    return px;
}
