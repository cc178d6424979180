/* test_render.c — the renderer: layout, hit testing, hover, text, themes, every view at several
   sizes, bounds errors, and the rollout/flow numbers. Synthetic attention, no model needed.
   BL_RENDER_DUMP=DIR writes a PNG of each view for eyeballing. */
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

static const char *dump_dir;
static void dump(const char *name, const uint8_t *px, int w, int h) {
    if (!dump_dir || !px) return;
    char path[512];
    bl_err e;
    snprintf(path, sizeof path, "%s/%s.png", dump_dir, name);
    if (bl_write_png(path, px, w, h, &e)) fprintf(stderr, "%s\n", e.msg);
}

static int lum(const uint8_t *p) { return (p[0] * 299 + p[1] * 587 + p[2] * 114) / 1000; }

/* ---------------------------------------------------------------- tests */
static void test_text(const uint8_t *ttf, size_t len) {
    bl_err e;
    bl_font *f = bl_font_new(ttf, len, &e);
    CHECK(f != NULL, "font loads: %s", f ? "" : e.msg);
    if (!f) return;
    int W = 120, H = 60;
    uint8_t *px = malloc((size_t)W * H * 4);
    bl_canvas c = {.px = px, .w = W, .h = H};
    /* 'A' at 30 px: ink inside its box, none outside */
    memset(px, 255, (size_t)W * H * 4);
    float adv = bl_draw_text(f, &c, "A", 1, 10, 40, 30, BL_RGB(0x000000), BL_ALIGN_LEFT, 0);
    int ink_in = 0, ink_out = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int dark = px[(y * W + x) * 4] < 128;
            if (x >= 10 && x < 10 + adv + 1 && y >= 40 - 30 && y <= 41) ink_in += dark;
            else ink_out += dark;
        }
    CHECK(ink_in > 40 && ink_out == 0, "glyph A: %d ink pixels in its box, %d outside", ink_in, ink_out);
    CHECK(bl_font_has_glyph(f, 'A') && bl_font_has_glyph(f, 0x3b1) && bl_font_has_glyph(f, 0x416), "Latin, Greek, Cyrillic in the font");
    /* every symbol the views print: · → … – ∏ √ ⊙ ∑ and the fallback's U+FFFD */
    static const uint32_t used[] = {0xb7, 0x2192, 0x2026, 0x2013, 0x220f, 0x221a, 0x2299, 0x2211, 0xfffd, '%', '[', ']'};
    for (size_t k = 0; k < sizeof used / sizeof used[0]; k++)
        CHECK(bl_font_has_glyph(f, used[k]), "the shipped font has U+%04X", (unsigned)used[k]);
    CHECK(!bl_font_has_glyph(f, 0x4e00), "CJK not in the subset (so the fallback test means something)");
    /* a missing glyph (U+4E00) draws a box: ink on its outline, none in its middle */
    memset(px, 255, (size_t)W * H * 4);
    bl_draw_text(f, &c, "\xe4\xb8\x80", 3, 10, 40, 30, BL_RGB(0x000000), BL_ALIGN_LEFT, 0);
    int minx = W, maxx = -1, miny = H, maxy = -1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (px[(y * W + x) * 4] < 128) {
                if (x < minx) minx = x;
                if (x > maxx) maxx = x;
                if (y < miny) miny = y;
                if (y > maxy) maxy = y;
            }
    int cx = (minx + maxx) / 2, cy = (miny + maxy) / 2;
    CHECK(maxx - minx >= 8 && maxy - miny >= 12, "fallback box has a size: %dx%d", maxx - minx + 1, maxy - miny + 1);
    CHECK(maxx >= 0 && px[(cy * W + cx) * 4] > 200, "fallback box is hollow");
    CHECK(maxx >= 0 && px[(cy * W + minx) * 4] < 128 && px[(miny * W + cx) * 4] < 128, "fallback box has edges");
    /* ellipsis: a long token is cut to the width asked for */
    float full = bl_text_width(f, "supercalifragilistic", 20, 12);
    int ell = 0, fit = bl_text_fit(f, "supercalifragilistic", 20, 12, full / 2, &ell);
    CHECK(ell == 1 && fit > 0 && fit < 20, "ellipsize: fit %d bytes", fit);
    CHECK(bl_text_fit(f, "ab", 2, 12, 1000, &ell) == 2 && ell == 0, "short text is not ellipsized");
    /* UTF-8 decoding never splits or overruns */
    int i = 0;
    CHECK(bl_utf8_next("\xce\xb1", 2, &i) == 0x3b1 && i == 2, "utf8 2-byte");
    i = 0;
    CHECK(bl_utf8_next("\xe4\xb8", 2, &i) == 0xfffd && i == 1, "truncated utf8 -> U+FFFD");
    i = 0;
    CHECK(bl_utf8_next("\xc0\xaf", 2, &i) == 0xfffd, "overlong utf8 -> U+FFFD");
    /* rotated text puts its ink in a tall box */
    memset(px, 255, (size_t)W * H * 4);
    bl_draw_text_rot90(f, &c, "Wide", 4, 30, 55, 12, BL_RGB(0x000000), 0);
    minx = W; maxx = -1; miny = H; maxy = -1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (px[(y * W + x) * 4] < 128) {
                if (x < minx) minx = x;
                if (x > maxx) maxx = x;
                if (y < miny) miny = y;
                if (y > maxy) maxy = y;
            }
    CHECK(maxy - miny > 2 * (maxx - minx), "rotated text is taller than wide (%dx%d)", maxx - minx, maxy - miny);
    free(px);
    bl_font_free(f);
    /* bad fonts are errors, not crashes */
    uint8_t junk[64] = {0};
    CHECK(bl_font_new(junk, sizeof junk, &e) == NULL, "junk font rejected");
    uint8_t *cut = malloc(len);
    memcpy(cut, ttf, len);
    CHECK(bl_font_new(cut, 200, &e) == NULL && strstr(e.msg, "font"), "truncated font rejected: %s", e.msg);
    free(cut);
}

static void test_heatmap_layout(bl_renderer *r) {
    int prev_cell = 1 << 20;
    for (int n = 1; n <= 512; n *= 2) {
        synth s;
        synth_make(&s, n, 1, 2, 0);
        bl_render_input in = synth_input(&s);
        bl_view_opts o = opts(BL_VIEW_HEATMAP);
        bl_err e;
        int w, h;
        const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
        CHECK(px != NULL, "heatmap n=%d: %s", n, px ? "" : e.msg);
        if (!px) { synth_free(&s); continue; }
        CHECK(w == 900 && r->nr == n && r->nc == n, "n=%d: width %d, %dx%d cells", n, w, r->nr, r->nc);
        CHECK(r->cell <= prev_cell && r->cell * n <= w && r->cell >= 1, "n=%d: cell %d (previous %d)", n, r->cell, prev_cell);
        CHECK(r->cell <= 56, "n=%d: cell capped (%d)", n, r->cell);
        CHECK(r->mat.x + r->mat.w <= w && r->mat.y + r->mat.h <= h, "n=%d: matrix inside the frame", n);
        prev_cell = r->cell;
        /* hit test: the centre of every (sampled) cell maps back to it and its value */
        int bad = 0;
        for (int i = 0; i < n; i += (n > 16 ? 7 : 1))
            for (int j = 0; j < n; j += (n > 16 ? 5 : 1)) {
                int cx = r->mat.x + j * r->cell + r->cell / 2, cy = r->mat.y + i * r->cell + r->cell / 2;
                bl_hit hit = bl_hit_test(r, cx, cy);
                if (hit.kind != 1 || hit.from != i || hit.to != j || hit.value != s.attn[(size_t)i * n + j] ||
                    hit.layer != 0 || hit.head != 0)
                    bad++;
            }
        CHECK(bad == 0, "n=%d: %d cells hit-test wrong", n, bad);
        bl_hit none = bl_hit_test(r, 1, 1);
        CHECK(none.kind == 0, "n=%d: corner hits nothing", n);
        synth_free(&s);
    }
    /* wider canvas, bigger cells; scale 2 doubles the device size and keeps hit tests in CSS px */
    synth s;
    synth_make(&s, 40, 1, 1, 0);
    bl_render_input in = synth_input(&s);
    bl_view_opts o = opts(BL_VIEW_HEATMAP);
    bl_err e;
    int w, h, w2, h2;
    o.width = 600;
    bl_render(r, &in, &o, &w, &h, &e);
    int c600 = r->cell;
    o.width = 1200;
    bl_render(r, &in, &o, &w, &h, &e);
    CHECK(r->cell > c600, "wider view, bigger cells (%d vs %d)", r->cell, c600);
    o.width = 600;
    o.scale = 2;
    CHECK(bl_render(r, &in, &o, &w2, &h2, &e) != NULL, "scale 2: %s", e.msg);
    CHECK(w2 == 1200, "scale 2: device width %d", w2);
    int cx = (r->mat.x + 3 * r->cell + r->cell / 2) / 2, cy = (r->mat.y + 5 * r->cell + r->cell / 2) / 2;
    bl_hit hit = bl_hit_test(r, cx, cy);
    CHECK(hit.kind == 1 && hit.from == 5 && hit.to == 3, "scale 2 hit test in CSS px: %d %d %d", hit.kind, hit.from, hit.to);
    /* fractional and large devicePixelRatio: hit tests still land in the right cell */
    for (float sc = 1.25f; sc <= 3.0f; sc += 0.25f) {
        o.width = 500;
        o.scale = sc;
        if (!bl_render(r, &in, &o, &w2, &h2, &e)) { CHECK(0, "scale %.2f: %s", sc, e.msg); continue; }
        CHECK(w2 == (int)lroundf(500 * sc), "scale %.2f: width %d", sc, w2);
        int bad = 0;
        for (int i = 0; i < 40; i += 3)
            for (int j = 0; j < 40; j += 7) {
                /* CSS pixel whose device square lies inside cell (i, j) */
                float dx = r->mat.x + j * r->cell + r->cell * 0.5f, dy = r->mat.y + i * r->cell + r->cell * 0.5f;
                bl_hit hh = bl_hit_test(r, (int)(dx / sc), (int)(dy / sc));
                if (r->cell >= 2 * sc && (hh.kind != 1 || hh.from != i || hh.to != j)) bad++;
            }
        CHECK(bad == 0, "scale %.2f: %d cells hit wrong (cell %d px)", sc, bad, r->cell);
    }
    /* mean of heads */
    synth_free(&s);
    synth_make(&s, 5, 2, 3, 0);
    in = synth_input(&s);
    o = opts(BL_VIEW_HEATMAP);
    o.layer = 1;
    o.head = -1;
    bl_render(r, &in, &o, &w, &h, &e);
    hit = bl_hit_test(r, r->mat.x + 2 * r->cell + 1, r->mat.y + 1 * r->cell + 1);
    float want = 0;
    for (int hh = 0; hh < 3; hh++) want += s.attn[(((size_t)1 * 3 + hh) * 5 + 1) * 5 + 2];
    CHECK(hit.kind == 1 && fabsf(hit.value - want / 3) < 1e-6f && hit.head == -1 && hit.layer == 1,
          "mean head value %f want %f", hit.value, want / 3);
    synth_free(&s);
}

