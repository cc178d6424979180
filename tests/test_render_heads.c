/* test_render_heads.c — what the renderer draws about heads as objects: the model view ranked by
   one weight ("find heads"), its statistic bars, and the head map (MDS of the heads' distances).
   Expected orders and values are computed here from the maps, in double; the statistics and the
   MDS themselves are checked against numpy in test_stats.c. BL_RENDER_DUMP=DIR writes PNGs. */
#include "render/render_internal.h"
#include "check.h"
#include "synthetic.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bl_view_opts opts(int view) {
    bl_view_opts o = {0};
    o.view = view; o.layer = 0; o.head = 0; o.colormap = BL_CMAP_YLGNBU; o.scale = 1; o.width = 900;
    o.token = -1; o.hover_x = o.hover_y = -1;
    return o;
}

static void dump(const char *name, const uint8_t *px, int w, int h) {
    const char *dir = getenv("BL_RENDER_DUMP");
    if (!dir || !px) return;
    char path[512];
    bl_err e;
    snprintf(path, sizeof path, "%s/%s.png", dir, name);
    if (bl_write_png(path, px, w, h, &e)) fprintf(stderr, "%s\n", e.msg);
}

static void fill_random(synth *s, unsigned seed) {
    size_t rows = (size_t)s->L * s->H * s->n;
    for (size_t row = 0; row < rows; row++) {
        float *a = s->attn + row * s->n, sum = 0;
        for (int j = 0; j < s->n; j++) {
            seed = seed * 1103515245u + 12345u;
            a[j] = (float)((seed >> 8) & 0xffff) / 65536.0f + 1e-3f;
            sum += a[j];
        }
        for (int j = 0; j < s->n; j++) a[j] /= sum;
    }
}

/* the head regions of the last render, in drawing order */
static int head_regions(const bl_renderer *r, bl_region *out, int cap) {
    int k = 0;
    for (int i = 0; i < r->nreg && k < cap; i++)
        if (r->reg[i].hit.kind == BL_HIT_HEAD) out[k++] = r->reg[i];
    return k;
}

static int same_px(const uint8_t *p, bl_rgba c) {
    return p[0] == (c >> 24) && p[1] == ((c >> 16) & 255) && p[2] == ((c >> 8) & 255);
}

/* Ranked: position k (row-major in the grid) shows the head with the k-th largest α[from][to];
   the hit there names that head and carries its weight; unranked is layer order. */
static void test_ranked(bl_renderer *r) {
    synth s;
    synth_make(&s, 9, 4, 6, 0);
    fill_random(&s, 7);
    bl_render_input in = synth_input(&s);
    const int n = 9, M = 24, from = 2, to = 5;
    int want[24];
    for (int m = 0; m < M; m++) want[m] = m;
    for (int a = 0; a < M; a++)   /* selection sort, descending by the weight */
        for (int b = a + 1; b < M; b++) {
            double va = s.attn[((size_t)want[a] * n + from) * n + to], vb = s.attn[((size_t)want[b] * n + from) * n + to];
            if (vb > va) { int t = want[a]; want[a] = want[b]; want[b] = t; }
        }
    bl_view_opts o = opts(BL_VIEW_MODEL);
    o.rank = 1; o.rank_from = from; o.rank_to = to;
    bl_err e;
    int w, h;
    const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
    CHECK(px != NULL, "ranked model view: %s", px ? "" : e.msg);
    dump("model_ranked", px, w, h);
    bl_region g[64];
    int cnt = head_regions(r, g, 64), bad = 0, badpos = 0, badval = 0;
    CHECK(cnt == M, "ranked: %d head regions", cnt);
    for (int k = 0; k < cnt && k < M; k++) {
        bl_hit hit = bl_hit_test(r, g[k].r.x + g[k].r.w / 2, g[k].r.y + g[k].r.h / 2);
        if (hit.kind != BL_HIT_HEAD || hit.layer * 6 + hit.head != want[k]) bad++;
        if (hit.value != s.attn[((size_t)want[k] * n + from) * n + to]) badval++;
        /* position k is row k / 6, column k % 6 */
        if (k % 6 && (g[k].r.y != g[k - 1].r.y || g[k].r.x <= g[k - 1].r.x)) badpos++;
        if (k % 6 == 0 && k && g[k].r.y <= g[k - 1].r.y) badpos++;
    }
    CHECK(bad == 0 && badval == 0 && badpos == 0, "ranked order = a sort of alpha[%d][%d]: %d wrong heads, %d wrong values, %d misplaced",
          from, to, bad, badval, badpos);
    /* the best head's weight is large enough here that the order is not layer order */
    int layer_order = 1;
    for (int k = 0; k < M; k++) layer_order &= want[k] == k;
    CHECK(!layer_order, "the random maps give a non-trivial order");
    /* cleared: layer order again */
    o.rank = 0;
    bl_render(r, &in, &o, &w, &h, &e);
    cnt = head_regions(r, g, 64);
    bad = 0;
    for (int k = 0; k < cnt; k++) bad += g[k].hit.layer * 6 + g[k].hit.head != k;
    CHECK(cnt == M && bad == 0, "unranked: layer order (%d wrong)", bad);
    /* bad tokens are an error that says so */
    o.rank = 1; o.rank_from = n; o.rank_to = 0;
    CHECK(bl_render(r, &in, &o, &w, &h, &e) == NULL && strstr(e.msg, "rank"), "rank token out of range: %s", e.msg);
    o.rank = 0; o.stat_bar = BL_STAT_COUNT + 1;
    CHECK(bl_render(r, &in, &o, &w, &h, &e) == NULL && strstr(e.msg, "statistic"), "unknown statistic bar: %s", e.msg);
    synth_free(&s);
}

