/* view_matrix.c — the matrix views: one n×n map as a heatmap (a head, the mean of a layer's
   heads, or attention rollout) and the model view's grid of L×H thumbnails.
   Layout rules are render.c's header; here: labels shrink with the cells and vanish below
   ~9 px, column labels rotate when they do not fit a cell, values are printed where "0.00"
   fits, and hover only restyles the hovered row, column and readout. */
#include "render/render_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Text colour that reads on a cell: dark on light cells, white on dark (seaborn's rule of
   thumb on relative luminance). */
static bl_rgba bl_text_on(bl_rgba cell) {
    float l = 0.299f * (cell >> 24) + 0.587f * ((cell >> 16) & 255) + 0.114f * ((cell >> 8) & 255);
    return l > 140 ? BL_RGB(0x1a1a1a) : BL_RGB(0xffffff);
}

/* One matrix view's layout, in device pixels. Rows and columns are r->rows/r->cols. */
typedef struct {
    int n, nr, nc;
    float vmax;              /* top of the colour scale */
    int cell;                /* side of a cell */
    int labels, rot;         /* token labels drawn; column labels rotated 90° */
    int every;               /* a label every `every` rows/columns (thinned when cells are too small
                                for one each; the hovered row's and column's are always drawn) */
    float lf, maxlab;        /* label font size; longest label before "…" */
    int rw, ch;              /* row-label width, column-label band height */
    int cb_w, cb_gap, tick_len, right;   /* colour bar, its ticks and labels (right of the matrix) */
    float tick_fs, rd_fs;    /* colour-bar ticks, readout line */
    int header, readout;     /* heights above and below */
    int mx, my, mw, mh, cb_h;
    int hr, hc;              /* hovered row / column (index into rows / cols), -1 none */
    int div;                 /* signed values (compare mode): diverging colours, scale -vmax..vmax */
} bl_mat;

/* opts.vmax, or the largest value shown (1 when everything is 0) */
static float bl_matrix_vmax(const bl_renderer *r, const bl_view_opts *o, const float *m, const bl_mat *g) {
    float vmax = o->vmax;
    if (!(vmax > 0)) {
        vmax = 0;
        for (int a = 0; a < g->nr; a++)
            for (int b = 0; b < g->nc; b++) {
                const float v = m[(size_t)r->rows[a] * g->n + r->cols[b]];
                vmax = fmaxf(vmax, g->div ? fabsf(v) : v);
            }
        if (!(vmax > 0)) vmax = 1;
    }
    return vmax;
}

/* Cell size and labels for width W: the label font follows the cell size, and labels take
   width, so this settles in up to three rounds. */
static void bl_matrix_fit(bl_renderer *r, const bl_render_input *in, int W, bl_mat *g) {
    float S = r->S;
    int M = bl_margin(r);
    g->tick_fs = 10 * S;
    g->cb_w = (int)lroundf(14 * S);
    g->cb_gap = (int)lroundf(18 * S);
    g->tick_len = (int)lroundf(4 * S);
    int cb_lab = (int)ceilf(bl_text_width(r->font, "0.000", 5, g->tick_fs) + 6 * S);
    g->right = g->cb_gap + g->cb_w + g->tick_len + cb_lab;
    float lf = 12 * S, maxlab = 110 * S;
    int cell = 0, rw = 0, ch = 0, labels = 1, rot = 1, thin = 0;
    for (int it = 0; it < 3; it++) {
        float wr = 0, wc = 0;
        if (labels) {
            wr = bl_max_label_w(r, in, r->rows, g->nr, lf);
            wc = bl_max_label_w(r, in, r->cols, g->nc, lf);
        }
        rw = labels ? (int)ceilf(fminf(wr, maxlab) + 8 * S) : 0;
        int avail = W - 2 * M - rw - g->right;
        cell = avail / g->nc;
        int cap = (int)(56 * S);
        if (cell > cap) cell = cap;
        if (cell < 1) cell = 1;
        rot = !(wc + 4 * S <= cell);
        ch = labels ? (rot ? (int)ceilf(fminf(wc, maxlab) + 8 * S) : (int)ceilf(lf * 1.5f)) : 0;
        if (!labels || thin) break;
        /* cells too small for a readable label each: labels at 9 px on every k-th row and column */
        if (cell < 9 * S) { thin = 1; lf = 9 * S; continue; }
        float want = fminf(12 * S, cell * 0.75f);
        if (fabsf(want - lf) < 0.25f) break;
        lf = want;
    }
    g->cell = cell; g->rw = rw; g->ch = ch; g->labels = labels; g->rot = rot; g->lf = lf; g->maxlab = maxlab;
    g->every = thin ? (int)ceilf(lf * 1.3f / (float)cell) : 1;
}

