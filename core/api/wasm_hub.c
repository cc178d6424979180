/* wasm_hub.c — SHA-256 over a download as it arrives, for web/hub.js: the Hub gives the SHA-256
   of every LFS file, and the worker checks it chunk by chunk (each chunk is already in WASM
   memory for the converter) instead of keeping the file. One context per file:
       s = _blw_sha256_begin(); _blw_sha256_update(s, p, n)...; _blw_sha256_end(s, out32)
   blw_sha256_end writes the digest and frees the context. */
#include "bertlens.h"
#include <stdlib.h>

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#else
#define EMSCRIPTEN_KEEPALIVE
#endif

EMSCRIPTEN_KEEPALIVE bl_sha256_ctx *blw_sha256_begin(void) {
    bl_sha256_ctx *s = malloc(sizeof *s);
    if (s) bl_sha256_init(s);
    return s;
}

EMSCRIPTEN_KEEPALIVE void blw_sha256_update(bl_sha256_ctx *s, const uint8_t *p, int n) {
    if (s && p && n > 0) bl_sha256_update(s, p, (size_t)n);
}

/* out32: 32 bytes; NULL only frees */
EMSCRIPTEN_KEEPALIVE void blw_sha256_end(bl_sha256_ctx *s, uint8_t *out32) {
    if (!s) return;
    if (out32) bl_sha256_final(s, out32);
    free(s);
}
