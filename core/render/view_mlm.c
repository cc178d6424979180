/* view_mlm.c — the masked-LM view: the sentence as clickable chips (wrapping), then for each
   [MASK] a box with its top-k predictions and their probabilities, and with the logit lens
   (in->lens_*) a layer × rank table per [MASK] below them. */
#include "render/render_internal.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    float fs, chip_max;
    int chip_h, chip_pad, chip_gap;
    int tokw, barw, pctw, bw, bgap;   /* prediction box: token, bar, percentage, box width, gap */
    int per, rowh, btitle, bh;        /* boxes per line, row pitch, title band, box height */
} bl_mlm_geo;

static int bl_chip_w(bl_renderer *r, const bl_mlm_geo *g, const char *t, int len) {
    return (int)ceilf(fminf(bl_text_width(r->font, t, len, g->fs), g->chip_max)) + 2 * g->chip_pad;
}

/* where the next chip of width cw goes: on this line, or wrapped to the next; returns 1 on wrap */
static int bl_chip_place(const bl_renderer *r, const bl_mlm_geo *g, int cw, int *x, int *y) {
    int M = bl_margin(r);
    if (*x + cw > r->cv.w - M && *x > M) { *x = M; *y += g->chip_h + g->chip_gap; return 1; }
    return 0;
}

/* Height of the wrapped sentence (laid out without drawing). */
static int bl_chips_h(bl_renderer *r, const bl_render_input *in, const bl_mlm_geo *g, int y0) {
    int x = bl_margin(r), y = y0, lines = 1;
    for (int i = 0; i < in->n; i++) {
        const char *t = bl_tok(in, i);
        int cw = bl_chip_w(r, g, t, (int)strlen(t));
        lines += bl_chip_place(r, g, cw, &x, &y);
        x += cw + g->chip_gap;
    }
    return lines * (g->chip_h + g->chip_gap);
}

/* The sentence: [MASK] chips in the accent colour, the hovered one outlined; each is a token hit. */
static void bl_draw_chips(bl_renderer *r, const bl_render_input *in, const bl_mlm_geo *g, int y0, int hx, int hy) {
    bl_font_metrics fm = bl_font_metrics_at(r->font, g->fs);
    int x = bl_margin(r), y = y0, chip_h = g->chip_h;
    for (int i = 0; i < in->n; i++) {
        const char *t = bl_tok(in, i);
        int tl = (int)strlen(t);
        int cw = bl_chip_w(r, g, t, tl);
        bl_chip_place(r, g, cw, &x, &y);
        int is_mask = !strcmp(t, "[MASK]") || !strcmp(t, "<mask>"), hov = hx >= x && hx < x + cw && hy >= y && hy < y + chip_h;
        bl_rgba bg = is_mask ? r->th.accent : hov ? r->th.hover : r->th.panel;
        bl_fill_rect(&r->cv, x, y, cw, chip_h, bg);
        if (hov) bl_stroke_rect(&r->cv, x, y, cw, chip_h, 1, r->th.accent);
        bl_draw_text(r->font, &r->cv, t, tl, (float)(x + g->chip_pad), bl_centred_baseline(y, chip_h, fm), g->fs,
                     is_mask ? r->th.bg : bl_is_special(t) ? r->th.muted : r->th.fg, BL_ALIGN_LEFT, g->chip_max);
        bl_push_region(r, x, y, cw, chip_h, (bl_hit){.kind = 2, .from = i, .to = -1, .layer = -1, .head = -1, .side = 0});
        x += cw + g->chip_gap;
    }
}