/* Which row and column the pointer is on: a cell, a row label or a column label. */
static void bl_matrix_hover(const bl_renderer *r, const bl_view_opts *o, bl_mat *g) {
    int hx = bl_hover_dev(r, o->hover_x), hy = bl_hover_dev(r, o->hover_y);
    int mx = g->mx, my = g->my, cell = g->cell;
    g->hr = g->hc = -1;
    if (hx >= mx && hx < mx + g->mw && hy >= my && hy < my + g->mh) { g->hr = (hy - my) / cell; g->hc = (hx - mx) / cell; }
    else if (hx >= mx - g->rw && hx < mx && hy >= my && hy < my + g->mh) g->hr = (hy - my) / cell;     /* row label */
    else if (hx >= mx && hx < mx + g->mw && hy >= g->header && hy < my) g->hc = (hx - mx) / cell;      /* column label */
}

/* The cells (values printed where they fit), kept in r->vals for hit tests. */
static void bl_matrix_cells(bl_renderer *r, const bl_view_opts *o, const float *m, const bl_mat *g) {
    float S = r->S;
    int cell = g->cell, nc = g->nc;
    float vf = fminf(11 * S, cell * 0.36f);
    float vw = bl_text_width(r->font, g->div ? "-0.00" : "0.00", g->div ? 5 : 4, vf);
    int values = vf >= 7 * S && vw + 4 * S <= cell;
    bl_font_metrics vm = bl_font_metrics_at(r->font, vf);
    float inv = 1.0f / g->vmax;
    for (int a = 0; a < g->nr; a++) {
        const float *row = m + (size_t)r->rows[a] * g->n;
        for (int b = 0; b < nc; b++) {
            float v = row[r->cols[b]];
            r->vals[(size_t)a * nc + b] = v;
            float shown = (g->div ? fabsf(v) : v) < o->threshold ? 0 : v;
            bl_rgba col = g->div ? bl_diverging_on(r->th.bg, shown, g->vmax) : bl_cmap_rgba(o->colormap, shown * inv);
            int x = g->mx + b * cell, y = g->my + a * cell;
            bl_fill_rect(&r->cv, x, y, cell, cell, col);
            if (values && fabsf(shown) >= 0.005f) {   /* "0.00" everywhere is noise: leave those cells plain */
                char t[16];
                snprintf(t, sizeof t, "%.2f", v);
                bl_draw_text(r->font, &r->cv, t, (int)strlen(t), x + cell * 0.5f, bl_centred_baseline(y, cell, vm), vf,
                             bl_text_on(col), BL_ALIGN_CENTER, 0);
            }
        }
    }
}

/* *buf holds at least n bytes (grow-only); 0 on OOM (the cache is then skipped). */
static int bl_cache_bytes(uint8_t **buf, size_t *cap, size_t n) {
    if (n <= *cap) return 1;
    uint8_t *p = realloc(*buf, n);
    if (!p) return 0;
    *buf = p;
    *cap = n;
    return 1;
}

/* r->vals as bl_matrix_cells leaves them, without drawing (the frame came from the cache). */
static void bl_matrix_vals(bl_renderer *r, const float *m, const bl_mat *g) {
    for (int a = 0; a < g->nr; a++) {
        const float *row = m + (size_t)r->rows[a] * g->n;
        for (int b = 0; b < g->nc; b++) r->vals[(size_t)a * g->nc + b] = row[r->cols[b]];
    }
}

/* Everything the frame without the hover depends on: the options but the pointer, the layout,
   every value of the matrix, the tokens and segments shown, the texts. */
static uint64_t bl_matrix_key(const bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const float *m,
                              const bl_mat *g, const char *title, const char *sub) {
    bl_view_opts k = *o;
    k.hover_x = k.hover_y = -1;
    uint64_t key = 14695981039346656037ull;
    const unsigned char *ob = (const unsigned char *)&k;
    for (size_t i = 0; i < sizeof k; i++) key = bl_fnv(key, ob[i]);
    const int geo[] = {r->cv.w, r->cv.h, g->n, g->nr, g->nc, g->cell, g->div, g->labels, g->every, g->mx, g->my, r->vw};
    for (size_t i = 0; i < sizeof geo / sizeof geo[0]; i++) key = bl_fnv(key, (uint32_t)geo[i]);
    uint32_t vb;
    memcpy(&vb, &g->vmax, 4);
    key = bl_fnv(key, vb);
    for (size_t i = 0; i < (size_t)g->n * g->n; i++) { memcpy(&vb, &m[i], 4); key = bl_fnv(key, vb); }
    for (int a = 0; a < g->nr; a++) key = bl_fnv(key, (uint32_t)r->rows[a]);
    for (int b = 0; b < g->nc; b++) key = bl_fnv(key, (uint32_t)r->cols[b] << 16);
    for (int i = 0; i < in->n; i++) {
        for (const char *t = bl_tok(in, i); *t; t++) key = bl_fnv(key, (unsigned char)*t);
        key = bl_fnv(key, in->type_ids ? (uint32_t)in->type_ids[i] + 256 : 255);
    }
    for (const char *t = title; *t; t++) key = bl_fnv(key, (unsigned char)*t);
    for (const char *t = sub; *t; t++) key = bl_fnv(key, (unsigned char)*t);
    return key;
}

