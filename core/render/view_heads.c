/* view_heads.c — heads as objects (Clark, Khandelwal, Levy & Manning 2019, "What Does BERT Look
   At?"): the head map view (every head a dot at its classical MDS position of the Jensen–Shannon
   distances between the heads' maps on this input, their Figure 6), and what the model view
   borrows from here: the per-head statistics behind its bars and the "find heads" order (every
   head ranked by its weight from one token to another).

   Both the statistics (O(L·H·n²)) and the distances (O(L²H²n²)) read every map, so they are
   cached by a key of the maps like the model view's thumbnails: hovering re-renders at pointer
   rate and must not recompute them. */
#include "render/render_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the maps' key: shape, a strided sample of the weights and their address (bl_fnv_maps) */
static uint64_t maps_key(const bl_render_input *in, uint64_t salt) {
    uint64_t key = bl_fnv(BL_FNV_BASIS, salt);
    key = bl_fnv(bl_fnv(bl_fnv(key, (uint64_t)in->n), (uint64_t)in->layers), (uint64_t)in->heads);
    return bl_fnv_maps(key, in, 0, (size_t)in->layers * in->heads * in->n * in->n);
}

static int grow_floats(float **p, size_t *cap, size_t n) {
    if (n <= *cap) return 0;
    float *q = realloc(*p, n * sizeof *q);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

const float *bl_render_head_stats(bl_renderer *r, const bl_render_input *in, bl_err *e) {
    const size_t M = (size_t)in->layers * in->heads;
    uint64_t key = maps_key(in, 1);
    for (int i = 0; i < in->n; i++)   /* the token kinds come from the strings */
        for (const char *t = bl_tok(in, i); *t; t++) key = bl_fnv(key, (uint8_t)*t);
    if (r->hs_valid && r->hs_key == key) return r->hs;
    r->hs_valid = 0;
    uint8_t *kinds = malloc((size_t)in->n);
    if (!kinds || grow_floats(&r->hs, &r->hs_cap, M * BL_STAT_COUNT)) {
        free(kinds);
        bl_fail(e, "render: out of memory");
        return NULL;
    }
    for (int i = 0; i < in->n; i++) kinds[i] = (uint8_t)bl_token_kind(bl_tok(in, i));
    int rc = bl_head_stats(in->attn, in->attn ? NULL : in->attn16, in->layers, in->heads, in->n, kinds, r->hs, e);
    free(kinds);
    if (rc) return NULL;
    r->hs_key = key;
    r->hs_valid = 1;
    return r->hs;
}

float bl_stat_bar_value(const float *stats, int m, int stat, int n) {
    float v = stats[(size_t)m * BL_STAT_COUNT + stat];
    if (stat == BL_STAT_ENTROPY) v = n > 1 ? v / logf((float)n) : 0;   /* ln n = uniform */
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

const int *bl_rank_heads(bl_renderer *r, const bl_render_input *in, int from, int to, bl_err *e) {
    const int n = in->n, M = in->layers * in->heads;
    if (from < 0 || from >= n || to < 0 || to >= n) {
        bl_fail(e, "render: rank tokens %d -> %d outside 0..%d", from, to, n - 1);
        return NULL;
    }
    if ((size_t)M > r->hord_cap) {
        int *p = realloc(r->hord, (size_t)M * sizeof *p);
        if (!p) { bl_fail(e, "render: out of memory"); return NULL; }
        r->hord = p;
        r->hord_cap = (size_t)M;
    }
    /* insertion sort (M is a few hundred at most): stable, so equal weights keep layer order */
    const size_t cell = (size_t)from * n + to, nn = (size_t)n * n;
    for (int k = 0; k < M; k++) {
        float v = bl_attk(in, (size_t)k * nn + cell);
        int i = k;
        while (i > 0 && bl_attk(in, (size_t)r->hord[i - 1] * nn + cell) < v) {
            r->hord[i] = r->hord[i - 1];
            i--;
        }
        r->hord[i] = k;
    }
    return r->hord;
}

/* ---------------------------------------------------------------- the model view's additions */
static float caption_px(const bl_renderer *r) { return 9 * r->S; }
static int bar_h(const bl_renderer *r) { return (int)fmaxf(2, lroundf(3 * r->S)); }

/* The statistics are of attention probabilities: a value-weighted grid (norms, r->vw) gets no bars. */
int bl_model_extra_h(bl_renderer *r, const bl_view_opts *o) {
    int h = 0;
    if (o->stat_bar && !r->vw) h += bar_h(r) + (int)lroundf(3 * r->S);
    if (o->rank) h += (int)ceilf(bl_font_metrics_at(r->font, caption_px(r)).line + 2 * r->S);
    return h;
}

int bl_model_prep(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const int **order,
                  const float **stats, bl_err *e) {
    *order = NULL;
    *stats = NULL;
    if (o->rank && !(*order = bl_rank_heads(r, in, o->rank_from, o->rank_to, e))) return -1;
    if (o->stat_bar && !r->vw && !(*stats = bl_render_head_stats(r, in, e))) return -1;
    return 0;
}

const char *bl_model_rank_title(const bl_render_input *in, const bl_view_opts *o, char *buf, size_t cap) {
    int a = 0, b = 0;   /* tokens are cut to 24 bytes, whole UTF-8 sequences only */
    const char *ta = bl_tok(in, o->rank_from), *tb = bl_tok(in, o->rank_to);
    while (ta[a] && a < 24) { a++; while ((ta[a] & 0xC0) == 0x80) a++; }
    while (tb[b] && b < 24) { b++; while ((tb[b] & 0xC0) == 0x80) b++; }
    snprintf(buf, cap, "Model view \xc2\xb7 heads ranked by attention from \"%.*s%s\" (%d) to \"%.*s%s\" (%d)", a, ta,
             ta[a] ? "\xe2\x80\xa6" : "", o->rank_from, b, tb, tb[b] ? "\xe2\x80\xa6" : "", o->rank_to);
    return buf;
}

void bl_model_sub_note(const bl_renderer *r, const bl_view_opts *o, int n, char *sub, size_t cap) {
    static const char grid[] = "rows: layers, columns: heads (0-based) \xc2\xb7 ";
    char *g = o->rank ? strstr(sub, grid) : NULL;   /* ranked, the grid is no longer layer × head */
    if (g) memmove(g, g + sizeof grid - 1, strlen(g + sizeof grid - 1) + 1);
    size_t k = strlen(sub);
    if (o->rank && k < cap)
        k += (size_t)snprintf(sub + k, cap - k, " \xc2\xb7 largest first, by rows; under each: layer, head, weight");
    if (o->stat_bar && r->vw && k < cap)
        snprintf(sub + k, cap - k, " \xc2\xb7 no statistic bars for norms");
    else if (o->stat_bar && k < cap)
        snprintf(sub + k, cap - k, " \xc2\xb7 bars: %s%s", bl_stat_name(o->stat_bar - 1),
                 o->stat_bar - 1 == BL_STAT_ENTROPY ? (n > 1 ? " / ln n" : "") : " share");
}

float bl_model_extras(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const float *stats, int m,
                      int x0, int y0, int tw) {
    const float S = r->S;
    float value = 0;
    int y = y0 + tw + (int)lroundf(3 * S);
    if (stats) {   /* a track in the axis colour, filled in the accent colour up to the value */
        const int bh = bar_h(r);
        value = stats[(size_t)m * BL_STAT_COUNT + o->stat_bar - 1];
        const int fill = (int)lroundf(tw * bl_stat_bar_value(stats, m, o->stat_bar - 1, in->n));
        bl_fill_rect(&r->cv, x0, y, tw, bh, r->th.axis);
        if (fill > 0) bl_fill_rect(&r->cv, x0, y, fill, bh, r->th.accent);
        y += bh;
    }
    if (o->rank) {
        const float px = caption_px(r);
        bl_font_metrics fm = bl_font_metrics_at(r->font, px);
        const size_t nn = (size_t)in->n * in->n;
        value = bl_attk(in, (size_t)m * nn + (size_t)o->rank_from * in->n + o->rank_to);
        char t[48];
        snprintf(t, sizeof t, "L%d H%d %.2f", m / in->heads, m % in->heads, (double)value);
        if (bl_text_width(r->font, t, (int)strlen(t), px) > tw) snprintf(t, sizeof t, "L%d H%d", m / in->heads, m % in->heads);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), x0 + tw * 0.5f, y + 2 * S + fm.ascent, px, r->th.fg, BL_ALIGN_CENTER,
                     (float)tw);
    }
    return value;
}

