/* render_views.c — head view, neuron view, attention flow and masked-LM views, plus the
   rollout/flow computations (Abnar & Zuidema 2020, "Quantifying Attention Flow in
   Transformers").

   What is computed:
   - Residual-aware attention per layer: A'_l = 0.5·mean_heads(A_l) + 0.5·I, rows renormalised.
   - Rollout through layer L: R = A'_L · A'_{L-1} ⋯ A'_0. Row i says how much each input token
     contributes to token i's representation after layer L.
   - Flow: the layered graph has a node per (level, token), level 0 = inputs and level l+1 =
     the output of layer l; the edge (l, j) → (l+1, i) has capacity A'_l[i][j]. The flow of
     input token j is the maximum flow from (0, j) to ([CLS] at the top level), computed exactly
     with Dinic's algorithm (dense residual graph, float capacities). That is n max-flow
     problems on (L+2)·n nodes and L·n² edges, so it runs for n <= BL_FLOW_MAX_N (64); above
     that the view shows rollout's [CLS] row instead and its title says so. The result is
     cached and recomputed only when the attention (hashed) or the layer changes, so hover
     re-renders cost nothing extra. */
#include "render/render_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* d3.schemeCategory10 followed by its lighter Category20 partners: bertviz's head colours. */
static const uint32_t BL_HEAD_COLORS[20] = {
    0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf,
    0xaec7e8, 0xffbb78, 0x98df8a, 0xff9896, 0xc5b0d5, 0xc49c94, 0xf7b6d2, 0xc7c7c7, 0xdbdb8d, 0x9edae5};

static bl_rgba bl_head_color(int h, int a) { return BL_RGBA(BL_HEAD_COLORS[h % 20], a); }

static const char *bl_tok(const bl_render_input *in, int i) { return in->tokens[i] ? in->tokens[i] : ""; }

static float bl_maxw(bl_renderer *r, const bl_render_input *in, const int *idx, int cnt, float fs) {
    float w = 0;
    for (int a = 0; a < cnt; a++) {
        const char *t = bl_tok(in, idx ? idx[a] : a);
        w = fmaxf(w, bl_text_width(r->font, t, (int)strlen(t), fs));
    }
    return w;
}

static int bl_hover_dev(const bl_renderer *r, int css) { return css >= 0 ? (int)(css * r->S) : -1; }

/* ---------------------------------------------------------------- rollout and flow */
/* A'_l into out[n*n] */
static void bl_residual_attn(const bl_render_input *in, int l, float *out) {
    int n = in->n;
    size_t nn = (size_t)n * n;
    const size_t base = (size_t)l * in->heads * nn;
    for (size_t k = 0; k < nn; k++) out[k] = 0;
    for (int h = 0; h < in->heads; h++)
        for (size_t k = 0; k < nn; k++) out[k] += bl_attk(in, base + (size_t)h * nn + k);
    for (int i = 0; i < n; i++) {
        float *row = out + (size_t)i * n, s = 0;
        for (int j = 0; j < n; j++) {
            row[j] = 0.5f * row[j] / in->heads + (i == j ? 0.5f : 0.0f);
            s += row[j];
        }
        if (s > 0)
            for (int j = 0; j < n; j++) row[j] /= s;
    }
}

/* FNV-1a over 32-bit words: a cache key for "same attention as last time". */
static uint64_t bl_hash_floats(uint64_t h, const float *p, size_t cnt) {
    for (size_t k = 0; k < cnt; k++) {
        uint32_t w;
        memcpy(&w, p + k, 4);
        h = (h ^ w) * 1099511628211ull;
    }
    return h;
}

/* The rollout product is O(n³·L) (about a second for n = 512 and 12 layers), so it is cached:
   pass 1 builds each A'_l (cheap, O(n²·H·L)) only to hash it; pass 2, on a miss, multiplies. */
int bl_rollout(bl_renderer *r, const bl_render_input *in, int upto, float *out) {
    int n = in->n;
    size_t nn = (size_t)n * n;
    float *s = bl_scratch(r, 2 * nn);
    if (!s) return -1;
    float *a = s, *tmp = s + nn;
    uint64_t key = 1469598103934665603ull ^ ((uint64_t)n << 32) ^ (uint64_t)upto;
    for (int l = 0; l <= upto; l++) {
        bl_residual_attn(in, l, a);
        key = bl_hash_floats(key, a, nn);
    }
    if (r->roll_valid && r->roll_key == key && r->roll_cap >= nn) {
        memcpy(out, r->roll, nn * sizeof *out);
        return 0;
    }
    bl_residual_attn(in, 0, out);
    for (int l = 1; l <= upto; l++) {
        bl_residual_attn(in, l, a);
        for (int i = 0; i < n; i++) {   /* tmp = a · out */
            float *t = tmp + (size_t)i * n;
            for (int j = 0; j < n; j++) t[j] = 0;
            for (int k = 0; k < n; k++) {
                float w = a[(size_t)i * n + k];
                if (w == 0) continue;
                const float *o = out + (size_t)k * n;
                for (int j = 0; j < n; j++) t[j] += w * o[j];
            }
        }
        memcpy(out, tmp, nn * sizeof *out);
    }
    if (nn > r->roll_cap) {
        float *p = realloc(r->roll, nn * sizeof *p);
        if (p) { r->roll = p; r->roll_cap = nn; }
    }
    if (r->roll_cap >= nn) {
        memcpy(r->roll, out, nn * sizeof *out);
        r->roll_key = key;
        r->roll_valid = 1;
    }
    return 0;
}

