/* view_neuron.c — the neuron view: for one query token and head, the query vector, each key
   vector, their elementwise product, the scaled score q·k/√d and the softmax, as in bertviz.
   Scores are recomputed here from q and k over all keys (hidden tokens still count in the
   softmax, as in the model). */
#include "render/render_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Diverging colour for a signed value: orange for positive, blue for negative, opacity |v|/maxabs. */
static bl_rgba bl_diverging(float v, float maxabs) {
    float t = maxabs > 0 ? fminf(fabsf(v) / maxabs, 1.0f) : 0;
    uint32_t c = v >= 0 ? 0xe8590c : 0x1c7ed6;
    return BL_RGBA(c, (int)(t * 255 + 0.5f));
}

typedef struct {
    const float *q;           /* the query's vector for this head [d] */
    size_t stride;            /* floats per token in the key rows */
    int l, h, d, qi;          /* layer, head, head size, query token */
    float *sc;                /* [2n]: scaled scores, then softmax */
    float maxqk, maxprod, maxabs_s, pmax;   /* colour scales */
} bl_neuron;

static const float *bl_neuron_key(const bl_render_input *in, const bl_neuron *nv, int j) {
    return in->key[nv->l] + (size_t)j * nv->stride + (size_t)nv->h * nv->d;
}

/* scores q·k/√d over every key, the softmax, and the scales the colours use */
static void bl_neuron_scores(const bl_render_input *in, bl_neuron *nv) {
    int n = in->n, d = nv->d;
    const float *q = nv->q;
    float *sc = nv->sc;
    float mx = -INFINITY, scale = 1.0f / sqrtf((float)d), maxqk = 0, maxprod = 0;
    for (int j = 0; j < n; j++) {
        const float *k = bl_neuron_key(in, nv, j);
        float s = 0;
        for (int c = 0; c < d; c++) {
            s += q[c] * k[c];
            maxqk = fmaxf(maxqk, fabsf(k[c]));
            maxprod = fmaxf(maxprod, fabsf(q[c] * k[c]));
        }
        sc[j] = s * scale;
        mx = fmaxf(mx, sc[j]);
    }
    for (int c = 0; c < d; c++) maxqk = fmaxf(maxqk, fabsf(q[c]));
    float sum = 0, maxabs_s = 0;
    for (int j = 0; j < n; j++) { sc[n + j] = expf(sc[j] - mx); sum += sc[n + j]; maxabs_s = fmaxf(maxabs_s, fabsf(sc[j])); }
    float pmax = 0;
    for (int j = 0; j < n; j++) { sc[n + j] /= sum; pmax = fmaxf(pmax, sc[n + j]); }
    nv->maxqk = maxqk;
    nv->maxprod = maxprod;
    nv->maxabs_s = maxabs_s;
    nv->pmax = pmax;
}

/* Layout in device pixels: a label column, then q/k, q⊙k, score and softmax columns. */
typedef struct {
    int header, colhdr, top, rh, labels, lw, cw, cellh;
    float fs;
    int kx, px, sx, smx;      /* column starts */
    int scw, smw, numw;       /* score and softmax column widths, the score's number */
} bl_neuron_geo;

