/* test_render_lens.c — the logit lens table of the masked-LM view (in->lens_*). Synthetic
   attention and hand-written choices, no model needed: hit testing the whole picture must find
   every (mask, layer, rank) cell exactly once with that layer, rank and probability, the
   prediction boxes with layer -1 and their own probabilities; the table's tokens reach the SVG
   as escaped text; without lens_tokens there is no table; inconsistent input is refused. */
#include "render/render_internal.h"
#include "check.h"
#include "synthetic.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NQ 2   /* masks */
#define NL 4   /* layers */
#define NK 3   /* choices */

static bl_view_opts mlm_opts(void) {
    bl_view_opts o = {0};
    o.view = BL_VIEW_MLM; o.colormap = BL_CMAP_YLGNBU; o.scale = 1; o.width = 760;
    o.token = -1; o.hover_x = o.hover_y = -1;
    return o;
}

typedef struct {
    int seen[NQ][NL + 1][NK];        /* [q][layer + 1][rank]: regions hit (layer -1 = the boxes) */
    float value[NQ][NL + 1][NK];
    int from[NQ][NL + 1][NK];
    int x[NQ][NL + 1][NK], y[NQ][NL + 1][NK];   /* the region's top-left pixel */
    int bad;
} lens_hits;

/* Every BL_HIT_MLM of the picture; a cell counts once (its top-left pixel) so that a region
   drawn twice, or two regions for one cell, show as seen != 1. */
static void scan(bl_renderer *r, int w, int h, lens_hits *out) {
    memset(out, 0, sizeof *out);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            bl_hit t = bl_hit_test(r, x, y);
            if (t.kind != BL_HIT_MLM) continue;
            if (t.head < 0 || t.head >= NQ || t.layer < -1 || t.layer >= NL || t.to < 0 || t.to >= NK) { out->bad++; continue; }
            bl_hit left = bl_hit_test(r, x - 1, y), up = bl_hit_test(r, x, y - 1);
            int same_left = left.kind == t.kind && left.head == t.head && left.layer == t.layer && left.to == t.to;
            int same_up = up.kind == t.kind && up.head == t.head && up.layer == t.layer && up.to == t.to;
            if (same_left || same_up) continue;
            out->seen[t.head][t.layer + 1][t.to]++;
            out->value[t.head][t.layer + 1][t.to] = t.value;
            out->from[t.head][t.layer + 1][t.to] = t.from;
            out->x[t.head][t.layer + 1][t.to] = x;
            out->y[t.head][t.layer + 1][t.to] = y;
        }
}