/* Dinic on the layered graph. cap[l][i][j]: (l, j) -> (l+1, i). Nodes are v = level*n + tok. */
typedef struct {
    int n, levels;            /* levels = layers + 1 */
    const float *cap;         /* [levels-1][n][n] */
    float *flow;              /* same shape */
    int *dist, *queue, *it;   /* [levels*n] */
} bl_flownet;

#define BL_FEPS 1e-7f

static float bl_res(const bl_flownet *g, int l, int i, int j) {  /* forward residual (l,j)->(l+1,i) */
    size_t k = ((size_t)l * g->n + i) * g->n + j;
    return g->cap[k] - g->flow[k];
}

static int bl_bfs(bl_flownet *g, int src, int sink) {
    int V = g->levels * g->n, n = g->n;
    for (int v = 0; v < V; v++) g->dist[v] = -1;
    int qh = 0, qt = 0;
    g->dist[src] = 0;
    g->queue[qt++] = src;
    while (qh < qt) {
        int v = g->queue[qh++], l = v / n, t = v % n;
        if (l + 1 < g->levels)   /* forward: (l,t) -> (l+1,i) */
            for (int i = 0; i < n; i++) {
                int u = (l + 1) * n + i;
                if (g->dist[u] < 0 && bl_res(g, l, i, t) > BL_FEPS) { g->dist[u] = g->dist[v] + 1; g->queue[qt++] = u; }
            }
        if (l > 0)               /* backward: (l,t) -> (l-1,j) where flow (l-1,j)->(l,t) > 0 */
            for (int j = 0; j < n; j++) {
                int u = (l - 1) * n + j;
                if (g->dist[u] < 0 && g->flow[((size_t)(l - 1) * n + t) * n + j] > BL_FEPS) {
                    g->dist[u] = g->dist[v] + 1;
                    g->queue[qt++] = u;
                }
            }
    }
    return g->dist[sink] >= 0;
}

/* Blocking-flow DFS along the BFS levels. Recursion depth is dist(sink): levels + 1 plus two
   per backward step, and nodes at or beyond the sink's distance are never entered. */
static float bl_dfs(bl_flownet *g, int v, int sink, float pushed) {
    if (v == sink) return pushed;
    if (g->dist[v] + 1 > g->dist[sink]) return 0;
    int n = g->n, l = v / n, t = v % n;
    for (; g->it[v] < 2 * n; g->it[v]++) {
        int k = g->it[v];
        if (k < n) {
            if (l + 1 >= g->levels) continue;
            int u = (l + 1) * n + k;
            float res = bl_res(g, l, k, t);
            if (g->dist[u] != g->dist[v] + 1 || res <= BL_FEPS || (g->dist[u] == g->dist[sink] && u != sink)) continue;
            float f = bl_dfs(g, u, sink, fminf(pushed, res));
            if (f > 0) { g->flow[((size_t)l * n + k) * n + t] += f; return f; }
        } else {
            int j = k - n;
            if (l == 0) continue;
            int u = (l - 1) * n + j;
            size_t idx = ((size_t)(l - 1) * n + t) * n + j;
            if (g->dist[u] != g->dist[v] + 1 || g->flow[idx] <= BL_FEPS || g->dist[u] >= g->dist[sink]) continue;
            float f = bl_dfs(g, u, sink, fminf(pushed, g->flow[idx]));
            if (f > 0) { g->flow[idx] -= f; return f; }
        }
    }
    return 0;
}

static float bl_maxflow(bl_flownet *g, int src, int sink) {
    size_t ne = (size_t)(g->levels - 1) * g->n * g->n;
    memset(g->flow, 0, ne * sizeof *g->flow);
    float total = 0;
    int V = g->levels * g->n;
    /* Dinic needs at most V phases, each at most E augmentations (every one saturates an
       edge). The bounds only matter if float rounding ever kept an edge alive: never hang. */
    for (int phase = 0; phase < V && bl_bfs(g, src, sink); phase++) {
        for (int v = 0; v < V; v++) g->it[v] = 0;
        float f;
        for (size_t k = 0; k <= ne && (f = bl_dfs(g, src, sink, INFINITY)) > 0; k++) total += f;
    }
    return total;
}