static void test_hover(bl_renderer *r) {
    synth s;
    synth_make(&s, 9, 1, 1, 0);
    bl_render_input in = synth_input(&s);
    bl_view_opts o = opts(BL_VIEW_HEATMAP);
    bl_err e;
    int w, h, w2, h2;
    const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
    size_t sz = (size_t)w * h * 4;
    uint8_t *base = malloc(sz);
    memcpy(base, px, sz);
    bl_rect m = r->mat;
    int cell = r->cell, hi = 2, hj = 6;
    o.hover_x = m.x + hj * cell + cell / 2;
    o.hover_y = m.y + hi * cell + cell / 2;
    px = bl_render(r, &in, &o, &w2, &h2, &e);
    CHECK(w2 == w && h2 == h && r->mat.x == m.x && r->mat.y == m.y && r->cell == cell, "hover does not move the layout");
    int in_row = 0, in_col = 0, outside = 0;
    for (int y = m.y; y < m.y + m.h; y++)
        for (int x = m.x; x < m.x + m.w; x++) {
            size_t k = ((size_t)y * w + x) * 4;
            if (!memcmp(px + k, base + k, 4)) continue;
            int ci = (y - m.y) / cell, cj = (x - m.x) / cell;
            if (ci == hi) in_row++;
            else if (cj == hj) in_col++;
            else outside++;
        }
    CHECK(in_row > 0 && in_col > 0 && outside == 0, "hover changes row %d (%d px) and column %d (%d px) only (%d elsewhere)",
          hi, in_row, hj, in_col, outside);
    /* the readout under the matrix changes too */
    int below = 0;
    for (int y = m.y + m.h + 2; y < h; y++)
        for (int x = 0; x < w; x++) below += memcmp(px + ((size_t)y * w + x) * 4, base + ((size_t)y * w + x) * 4, 4) != 0;
    CHECK(below > 0, "hover readout drawn");
    /* dark theme: a dark background, light text */
    o.hover_x = o.hover_y = -1;
    o.dark = 1;
    px = bl_render(r, &in, &o, &w2, &h2, &e);
    CHECK(lum(base) > 200 && px && lum(px) < 60, "dark background: light %d, dark %d", lum(base), px ? lum(px) : -1);
    free(base);
    synth_free(&s);
}

static void test_filters(bl_renderer *r) {
    synth s;
    synth_make(&s, 12, 1, 1, 1);   /* [CLS] a.. [SEP] | b.. [SEP], n_a = 6 */
    bl_render_input in = synth_input(&s);
    bl_view_opts o = opts(BL_VIEW_HEATMAP);
    bl_err e;
    int w, h;
    o.hide_special = 1;
    CHECK(bl_render(r, &in, &o, &w, &h, &e) && r->nr == 9 && r->nc == 9, "hide_special hides 3 tokens: %dx%d", r->nr, r->nc);
    bl_hit hit = bl_hit_test(r, r->mat.x + 1, r->mat.y + 1);
    CHECK(hit.from == 1 && hit.to == 1, "first shown cell is token 1 (%d,%d)", hit.from, hit.to);
    o.hide_special = 0;
    o.pair_filter = BL_PAIR_AB;
    CHECK(bl_render(r, &in, &o, &w, &h, &e) && r->nr == 6 && r->nc == 6, "A->B: %dx%d", r->nr, r->nc);
    hit = bl_hit_test(r, r->mat.x + 1, r->mat.y + 1);
    CHECK(hit.from == 0 && hit.to == 6, "A->B top-left is (0,6): (%d,%d)", hit.from, hit.to);
    o.pair_filter = BL_PAIR_BA;
    bl_render(r, &in, &o, &w, &h, &e);
    hit = bl_hit_test(r, r->mat.x + 1, r->mat.y + 1);
    CHECK(hit.from == 6 && hit.to == 0, "B->A top-left is (6,0): (%d,%d)", hit.from, hit.to);
    /* threshold: a cell below it is drawn with the colour of 0, but still reports its value */
    o.pair_filter = BL_PAIR_ALL;
    o.threshold = 0.5f;
    const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
    uint8_t c0[3];
    bl_colormap(BL_CMAP_YLGNBU, 0, c0);
    int x = r->mat.x + 3 * r->cell + 1, y = r->mat.y + 5 * r->cell + 1;   /* (5,3): small value */
    CHECK(px && !memcmp(px + ((size_t)y * w + x) * 4, c0, 3), "below-threshold cell has the zero colour");
    /* single-segment input with a B filter shows a message, not an error */
    synth s1;
    synth_make(&s1, 5, 1, 1, 0);
    in = synth_input(&s1);
    o.threshold = 0;
    o.pair_filter = BL_PAIR_BB;
    CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL && !r->has_mat, "B->B with no B: message view");
    synth_free(&s1);
    synth_free(&s);
}

static void test_views(bl_renderer *r) {
    static const int ns[] = {1, 7, 64};
    static const char *names[] = {"heatmap", "model", "head", "neuron", "rollout", "flow", "mlm", "task", "headmap"};
    for (int v = 0; v < BL_VIEW_COUNT; v++)
        for (int a = 0; a < 3; a++)
            for (int sc = 1; sc <= 2; sc++)
                for (int dark = 0; dark <= 1; dark++) {
                    if (dark && sc == 2) continue;
                    synth s;
                    synth_make(&s, ns[a], 3, 4, ns[a] > 4);
                    bl_render_input in = synth_input(&s);
                    int mpos[2] = {ns[a] > 2 ? 2 : 0, ns[a] - 1};
                    const char *mt[6] = {"cat", "dog", "\xe4\xb8\x80", "mouse", "a-very-long-candidate-token", "x"};
                    float mp[6] = {0.5f, 0.3f, 0.1f, 0.6f, 0.2f, 0.05f};
                    in.mlm_count = ns[a] > 1 ? 2 : 1; in.mlm_k = 3; in.mlm_pos = mpos; in.mlm_tokens = mt; in.mlm_p = mp;
                    bl_view_opts o = opts(v);
                    o.scale = (float)sc;
                    o.dark = dark;
                    o.layer = 2;
                    o.head = v == BL_VIEW_HEAD ? -1 : 2;   /* (2+2)%4: diagonal + [CLS] */
                    o.token = ns[a] > 3 ? 3 : -1;
                    o.hover_x = 200; o.hover_y = 120;
                    bl_err e;
                    int w = 0, h = 0;
                    const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
                    CHECK(px != NULL, "%s n=%d scale %d: %s", names[v], ns[a], sc, px ? "" : e.msg);
                    CHECK(w >= 900 * sc && w <= BL_FB_MAX && h > 0 && h <= BL_FB_MAX, "%s n=%d: %dx%d", names[v], ns[a], w, h);
                    /* something besides background was drawn */
                    int ink = 0;
                    for (size_t k = 0; px && k < (size_t)w * h; k += 7) ink += memcmp(px + k * 4, px, 3) != 0;
                    CHECK(ink > 100, "%s n=%d: drew something (%d)", names[v], ns[a], ink);
                    char nm[64];
                    snprintf(nm, sizeof nm, "%s_n%d_s%d%s", names[v], ns[a], sc, dark ? "_dark" : "");
                    dump(nm, px, w, h);
                    synth_free(&s);
                }
    /* n = 512 at scale 3 still fits (the framebuffer cap) for every view */
    synth s;
    synth_make(&s, 512, 2, 2, 1);
    bl_render_input in = synth_input(&s);
    for (int v = 0; v < BL_VIEW_COUNT; v++) {
        bl_view_opts o = opts(v);
        o.scale = 3;
        o.width = 1200;
        bl_err e;
        int w, h;
        const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
        CHECK(px != NULL && w <= BL_FB_MAX && h <= BL_FB_MAX, "%s n=512 scale 3: %s", names[v], px ? "" : e.msg);
        char nm[64];
        snprintf(nm, sizeof nm, "%s_n512_s3", names[v]);
        if (v == 0 || v == 2) dump(nm, px, w, h);
    }
    synth_free(&s);
}

/* The same maps as floats (attn) and as 16-bit (attn16, the page's storage for long bert-base
   runs) draw the same pixels in every view: the floats here are exactly what bl_attk widens
   the 16-bit values to. Also the hit value under the pointer. */
