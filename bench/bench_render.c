/* bench_render.c — milliseconds per bl_render for each view on synthetic attention (no model):
   the first render (glyph cache, buffers, the flow's max-flow) and then R re-renders with the
   pointer moving over hit targets (what hovering costs: best, median, slowest). Figures, not
   pass/fail; a render that fails is reported and makes the exit status non-zero. Correctness
   of the pictures is tests/test_render.c.

   Built by bench/run_native.sh (cc -O3, no CMake target) and bench/run_wasm.sh (emcc, node).
   usage: bench_render [--reps R] [--only S] (default 5; S: only the cases whose name has it; run from the repository root: it reads
                                             web/fonts/DejaVuSans-subset.ttf) */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime */
#include "bertlens.h"
#include "../tests/synthetic.h"   /* the inputs test_render.c checks */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(clockid_t clk) {
    struct timespec t;
#ifdef __EMSCRIPTEN__
    clk = CLOCK_MONOTONIC;   /* emscripten's process CPU clock is not one: CPU shows the wall time */
#endif
    clock_gettime(clk, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int failures;
static const char *only;   /* --only S: the cases whose name contains S */

/* One line: first render, then the best of `reps` re-renders with the pointer moving. */
static void bench_view(bl_renderer *r, const bl_render_input *in, bl_view_opts o, const char *what, int reps) {
    if (only && !strstr(what, only)) return;
    bl_err e = {{0}};
    int w = 0, h = 0;
    double c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID), t0 = now_ms(CLOCK_MONOTONIC);
    if (!bl_render(r, in, &o, &w, &h, &e)) { printf("%-30s FAILED: %s\n", what, e.msg); failures++; return; }
    double first_cpu = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0, first_wall = now_ms(CLOCK_MONOTONIC) - t0;
    double best_cpu = 1e30, best_wall = 1e30, worst_wall = 0, walls[256];
    /* hover where the page's pointer would be: over something (a cell, a token, a thumbnail),
       the points spread over the view */
    int hx[64], hy[64], nh = 0;
    for (int y = 4; y < h / o.scale && nh < 64; y += 24)
        for (int x = 1, last = 0; x < o.width && nh < 64; x += 2) {
            bl_hit t = bl_hit_test(r, x, y);
            int id = t.kind ? t.kind * 1000003 + t.from * 3 + t.side + t.head * 7919 : 0;
            if (id && id != last && (x - hx[nh > 0 ? nh - 1 : 0] >= 40 || y != hy[nh > 0 ? nh - 1 : 0] || nh == 0)) {
                hx[nh] = x; hy[nh] = y; nh++;
            }
            last = id;
        }
    for (int k = 0; k < reps; k++) {
        o.hover_x = nh ? hx[(k * 7) % nh] : 300 + k; o.hover_y = nh ? hy[(k * 7) % nh] : 300;
        c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID); t0 = now_ms(CLOCK_MONOTONIC);
        if (!bl_render(r, in, &o, &w, &h, &e)) { printf("%-30s FAILED: %s\n", what, e.msg); failures++; return; }
        double c = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0, t = now_ms(CLOCK_MONOTONIC) - t0;
        if (c < best_cpu) best_cpu = c;
        if (t < best_wall) best_wall = t;
        if (t > worst_wall) worst_wall = t;
        if (k < 256) walls[k] = t;
    }
    int nw = reps < 256 ? reps : 256;   /* the median, as the page reports */
    for (int i = 1; i < nw; i++)
        for (int j = i; j > 0 && walls[j - 1] > walls[j]; j--) { double x = walls[j]; walls[j] = walls[j - 1]; walls[j - 1] = x; }
    printf("%-30s first %7.2f ms (CPU %7.2f), then %6.2f ms/render (CPU %6.2f; median %6.2f, slowest %6.2f)  %dx%d\n",
           what, first_wall, first_cpu, best_wall, best_cpu, walls[nw / 2], worst_wall, w, h);
}

static bl_view_opts opts(int view) {
    bl_view_opts o = {0};
    o.view = view; o.colormap = BL_CMAP_YLGNBU; o.scale = 1; o.width = 900;
    o.token = -1; o.hover_x = o.hover_y = -1;
    return o;
}

