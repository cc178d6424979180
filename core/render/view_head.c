/* view_head.c — the head view (bertviz's): two columns of the same tokens joined by lines
   from token i on the left to token j on the right, opacity = attention A[i][j], one colour
   per head; hover a token (or select it) to isolate its lines. */
#include "render/render_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Beyond these the weakest lines are left out (and the subtitle says so): a count, and the
   pixels a frame rasterises (line lengths along their major axis). A token's lines are drawn
   again on every pointer move onto another token; at 512 tokens its 512 lines can be 10^6
   pixel steps, 25-30 ms in WebAssembly, so a frame keeps to 10^5 (about 5 ms). */
#define BL_HEAD_MAX_LINES 6000
#define BL_HEAD_MAX_STEPS 100000

/* The head view's layout in device pixels; rows (left) and columns (right) are r->rows/r->cols. */
typedef struct {
    int nr, nc, maxn;
    float fs;                 /* label font size */
    int rh, labels;           /* row pitch; labels drawn */
    int header, top;          /* title height; first token row */
    int lw, linew;            /* label column width; width between the columns */
    int x0, lx, rx;           /* left labels, line start, right labels */
    int iso_side, iso;        /* the isolated token (side 0 left, 1 right), -1 none */
    float vinv;               /* value-weighted: 1 / the largest norm shown (opacity = norm · vinv) */
    const float *lmap;        /* value-weighted, all heads: the layer's ‖Σ_h α f_h(x)‖, one colour */
} bl_head_geo;

/* The line i -> j: heads sharing its geometry are composited into one colour ("over", in head
   order) so it is rasterised once, 12× less work for the all-heads view. Exact for fully
   covered pixels; at antialiased edges the difference is below one level of 255. Returns the
   alpha (0 = not drawn) and sets *col. */
static int bl_head_line(const bl_head_geo *g, const bl_render_input *in, const bl_view_opts *o, int i, int j,
                        bl_rgba *col) {
    size_t nn = (size_t)in->n * in->n;
    if (g->lmap) {
        float w = fminf(g->lmap[(size_t)o->layer * nn + (size_t)i * in->n + j] * g->vinv, 1.0f);
        int alpha = (int)(w * 255 + 0.5f);
        if (w < o->threshold || alpha < 3) return 0;
        *col = BL_RGBA(0x4c6ef5, alpha);
        return alpha;
    }
    const size_t base = (size_t)o->layer * in->heads * nn + (size_t)i * in->n + j;
    float cr = 0, cg = 0, cb = 0, ca = 0;   /* premultiplied */
    for (int h = 0; h < in->heads; h++) {
        if (o->head >= 0 && h != o->head) continue;
        float w = bl_attk(in, base + (size_t)h * nn) * g->vinv;
        if (w < o->threshold || w * 255 < 2.5f) continue;   /* invisible on its own */
        float al = fminf(w, 1.0f);
        uint32_t c = BL_HEAD_COLORS[h % 20];
        cr = (c >> 16) / 255.0f * al + cr * (1 - al);
        cg = ((c >> 8) & 255) / 255.0f * al + cg * (1 - al);
        cb = (c & 255) / 255.0f * al + cb * (1 - al);
        ca = al + ca * (1 - al);
    }
    int alpha = (int)(ca * 255 + 0.5f);
    if (alpha < 3) return 0;
    *col = (bl_rgba)(cr / ca * 255 + 0.5f) << 24 | (bl_rgba)(cg / ca * 255 + 0.5f) << 16 |
           (bl_rgba)(cb / ca * 255 + 0.5f) << 8 | (bl_rgba)alpha;
    return alpha;
}

/* Rows shrink to fit BL_FB_MAX, labels go below ~9 px, the line band is 80..360 CSS px.
   Returns the canvas width (wider than asked when the view needs it), or -1 (error set). */