static void test_u16_views(bl_renderer *r) {
    static const char *names[] = {"heatmap", "model", "head", "neuron", "rollout", "flow", "mlm", "task", "headmap"};
    static const int ns[] = {7, 64};
    for (int a = 0; a < 2; a++) {
        synth s;
        synth_make(&s, ns[a], 3, 4, 1);
        const size_t len = (size_t)3 * 4 * ns[a] * ns[a];
        uint16_t *a16 = malloc(len * sizeof *a16);
        uint8_t *want = NULL;
        for (size_t k = 0; k < len; k++) {
            a16[k] = (uint16_t)(s.attn[k] * 65535.0f + 0.5f);
            s.attn[k] = (float)a16[k] * (1.0f / 65535.0f);
        }
        for (int v = 0; v < BL_VIEW_COUNT; v++)
            for (int head = -1; head <= 2; head += 3) {
                bl_render_input in = synth_input(&s);
                int mpos[1] = {2};
                const char *mt[2] = {"cat", "dog"};
                float mp[2] = {0.5f, 0.3f};
                in.mlm_count = 1; in.mlm_k = 2; in.mlm_pos = mpos; in.mlm_tokens = mt; in.mlm_p = mp;
                bl_view_opts o = opts(v);
                o.layer = 1; o.head = head; o.token = 3;
                o.hover_x = 300; o.hover_y = 200;
                bl_err e;
                int w0 = 0, h0 = 0, w1 = 0, h1 = 0;
                const uint8_t *px = bl_render(r, &in, &o, &w0, &h0, &e);
                CHECK(px != NULL, "u16 %s: %s", names[v], px ? "" : e.msg);
                if (!px) continue;
                free(want);
                want = malloc((size_t)w0 * h0 * 4);
                memcpy(want, px, (size_t)w0 * h0 * 4);
                const bl_hit hit0 = bl_hit_test(r, 300, 200);
                in.attn = NULL;
                in.attn16 = a16;
                px = bl_render(r, &in, &o, &w1, &h1, &e);
                CHECK(px && w1 == w0 && h1 == h0 && !memcmp(px, want, (size_t)w0 * h0 * 4),
                      "u16 %s n=%d head %d: pixels differ from the float maps'", names[v], ns[a], head);
                const bl_hit hit1 = bl_hit_test(r, 300, 200);
                CHECK(!memcmp(&hit0, &hit1, sizeof hit0), "u16 %s: hit differs", names[v]);
            }
        free(want);
        free(a16);
        synth_free(&s);
    }
}

static void test_model_and_head_hits(bl_renderer *r) {
    synth s;
    synth_make(&s, 7, 12, 12, 0);
    bl_render_input in = synth_input(&s);
    bl_view_opts o = opts(BL_VIEW_MODEL);
    bl_err e;
    int w, h, bad = 0, found = 0;
    CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL, "model view: %s", e.msg);
    /* every region of the grid answers with its own (layer, head); all 144 present */
    for (int k = 0; k < r->nreg; k++) {
        bl_region g = r->reg[k];
        bl_hit hit = bl_hit_test(r, (g.r.x + g.r.w / 2), (g.r.y + g.r.h / 2));
        if (hit.kind != 3 || hit.layer != g.hit.layer || hit.head != g.hit.head) bad++;
        found++;
    }
    CHECK(found == 144 && bad == 0, "model view: %d thumbnails, %d wrong", found, bad);
    /* thumbnails are cached across hovers, but a new forward pass in the same buffer shows */
    {
        bl_rect t0 = r->reg[0].r;
        int cx = t0.x + t0.w / 2, cy = t0.y + 4;   /* top row of layer 0 / head 0: [CLS]'s row */
        const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
        uint8_t before[4];
        memcpy(before, px + ((size_t)cy * w + cx) * 4, 4);
        for (int k = 0; k < 49; k++) s.attn[k] = (k % 8 == 0) ? 1.0f : 0.0f;   /* layer 0 head 0 := identity */
        o.hover_x = 5; o.hover_y = 5;
        px = bl_render(r, &in, &o, &w, &h, &e);
        CHECK(memcmp(before, px + ((size_t)cy * w + cx) * 4, 3) != 0, "model view cache invalidated by new attention");
        /* with maps_id the caches trust the caller: the same id keeps the cached thumbnails
           (no sampling), a new one redraws them */
        memcpy(before, px + ((size_t)cy * w + cx) * 4, 4);
        in.maps_id = 7;
        px = bl_render(r, &in, &o, &w, &h, &e);
        for (int k = 0; k < 49; k++) s.attn[k] = 1.0f / 7;   /* layer 0 head 0 := uniform */
        o.hover_x = 6;
        px = bl_render(r, &in, &o, &w, &h, &e);
        CHECK(memcmp(before, px + ((size_t)cy * w + cx) * 4, 3) == 0, "maps_id unchanged: the cached thumbnail stays");
        in.maps_id = 8;
        px = bl_render(r, &in, &o, &w, &h, &e);
        CHECK(memcmp(before, px + ((size_t)cy * w + cx) * 4, 3) != 0, "a new maps_id: the new attention shows");
        in.maps_id = 0;
        o.hover_x = o.hover_y = -1;
    }
    /* head view: token hits on both sides, head swatches */
    o = opts(BL_VIEW_HEAD);
    o.head = -1;
    bl_render(r, &in, &o, &w, &h, &e);
    int left = 0, right = 0, sw = 0;
    for (int k = 0; k < r->nreg; k++) {
        bl_hit g = r->reg[k].hit;
        if (g.kind == 2 && g.side == 0) left++;
        if (g.kind == 2 && g.side == 1) right++;
        if (g.kind == 3) sw++;
    }
    CHECK(left == 7 && right == 7 && sw == 12, "head view regions: %d left, %d right, %d swatches", left, right, sw);
    /* hovering a left token isolates its lines: fewer line pixels than with all lines */
    const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
    size_t sz = (size_t)w * h * 4;
    uint8_t *all = malloc(sz);
    memcpy(all, px, sz);
    dump("head_all_n7_12heads", px, w, h);
    bl_rect tok = {0};
    for (int k = 0; k < r->nreg; k++)
        if (r->reg[k].hit.kind == 2 && r->reg[k].hit.side == 0 && r->reg[k].hit.from == 3) tok = r->reg[k].r;
    o.hover_x = tok.x + tok.w / 2;
    o.hover_y = tok.y + tok.h / 2;
    px = bl_render(r, &in, &o, &w, &h, &e);
    bl_hit hh = bl_hit_test(r, o.hover_x, o.hover_y);
    CHECK(hh.kind == 2 && hh.from == 3 && hh.side == 0, "hit on left token 3");
    int ink_all = 0, ink_iso = 0;
    int x0 = tok.x + tok.w + 4, x1 = w - tok.x - tok.w - 4;
    for (int y = 0; y < h; y++)
        for (int x = x0; x < x1; x++) {
            ink_all += lum(all + ((size_t)y * w + x) * 4) < 245;
            ink_iso += lum(px + ((size_t)y * w + x) * 4) < 245;
        }
    CHECK(ink_iso > 0 && ink_iso < ink_all / 2, "isolated lines: %d vs %d ink pixels", ink_iso, ink_all);
    /* back to no isolation: the cached line layer gives the same picture as the first render */
    o.hover_x = o.hover_y = -1;
    px = bl_render(r, &in, &o, &w, &h, &e);
    CHECK(px && !memcmp(px, all, sz), "cached line layer reproduces the full view");
    /* new attention in the same buffer (layer 0 := identity for every head) redraws the lines */
    for (size_t k = 0; k < (size_t)12 * 49; k++) s.attn[k] = (k % 49) % 8 == 0 ? 1.0f : 0.0f;
    px = bl_render(r, &in, &o, &w, &h, &e);
    CHECK(px && memcmp(px, all, sz) != 0, "line layer recomputed for new attention");
    free(all);
    synth_free(&s);
}

/* token labels, masked-LM choices and neuron rows answer hit tests with the right fields */
static void test_other_hits(bl_renderer *r) {
    synth s;
    synth_make(&s, 7, 2, 2, 0);
    bl_render_input in = synth_input(&s);
    bl_view_opts o = opts(BL_VIEW_HEATMAP);
    bl_err e;
    int w, h;
    bl_render(r, &in, &o, &w, &h, &e);
    bl_hit row = bl_hit_test(r, r->mat.x - 10, r->mat.y + 4 * r->cell + r->cell / 2);
    bl_hit col = bl_hit_test(r, r->mat.x + 5 * r->cell + r->cell / 2, r->mat.y - 10);
    CHECK(row.kind == 2 && row.from == 4 && row.side == 0, "row label hit: kind %d from %d side %d", row.kind, row.from, row.side);
    CHECK(col.kind == 2 && col.from == 5 && col.side == 1, "column label hit: kind %d from %d side %d", col.kind, col.from, col.side);
    /* hovering a row label highlights that row's cells */
    const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
    size_t sz = (size_t)w * h * 4;
    uint8_t *base = malloc(sz);
    memcpy(base, px, sz);
    o.hover_x = r->mat.x - 10;
    o.hover_y = r->mat.y + 4 * r->cell + r->cell / 2;
    px = bl_render(r, &in, &o, &w, &h, &e);
    int row4 = 0, other = 0;
    for (int y = r->mat.y; y < r->mat.y + r->mat.h; y++)
        for (int x = r->mat.x; x < r->mat.x + r->mat.w; x++) {
            size_t k = ((size_t)y * w + x) * 4;
            if (memcmp(px + k, base + k, 4)) { if ((y - r->mat.y) / r->cell == 4) row4++; else other++; }
        }
    CHECK(row4 > 0 && other == 0, "row-label hover: %d px in row 4, %d elsewhere", row4, other);
    free(base);

    int mpos[2] = {2, 5};
    const char *mt[4] = {"cat", "dog", "mouse", "rat"};
    float mp[4] = {0.5f, 0.25f, 0.6f, 0.1f};
    in.mlm_count = 2; in.mlm_k = 2; in.mlm_pos = mpos; in.mlm_tokens = mt; in.mlm_p = mp;
    o = opts(BL_VIEW_MLM);
    bl_render(r, &in, &o, &w, &h, &e);
    int choices = 0, chips = 0, bad = 0;
    for (int k = 0; k < r->nreg; k++) {
        bl_region g = r->reg[k];
        bl_hit hit = bl_hit_test(r, g.r.x + g.r.w / 2, g.r.y + g.r.h / 2);
        if (hit.kind == 4) {
            choices++;
            if (hit.from != mpos[hit.head] || hit.value != mp[hit.head * 2 + hit.to]) bad++;
        } else if (hit.kind == 2) {
            chips++;
            if (hit.from < 0 || hit.from >= 7 || hit.side != 0) bad++;
        } else bad++;
    }
    CHECK(choices == 4 && chips == 7 && bad == 0, "mlm hits: %d choices, %d chips, %d bad", choices, chips, bad);

    o = opts(BL_VIEW_NEURON);
    o.layer = 1; o.head = 1; o.token = 2;
    bl_render(r, &in, &o, &w, &h, &e);
    int rows = 0;
    float psum = 0;
    for (int k = 0; k < r->nreg; k++)
        if (r->reg[k].hit.kind == 2) { rows++; psum += r->reg[k].hit.value; }
    CHECK(rows == 7 && fabsf(psum - 1) < 1e-4f, "neuron rows %d, softmax sums to %f", rows, psum);
    /* the softmax is q·k/√d over keys: check one weight by hand */
    const float *q = s.qs[1] + 2 * 2 * 8 + 8, *k3 = s.ks[1] + 3 * 2 * 8 + 8;
    float sc[7], mx = -1e30f, sum = 0;
    for (int j = 0; j < 7; j++) {
        const float *kj = s.ks[1] + j * 2 * 8 + 8;
        sc[j] = 0;
        for (int c = 0; c < 8; c++) sc[j] += q[c] * kj[c];
        sc[j] /= sqrtf(8);
        if (sc[j] > mx) mx = sc[j];
    }
    for (int j = 0; j < 7; j++) sum += expf(sc[j] - mx);
    (void)k3;
    for (int k = 0; k < r->nreg; k++)
        if (r->reg[k].hit.kind == 2 && r->reg[k].hit.from == 3)
            CHECK(fabsf(r->reg[k].hit.value - expf(sc[3] - mx) / sum) < 1e-5f, "neuron softmax[3] %f", r->reg[k].hit.value);
    synth_free(&s);
}