/* Prediction box q at (bx, by): its title, then one row per candidate (kind 4 hits). */
static void bl_draw_mlm_box(bl_renderer *r, const bl_render_input *in, const bl_mlm_geo *g, int q, int bx, int by, int hx,
                            int hy) {
    float S = r->S, fs = g->fs;
    bl_font_metrics fm = bl_font_metrics_at(r->font, fs);
    int k = in->mlm_k, bw = g->bw, rowh = g->rowh, tokw = g->tokw, barw = g->barw;
    char t[64];
    int pos = in->mlm_pos[q];
    snprintf(t, sizeof t, "[MASK] at position %d", pos);
    bl_draw_text(r->font, &r->cv, t, (int)strlen(t), (float)bx, by + fm.ascent, fs, r->th.fg, BL_ALIGN_LEFT, (float)bw);
    bl_fill_rect(&r->cv, bx, by + (int)(g->btitle - 8 * S), bw, 1, r->th.axis);
    for (int c = 0; c < k; c++) {
        int yy = by + g->btitle + c * rowh;
        const char *tk = in->mlm_tokens[(size_t)q * k + c];
        float p = in->mlm_p[(size_t)q * k + c];
        if (!tk) tk = "?";
        int hov = hx >= bx && hx < bx + bw && hy >= yy && hy < yy + rowh;
        if (hov) bl_fill_rect(&r->cv, bx, yy, bw, rowh, r->th.hover);
        float base = bl_centred_baseline(yy, rowh, fm);
        bl_draw_text(r->font, &r->cv, tk, (int)strlen(tk), (float)(bx + tokw - 8 * S), base, fs, c == 0 ? r->th.fg : r->th.muted,
                     BL_ALIGN_RIGHT, tokw - 10 * S);
        int len = (int)lroundf(fminf(fmaxf(p, 0), 1) * barw);
        bl_fill_rect(&r->cv, bx + tokw, yy + rowh / 5, barw, rowh - 2 * (rowh / 5), r->th.panel);
        bl_fill_rect(&r->cv, bx + tokw, yy + rowh / 5, len, rowh - 2 * (rowh / 5), bl_head_color(0, c == 0 ? 255 : 170));
        snprintf(t, sizeof t, "%.1f%%", p * 100);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), (float)(bx + tokw + barw + 6 * S), base, fs * 0.9f, r->th.muted,
                     BL_ALIGN_LEFT, 0);
        bl_push_region(r, bx, yy, bw, rowh, (bl_hit){.kind = 4, .from = pos, .to = c, .layer = -1, .head = q, .value = p});
    }
}

/* ---------------------------------------------------------------- logit lens table
   For each [MASK], a layer × rank table: row l holds the top-k of the MLM head applied to the
   hidden state after layer l (in->lens_*), each cell coloured by its probability on the
   view's colormap, so the reader sees at which depth the final answer appears. */
typedef struct {
    int labw, cw, rowh, title, h;     /* layer label column, cell width, row pitch, title band, table height */
} bl_lens_geo;

static bl_lens_geo bl_lens_layout(const bl_renderer *r, const bl_render_input *in) {
    float S = r->S;
    bl_lens_geo g;
    g.labw = (int)(64 * S);
    g.rowh = (int)(20 * S);
    g.title = (int)(26 * S);
    int avail = r->cv.w - 2 * bl_margin(r) - g.labw, k = in->mlm_k > 0 ? in->mlm_k : 1;
    g.cw = avail / k;
    if (g.cw > (int)(150 * S)) g.cw = (int)(150 * S);
    if (g.cw < (int)(24 * S)) g.cw = (int)(24 * S);
    g.h = g.title + (in->lens_layers + 1) * g.rowh + (int)(16 * S);
    return g;
}

static bl_rgba bl_lens_text_on(bl_rgba cell) {   /* dark text on light cells, white on dark */
    float l = 0.299f * (cell >> 24) + 0.587f * ((cell >> 16) & 255) + 0.114f * ((cell >> 8) & 255);
    return l > 140 ? BL_RGB(0x1a1a1a) : BL_RGB(0xffffff);
}