/* Statistic bars: each head's hit value is the statistic, computed here from the maps, and its
   bar's accent part is that share of the bar's width. */
static void test_bars(bl_renderer *r) {
    synth s;
    synth_make(&s, 11, 3, 4, 0);   /* the synthetic patterns: self, previous, [SEP], uniform */
    bl_render_input in = synth_input(&s);
    const int n = 11, M = 12;
    struct { int stat; const char *name; } cases[] = {{BL_STAT_CLS, "cls"}, {BL_STAT_PREV, "prev"}, {BL_STAT_ENTROPY, "entropy"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int st = cases[c].stat;
        bl_view_opts o = opts(BL_VIEW_MODEL);
        o.stat_bar = st + 1;
        bl_err e;
        int w, h;
        const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
        CHECK(px != NULL, "bars %s: %s", cases[c].name, px ? "" : e.msg);
        if (!px) continue;
        if (c == 0) dump("model_bars_cls", px, w, h);
        bl_region g[32];
        int cnt = head_regions(r, g, 32), badv = 0, badbar = 0;
        CHECK(cnt == M, "bars: %d regions", cnt);
        for (int k = 0; k < cnt; k++) {
            const float *A = s.attn + (size_t)k * n * n;
            double want = 0;
            for (int i = 0; i < n; i++) {
                if (st == BL_STAT_CLS) want += A[i * n + 0];
                else if (st == BL_STAT_PREV) want += i > 0 ? A[i * n + i - 1] : 0;
                else
                    for (int j = 0; j < n; j++) want -= A[i * n + j] > 0 ? A[i * n + j] * log(A[i * n + j]) : 0;
            }
            want /= st == BL_STAT_PREV ? n - 1 : n;
            if (fabs(g[k].hit.value - want) > 1e-5) badv++;
            double share = st == BL_STAT_ENTROPY ? want / log(n) : want;
            /* the bar: the lowest row of the region with accent or track pixels */
            int acc = -1, track = 0;
            for (int y = g[k].r.y + g[k].r.h - 1; y >= g[k].r.y && acc < 0; y--) {
                int a = 0, t = 0;
                for (int x = g[k].r.x; x < g[k].r.x + g[k].r.w; x++) {
                    const uint8_t *p = px + ((size_t)y * w + x) * 4;
                    a += same_px(p, r->th.accent);
                    t += same_px(p, r->th.axis);
                }
                if (a + t > 0) { acc = a; track = a + t; }
            }
            if (acc < 0 || track < 10 || fabs(acc - share * track) > 1.0) {
                badbar++;
                fprintf(stderr, "  head %d: bar %d of %d px, want %.3f of it\n", k, acc, track, share);
            }
        }
        CHECK(badv == 0 && badbar == 0, "bars %s: %d wrong values, %d wrong bars", cases[c].name, badv, badbar);
    }
    /* value-weighted thumbnails are norms, not probabilities: no statistic bars under them */
    {
        bl_render_input vin = in;
        float *nl = calloc((size_t)3 * n * n, sizeof(float));
        vin.norms = s.attn;
        vin.norms_layer = nl;
        bl_view_opts o = opts(BL_VIEW_MODEL);
        bl_err e;
        int w, h;
        const uint8_t *px = bl_render(r, &vin, &o, &w, &h, &e);
        bl_region g[32];
        head_regions(r, g, 32);
        const int plain_h = g[0].r.h;
        o.stat_bar = 1 + BL_STAT_CLS;
        o.value_weighted = 1;
        px = bl_render(r, &vin, &o, &w, &h, &e);
        head_regions(r, g, 32);
        CHECK(px != NULL && g[0].r.h == plain_h && g[0].hit.value == 0, "value-weighted: no bars (%s)", px ? "" : e.msg);
        free(nl);
    }
    synth_free(&s);
}

/* Head map: heads with identical maps share a dot, different ones do not; the dots are the MDS
   coordinates scaled by one factor on both axes (y up); each dot is its layer's colour and a
   hit on it names its head; a new forward in the same buffer moves the dots. */
static void test_head_map(bl_renderer *r) {
    synth s;
    synth_make(&s, 8, 5, 4, 0);   /* head (l, h) has pattern (l + h) % 4: 4 distinct maps */
    bl_render_input in = synth_input(&s);
    const int M = 20, H = 4, L = 5;
    bl_view_opts o = opts(BL_VIEW_HEAD_MAP);
    o.layer = 2; o.head = 1;
    bl_err e;
    int w, h;
    const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
    CHECK(px != NULL, "head map: %s", px ? "" : e.msg);
    if (!px) { synth_free(&s); return; }
    dump("head_map_patterns", px, w, h);
    bl_region g[32];
    int cnt = head_regions(r, g, 32);
    CHECK(cnt == M, "head map: %d dots", cnt);
    int badsame = 0;
    for (int a = 0; a < cnt; a++)
        for (int b = a + 1; b < cnt; b++) {
            int pa = (g[a].hit.layer + g[a].hit.head) % 4, pb = (g[b].hit.layer + g[b].hit.head) % 4;
            int same = g[a].r.x == g[b].r.x && g[a].r.y == g[b].r.y;
            badsame += (pa == pb) != same;
        }
    CHECK(badsame == 0, "identical maps share a dot, different maps do not (%d pairs wrong)", badsame);

    /* random maps: the geometry against bl_mds2 of bl_head_distances (both checked in test_stats.c) */
    fill_random(&s, 11);
    float *dist = malloc(sizeof(float) * M * M), xy[40];
    CHECK(bl_head_distances(s.attn, NULL, L, H, s.n, dist, &e) == 0 && bl_mds2(dist, M, xy, &e) == 0, "distances and MDS");
    px = bl_render(r, &in, &o, &w, &h, &e);
    dump("head_map_random", px, w, h);
    cnt = head_regions(r, g, 32);
    double kmin = 1e30, kmax = 0;
    int flips = 0;
    for (int a = 0; a < cnt; a++)
        for (int b = a + 1; b < cnt; b++) {
            double dx = xy[2 * b] - xy[2 * a], dy = xy[2 * b + 1] - xy[2 * a + 1], dm = sqrt(dx * dx + dy * dy);
            double ex = g[b].r.x - g[a].r.x, ey = g[b].r.y - g[a].r.y, dp = sqrt(ex * ex + ey * ey);
            if (dm > 0.05) {   /* pixel rounding (±1 px) is negligible only for dots this far apart */
                kmin = fmin(kmin, dp / dm);
                kmax = fmax(kmax, dp / dm);
            }
            if (fabs(dx) > 0.05 && (dx > 0) != (ex > 0)) flips++;   /* x to the right */
            if (fabs(dy) > 0.05 && (dy > 0) != (ey < 0)) flips++;   /* y up */
        }
    CHECK(kmax > 0 && kmax / kmin < 1.05 && flips == 0, "dots = MDS scaled by one factor (%.1f..%.1f px per unit), %d flipped",
          kmin, kmax, flips);
    /* hits and colours: a dot no later dot covers answers with its head and has its layer's colour */
    int badhit = 0, badcol = 0, tested = 0;
    for (int a = 0; a < cnt; a++) {
        int covered = 0;
        for (int b = a + 1; b < cnt; b++)
            covered |= abs(g[b].r.x - g[a].r.x) < g[a].r.w && abs(g[b].r.y - g[a].r.y) < g[a].r.h;
        if (covered) continue;
        tested++;
        int cx = g[a].r.x + g[a].r.w / 2, cy = g[a].r.y + g[a].r.h / 2;
        bl_hit hit = bl_hit_test(r, cx, cy);
        if (hit.kind != BL_HIT_HEAD || hit.layer != g[a].hit.layer || hit.head != g[a].hit.head) badhit++;
        CHECK(g[a].hit.layer * H + g[a].hit.head == a, "dots are drawn in head order");
        uint8_t rgb[3];
        bl_colormap(BL_CMAP_VIRIDIS, 0.88f * g[a].hit.layer / (L - 1), rgb);
        const uint8_t *p = px + ((size_t)cy * w + cx) * 4;
        if (p[0] != rgb[0] || p[1] != rgb[1] || p[2] != rgb[2]) badcol++;
    }
    CHECK(tested >= 10 && badhit == 0 && badcol == 0, "head map: %d free dots, %d wrong hits, %d wrong colours", tested, badhit,
          badcol);
    /* cached across hovers, recomputed for a new forward in the same buffer */
    bl_region before = g[7];
    o.hover_x = g[3].r.x + 1; o.hover_y = g[3].r.y + 1;
    bl_render(r, &in, &o, &w, &h, &e);
    CHECK(r->reg[7].r.x == before.r.x && r->reg[7].r.y == before.r.y, "hover keeps the dots");
    fill_random(&s, 12345);
    bl_render(r, &in, &o, &w, &h, &e);
    head_regions(r, g, 32);
    CHECK(g[7].r.x != before.r.x || g[7].r.y != before.r.y, "new maps move the dots");
    /* the same picture as SVG: the legend's layer names are text */
    size_t len = 0;
    char *svg = bl_render_svg(r, &in, &o, &len, &e);
    CHECK(svg && strstr(svg, ">L4<") && strstr(svg, "Head map"), "head map as SVG with its legend: %s", svg ? "" : e.msg);
    free(svg);
    /* one head, one token: no distances to speak of, still a picture */
    synth one;
    synth_make(&one, 1, 1, 1, 0);
    bl_render_input in1 = synth_input(&one);
    o = opts(BL_VIEW_HEAD_MAP);
    CHECK(bl_render(r, &in1, &o, &w, &h, &e) != NULL && r->nreg == 1, "head map of a 1x1 model: %s", e.msg);
    synth_free(&one);
    free(dist);
    synth_free(&s);
}

/* bl_head_distances_rows: with every row, bl_head_distances; with a subset, the mean over those
   rows of the Jensen–Shannon divergence from its definition (two logarithms per term, here) */
static void test_distances_rows(void) {
    synth s;
    synth_make(&s, 13, 3, 3, 0);
    fill_random(&s, 99);
    const int n = 13, M = 9;
    float full[81], rows_all[81], sub[81];
    int all[13], some[3] = {0, 6, 12};
    for (int i = 0; i < n; i++) all[i] = i;
    bl_err e;
    CHECK(bl_head_distances(s.attn, NULL, 3, 3, n, full, &e) == 0, "distances: %s", e.msg);
    CHECK(bl_head_distances_rows(s.attn, NULL, 3, 3, n, all, n, rows_all, &e) == 0, "distances, all rows: %s", e.msg);
    CHECK(bl_head_distances_rows(s.attn, NULL, 3, 3, n, some, 3, sub, &e) == 0, "distances, 3 rows: %s", e.msg);
    double worst_all = 0, worst_sub = 0;
    for (int a = 0; a < M; a++)
        for (int b = 0; b < M; b++) {
            worst_all = fmax(worst_all, fabs(full[a * M + b] - rows_all[a * M + b]));
            double acc = 0;
            for (int k = 0; k < 3; k++) {
                const float *p = s.attn + ((size_t)a * n + some[k]) * n, *q = s.attn + ((size_t)b * n + some[k]) * n;
                for (int j = 0; j < n; j++) {
                    double m = 0.5 * (p[j] + q[j]);
                    acc += 0.5 * p[j] * log2(p[j] / m) + 0.5 * q[j] * log2(q[j] / m);
                }
            }
            worst_sub = fmax(worst_sub, fabs(sub[a * M + b] - sqrt(fmax(acc, 0) / 3)));
        }
    CHECK(worst_all < 1e-5 && worst_sub < 1e-5, "row-subset distances: all rows off by %.2g, 3 rows off by %.2g", worst_all, worst_sub);
    int bad[1] = {n};
    CHECK(bl_head_distances_rows(s.attn, NULL, 3, 3, n, bad, 1, sub, &e) != 0 && strstr(e.msg, "row"), "row out of range: %s", e.msg);
    synth_free(&s);
}

int main(void) {
    size_t len;
    uint8_t *ttf = (uint8_t *)check_read_file("web/fonts/DejaVuSans-subset.ttf", &len);
    CHECK(ttf != NULL, "shipped font readable (run from the repo root)");
    if (!ttf) return check_summary("test_render_heads");
    bl_err e;
    bl_renderer *r = bl_renderer_new(ttf, len, &e);
    CHECK(r != NULL, "renderer: %s", r ? "" : e.msg);
    if (r) {
        test_ranked(r);
        test_bars(r);
        test_head_map(r);
        test_distances_rows();
    }
    bl_renderer_free(r);
    free(ttf);
    return check_summary("test_render_heads");
}