static void test_rollout_flow(bl_renderer *r) {
    /* rollout: identity attention gives identity; rows always sum to 1 */
    synth s;
    synth_make(&s, 6, 3, 2, 0);
    bl_render_input in = synth_input(&s);
    float *R = malloc(sizeof(float) * 36);
    CHECK(bl_render_rollout(r, &in, 2, R) == 0, "rollout runs");
    int bad = 0;
    for (int i = 0; i < 6; i++) {
        float sum = 0;
        for (int j = 0; j < 6; j++) sum += R[i * 6 + j];
        if (fabsf(sum - 1) > 1e-4f) bad++;
    }
    CHECK(bad == 0, "rollout rows sum to 1");
    /* one layer: rollout = 0.5*mean + 0.5*I */
    CHECK(bl_render_rollout(r, &in, 0, R) == 0, "rollout layer 0");
    float want = 0.5f * (s.attn[1 * 6 + 0] + s.attn[36 + 1 * 6 + 0]) / 2;
    CHECK(fabsf(R[1 * 6 + 0] - want) < 1e-5f, "rollout(0)[1][0] = %f want %f", R[6], want);
    /* flow through 2 layers from token j to [CLS]: each middle node k has one way to the sink,
       so the max-flow is sum_k min(A'0[k][j], A'1[0][k]). Check the view's numbers. */
    float *A0 = malloc(sizeof(float) * 36), *A1 = malloc(sizeof(float) * 36);
    bl_view_opts o = opts(BL_VIEW_FLOW);
    o.layer = 1;
    bl_err e;
    int w, h;
    CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL, "flow view: %s", e.msg);
    /* A' by hand */
    for (int l = 0; l < 2; l++) {
        float *A = l ? A1 : A0;
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++)
                A[i * 6 + j] = 0.5f * (s.attn[((l * 2 + 0) * 6 + i) * 6 + j] + s.attn[((l * 2 + 1) * 6 + i) * 6 + j]) / 2 +
                               (i == j ? 0.5f : 0);
    }
    int checked = 0;
    bad = 0;
    for (int k = 0; k < r->nreg; k++) {
        bl_hit g = r->reg[k].hit;
        if (g.kind != 2) continue;
        float f = 0;
        for (int m = 0; m < 6; m++) f += fminf(A0[m * 6 + g.from], A1[0 * 6 + m]);
        if (fabsf(f - g.value) > 1e-4f) { bad++; fprintf(stderr, "flow %d: %f want %f\n", g.from, g.value, f); }
        checked++;
    }
    CHECK(checked == 6 && bad == 0, "flow matches the 2-layer closed form (%d checked, %d bad)", checked, bad);
    /* cached: a second render (hover) gives the same numbers */
    o.hover_x = 100; o.hover_y = 100;
    bl_render(r, &in, &o, &w, &h, &e);
    bl_hit g0 = r->reg[0].hit;
    float f0 = 0;
    for (int m = 0; m < 6; m++) f0 += fminf(A0[m * 6 + g0.from], A1[m]);
    CHECK(fabsf(g0.value - f0) < 1e-4f, "cached flow value");
    /* the rollout cache notices new attention in the same buffer (a new forward pass) */
    o = opts(BL_VIEW_ROLLOUT);
    o.layer = 2;
    bl_render(r, &in, &o, &w, &h, &e);
    bl_hit before = bl_hit_test(r, r->mat.x + 0 * r->cell + 1, r->mat.y + 1 * r->cell + 1);
    bl_render_rollout(r, &in, 2, R);
    CHECK(before.kind == 1 && fabsf(before.value - R[6]) < 1e-6f, "rollout view shows the rollout (%f vs %f)", before.value, R[6]);
    for (size_t k = 0; k < (size_t)3 * 2 * 36; k++) s.attn[k] = (k % 6 == (k / 6) % 6) ? 1.0f : 0.0f;  /* identity */
    bl_render(r, &in, &o, &w, &h, &e);
    bl_hit after = bl_hit_test(r, r->mat.x + 0 * r->cell + 1, r->mat.y + 1 * r->cell + 1);
    CHECK(after.kind == 1 && after.value == 0.0f && before.value > 0, "rollout recomputed after the attention changed (%f -> %f)",
          before.value, after.value);
    free(A0); free(A1); free(R);
    synth_free(&s);
}

/* Reference max-flow: Edmonds-Karp on a dense V×V capacity matrix, in double. */
static double ek_maxflow(double *cap, int V, int src, int sink) {
    double total = 0;
    int *prev = malloc(sizeof(int) * V), *queue = malloc(sizeof(int) * V);
    for (;;) {
        for (int v = 0; v < V; v++) prev[v] = -1;
        prev[src] = src;
        int qh = 0, qt = 0;
        queue[qt++] = src;
        while (qh < qt && prev[sink] < 0) {
            int v = queue[qh++];
            for (int u = 0; u < V; u++)
                if (prev[u] < 0 && cap[v * V + u] > 1e-12) { prev[u] = v; queue[qt++] = u; }
        }
        if (prev[sink] < 0) break;
        double f = 1e30;
        for (int v = sink; v != src; v = prev[v]) f = fmin(f, cap[prev[v] * V + v]);
        for (int v = sink; v != src; v = prev[v]) { cap[prev[v] * V + v] -= f; cap[v * V + prev[v]] += f; }
        total += f;
    }
    free(prev);
    free(queue);
    return total;
}

/* Flow through 4 layers of random attention against the reference implementation. */
static void test_flow_reference(bl_renderer *r) {
    int n = 6, L = 4, H = 3;
    synth s;
    synth_make(&s, n, L, H, 0);
    unsigned seed = 12345;
    for (size_t k = 0; k < (size_t)L * H * n * n; k++) {
        seed = seed * 1103515245u + 12345u;
        s.attn[k] = (float)((seed >> 8) & 0xffff) / 65536.0f;
        s.attn[k] = s.attn[k] * s.attn[k] * s.attn[k];   /* peaky, like real attention */
    }
    for (size_t row = 0; row < (size_t)L * H * n; row++) {
        float sum = 0;
        for (int j = 0; j < n; j++) sum += s.attn[row * n + j];
        for (int j = 0; j < n; j++) s.attn[row * n + j] /= sum;
    }
    bl_render_input in = synth_input(&s);
    bl_view_opts o = opts(BL_VIEW_FLOW);
    o.layer = L - 1;
    bl_err e;
    int w, h;
    CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL, "flow view: %s", e.msg);
    int V = (L + 1) * n, bad = 0, checked = 0;
    double *cap = malloc(sizeof(double) * V * V);
    for (int k = 0; k < r->nreg; k++) {
        bl_hit g = r->reg[k].hit;
        if (g.kind != 2) continue;
        memset(cap, 0, sizeof(double) * V * V);
        for (int l = 0; l < L; l++)
            for (int i = 0; i < n; i++) {
                double a[16], sum = 0;
                for (int j = 0; j < n; j++) {
                    double m = 0;
                    for (int hh = 0; hh < H; hh++) m += s.attn[(((size_t)l * H + hh) * n + i) * n + j];
                    a[j] = 0.5 * m / H + (i == j ? 0.5 : 0);
                    sum += a[j];
                }
                for (int j = 0; j < n; j++) cap[(l * n + j) * V + (l + 1) * n + i] = a[j] / sum;
            }
        double want = ek_maxflow(cap, V, g.from, L * n + 0);
        if (fabs(want - g.value) > 1e-4) { bad++; fprintf(stderr, "flow[%d] = %f, reference %f\n", g.from, g.value, want); }
        checked++;
    }
    CHECK(checked == n && bad == 0, "flow vs Edmonds-Karp reference: %d checked, %d differ", checked, bad);
    free(cap);
    synth_free(&s);
}

/* ---------------------------------------------------------------- what the pictures mean
   Inputs chosen so a plausible mistake changes the answer: non-symmetric attention (the
   product's order matters), one-hot maps (a transposed index draws a different line), and the
   exact last pixel of the matrix (an off-by-one reads a column that does not exist). */

/* Random row-stochastic, peaky, non-symmetric attention from a fixed seed. */
static void fill_random_attention(synth *s, unsigned seed) {
    size_t rows = (size_t)s->L * s->H * s->n;
    for (size_t row = 0; row < rows; row++) {
        float *a = s->attn + row * s->n, sum = 0;
        for (int j = 0; j < s->n; j++) {
            seed = seed * 1103515245u + 12345u;
            float u = (float)((seed >> 8) & 0xffff) / 65536.0f;
            a[j] = u * u * u + 1e-3f;
            sum += a[j];
        }
        for (int j = 0; j < s->n; j++) a[j] /= sum;
    }
}

/* A'_l = 0.5·mean_heads(A_l) + 0.5·I, rows renormalised, in double. */
static void residual_ref(const synth *s, int l, double *out) {
    int n = s->n;
    for (int i = 0; i < n; i++) {
        double sum = 0;
        for (int j = 0; j < n; j++) {
            double m = 0;
            for (int h = 0; h < s->H; h++) m += s->attn[(((size_t)l * s->H + h) * n + i) * n + j];
            out[i * n + j] = 0.5 * m / s->H + (i == j ? 0.5 : 0.0);
            sum += out[i * n + j];
        }
        for (int j = 0; j < n; j++) out[i * n + j] /= sum;
    }
}