/* The boundary between sentence A and B on both axes, when both are shown. */
static void bl_matrix_segments(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const bl_mat *g) {
    if (!in->type_ids || o->pair_filter != BL_PAIR_ALL) return;
    int t = r->S >= 2 ? 2 : 1, cell = g->cell;
    for (int a = 1; a < g->nr; a++)
        if (in->type_ids[r->rows[a]] != in->type_ids[r->rows[a - 1]] && cell >= 3)
            bl_fill_rect(&r->cv, g->mx, g->my + a * cell - t / 2, g->mw, t, r->th.bg);
    for (int b = 1; b < g->nc; b++)
        if (in->type_ids[r->cols[b]] != in->type_ids[r->cols[b - 1]] && cell >= 3)
            bl_fill_rect(&r->cv, g->mx + b * cell - t / 2, g->my, t, g->mh, r->th.bg);
}

/* Hover highlight: an outline inside the row band and the column band, so only their pixels
   change; the hovered cell gets a heavier outline. */
static void bl_matrix_highlight(bl_renderer *r, const bl_mat *g) {
    int cell = g->cell, hr = g->hr, hc = g->hc;
    int ht = cell >= 6 ? (int)fmaxf(1, lroundf(1.5f * r->S)) : 1;
    if (hr >= 0) bl_stroke_rect(&r->cv, g->mx, g->my + hr * cell, g->mw, cell, ht, r->th.accent);
    if (hc >= 0) bl_stroke_rect(&r->cv, g->mx + hc * cell, g->my, cell, g->mh, ht, r->th.accent);
    if (hr >= 0 && hc >= 0 && cell >= 6)
        bl_stroke_rect(&r->cv, g->mx + hc * cell, g->my + hr * cell, cell, cell, ht * 2, r->th.accent);
}

static void bl_matrix_row_label(bl_renderer *r, const bl_render_input *in, const bl_mat *g, int a, bl_rgba col,
                                bl_font_metrics lm) {
    const char *t = bl_tok(in, r->rows[a]);
    bl_draw_text(r->font, &r->cv, t, (int)strlen(t), g->mx - 6 * r->S, bl_centred_baseline(g->my + a * g->cell, g->cell, lm),
                 g->lf, col, BL_ALIGN_RIGHT, g->maxlab);
}
static void bl_matrix_col_label(bl_renderer *r, const bl_render_input *in, const bl_mat *g, int b, bl_rgba col,
                                bl_font_metrics lm) {
    const char *t = bl_tok(in, r->cols[b]);
    float cx = g->mx + b * g->cell + g->cell * 0.5f;
    if (g->rot)  /* baseline chosen so the glyphs' vertical extent centres on the column */
        bl_draw_text_rot90(r->font, &r->cv, t, (int)strlen(t), cx - (lm.ascent - lm.descent) * 0.5f + lm.ascent,
                           g->my - 6 * r->S, g->lf, col, g->maxlab);
    else
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), cx, g->my - 6 * r->S - lm.descent, g->lf, col, BL_ALIGN_CENTER, 0);
}

/* The labels without the hover: every row's and column's, or every `every`-th when thinned. */
static void bl_matrix_labels(bl_renderer *r, const bl_render_input *in, const bl_mat *g) {
    bl_font_metrics lm = bl_font_metrics_at(r->font, g->lf);
    for (int a = 0; a < g->nr; a += g->every) bl_matrix_row_label(r, in, g, a, r->th.fg, lm);
    for (int b = 0; b < g->nc; b += g->every) bl_matrix_col_label(r, in, g, b, r->th.fg, lm);
}

/* The hovered row's and column's labels in the accent colour, on a band cleared of the labels
   under it (at least the row or column; a label's height when thinned). */
static void bl_matrix_hover_labels(bl_renderer *r, const bl_render_input *in, const bl_mat *g) {
    bl_font_metrics lm = bl_font_metrics_at(r->font, g->lf);
    int band = g->every > 1 ? (int)ceilf(g->lf * 1.3f) : g->cell;
    if (g->hr >= 0) {
        int y = g->my + g->hr * g->cell + g->cell / 2 - band / 2;
        bl_fill_rect(&r->cv, g->mx - g->rw, y, g->rw - 1, band, r->th.bg);
        bl_matrix_row_label(r, in, g, g->hr, r->th.accent, lm);
    }
    if (g->hc >= 0) {
        int x = g->mx + g->hc * g->cell + g->cell / 2 - band / 2;
        bl_fill_rect(&r->cv, x, g->header, band, g->my - 1 - g->header, r->th.bg);
        bl_matrix_col_label(r, in, g, g->hc, r->th.accent, lm);
    }
}