/* Returns the canvas width, or -1 when the rows cannot fit (error set). */
static int bl_neuron_fit(bl_renderer *r, const bl_render_input *in, const int *idx, int cnt, int d, bl_neuron_geo *g,
                         bl_err *e) {
    float S = r->S;
    int M = bl_margin(r), W = r->cv.w;
    g->header = bl_header_h(r);
    g->fs = 12 * S;
    g->rh = (int)(16 * S);
    g->colhdr = (int)(18 * S);
    g->top = g->header + g->colhdr + g->rh + (int)(8 * S);   /* column titles, the query row, a gap */
    if (cnt > 0 && g->top + cnt * g->rh + M > BL_FB_MAX) g->rh = (BL_FB_MAX - g->header - g->colhdr - M) / (cnt + 1);
    if (g->rh < 1) return bl_fail(e, "render: %d tokens do not fit %d pixels", cnt, BL_FB_MAX);
    g->top = g->header + g->colhdr + g->rh + (int)(8 * S);
    g->labels = g->rh >= 9 * S;
    if (g->fs > g->rh * 0.8f) g->fs = g->rh * 0.8f;
    g->lw = g->labels ? (int)ceilf(fminf(bl_max_label_w(r, in, idx, cnt, g->fs), 110 * S) + 10 * S) : (int)(4 * S);
    int gap = (int)(14 * S);
    g->scw = (int)(110 * S);
    g->smw = (int)(110 * S);
    g->cw = (W - 2 * M - g->lw - 3 * gap - g->scw - g->smw) / (2 * d);
    if (g->cw > (int)(10 * S)) g->cw = (int)(10 * S);
    if (g->cw < 1) g->cw = 1;
    int need = 2 * M + g->lw + 3 * gap + g->scw + g->smw + 2 * d * g->cw;
    if (need > W) W = need;
    g->kx = M + g->lw;
    g->px = g->kx + d * g->cw + gap;
    g->sx = g->px + d * g->cw + gap;
    g->smx = g->sx + g->scw + gap;
    g->numw = (int)(40 * S);
    g->cellh = g->rh > 3 ? g->rh - (int)fmaxf(1, S) : g->rh;
    return W;
}

/* column titles and the query's own row */
static void bl_neuron_query(bl_renderer *r, const bl_render_input *in, const bl_neuron *nv, const bl_neuron_geo *g) {
    float S = r->S, hf = 11 * S;
    int hb = g->header + (int)(12 * S);
    const char *hdr[4] = {"q / k", "q \xe2\x8a\x99 k", "q\u00b7k/\u221ad", "softmax"};
    int hx4[4] = {g->kx, g->px, g->sx, g->smx};
    for (int c = 0; c < 4; c++)
        bl_draw_text(r->font, &r->cv, hdr[c], (int)strlen(hdr[c]), (float)hx4[c], (float)hb, hf, r->th.muted, BL_ALIGN_LEFT, 0);
    int qy = g->header + g->colhdr;
    bl_font_metrics fm = bl_font_metrics_at(r->font, g->fs);
    if (g->labels) {
        const char *t = bl_tok(in, nv->qi);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), g->kx - 6 * S, bl_centred_baseline(qy, g->rh, fm), g->fs,
                     r->th.accent, BL_ALIGN_RIGHT, 110 * S);
    }
    for (int c = 0; c < nv->d; c++)
        bl_fill_rect(&r->cv, g->kx + c * g->cw, qy, g->cw, g->cellh, bl_diverging(nv->q[c], nv->maxqk));
    bl_stroke_rect(&r->cv, g->kx - 1, qy - 1, nv->d * g->cw + 2, g->cellh + 2, 1, r->th.accent);
}

/* Key token j's row at y: k, q⊙k, the score (number and a bar from the column's centre), the
   softmax bar and its value; the row answers hit tests with the softmax weight. */
static void bl_neuron_row(bl_renderer *r, const bl_render_input *in, const bl_neuron *nv, const bl_neuron_geo *g, int j,
                          int y, bl_font_metrics fm) {
    float S = r->S;
    int n = in->n, cw = g->cw, cellh = g->cellh, numw = g->numw;
    const float *k = bl_neuron_key(in, nv, j), *sc = nv->sc;
    for (int c = 0; c < nv->d; c++) {
        bl_fill_rect(&r->cv, g->kx + c * cw, y, cw, cellh, bl_diverging(k[c], nv->maxqk));
        bl_fill_rect(&r->cv, g->px + c * cw, y, cw, cellh, bl_diverging(nv->q[c] * k[c], nv->maxprod));
    }
    int mid = g->sx + numw + (g->scw - numw) / 2;
    int len = nv->maxabs_s > 0 ? (int)lroundf(sc[j] / nv->maxabs_s * ((g->scw - numw) / 2 - 2 * S)) : 0;
    bl_fill_rect(&r->cv, len >= 0 ? mid : mid + len, y + cellh / 4, len >= 0 ? len : -len, cellh / 2 > 0 ? cellh / 2 : 1,
                 bl_diverging(sc[j], nv->maxabs_s));
    int pl = nv->pmax > 0 ? (int)lroundf(sc[n + j] / nv->pmax * (g->smw - 40 * S)) : 0;   /* longest bar = largest weight */
    bl_fill_rect(&r->cv, g->smx, y + cellh / 6, pl, cellh - cellh / 3 > 0 ? cellh - cellh / 3 : 1, bl_head_color(nv->h, 255));
    if (g->labels) {
        float base = bl_centred_baseline(y, g->rh, fm);
        const char *t = bl_tok(in, j);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), g->kx - 6 * S, base, g->fs, j == nv->qi ? r->th.accent : r->th.fg,
                     BL_ALIGN_RIGHT, 110 * S);
        char v[24];
        snprintf(v, sizeof v, "%.2f", sc[j]);
        bl_draw_text(r->font, &r->cv, v, (int)strlen(v), g->sx + numw - 4 * S, base, g->fs * 0.85f, r->th.muted, BL_ALIGN_RIGHT, 0);
        snprintf(v, sizeof v, "%.3f", sc[n + j]);
        bl_draw_text(r->font, &r->cv, v, (int)strlen(v), g->smx + pl + 4 * S, base, g->fs * 0.85f, r->th.muted, BL_ALIGN_LEFT, 0);
    }
}