/* Rollout through layer `upto` in double: later layers on the left (R = A'_upto ⋯ A'_0), or
   the reverse when `reversed` (the mistake the test must tell apart). */
static void rollout_ref(const synth *s, int upto, int reversed, double *R) {
    int n = s->n;
    double *a = malloc(sizeof(double) * n * n), *t = malloc(sizeof(double) * n * n);
    residual_ref(s, 0, R);
    for (int l = 1; l <= upto; l++) {
        residual_ref(s, l, a);
        const double *left = reversed ? R : a, *right = reversed ? a : R;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double v = 0;
                for (int k = 0; k < n; k++) v += left[i * n + k] * right[k * n + j];
                t[i * n + j] = v;
            }
        memcpy(R, t, sizeof(double) * n * n);
    }
    free(a);
    free(t);
}

/* The rollout view's numbers, read back through bl_hit_test only (every CSS pixel), against
   the double-precision product; and the reversed product is far enough away to be told apart. */
static void test_rollout_order(bl_renderer *r) {
    int n = 6, L = 4;
    synth s;
    synth_make(&s, n, L, 3, 0);
    fill_random_attention(&s, 2024);
    bl_render_input in = synth_input(&s);
    double *R = malloc(sizeof(double) * n * n), *Rrev = malloc(sizeof(double) * n * n);
    float *got = malloc(sizeof(float) * n * n);
    for (int upto = 1; upto < L; upto++) {
        rollout_ref(&s, upto, 0, R);
        rollout_ref(&s, upto, 1, Rrev);
        double gap = 0;
        for (int k = 0; k < n * n; k++) gap = fmax(gap, fabs(R[k] - Rrev[k]));
        CHECK(gap > 0.02, "rollout through %d: the reversed order differs by %g only (test cannot tell)", upto, gap);
        bl_view_opts o = opts(BL_VIEW_ROLLOUT);
        o.layer = upto;
        bl_err e;
        int w, h;
        CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL, "rollout view: %s", e.msg);
        for (int k = 0; k < n * n; k++) got[k] = NAN;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                bl_hit hit = bl_hit_test(r, x, y);
                if (hit.kind == 1 && hit.from >= 0 && hit.from < n && hit.to >= 0 && hit.to < n)
                    got[hit.from * n + hit.to] = hit.value;
            }
        int bad = 0, missing = 0;
        double err = 0;
        for (int k = 0; k < n * n; k++) {
            if (got[k] != got[k]) { missing++; continue; }
            err = fmax(err, fabs(got[k] - R[k]));
        }
        bad = err > 1e-5;
        CHECK(missing == 0 && !bad, "rollout through layer %d vs double A'_%d...A'_0: %d cells missing, max error %g "
              "(reversed order is %g away)", upto, upto, missing, err, gap);
    }
    free(R); free(Rrev); free(got);
    synth_free(&s);
}

static int is_bg(const uint8_t *px, int w, int h, int x, int y, const uint8_t *bg) {
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            int xx = x + dx, yy = y + dy;
            if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
            if (memcmp(px + ((size_t)yy * w + xx) * 4, bg, 3)) return 0;
        }
    return 1;
}

static int inked(const uint8_t *px, int w, int x, int y, const uint8_t *bg) {
    const uint8_t *p = px + ((size_t)y * w + x) * 4;
    return abs(p[0] - bg[0]) + abs(p[1] - bg[1]) + abs(p[2] - bg[2]) > 60;
}

/* Head view with a one-hot, asymmetric map: row `from` attends only to column `to`. The line
   from the left token `from` to the right token `to` is inked along its length; the mirrored
   line (left `to` -> right `from`) is not, nor is anything else between the columns. */
static void test_head_lines_by_position(bl_renderer *r) {
    const int n = 6, from = 1, to = 4;
    for (int variant = 0; variant < 4; variant++) {
        int all_heads = variant & 1;
        float sc = variant & 2 ? 1.25f : 1.0f;
        synth s;
        synth_make(&s, n, 1, 2, 0);
        memset(s.attn, 0, sizeof(float) * 2 * n * n);
        int head = all_heads ? 1 : 0;   /* all heads: the line lives in head 1, head 0 is empty */
        s.attn[((size_t)head * n + from) * n + to] = 1.0f;
        bl_render_input in = synth_input(&s);
        bl_view_opts o = opts(BL_VIEW_HEAD);
        o.head = all_heads ? -1 : 0;
        o.scale = sc;
        bl_err e;
        int w, h;
        const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
        CHECK(px != NULL, "head view: %s", e.msg);
        if (!px) { synth_free(&s); continue; }
        bl_rect left[6] = {{0}}, right[6] = {{0}};
        for (int k = 0; k < r->nreg; k++) {
            bl_hit g = r->reg[k].hit;
            if (g.kind == 2 && g.from >= 0 && g.from < n) (g.side ? right : left)[g.from] = r->reg[k].r;
        }
        uint8_t bg[3];
        memcpy(bg, px, 3);   /* the top-left corner is background */
        /* the line runs from the right edge of the left labels to the left edge of the right ones */
        float xa = left[0].x + left[0].w, xb = right[0].x;
        int on = 0, off_mirror = 0, samples = 0, stray = 0;
        for (int k = 1; k <= 9; k++) {
            float t = k / 10.0f;
            if (k == 5) continue;   /* the two diagonals cross in the middle */
            float x = xa + t * (xb - xa);
            float y1 = left[from].y + left[from].h * 0.5f + t * (right[to].y - left[from].y);
            float y2 = left[to].y + left[to].h * 0.5f + t * (right[from].y - left[to].y);
            on += inked(px, w, (int)x, (int)y1, bg);
            off_mirror += is_bg(px, w, h, (int)x, (int)y2, bg);
            samples++;
        }
        /* nothing else is drawn between the label columns: every inked pixel there is within
           two pixels of the one line */
        for (int y = left[0].y; y < left[n - 1].y + left[n - 1].h; y++)
            for (int x = (int)xa + 3; x < (int)xb - 3; x++) {
                if (!inked(px, w, x, y, bg)) continue;
                float t = (x + 0.5f - xa) / (xb - xa);
                float yl = left[from].y + left[from].h * 0.5f + t * (right[to].y - left[from].y);
                if (fabsf(y + 0.5f - yl) > 2.5f * sc) stray++;
            }
        CHECK(on == samples && off_mirror == samples && stray == 0,
              "head view %s scale %.2f: line %d->%d inked at %d/%d points, mirrored %d->%d blank at %d/%d, %d stray px",
              all_heads ? "all heads" : "head 0", sc, from, to, on, samples, to, from, off_mirror, samples, stray);
        synth_free(&s);
    }
}

/* The matrix's last device pixel belongs to the last cell; the CSS pixel after it hits no cell
   (at scale 1 that is the very next device pixel; at 1.25 the next CSS pixel's device column). */
static void test_hit_edges(bl_renderer *r) {
    synth s;
    synth_make(&s, 7, 2, 2, 0);
    fill_random_attention(&s, 99);
    bl_render_input in = synth_input(&s);
    for (int v = 0; v < 2; v++)
        for (int k = 0; k < 2; k++) {
            float sc = k ? 1.25f : 1.0f;
            bl_view_opts o = opts(v ? BL_VIEW_ROLLOUT : BL_VIEW_HEATMAP);
            o.scale = sc;
            o.layer = 1;
            o.head = v ? -1 : 1;
            bl_err e;
            int w, h;
            CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL, "render: %s", e.msg);
            /* last CSS pixel whose device pixel is inside the matrix, on each axis */
            int lastx = r->mat.x + r->mat.w - 1, lasty = r->mat.y + r->mat.h - 1;
            int cx = (int)(lastx / sc), cy = (int)(lasty / sc);
            while ((int)((cx + 1) * sc) <= lastx) cx++;
            while ((int)((cy + 1) * sc) <= lasty) cy++;
            int firstx = r->mat.x, firsty = r->mat.y;
            int fx = (int)ceilf(firstx / sc), fy = (int)ceilf(firsty / sc);
            while ((int)((fx - 1) * sc) >= firstx) fx--;
            while ((int)(fx * sc) < firstx) fx++;
            while ((int)(fy * sc) < firsty) fy++;
            int midx = (int)((r->mat.x + r->cell / 2) / sc), midy = (int)((r->mat.y + r->cell / 2) / sc);
            bl_hit corner = bl_hit_test(r, cx, cy), right = bl_hit_test(r, cx + 1, midy), below = bl_hit_test(r, midx, cy + 1);
            bl_hit lastcol = bl_hit_test(r, cx, midy), lastrow = bl_hit_test(r, midx, cy);
            bl_hit before = bl_hit_test(r, fx - 1, midy), above = bl_hit_test(r, midx, fy - 1), first = bl_hit_test(r, fx, fy);
            float want = v ? NAN : s.attn[(((size_t)1 * 2 + 1) * 7 + 6) * 7 + 6];
            CHECK(corner.kind == 1 && corner.from == 6 && corner.to == 6 && (v || corner.value == want),
                  "%s scale %.2f: last pixel (%d,%d) hits cell (%d,%d) kind %d", v ? "rollout" : "heatmap", sc, cx, cy,
                  corner.from, corner.to, corner.kind);
            CHECK(lastcol.kind == 1 && lastcol.from == 0 && lastcol.to == 6 && lastrow.kind == 1 && lastrow.from == 6 &&
                  lastrow.to == 0, "%s scale %.2f: last column/row hit (%d,%d) (%d,%d)", v ? "rollout" : "heatmap", sc,
                  lastcol.from, lastcol.to, lastrow.from, lastrow.to);
            CHECK(right.kind != 1 && below.kind != 1, "%s scale %.2f: one past the last column/row hits a cell (kind %d, %d)",
                  v ? "rollout" : "heatmap", sc, right.kind, below.kind);
            CHECK(first.kind == 1 && first.from == 0 && first.to == 0 && before.kind != 1 && above.kind != 1,
                  "%s scale %.2f: first pixel hits (%d,%d), the one before kind %d, above kind %d", v ? "rollout" : "heatmap",
                  sc, first.from, first.to, before.kind, above.kind);
        }
    synth_free(&s);
}