/* ---------------------------------------------------------------- head map view */
/* Query rows the map's distances average over: all up to this many, else this many evenly
   spaced. Every row costs O(L²H²n) (bert-base at n = 128: 1.3·10⁸ logarithms for all rows),
   and a head's pattern (diagonal, previous token, [SEP] sink, broad) shows in any few rows. */
#define BL_HEADMAP_ROWS 32
static int map_rows(int n) { return n < BL_HEADMAP_ROWS ? n : BL_HEADMAP_ROWS; }

static const float *head_map_xy(bl_renderer *r, const bl_render_input *in, bl_err *e) {
    const size_t M = (size_t)in->layers * in->heads;
    uint64_t key = maps_key(in, 2);
    if (r->hm_valid && r->hm_key == key) return r->hm;
    r->hm_valid = 0;
    float *dist = malloc(sizeof(float) * M * M);
    if (!dist || grow_floats(&r->hm, &r->hm_cap, M * 2)) {
        free(dist);
        bl_fail(e, "render: out of memory for the head distances");
        return NULL;
    }
    int rows[BL_HEADMAP_ROWS], nrows = map_rows(in->n);
    for (int k = 0; k < nrows; k++) rows[k] = (int)(((double)k + 0.5) * in->n / nrows);
    int rc = bl_head_distances_rows(in->attn, in->attn ? NULL : in->attn16, in->layers, in->heads, in->n, rows, nrows,
                                    dist, e);
    if (!rc) rc = bl_mds2(dist, (int)M, r->hm, e);
    free(dist);
    if (rc) return NULL;
    r->hm_key = key;
    r->hm_valid = 1;
    return r->hm;
}