/* The line under the matrix: the hovered cell as "from → to: value", or what the axes are. */
static void bl_matrix_readout(bl_renderer *r, const bl_render_input *in, const bl_mat *g) {
    int W = r->cv.w, M = bl_margin(r), mx = g->mx;
    float ry = g->my + (g->cb_h > g->mh ? g->cb_h : g->mh) + g->rd_fs * 1.7f;
    if (g->hr >= 0 && g->hc >= 0) {
        char t[400];
        int from = r->rows[g->hr], to = r->cols[g->hc];
        snprintf(t, sizeof t, "%s (%d) \xe2\x86\x92 %s (%d): %.4f", bl_tok(in, from), from, bl_tok(in, to), to,
                 r->vals[(size_t)g->hr * g->nc + g->hc]);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), (float)mx, ry, g->rd_fs, r->th.fg, BL_ALIGN_LEFT, (float)(W - mx - M));
    } else {
        const char *t = "rows: from (query)  \xc2\xb7  columns: to (key)";
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), (float)mx, ry, g->rd_fs, r->th.muted, BL_ALIGN_LEFT,
                     (float)(W - mx - M));
    }
}

/* Token labels answer hit tests (kind 2); the cells are r->mat. */
static void bl_matrix_regions(bl_renderer *r, const bl_mat *g) {
    if (!g->labels) return;
    int cell = g->cell;
    for (int a = 0; a < g->nr; a++)
        bl_push_region(r, g->mx - g->rw, g->my + a * cell, g->rw, cell,
                       (bl_hit){.kind = 2, .from = r->rows[a], .to = -1, .layer = r->mat_layer, .head = r->mat_head, .side = 0});
    for (int b = 0; b < g->nc; b++)
        bl_push_region(r, g->mx + b * cell, g->header, cell, g->ch,
                       (bl_hit){.kind = 2, .from = r->cols[b], .to = -1, .layer = r->mat_layer, .head = r->mat_head, .side = 1});
}

/* Heights (cells shrink to fit BL_FB_MAX), the canvas, the title and where the matrix sits;
   0 or -1 (error set). */
static int bl_matrix_place(bl_renderer *r, int W, const char *title, const char *sub, bl_mat *g, bl_err *e) {
    float S = r->S;
    int M = bl_margin(r);
    g->header = bl_header_h(r);
    g->rd_fs = 11 * S;
    g->readout = (int)ceilf(g->rd_fs * 2.2f);
    int fixed_h = g->header + g->ch + g->readout + M;
    if (fixed_h + g->nr * g->cell > BL_FB_MAX) {   /* shrink cells to fit the height cap */
        g->cell = (BL_FB_MAX - fixed_h) / g->nr;
        if (g->cell < 1)
            return bl_fail(e, "render: %d rows need at least %d device pixels; the limit is %d", g->nr, fixed_h + g->nr,
                           BL_FB_MAX);
    }
    g->mw = g->nc * g->cell;
    g->mh = g->nr * g->cell;
    g->cb_h = g->mh > (int)(120 * S) ? g->mh : (int)(120 * S);
    int need_w = 2 * M + g->rw + g->mw + g->right;
    int H = g->header + g->ch + (g->cb_h > g->mh ? g->cb_h : g->mh) + g->readout + M;
    if (need_w > W) W = need_w;
    if (bl_canvas_begin(r, W, H, e)) return -1;
    bl_draw_header(r, title, sub);
    /* spare width (cells at their cap) is split evenly: the plot sits centred like a figure */
    int ox = W > need_w ? (W - need_w) / 2 : 0;
    g->mx = M + ox + g->rw;
    g->my = g->header + g->ch;
    return 0;
}

/* Zoom: of the selected indices idx[*cnt] (ascending token indices), keep at most `size`
   from the first one >= `from` on (moved back so the window stays full at the end). Returns 1
   when it kept fewer than there were. */
static int bl_zoom_window(int size, int from, int *idx, int *cnt) {
    if (size <= 0 || size >= *cnt) return 0;
    int a = 0;
    while (a < *cnt && idx[a] < from) a++;
    if (a > *cnt - size) a = *cnt - size;
    memmove(idx, idx + a, (size_t)size * sizeof *idx);
    *cnt = size;
    return 1;
}