static void test_errors(bl_renderer *r) {
    synth s;
    synth_make(&s, 5, 2, 2, 0);
    bl_render_input in = synth_input(&s);
    bl_err e;
    int w, h;
    bl_view_opts o = opts(BL_VIEW_HEATMAP);
    o.layer = 2;
    CHECK(!bl_render(r, &in, &o, &w, &h, &e) && strstr(e.msg, "layer"), "layer out of range: %s", e.msg);
    o = opts(BL_VIEW_HEATMAP);
    o.head = 2;
    CHECK(!bl_render(r, &in, &o, &w, &h, &e) && strstr(e.msg, "head"), "head out of range: %s", e.msg);
    o = opts(BL_VIEW_COUNT);
    CHECK(!bl_render(r, &in, &o, &w, &h, &e) && strstr(e.msg, "view"), "unknown view: %s", e.msg);
    o = opts(BL_VIEW_HEATMAP);
    o.colormap = 9;
    CHECK(!bl_render(r, &in, &o, &w, &h, &e) && strstr(e.msg, "colormap"), "unknown colormap: %s", e.msg);
    o = opts(BL_VIEW_HEATMAP);
    o.scale = 0;
    CHECK(!bl_render(r, &in, &o, &w, &h, &e) && strstr(e.msg, "scale"), "scale 0: %s", e.msg);
    o = opts(BL_VIEW_HEATMAP);
    o.width = 2000;
    o.scale = 3;   /* 6000 device px */
    CHECK(!bl_render(r, &in, &o, &w, &h, &e) && strstr(e.msg, "4096"), "too wide: %s", e.msg);
    o = opts(BL_VIEW_HEATMAP);
    in.n = 0;
    CHECK(!bl_render(r, &in, &o, &w, &h, &e) && strstr(e.msg, "n = 0"), "n = 0: %s", e.msg);
    in.n = 5000;
    CHECK(!bl_render(r, &in, &o, &w, &h, &e), "n = 5000 refused");
    in = synth_input(&s);
    in.attn = NULL;
    CHECK(!bl_render(r, &in, &o, &w, &h, &e), "no attention");
    in = synth_input(&s);
    in.mlm_count = 2;
    in.mlm_k = 0;
    o = opts(BL_VIEW_MLM);
    CHECK(!bl_render(r, &in, &o, &w, &h, &e) && strstr(e.msg, "masked"), "bad mlm input: %s", e.msg);
    /* a masked-LM view that would be taller than the cap */
    int pos[200];
    const char *toks[200 * 20];
    float p[200 * 20];
    for (int i = 0; i < 200; i++) pos[i] = 1;
    for (int i = 0; i < 200 * 20; i++) { toks[i] = "x"; p[i] = 0.01f; }
    in.mlm_count = 200; in.mlm_k = 20; in.mlm_pos = pos; in.mlm_tokens = toks; in.mlm_p = p;
    o.scale = 2;
    CHECK(!bl_render(r, &in, &o, &w, &h, &e) && strstr(e.msg, "4096"), "mlm too tall: %s", e.msg);
    /* absurd pointer coordinates are "no pointer", not undefined behaviour */
    in = synth_input(&s);
    o = opts(BL_VIEW_HEATMAP);
    o.hover_x = 2147483647; o.hover_y = 2147483647;
    CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL, "huge hover");
    CHECK(bl_hit_test(r, 2147483647, 5).kind == 0 && bl_hit_test(r, -5, 5).kind == 0, "huge/negative hit test");
    /* the renderer still works after errors */
    in = synth_input(&s);
    o = opts(BL_VIEW_HEATMAP);
    CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL, "renders after errors");
    CHECK(bl_renderer_new(NULL, 0, &e) == NULL, "renderer without a font");
    synth_free(&s);
}

/* Random options and inputs: every call either renders or fails with a message; never crashes
   (run under ASan/UBSan by tests/run.sh). Valid options must always render. */
static int rnd(unsigned *seed, int m) {
    *seed = *seed * 1103515245u + 12345u;
    return (int)((*seed >> 8) % (unsigned)m);
}

static void test_random(bl_renderer *r) {
    unsigned seed = 99;
#define RND(m) rnd(&seed, (m))
    int failures = 0, unexpected = 0;
    for (int it = 0; it < 150; it++) {
        int n = 1 + RND(40), L = 1 + RND(3), H = 1 + RND(4);
        synth s;
        synth_make(&s, n, L, H, RND(2));
        bl_render_input in = synth_input(&s);
        if (RND(4) == 0) in.type_ids = NULL;
        if (RND(4) == 0) in.query = in.key = NULL;
        int mpos[3] = {RND(n), RND(n), RND(n)};
        const char *mt[9] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
        float mp[9] = {0.9f, 0.05f, 0.01f, 0.3f, 0.3f, 0.3f, 1.0f, 0.0f, 0.0f};
        in.mlm_count = RND(4); in.mlm_k = 3; in.mlm_pos = mpos; in.mlm_tokens = mt; in.mlm_p = mp;
        bl_view_opts o = opts(RND(BL_VIEW_COUNT));
        int valid = 1;
        o.layer = RND(L + 1) - (RND(8) == 0);          /* sometimes out of range */
        o.head = RND(H + 2) - 1 - (RND(8) == 0);
        if (o.layer < 0 || o.layer >= L) valid = o.view == BL_VIEW_MODEL || o.view == BL_VIEW_MLM;
        if (o.head < -1 || o.head >= H) valid = 0;
        o.colormap = RND(BL_CMAP_COUNT);
        o.dark = RND(2);
        o.scale = 1 + RND(9) * 0.25f;
        o.width = 120 + RND(1200);
        o.hide_special = RND(2);
        o.pair_filter = RND(5);
        o.threshold = RND(3) * 0.1f;
        o.vmax = RND(3) * 0.5f;
        o.token = RND(n + 2) - 1;
        o.hover_x = RND(1500) - 100;
        o.hover_y = RND(1500) - 100;
        if (o.width * o.scale > BL_FB_MAX) valid = 0;
        bl_err e = {{0}};
        int w, h;
        const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
        if (!px) {
            failures++;
            if (valid || !e.msg[0]) { unexpected++; fprintf(stderr, "random %d: view %d: %s\n", it, o.view, e.msg); }
        } else {
            bl_hit hit = bl_hit_test(r, RND(1500), RND(1500));
            if (hit.kind < 0 || hit.kind > 4 || (hit.kind == 1 && (hit.from < 0 || hit.from >= n || hit.to < 0 || hit.to >= n)))
                unexpected++;
        }
        synth_free(&s);
    }
#undef RND
    CHECK(unexpected == 0 && failures > 0 && failures < 100, "random options: %d unexpected results (%d expected errors)", unexpected, failures);
}

/* Word-level views: pieces merged as bl_word_attention defines it, checked against an input the
   test merges itself (to-word sums, from-word means, labels joined): the rollout, flow and head
   views draw the same pixels from either below the header, the heatmap's cells read back the
   merged values through hit tests, and the pixels without words are untouched. */
static void test_words(bl_renderer *r) {
    synth s;
    synth_make(&s, 12, 2, 3, 0);   /* token 6 is "##s": "mat" + "##s" is one word */
    bl_render_input in = synth_input(&s);
    int wof[12], nw = 0;
    for (int i = 0; i < s.n; i++) wof[i] = (i > 0 && s.tok[i][0] == '#' && s.tok[i][1] == '#') ? nw - 1 : nw++;
    CHECK(nw == 11 && wof[6] == 5 && wof[7] == 6, "synthetic sentence: 11 words (token 6 continues word 5)");
    const size_t maps = (size_t)s.L * s.H;
    float *wa = calloc(maps * nw * nw, sizeof(float));
    int cnt[12] = {0};
    for (int i = 0; i < s.n; i++) cnt[wof[i]]++;
    for (size_t m = 0; m < maps; m++)
        for (int i = 0; i < s.n; i++)
            for (int j = 0; j < s.n; j++)
                wa[(m * nw + wof[i]) * nw + wof[j]] += s.attn[(m * s.n + i) * s.n + j] / cnt[wof[i]];
    char wt[12][64];
    const char *wtok[12];
    int wtype[12] = {0};
    for (int w = 0; w < nw; w++) wt[w][0] = 0;
    for (int i = 0; i < s.n; i++) strcat(wt[wof[i]], s.tok[i] + ((s.tok[i][0] == '#' && i && wof[i - 1] == wof[i]) ? 2 : 0));
    for (int w = 0; w < nw; w++) wtok[w] = wt[w];
    CHECK(!strcmp(wtok[5], "mats"), "merged label: %s", wtok[5]);
    bl_render_input win = {0};
    win.n = nw; win.layers = s.L; win.heads = s.H; win.head_dim = s.d; win.tokens = wtok; win.type_ids = wtype; win.attn = wa;
    bl_err e;
    static const int views[] = {BL_VIEW_ROLLOUT, BL_VIEW_FLOW, BL_VIEW_HEAD};
    for (size_t v = 0; v < sizeof views / sizeof *views; v++) {
        bl_view_opts o = opts(views[v]);
        o.layer = 1;
        o.head = -1;
        int w1, h1, w2, h2;
        o.words = 0;
        const uint8_t *ref = bl_render(r, &win, &o, &w1, &h1, &e);
        uint8_t *copy = ref ? malloc((size_t)w1 * h1 * 4) : NULL;
        if (copy) memcpy(copy, ref, (size_t)w1 * h1 * 4);
        o.words = 1;
        const uint8_t *got = bl_render(r, &in, &o, &w2, &h2, &e);
        /* below the header: the rollout's subtitle says "words (pieces merged)" */
        const size_t skip = (size_t)bl_header_h(r) * w1 * 4;
        CHECK(copy && got && w1 == w2 && h1 == h2 && !memcmp(copy + skip, got + skip, (size_t)w1 * h1 * 4 - skip),
              "view %d: words=1 draws what the merged input draws", views[v]);
        free(copy);
    }
    /* heatmap: every cell's value is the merged one, the grid is nw × nw */
    bl_view_opts o = opts(BL_VIEW_HEATMAP);
    o.layer = 1; o.head = 2; o.words = 1;
    int w, h;
    CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL, "word heatmap renders: %s", e.msg);
    CHECK(r->nr == nw && r->nc == nw, "word heatmap grid %dx%d, want %dx%d", r->nr, r->nc, nw, nw);
    double err = 0;
    int hits = 0;
    for (int a = 0; a < r->nr; a++)
        for (int b = 0; b < r->nc; b++) {
            bl_hit hit = bl_hit_test(r, r->mat.x + b * r->cell + r->cell / 2, r->mat.y + a * r->cell + r->cell / 2);
            if (hit.kind != BL_HIT_CELL) continue;
            hits++;
            err = fmax(err, fabs(hit.value - wa[((size_t)(1 * s.H + 2) * nw + hit.from) * nw + hit.to]));
        }
    CHECK(hits == nw * nw && err < 1e-6, "word heatmap cells: %d hits, max error %g", hits, err);
    /* the model view renders too; words=0 leaves the token grid */
    o.view = BL_VIEW_MODEL;
    CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL, "word model view renders: %s", e.msg);
    o.view = BL_VIEW_HEATMAP; o.words = 0;
    bl_render(r, &in, &o, &w, &h, &e);
    CHECK(r->nr == s.n && r->nc == s.n, "words=0: token grid %dx%d", r->nr, r->nc);
    /* a caller's word_of is used as given: everything in one word -> a 1×1 map of 1 */
    int one[12] = {0};
    in.word_of = one;
    o.words = 1;
    bl_render(r, &in, &o, &w, &h, &e);
    bl_hit hit = bl_hit_test(r, r->mat.x + r->cell / 2, r->mat.y + r->cell / 2);
    CHECK(r->nr == 1 && hit.kind == BL_HIT_CELL && fabsf(hit.value - 1) < 1e-6f, "word_of all 0: one word, value %g", hit.value);
    free(wa);
    synth_free(&s);
}

