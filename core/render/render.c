/* render.c — the views, drawn by the core into an RGBA framebuffer (see bertlens.h).

   Layout decisions (why the pictures look the way they do):
   - Everything is laid out in device pixels: CSS sizes × opts.scale, rounded once. Text is
     rasterised at the device size, so it is sharp at any devicePixelRatio; lines are
     antialiased with a thickness that scales too.
   - The renderer picks the height; the width is opts.width × scale. Heatmap cells are square
     and an integer number of device pixels wide, so the grid never blurs; whatever is left over
     becomes margin. A single cell is capped (56 CSS px) so n = 1 is not a wall of colour.
   - Labels shrink with the cells (font = 0.75 × cell, at most 12 CSS px) and vanish when the
     font would be under ~7 CSS px; long tokens are ellipsized at 110 CSS px. Column labels are
     horizontal when they fit a cell and otherwise rotated 90° (read bottom to top), the
     seaborn convention for dense axes. Values are printed (.2f) only where "0.00" fits, and
     not for cells that would read 0.00 (most of an attention map; printing them is noise).
   - Geometry never depends on hover: a hover re-render changes only the highlighted row,
     column, labels and the readout line, so the page can re-render at pointer rate.
   - The colour scale starts at 0 and ends at opts.vmax, or the largest value shown (auto):
     attention is a probability, 0 is meaningful, and auto-scaling keeps diffuse heads readable.
     The model view uses a fixed 0..1 scale (vmax overrides) so thumbnails are comparable.
   - Indices shown to people are 0-based, like the API, the CLI, Hugging Face outputs and
     bertviz; every title says so.
   - The framebuffer is at most 4096 × 4096 device pixels (BL_FB_MAX). When a view would need
     more, cells/rows shrink down to 1 device pixel first; if that still does not fit the render
     fails with an error that names the size.
   - Buffers (framebuffer, scratch, hit-test tables, glyph cache) are grow-only and reused. */
#include "render/render_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bl_theme BL_LIGHT = {BL_RGB(0xffffff), BL_RGB(0x1f2328), BL_RGB(0x6e7781), BL_RGB(0xc9ced6),
                                  BL_RGB(0xe8590c), BL_RGB(0xf4f5f7), BL_RGB(0xfff1e6)};
static const bl_theme BL_DARK = {BL_RGB(0x15171c), BL_RGB(0xe6e8eb), BL_RGB(0x9aa2ad), BL_RGB(0x3a404a),
                                 BL_RGB(0xffa94d), BL_RGB(0x1f2229), BL_RGB(0x3a2e22)};

/* ---------------------------------------------------------------- canvas primitives */
void bl_canvas_clip(bl_canvas *c, int x0, int y0, int x1, int y1) {
    c->cx0 = x0 < 0 ? 0 : x0;
    c->cy0 = y0 < 0 ? 0 : y0;
    c->cx1 = x1 > c->w ? c->w : x1;
    c->cy1 = y1 > c->h ? c->h : y1;
}

void bl_canvas_noclip(bl_canvas *c) { bl_canvas_clip(c, 0, 0, c->w, c->h); }

static inline void bl_blend_px(uint8_t *p, bl_rgba col, int a) {
    int cr = col >> 24, cg = (col >> 16) & 255, cb = (col >> 8) & 255;
    p[0] = (uint8_t)(p[0] + ((cr - p[0]) * a + 127) / 255);
    p[1] = (uint8_t)(p[1] + ((cg - p[1]) * a + 127) / 255);
    p[2] = (uint8_t)(p[2] + ((cb - p[2]) * a + 127) / 255);
}