/* flow[n] for input tokens into [CLS] after layer `upto`. Returns 0, -1 on OOM. */
static int bl_flow_cls(bl_renderer *r, const bl_render_input *in, int upto, float *out) {
    int n = in->n, levels = upto + 2;
    size_t nn = (size_t)n * n, ne = (size_t)(levels - 1) * nn;
    float *cap = malloc(ne * sizeof *cap);
    if (!cap) return -1;
    for (int l = 0; l <= upto; l++) bl_residual_attn(in, l, cap + (size_t)l * nn);
    uint64_t key = bl_hash_floats(1469598103934665603ull ^ (uint64_t)n << 32 ^ (uint64_t)upto, cap, ne);
    if (r->flow_valid && r->flow_key == key && r->flow_cap >= (size_t)n) {
        memcpy(out, r->flow, (size_t)n * sizeof *out);
        free(cap);
        return 0;
    }
    size_t V = (size_t)levels * n;
    bl_flownet g = {n, levels, cap, malloc(ne * sizeof(float)), malloc(V * sizeof(int)), malloc(V * sizeof(int)),
                    malloc(V * sizeof(int))};
    int rc = -1;
    if (g.flow && g.dist && g.queue && g.it) {
        int sink = (levels - 1) * n + 0;
        for (int j = 0; j < n; j++) out[j] = bl_maxflow(&g, j, sink);
        if ((size_t)n > r->flow_cap) {
            float *p = realloc(r->flow, (size_t)n * sizeof *p);
            if (p) { r->flow = p; r->flow_cap = (size_t)n; }
        }
        if (r->flow_cap >= (size_t)n) {
            memcpy(r->flow, out, (size_t)n * sizeof *out);
            r->flow_key = key;
            r->flow_valid = 1;
        }
        rc = 0;
    }
    free(g.flow);
    free(g.dist);
    free(g.queue);
    free(g.it);
    free(cap);
    return rc;
}

/* Horizontal bar chart over tokens (flow view). */
static int bl_bar_chart(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const float *v,
                        const char *title, const char *sub, bl_err *e) {
    float S = r->S;
    int M = bl_margin(r), W = r->cv.w, n = in->n;
    int *idx = malloc((size_t)n * sizeof *idx), cnt = 0;
    if (!idx) return bl_fail(e, "render: out of memory");
    for (int i = 0; i < n; i++)
        if (!(o->hide_special && bl_is_special(in->tokens[i]))) idx[cnt++] = i;
    int header = bl_header_h(r);
    float fs = 12 * S;
    int rh = (int)(20 * S);
    if (cnt > 0 && header + cnt * rh + M > BL_FB_MAX) rh = (BL_FB_MAX - header - M) / cnt;
    if (rh < 1) { free(idx); return bl_fail(e, "render: %d bars do not fit %d pixels", cnt, BL_FB_MAX); }
    int labels = rh >= 9 * S;
    if (!labels) fs = 0;
    else if (fs > rh * 0.75f) fs = rh * 0.75f;
    int lw = labels ? (int)ceilf(fminf(bl_maxw(r, in, idx, cnt, fs), 140 * S) + 10 * S) : 0;
    int valw = labels ? (int)ceilf(bl_text_width(r->font, "0.000", 5, fs) + 10 * S) : 0;
    int bx = M + lw, bw = W - 2 * M - lw - valw;
    if (bw < (int)(40 * S)) { bw = (int)(40 * S); W = 2 * M + lw + valw + bw; }
    int H = header + (cnt ? cnt * rh : (int)(30 * S)) + M;
    if (bl_canvas_begin(r, W, H, e)) { free(idx); return -1; }
    bl_draw_header(r, title, sub);
    float vmax = o->vmax;
    if (!(vmax > 0)) {
        vmax = 0;
        for (int a = 0; a < cnt; a++) vmax = fmaxf(vmax, v[idx[a]]);
        if (!(vmax > 0)) vmax = 1;
    }
    int hy = bl_hover_dev(r, o->hover_y), hx = bl_hover_dev(r, o->hover_x);
    bl_font_metrics fm = bl_font_metrics_at(r->font, fs > 0 ? fs : 10);
    for (int a = 0; a < cnt; a++) {
        int y = header + a * rh, i = idx[a];
        int hov = hy >= y && hy < y + rh && hx >= M && hx < W - M;
        if (hov || i == o->token) bl_fill_rect(&r->cv, M, y, W - 2 * M, rh, r->th.hover);
        float val = v[i] < o->threshold ? 0 : v[i];
        int len = (int)lroundf(fminf(val / vmax, 1.0f) * bw);
        int pad = rh >= 6 ? (int)(rh * 0.18f) : 0;
        bl_fill_rect(&r->cv, bx, y + pad, len, rh - 2 * pad > 0 ? rh - 2 * pad : 1, bl_head_color(0, 255));
        if (labels) {
            float base = y + rh * 0.5f + (fm.ascent - fm.descent) * 0.5f;
            const char *t = bl_tok(in, i);
            bl_draw_text(r->font, &r->cv, t, (int)strlen(t), bx - 6 * S, base, fs, hov ? r->th.accent : r->th.fg,
                         BL_ALIGN_RIGHT, 140 * S);
            char vt[24];
            snprintf(vt, sizeof vt, "%.3f", v[i]);
            bl_draw_text(r->font, &r->cv, vt, (int)strlen(vt), bx + len + 5 * S, base, fs * 0.9f, r->th.muted, BL_ALIGN_LEFT, 0);
        }
        bl_push_region(r, M, y, W - 2 * M, rh, (bl_hit){.kind = 2, .from = i, .to = -1, .layer = o->layer, .head = -1, .value = v[i]});
    }
    bl_fill_rect(&r->cv, bx, header, S >= 2 ? 2 : 1, cnt * rh, r->th.axis);
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
        rc = bl_flow_cls(r, in, upto, v);
        snprintf(title, sizeof title, "Attention flow to [CLS] \xc2\xb7 layers 0\xe2\x80\x93%d", upto);
        snprintf(sub, sizeof sub, "max-flow from each input token to [CLS] after layer %d through A' = 0.5\xc2\xb7"
                 "mean_heads(A) + 0.5\xc2\xb7I (Abnar & Zuidema 2020) \xc2\xb7 0-based", upto);
    } else {
        float *R = malloc((size_t)n * n * sizeof *R);
        rc = R ? bl_rollout(r, in, upto, R) : -1;
        if (!rc) memcpy(v, R, (size_t)n * sizeof *v);   /* row 0 = [CLS] */
        free(R);
        snprintf(title, sizeof title, "Rollout to [CLS] \xc2\xb7 layers 0\xe2\x80\x93%d (n > %d: exact flow too slow)",
                 upto, BL_FLOW_MAX_N);
        snprintf(sub, sizeof sub, "[CLS] row of attention rollout, shown instead of max-flow for %d tokens \xc2\xb7 0-based", n);
    }
    if (rc) { free(v); return bl_fail(e, "render: out of memory"); }
    rc = bl_bar_chart(r, in, o, v, title, sub, e);
    free(v);
    return rc;
}

