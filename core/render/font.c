/* font.c — text for the renderer: stb_truetype behind a glyph cache.

   Why a cache: a heatmap of 512 tokens draws thousands of glyphs per frame and hover re-renders
   at pointer rate; rasterising each glyph once per (codepoint, size, subpixel offset) makes
   text cost a blit. Glyphs are positioned at quarter-pixel steps horizontally so spacing stays
   even at small sizes, without hinting (the shipped subset has none; see tools/subset_font.sh).
   A codepoint the font lacks draws as an outlined box (the "tofu" convention), so non-Latin
   tokens stay visible and countable instead of vanishing.

   This is the one translation unit holding stb_truetype's implementation. */
#include "render/render_internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#define STB_TRUETYPE_IMPLEMENTATION
#define STBTT_STATIC
#include "stb_truetype.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#define BL_GLYPH_SLOTS 4096          /* power of two; open addressing */
#define BL_GLYPH_MAX_FILL 3000       /* flush the whole cache beyond this many entries */
#define BL_GLYPH_ARENA_MAX (8u << 20) /* or beyond this many bitmap bytes */
#define BL_SUBPIX 4

typedef struct {
    uint32_t cp;
    uint16_t size_q;   /* em size in quarter pixels; 0 = empty slot */
    uint8_t sub;       /* horizontal subpixel bin */
    int16_t x0, y0, w, h;
    uint32_t off;      /* bitmap offset in the arena */
    float adv;
} bl_glyph;

struct bl_font {
    stbtt_fontinfo info;
    float units_ascent, units_descent, units_gap;
    bl_glyph *slots;
    int used;
    uint8_t *arena;
    uint32_t arena_len, arena_cap;
};

uint32_t bl_utf8_next(const char *s, int len, int *i) {
    uint32_t cp;
    size_t n = bl_utf8_decode((const uint8_t *)s + *i, (size_t)(len - *i), &cp);
    *i += n ? (int)n : 1;   /* invalid: U+FFFD for one byte */
    return cp;
}

bl_font *bl_font_new(const uint8_t *ttf, size_t len, bl_err *e) {
    if (!ttf || len < 12) { bl_fail(e, "font: no font data (%zu bytes)", len); return NULL; }
    if (len > (size_t)INT32_MAX) { bl_fail(e, "font: file too large"); return NULL; }
    /* stb_truetype trusts its input; check the sfnt version and the table directory bounds. */
    uint32_t tag = (uint32_t)ttf[0] << 24 | (uint32_t)ttf[1] << 16 | (uint32_t)ttf[2] << 8 | ttf[3];
    if (tag != 0x00010000u && tag != 0x74727565u /* 'true' */) {
        bl_fail(e, "font: not a TrueType font (sfnt version 0x%08x)", tag);
        return NULL;
    }
    int ntab = ttf[4] << 8 | ttf[5];
    if (ntab == 0 || 12 + (size_t)ntab * 16 > len) { bl_fail(e, "font: truncated table directory"); return NULL; }
    for (int t = 0; t < ntab; t++) {
        const uint8_t *d = ttf + 12 + t * 16;
        uint32_t off = (uint32_t)d[8] << 24 | (uint32_t)d[9] << 16 | (uint32_t)d[10] << 8 | d[11];
        uint32_t tl = (uint32_t)d[12] << 24 | (uint32_t)d[13] << 16 | (uint32_t)d[14] << 8 | d[15];
        if ((uint64_t)off + tl > len) {
            bl_fail(e, "font: table %c%c%c%c extends past the end of the file", d[0], d[1], d[2], d[3]);
            return NULL;
        }
    }
    bl_font *f = calloc(1, sizeof *f);
    if (!f) { bl_fail(e, "font: out of memory"); return NULL; }
    if (!stbtt_InitFont(&f->info, ttf, 0)) {
        free(f);
        bl_fail(e, "font: stb_truetype rejected the font (missing cmap/head/hhea/hmtx/loca/glyf?)");
        return NULL;
    }
    int a, d, g;
    stbtt_GetFontVMetrics(&f->info, &a, &d, &g);
    f->units_ascent = (float)a;
    f->units_descent = (float)-d;
    f->units_gap = (float)g;
    f->slots = calloc(BL_GLYPH_SLOTS, sizeof *f->slots);
    if (!f->slots) { free(f); bl_fail(e, "font: out of memory"); return NULL; }
    return f;
}

void bl_font_free(bl_font *f) {
    if (!f) return;
    free(f->slots);
    free(f->arena);
    free(f);
}

static float bl_font_scale(const bl_font *f, float px) { return stbtt_ScaleForMappingEmToPixels(&f->info, px); }