/* The matrix view. m: full n×n matrix (row = from/query token, column = to/key token). */
static int bl_matrix_view(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const float *m, int div,
                          const char *title, const char *sub0, bl_err *e) {
    bl_mat g = {.n = in->n, .div = div};
    if (bl_index_lists(r, (size_t)in->n)) return bl_fail(e, "render: out of memory");
    bl_select_tokens(in, o, r->rows, &g.nr, r->cols, &g.nc);
    char sub[320];
    snprintf(sub, sizeof sub, "%s", sub0);
    bl_filter_note(o, sub, sizeof sub);
    int nr_all = g.nr, nc_all = g.nc;
    if (bl_zoom_window(o->zoom_size, o->zoom_row, r->rows, &g.nr) | bl_zoom_window(o->zoom_size, o->zoom_col, r->cols, &g.nc)) {
        size_t l = strlen(sub);
        if (g.nr && g.nc)
            snprintf(sub + l, sizeof sub - l, "%szoomed: rows %d\xe2\x80\x93%d of %d, columns %d\xe2\x80\x93%d of %d",
                     l ? " \xc2\xb7 " : "", r->rows[0], r->rows[g.nr - 1], nr_all, r->cols[0], r->cols[g.nc - 1], nc_all);
    }
    r->has_mat = 0;
    if (g.nr == 0 || g.nc == 0)
        return bl_message_view(r, title, sub, "No tokens left to show with this filter (is there a sentence B?).", e);
    g.vmax = bl_matrix_vmax(r, o, m, &g);
    bl_matrix_fit(r, in, r->cv.w, &g);
    if (bl_matrix_place(r, r->cv.w, title, sub, &g, e)) return -1;
    r->has_mat = 1;
    r->mat = (bl_rect){g.mx, g.my, g.mw, g.mh};
    r->nr = g.nr;
    r->nc = g.nc;
    r->cell = g.cell;
    if ((size_t)g.nr * g.nc > r->vals_cap) {
        float *p = realloc(r->vals, (size_t)g.nr * g.nc * sizeof *p);
        if (!p) return bl_fail(e, "render: out of memory");
        r->vals = p;
        r->vals_cap = (size_t)g.nr * g.nc;
    }
    /* the frame without the hover, from the cache when nothing but the pointer changed */
    size_t fb = (size_t)r->cv.w * r->cv.h * 4;
    uint64_t key = bl_matrix_key(r, in, o, m, &g, title, sub);
    if (!r->cv.rec && r->mst_valid && r->mst_key == key && r->mst_cap >= fb) {
        memcpy(r->cv.px, r->mst, fb);
        bl_matrix_vals(r, m, &g);
    } else {
        bl_matrix_cells(r, o, m, &g);
        bl_matrix_segments(r, in, o, &g);
        if (g.labels) bl_matrix_labels(r, in, &g);
        bl_stroke_rect(&r->cv, g.mx - 1, g.my - 1, g.mw + 2, g.mh + 2, 1, r->th.axis);
        if (div) bl_colour_bar_div(r, g.mx + g.mw + g.cb_gap, g.my, g.cb_w, g.cb_h, g.vmax, g.tick_len, g.tick_fs);
        else bl_colour_bar(r, o->colormap, g.mx + g.mw + g.cb_gap, g.my, g.cb_w, g.cb_h, g.vmax, g.tick_len, g.tick_fs);
        r->mst_valid = 0;
        if (!r->cv.rec && bl_cache_bytes(&r->mst, &r->mst_cap, fb)) {
            memcpy(r->mst, r->cv.px, fb);
            r->mst_key = key;
            r->mst_valid = 1;
        }
    }
    bl_matrix_hover(r, o, &g);
    bl_matrix_highlight(r, &g);
    if (g.labels) bl_matrix_hover_labels(r, in, &g);
    bl_matrix_readout(r, in, &g);
    bl_matrix_regions(r, &g);
    return 0;
}

/* ---------------------------------------------------------------- heatmap and rollout */
/* One head's map, or the mean of the layer's heads, as floats: the map itself when stored as
   floats, else widened or averaged into scratch. NULL on OOM. */
static const float *bl_layer_map(bl_renderer *r, const bl_render_input *in, int layer, int head) {
    size_t nn = (size_t)in->n * in->n;
    if (head >= 0 && in->attn) return in->attn + ((size_t)layer * in->heads + head) * nn;
    if (head < 0 && r->vw) return in->norms_layer + (size_t)layer * nn;   /* ‖Σ_h α f_h(x)‖, not a mean */
    float *s = bl_scratch(r, nn);
    if (!s) return NULL;
    if (head >= 0) {   /* 16-bit maps: this head widened */
        const size_t base = ((size_t)layer * in->heads + head) * nn;
        for (size_t k = 0; k < nn; k++) s[k] = bl_attk(in, base + k);
        return s;
    }
    for (size_t k = 0; k < nn; k++) s[k] = 0;
    const size_t base = (size_t)layer * in->heads * nn;
    for (int h = 0; h < in->heads; h++)
        for (size_t k = 0; k < nn; k++) s[k] += bl_attk(in, base + (size_t)h * nn + k);
    for (size_t k = 0; k < nn; k++) s[k] /= (float)in->heads;
    return s;
}

/* Compare mode: A − B of the map the heatmap shows, B's maps (attn_b, the same n) taken the same
   way (one head or the mean of the layer's), drawn with diverging colours around 0. */
