/* wasm_convert.c — the streaming converter (bl_conv_*) for the page's worker: it converts a
   Hugging Face checkpoint while it downloads, pushing each fetched chunk.

   Unlike the viewer session (wasm_api.c), converters are handles: one per conversion, any
   number at once, each freed by blw_conv_free (a Cancel frees it mid-way). Memory protocol:
     - names and JSON go in as (pointer, byte length) pairs; JS owns those buffers;
     - chunks: blw_conv_chunk(h, n) lends a buffer of n bytes owned by the handle (reused, so a
       download does not malloc per chunk); JS copies the chunk there and calls blw_conv_push;
     - after blw_conv_finish, blw_conv_take_output hands the weights file's malloc'd buffer to
       JS (free it with _free, or give it to blw_model_load, which takes ownership);
     - blw_conv_progress and blw_conv_error point into the handle, valid until its next call.
   Functions that can fail return -1 (or NULL); blw_conv_error(h) says why. Usage:
       h = _blw_conv_new(opts)   // blw_conv_opts {int32 dtype, int32 measure, f64 max_bytes}
       _blw_conv_set_config(h, p, n); _blw_conv_set_tokenizer_file(h, name, nlen, p, n); ...
       _blw_conv_begin_file(h, name, nlen, total); for each chunk: _blw_conv_push(h, _blw_conv_chunk(h, n), n)
       _blw_conv_end_file(h); _blw_conv_finish(h); out = _blw_conv_take_output(h); _blw_conv_free(h) */
#include "bertlens.h"
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#else
#define EMSCRIPTEN_KEEPALIVE
#endif

/* What JS writes for blw_conv_new: 16 bytes. */
typedef struct {
    int32_t dtype;          /* BL_DT_*: 0 f32, 1 f16, 2 int8, 3 int16 */
    int32_t measure;        /* 1: store the attention fidelity (bl_conv_opts.measure) */
    double max_bytes;       /* memory ceiling in bytes, 0 = none */
} blw_conv_opts;
_Static_assert(sizeof(blw_conv_opts) == 16 && offsetof(blw_conv_opts, max_bytes) == 8, "blw_conv_opts layout read by JS");

/* What JS reads from blw_conv_progress (blw_conv_stats): 10 float64. */
typedef struct {
    double bytes;           /* pushed, all files */
    double file_bytes;      /* pushed into the current file */
    double file_total;      /* its announced size, -1 unknown */
    double tensors_done, tensors_total;
    double mem_bytes;       /* held by the converter now */
    double peak_bytes;      /* at most so far */
    double out_bytes;       /* size of the output (0 until laid out) */
    double heap_bytes;      /* the WebAssembly memory's size now */
    double output_len;      /* after blw_conv_finish: the weights file's length */
} blw_conv_stats;
_Static_assert(sizeof(blw_conv_stats) == 80, "blw_conv_stats layout read by JS");

typedef struct {
    bl_conv *c;
    bl_err err;
    uint8_t *chunk;
    size_t chunk_cap;
    uint8_t *out;
    size_t out_len;
    blw_conv_stats prog;
    char name[512];
} blw_conv;

static int h_fail(blw_conv *h, const char *msg) {
    snprintf(h->err.msg, sizeof h->err.msg, "%s", msg);
    return -1;
}

static const char *h_name(blw_conv *h, const char *p, int n) {
    if (!p || n < 0) n = 0;
    if ((size_t)n >= sizeof h->name) n = (int)sizeof h->name - 1;
    memcpy(h->name, p ? p : "", (size_t)n);
    h->name[n] = 0;
    return h->name;
}

EMSCRIPTEN_KEEPALIVE blw_conv *blw_conv_new(const blw_conv_opts *o) {
    blw_conv *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    bl_conv_opts co = {o ? o->dtype : BL_DT_I16, o && o->max_bytes > 0 ? (size_t)o->max_bytes : 0, o ? o->measure == 1 : 0};
    h->c = bl_conv_new(&co, &h->err);   /* NULL: every call fails with h->err */
    return h;
}

EMSCRIPTEN_KEEPALIVE void blw_conv_free(blw_conv *h) {
    if (!h) return;
    bl_conv_free(h->c);
    free(h->chunk);
    free(h->out);
    free(h);
}

EMSCRIPTEN_KEEPALIVE const char *blw_conv_error(blw_conv *h) { return h ? h->err.msg : "no converter"; }

