/* view_task.c — the task head's prediction: what the fine-tuned classifier says about the text.
     token classification (NER): each token with its best label and that label's probability
       under it, coloured by label, the tokens wrapping like a sentence;
     ELECTRA discriminator: each token with its "replaced" probability under it, a bar whose
       colour deepens with it;
     sequence classification: the sentence, then every label's probability as a bar.
   Labels are config.id2label's strings: drawn as canvas text like tokens, never markup. Every
   token cell and bar is a BL_HIT_LABEL hit (from = token or -1, to = label, value = probability). */
#include "render/render_internal.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    float fs, cell_max;
    int pad, gap, tok_h, lab_h, cell_h;   /* a token cell: the token, its label, its probability */
} bl_task_geo;

static const char *bl_label(const bl_render_input *in, int j) {
    const char *l = in->labels && j >= 0 && j < in->n_labels ? in->labels[j] : NULL;
    return l ? l : "?";
}

/* best label of token row i (TOKEN/DISC) */
static int bl_best(const bl_render_input *in, int i) {
    const float *p = in->head_p + (size_t)i * in->n_labels;
    int b = 0;
    for (int j = 1; j < in->n_labels; j++) b = p[j] > p[b] ? j : b;
    return b;
}

static void bl_pct(char *buf, size_t cap, float p) { snprintf(buf, cap, "%.0f%%", (double)fminf(fmaxf(p, 0), 1) * 100); }

/* width of token i's cell: its token, label and percentage side by side would not fit, so
   the widest of the three */
static int bl_cell_w(bl_renderer *r, const bl_render_input *in, const bl_task_geo *g, int i, int per_token) {
    const char *t = bl_tok(in, i);
    float w = bl_text_width(r->font, t, (int)strlen(t), g->fs);
    if (per_token) {
        const char *l = in->head == BL_HEAD_DISC ? "replaced" : bl_label(in, bl_best(in, i));
        w = fmaxf(w, bl_text_width(r->font, l, (int)strlen(l), g->fs * 0.9f));
        w = fmaxf(w, bl_text_width(r->font, "100%", 4, g->fs * 0.9f));
    }
    return (int)ceilf(fminf(w, g->cell_max)) + 2 * g->pad;
}

/* Lays out (draw = 0: only measures) the token cells from y0; returns the height used. */
static int bl_task_tokens(bl_renderer *r, const bl_render_input *in, const bl_task_geo *g, int y0, int per_token, int draw,
                          int hx, int hy) {
    const int M = bl_margin(r), W = r->cv.w, ch = per_token ? g->cell_h : g->tok_h;
    bl_font_metrics fm = bl_font_metrics_at(r->font, g->fs), fl = bl_font_metrics_at(r->font, g->fs * 0.9f);
    int x = M, y = y0;
    for (int i = 0; i < in->n; i++) {
        const int cw = bl_cell_w(r, in, g, i, per_token);
        if (x + cw > W - M && x > M) { x = M; y += ch + g->gap; }
        if (draw) {
            const char *t = bl_tok(in, i);
            const int hov = hx >= x && hx < x + cw && hy >= y && hy < y + ch;
            bl_fill_rect(&r->cv, x, y, cw, g->tok_h, hov ? r->th.hover : r->th.panel);
            if (hov) bl_stroke_rect(&r->cv, x, y, cw, ch, 1, r->th.accent);
            bl_draw_text(r->font, &r->cv, t, (int)strlen(t), (float)(x + g->pad), bl_centred_baseline(y, g->tok_h, fm), g->fs,
                         bl_is_special(t) ? r->th.muted : r->th.fg, BL_ALIGN_LEFT, g->cell_max);
            bl_hit hit = {.kind = BL_HIT_LABEL, .from = i, .to = -1, .layer = -1, .head = -1, .side = 0};
            if (per_token) {
                const int b = bl_best(in, i);
                const float p = in->head_p[(size_t)i * in->n_labels + b];
                const int ly = y + g->tok_h;
                char pct[16];
                bl_pct(pct, sizeof pct, p);
                if (in->head == BL_HEAD_DISC) {   /* one sigmoid: the bar's depth is the score */
                    bl_fill_rect(&r->cv, x, ly, cw, g->lab_h, bl_head_color(3, (int)lroundf(40 + 215 * fminf(fmaxf(p, 0), 1))));
                    bl_draw_text(r->font, &r->cv, "replaced", 8, (float)(x + g->pad), bl_centred_baseline(ly, g->lab_h, fl),
                                 g->fs * 0.9f, p >= 0.5f ? r->th.bg : r->th.muted, BL_ALIGN_LEFT, g->cell_max);
                } else {
                    const char *l = bl_label(in, b);
                    bl_fill_rect(&r->cv, x, ly, cw, g->lab_h, bl_head_color(b, 230));
                    bl_draw_text(r->font, &r->cv, l, (int)strlen(l), (float)(x + g->pad), bl_centred_baseline(ly, g->lab_h, fl),
                                 g->fs * 0.9f, BL_RGB(0xffffff), BL_ALIGN_LEFT, g->cell_max);
                }
                bl_draw_text(r->font, &r->cv, pct, (int)strlen(pct), (float)(x + g->pad),
                             bl_centred_baseline(ly + g->lab_h, g->lab_h, fl), g->fs * 0.9f, r->th.muted, BL_ALIGN_LEFT, 0);
                hit.to = b;
                hit.value = p;
            }
            bl_push_region(r, x, y, cw, ch, hit);
        }
        x += cw + g->gap;
    }
    return y + ch + g->gap - y0;
}