static int bl_view_diff(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const float *ma,
                        const char *title0, bl_err *e) {
    const size_t nn = (size_t)in->n * in->n, base = (size_t)o->layer * in->heads * nn;
    float *d = malloc(nn * sizeof *d);
    if (!d) return bl_fail(e, "render: out of memory");
    for (size_t k = 0; k < nn; k++) {
        float b = 0;
        if (o->head >= 0) b = in->attn_b[base + (size_t)o->head * nn + k];
        else {
            for (int h = 0; h < in->heads; h++) b += in->attn_b[base + (size_t)h * nn + k];
            b /= (float)in->heads;
        }
        d[k] = ma[k] - b;
    }
    char title[128], sub[200];
    snprintf(title, sizeof title, "%s \xc2\xb7 A \xe2\x88\x92 B", title0);
    snprintf(sub, sizeof sub, "difference of two attention sets aligned by position \xc2\xb7 orange: A more, blue: B "
             "more \xc2\xb7 0-based \xc2\xb7 %d %s", in->n, o->words ? "words" : "tokens");
    int rc = bl_matrix_view(r, in, o, d, 1, title, sub, e);
    free(d);
    return rc;
}

int bl_view_heatmap(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    const float *m = bl_layer_map(r, in, o->layer, o->head);
    if (!m) return bl_fail(e, "render: out of memory");
    char title[96], sub[160];
    if (o->head >= 0) snprintf(title, sizeof title, "Layer %d \xc2\xb7 Head %d", o->layer, o->head);
    else snprintf(title, sizeof title, "Layer %d \xc2\xb7 mean of %d heads", o->layer, in->heads);
    snprintf(sub, sizeof sub, "attention weights \xc2\xb7 0-based layer/head \xc2\xb7 %d %s", in->n, o->words ? "words" : "tokens");
    if (r->vw) {   /* Kobayashi et al. 2020: what each token adds, not only how much it is looked at */
        if (o->head >= 0) snprintf(title, sizeof title, "Layer %d \xc2\xb7 Head %d \xc2\xb7 \xe2\x80\x96\xce\xb1" "f(x)\xe2\x80\x96", o->layer, o->head);
        else snprintf(title, sizeof title, "Layer %d \xc2\xb7 \xe2\x80\x96\xce\xa3 \xce\xb1" "f(x)\xe2\x80\x96 over %d heads", o->layer, in->heads);
        snprintf(sub, sizeof sub, "value-weighted \xe2\x80\x96\xce\xb1" "f(x)\xe2\x80\x96 (Kobayashi et al. 2020) \xc2\xb7 auto scale \xc2\xb7 "
                 "0-based layer/head \xc2\xb7 %d %s", in->n, o->words ? "words" : "tokens");
    }
    r->mat_layer = o->layer;
    r->mat_head = o->head;
    if (in->attn_b) return bl_view_diff(r, in, o, m, title, e);
    return bl_matrix_view(r, in, o, m, 0, title, sub, e);
}

int bl_view_rollout(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    size_t nn = (size_t)in->n * in->n;
    int upto = o->layer;
    float *out = malloc(nn * sizeof *out);   /* the scratch buffer is used inside bl_render_rollout */
    if (!out) return bl_fail(e, "render: out of memory");
    if (bl_render_rollout(r, in, upto, out)) { free(out); return bl_fail(e, "render: out of memory"); }
    char title[96], sub[200];
    snprintf(title, sizeof title, "Attention rollout \xc2\xb7 layers 0\xe2\x80\x93%d", upto);
    snprintf(sub, sizeof sub, "Abnar & Zuidema 2020: \xe2\x88\x8f (0.5\xc2\xb7mean_heads(A) + 0.5\xc2\xb7I), rows "
             "renormalised \xc2\xb7 0-based \xc2\xb7 %d %s", in->n, o->words ? "words" : "tokens");
    if (r->vw) {
        snprintf(title, sizeof title, "Rollout of \xe2\x80\x96\xce\xb1" "f(x)\xe2\x80\x96 \xc2\xb7 layers 0\xe2\x80\x93%d", upto);
        snprintf(sub, sizeof sub, "\xe2\x88\x8f (0.5\xc2\xb7N + 0.5\xc2\xb7I), N = \xe2\x80\x96\xce\xa3 \xce\xb1" "f(x)\xe2\x80\x96 "
                 "with rows normalised (Kobayashi et al. 2020) \xc2\xb7 0-based \xc2\xb7 %d %s", in->n, o->words ? "words" : "tokens");
    }
    r->mat_layer = upto;
    r->mat_head = -1;
    int rc = bl_matrix_view(r, in, o, out, 0, title, sub, e);
    free(out);
    return rc;
}