/* ---------------------------------------------------------------- SVG export */
/* A small XML well-formedness check: one root element, tags nested and closed in order, attribute
   values quoted, "&" only in the five named or numeric references, no "<" in text or values.
   Calls on_text(element name, unescaped text) for character data. 0 when well-formed. */
typedef void (*xml_text_fn)(void *ctx, const char *elem, const char *text);
static int xml_unescape(const char *s, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '<') return -1;
        if (s[i] != '&') { out[o++] = s[i++]; continue; }
        static const char *ents[5][2] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
        int k = 0;
        for (; k < 5; k++)
            if (!strncmp(s + i, ents[k][0], strlen(ents[k][0]))) break;
        if (k == 5) return -1;
        out[o++] = ents[k][1][0];
        i += strlen(ents[k][0]);
    }
    out[o] = 0;
    return 0;
}
static int xml_check(const char *x, xml_text_fn on_text, void *ctx) {
    char stack[32][32], buf[4096];
    int depth = 0, roots = 0;
    const char *p = x;
    if (!strncmp(p, "<?xml", 5)) { p = strstr(p, "?>"); if (!p) return -1; p += 2; }
    while (*p) {
        const char *lt = strchr(p, '<');
        size_t tn = lt ? (size_t)(lt - p) : strlen(p);
        if (tn >= sizeof buf || xml_unescape(p, tn, buf)) return -2;
        if (depth == 0) { for (size_t i = 0; buf[i]; i++) if (buf[i] != '\n' && buf[i] != ' ') return -3; }
        else if (tn && on_text) on_text(ctx, stack[depth - 1], buf);
        if (!lt) break;
        p = lt + 1;
        int closing = *p == '/';
        if (closing) p++;
        size_t nl = strcspn(p, " />\n");
        if (nl == 0 || nl >= 32) return -4;
        char name[32];
        memcpy(name, p, nl); name[nl] = 0;
        p += nl;
        if (closing) {
            if (depth == 0 || strcmp(stack[depth - 1], name) || *p != '>') return -5;
            depth--; p++;
            continue;
        }
        for (;;) {   /* attributes */
            while (*p == ' ' || *p == '\n') p++;
            if (*p == '>' || (p[0] == '/' && p[1] == '>')) break;
            size_t an = strcspn(p, "= >");
            if (!an || p[an] != '=' || p[an + 1] != '"') return -6;
            p += an + 2;
            const char *q = strchr(p, '"');
            if (!q || (size_t)(q - p) >= sizeof buf || xml_unescape(p, (size_t)(q - p), buf)) return -7;
            p = q + 1;
        }
        if (*p == '/') { p += 2; if (depth == 0) roots++; continue; }
        p++;
        if (depth == 0) roots++;
        if (depth == 32) return -8;
        strcpy(stack[depth++], name);
    }
    return depth == 0 && roots == 1 ? 0 : -9;
}

typedef struct { char all[65536]; size_t n; int texts; } text_seen;
static void collect_text(void *ctx, const char *elem, const char *t) {
    text_seen *ts = ctx;
    if (strcmp(elem, "text")) return;
    ts->texts++;
    size_t l = strlen(t);
    if (ts->n + l + 2 < sizeof ts->all) { ts->all[ts->n++] = '\x01'; memcpy(ts->all + ts->n, t, l); ts->n += l; ts->all[ts->n] = 0; }
}
/* whether some <text> element's content is exactly t */
static int has_text(const text_seen *ts, const char *t) {
    char want[256];
    snprintf(want, sizeof want, "\x01%s", t);
    const char *p = ts->all;
    size_t wl = strlen(want);
    while ((p = strstr(p, want))) { if (p[wl] == '\x01' || p[wl] == 0) return 1; p++; }
    return 0;
}

/* attribute a of the element starting at el (NaN when absent) */
static double svg_attr(const char *el, const char *a) {
    char key[32];
    snprintf(key, sizeof key, " %s=\"", a);
    const char *end = strchr(el, '>'), *p = strstr(el, key);
    return p && p < end ? strtod(p + strlen(key), NULL) : NAN;
}

/* Every view as SVG: well-formed, the tokens as <text> (XML-escaped: a token holds & < > " '),
   the raster unchanged by recording; the heatmap's cells as rectangles at the raster's cell
   positions with the raster's colours; the model view's thumbnails as images. */
static void test_svg(bl_renderer *r) {
    synth s;
    synth_make(&s, 9, 2, 3, 0);
    strcpy(s.tok[2], "a<b&\"c'>");
    bl_render_input in = synth_input(&s);
    bl_err e;
    for (int v = 0; v < BL_VIEW_COUNT; v++) {
        bl_view_opts o = opts(v);
        o.token = 1;
        int w, h;
        const uint8_t *ref = bl_render(r, &in, &o, &w, &h, &e);
        uint8_t *copy = ref ? malloc((size_t)w * h * 4) : NULL;
        if (copy) memcpy(copy, ref, (size_t)w * h * 4);
        size_t len = 0;
        char *svg = bl_render_svg(r, &in, &o, &len, &e);
        CHECK(svg && strlen(svg) == len, "view %d: SVG made (%s)", v, svg ? "" : e.msg);
        if (!svg || !copy) { free(svg); free(copy); continue; }
        CHECK(!memcmp(copy, r->cv.px, (size_t)w * h * 4) && r->cv.w == w && r->cv.h == h,
              "view %d: the raster after recording is the raster without", v);
        text_seen *ts = calloc(1, sizeof *ts);
        int rc = xml_check(svg, collect_text, ts);
        CHECK(rc == 0, "view %d: SVG well-formed (code %d)", v, rc);
        char dims[64];
        snprintf(dims, sizeof dims, "viewBox=\"0 0 %d %d\"", w, h);
        CHECK(strstr(svg, dims) != NULL, "view %d: viewBox is the framebuffer %dx%d", v, w, h);
        /* (the prediction view without a task head is a note: test_render_task.c draws heads) */
        if (v != BL_VIEW_MLM && v != BL_VIEW_NEURON && v != BL_VIEW_MODEL && v != BL_VIEW_TASK && v != BL_VIEW_HEAD_MAP) {
            int missing = 0;
            for (int i = 0; i < s.n; i++) missing += !has_text(ts, s.tok[i]) && strlen(s.tok[i]) < 12;
            CHECK(missing == 0 && has_text(ts, "a<b&\"c'>"), "view %d: %d tokens missing as <text>", v, missing);
        }
        if (v == BL_VIEW_MODEL) {
            int images = 0;
            for (const char *p = svg; (p = strstr(p, "<image ")); p++) images++;
            CHECK(images == s.L * s.H, "model view: %d thumbnails as images, want %d", images, s.L * s.H);
        }
        if (v == BL_VIEW_HEATMAP) {
            bl_render(r, &in, &o, &w, &h, &e);   /* r->mat, r->cell of this layout */
            int cells = 0, bad = 0;
            for (const char *p = svg; (p = strstr(p, "<rect ")); p++) {
                double x = svg_attr(p, "x"), y = svg_attr(p, "y"), rw = svg_attr(p, "width"), rh = svg_attr(p, "height");
                if (rw != r->cell || rh != r->cell || x < r->mat.x || y < r->mat.y || x >= r->mat.x + r->mat.w ||
                    y >= r->mat.y + r->mat.h)
                    continue;
                cells++;
                bad += fmod(x - r->mat.x, r->cell) != 0 || fmod(y - r->mat.y, r->cell) != 0;
                const char *f = strstr(p, "fill=\"#");
                unsigned col = f ? (unsigned)strtoul(f + 7, NULL, 16) : 0;
                const uint8_t *px = copy + ((size_t)(y + 1) * w + (size_t)(x + 1)) * 4;   /* a corner: no text there */
                bad += col != ((unsigned)px[0] << 16 | (unsigned)px[1] << 8 | px[2]);
            }
            CHECK(cells == r->nr * r->nc && bad == 0, "heatmap SVG: %d cell rects (want %d), %d off the raster",
                  cells, r->nr * r->nc, bad);
        }
        free(ts); free(svg); free(copy);
    }
    synth_free(&s);
}

/* Compare mode: the heatmap of A against B reads back A − B in every cell (one head and the mean
   of the heads), an all-zero difference when B = A (cells the background colour), and the
   diverging picture leaves the plain heatmap's pixels alone. */