bl_font_metrics bl_font_metrics_at(const bl_font *f, float px) {
    float s = bl_font_scale(f, px);
    bl_font_metrics m = {f->units_ascent * s, f->units_descent * s,
                         (f->units_ascent + f->units_descent + f->units_gap) * s};
    return m;
}

int bl_font_has_glyph(const bl_font *f, uint32_t cp) { return stbtt_FindGlyphIndex(&f->info, (int)cp) != 0; }

static void bl_font_flush(bl_font *f) {
    memset(f->slots, 0, BL_GLYPH_SLOTS * sizeof *f->slots);
    f->used = 0;
    f->arena_len = 0;
}

static uint8_t *bl_arena_alloc(bl_font *f, uint32_t n, uint32_t *off) {
    if (f->arena_len + n > f->arena_cap) {
        uint32_t cap = f->arena_cap ? f->arena_cap : 65536;
        while (cap < f->arena_len + n) cap *= 2;
        uint8_t *p = realloc(f->arena, cap);
        if (!p) return NULL;
        f->arena = p;
        f->arena_cap = cap;
    }
    *off = f->arena_len;
    f->arena_len += n;
    return f->arena + *off;
}

/* The box drawn for a missing glyph: an outline the size of a capital letter. */
static int bl_make_box(bl_font *f, bl_glyph *g, float px) {
    int w = (int)lroundf(px * 0.5f), h = (int)lroundf(px * 0.68f), t = px >= 20 ? 2 : 1;
    if (w < 3) w = 3;
    if (h < 4) h = 4;
    uint8_t *b = bl_arena_alloc(f, (uint32_t)(w * h), &g->off);
    if (!b) return -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) b[y * w + x] = (x < t || y < t || x >= w - t || y >= h - t) ? 220 : 0;
    g->x0 = (int16_t)lroundf(px * 0.08f);
    g->y0 = (int16_t)-h;
    g->w = (int16_t)w;
    g->h = (int16_t)h;
    g->adv = px * 0.66f;
    return 0;
}

/* The cached glyph for (cp, px, subpixel bin), rasterising it on a miss. NULL on OOM. */
static const bl_glyph *bl_glyph_get(bl_font *f, uint32_t cp, float px, int sub) {
    uint16_t q = (uint16_t)(px * 4.0f + 0.5f);
    if (q == 0) q = 1;
    uint32_t hsh = (cp * 2654435761u) ^ ((uint32_t)q * 40503u) ^ ((uint32_t)sub * 97u);
    for (int pass = 0; pass < 2; pass++) {
        uint32_t i = hsh & (BL_GLYPH_SLOTS - 1);
        for (;;) {
            bl_glyph *g = &f->slots[i];
            if (g->size_q == 0) break;
            if (g->cp == cp && g->size_q == q && g->sub == sub) return g;
            i = (i + 1) & (BL_GLYPH_SLOTS - 1);
        }
        if (f->used < BL_GLYPH_MAX_FILL && f->arena_len < BL_GLYPH_ARENA_MAX) {
            bl_glyph *g = &f->slots[i];
            float size = q / 4.0f;
            memset(g, 0, sizeof *g);
            g->cp = cp;
            g->size_q = q;
            g->sub = (uint8_t)sub;
            int gi = stbtt_FindGlyphIndex(&f->info, (int)cp);
            if (gi == 0 && cp != ' ' && cp != 0xA0) {
                if (bl_make_box(f, g, size)) { g->size_q = 0; return NULL; }
            } else {
                float s = bl_font_scale(f, size), shift = (float)sub / BL_SUBPIX;
                int adv, lsb, x0, y0, x1, y1;
                stbtt_GetGlyphHMetrics(&f->info, gi, &adv, &lsb);
                stbtt_GetGlyphBitmapBoxSubpixel(&f->info, gi, s, s, shift, 0, &x0, &y0, &x1, &y1);
                g->adv = adv * s;
                int w = x1 - x0, h = y1 - y0;
                if (w > 0 && h > 0 && w < 2048 && h < 2048) {
                    uint8_t *b = bl_arena_alloc(f, (uint32_t)(w * h), &g->off);
                    if (!b) { g->size_q = 0; return NULL; }
                    stbtt_MakeGlyphBitmapSubpixel(&f->info, b, w, h, w, s, s, shift, 0, gi);
                    g->x0 = (int16_t)x0;
                    g->y0 = (int16_t)y0;
                    g->w = (int16_t)w;
                    g->h = (int16_t)h;
                }
            }
            f->used++;
            return g;
        }
        bl_font_flush(f);   /* full: start over (pointers from earlier calls are not kept) */
    }
    return NULL;
}