int main(int argc, char **argv) {
    int reps = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else { fprintf(stderr, "usage: bench_render [--reps R] [--only SUBSTRING]\n"); return 2; }
    }
    if (reps < 1) reps = 1;
    const char *font = "web/fonts/DejaVuSans-subset.ttf";
    FILE *f = fopen(font, "rb");
    if (!f) { fprintf(stderr, "bench_render: cannot open %s (run from the repository root)\n", font); return 1; }
    static uint8_t ttf[1 << 20];
    size_t len = fread(ttf, 1, sizeof ttf, f);
    fclose(f);
    bl_err e = {{0}};
    bl_renderer *r = bl_renderer_new(ttf, len, &e);
    if (!r) { fprintf(stderr, "bench_render: %s\n", e.msg); return 1; }

    synth s;
    synth_make(&s, 64, 12, 12, 1);
    bl_render_input in = synth_input(&s);
    printf("bl_render, best of %d re-renders with the pointer moving (width 900 CSS px)\n", reps);
    struct { int view; float scale; int head; const char *what; } cases[] = {
        {BL_VIEW_HEATMAP, 1, 3, "heatmap n=64 scale 1"},
        {BL_VIEW_HEATMAP, 2, 3, "heatmap n=64 scale 2"},
        {BL_VIEW_MODEL, 1, 3, "model 12x12 n=64 scale 1"},
        {BL_VIEW_HEAD, 1, -1, "head n=64 all heads"},
        {BL_VIEW_NEURON, 1, 3, "neuron n=64"},
        {BL_VIEW_FLOW, 1, 3, "flow n=64 (cached after 1st)"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        bl_view_opts o = opts(cases[c].view);
        o.scale = cases[c].scale;
        o.head = cases[c].head;
        o.layer = 11;
        if (cases[c].view == BL_VIEW_NEURON) o.token = 1;
        bench_view(r, &in, o, cases[c].what, reps);
    }
    synth_free(&s);

    synth_make(&s, 256, 12, 2, 1);
    in = synth_input(&s);
    bl_view_opts o = opts(BL_VIEW_ROLLOUT);
    o.layer = 11;
    bench_view(r, &in, o, "rollout n=256 12 layers", reps);
    synth_free(&s);

    /* what the page hovers at its longest input: n = 512 on a bert-base shape, the attention
       held as u16 (bl_attention_u16), as the page keeps it */
    synth_make(&s, 512, 12, 12, 0);
    in = synth_input(&s);
    size_t cnt = (size_t)12 * 12 * 512 * 512;
    uint16_t *a16 = malloc(cnt * sizeof *a16);
    if (!a16) { fprintf(stderr, "out of memory\n"); return 1; }
    for (size_t k = 0; k < cnt; k++) a16[k] = (uint16_t)lrintf(s.attn[k] * 65535.0f);
    in.attn = NULL;
    in.attn16 = a16;
    in.maps_id = 1;   /* as the page says when the maps change */
    struct { int view; int head; const char *what; } big[] = {
        {BL_VIEW_HEATMAP, 0, "n=512 heatmap head 0"},   {BL_VIEW_HEATMAP, -1, "n=512 heatmap mean"},
        {BL_VIEW_MODEL, -1, "n=512 model 12x12"},       {BL_VIEW_HEAD, 0, "n=512 head view head 0"},
        {BL_VIEW_HEAD, -1, "n=512 head view all heads"}, {BL_VIEW_ROLLOUT, -1, "n=512 rollout"},
        {BL_VIEW_FLOW, -1, "n=512 flow"},
    };
    for (size_t c = 0; c < sizeof big / sizeof big[0]; c++) {
        bl_view_opts o = opts(big[c].view);
        o.head = big[c].head;
        o.layer = 11;
        bench_view(r, &in, o, big[c].what, reps);
    }
    /* value-weighted: norms are f32 maps (the synthetic attention stands in for them) */
    in.norms = s.attn;
    in.norms_layer = s.attn;   /* [L][n][n]: the first L maps */
    for (size_t c = 0; c < sizeof big / sizeof big[0]; c++) {
        if (big[c].view == BL_VIEW_HEATMAP && big[c].head < 0) continue;
        bl_view_opts o = opts(big[c].view);
        o.head = big[c].head;
        o.layer = 11;
        o.value_weighted = 1;
        char what[64];
        snprintf(what, sizeof what, "%s, vw", big[c].what);
        bench_view(r, &in, o, what, reps);
    }
    free(a16);
    synth_free(&s);
    bl_renderer_free(r);
    return failures ? 1 : 0;
}
