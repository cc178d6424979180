/* view_flow.c — attention flow to [CLS] as a bar per input token. The max-flow is exact for
   n <= BL_FLOW_MAX_N (n max-flow problems on (L+2)·n nodes and L·n² edges); above that the
   view shows rollout's [CLS] row instead and its title says so. */
#include "render/render_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int cnt, rh, labels;      /* bars, bar pitch, labels drawn */
    float fs;
    int lw, valw, bx, bw;     /* label column, value column, bar start and full length */
    float vmax;
} bl_bars;

/* Bar pitch 20 CSS px, shrunk to fit BL_FB_MAX; returns the canvas width or -1 (error set). */
static int bl_bars_fit(bl_renderer *r, const bl_render_input *in, const int *idx, bl_bars *b, bl_err *e) {
    float S = r->S;
    int M = bl_margin(r), W = r->cv.w, header = bl_header_h(r);
    b->fs = 12 * S;
    b->rh = (int)(20 * S);
    if (b->cnt > 0 && header + b->cnt * b->rh + M > BL_FB_MAX) b->rh = (BL_FB_MAX - header - M) / b->cnt;
    if (b->rh < 1) return bl_fail(e, "render: %d bars do not fit %d pixels", b->cnt, BL_FB_MAX);
    b->labels = b->rh >= 9 * S;
    if (!b->labels) b->fs = 0;
    else if (b->fs > b->rh * 0.75f) b->fs = b->rh * 0.75f;
    b->lw = b->labels ? (int)ceilf(fminf(bl_max_label_w(r, in, idx, b->cnt, b->fs), 140 * S) + 10 * S) : 0;
    b->valw = b->labels ? (int)ceilf(bl_text_width(r->font, "0.000", 5, b->fs) + 10 * S) : 0;
    b->bx = M + b->lw;
    b->bw = W - 2 * M - b->lw - b->valw;
    if (b->bw < (int)(40 * S)) { b->bw = (int)(40 * S); W = 2 * M + b->lw + b->valw + b->bw; }
    return W;
}

/* One bar: hover/selection band, the bar, the token and the value; answers hit tests. */
static void bl_bar(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const bl_bars *b, int i, float v,
                   int y, int hov, bl_font_metrics fm) {
    float S = r->S;
    int M = bl_margin(r), W = r->cv.w, rh = b->rh;
    if (hov || i == o->token) bl_fill_rect(&r->cv, M, y, W - 2 * M, rh, r->th.hover);
    float val = v < o->threshold ? 0 : v;
    int len = (int)lroundf(fminf(val / b->vmax, 1.0f) * b->bw);
    int pad = rh >= 6 ? (int)(rh * 0.18f) : 0;
    bl_fill_rect(&r->cv, b->bx, y + pad, len, rh - 2 * pad > 0 ? rh - 2 * pad : 1, bl_head_color(0, 255));
    if (b->labels) {
        float base = bl_centred_baseline(y, rh, fm);
        const char *t = bl_tok(in, i);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), b->bx - 6 * S, base, b->fs, hov ? r->th.accent : r->th.fg,
                     BL_ALIGN_RIGHT, 140 * S);
        char vt[24];
        snprintf(vt, sizeof vt, "%.3f", v);
        bl_draw_text(r->font, &r->cv, vt, (int)strlen(vt), b->bx + len + 5 * S, base, b->fs * 0.9f, r->th.muted, BL_ALIGN_LEFT, 0);
    }
    bl_push_region(r, M, y, W - 2 * M, rh, (bl_hit){.kind = 2, .from = i, .to = -1, .layer = o->layer, .head = -1, .value = v});
}

/* Horizontal bar chart of v[n] over the tokens shown. */
static int bl_bar_chart(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const float *v,
                        const char *title, const char *sub, bl_err *e) {
    float S = r->S;
    int M = bl_margin(r), n = in->n;
    bl_bars b = {0};
    int *idx = malloc((size_t)n * sizeof *idx);
    if (!idx) return bl_fail(e, "render: out of memory");
    for (int i = 0; i < n; i++)
        if (!(o->hide_special && bl_is_special(in->tokens[i]))) idx[b.cnt++] = i;
    int header = bl_header_h(r), W = bl_bars_fit(r, in, idx, &b, e);
    int H = header + (b.cnt ? b.cnt * b.rh : (int)(30 * S)) + M;
    if (W < 0 || bl_canvas_begin(r, W, H, e)) { free(idx); return -1; }
    bl_draw_header(r, title, sub);
    b.vmax = o->vmax;
    if (!(b.vmax > 0)) {
        b.vmax = 0;
        for (int a = 0; a < b.cnt; a++) b.vmax = fmaxf(b.vmax, v[idx[a]]);
        if (!(b.vmax > 0)) b.vmax = 1;
    }
    int hy = bl_hover_dev(r, o->hover_y), hx = bl_hover_dev(r, o->hover_x);
    bl_font_metrics fm = bl_font_metrics_at(r->font, b.fs > 0 ? b.fs : 10);
    for (int a = 0; a < b.cnt; a++) {
        int y = header + a * b.rh;
        int hov = hy >= y && hy < y + b.rh && hx >= M && hx < W - M;
        bl_bar(r, in, o, &b, idx[a], v[idx[a]], y, hov, fm);
    }
    bl_fill_rect(&r->cv, b.bx, header, S >= 2 ? 2 : 1, b.cnt * b.rh, r->th.axis);
    free(idx);
    return 0;
}

int bl_view_flow(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    int n = in->n, upto = o->layer;
    float *v = malloc((size_t)n * sizeof *v);
    if (!v) return bl_fail(e, "render: out of memory");
    char title[160], sub[320];
    int rc;
    if (n <= BL_FLOW_MAX_N) {
        rc = bl_render_flow(r, in, upto, v);
        snprintf(title, sizeof title, "Attention flow to [CLS] \xc2\xb7 layers 0\xe2\x80\x93%d", upto);
        snprintf(sub, sizeof sub, "max-flow from each input token to [CLS] after layer %d through A' = 0.5\xc2\xb7"
                 "mean_heads(A) + 0.5\xc2\xb7I (Abnar & Zuidema 2020) \xc2\xb7 0-based", upto);
    } else {
        float *R = malloc((size_t)n * n * sizeof *R);
        rc = R ? bl_render_rollout(r, in, upto, R) : -1;
        if (!rc) memcpy(v, R, (size_t)n * sizeof *v);   /* row 0 = [CLS] */
        free(R);
        snprintf(title, sizeof title, "Rollout to [CLS] \xc2\xb7 layers 0\xe2\x80\x93%d (n > %d: exact flow too slow)",
                 upto, BL_FLOW_MAX_N);
        snprintf(sub, sizeof sub, "[CLS] row of attention rollout, shown instead of max-flow for %d tokens \xc2\xb7 0-based", n);
    }
    if (rc) { free(v); return bl_fail(e, "render: out of memory"); }
    if (r->vw) {   /* A' from ‖Σ_h α f_h(x)‖ with rows normalised instead of the mean weights */
        char t[200];
        snprintf(t, sizeof t, "\xe2\x80\x96\xce\xa3 \xce\xb1" "f(x)\xe2\x80\x96 (rows normalised) \xc2\xb7 %s", title);
        memcpy(title, t, sizeof title - 1);   /* cut at the title's size, like the other titles */
        title[sizeof title - 1] = 0;
    }
    rc = bl_bar_chart(r, in, o, v, title, sub, e);
    free(v);
    return rc;
}
