/* canvas.c — the drawing primitives: rectangles and antialiased lines on an RGBA canvas,
   blended with the colour's alpha and clipped to the canvas. (Text is font.c.) */
#include "render/render_internal.h"
#include <math.h>
#include <string.h>

static inline void bl_blend_px(uint8_t *p, bl_rgba col, int a) {
    int cr = col >> 24, cg = (col >> 16) & 255, cb = (col >> 8) & 255;
    p[0] = (uint8_t)(p[0] + ((cr - p[0]) * a + 127) / 255);
    p[1] = (uint8_t)(p[1] + ((cg - p[1]) * a + 127) / 255);
    p[2] = (uint8_t)(p[2] + ((cb - p[2]) * a + 127) / 255);
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
    size_t major_step = steep ? (size_t)c->w * 4 : 4, minor_step = steep ? 4 : (size_t)c->w * 4;
    for (int x = xs; x < xe; x++) {
        float xc = x + 0.5f;
        /* fade the ends over half a pixel so adjacent segments join without seams */
        float e0 = xc - x0 + 0.5f, e1 = x1 - xc + 0.5f, endcov = BL_MINF(e0, e1);
        if (endcov <= 0) continue;
        if (endcov > 1) endcov = 1;
        float yc = y0 + (xc - x0) * slope, ya = yc - hh, yb = yc + hh, amul = endcov * a0;
        int ys = (int)floorf(ya), ye = (int)floorf(yb);
        if (ys < 0) ys = 0;
        if (ye >= mhi) ye = mhi - 1;
        uint8_t *p = c->px + (size_t)x * major_step + (size_t)ys * minor_step;
        for (int y = ys; y <= ye; y++, p += minor_step) {
            float top = BL_MAXF((float)y, ya), bot = BL_MINF((float)y + 1, yb), cov = bot - top;
            if (cov <= 0) continue;
            int a = (int)(BL_MINF(cov, 1.0f) * amul + 0.5f);
            if (a <= 0) continue;
            p[0] = (uint8_t)(p[0] + ((cr - p[0]) * a + 127) / 255);
            p[1] = (uint8_t)(p[1] + ((cg - p[1]) * a + 127) / 255);
            p[2] = (uint8_t)(p[2] + ((cb - p[2]) * a + 127) / 255);
        }
    }
}