/* ---------------------------------------------------------------- model view */
typedef struct {
    float fs;          /* layer/head label size */
    int rl, colh;      /* row-label width, column-label height */
    int pitch, gap, tw;   /* thumbnail pitch, gap, side */
    int gx, gy;        /* grid origin */
    int extra;         /* rows' height under the thumbnails (statistic bars, ranking captions) */
} bl_grid;

/* Thumbnail size: as wide as the width allows (at most 160 CSS px), as tall as BL_FB_MAX allows. */
static void bl_model_fit(bl_renderer *r, int L, int Hn, int W, bl_grid *g) {
    float S = r->S;
    int M = bl_margin(r);
    char t[16];
    g->fs = 10 * S;
    snprintf(t, sizeof t, "L%d", L - 1);
    g->rl = (int)ceilf(bl_text_width(r->font, t, (int)strlen(t), g->fs) + 8 * S);
    int header = bl_header_h(r);
    g->colh = (int)ceilf(g->fs * 1.8f);
    int pitch = (W - 2 * M - g->rl) / Hn;
    if (pitch > (int)(160 * S)) pitch = (int)(160 * S);
    int maxp = (BL_FB_MAX - header - g->colh - M - L * g->extra) / L;
    if (pitch > maxp) pitch = maxp;
    int gap = pitch / 10 > (int)(2 * S) ? pitch / 10 : (int)(2 * S);
    int tw = pitch - gap;
    if (tw < 2) {
        pitch = 2 + gap;
        tw = 2;
    }
    g->pitch = pitch;
    g->gap = gap;
    g->tw = tw;
    g->gx = M + g->rl;
    g->gy = header + g->colh;
}

/* The pooled thumbnails are cached: hovering re-renders this view at pointer rate and for
   n = 512 pooling reads all L·H·n² weights. The key covers the geometry, the token selection
   and a strided sample of the attention (a new forward pass changes it). */
static uint64_t bl_model_key(const bl_renderer *r, const bl_render_input *in, int tw, int nr, int nc) {
    uint64_t key = BL_FNV_BASIS;
    int geo[6] = {in->n, in->layers, in->heads, tw, nr, nc};
    for (int k = 0; k < 6; k++) key = bl_fnv(key, (uint64_t)geo[k]);
    for (int k = 0; k < nr; k++) key = bl_fnv(key, (uint64_t)r->rows[k]);
    for (int k = 0; k < nc; k++) key = bl_fnv(key, (uint64_t)r->cols[k] << 16);
    return bl_fnv_maps(key, in, 0, (size_t)in->layers * in->heads * in->n * in->n);
}

/* Each thumbnail pixel shows the max over the tokens it covers, so a sharp one-token
   attention stays visible when n > thumbnail size. a: the map's first element. */
static void bl_pool_map(const bl_renderer *r, const bl_render_input *in, size_t a, int nr, int nc, int tw, float *pool) {
    int n = in->n;
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
}

static void bl_draw_thumb(bl_renderer *r, const bl_view_opts *o, const float *pool, int tw, int x0, int y0) {
    float inv = 1.0f / (o->vmax > 0 ? o->vmax : 1.0f);
    const uint8_t *lut = bl_colormap_lut(o->colormap);
    for (int py = 0; py < tw; py++) {
        uint8_t *p = r->cv.px + ((size_t)(y0 + py) * r->cv.w + x0) * 4;
        for (int px = 0; px < tw; px++, p += 4) {
            float v = pool[py * tw + px];
            if (v < o->threshold) v = 0;
            const uint8_t *c = lut + 3 * bl_colormap_index(v * inv);
            p[0] = c[0]; p[1] = c[1]; p[2] = c[2]; p[3] = 255;
        }
    }
}

/* frame: accent when selected, fg when hovered, else the axis colour */
static void bl_thumb_frame(bl_renderer *r, int x0, int y0, int tw, int sel, int hov) {
    int t2 = (int)fmaxf(1, lroundf(2 * r->S));
    if (sel) bl_stroke_rect(&r->cv, x0 - t2, y0 - t2, tw + 2 * t2, tw + 2 * t2, t2, r->th.accent);
    else if (hov) bl_stroke_rect(&r->cv, x0 - t2, y0 - t2, tw + 2 * t2, tw + 2 * t2, t2, r->th.fg);
    else bl_stroke_rect(&r->cv, x0 - 1, y0 - 1, tw + 2, tw + 2, 1, r->th.axis);
}