int bl_view_task(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    const float S = r->S;
    const char *title = in->head == BL_HEAD_TOKEN ? "Prediction \xc2\xb7 each token's label"
                        : in->head == BL_HEAD_DISC ? "Prediction \xc2\xb7 ELECTRA discriminator: was the token replaced?"
                        : "Prediction \xc2\xb7 the text's label";
    const char *sub = in->head == BL_HEAD_SEQ ? "probability of every label (the classifier on the first token)"
                      : in->head == BL_HEAD_DISC ? "probability that each token was replaced \xc2\xb7 hover for its value"
                      : "best label and its probability under each token, coloured by label";
    if (in->head == BL_HEAD_NONE || in->n_labels < 1 || !in->head_p)
        return bl_message_view(r, "Prediction", "the task head's output",
                               "This model has no task head (token or sequence classifier, ELECTRA discriminator).", e);
    bl_task_geo g = {0};
    g.fs = 12 * S;
    g.cell_max = 160 * S;
    g.pad = (int)(6 * S);
    g.gap = (int)(5 * S);
    g.tok_h = (int)(22 * S);
    g.lab_h = (int)(18 * S);
    g.cell_h = g.tok_h + 2 * g.lab_h;
    const int per_token = in->head != BL_HEAD_SEQ, M = bl_margin(r), W = r->cv.w, header = bl_header_h(r);
    const int tokens_h = bl_task_tokens(r, in, &g, header, per_token, 0, -1, -1);
    const int rowh = (int)(22 * S), bars_h = per_token ? 0 : (int)(12 * S) + in->n_labels * rowh;
    const int H = header + tokens_h + bars_h + M;
    if (H > BL_FB_MAX) return bl_fail(e, "render: the prediction view needs %d px of height; the limit is %d", H, BL_FB_MAX);
    if (bl_canvas_begin(r, W, H, e)) return -1;
    bl_draw_header(r, title, sub);
    const int hx = bl_hover_dev(r, o->hover_x), hy = bl_hover_dev(r, o->hover_y);
    bl_task_tokens(r, in, &g, header, per_token, 1, hx, hy);
    if (per_token) return 0;
    /* sequence classification: one bar per label, the best in its colour, the rest muted */
    bl_font_metrics fm = bl_font_metrics_at(r->font, g.fs);
    const int labw = (int)(140 * S), pctw = (int)(56 * S), y0 = header + tokens_h + (int)(12 * S);
    int barw = W - 2 * M - labw - pctw;
    if (barw < (int)(40 * S)) barw = (int)(40 * S);
    int best = 0;
    for (int j = 1; j < in->n_labels; j++) best = in->head_p[j] > in->head_p[best] ? j : best;
    for (int j = 0; j < in->n_labels; j++) {
        const int y = y0 + j * rowh;
        const float p = in->head_p[j];
        const char *l = bl_label(in, j);
        char pct[16];
        snprintf(pct, sizeof pct, "%.1f%%", (double)fminf(fmaxf(p, 0), 1) * 100);
        if (hx >= M && hx < M + labw + barw + pctw && hy >= y && hy < y + rowh) bl_fill_rect(&r->cv, M, y, labw + barw + pctw, rowh, r->th.hover);
        const float base = bl_centred_baseline(y, rowh, fm);
        bl_draw_text(r->font, &r->cv, l, (int)strlen(l), (float)(M + labw - 8 * S), base, g.fs, j == best ? r->th.fg : r->th.muted,
                     BL_ALIGN_RIGHT, labw - 10 * S);
        bl_fill_rect(&r->cv, M + labw, y + rowh / 5, barw, rowh - 2 * (rowh / 5), r->th.panel);
        bl_fill_rect(&r->cv, M + labw, y + rowh / 5, (int)lroundf(fminf(fmaxf(p, 0), 1) * barw), rowh - 2 * (rowh / 5),
                     bl_head_color(j, j == best ? 255 : 150));
        bl_draw_text(r->font, &r->cv, pct, (int)strlen(pct), (float)(M + labw + barw + 6 * S), base, g.fs * 0.9f, r->th.muted,
                     BL_ALIGN_LEFT, 0);
        bl_push_region(r, M, y, labw + barw + pctw, rowh,
                       (bl_hit){.kind = BL_HIT_LABEL, .from = -1, .to = j, .layer = -1, .head = -1, .value = p});
    }
    return 0;
}
