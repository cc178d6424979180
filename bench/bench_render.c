/* bench_render.c — milliseconds per bl_render for each view on synthetic attention (no model):
   the first render (glyph cache, buffers, the flow's max-flow) and then the best of R re-renders
   with the pointer moving (what hovering costs). Figures, not pass/fail; a render that fails is
   reported and makes the exit status non-zero. Correctness of the pictures is tests/test_render.c.

   Built by bench/run_native.sh (cc -O3, no CMake target) and bench/run_wasm.sh (emcc, node).
   usage: bench_render [--reps R]          (default 5; run from the repository root: it reads
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

/* One line: first render, then the best of `reps` re-renders with the pointer moving. */
static void bench_view(bl_renderer *r, const bl_render_input *in, bl_view_opts o, const char *what, int reps) {
    bl_err e = {{0}};
    int w = 0, h = 0;
    double c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID), t0 = now_ms(CLOCK_MONOTONIC);
    if (!bl_render(r, in, &o, &w, &h, &e)) { printf("%-30s FAILED: %s\n", what, e.msg); failures++; return; }
    double first_cpu = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0, first_wall = now_ms(CLOCK_MONOTONIC) - t0;
    double best_cpu = 1e30, best_wall = 1e30;
    for (int k = 0; k < reps; k++) {
        o.hover_x = 300 + k; o.hover_y = 300;
        c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID); t0 = now_ms(CLOCK_MONOTONIC);
        if (!bl_render(r, in, &o, &w, &h, &e)) { printf("%-30s FAILED: %s\n", what, e.msg); failures++; return; }
        double c = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0, t = now_ms(CLOCK_MONOTONIC) - t0;
        if (c < best_cpu) best_cpu = c;
        if (t < best_wall) best_wall = t;
    }
    printf("%-30s first %7.2f ms (CPU %7.2f), then %6.2f ms/render (CPU %6.2f)  %dx%d\n", what, first_wall,
           first_cpu, best_wall, best_cpu, w, h);
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
        else { fprintf(stderr, "usage: bench_render [--reps R]\n"); return 2; }
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
    bl_renderer_free(r);
    return failures ? 1 : 0;
}
