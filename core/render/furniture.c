/* furniture.c — what the views share: titles, messages, the colour bar, head colours, and
   which tokens a view shows (hide [CLS]/[SEP], the sentence-pair filter) and their labels. */
#include "render/render_internal.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

int bl_is_special(const char *t) {
    return t && (!strcmp(t, "[CLS]") || !strcmp(t, "[SEP]") || !strcmp(t, "[PAD]"));
}

int bl_margin(const bl_renderer *r) { return (int)lroundf(16 * r->S); }

int bl_hover_dev(const bl_renderer *r, int css) { return css >= 0 ? (int)(css * r->S) : -1; }

/* ---------------------------------------------------------------- titles and messages */
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

/* ---------------------------------------------------------------- colours */
bl_rgba bl_cmap_rgba(int cmap, float v) {
    uint8_t c[3];
    bl_colormap(cmap, v, c);
    return (bl_rgba)c[0] << 24 | (bl_rgba)c[1] << 16 | (bl_rgba)c[2] << 8 | 255u;
}

/* d3.schemeCategory10 followed by its lighter Category20 partners: bertviz's head colours. */
const uint32_t BL_HEAD_COLORS[20] = {
    0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf,
    0xaec7e8, 0xffbb78, 0x98df8a, 0xff9896, 0xc5b0d5, 0xc49c94, 0xf7b6d2, 0xc7c7c7, 0xdbdb8d, 0x9edae5};

bl_rgba bl_head_color(int h, int a) { return BL_RGBA(BL_HEAD_COLORS[h % 20], a); }

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

void bl_colour_bar(bl_renderer *r, int cmap, int x, int y, int w, int h, float vmax, int tick_len, float tick_fs) {
    float S = r->S;
    for (int k = 0; k < h; k++) {
        float v = 1.0f - (k + 0.5f) / h;
        bl_fill_rect(&r->cv, x, y + k, w, 1, bl_cmap_rgba(cmap, v));
    }
    bl_stroke_rect(&r->cv, x - 1, y - 1, w + 2, h + 2, 1, r->th.axis);
    bl_font_metrics km = bl_font_metrics_at(r->font, tick_fs);
    float step = bl_nice_step(vmax, h > 200 * S ? 6 : 4);
    int dec = bl_step_decimals(step);
    for (int k = 0; k * step <= vmax * 1.0001f; k++) {
        float v = k * step;
        int ty = y + (int)lroundf((1.0f - v / vmax) * (h - 1));
        bl_fill_rect(&r->cv, x + w, ty, tick_len, S >= 2 ? 2 : 1, r->th.muted);
        char t[16];
        snprintf(t, sizeof t, "%.*f", dec, v);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), (float)(x + w + tick_len + 3 * S),
                     ty + (km.ascent - km.descent) * 0.5f, tick_fs, r->th.muted, BL_ALIGN_LEFT, 0);
    }
}

/* ---------------------------------------------------------------- tokens */
void bl_select_tokens(const bl_render_input *in, const bl_view_opts *o, int *rows, int *nr, int *cols, int *nc) {
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

void bl_filter_note(const bl_view_opts *o, char *buf, size_t cap) {
    size_t k = strlen(buf);
    if (o->pair_filter != BL_PAIR_ALL && k < cap)
        k += (size_t)snprintf(buf + k, cap - k, " \xc2\xb7 %s only", bl_pair_name(o->pair_filter));
    if (o->hide_special && k < cap) k += (size_t)snprintf(buf + k, cap - k, " \xc2\xb7 [CLS]/[SEP] hidden");
    if (o->threshold > 0 && k < cap) k += (size_t)snprintf(buf + k, cap - k, " \xc2\xb7 below %.2f drawn as 0", o->threshold);
    if (o->words && k < cap) snprintf(buf + k, cap - k, " \xc2\xb7 words (pieces merged)");
}

float bl_max_label_w(bl_renderer *r, const bl_render_input *in, const int *idx, int cnt, float fs) {
    float w = 0;
    for (int a = 0; a < cnt; a++) {
        const char *t = bl_tok(in, idx ? idx[a] : a);
        w = fmaxf(w, bl_text_width(r->font, t, (int)strlen(t), fs));
    }
    return w;
}

/* Signed values (compare mode): orange for positive, blue for negative, mixed into the
   background by |v| / maxabs, opaque (so the text colour on it can be chosen). */
bl_rgba bl_diverging_on(bl_rgba bg, float v, float maxabs) {
    float t = maxabs > 0 ? fminf(fabsf(v) / maxabs, 1.0f) : 0;
    uint32_t c = v >= 0 ? 0xe8590c : 0x1c7ed6;
    int out[3];
    for (int k = 0; k < 3; k++) {
        int cb = (int)((bg >> (24 - 8 * k)) & 255), cc = (int)((c >> (16 - 8 * k)) & 255);
        out[k] = (int)lroundf(cb + (cc - cb) * t);
    }
    return (bl_rgba)out[0] << 24 | (bl_rgba)out[1] << 16 | (bl_rgba)out[2] << 8 | 255u;
}

/* Colour bar for signed values: +vmax at the top, 0 in the middle, -vmax at the bottom. */
void bl_colour_bar_div(bl_renderer *r, int x, int y, int w, int h, float vmax, int tick_len, float tick_fs) {
    float S = r->S;
    for (int k = 0; k < h; k++) bl_fill_rect(&r->cv, x, y + k, w, 1, bl_diverging_on(r->th.bg, vmax * (1.0f - 2.0f * (k + 0.5f) / h), vmax));
    bl_stroke_rect(&r->cv, x - 1, y - 1, w + 2, h + 2, 1, r->th.axis);
    bl_font_metrics km = bl_font_metrics_at(r->font, tick_fs);
    const float ticks[3] = {vmax, 0, -vmax};
    for (int k = 0; k < 3; k++) {
        int ty = y + (int)lroundf((0.5f - 0.5f * ticks[k] / vmax) * (h - 1));
        bl_fill_rect(&r->cv, x + w, ty, tick_len, S >= 2 ? 2 : 1, r->th.muted);
        char t[24];
        snprintf(t, sizeof t, "%+.2f", ticks[k]);
        if (k == 1) snprintf(t, sizeof t, "0");
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), (float)(x + w + tick_len + 3 * S), ty + (km.ascent - km.descent) * 0.5f,
                     tick_fs, r->th.muted, BL_ALIGN_LEFT, 0);
    }
}