void bl_fill_rect(bl_canvas *c, int x, int y, int w, int h, bl_rgba col) {
    int x0 = x < c->cx0 ? c->cx0 : x, y0 = y < c->cy0 ? c->cy0 : y;
    int x1 = x + w > c->cx1 ? c->cx1 : x + w, y1 = y + h > c->cy1 ? c->cy1 : y + h;
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
    int steep = fabsf(y1 - y0) > fabsf(x1 - x0);
    if (steep) { float s; s = x0; x0 = y0; y0 = s; s = x1; x1 = y1; y1 = s; }
    if (x0 > x1) { float s; s = x0; x0 = x1; x1 = s; s = y0; y0 = y1; y1 = s; }
    float dx = x1 - x0, slope = dx > 1e-6f ? (y1 - y0) / dx : 0;
    float hh = 0.5f * t * sqrtf(1 + slope * slope);
    int xs = (int)floorf(x0), xe = (int)ceilf(x1);
    int lo = steep ? c->cy0 : c->cx0, hi = steep ? c->cy1 : c->cx1;   /* along the major axis */
    int mlo = steep ? c->cx0 : c->cy0, mhi = steep ? c->cx1 : c->cy1; /* minor axis */
    if (xs < lo) xs = lo;
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
        if (ys < mlo) ys = mlo;
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

/* ---------------------------------------------------------------- renderer lifetime */
bl_renderer *bl_renderer_new(const uint8_t *ttf, size_t len, bl_err *e) {
    bl_font *f = bl_font_new(ttf, len, e);
    if (!f) return NULL;
    bl_renderer *r = calloc(1, sizeof *r);
    if (!r) { bl_font_free(f); bl_fail(e, "renderer: out of memory"); return NULL; }
    r->font = f;
    r->S = 1;
    r->th = BL_LIGHT;
    return r;
}

void bl_renderer_free(bl_renderer *r) {
    if (!r) return;
    bl_font_free(r->font);
    free(r->cv.px);
    free(r->fbuf);
    free(r->rows);
    free(r->cols);
    free(r->vals);
    free(r->reg);
    free(r->flow);
    free(r->lbuf);
    free(r->roll);
    free(r->pool);
    free(r);
}

float *bl_scratch(bl_renderer *r, size_t n) {
    if (n > r->fbuf_cap) {
        float *p = realloc(r->fbuf, n * sizeof *p);
        if (!p) return NULL;
        r->fbuf = p;
        r->fbuf_cap = n;
    }
    return r->fbuf;
}

static int bl_index_lists(bl_renderer *r, size_t n) {
    if (n > r->idx_cap) {
        int *a = realloc(r->rows, n * sizeof *a);
        if (!a) return -1;
        r->rows = a;
        int *b = realloc(r->cols, n * sizeof *b);
        if (!b) return -1;
        r->cols = b;
        r->idx_cap = n;
    }
    return 0;
}

int bl_push_region(bl_renderer *r, int x, int y, int w, int h, bl_hit hit) {
    if ((size_t)r->nreg == r->reg_cap) {
        size_t cap = r->reg_cap ? r->reg_cap * 2 : 256;
        bl_region *p = realloc(r->reg, cap * sizeof *p);
        if (!p) return -1;
        r->reg = p;
        r->reg_cap = cap;
    }
    r->reg[r->nreg].r = (bl_rect){x, y, w, h};
    r->reg[r->nreg].hit = hit;
    r->nreg++;
    return 0;
}

int bl_canvas_begin(bl_renderer *r, int w, int h, bl_err *e) {
    if (w < 1 || h < 1 || w > BL_FB_MAX || h > BL_FB_MAX)
        return bl_fail(e, "render: the view needs %dx%d device pixels; the limit is %dx%d (use a smaller "
                       "width/scale or fewer tokens)", w, h, BL_FB_MAX, BL_FB_MAX);
    size_t need = (size_t)w * h * 4;
    if (need > r->fb_cap) {
        uint8_t *p = realloc(r->cv.px, need);
        if (!p) return bl_fail(e, "render: out of memory for a %dx%d framebuffer", w, h);
        r->cv.px = p;
        r->fb_cap = need;
    }
    r->cv.w = w;
    r->cv.h = h;
    bl_canvas_noclip(&r->cv);
    bl_fill_rect(&r->cv, 0, 0, w, h, r->th.bg);
    return 0;
}

/* ---------------------------------------------------------------- shared helpers */
float bl_att(const bl_render_input *in, int layer, int head, int i, int j) {
    size_t nn = (size_t)in->n * in->n, base = (size_t)layer * in->heads * nn + (size_t)i * in->n + j;
    if (head >= 0) return bl_attk(in, base + (size_t)head * nn);
    float s = 0;
    for (int h = 0; h < in->heads; h++) s += bl_attk(in, base + (size_t)h * nn);
    return s / in->heads;
}

int bl_is_special(const char *t) {
    return t && (!strcmp(t, "[CLS]") || !strcmp(t, "[SEP]") || !strcmp(t, "[PAD]"));
}

int bl_margin(const bl_renderer *r) { return (int)lroundf(16 * r->S); }

static const char *bl_tok(const bl_render_input *in, int i) {
    const char *t = in->tokens[i];
    return t ? t : "";
}

int bl_draw_header(bl_renderer *r, const char *title, const char *subtitle) {
    float S = r->S;
    int M = bl_margin(r);
    float ts = 15 * S, ss = 11 * S;
    bl_font_metrics tm = bl_font_metrics_at(r->font, ts), sm = bl_font_metrics_at(r->font, ss);
    float y = M + tm.ascent;
    float maxw = (float)r->cv.w - 2 * M;
    bl_draw_text(r->font, &r->cv, title, (int)strlen(title), (float)M, y, ts, r->th.fg, BL_ALIGN_LEFT, maxw);
    /* a second pass offset by a third of a pixel: a cheap semibold for the one title line */
    bl_draw_text(r->font, &r->cv, title, (int)strlen(title), M + 0.35f * S, y, ts, r->th.fg, BL_ALIGN_LEFT, maxw);
    y += tm.descent + 4 * S + sm.ascent;
    if (subtitle && *subtitle)
        bl_draw_text(r->font, &r->cv, subtitle, (int)strlen(subtitle), (float)M, y, ss, r->th.muted, BL_ALIGN_LEFT,
                     maxw);
    return (int)ceilf(y + sm.descent + 10 * S);
}

/* Header height without drawing (for layout before the canvas exists). */
int bl_header_h(const bl_renderer *r) {
    float S = r->S;
    bl_font_metrics tm = bl_font_metrics_at(r->font, 15 * S), sm = bl_font_metrics_at(r->font, 11 * S);
    return (int)ceilf(bl_margin(r) + tm.ascent + tm.descent + 4 * S + sm.ascent + sm.descent + 10 * S);
}

void bl_draw_message(bl_renderer *r, int y, const char *msg) {
    bl_draw_text(r->font, &r->cv, msg, (int)strlen(msg), (float)bl_margin(r), y + 14 * r->S, 12 * r->S,
                 r->th.muted, BL_ALIGN_LEFT, (float)r->cv.w - 2 * bl_margin(r));
}

int bl_message_view(bl_renderer *r, const char *title, const char *sub, const char *msg, bl_err *e) {
    int W = r->cv.w;
    if (bl_canvas_begin(r, W, bl_header_h(r) + (int)(40 * r->S), e)) return -1;
    int y = bl_draw_header(r, title, sub);
    bl_draw_message(r, y, msg);
    return 0;
}

static bl_rgba bl_cmap_rgba(int cmap, float v) {
    uint8_t c[3];
    bl_colormap(cmap, v, c);
    return (bl_rgba)c[0] << 24 | (bl_rgba)c[1] << 16 | (bl_rgba)c[2] << 8 | 255u;
}

/* Text colour that reads on a cell: dark on light cells, white on dark (seaborn's rule of
   thumb on relative luminance). */
static bl_rgba bl_text_on(bl_rgba cell) {
    float l = 0.299f * (cell >> 24) + 0.587f * ((cell >> 16) & 255) + 0.114f * ((cell >> 8) & 255);
    return l > 140 ? BL_RGB(0x1a1a1a) : BL_RGB(0xffffff);
}

/* 1-2-5 × 10^k tick step giving about `want` ticks over [0, vmax] (no 2.5: its labels would
   need one more decimal than the others). */
static float bl_nice_step(float vmax, int want) {
    float raw = vmax / (float)want, p = powf(10.0f, floorf(log10f(raw))), m = raw / p;
    float step = m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10;
    return step * p;
}

/* decimals that show a tick step exactly (0.05 -> 2, 0.002 -> 3), at least 2 for .2f style */
static int bl_step_decimals(float step) {
    int d = 2;
    while (d < 6 && fabsf(step * powf(10.0f, (float)d) - roundf(step * powf(10.0f, (float)d))) > 1e-3f) d++;
    return d;
}

/* Which tokens are rows and columns under hide_special / pair_filter. */
static void bl_select(const bl_render_input *in, const bl_view_opts *o, int *rows, int *nr, int *cols, int *nc) {
    int want_r = -1, want_c = -1;   /* segment each axis keeps; -1 = both */
    switch (o->pair_filter) {
    case BL_PAIR_AA: want_r = 0; want_c = 0; break;
    case BL_PAIR_AB: want_r = 0; want_c = 1; break;
    case BL_PAIR_BA: want_r = 1; want_c = 0; break;
    case BL_PAIR_BB: want_r = 1; want_c = 1; break;
    default: break;
    }
    *nr = *nc = 0;
    for (int i = 0; i < in->n; i++) {
        if (o->hide_special && bl_is_special(in->tokens[i])) continue;
        int seg = in->type_ids ? (in->type_ids[i] != 0) : 0;
        if (want_r < 0 || seg == want_r) rows[(*nr)++] = i;
        if (want_c < 0 || seg == want_c) cols[(*nc)++] = i;
    }
}

static const char *bl_pair_name(int p) {
    static const char *names[] = {"", "A\xe2\x86\x92" "A", "A\xe2\x86\x92" "B", "B\xe2\x86\x92" "A", "B\xe2\x86\x92" "B"};
    return p >= 0 && p <= 4 ? names[p] : "";
}

static void bl_filter_note(const bl_view_opts *o, char *buf, size_t cap) {
    size_t k = strlen(buf);
    if (o->pair_filter != BL_PAIR_ALL && k < cap)
        k += (size_t)snprintf(buf + k, cap - k, " \xc2\xb7 %s only", bl_pair_name(o->pair_filter));
    if (o->hide_special && k < cap) k += (size_t)snprintf(buf + k, cap - k, " \xc2\xb7 [CLS]/[SEP] hidden");
    if (o->threshold > 0 && k < cap) snprintf(buf + k, cap - k, " \xc2\xb7 below %.2f drawn as 0", o->threshold);
}

/* ---------------------------------------------------------------- matrix views (heatmap, rollout)
   m: full n×n matrix (row = from/query token, column = to/key token). */
static int bl_matrix_view(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const float *m,
                          const char *title, const char *sub0, bl_err *e) {
    float S = r->S;
    int M = bl_margin(r), W = r->cv.w;
    int n = in->n, nr, nc;
    if (bl_index_lists(r, (size_t)n)) return bl_fail(e, "render: out of memory");
    bl_select(in, o, r->rows, &nr, r->cols, &nc);
    char sub[320];
    snprintf(sub, sizeof sub, "%s", sub0);
    bl_filter_note(o, sub, sizeof sub);
    r->has_mat = 0;
    if (nr == 0 || nc == 0)
        return bl_message_view(r, title, sub, "No tokens left to show with this filter (is there a sentence B?).", e);

    /* colour scale */
    float vmax = o->vmax;
    if (!(vmax > 0)) {
        vmax = 0;
        for (int a = 0; a < nr; a++)
            for (int b = 0; b < nc; b++) vmax = fmaxf(vmax, m[(size_t)r->rows[a] * n + r->cols[b]]);
        if (!(vmax > 0)) vmax = 1;
    }

    /* geometry: label font follows the cell size; iterate twice (labels take width) */
    float tick_fs = 10 * S;
    int cb_w = (int)lroundf(14 * S), cb_gap = (int)lroundf(18 * S), tick_len = (int)lroundf(4 * S);
    int cb_lab = (int)ceilf(bl_text_width(r->font, "0.000", 5, tick_fs) + 6 * S);
    int right = cb_gap + cb_w + tick_len + cb_lab;
    float lf = 12 * S, maxlab = 110 * S;
    int cell = 0, rw = 0, ch = 0, labels = 1, rot = 1;
    for (int it = 0; it < 3; it++) {
        float wr = 0, wc = 0;
        if (labels) {
            for (int a = 0; a < nr; a++) wr = fmaxf(wr, bl_text_width(r->font, bl_tok(in, r->rows[a]), (int)strlen(bl_tok(in, r->rows[a])), lf));
            for (int b = 0; b < nc; b++) wc = fmaxf(wc, bl_text_width(r->font, bl_tok(in, r->cols[b]), (int)strlen(bl_tok(in, r->cols[b])), lf));
        }
        rw = labels ? (int)ceilf(fminf(wr, maxlab) + 8 * S) : 0;
        int avail = W - 2 * M - rw - right;
        cell = avail / nc;
        int cap = (int)(56 * S);
        if (cell > cap) cell = cap;
        if (cell < 1) cell = 1;
        rot = !(wc + 4 * S <= cell);
        ch = labels ? (rot ? (int)ceilf(fminf(wc, maxlab) + 8 * S) : (int)ceilf(lf * 1.5f)) : 0;
        if (!labels) break;
        if (cell < 9 * S) { labels = 0; continue; }
        float want = fminf(12 * S, cell * 0.75f);
        if (fabsf(want - lf) < 0.25f) break;
        lf = want;
    }
    bl_font_metrics lm = bl_font_metrics_at(r->font, lf);
    int header = bl_header_h(r);
    float rd_fs = 11 * S;
    int readout = (int)ceilf(rd_fs * 2.2f);
    int fixed_h = header + ch + readout + M;
    if (fixed_h + nr * cell > BL_FB_MAX) {  /* shrink cells to fit the height cap */
        cell = (BL_FB_MAX - fixed_h) / nr;
        if (cell < 1) return bl_fail(e, "render: %d rows need at least %d device pixels; the limit is %d", nr,
                                     fixed_h + nr, BL_FB_MAX);
    }
    int mw = nc * cell, mh = nr * cell;
    int cb_h = mh > (int)(120 * S) ? mh : (int)(120 * S);
    int need_w = 2 * M + rw + mw + right;
    int H = header + ch + (cb_h > mh ? cb_h : mh) + readout + M;
    if (need_w > W) W = need_w;
    if (bl_canvas_begin(r, W, H, e)) return -1;
    bl_draw_header(r, title, sub);

    /* spare width (cells at their cap) is split evenly: the plot sits centred like a figure */
    int ox = W > need_w ? (W - need_w) / 2 : 0;
    int mx = M + ox + rw, my = header + ch;
    r->has_mat = 1;
    r->mat = (bl_rect){mx, my, mw, mh};
    r->nr = nr;
    r->nc = nc;
    r->cell = cell;
    if ((size_t)nr * nc > r->vals_cap) {
        float *p = realloc(r->vals, (size_t)nr * nc * sizeof *p);
        if (!p) return bl_fail(e, "render: out of memory");
        r->vals = p;
        r->vals_cap = (size_t)nr * nc;
    }

    /* hover */
    int hx = o->hover_x >= 0 ? (int)(o->hover_x * S) : -1, hy = o->hover_y >= 0 ? (int)(o->hover_y * S) : -1;
    int hr = -1, hc = -1;
    if (hx >= mx && hx < mx + mw && hy >= my && hy < my + mh) { hr = (hy - my) / cell; hc = (hx - mx) / cell; }
    else if (hx >= mx - rw && hx < mx && hy >= my && hy < my + mh) hr = (hy - my) / cell;     /* row label */
    else if (hx >= mx && hx < mx + mw && hy >= header && hy < my) hc = (hx - mx) / cell;      /* column label */

    /* cells */
    float vf = fminf(11 * S, cell * 0.36f);
    float vw = bl_text_width(r->font, "0.00", 4, vf);
    int values = vf >= 7 * S && vw + 4 * S <= cell;
    bl_font_metrics vm = bl_font_metrics_at(r->font, vf);
    float inv = 1.0f / vmax;
    for (int a = 0; a < nr; a++) {
        const float *row = m + (size_t)r->rows[a] * n;
        for (int b = 0; b < nc; b++) {
            float v = row[r->cols[b]];
            r->vals[(size_t)a * nc + b] = v;
            float shown = v < o->threshold ? 0 : v;
            bl_rgba col = bl_cmap_rgba(o->colormap, shown * inv);
            int x = mx + b * cell, y = my + a * cell;
            bl_fill_rect(&r->cv, x, y, cell, cell, col);
            if (values && shown >= 0.005f) {   /* "0.00" everywhere is noise: leave those cells plain */
                char t[16];
                snprintf(t, sizeof t, "%.2f", v);
                bl_draw_text(r->font, &r->cv, t, (int)strlen(t), x + cell * 0.5f,
                             y + cell * 0.5f + (vm.ascent - vm.descent) * 0.5f, vf, bl_text_on(col), BL_ALIGN_CENTER, 0);
            }
        }
    }
    /* segment boundary between sentence A and B (both axes), when both are shown */
    if (in->type_ids && o->pair_filter == BL_PAIR_ALL) {
        int t = S >= 2 ? 2 : 1;
        for (int a = 1; a < nr; a++)
            if (in->type_ids[r->rows[a]] != in->type_ids[r->rows[a - 1]] && cell >= 3)
                bl_fill_rect(&r->cv, mx, my + a * cell - t / 2, mw, t, r->th.bg);
        for (int b = 1; b < nc; b++)
            if (in->type_ids[r->cols[b]] != in->type_ids[r->cols[b - 1]] && cell >= 3)
                bl_fill_rect(&r->cv, mx + b * cell - t / 2, my, t, mh, r->th.bg);
    }
    /* hover highlight: an outline inside the row band and the column band, so only their
       pixels change; the hovered cell gets a heavier outline */
    int ht = cell >= 6 ? (int)fmaxf(1, lroundf(1.5f * S)) : 1;
    if (hr >= 0) bl_stroke_rect(&r->cv, mx, my + hr * cell, mw, cell, ht, r->th.accent);
    if (hc >= 0) bl_stroke_rect(&r->cv, mx + hc * cell, my, cell, mh, ht, r->th.accent);
    if (hr >= 0 && hc >= 0 && cell >= 6)
        bl_stroke_rect(&r->cv, mx + hc * cell, my + hr * cell, cell, cell, ht * 2, r->th.accent);

    /* labels */
    if (labels) {
        for (int a = 0; a < nr; a++) {
            const char *t = bl_tok(in, r->rows[a]);
            bl_rgba col = a == hr ? r->th.accent : r->th.fg;
            bl_draw_text(r->font, &r->cv, t, (int)strlen(t), mx - 6 * S,
                         my + a * cell + cell * 0.5f + (lm.ascent - lm.descent) * 0.5f, lf, col, BL_ALIGN_RIGHT, maxlab);
        }
        for (int b = 0; b < nc; b++) {
            const char *t = bl_tok(in, r->cols[b]);
            bl_rgba col = b == hc ? r->th.accent : r->th.fg;
            float cx = mx + b * cell + cell * 0.5f;
            if (rot)  /* baseline chosen so the glyphs' vertical extent centres on the column */
                bl_draw_text_rot90(r->font, &r->cv, t, (int)strlen(t), cx - (lm.ascent - lm.descent) * 0.5f + lm.ascent,
                                   my - 6 * S, lf, col, maxlab);
            else
                bl_draw_text(r->font, &r->cv, t, (int)strlen(t), cx, my - 6 * S - lm.descent, lf, col, BL_ALIGN_CENTER, 0);
        }
    }
    bl_stroke_rect(&r->cv, mx - 1, my - 1, mw + 2, mh + 2, 1, r->th.axis);

    /* colour bar with ticks */
    int cbx = mx + mw + cb_gap, cby = my;
    for (int y = 0; y < cb_h; y++) {
        float v = 1.0f - (y + 0.5f) / cb_h;
        bl_fill_rect(&r->cv, cbx, cby + y, cb_w, 1, bl_cmap_rgba(o->colormap, v));
    }
    bl_stroke_rect(&r->cv, cbx - 1, cby - 1, cb_w + 2, cb_h + 2, 1, r->th.axis);
    bl_font_metrics km = bl_font_metrics_at(r->font, tick_fs);
    float step = bl_nice_step(vmax, cb_h > 200 * S ? 6 : 4);
    int dec = bl_step_decimals(step);
    for (int k = 0; k * step <= vmax * 1.0001f; k++) {
        float v = k * step;
        int y = cby + (int)lroundf((1.0f - v / vmax) * (cb_h - 1));
        bl_fill_rect(&r->cv, cbx + cb_w, y, tick_len, S >= 2 ? 2 : 1, r->th.muted);
        char t[16];
        snprintf(t, sizeof t, "%.*f", dec, v);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), (float)(cbx + cb_w + tick_len + 3 * S),
                     y + (km.ascent - km.descent) * 0.5f, tick_fs, r->th.muted, BL_ALIGN_LEFT, 0);
    }

    /* readout line: the hovered cell, "from → to: value" */
    float ry = my + (cb_h > mh ? cb_h : mh) + rd_fs * 1.7f;
    if (hr >= 0 && hc >= 0) {
        char t[400];
        snprintf(t, sizeof t, "%s (%d) \xe2\x86\x92 %s (%d): %.4f", bl_tok(in, r->rows[hr]), r->rows[hr],
                 bl_tok(in, r->cols[hc]), r->cols[hc], r->vals[(size_t)hr * nc + hc]);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), (float)mx, ry, rd_fs, r->th.fg, BL_ALIGN_LEFT,
                     (float)(W - mx - M));
    } else {
        const char *t = "rows: from (query)  \xc2\xb7  columns: to (key)";
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), (float)mx, ry, rd_fs, r->th.muted, BL_ALIGN_LEFT,
                     (float)(W - mx - M));
    }
    /* label hit regions (tokens) */
    if (labels) {
        for (int a = 0; a < nr; a++)
            bl_push_region(r, mx - rw, my + a * cell, rw, cell, (bl_hit){.kind = 2, .from = r->rows[a], .to = -1, .layer = r->mat_layer, .head = r->mat_head, .side = 0});
        for (int b = 0; b < nc; b++)
            bl_push_region(r, mx + b * cell, header, cell, ch, (bl_hit){.kind = 2, .from = r->cols[b], .to = -1, .layer = r->mat_layer, .head = r->mat_head, .side = 1});
    }
    return 0;
}