static int bl_head_fit(bl_renderer *r, const bl_render_input *in, bl_head_geo *g, bl_err *e) {
    float S = r->S;
    int M = bl_margin(r), W = r->cv.w;
    g->header = bl_header_h(r);
    int swrow = (int)(12 * S) + (int)(12 * S);   /* the head swatches */
    g->maxn = g->nr > g->nc ? g->nr : g->nc;
    g->fs = 12 * S;
    g->rh = (int)(20 * S);
    g->top = g->header + swrow;
    if (g->maxn > 0 && g->top + g->maxn * g->rh + M > BL_FB_MAX) g->rh = (BL_FB_MAX - g->top - M) / g->maxn;
    if (g->rh < 1) return bl_fail(e, "render: %d tokens do not fit %d pixels", g->maxn, BL_FB_MAX);
    g->labels = g->rh >= 9 * S;
    if (g->fs > g->rh * 0.75f) g->fs = g->rh * 0.75f;
    float lwf = g->labels ? fmaxf(bl_max_label_w(r, in, r->rows, g->nr, g->fs), bl_max_label_w(r, in, r->cols, g->nc, g->fs)) : 0;
    g->lw = g->labels ? (int)ceilf(fminf(lwf, 140 * S) + 12 * S) : (int)(6 * S);
    g->linew = W - 2 * M - 2 * g->lw;
    if (g->linew > (int)(360 * S)) g->linew = (int)(360 * S);
    if (g->linew < (int)(80 * S)) { g->linew = (int)(80 * S); W = 2 * M + 2 * g->lw + g->linew; }
    g->x0 = (W - (2 * g->lw + g->linew)) / 2;
    g->lx = g->x0 + g->lw;
    g->rx = g->lx + g->linew;
    return W;
}

/* Head swatches under the title: click to select a head (kind 3). */
static void bl_head_swatches(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const bl_head_geo *g) {
    float S = r->S;
    int M = bl_margin(r), sw = (int)(12 * S), sgap = (int)(4 * S);
    for (int h = 0; h < in->heads; h++) {
        int sx = M + h * (sw + sgap), sy = g->header;
        int on = o->head < 0 || o->head == h;
        bl_fill_rect(&r->cv, sx, sy, sw, sw, bl_head_color(h, on ? 255 : 70));
        if (o->head == h) bl_stroke_rect(&r->cv, sx - 2, sy - 2, sw + 4, sw + 4, 1, r->th.fg);
        bl_push_region(r, sx, sy, sw, sw, (bl_hit){.kind = 3, .layer = o->layer, .head = h, .from = -1, .to = -1});
    }
}

/* Which token is isolated: hover wins over the selected token. */
static void bl_head_isolation(const bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_head_geo *g) {
    int hx = bl_hover_dev(r, o->hover_x), hy = bl_hover_dev(r, o->hover_y);
    g->iso_side = g->iso = -1;
    if (hy >= g->top && hy < g->top + g->maxn * g->rh) {
        int a = (hy - g->top) / g->rh;
        if (hx >= g->x0 && hx < g->lx && a < g->nr) { g->iso_side = 0; g->iso = r->rows[a]; }
        else if (hx >= g->rx && hx < g->rx + g->lw && a < g->nc) { g->iso_side = 1; g->iso = r->cols[a]; }
    }
    if (g->iso < 0 && o->token >= 0 && o->token < in->n) { g->iso_side = 0; g->iso = o->token; }
}

/* The line layer is cached: pointer moves that do not change the isolated token (most of
   them) then cost a copy. Key: everything the layer depends on, plus a strided sample of this
   layer's attention (a new forward pass changes it). */
static uint64_t bl_head_key(const bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const bl_head_geo *g) {
    uint64_t key = BL_FNV_BASIS;
    int geo[11] = {in->n, in->heads, o->layer, o->head, g->iso_side, g->iso, g->nr, g->nc, g->rh, g->rx - g->lx, r->vw};
    for (int k = 0; k < 11; k++) key = bl_fnv(key, (uint32_t)geo[k]);
    for (int k = 0; k < g->nr; k++) key = bl_fnv(key, (uint64_t)r->rows[k]);
    for (int k = 0; k < g->nc; k++) key = bl_fnv(key, (uint64_t)r->cols[k] << 16);
    uint32_t bits[3];
    memcpy(&bits[0], &o->threshold, 4);
    memcpy(&bits[1], &r->S, 4);
    bits[2] = r->th.bg;
    for (int k = 0; k < 3; k++) key = bl_fnv(key, bits[k]);
    size_t cnt = (size_t)in->heads * in->n * in->n;
    return bl_fnv_maps(key, in, (size_t)o->layer * cnt, cnt);
}

