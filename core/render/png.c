/* png.c — PNG output for `bertlens render` (and PNG export), via stb_image_write.
   The one translation unit holding stb_image_write's implementation. */
#include "render/render_internal.h"
#include <errno.h>
#include <string.h>

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO   /* we open the file ourselves so the error says why */
#include "stb_image_write.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

typedef struct { FILE *f; int failed; } bl_png_sink;

static void bl_png_write(void *ctx, void *data, int size) {
    bl_png_sink *s = ctx;
    if (size > 0 && fwrite(data, 1, (size_t)size, s->f) != (size_t)size) s->failed = 1;
}

int bl_write_png(const char *path, const uint8_t *rgba, int w, int h, bl_err *e) {
    if (!path || !rgba) return bl_fail(e, "write_png: no path or pixels");
    if (w <= 0 || h <= 0 || w > 65535 || h > 65535) return bl_fail(e, "write_png: bad size %dx%d", w, h);
    FILE *f = fopen(path, "wb");
    if (!f) return bl_fail(e, "cannot write %s: %s", path, strerror(errno));
    bl_png_sink s = {f, 0};
    int ok = stbi_write_png_to_func(bl_png_write, &s, w, h, 4, rgba, w * 4);
    if (fclose(f) != 0) s.failed = 1;
    if (!ok) return bl_fail(e, "write_png: PNG encoding of %dx%d failed (out of memory?)", w, h);
    if (s.failed) return bl_fail(e, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

uint8_t *bl_png_mem(const uint8_t *rgba, int w, int h, int *len) {
    return stbi_write_png_to_mem(rgba, w * 4, w, h, 4, len);
}