static int bl_view_heatmap(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    size_t nn = (size_t)in->n * in->n;
    const float *m;
    char title[96], sub[160];
    if (o->head >= 0 && in->attn) {
        m = in->attn + ((size_t)o->layer * in->heads + o->head) * nn;
        snprintf(title, sizeof title, "Layer %d \xc2\xb7 Head %d", o->layer, o->head);
    } else if (o->head >= 0) {   /* 16-bit maps: this head widened into scratch */
        float *s = bl_scratch(r, nn);
        if (!s) return bl_fail(e, "render: out of memory");
        const size_t base = ((size_t)o->layer * in->heads + o->head) * nn;
        for (size_t k = 0; k < nn; k++) s[k] = bl_attk(in, base + k);
        m = s;
        snprintf(title, sizeof title, "Layer %d \xc2\xb7 Head %d", o->layer, o->head);
    } else {
        float *s = bl_scratch(r, nn);
        if (!s) return bl_fail(e, "render: out of memory");
        for (size_t k = 0; k < nn; k++) s[k] = 0;
        const size_t base = (size_t)o->layer * in->heads * nn;
        for (int h = 0; h < in->heads; h++)
            for (size_t k = 0; k < nn; k++) s[k] += bl_attk(in, base + (size_t)h * nn + k);
        for (size_t k = 0; k < nn; k++) s[k] /= (float)in->heads;
        m = s;
        snprintf(title, sizeof title, "Layer %d \xc2\xb7 mean of %d heads", o->layer, in->heads);
    }
    snprintf(sub, sizeof sub, "attention weights \xc2\xb7 0-based layer/head \xc2\xb7 %d tokens", in->n);
    r->mat_layer = o->layer;
    r->mat_head = o->head;
    return bl_matrix_view(r, in, o, m, title, sub, e);
}