/* Which lines a frame draws: every line of alpha above `cut`; of those at `cut`, in drawing
   order, while `lines` and `steps` last (so equal lines, as on a near-uniform head, are
   thinned rather than all dropped). */
typedef struct {
    int cut, lines;
    long steps;
} bl_head_budget;

/* Pixel steps of the line from row a to column b: its length along the major axis. */
static long bl_head_steps(const bl_head_geo *g, int a, int b) {
    long d = labs((long)(a - b)) * g->rh, lw = g->rx - g->lx;
    return (d > lw ? d : lw) + 1;
}

static int bl_head_take(bl_head_budget *u, int alpha, long steps) {
    if (alpha > u->cut) return 1;
    if (alpha < u->cut || u->lines <= 0 || u->steps < steps) return 0;
    u->lines--;
    u->steps -= steps;
    return 1;
}

/* The candidate lines (those visible on their own, alpha >= 3): with `take` NULL, their
   alphas' histogram and the pixel steps per alpha; else how many of them bl_head_take lets
   through. Returns how many lines it counted. */
static int bl_head_scan(const bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const bl_head_geo *g,
                        int *hist, long *hsteps, bl_head_budget *take) {
    int count = 0;
    for (int a = 0; a < g->nr; a++) {
        if (g->iso_side == 0 && r->rows[a] != g->iso) continue;
        for (int b = 0; b < g->nc; b++) {
            if (g->iso_side == 1 && r->cols[b] != g->iso) continue;
            bl_rgba c;
            int al = bl_head_line(g, in, o, r->rows[a], r->cols[b], &c);
            if (al < 3) continue;
            if (take) { count += bl_head_take(take, al, bl_head_steps(g, a, b)); continue; }
            hist[al]++;
            hsteps[al] += bl_head_steps(g, a, b);
            count++;
        }
    }
    return count;
}

/* Line budget: long inputs have n² candidate lines; keep the strongest within
   BL_HEAD_MAX_LINES and BL_HEAD_MAX_STEPS (histograms of their alphas and lengths give the
   cut), so n = 512 stays interactive. *kept and *total count lines. */
static bl_head_budget bl_head_plan(const bl_renderer *r, const bl_render_input *in, const bl_view_opts *o,
                                   const bl_head_geo *g, int *kept, int *total) {
    int hist[256] = {0};
    long hsteps[256] = {0};
    *kept = *total = bl_head_scan(r, in, o, g, hist, hsteps, NULL);
    bl_head_budget u = {0, BL_HEAD_MAX_LINES, BL_HEAD_MAX_STEPS};
    int cut = 255;
    for (; cut >= 3 && hist[cut] <= u.lines && hsteps[cut] <= u.steps; cut--) {
        u.lines -= hist[cut];
        u.steps -= hsteps[cut];
    }
    if (cut < 3) return u;   /* everything fits: cut 0 lets every candidate through */
    u.cut = cut;             /* alpha `cut` fits only in part: count what bl_head_take lets through */
    bl_head_budget t = u;
    *kept = bl_head_scan(r, in, o, g, NULL, NULL, &t);
    return u;
}