int bl_view_model(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    float S = r->S;
    int M = bl_margin(r), W = r->cv.w, L = in->layers, Hn = in->heads, n = in->n, nr, nc;
    if (bl_index_lists(r, (size_t)n)) return bl_fail(e, "render: out of memory");
    bl_select_tokens(in, o, r->rows, &nr, r->cols, &nc);
    const char *title = r->vw ? "Model view \xc2\xb7 \xe2\x80\x96\xce\xb1" "f(x)\xe2\x80\x96 of every layer and head"
                              : "Model view \xc2\xb7 every layer and head";
    char sub[320];
    if (nr == 0 || nc == 0) {
        snprintf(sub, sizeof sub, "click a head to open it");
        bl_filter_note(o, sub, sizeof sub);
        return bl_message_view(r, title, sub, "No tokens left to show with this filter.", e);
    }
    const int *order;      /* ranked ("find heads"): position k shows head order[k] */
    const float *stats;    /* statistic bars */
    if (bl_model_prep(r, in, o, &order, &stats, e)) return -1;
    char rank_title[200];
    if (order) title = bl_model_rank_title(in, o, rank_title, sizeof rank_title);
    bl_grid g = {.extra = bl_model_extra_h(r, o)};
    bl_model_fit(r, L, Hn, W, &g);
    int pitch = g.pitch, tw = g.tw;
    /* the pooled thumbnails first: a value-weighted grid's scale is their largest value */
    size_t psz = (size_t)L * Hn * tw * tw, nn = (size_t)n * n;
    uint64_t key = bl_fnv(bl_model_key(r, in, tw, nr, nc), (uint64_t)r->vw);
    if (psz > r->pool_cap) {
        float *p = realloc(r->pool, psz * sizeof *p);
        if (!p) return bl_fail(e, "render: out of memory");
        r->pool = p;
        r->pool_cap = psz;
        r->pool_valid = 0;
    }
    if (!(r->pool_valid && r->pool_key == key))
        for (size_t m = 0; m < (size_t)L * Hn; m++) bl_pool_map(r, in, m * nn, nr, nc, tw, r->pool + m * tw * tw);
    r->pool_key = key;
    r->pool_valid = 1;
    bl_view_opts oo = *o;
    if (r->vw && !(o->vmax > 0)) {   /* norms are not probabilities: auto scale, as the heatmap */
        float vmax = 0;
        for (size_t k = 0; k < psz; k++) vmax = fmaxf(vmax, r->pool[k]);
        oo.vmax = vmax > 0 ? vmax : 1;
    }
    o = &oo;
    snprintf(sub, sizeof sub, "click a head to open it \xc2\xb7 rows: layers, columns: heads (0-based) \xc2\xb7 "
             "colour 0\xe2\x80\x93%.2f%s", o->vmax > 0 ? o->vmax : 1.0f, r->vw ? " (auto)" : "");
    bl_filter_note(o, sub, sizeof sub);
    bl_model_sub_note(r, o, n, sub, sizeof sub);
    int need_w = 2 * M + g.rl + Hn * pitch, H = g.gy + L * (pitch + g.extra) + M;
    if (need_w > W) W = need_w;
    if (bl_canvas_begin(r, W, H, e)) return -1;
    bl_draw_header(r, title, sub);
    bl_font_metrics fm = bl_font_metrics_at(r->font, g.fs);
    char t[16];
    for (int h = 0; h < Hn && !order; h++) {   /* ranked: columns are no heads */
        snprintf(t, sizeof t, "%d", h);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), g.gx + h * pitch + tw * 0.5f, g.gy - fm.descent - 4 * S, g.fs,
                     r->th.muted, BL_ALIGN_CENTER, 0);
    }
    int hx = bl_hover_dev(r, o->hover_x), hy = bl_hover_dev(r, o->hover_y);
    for (int l = 0; l < L; l++) {
        if (order) snprintf(t, sizeof t, "#%d", l * Hn + 1);   /* rank of the row's first head, 1 = largest */
        else snprintf(t, sizeof t, "L%d", l);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), g.gx - 6 * S, g.gy + l * (pitch + g.extra) + tw * 0.5f + fm.ascent * 0.4f, g.fs,
                     r->th.muted, BL_ALIGN_RIGHT, 0);
        for (int h = 0; h < Hn; h++) {
            const int m = order ? order[l * Hn + h] : l * Hn + h, ml = m / Hn, mh = m % Hn;
            int x0 = g.gx + h * pitch, y0 = g.gy + l * (pitch + g.extra);
            const float *pool = r->pool + (size_t)m * tw * tw;
            bl_draw_thumb(r, o, pool, tw, x0, y0);
            if (r->cv.rec) bl_rec_image(&r->cv, x0, y0, tw, tw);
            int hov = hx >= x0 && hx < x0 + pitch && hy >= y0 && hy < y0 + pitch + g.extra;
            bl_thumb_frame(r, x0, y0, tw, ml == o->layer && mh == o->head, hov);
            float v = g.extra ? bl_model_extras(r, in, o, stats, m, x0, y0, tw) : 0;
            bl_push_region(r, x0 - g.gap / 2, y0 - g.gap / 2, pitch, pitch + g.extra,
                           (bl_hit){.kind = 3, .layer = ml, .head = mh, .from = -1, .to = -1, .value = v});
        }
    }
    return 0;
}