/* ---------------------------------------------------------------- head view */
#define BL_HEAD_MAX_LINES 6000   /* beyond this the weakest lines are left out (and the subtitle says so) */

/* The line i -> j: heads sharing its geometry are composited into one colour ("over", in head
   order) so it is rasterised once, 12× less work for the all-heads view. Exact for fully
   covered pixels; at antialiased edges the difference is below one level of 255. Returns the
   alpha (0 = not drawn) and sets *col. */
static int bl_head_line(const bl_render_input *in, const bl_view_opts *o, int i, int j, bl_rgba *col) {
    size_t nn = (size_t)in->n * in->n;
    const size_t base = (size_t)o->layer * in->heads * nn + (size_t)i * in->n + j;
    float cr = 0, cg = 0, cb = 0, ca = 0;   /* premultiplied */
    for (int h = 0; h < in->heads; h++) {
        if (o->head >= 0 && h != o->head) continue;
        float w = bl_attk(in, base + (size_t)h * nn);
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

int bl_view_head(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    float S = r->S;
    int M = bl_margin(r), W = r->cv.w, n = in->n, Hn = in->heads, l = o->layer;
    int *rows = malloc(2 * (size_t)n * sizeof *rows), nr = 0, nc = 0;
    if (!rows) return bl_fail(e, "render: out of memory");
    int *cols = rows + n;
    /* same token selection rules as the heatmap */
    int want_r = -1, want_c = -1;
    if (o->pair_filter == BL_PAIR_AA) { want_r = 0; want_c = 0; }
    if (o->pair_filter == BL_PAIR_AB) { want_r = 0; want_c = 1; }
    if (o->pair_filter == BL_PAIR_BA) { want_r = 1; want_c = 0; }
    if (o->pair_filter == BL_PAIR_BB) { want_r = 1; want_c = 1; }
    for (int i = 0; i < n; i++) {
        if (o->hide_special && bl_is_special(in->tokens[i])) continue;
        int seg = in->type_ids ? in->type_ids[i] != 0 : 0;
        if (want_r < 0 || seg == want_r) rows[nr++] = i;
        if (want_c < 0 || seg == want_c) cols[nc++] = i;
    }
    char title[96], sub[200];
    if (o->head >= 0) snprintf(title, sizeof title, "Head view \xc2\xb7 Layer %d \xc2\xb7 Head %d", l, o->head);
    else snprintf(title, sizeof title, "Head view \xc2\xb7 Layer %d \xc2\xb7 all %d heads", l, Hn);
    snprintf(sub, sizeof sub, "line opacity = attention weight, colour = head \xc2\xb7 hover a token to isolate its lines "
             "\xc2\xb7 0-based");
    int header = bl_header_h(r);
    int sw = (int)(12 * S), sgap = (int)(4 * S), swrow = sw + (int)(12 * S);
    int maxn = nr > nc ? nr : nc;
    float fs = 12 * S;
    int rh = (int)(20 * S);
    int top = header + swrow;
    if (maxn > 0 && top + maxn * rh + M > BL_FB_MAX) rh = (BL_FB_MAX - top - M) / maxn;
    if (rh < 1) { free(rows); return bl_fail(e, "render: %d tokens do not fit %d pixels", maxn, BL_FB_MAX); }
    int labels = rh >= 9 * S;
    if (fs > rh * 0.75f) fs = rh * 0.75f;
    float lwf = labels ? fmaxf(bl_maxw(r, in, rows, nr, fs), bl_maxw(r, in, cols, nc, fs)) : 0;
    int lw = labels ? (int)ceilf(fminf(lwf, 140 * S) + 12 * S) : (int)(6 * S);
    int linew = W - 2 * M - 2 * lw;
    if (linew > (int)(360 * S)) linew = (int)(360 * S);
    if (linew < (int)(80 * S)) { linew = (int)(80 * S); W = 2 * M + 2 * lw + linew; }
    int H = top + maxn * rh + M;
    if (bl_canvas_begin(r, W, H, e)) { free(rows); return -1; }
    int x0 = (W - (2 * lw + linew)) / 2, lx = x0 + lw, rx = lx + linew;

    /* head swatches: click to select a head (kind 3) */
    for (int h = 0; h < Hn; h++) {
        int sx = M + h * (sw + sgap), sy = header;
        int on = o->head < 0 || o->head == h;
        bl_fill_rect(&r->cv, sx, sy, sw, sw, bl_head_color(h, on ? 255 : 70));
        if (o->head == h) bl_stroke_rect(&r->cv, sx - 2, sy - 2, sw + 4, sw + 4, 1, r->th.fg);
        bl_push_region(r, sx, sy, sw, sw, (bl_hit){.kind = 3, .layer = l, .head = h, .from = -1, .to = -1});
    }
    /* which token is isolated: hover wins over the selected token */
    int hx = bl_hover_dev(r, o->hover_x), hy = bl_hover_dev(r, o->hover_y);
    int iso_side = -1, iso = -1;
    if (hy >= top && hy < top + maxn * rh) {
        int a = (hy - top) / rh;
        if (hx >= x0 && hx < lx && a < nr) { iso_side = 0; iso = rows[a]; }
        else if (hx >= rx && hx < rx + lw && a < nc) { iso_side = 1; iso = cols[a]; }
    }
    if (iso < 0 && o->token >= 0 && o->token < n) { iso_side = 0; iso = o->token; }

    /* Line budget: long inputs have n² candidate lines; keep the strongest BL_HEAD_MAX_LINES
       (a histogram of their alphas gives the cut), so n = 512 stays interactive. */
    int hist[256] = {0}, total = 0, cut = 3, kept;
    /* The line layer is cached: pointer moves that do not change the isolated token (most of
       them) then cost a copy. Key: everything the layer depends on, plus a strided sample of
       this layer's attention (a new forward pass changes it). */
    int LW = rx - lx, AH = maxn * rh;
    uint64_t key = 1469598103934665603ull;
    int geo[10] = {n, Hn, l, o->head, iso_side, iso, nr, nc, rh, LW};
    for (int k = 0; k < 10; k++) key = (key ^ (uint64_t)(uint32_t)geo[k]) * 1099511628211ull;
    for (int k = 0; k < nr; k++) key = (key ^ (uint64_t)rows[k]) * 1099511628211ull;
    for (int k = 0; k < nc; k++) key = (key ^ (uint64_t)cols[k] << 16) * 1099511628211ull;
    uint32_t bits[3];
    memcpy(&bits[0], &o->threshold, 4);
    memcpy(&bits[1], &S, 4);
    bits[2] = r->th.bg;
    for (int k = 0; k < 3; k++) key = (key ^ bits[k]) * 1099511628211ull;
    {
        size_t nn = (size_t)n * n, cnt = (size_t)Hn * nn, stride = cnt / 65536 + 1;
        for (size_t k = 0; k < cnt; k += stride) {
            const float wf = bl_attk(in, (size_t)l * cnt + k);
            uint32_t wv;
            memcpy(&wv, &wf, 4);
            key = (key ^ wv) * 1099511628211ull;
        }
        key = (key ^ (uint64_t)(uintptr_t)bl_attn_ptr(in)) * 1099511628211ull;
    }
    int cached = r->lines_valid && r->lines_key == key && r->lbuf_cap >= (size_t)LW * AH * 4;
    if (cached) { cut = r->lines_cut; kept = r->lines_kept; total = r->lines_total; }
    else for (int a = 0; a < nr; a++) {
        if (iso_side == 0 && rows[a] != iso) continue;
        for (int b = 0; b < nc; b++) {
            if (iso_side == 1 && cols[b] != iso) continue;
            bl_rgba c;
            int al = bl_head_line(in, o, rows[a], cols[b], &c);
            if (al) { hist[al]++; total++; }
        }
    }
    if (!cached) kept = total;
    if (!cached && total > BL_HEAD_MAX_LINES) {
        kept = 0;
        for (cut = 255; cut > 3 && kept + hist[cut] <= BL_HEAD_MAX_LINES; cut--) kept += hist[cut];
        cut++;
    }
    if (kept < total) {
        size_t k = strlen(sub);
        snprintf(sub + k, sizeof sub - k, " \xc2\xb7 strongest %d of %d lines", kept, total);
    }
    bl_draw_header(r, title, sub);

    /* token labels and their highlight */
    bl_font_metrics fm = bl_font_metrics_at(r->font, fs);
    for (int side = 0; side < 2; side++) {
        const int *idx = side ? cols : rows;
        int cnt = side ? nc : nr;
        for (int a = 0; a < cnt; a++) {
            int y = top + a * rh, i = idx[a];
            int hl = iso_side == side && iso == i;
            int bxl = side ? rx : x0;
            if (hl) bl_fill_rect(&r->cv, bxl, y, lw, rh, r->th.hover);
            if (labels) {
                const char *t = bl_tok(in, i);
                float base = y + rh * 0.5f + (fm.ascent - fm.descent) * 0.5f;
                if (side) bl_draw_text(r->font, &r->cv, t, (int)strlen(t), rx + 8 * S, base, fs, hl ? r->th.accent : r->th.fg, BL_ALIGN_LEFT, 140 * S);
                else bl_draw_text(r->font, &r->cv, t, (int)strlen(t), lx - 8 * S, base, fs, hl ? r->th.accent : r->th.fg, BL_ALIGN_RIGHT, 140 * S);
            }
            bl_push_region(r, bxl, y, lw, rh, (bl_hit){.kind = 2, .from = i, .to = -1, .layer = l, .head = o->head, .side = side});
        }
    }
    /* lines: heads drawn in order, opacity = weight. They are drawn into a transposed layer
       (token axis contiguous in memory) and copied back: the lines are mostly steep, and
       walking a steep line down a row-major framebuffer misses the cache on every pixel. */
    float t = fmaxf(1.0f, 1.5f * S);
    if (LW > 0 && AH > 0) {
        size_t need = (size_t)LW * AH * 4;
        if (need > r->lbuf_cap) {
            r->lines_valid = 0;
            uint8_t *p = realloc(r->lbuf, need);
            if (!p) { free(rows); return bl_fail(e, "render: out of memory"); }
            r->lbuf = p;
            r->lbuf_cap = need;
        }
        bl_canvas tc = {r->lbuf, AH, LW, 0, 0, AH, LW};
        if (!cached) bl_fill_rect(&tc, 0, 0, AH, LW, r->th.bg);
        if (!cached) for (int a = 0; a < nr; a++) {
            int i = rows[a];
            if (iso_side == 0 && i != iso) continue;
            float ya = a * rh + rh * 0.5f;
            for (int b = 0; b < nc; b++) {
                int j = cols[b];
                if (iso_side == 1 && j != iso) continue;
                bl_rgba col;
                if (bl_head_line(in, o, i, j, &col) < cut) continue;
                /* transposed coordinates: (token axis, line axis) */
                bl_draw_line(&tc, ya, 2 * S, b * rh + rh * 0.5f, LW - 2 * S, t, col);
            }
        }
        r->lines_key = key;
        r->lines_valid = 1;
        r->lines_cut = cut;
        r->lines_kept = kept;
        r->lines_total = total;
        for (int X0 = 0; X0 < LW; X0 += 32)   /* blocked transpose back into the framebuffer */
            for (int Y0 = 0; Y0 < AH; Y0 += 32)
                for (int X = X0; X < X0 + 32 && X < LW; X++)
                    for (int Y = Y0; Y < Y0 + 32 && Y < AH; Y++)
                        memcpy(r->cv.px + ((size_t)(top + Y) * r->cv.w + lx + X) * 4, r->lbuf + ((size_t)X * AH + Y) * 4, 4);
    }
    free(rows);
    return 0;
}

/* ---------------------------------------------------------------- neuron view */
static bl_rgba bl_diverging(const bl_theme *th, float v, float maxabs) {
    float t = maxabs > 0 ? fminf(fabsf(v) / maxabs, 1.0f) : 0;
    uint32_t c = v >= 0 ? 0xe8590c : 0x1c7ed6;
    (void)th;
    return BL_RGBA(c, (int)(t * 255 + 0.5f));
}

int bl_view_neuron(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    float S = r->S;
    int M = bl_margin(r), W = r->cv.w, n = in->n, l = o->layer;
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
    const float *q = in->query[l] + (size_t)qi * stride + (size_t)h * d;
    /* scores over all keys (hidden tokens still count in the softmax, as in the model) */
    float mx = -INFINITY, scale = 1.0f / sqrtf((float)d), maxqk = 0, maxprod = 0;
    for (int j = 0; j < n; j++) {
        const float *k = in->key[l] + (size_t)j * stride + (size_t)h * d;
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

    int header = bl_header_h(r);
    float fs = 12 * S;
    int rh = (int)(16 * S), colhdr = (int)(18 * S);
    int top = header + colhdr + rh + (int)(8 * S);   /* column titles, the query row, a gap */
    if (cnt > 0 && top + cnt * rh + M > BL_FB_MAX) rh = (BL_FB_MAX - header - colhdr - M) / (cnt + 1);
    if (rh < 1) { free(idx); free(sc); return bl_fail(e, "render: %d tokens do not fit %d pixels", cnt, BL_FB_MAX); }
    top = header + colhdr + rh + (int)(8 * S);
    int labels = rh >= 9 * S;
    if (fs > rh * 0.8f) fs = rh * 0.8f;
    int lw = labels ? (int)ceilf(fminf(bl_maxw(r, in, idx, cnt, fs), 110 * S) + 10 * S) : (int)(4 * S);
    int gap = (int)(14 * S), scw = (int)(110 * S), smw = (int)(110 * S);
    int cw = (W - 2 * M - lw - 3 * gap - scw - smw) / (2 * d);
    if (cw > (int)(10 * S)) cw = (int)(10 * S);
    if (cw < 1) cw = 1;
    int need = 2 * M + lw + 3 * gap + scw + smw + 2 * d * cw;
    if (need > W) W = need;
    int H = top + cnt * rh + M;
    if (bl_canvas_begin(r, W, H, e)) { free(idx); free(sc); return -1; }
    bl_draw_header(r, title, sub);
    int kx = M + lw, px = kx + d * cw + gap, sx = px + d * cw + gap, smx = sx + scw + gap;
    bl_font_metrics fm = bl_font_metrics_at(r->font, fs);
    float hf = 11 * S;
    int hb = header + (int)(12 * S);
    const char *hdr[4] = {"q / k", "q \xe2\x8a\x99 k", "q\u00b7k/\u221ad", "softmax"};
    int hx4[4] = {kx, px, sx, smx};
    for (int c = 0; c < 4; c++) bl_draw_text(r->font, &r->cv, hdr[c], (int)strlen(hdr[c]), (float)hx4[c], (float)hb, hf, r->th.muted, BL_ALIGN_LEFT, 0);
    int cellh = rh > 3 ? rh - (int)fmaxf(1, S) : rh;
    /* the query row */
    int qy = header + colhdr;
    if (labels) {
        const char *t = bl_tok(in, qi);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), kx - 6 * S, qy + rh * 0.5f + (fm.ascent - fm.descent) * 0.5f, fs, r->th.accent, BL_ALIGN_RIGHT, 110 * S);
    }
    for (int c = 0; c < d; c++) bl_fill_rect(&r->cv, kx + c * cw, qy, cw, cellh, bl_diverging(&r->th, q[c], maxqk));
    bl_stroke_rect(&r->cv, kx - 1, qy - 1, d * cw + 2, cellh + 2, 1, r->th.accent);
    int hy = bl_hover_dev(r, o->hover_y);
    for (int a = 0; a < cnt; a++) {
        int j = idx[a], y = top + a * rh;
        const float *k = in->key[l] + (size_t)j * stride + (size_t)h * d;
        if (j == qi || (hy >= y && hy < y + rh)) bl_fill_rect(&r->cv, M, y, W - 2 * M, rh, r->th.hover);
        for (int c = 0; c < d; c++) {
            bl_fill_rect(&r->cv, kx + c * cw, y, cw, cellh, bl_diverging(&r->th, k[c], maxqk));
            bl_fill_rect(&r->cv, px + c * cw, y, cw, cellh, bl_diverging(&r->th, q[c] * k[c], maxprod));
        }
        /* score: the number, then a bar from the centre of the rest of its column */
        int numw = (int)(40 * S), mid = sx + numw + (scw - numw) / 2;
        int len = maxabs_s > 0 ? (int)lroundf(sc[j] / maxabs_s * ((scw - numw) / 2 - 2 * S)) : 0;
        bl_fill_rect(&r->cv, len >= 0 ? mid : mid + len, y + cellh / 4, len >= 0 ? len : -len, cellh / 2 > 0 ? cellh / 2 : 1,
                     bl_diverging(&r->th, sc[j], maxabs_s));
        int pl = pmax > 0 ? (int)lroundf(sc[n + j] / pmax * (smw - 40 * S)) : 0;   /* longest bar = largest weight */
        bl_fill_rect(&r->cv, smx, y + cellh / 6, pl, cellh - cellh / 3 > 0 ? cellh - cellh / 3 : 1, bl_head_color(h, 255));
        if (labels) {
            float base = y + rh * 0.5f + (fm.ascent - fm.descent) * 0.5f;
            const char *t = bl_tok(in, j);
            bl_draw_text(r->font, &r->cv, t, (int)strlen(t), kx - 6 * S, base, fs, j == qi ? r->th.accent : r->th.fg, BL_ALIGN_RIGHT, 110 * S);
            char v[24];
            snprintf(v, sizeof v, "%.2f", sc[j]);
            bl_draw_text(r->font, &r->cv, v, (int)strlen(v), sx + numw - 4 * S, base, fs * 0.85f, r->th.muted, BL_ALIGN_RIGHT, 0);
            snprintf(v, sizeof v, "%.3f", sc[n + j]);
            bl_draw_text(r->font, &r->cv, v, (int)strlen(v), smx + pl + 4 * S, base, fs * 0.85f, r->th.muted, BL_ALIGN_LEFT, 0);
        }
        bl_push_region(r, M, y, W - 2 * M, rh, (bl_hit){.kind = 2, .from = j, .to = -1, .layer = l, .head = h, .value = sc[n + j], .side = 1});
    }
    bl_fill_rect(&r->cv, sx + (int)(40 * S) + (scw - (int)(40 * S)) / 2, top, 1, cnt * rh, r->th.axis);
    free(idx);
    free(sc);
    return 0;
}

/* ---------------------------------------------------------------- masked LM */
int bl_view_mlm(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    float S = r->S;
    int M = bl_margin(r), W = r->cv.w, n = in->n;
    const char *title = "Masked LM \xc2\xb7 top predictions for each [MASK]";
    const char *sub = "click a token to mask it and re-run \xc2\xb7 positions are 0-based";
    int header = bl_header_h(r);
    float fs = 12 * S;
    bl_font_metrics fm = bl_font_metrics_at(r->font, fs);
    int chip_h = (int)(22 * S), chip_pad = (int)(6 * S), chip_gap = (int)(5 * S);
    float chip_max = 160 * S;
    /* pass 1: lay the sentence chips out (wrapping) to know the height */
    int x = M, y = header, lines = 1;
    for (int i = 0; i < n; i++) {
        const char *t = bl_tok(in, i);
        int cw = (int)ceilf(fminf(bl_text_width(r->font, t, (int)strlen(t), fs), chip_max)) + 2 * chip_pad;
        if (x + cw > W - M && x > M) { x = M; y += chip_h + chip_gap; lines++; }
        x += cw + chip_gap;
    }
    int chips_h = lines * (chip_h + chip_gap);
    int k = in->mlm_k, cnt = in->mlm_count;
    int tokw = (int)(120 * S), barw = (int)(150 * S), pctw = (int)(56 * S);
    int bw = tokw + barw + pctw + (int)(20 * S), bgap = (int)(24 * S);
    int per = (W - 2 * M + bgap) / (bw + bgap);
    if (per < 1) per = 1;
    int rowh = (int)(20 * S), btitle = (int)(26 * S);
    int bh = btitle + k * rowh + (int)(16 * S);
    int brows = cnt > 0 ? (cnt + per - 1) / per : 1;
    int H = header + chips_h + (int)(14 * S) + (cnt > 0 ? brows * bh : (int)(30 * S)) + M;
    if (H > BL_FB_MAX) return bl_fail(e, "render: the masked-LM view needs %d px of height; the limit is %d", H, BL_FB_MAX);
    if (bl_canvas_begin(r, W, H, e)) return -1;
    bl_draw_header(r, title, sub);
    int hx = bl_hover_dev(r, o->hover_x), hy = bl_hover_dev(r, o->hover_y);
    x = M;
    y = header;
    for (int i = 0; i < n; i++) {
        const char *t = bl_tok(in, i);
        int tl = (int)strlen(t);
        int cw = (int)ceilf(fminf(bl_text_width(r->font, t, tl, fs), chip_max)) + 2 * chip_pad;
        if (x + cw > W - M && x > M) { x = M; y += chip_h + chip_gap; }
        int is_mask = !strcmp(t, "[MASK]"), hov = hx >= x && hx < x + cw && hy >= y && hy < y + chip_h;
        bl_rgba bg = is_mask ? r->th.accent : hov ? r->th.hover : r->th.panel;
        bl_fill_rect(&r->cv, x, y, cw, chip_h, bg);
        if (hov) bl_stroke_rect(&r->cv, x, y, cw, chip_h, 1, r->th.accent);
        bl_draw_text(r->font, &r->cv, t, tl, (float)(x + chip_pad), y + chip_h * 0.5f + (fm.ascent - fm.descent) * 0.5f, fs,
                     is_mask ? r->th.bg : bl_is_special(t) ? r->th.muted : r->th.fg, BL_ALIGN_LEFT, chip_max);
        bl_push_region(r, x, y, cw, chip_h, (bl_hit){.kind = 2, .from = i, .to = -1, .layer = -1, .head = -1, .side = 0});
        x += cw + chip_gap;
    }
    int by0 = header + chips_h + (int)(14 * S);
    if (cnt == 0) {
        bl_draw_message(r, by0, "No [MASK] in the input: click a token above to mask it.");
        return 0;
    }
    for (int q = 0; q < cnt; q++) {
        int bx = M + (q % per) * (bw + bgap), by = by0 + (q / per) * bh;
        char t[64];
        int pos = in->mlm_pos[q];
        snprintf(t, sizeof t, "[MASK] at position %d", pos);
        bl_draw_text(r->font, &r->cv, t, (int)strlen(t), (float)bx, by + fm.ascent, fs, r->th.fg, BL_ALIGN_LEFT, (float)bw);
        bl_fill_rect(&r->cv, bx, by + (int)(btitle - 8 * S), bw, 1, r->th.axis);
        for (int c = 0; c < k; c++) {
            int yy = by + btitle + c * rowh;
            const char *tk = in->mlm_tokens[(size_t)q * k + c];
            float p = in->mlm_p[(size_t)q * k + c];
            if (!tk) tk = "?";
            int hov = hx >= bx && hx < bx + bw && hy >= yy && hy < yy + rowh;
            if (hov) bl_fill_rect(&r->cv, bx, yy, bw, rowh, r->th.hover);
            float base = yy + rowh * 0.5f + (fm.ascent - fm.descent) * 0.5f;
            bl_draw_text(r->font, &r->cv, tk, (int)strlen(tk), (float)(bx + tokw - 8 * S), base, fs, c == 0 ? r->th.fg : r->th.muted,
                         BL_ALIGN_RIGHT, tokw - 10 * S);
            int len = (int)lroundf(fminf(fmaxf(p, 0), 1) * barw);
            bl_fill_rect(&r->cv, bx + tokw, yy + rowh / 5, barw, rowh - 2 * (rowh / 5), r->th.panel);
            bl_fill_rect(&r->cv, bx + tokw, yy + rowh / 5, len, rowh - 2 * (rowh / 5), bl_head_color(0, c == 0 ? 255 : 170));
            snprintf(t, sizeof t, "%.1f%%", p * 100);
            bl_draw_text(r->font, &r->cv, t, (int)strlen(t), (float)(bx + tokw + barw + 6 * S), base, fs * 0.9f, r->th.muted, BL_ALIGN_LEFT, 0);
            bl_push_region(r, bx, yy, bw, rowh, (bl_hit){.kind = 4, .from = pos, .to = c, .layer = -1, .head = q, .value = p});
        }
    }
    return 0;
}
