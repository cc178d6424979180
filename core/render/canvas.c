/* canvas.c — the drawing primitives: rectangles and antialiased lines on an RGBA canvas,
   blended with the colour's alpha and clipped to the canvas. (Text is font.c.) */
#include "render/render_internal.h"
#include <math.h>
#include <string.h>

/* "over" with alpha a in 0..255: round((p·(255 - a) + c·a) / 255) per channel, all three in
   one 64-bit word, 16 bits a channel (t ≤ 255·255 + 127 fits; floor(t / 255) =
   (t + 1 + (t >> 8)) >> 8 holds for every such t): the long lines of the head view at 512
   tokens blend millions of pixels a frame. */
#define BL_LANES3(x) ((x) * 0x000100010001ull)
static inline uint64_t bl_rgb64(int r, int g, int b) { return (uint64_t)r | (uint64_t)g << 16 | (uint64_t)b << 32; }
static inline void bl_blend_rgb64(uint8_t *p, uint64_t c, int a) {
    uint64_t t = bl_rgb64(p[0], p[1], p[2]) * (uint64_t)(255 - a) + c * (uint64_t)a + BL_LANES3(127);
    uint64_t q = (t + BL_LANES3(1) + ((t >> 8) & BL_LANES3(0xff))) >> 8;
    p[0] = (uint8_t)q;
    p[1] = (uint8_t)(q >> 16);
    p[2] = (uint8_t)(q >> 32);
}
static inline void bl_blend_rgb(uint8_t *p, int cr, int cg, int cb, int a) { bl_blend_rgb64(p, bl_rgb64(cr, cg, cb), a); }
static inline void bl_blend_px(uint8_t *p, bl_rgba col, int a) {
    bl_blend_rgb(p, col >> 24, (col >> 16) & 255, (col >> 8) & 255, a);
}

void bl_fill_rect(bl_canvas *c, int x, int y, int w, int h, bl_rgba col) {
    if (c->rec) bl_rec_rect(c, x, y, w, h, col);
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > c->w ? c->w : x + w, y1 = y + h > c->h ? c->h : y + h;
    if (x0 >= x1 || y0 >= y1) return;
    int a = col & 255;
    uint8_t r = col >> 24, g = (col >> 16) & 255, b = (col >> 8) & 255;
    for (int yy = y0; yy < y1; yy++) {
        uint8_t *p = c->px + ((size_t)yy * c->w + x0) * 4;
        if (a == 255 && yy > y0)   /* opaque: copy the first row of the rectangle */
            memcpy(p, c->px + ((size_t)y0 * c->w + x0) * 4, (size_t)(x1 - x0) * 4);
        else if (a == 255)
            for (int xx = x0; xx < x1; xx++, p += 4) { p[0] = r; p[1] = g; p[2] = b; p[3] = 255; }
        else
            for (int xx = x0; xx < x1; xx++, p += 4) bl_blend_px(p, col, a);
    }
}

void bl_stroke_rect(bl_canvas *c, int x, int y, int w, int h, int t, bl_rgba col) {
    if (t * 2 >= w || t * 2 >= h) { bl_fill_rect(c, x, y, w, h, col); return; }
    bl_fill_rect(c, x, y, w, t, col);
    bl_fill_rect(c, x, y + h - t, w, t, col);
    bl_fill_rect(c, x, y + t, t, h - 2 * t, col);
    bl_fill_rect(c, x + w - t, y + t, t, h - 2 * t, col);
}

/* Antialiased thick line: for each column (row, when steep) the coverage of the band of
   half-height t/2·√(1+slope²) around the centre line. One pass, no per-pixel allocation.
   Plain comparisons instead of fminf/fmaxf: those are libm calls without -ffast-math, and this
   loop is the head view's whole cost. */
#define BL_MINF(a, b) ((a) < (b) ? (a) : (b))
#define BL_MAXF(a, b) ((a) > (b) ? (a) : (b))
void bl_draw_line(bl_canvas *c, float x0, float y0, float x1, float y1, float t, bl_rgba col) {
    int a0 = col & 255;
    if (a0 == 0) return;
    if (c->rec) bl_rec_line(c, x0, y0, x1, y1, t, col);
    int steep = fabsf(y1 - y0) > fabsf(x1 - x0);
    if (steep) { float s; s = x0; x0 = y0; y0 = s; s = x1; x1 = y1; y1 = s; }
    if (x0 > x1) { float s; s = x0; x0 = x1; x1 = s; s = y0; y0 = y1; y1 = s; }
    float dx = x1 - x0, slope = dx > 1e-6f ? (y1 - y0) / dx : 0;
    float hh = 0.5f * t * sqrtf(1 + slope * slope);
    int xs = (int)floorf(x0), xe = (int)ceilf(x1);
    int hi = steep ? c->h : c->w, mhi = steep ? c->w : c->h;   /* major and minor axis ends */
    if (xs < 0) xs = 0;
    if (xe > hi) xe = hi;
    int cr = col >> 24, cg = (col >> 16) & 255, cb = (col >> 8) & 255;
    int band = (int)ceilf(2 * hh) + 1;   /* pixels a band of height 2·hh can touch */
    uint64_t c64 = bl_rgb64(cr, cg, cb);
    size_t major_step = steep ? (size_t)c->w * 4 : 4, minor_step = steep ? 4 : (size_t)c->w * 4;
    for (int x = xs; x < xe; x++) {
        float xc = x + 0.5f;
        /* fade the ends over half a pixel so adjacent segments join without seams */
        float e0 = xc - x0 + 0.5f, e1 = x1 - xc + 0.5f, endcov = BL_MINF(e0, e1);
        if (endcov <= 0) continue;
        if (endcov > 1) endcov = 1;
        float yc = y0 + (xc - x0) * slope, ya = yc - hh, yb = yc + hh, amul = endcov * a0;
        int fa = (int)floorf(ya), fb = (int)floorf(yb), ys = fa, ye = fb;
        if (ys < 0) ys = 0;
        if (ye >= mhi) ye = mhi - 1;
        uint8_t *p = c->px + (size_t)x * major_step + (size_t)ys * minor_step;
        if (fa >= 0 && fa + band <= mhi) {
            /* unclipped: the band's `band` pixels, each with its coverage clamped at 0 (a
               pixel the band misses blends with alpha 0, which leaves it unchanged): the same
               values as the loop below, with a fixed trip count and no per-pixel branches */
            for (int k = 0; k < band; k++, p += minor_step) {
                float y = (float)(fa + k), cov = BL_MINF(y + 1, yb) - BL_MAXF(y, ya);
                cov = BL_MINF(BL_MAXF(cov, 0.0f), 1.0f);
                bl_blend_rgb64(p, c64, (int)(cov * amul + 0.5f));
            }
            continue;
        }
        for (int y = ys; y <= ye; y++, p += minor_step) {
            float top = BL_MAXF((float)y, ya), bot = BL_MINF((float)y + 1, yb), cov = bot - top;
            if (cov <= 0) continue;
            int a = (int)(BL_MINF(cov, 1.0f) * amul + 0.5f);
            if (a > 0) bl_blend_rgb(p, cr, cg, cb, a);
        }
    }
}