/* Token labels on both sides with their highlight; each answers hit tests (kind 2). */
static void bl_head_labels(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const bl_head_geo *g) {
    float S = r->S;
    bl_font_metrics fm = bl_font_metrics_at(r->font, g->fs);
    for (int side = 0; side < 2; side++) {
        const int *idx = side ? r->cols : r->rows;
        int cnt = side ? g->nc : g->nr;
        for (int a = 0; a < cnt; a++) {
            int y = g->top + a * g->rh, i = idx[a];
            int hl = g->iso_side == side && g->iso == i;
            int bxl = side ? g->rx : g->x0;
            if (hl) bl_fill_rect(&r->cv, bxl, y, g->lw, g->rh, r->th.hover);
            if (g->labels) {
                const char *t = bl_tok(in, i);
                float base = bl_centred_baseline(y, g->rh, fm);
                bl_rgba col = hl ? r->th.accent : r->th.fg;
                if (side) bl_draw_text(r->font, &r->cv, t, (int)strlen(t), g->rx + 8 * S, base, g->fs, col, BL_ALIGN_LEFT, 140 * S);
                else bl_draw_text(r->font, &r->cv, t, (int)strlen(t), g->lx - 8 * S, base, g->fs, col, BL_ALIGN_RIGHT, 140 * S);
            }
            bl_push_region(r, bxl, y, g->lw, g->rh, (bl_hit){.kind = 2, .from = i, .to = -1, .layer = o->layer, .head = o->head, .side = side});
        }
    }
}

/* Lines, heads in order, opacity = weight, the lines the budget u lets through: into the
   transposed layer tc (token axis contiguous in memory, LW = its height), or with tc NULL
   straight into the framebuffer's band. */
static void bl_head_draw_lines(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o,
                               const bl_head_geo *g, bl_canvas *tc, bl_head_budget u) {
    float S = r->S, t = fmaxf(1.0f, 1.5f * S);
    int LW = g->rx - g->lx, rh = g->rh;
    for (int a = 0; a < g->nr; a++) {
        int i = r->rows[a];
        if (g->iso_side == 0 && i != g->iso) continue;
        float ya = a * rh + rh * 0.5f;
        for (int b = 0; b < g->nc; b++) {
            int j = r->cols[b];
            if (g->iso_side == 1 && j != g->iso) continue;
            bl_rgba col;
            int al = bl_head_line(g, in, o, i, j, &col);
            if (al < 3 || !bl_head_take(&u, al, bl_head_steps(g, a, b))) continue;
            float yb = b * rh + rh * 0.5f;
            if (tc) bl_draw_line(tc, ya, 2 * S, yb, LW - 2 * S, t, col);   /* (token axis, line axis) */
            else bl_draw_line(&r->cv, g->lx + 2 * S, g->top + ya, g->lx + LW - 2 * S, g->top + yb, t, col);
        }
    }
}

/* Blocked transpose of the line layer (AH x LW, token axis contiguous) into the framebuffer
   at (x, y). */
static void bl_head_blit(bl_renderer *r, const uint8_t *lbuf, int LW, int AH, int x, int y) {
    for (int X0 = 0; X0 < LW; X0 += 32)
        for (int Y0 = 0; Y0 < AH; Y0 += 32)
            for (int X = X0; X < X0 + 32 && X < LW; X++)
                for (int Y = Y0; Y < Y0 + 32 && Y < AH; Y++)
                    memcpy(r->cv.px + ((size_t)(y + Y) * r->cv.w + x + X) * 4, lbuf + ((size_t)X * AH + Y) * 4, 4);
}