int main(void) {
    size_t len;
    uint8_t *ttf = (uint8_t *)check_read_file("web/fonts/DejaVuSans-subset.ttf", &len);
    CHECK(ttf != NULL, "font readable (run from the repo root)");
    if (!ttf) return check_summary("test_render_lens");
    bl_err e;
    bl_renderer *r = bl_renderer_new(ttf, len, &e);
    CHECK(r != NULL, "renderer: %s", r ? "" : e.msg);
    if (!r) { free(ttf); return check_summary("test_render_lens"); }
    synth s;
    synth_make(&s, 9, NL, 2, 0);
    bl_render_input in = synth_input(&s);
    /* two masks at positions 2 and 6; choices named by (mask, layer, rank) so every cell's text
       differs, one with markup that must be escaped in the SVG */
    static int pos[NQ] = {2, 6};
    static char names[NQ * NL * NK][24];
    static const char *lt[NQ * NL * NK], *top[NQ * NK];
    static float lp[NQ * NL * NK], tp[NQ * NK];
    for (int q = 0; q < NQ; q++)
        for (int l = 0; l < NL; l++)
            for (int c = 0; c < NK; c++) {
                const int at = (q * NL + l) * NK + c;
                snprintf(names[at], sizeof names[at], q == 1 && l == 0 && c == 0 ? "<b>&q%dl%dr%d" : "q%dl%dr%d", q, l, c);
                lt[at] = names[at];
                lp[at] = (0.5f + 0.1f * l) / (1.0f + c) - 0.01f * q;   /* distinct values */
                if (l == NL - 1) { top[q * NK + c] = names[at]; tp[q * NK + c] = lp[at] * 0.999f; }
            }
    in.mlm_count = NQ; in.mlm_k = NK; in.mlm_pos = pos; in.mlm_tokens = top; in.mlm_p = tp;
    bl_view_opts o = mlm_opts();
    int w0, h0, w, h;
    lens_hits H;
    const uint8_t *px = bl_render(r, &in, &o, &w0, &h0, &e);
    CHECK(px != NULL, "masked-LM view without the lens: %s", px ? "" : e.msg);
    if (px) {
        scan(r, w0, h0, &H);
        int lens_cells = 0;
        for (int q = 0; q < NQ; q++) for (int l = 1; l <= NL; l++) for (int c = 0; c < NK; c++) lens_cells += H.seen[q][l][c];
        CHECK(lens_cells == 0 && H.bad == 0, "no lens input: no lens cells (%d)", lens_cells);
    }

    in.lens_layers = NL; in.lens_tokens = lt; in.lens_p = lp;
    px = bl_render(r, &in, &o, &w, &h, &e);
    CHECK(px != NULL, "masked-LM view with the lens: %s", px ? "" : e.msg);
    if (px) {
        CHECK(w == w0 && h > h0 + NQ * NL * 10, "the tables add height (%d -> %d)", h0, h);
        scan(r, w, h, &H);
        CHECK(H.bad == 0, "hits in range (%d bad)", H.bad);
        for (int q = 0; q < NQ; q++)
            for (int c = 0; c < NK; c++) {
                CHECK(H.seen[q][0][c] == 1 && H.value[q][0][c] == tp[q * NK + c] && H.from[q][0][c] == pos[q],
                      "box of mask %d rank %d: layer -1, p %g (seen %d, value %g)", q, c, (double)tp[q * NK + c], H.seen[q][0][c],
                      (double)H.value[q][0][c]);
                for (int l = 0; l < NL; l++) {
                    const int at = (q * NL + l) * NK + c;
                    CHECK(H.seen[q][l + 1][c] == 1 && H.value[q][l + 1][c] == lp[at] && H.from[q][l + 1][c] == pos[q],
                          "lens cell mask %d layer %d rank %d: p %g at position %d (seen %d, value %g, from %d)", q, l, c,
                          (double)lp[at], pos[q], H.seen[q][l + 1][c], (double)H.value[q][l + 1][c], H.from[q][l + 1][c]);
                }
            }
        /* each cell is filled with the colormap's colour of its probability (read at a pixel
           inside the region, clear of the centred text) */
        int coloured = 0;
        for (int q = 0; q < NQ; q++)
            for (int l = 0; l < NL; l++)
                for (int c = 0; c < NK; c++) {
                    const uint8_t *pp = px + ((size_t)(H.y[q][l + 1][c] + 2) * w + H.x[q][l + 1][c] + 2) * 4;
                    uint8_t rgb[3];
                    bl_colormap(BL_CMAP_YLGNBU, lp[(q * NL + l) * NK + c], rgb);
                    coloured += pp[0] == rgb[0] && pp[1] == rgb[1] && pp[2] == rgb[2];
                }
        CHECK(coloured == NQ * NL * NK, "cells filled with their probability's colour (%d of %d)", coloured, NQ * NL * NK);
        char *svg = bl_render_svg(r, &in, &o, &len, &e);
        CHECK(svg != NULL, "svg: %s", svg ? "" : e.msg);
        if (svg) {
            int found = 0;
            for (int i = 0; i < NQ * NL * NK; i++) {
                char want[600];
                snprintf(want, sizeof want, ">%s<", i == (1 * NL + 0) * NK ? "&lt;b&gt;&amp;q1l0r0" : names[i]);
                found += strstr(svg, want) != NULL;
            }
            CHECK(found == NQ * NL * NK, "every lens token drawn as SVG text, escaped (%d of %d)", found, NQ * NL * NK);
            CHECK(strstr(svg, "Logit lens at position 6") != NULL, "the second table's title names its position");
            CHECK(!strstr(svg, "<b>&"), "markup in a token is escaped");
            free(svg);
        }
    }
    /* inconsistent lens input is an error that says so */
    bl_render_input bad = in;
    bad.lens_p = NULL;
    CHECK(bl_render(r, &bad, &o, &w, &h, &e) == NULL && strstr(e.msg, "logit lens"), "lens tokens without probabilities refused: %s", e.msg);
    bad = in;
    bad.lens_layers = 0;
    CHECK(bl_render(r, &bad, &o, &w, &h, &e) == NULL && strstr(e.msg, "logit lens"), "lens with 0 layers refused: %s", e.msg);
    synth_free(&s);
    bl_renderer_free(r);
    free(ttf);
    return check_summary("test_render_lens");
}