static void test_compare_heatmap(bl_renderer *r) {
    synth s, t;
    synth_make(&s, 8, 2, 3, 0);
    synth_make(&t, 8, 2, 3, 0);
    fill_random_attention(&t, 77);
    bl_render_input in = synth_input(&s);
    bl_err e;
    int w, h;
    bl_view_opts o = opts(BL_VIEW_HEATMAP);
    const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
    uint8_t *plain = px ? malloc((size_t)w * h * 4) : NULL;
    if (plain) memcpy(plain, px, (size_t)w * h * 4);
    for (int pass = 0; pass < 3; pass++) {
        in.attn_b = pass == 0 ? s.attn : t.attn;
        o.layer = 1;
        o.head = pass == 2 ? -1 : 2;
        CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL, "compare heatmap renders: %s", e.msg);
        double err = 0;
        int cells = 0, bgcells = 0;
        for (int a = 0; a < r->nr; a++)
            for (int b = 0; b < r->nc; b++) {
                bl_hit hit = bl_hit_test(r, r->mat.x + b * r->cell + 1, r->mat.y + a * r->cell + 1);
                if (hit.kind != BL_HIT_CELL) continue;
                cells++;
                double want = 0;
                for (int hh = 0; hh < s.H; hh++) {
                    if (o.head >= 0 && hh != o.head) continue;
                    const size_t k = (((size_t)1 * s.H + hh) * s.n + hit.from) * s.n + hit.to;
                    want += (double)s.attn[k] - (double)in.attn_b[k];
                }
                if (o.head < 0) want /= s.H;
                err = fmax(err, fabs(hit.value - want));
                const uint8_t *p = r->cv.px + ((size_t)(r->mat.y + a * r->cell + 1) * r->cv.w + r->mat.x + b * r->cell + 1) * 4;
                bgcells += p[0] == 255 && p[1] == 255 && p[2] == 255;
            }
        CHECK(cells == s.n * s.n && err < 1e-6, "compare pass %d: %d cells read back A - B within %g", pass, cells, err);
        if (pass == 0) CHECK(bgcells == cells, "B = A: every cell is the background (%d of %d)", bgcells, cells);
        else CHECK(bgcells < cells / 2, "B != A: coloured cells (%d of %d plain)", bgcells, cells);
    }
    in.attn_b = NULL;
    o.layer = 0; o.head = 0;
    px = bl_render(r, &in, &o, &w, &h, &e);
    CHECK(plain && px && !memcmp(plain, px, (size_t)w * h * 4), "without attn_b the heatmap is unchanged");
    free(plain);
    synth_free(&s);
    synth_free(&t);
}

/* Zoom shows a window of the matrix (its cells are the same values at the same token indices);
   long inputs keep a readable label on every k-th row and column instead of none. */
static void test_zoom_and_thin_labels(bl_renderer *r) {
    synth s;
    synth_make(&s, 40, 1, 2, 0);
    bl_render_input in = synth_input(&s);
    bl_err e;
    int w, h;
    bl_view_opts o = opts(BL_VIEW_HEATMAP);
    o.zoom_size = 10; o.zoom_row = 5; o.zoom_col = 35;   /* columns move back to 30..39 */
    CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL, "zoomed heatmap renders: %s", e.msg);
    CHECK(r->nr == 10 && r->nc == 10, "zoom 10: 10 x 10 cells (%d x %d)", r->nr, r->nc);
    int ok = 0, first_from = -1, first_to = -1, last_from = -1, last_to = -1;
    for (int a = 0; a < r->nr; a++)
        for (int b = 0; b < r->nc; b++) {
            bl_hit hit = bl_hit_test(r, r->mat.x + b * r->cell + r->cell / 2, r->mat.y + a * r->cell + r->cell / 2);
            if (a == 0 && b == 0) { first_from = hit.from; first_to = hit.to; }
            if (a == 9 && b == 9) { last_from = hit.from; last_to = hit.to; }
            ok += hit.kind == BL_HIT_CELL && hit.from == 5 + a && hit.to == 30 + b &&
                  hit.value == s.attn[(size_t)hit.from * s.n + hit.to];
        }
    CHECK(ok == 100, "every zoomed cell is token (5 + row, 30 + column) with its weight (%d of 100; corners %d->%d, %d->%d)",
          ok, first_from, first_to, last_from, last_to);
    int zcell = r->cell;
    o.zoom_size = 0;
    CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL && r->nr == 40 && r->nc == 40 && r->cell < zcell,
          "zoom 0: the whole matrix again, smaller cells (%d < %d)", r->cell, zcell);
    synth_free(&s);

    synth_make(&s, 300, 1, 1, 0);
    in = synth_input(&s);
    o = opts(BL_VIEW_HEATMAP);
    size_t len = 0;
    char *svg = bl_render_svg(r, &in, &o, &len, &e);
    CHECK(svg != NULL, "n = 300 svg: %s", svg ? "" : e.msg);
    int texts = 0;
    for (const char *p = svg; p && (p = strstr(p, "<text")); p++) texts++;
    /* 300 rows and 300 columns at ~2 px: a label every few rows and columns, not all 600, not none */
    CHECK(r->cell < 9 && texts > 40 && texts < 400, "n = 300 (cells of %d px): thinned labels (%d text elements)", r->cell, texts);
    free(svg);
    int hc = 137;
    while (strlen(s.tok[hc]) > 6) hc++;   /* a short one: long labels are cut with "…" */
    o.hover_x = r->mat.x + hc * r->cell + r->cell / 2;
    o.hover_y = r->mat.y + 5;
    char want[80];
    snprintf(want, sizeof want, ">%s<", s.tok[hc]);
    svg = bl_render_svg(r, &in, &o, &len, &e);
    CHECK(svg && strstr(svg, want) != NULL, "the hovered column's label (%s, token %d) is drawn", s.tok[hc], hc);
    free(svg);
    synth_free(&s);
}

/* Head view at 512 tokens with every line visible (value-weighted, equal norms): a hovered
   token's 512 lines are more pixels than a frame's line budget (100000 pixel steps, a line
   from row a to row b taking max(|a - b| x row pitch, band width) + 1), so the lines drawn
   are, in drawing order, those that still fit; the subtitle says how many and the SVG holds
   exactly those lines. Without the pointer the same budget applies to all n x n lines. */
static void test_head_line_budget(bl_renderer *r) {
    const int n = 512, iso = 200;
    synth s;
    synth_make(&s, n, 1, 1, 0);
    for (size_t k = 0; k < (size_t)n * n; k++) s.attn[k] = 1.0f / n;
    bl_render_input in = synth_input(&s);
    in.norms = s.attn;
    in.norms_layer = s.attn;
    bl_view_opts o = opts(BL_VIEW_HEAD);
    o.head = 0;
    o.value_weighted = 1;
    bl_err e;
    int w, h;
    CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL, "n = 512 head view: %s", e.msg);
    bl_rect left = {0}, right0 = {0};
    for (int k = 0; k < r->nreg; k++) {
        bl_hit g = r->reg[k].hit;
        if (g.kind == 2 && g.side == 0 && g.from == iso) left = r->reg[k].r;
        if (g.kind == 2 && g.side == 1 && g.from == 0) right0 = r->reg[k].r;
    }
    long rh = left.h, band = right0.x - (left.x + left.w), budget = 100000;
    int want = 0;
    for (int b = 0; b < n; b++) {
        long st = labs((long)(iso - b)) * rh;
        st = (st > band ? st : band) + 1;
        if (st <= budget) { budget -= st; want++; }
    }
    CHECK(rh > 0 && band > 0 && want > 0 && want < n, "the budget cuts the hovered token's lines (%d of %d; pitch %ld, band %ld)",
          want, n, rh, band);
    o.hover_x = left.x + left.w / 2;
    o.hover_y = left.y + left.h / 2;
    bl_hit hh = bl_hit_test(r, o.hover_x, o.hover_y);
    CHECK(hh.kind == 2 && hh.from == iso, "the pointer is on left token %d (hit %d, %d)", iso, hh.kind, hh.from);
    size_t len = 0;
    char *svg = bl_render_svg(r, &in, &o, &len, &e);
    CHECK(svg != NULL, "n = 512 head view svg: %s", svg ? "" : e.msg);
    char note[64];
    snprintf(note, sizeof note, "strongest %d of %d lines", want, n);
    int lines = 0;
    for (const char *p = svg; p && (p = strstr(p, "<line")); p++) lines++;
    CHECK(svg && strstr(svg, note) != NULL && lines == want, "hovered: the subtitle says \"%s\" and %d lines are drawn", note, lines);
    free(svg);
    /* the raster draws the same frame: the longest kept line reaches the right column */
    const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
    CHECK(px != NULL, "n = 512 hovered raster: %s", px ? "" : e.msg);
    o.hover_x = o.hover_y = -1;
    svg = bl_render_svg(r, &in, &o, &len, &e);
    lines = 0;
    for (const char *p = svg; p && (p = strstr(p, "<line")); p++) lines++;
    CHECK(svg && lines > 0 && lines <= 6000 && strstr(svg, "strongest") != NULL,
          "no pointer: %d of %d lines within the budget, and the subtitle says so", lines, n * n);
    free(svg);
    synth_free(&s);
}

int main(void) {
    dump_dir = getenv("BL_RENDER_DUMP");
    size_t len;
    uint8_t *ttf = (uint8_t *)check_read_file("web/fonts/DejaVuSans-subset.ttf", &len);
    CHECK(ttf != NULL, "shipped font web/fonts/DejaVuSans-subset.ttf readable (run from the repo root)");
    if (!ttf) return check_summary("test_render");
    CHECK(len < 150000, "font subset is small: %zu bytes", len);
    test_text(ttf, len);
    bl_err e;
    bl_renderer *r = bl_renderer_new(ttf, len, &e);
    CHECK(r != NULL, "renderer: %s", r ? "" : e.msg);
    if (r) {
        test_heatmap_layout(r);
        test_hover(r);
        test_filters(r);
        test_views(r);
        test_u16_views(r);
        test_model_and_head_hits(r);
        test_other_hits(r);
        test_rollout_flow(r);
        test_flow_reference(r);
        test_rollout_order(r);
        test_head_lines_by_position(r);
        test_head_line_budget(r);
        test_hit_edges(r);
        test_errors(r);
        test_random(r);
        test_words(r);
        test_svg(r);
        test_compare_heatmap(r);
        test_zoom_and_thin_labels(r);
    }
    bl_renderer_free(r);
    free(ttf);
    return check_summary("test_render");
}