EMSCRIPTEN_KEEPALIVE int blw_conv_set_config(blw_conv *h, const char *p, int n) {
    if (!h->c) return -1;
    return bl_conv_set_config(h->c, p, n > 0 ? (size_t)n : 0, &h->err);
}

EMSCRIPTEN_KEEPALIVE int blw_conv_set_tokenizer_file(blw_conv *h, const char *name, int name_len, const uint8_t *p, int n) {
    if (!h->c) return -1;
    return bl_conv_set_tokenizer_file(h->c, h_name(h, name, name_len), p, n > 0 ? (size_t)n : 0, &h->err);
}

EMSCRIPTEN_KEEPALIVE int blw_conv_set_index(blw_conv *h, const char *name, int name_len, const char *p, int n) {
    if (!h->c) return -1;
    return bl_conv_set_index(h->c, h_name(h, name, name_len), p, n > 0 ? (size_t)n : 0, &h->err);
}

/* The i-th weights file the index names (NUL-terminated), NULL past the end. */
EMSCRIPTEN_KEEPALIVE const char *blw_conv_file(blw_conv *h, int i) { return h->c ? bl_conv_file(h->c, i) : NULL; }

/* total: the file's size (Content-Length), or -1 when unknown */
EMSCRIPTEN_KEEPALIVE int blw_conv_begin_file(blw_conv *h, const char *name, int name_len, double total) {
    if (!h->c) return -1;
    return bl_conv_begin_file(h->c, h_name(h, name, name_len), total >= 0 ? (int64_t)total : -1, &h->err);
}

/* A buffer of n bytes for the next chunk, owned by the handle (grown as needed). */
EMSCRIPTEN_KEEPALIVE uint8_t *blw_conv_chunk(blw_conv *h, int n) {
    if (n < 1) n = 1;
    if ((size_t)n > h->chunk_cap) {
        uint8_t *b = realloc(h->chunk, (size_t)n);
        if (!b) { h_fail(h, "out of memory for a download chunk"); return NULL; }
        h->chunk = b;
        h->chunk_cap = (size_t)n;
    }
    return h->chunk;
}

EMSCRIPTEN_KEEPALIVE int blw_conv_push(blw_conv *h, const uint8_t *p, int n) {
    if (!h->c) return -1;
    return bl_conv_push(h->c, p, n > 0 ? (size_t)n : 0, &h->err);
}

EMSCRIPTEN_KEEPALIVE int blw_conv_end_file(blw_conv *h) {
    if (!h->c) return -1;
    return bl_conv_end_file(h->c, &h->err);
}

/* The chunk buffer is not needed past the downloads: freed here, before the output is made. */
EMSCRIPTEN_KEEPALIVE int blw_conv_finish(blw_conv *h) {
    if (!h->c) return -1;
    free(h->chunk);
    h->chunk = NULL;
    h->chunk_cap = 0;
    free(h->out);
    h->out = NULL;
    h->out_len = 0;
    return bl_conv_finish(h->c, &h->out, &h->out_len, &h->err);
}

/* The weights file made by blw_conv_finish; the caller owns it from now on (NULL if none). */
EMSCRIPTEN_KEEPALIVE uint8_t *blw_conv_take_output(blw_conv *h) {
    uint8_t *o = h->out;
    h->out = NULL;
    return o;
}

EMSCRIPTEN_KEEPALIVE const blw_conv_stats *blw_conv_progress(blw_conv *h) {
    bl_conv_progress p;
    memset(&p, 0, sizeof p);
    if (h->c) bl_conv_get_progress(h->c, &p);
    h->prog.bytes = (double)p.bytes;
    h->prog.file_bytes = (double)p.file_bytes;
    h->prog.file_total = (double)p.file_total;
    h->prog.tensors_done = p.tensors_done;
    h->prog.tensors_total = p.tensors_total;
    h->prog.mem_bytes = (double)(p.mem_bytes + h->chunk_cap);
    h->prog.peak_bytes = (double)p.peak_bytes;
    h->prog.out_bytes = (double)p.out_bytes;
#ifdef __EMSCRIPTEN__
    h->prog.heap_bytes = (double)__builtin_wasm_memory_size(0) * 65536.0;
#else
    h->prog.heap_bytes = 0;
#endif
    h->prog.output_len = (double)h->out_len;
    return &h->prog;
}
