/* bench_render.c — milliseconds per bl_render for each view on synthetic attention (no model):
   the first render (glyph cache, buffers, the flow's max-flow) and then the best of R re-renders
   with the pointer moving (what hovering costs). Figures, not pass/fail; a render that fails is
   reported and makes the exit status non-zero. Correctness of the pictures is tests/test_render.c.

   Built by bench/run_native.sh (cc -O3, no CMake target) and bench/run_wasm.sh (emcc, node).
   usage: bench_render [--reps R]          (default 5; run from the repository root: it reads
                                             web/fonts/DejaVuSans-subset.ttf) */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime */
#include "bertlens.h"
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

/* Synthetic model output: per head a recognisable pattern, rows summing to 1 (as test_render.c's:
   diagonal + [CLS], previous token, to the last [SEP], uniform), q/k from sines. */
typedef struct {
    int n, L, H, d;
    float *attn, *q, *k;
    const float **qs, **ks;
    char **tok;
    int *type;
} synth;

static void synth_make(synth *s, int n, int L, int H) {
    static const char *words[] = {"the", "cat", "sat", "on", "mat", "##s", "ελληνικά", "кошка", "naïve",
                                  "\xe4\xb8\x80", "supercalifragilisticexpialidocious", "!", "[MASK]", "a"};
    s->n = n; s->L = L; s->H = H; s->d = 8;
    int n_a = n >= 4 ? n / 2 : n;
    s->attn = malloc(sizeof(float) * (size_t)L * H * n * n);
    s->q = malloc(sizeof(float) * (size_t)n * H * s->d * L);
    s->k = malloc(sizeof(float) * (size_t)n * H * s->d * L);
    s->qs = malloc(sizeof(float *) * L);
    s->ks = malloc(sizeof(float *) * L);
    s->tok = malloc(sizeof(char *) * n);
    s->type = malloc(sizeof(int) * n);
    if (!s->attn || !s->q || !s->k || !s->qs || !s->ks || !s->tok || !s->type) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (int i = 0; i < n; i++) {
        const char *w = i == 0 ? "[CLS]" : (i == n - 1 || i == n_a - 1) ? "[SEP]" : words[(i - 1) % 14];
        s->tok[i] = malloc(strlen(w) + 1);
        strcpy(s->tok[i], w);
        s->type[i] = i >= n_a;
    }
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < n; i++) {
                float *row = s->attn + (((size_t)l * H + h) * n + i) * n, sum = 0;
                for (int j = 0; j < n; j++) {
                    float v;
                    switch ((h + l) % 4) {
                    case 0: v = (i == j ? 0.6f : 0) + (j == 0 ? 0.3f : 0) + 0.1f / n; break;
                    case 1: v = (j == (i > 0 ? i - 1 : 0) ? 0.8f : 0) + 0.2f / n; break;
                    case 2: v = (j == n - 1 ? 0.7f : 0) + 0.3f / n; break;
                    default: v = 1.0f;
                    }
                    row[j] = v;
                    sum += v;
                }
                for (int j = 0; j < n; j++) row[j] /= sum;
            }
    for (int l = 0; l < L; l++) {
        float *q = s->q + (size_t)l * n * H * s->d, *k = s->k + (size_t)l * n * H * s->d;
        for (int t = 0; t < n * H * s->d; t++) { q[t] = sinf(t * 0.37f + l); k[t] = cosf(t * 0.21f - l); }
        s->qs[l] = q;
        s->ks[l] = k;
    }
}

static void synth_free(synth *s) {
    for (int i = 0; i < s->n; i++) free(s->tok[i]);
    free(s->tok); free(s->type); free(s->attn); free(s->q); free(s->k); free(s->qs); free(s->ks);
}

static bl_render_input synth_input(const synth *s) {
    bl_render_input in = {0};
    in.n = s->n; in.layers = s->L; in.heads = s->H; in.head_dim = s->d;
    in.tokens = (const char *const *)s->tok;
    in.type_ids = s->type;
    in.attn = s->attn;
    in.query = s->qs;
    in.key = s->ks;
    return in;
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
    synth_make(&s, 64, 12, 12);
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

    synth_make(&s, 256, 12, 2);
    in = synth_input(&s);
    bl_view_opts o = opts(BL_VIEW_ROLLOUT);
    o.layer = 11;
    bench_view(r, &in, o, "rollout n=256 12 layers", reps);
    synth_free(&s);
    bl_renderer_free(r);
    return failures ? 1 : 0;
}