static int bl_view_rollout(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    size_t nn = (size_t)in->n * in->n;
    int upto = o->layer;
    float *out = malloc(nn * sizeof *out);   /* the scratch buffer is used inside bl_rollout */
    if (!out) return bl_fail(e, "render: out of memory");
    if (bl_rollout(r, in, upto, out)) { free(out); return bl_fail(e, "render: out of memory"); }
    char title[96], sub[200];
    snprintf(title, sizeof title, "Attention rollout \xc2\xb7 layers 0\xe2\x80\x93%d", upto);
    snprintf(sub, sizeof sub, "Abnar & Zuidema 2020: \xe2\x88\x8f (0.5\xc2\xb7mean_heads(A) + 0.5\xc2\xb7I), rows "
             "renormalised \xc2\xb7 0-based \xc2\xb7 %d tokens", in->n);
    r->mat_layer = upto;
    r->mat_head = -1;
    int rc = bl_matrix_view(r, in, o, out, title, sub, e);
    free(out);
    return rc;
}

/* ---------------------------------------------------------------- model view */
static int bl_view_model(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    float S = r->S;
    int M = bl_margin(r), W = r->cv.w, L = in->layers, Hn = in->heads, n = in->n, nr, nc;
    if (bl_index_lists(r, (size_t)n)) return bl_fail(e, "render: out of memory");
    bl_select(in, o, r->rows, &nr, r->cols, &nc);
    char sub[320];
    snprintf(sub, sizeof sub, "click a head to open it \xc2\xb7 rows: layers, columns: heads (0-based) \xc2\xb7 "
             "colour 0\xe2\x80\x93%.2f", o->vmax > 0 ? o->vmax : 1.0f);
    bl_filter_note(o, sub, sizeof sub);
    const char *title = "Model view \xc2\xb7 every layer and head";
    if (nr == 0 || nc == 0) return bl_message_view(r, title, sub, "No tokens left to show with this filter.", e);
    float fs = 10 * S;
    char t[16];
    snprintf(t, sizeof t, "L%d", L - 1);
    int rl = (int)ceilf(bl_text_width(r->font, t, (int)strlen(t), fs) + 8 * S);
    int header = bl_header_h(r), colh = (int)ceilf(fs * 1.8f);
    int pitch = (W - 2 * M - rl) / Hn;
    if (pitch > (int)(160 * S)) pitch = (int)(160 * S);
    int maxp = (BL_FB_MAX - header - colh - M) / L;
    if (pitch > maxp) pitch = maxp;
    int gap = pitch / 10 > (int)(2 * S) ? pitch / 10 : (int)(2 * S);
    int tw = pitch - gap;
    if (tw < 2) {
        pitch = 2 + gap;
        tw = 2;
    }
    int need_w = 2 * M + rl + Hn * pitch, H = header + colh + L * pitch + M;
    if (need_w > W) W = need_w;
    if (bl_canvas_begin(r, W, H, e)) return -1;
    bl_draw_header(r, title, sub);
    int gx = M + rl, gy = header + colh;
    bl_font_metrics fm = bl_font_metrics_at(r->font, fs);
    for (int h = 0; h < Hn; h++) {
        snprintf(t, sizeof t, "%d", h);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), gx + h * pitch + tw * 0.5f, gy - fm.descent - 4 * S, fs,
                     r->th.muted, BL_ALIGN_CENTER, 0);
    }
    int hx = o->hover_x >= 0 ? (int)(o->hover_x * S) : -1, hy = o->hover_y >= 0 ? (int)(o->hover_y * S) : -1;
    float inv = 1.0f / (o->vmax > 0 ? o->vmax : 1.0f);
    size_t nn = (size_t)n * n;
    const uint8_t *lut = bl_colormap_lut(o->colormap);
    /* The pooled thumbnails are cached: hovering re-renders this view at pointer rate and for
       n = 512 pooling reads all L·H·n² weights. The key covers the geometry, the token
       selection and a strided sample of the attention (a new forward pass changes it). */
    size_t psz = (size_t)L * Hn * tw * tw;
    uint64_t key = 1469598103934665603ull;
    int geo[6] = {n, L, Hn, tw, nr, nc};
    for (int k = 0; k < 6; k++) key = (key ^ (uint64_t)geo[k]) * 1099511628211ull;
    for (int k = 0; k < nr; k++) key = (key ^ (uint64_t)r->rows[k]) * 1099511628211ull;
    for (int k = 0; k < nc; k++) key = (key ^ (uint64_t)r->cols[k] << 16) * 1099511628211ull;
    size_t total = (size_t)L * Hn * nn, stride = total / 65536 + 1;
    for (size_t k = 0; k < total; k += stride) {
        const float wf = bl_attk(in, k);
        uint32_t w;
        memcpy(&w, &wf, 4);
        key = (key ^ w) * 1099511628211ull;
    }
    key = (key ^ (uint64_t)(uintptr_t)bl_attn_ptr(in)) * 1099511628211ull;
    if (psz > r->pool_cap) {
        float *p = realloc(r->pool, psz * sizeof *p);
        if (!p) return bl_fail(e, "render: out of memory");
        r->pool = p;
        r->pool_cap = psz;
        r->pool_valid = 0;
    }
    int cached = r->pool_valid && r->pool_key == key;
    r->pool_key = key;
    r->pool_valid = 1;
    for (int l = 0; l < L; l++) {
        snprintf(t, sizeof t, "L%d", l);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), gx - 6 * S, gy + l * pitch + tw * 0.5f + fm.ascent * 0.4f, fs,
                     r->th.muted, BL_ALIGN_RIGHT, 0);
        for (int h = 0; h < Hn; h++) {
            const size_t a = ((size_t)l * Hn + h) * nn;
            int x0 = gx + h * pitch, y0 = gy + l * pitch;
            /* each thumbnail pixel shows the max over the tokens it covers, so a sharp
               one-token attention stays visible when n > thumbnail size */
            float *pool = r->pool + ((size_t)l * Hn + h) * tw * tw;
            if (!cached)
                for (int py = 0; py < tw; py++) {
                    int r0 = py * nr / tw, r1 = (py + 1) * nr / tw;
                    if (r1 <= r0) r1 = r0 + 1;
                    for (int px = 0; px < tw; px++) {
                        int c0 = px * nc / tw, c1 = (px + 1) * nc / tw;
                        if (c1 <= c0) c1 = c0 + 1;
                        float v = 0;
                        for (int i = r0; i < r1; i++) {
                            const size_t row = a + (size_t)r->rows[i] * n;
                            for (int j = c0; j < c1; j++) v = fmaxf(v, bl_attk(in, row + r->cols[j]));
                        }
                        pool[py * tw + px] = v;
                    }
                }
            for (int py = 0; py < tw; py++) {
                uint8_t *p = r->cv.px + ((size_t)(y0 + py) * r->cv.w + x0) * 4;
                for (int px = 0; px < tw; px++, p += 4) {
                    float v = pool[py * tw + px];
                    if (v < o->threshold) v = 0;
                    const uint8_t *c = lut + 3 * bl_colormap_index(v * inv);
                    p[0] = c[0]; p[1] = c[1]; p[2] = c[2]; p[3] = 255;
                }
            }
            int hov = hx >= x0 && hx < x0 + pitch && hy >= y0 && hy < y0 + pitch;
            int sel = l == o->layer && h == o->head;
            int t2 = (int)fmaxf(1, lroundf(2 * S));
            if (sel) bl_stroke_rect(&r->cv, x0 - t2, y0 - t2, tw + 2 * t2, tw + 2 * t2, t2, r->th.accent);
            else if (hov) bl_stroke_rect(&r->cv, x0 - t2, y0 - t2, tw + 2 * t2, tw + 2 * t2, t2, r->th.fg);
            else bl_stroke_rect(&r->cv, x0 - 1, y0 - 1, tw + 2, tw + 2, 1, r->th.axis);
            bl_push_region(r, x0 - gap / 2, y0 - gap / 2, pitch, pitch, (bl_hit){.kind = 3, .layer = l, .head = h, .from = -1, .to = -1});
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- entry points */
static int bl_check_input(const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    if (!in || !o) return bl_fail(e, "render: no input or options");
    if (o->view < 0 || o->view >= BL_VIEW_COUNT) return bl_fail(e, "render: unknown view %d", o->view);
    if (o->colormap < 0 || o->colormap >= BL_CMAP_COUNT) return bl_fail(e, "render: unknown colormap %d", o->colormap);
    if (!(o->scale >= 0.5f && o->scale <= 4.0f)) return bl_fail(e, "render: scale %g outside 0.5..4", (double)o->scale);
    if (o->width < 1 || o->width > BL_FB_MAX) return bl_fail(e, "render: width %d outside 1..%d", o->width, BL_FB_MAX);
    if (o->pair_filter < 0 || o->pair_filter > BL_PAIR_BB) return bl_fail(e, "render: unknown pair filter %d", o->pair_filter);
    if (in->n < 1 || in->n > BL_FB_MAX) return bl_fail(e, "render: n = %d tokens (need 1..%d)", in->n, BL_FB_MAX);
    if (in->layers < 1 || in->heads < 1) return bl_fail(e, "render: %d layers x %d heads", in->layers, in->heads);
    if (!in->tokens || (!in->attn && !in->attn16)) return bl_fail(e, "render: tokens and attention are required");
    if (o->view != BL_VIEW_MLM && o->view != BL_VIEW_MODEL && (o->layer < 0 || o->layer >= in->layers))
        return bl_fail(e, "render: layer %d outside 0..%d", o->layer, in->layers - 1);
    if (o->head < -1 || o->head >= in->heads) return bl_fail(e, "render: head %d outside -1..%d", o->head, in->heads - 1);
    if (in->mlm_count < 0 || (in->mlm_count > 0 && (in->mlm_k < 1 || !in->mlm_pos || !in->mlm_tokens || !in->mlm_p)))
        return bl_fail(e, "render: inconsistent masked-LM input (count %d, k %d)", in->mlm_count, in->mlm_k);
    return 0;
}

const uint8_t *bl_render(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, int *w, int *h,
                         bl_err *e) {
    if (!r) { bl_fail(e, "render: no renderer"); return NULL; }
    if (bl_check_input(in, o, e)) return NULL;
    bl_view_opts oo = *o;   /* pointers beyond any framebuffer are "no pointer" (and cannot overflow) */
    if (oo.hover_x < 0 || oo.hover_x > BL_FB_MAX || oo.hover_y < 0 || oo.hover_y > BL_FB_MAX) oo.hover_x = oo.hover_y = -1;
    o = &oo;
    r->S = o->scale;
    r->th = o->dark ? BL_DARK : BL_LIGHT;
    r->nreg = 0;
    r->has_mat = 0;
    r->cv.w = (int)lroundf(o->width * o->scale);   /* requested width; views may need more */
    int rc;
    switch (o->view) {
    case BL_VIEW_HEATMAP: rc = bl_view_heatmap(r, in, o, e); break;
    case BL_VIEW_MODEL: rc = bl_view_model(r, in, o, e); break;
    case BL_VIEW_HEAD: rc = bl_view_head(r, in, o, e); break;
    case BL_VIEW_NEURON: rc = bl_view_neuron(r, in, o, e); break;
    case BL_VIEW_ROLLOUT: rc = bl_view_rollout(r, in, o, e); break;
    case BL_VIEW_FLOW: rc = bl_view_flow(r, in, o, e); break;
    default: rc = bl_view_mlm(r, in, o, e); break;
    }
    if (rc) { r->has_mat = 0; r->nreg = 0; return NULL; }
    if (w) *w = r->cv.w;
    if (h) *h = r->cv.h;
    return r->cv.px;
}

bl_hit bl_hit_test(const bl_renderer *r, int css_x, int css_y) {
    bl_hit none = {0, -1, -1, -1, -1, 0, 0};
    if (!r || css_x < 0 || css_y < 0 || css_x > BL_FB_MAX || css_y > BL_FB_MAX) return none;
    int x = (int)(css_x * r->S), y = (int)(css_y * r->S);
    if (r->has_mat && x >= r->mat.x && x < r->mat.x + r->mat.w && y >= r->mat.y && y < r->mat.y + r->mat.h) {
        int a = (y - r->mat.y) / r->cell, b = (x - r->mat.x) / r->cell;
        bl_hit hit = {1, r->rows[a], r->cols[b], r->mat_layer, r->mat_head, r->vals[(size_t)a * r->nc + b], 0};
        return hit;
    }
    for (int k = r->nreg - 1; k >= 0; k--) {   /* last drawn is on top */
        const bl_region *g = &r->reg[k];
        if (x >= g->r.x && x < g->r.x + g->r.w && y >= g->r.y && y < g->r.y + g->r.h) return g->hit;
    }
    return none;
}