/* Mask q's table at (x0, y0); every cell is a BL_HIT_MLM with its layer. */
static void bl_draw_lens(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const bl_lens_geo *g, int q,
                         int x0, int y0, int hx, int hy) {
    float S = r->S, fs = 11 * S;
    bl_font_metrics fm = bl_font_metrics_at(r->font, fs), ft = bl_font_metrics_at(r->font, 12 * S);
    const int k = in->mlm_k, L = in->lens_layers, pos = in->mlm_pos[q];
    char t[96];
    snprintf(t, sizeof t, "Logit lens at position %d \xc2\xb7 top %d after each layer (0-based)", pos, k);
    bl_draw_text(r->font, &r->cv, t, (int)strlen(t), (float)x0, y0 + ft.ascent, 12 * S, r->th.fg, BL_ALIGN_LEFT,
                 (float)(g->labw + k * g->cw));
    int y = y0 + g->title;
    for (int c = 0; c < k; c++) {   /* header: ranks */
        snprintf(t, sizeof t, "rank %d", c + 1);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), x0 + g->labw + c * g->cw + g->cw / 2.0f,
                     bl_centred_baseline(y, g->rowh, fm), fs, r->th.muted, BL_ALIGN_CENTER, (float)g->cw);
    }
    y += g->rowh;
    for (int l = 0; l < L; l++, y += g->rowh) {
        snprintf(t, sizeof t, "layer %d", l);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), (float)(x0 + g->labw - 8 * S), bl_centred_baseline(y, g->rowh, fm), fs,
                     l == L - 1 ? r->th.fg : r->th.muted, BL_ALIGN_RIGHT, (float)g->labw);
        for (int c = 0; c < k; c++) {
            const size_t at = ((size_t)q * L + l) * k + c;
            const char *tk = in->lens_tokens[at] ? in->lens_tokens[at] : "?";
            float p = in->lens_p[at];
            int x = x0 + g->labw + c * g->cw;
            bl_rgba col = bl_cmap_rgba(o->colormap, fminf(fmaxf(p, 0), 1));
            bl_fill_rect(&r->cv, x, y, g->cw - 1, g->rowh - 1, col);
            if (hx >= x && hx < x + g->cw && hy >= y && hy < y + g->rowh) bl_stroke_rect(&r->cv, x, y, g->cw - 1, g->rowh - 1, 1, r->th.accent);
            bl_draw_text(r->font, &r->cv, tk, (int)strlen(tk), x + g->cw / 2.0f, bl_centred_baseline(y, g->rowh, fm), fs,
                         bl_lens_text_on(col), BL_ALIGN_CENTER, g->cw - 6 * S);
            bl_push_region(r, x, y, g->cw, g->rowh, (bl_hit){.kind = BL_HIT_MLM, .from = pos, .to = c, .layer = l, .head = q, .value = p});
        }
    }
    /* the last layer's row is the prediction above: a rule sets it apart */
    bl_fill_rect(&r->cv, x0 + g->labw, y - g->rowh - 1, k * g->cw, 1, r->th.axis);
}

int bl_view_mlm(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    float S = r->S;
    int M = bl_margin(r), W = r->cv.w;
    const char *title = "Masked LM \xc2\xb7 top predictions for each [MASK]";
    const char *sub = "click a token to mask it and re-run \xc2\xb7 positions are 0-based";
    int header = bl_header_h(r), k = in->mlm_k, cnt = in->mlm_count;
    bl_mlm_geo g = {0};
    g.fs = 12 * S;
    g.chip_h = (int)(22 * S);
    g.chip_pad = (int)(6 * S);
    g.chip_gap = (int)(5 * S);
    g.chip_max = 160 * S;
    g.tokw = (int)(120 * S);
    g.barw = (int)(150 * S);
    g.pctw = (int)(56 * S);
    g.bw = g.tokw + g.barw + g.pctw + (int)(20 * S);
    g.bgap = (int)(24 * S);
    g.per = (W - 2 * M + g.bgap) / (g.bw + g.bgap);
    if (g.per < 1) g.per = 1;
    g.rowh = (int)(20 * S);
    g.btitle = (int)(26 * S);
    g.bh = g.btitle + k * g.rowh + (int)(16 * S);
    int chips_h = bl_chips_h(r, in, &g, header);
    int brows = cnt > 0 ? (cnt + g.per - 1) / g.per : 1;
    const int lens = cnt > 0 && in->lens_tokens != NULL;
    if (lens && (in->lens_layers < 1 || !in->lens_p))
        return bl_fail(e, "render: inconsistent logit lens input (%d layers)", in->lens_layers);
    bl_lens_geo lg = {0};
    if (lens) lg = bl_lens_layout(r, in);
    int H = header + chips_h + (int)(14 * S) + (cnt > 0 ? brows * g.bh : (int)(30 * S)) + (lens ? cnt * lg.h : 0) + M;
    if (H > BL_FB_MAX) return bl_fail(e, "render: the masked-LM view needs %d px of height; the limit is %d", H, BL_FB_MAX);
    if (bl_canvas_begin(r, W, H, e)) return -1;
    bl_draw_header(r, title, sub);
    int hx = bl_hover_dev(r, o->hover_x), hy = bl_hover_dev(r, o->hover_y);
    bl_draw_chips(r, in, &g, header, hx, hy);
    int by0 = header + chips_h + (int)(14 * S);
    if (cnt == 0) {
        bl_draw_message(r, by0, "No [MASK] in the input: click a token above to mask it.");
        return 0;
    }
    for (int q = 0; q < cnt; q++)
        bl_draw_mlm_box(r, in, &g, q, M + (q % g.per) * (g.bw + g.bgap), by0 + (q / g.per) * g.bh, hx, hy);
    for (int q = 0; lens && q < cnt; q++) bl_draw_lens(r, in, o, &lg, q, M, by0 + brows * g.bh + q * lg.h, hx, hy);
    return 0;
}