int bl_view_neuron(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    int M = bl_margin(r), n = in->n, l = o->layer;
    int h = o->head >= 0 ? o->head : 0, d = in->head_dim, qi = o->token >= 0 && o->token < n ? o->token : 0;
    char title[200], sub[240];
    snprintf(title, sizeof title, "Neuron view \xc2\xb7 Layer %d \xc2\xb7 Head %d \xc2\xb7 query: %s (%d)", l, h, bl_tok(in, qi), qi);
    snprintf(sub, sizeof sub, "%sq, k per key token, q\xe2\x8a\x99k, q\xc2\xb7k/\xe2\x88\x9a" "d and softmax \xc2\xb7 "
             "click a token to make it the query \xc2\xb7 0-based", o->head < 0 ? "head 0 (pick one head) \xc2\xb7 " : "");
    if (!in->query || !in->key || !in->query[l] || !in->key[l] || d < 1)
        return bl_message_view(r, title, sub, "Query/key vectors are not available for this model run.", e);
    int *idx = malloc((size_t)n * sizeof *idx), cnt = 0;
    float *sc = malloc((size_t)n * 2 * sizeof *sc);
    if (!idx || !sc) { free(idx); free(sc); return bl_fail(e, "render: out of memory"); }
    for (int j = 0; j < n; j++)
        if (!(o->hide_special && bl_is_special(in->tokens[j]))) idx[cnt++] = j;
    size_t stride = (size_t)in->heads * d;
    bl_neuron nv = {in->query[l] + (size_t)qi * stride + (size_t)h * d, stride, l, h, d, qi, sc, 0, 0, 0, 0};
    bl_neuron_scores(in, &nv);
    bl_neuron_geo g = {0};
    int W = bl_neuron_fit(r, in, idx, cnt, d, &g, e);
    if (W < 0 || bl_canvas_begin(r, W, g.top + cnt * g.rh + M, e)) { free(idx); free(sc); return -1; }
    bl_draw_header(r, title, sub);
    bl_neuron_query(r, in, &nv, &g);
    bl_font_metrics fm = bl_font_metrics_at(r->font, g.fs);
    int hy = bl_hover_dev(r, o->hover_y);
    for (int a = 0; a < cnt; a++) {
        int j = idx[a], y = g.top + a * g.rh;
        if (j == qi || (hy >= y && hy < y + g.rh)) bl_fill_rect(&r->cv, M, y, W - 2 * M, g.rh, r->th.hover);
        bl_neuron_row(r, in, &nv, &g, j, y, fm);
        bl_push_region(r, M, y, W - 2 * M, g.rh, (bl_hit){.kind = 2, .from = j, .to = -1, .layer = l, .head = h, .value = sc[n + j], .side = 1});
    }
    bl_fill_rect(&r->cv, g.sx + g.numw + (g.scw - g.numw) / 2, g.top, 1, cnt * g.rh, r->th.axis);
    free(idx);
    free(sc);
    return 0;
}