float bl_text_width(bl_font *f, const char *s, int len, float px) {
    float w = 0;
    for (int i = 0; i < len;) {
        const bl_glyph *g = bl_glyph_get(f, bl_utf8_next(s, len, &i), px, 0);
        if (g) w += g->adv;
    }
    return w;
}

int bl_text_fit(bl_font *f, const char *s, int len, float px, float max_w, int *ellipsis) {
    *ellipsis = 0;
    if (bl_text_width(f, s, len, px) <= max_w) return len;
    *ellipsis = 1;
    const bl_glyph *el = bl_glyph_get(f, 0x2026, px, 0);
    float budget = max_w - (el ? el->adv : px), w = 0;
    int fit = 0;
    for (int i = 0; i < len;) {
        const bl_glyph *g = bl_glyph_get(f, bl_utf8_next(s, len, &i), px, 0);
        w += g ? g->adv : 0;
        if (w > budget) break;
        fit = i;
    }
    return fit;
}

static void bl_blit_glyph(bl_canvas *c, const bl_font *f, const bl_glyph *g, int ox, int oy, bl_rgba col, int rot) {
    const uint8_t *b = f->arena + g->off;
    int cr = col >> 24, cg = (col >> 16) & 255, cb = (col >> 8) & 255, ca = col & 255;
    for (int y = 0; y < g->h; y++) {
        for (int x = 0; x < g->w; x++) {
            int cov = b[y * g->w + x];
            if (!cov) continue;
            /* rot90 (counter-clockwise): glyph +x goes up, glyph +y (down) goes right */
            int X = rot ? ox + g->y0 + y : ox + g->x0 + x;
            int Y = rot ? oy - (g->x0 + x) : oy + g->y0 + y;
            if (X < 0 || X >= c->w || Y < 0 || Y >= c->h) continue;
            int a = (cov * ca + 127) / 255;
            uint8_t *p = c->px + ((size_t)Y * c->w + X) * 4;
            p[0] = (uint8_t)(p[0] + ((cr - p[0]) * a + 127) / 255);
            p[1] = (uint8_t)(p[1] + ((cg - p[1]) * a + 127) / 255);
            p[2] = (uint8_t)(p[2] + ((cb - p[2]) * a + 127) / 255);
        }
    }
}

/* Lay out and draw glyphs along the text direction starting at pen offset 0. */
static float bl_draw_run(bl_font *f, bl_canvas *c, const char *s, int n, int ell, float x, float y, float px,
                         bl_rgba col, int rot) {
    if (c->rec) bl_rec_text(c, s, n, ell, x, y, px, col, rot);
    float pen = 0;
    int by = (int)lroundf(y), bx = (int)lroundf(x);
    for (int i = 0, done = 0; !done;) {
        uint32_t cp;
        if (i < n) cp = bl_utf8_next(s, n, &i);
        else if (ell) { cp = 0x2026; done = 1; }
        else break;
        /* horizontal: pen position relative to x; rotated: relative to y (going up) */
        float pos = (rot ? 0 : x - bx) + pen;
        int ip = (int)floorf(pos);
        int sub = (int)((pos - ip) * BL_SUBPIX);
        if (sub >= BL_SUBPIX) sub = BL_SUBPIX - 1;
        const bl_glyph *g = bl_glyph_get(f, cp, px, sub);
        if (!g) break;
        if (g->w > 0) {
            if (rot) bl_blit_glyph(c, f, g, bx, (int)lroundf(y) - ip, col, 1);
            else bl_blit_glyph(c, f, g, bx + ip, by, col, 0);
        }
        pen += g->adv;
    }
    return pen;
}

float bl_draw_text(bl_font *f, bl_canvas *c, const char *s, int len, float x, float y, float px, bl_rgba col,
                   int align, float max_w) {
    if (!s || len <= 0 || px < 1) return 0;
    int ell = 0, n = max_w > 0 ? bl_text_fit(f, s, len, px, max_w, &ell) : len;
    if (align != BL_ALIGN_LEFT) {
        float w = bl_text_width(f, s, n, px);
        if (ell) w += bl_text_width(f, "\xe2\x80\xa6", 3, px);
        x -= align == BL_ALIGN_CENTER ? w * 0.5f : w;
    }
    return bl_draw_run(f, c, s, n, ell, x, y, px, col, 0);
}

float bl_draw_text_rot90(bl_font *f, bl_canvas *c, const char *s, int len, float x, float y, float px, bl_rgba col,
                         float max_w) {
    if (!s || len <= 0 || px < 1) return 0;
    int ell = 0, n = max_w > 0 ? bl_text_fit(f, s, len, px, max_w, &ell) : len;
    return bl_draw_run(f, c, s, n, ell, x, y, px, col, 1);
}