/* layer l's colour: viridis from dark (first layer) to green-yellow (last), stopping short of
   the palest end, which vanishes on a white background */
static bl_rgba layer_colour(int l, int L) { return bl_cmap_rgba(BL_CMAP_VIRIDIS, L > 1 ? 0.88f * l / (L - 1) : 0); }

int bl_view_head_map(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    const float S = r->S;
    const int M = bl_margin(r), L = in->layers, Hn = in->heads, Mh = L * Hn;
    const float *xy = head_map_xy(r, in, e);
    if (!xy) return -1;
    const char *title = "Head map \xc2\xb7 heads that attend alike lie close";
    char sub[320];
    int ns = snprintf(sub, sizeof sub, "classical MDS of the Jensen\xe2\x80\x93Shannon distances between the heads' maps on "
                      "this input (Clark et al. 2019) \xc2\xb7 colour: layer \xc2\xb7 click a head to open it");
    if (map_rows(in->n) < in->n && ns > 0 && (size_t)ns < sizeof sub)
        snprintf(sub + ns, sizeof sub - ns, " \xc2\xb7 over %d of the %d query rows", map_rows(in->n), in->n);
    /* legend: one swatch per layer in a column right of the plot */
    const float fs = 10 * S;
    bl_font_metrics fm = bl_font_metrics_at(r->font, fs);
    char t[32];
    snprintf(t, sizeof t, "L%d", L - 1);
    const int sw = (int)lroundf(9 * S), lrow = (int)ceilf(fm.line > 13 * S ? fm.line : 13 * S);
    const int legw = sw + (int)ceilf(6 * S + bl_text_width(r->font, t, (int)strlen(t), fs));
    const int gapl = (int)lroundf(20 * S), axis_h = (int)ceilf(fm.line + 6 * S);
    int W = r->cv.w, side = W - 2 * M - gapl - legw;
    if (side > (int)(560 * S)) side = (int)(560 * S);
    if (side < (int)(120 * S)) side = (int)(120 * S);
    const int header = bl_header_h(r);
    int H = header + side + axis_h + M, legend_h = header + L * lrow + M;
    if (legend_h > H) H = legend_h;
    if (2 * M + side + gapl + legw > W) W = 2 * M + side + gapl + legw;
    if (H > BL_FB_MAX) {   /* a very deep model: the legend's rows shrink */
        H = BL_FB_MAX;
        if (header + side + axis_h + M > H) side = H - header - axis_h - M;
    }
    if (bl_canvas_begin(r, W, H, e)) return -1;
    bl_draw_header(r, title, sub);
    const int bx = M, by = header;
    bl_stroke_rect(&r->cv, bx, by, side, side, 1, r->th.axis);
    const char *ax = "MDS 1 \xe2\x86\x92  (axes have no units: only distances between dots mean something)";
    bl_draw_text(r->font, &r->cv, ax, (int)strlen(ax), (float)bx, by + side + 4 * S + fm.ascent, fs, r->th.muted,
                 BL_ALIGN_LEFT, (float)side);
    /* one scale for both axes: MDS keeps distances, so the picture must not stretch them */
    float x0 = xy[0], x1 = xy[0], y0 = xy[1], y1 = xy[1];
    for (int m = 1; m < Mh; m++) {
        x0 = fminf(x0, xy[2 * m]); x1 = fmaxf(x1, xy[2 * m]);
        y0 = fminf(y0, xy[2 * m + 1]); y1 = fmaxf(y1, xy[2 * m + 1]);
    }
    const float span = fmaxf(x1 - x0, y1 - y0), cx = 0.5f * (x0 + x1), cy = 0.5f * (y0 + y1);
    const int d = (int)fmaxf(4, lroundf(8 * S)), hitd = (int)fmaxf((float)d, lroundf(12 * S));
    const float usable = (float)side - 2 * hitd, k = span > 1e-12f ? usable / span : 0;
    const int hx = bl_hover_dev(r, o->hover_x), hy = bl_hover_dev(r, o->hover_y);
    const int t2 = (int)fmaxf(1, lroundf(2 * S));
    int sel_x = -1, sel_y = -1;
    for (int m = 0; m < Mh; m++) {
        const int l = m / Hn, h = m % Hn;
        const int px = (int)lroundf(bx + side * 0.5f + (xy[2 * m] - cx) * k) - d / 2;
        const int py = (int)lroundf(by + side * 0.5f - (xy[2 * m + 1] - cy) * k) - d / 2;
        bl_fill_rect(&r->cv, px - 1, py - 1, d + 2, d + 2, r->th.bg);   /* keeps stacked dots apart */
        bl_fill_rect(&r->cv, px, py, d, d, layer_colour(l, L));
        const int rx = px + d / 2 - hitd / 2, ry = py + d / 2 - hitd / 2;
        if (hx >= rx && hx < rx + hitd && hy >= ry && hy < ry + hitd) bl_stroke_rect(&r->cv, px - t2, py - t2, d + 2 * t2, d + 2 * t2, t2, r->th.fg);
        if (l == o->layer && h == o->head) { sel_x = px; sel_y = py; }
        bl_push_region(r, rx, ry, hitd, hitd, (bl_hit){.kind = BL_HIT_HEAD, .layer = l, .head = h, .from = -1, .to = -1});
    }
    if (sel_x >= 0) {   /* the open head, drawn last so it is never hidden */
        bl_stroke_rect(&r->cv, sel_x - 2 * t2, sel_y - 2 * t2, d + 4 * t2, d + 4 * t2, t2, r->th.accent);
        snprintf(t, sizeof t, "L%d H%d", o->layer, o->head);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), sel_x + d + 3 * t2, sel_y + d * 0.5f + fm.ascent * 0.4f, fs,
                     r->th.fg, BL_ALIGN_LEFT, 0);
    }
    /* legend */
    const int lx = bx + side + gapl;
    for (int l = 0; l < L; l++) {
        const int ly = by + l * lrow;
        if (ly + lrow > H) break;
        bl_fill_rect(&r->cv, lx, ly + (lrow - sw) / 2, sw, sw, layer_colour(l, L));
        snprintf(t, sizeof t, "L%d", l);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), lx + sw + 6 * S, bl_centred_baseline((float)ly, (float)lrow, fm), fs,
                     r->th.muted, BL_ALIGN_LEFT, 0);
    }
    return 0;
}