int bl_view_head(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    int n = in->n, l = o->layer, M = bl_margin(r);
    bl_head_geo g = {0};
    if (bl_index_lists(r, (size_t)n)) return bl_fail(e, "render: out of memory");
    bl_select_tokens(in, o, r->rows, &g.nr, r->cols, &g.nc);   /* same token selection as the heatmap */
    char title[96], sub[200];
    if (o->head >= 0) snprintf(title, sizeof title, "Head view \xc2\xb7 Layer %d \xc2\xb7 Head %d", l, o->head);
    else snprintf(title, sizeof title, "Head view \xc2\xb7 Layer %d \xc2\xb7 all %d heads", l, in->heads);
    snprintf(sub, sizeof sub, "line opacity = attention weight, colour = head \xc2\xb7 hover a token to isolate its lines "
             "\xc2\xb7 0-based");
    g.vinv = 1;
    if (r->vw) {   /* norms: opacity relative to the largest shown, per head or of the layer's sum */
        const size_t nn = (size_t)n * n;
        g.lmap = o->head < 0 ? in->norms_layer : NULL;
        float vmax = o->vmax;
        for (int h = 0; h < in->heads && !(o->vmax > 0); h++) {
            if (o->head >= 0 && h != o->head) continue;
            const float *m = g.lmap ? g.lmap + (size_t)l * nn : in->attn + ((size_t)l * in->heads + h) * nn;
            for (int a = 0; a < g.nr; a++)
                for (int b = 0; b < g.nc; b++) vmax = fmaxf(vmax, m[(size_t)r->rows[a] * n + r->cols[b]]);
            if (g.lmap) break;
        }
        g.vinv = vmax > 0 ? 1.0f / vmax : 1.0f;
        if (o->head >= 0) snprintf(title, sizeof title, "Head view \xc2\xb7 Layer %d \xc2\xb7 Head %d \xc2\xb7 \xe2\x80\x96\xce\xb1" "f(x)\xe2\x80\x96", l, o->head);
        else snprintf(title, sizeof title, "Head view \xc2\xb7 Layer %d \xc2\xb7 \xe2\x80\x96\xce\xa3 \xce\xb1" "f(x)\xe2\x80\x96", l);
        snprintf(sub, sizeof sub, "line opacity = value-weighted \xe2\x80\x96\xce\xb1" "f(x)\xe2\x80\x96 / %.3g (its largest shown) "
                 "\xc2\xb7 hover a token to isolate its lines \xc2\xb7 0-based", (double)vmax);
    }
    int W = bl_head_fit(r, in, &g, e);
    if (W < 0) return -1;
    if (bl_canvas_begin(r, W, g.top + g.maxn * g.rh + M, e)) return -1;
    bl_head_swatches(r, in, o, &g);
    bl_head_isolation(r, in, o, &g);

    int LW = g.rx - g.lx, AH = g.maxn * g.rh, kept, total;
    uint64_t key = bl_head_key(r, in, o, &g);
    bl_line_layer *ly = &r->lines;
    /* recording (SVG) draws the lines again so that they are recorded; one token's lines (at
       most n, within the budget) are drawn straight into the frame, every frame */
    int cached = g.iso < 0 && ly->valid && ly->key == key && ly->cap >= (size_t)LW * AH * 4 && !r->rec;
    bl_head_budget u = {0};
    if (cached) { kept = ly->kept; total = ly->total; }
    else u = bl_head_plan(r, in, o, &g, &kept, &total);
    if (kept < total) {
        size_t k = strlen(sub);
        snprintf(sub + k, sizeof sub - k, " \xc2\xb7 strongest %d of %d lines", kept, total);
    }
    bl_draw_header(r, title, sub);
    bl_head_labels(r, in, o, &g);
    if (g.iso >= 0) {   /* cheaper than clearing and copying back a layer of the whole band */
        if (LW > 0 && AH > 0) bl_head_draw_lines(r, in, o, &g, NULL, u);
        return 0;
    }
    /* All lines are drawn into a transposed layer, kept, and copied back: they are mostly
       steep, and walking n² steep lines down a row-major framebuffer misses the cache on
       every pixel. */
    if (LW > 0 && AH > 0) {
        size_t need = (size_t)LW * AH * 4;
        if (need > ly->cap) {
            ly->valid = 0;
            uint8_t *p = realloc(ly->px, need);
            if (!p) return bl_fail(e, "render: out of memory");
            ly->px = p;
            ly->cap = need;
        }
        bl_canvas tc = {ly->px, AH, LW, r->rec, 1, g.lx, g.top};
        if (!cached) {
            bl_fill_rect(&tc, 0, 0, AH, LW, r->th.bg);
            bl_head_draw_lines(r, in, o, &g, &tc, u);
        }
        ly->key = key;
        ly->valid = 1;
        ly->kept = kept;
        ly->total = total;
        bl_head_blit(r, ly->px, LW, AH, g.lx, g.top);
    }
    return 0;
}
