/* synthetic.h — synthetic attention for the renderer, no model needed: used by
   tests/test_render.c and bench/bench_render.c (so the benchmark times the inputs the tests
   check). pair: a sentence pair, [SEP] closing the first half (n_a = n/2, type 1 after it). */
#ifndef BL_SYNTHETIC_H
#define BL_SYNTHETIC_H
#include "bertlens.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Synthetic model output: per head a recognisable pattern, rows summing to 1.
   (head + layer) % 4: 0 = diagonal + [CLS], 1 = previous token, 2 = to the last [SEP], 3 = uniform. */
typedef struct {
    int n, L, H, d, n_a;
    float *attn, *q, *k;
    const float **qs, **ks;
    char **tok;
    int *type;
} synth;

static inline void synth_make(synth *s, int n, int L, int H, int pair) {
    static const char *words[] = {"the", "cat", "sat", "on", "mat", "##s", "ελληνικά", "кошка", "naïve",
                                  "\xe4\xb8\x80", "supercalifragilisticexpialidocious", "!", "[MASK]", "a"};
    s->n = n; s->L = L; s->H = H; s->d = 8;
    s->n_a = pair && n >= 4 ? n / 2 : n;
    s->attn = malloc(sizeof(float) * (size_t)L * H * n * n);
    s->q = malloc(sizeof(float) * (size_t)n * H * s->d * L);
    s->k = malloc(sizeof(float) * (size_t)n * H * s->d * L);
    s->qs = malloc(sizeof(float *) * L);
    s->ks = malloc(sizeof(float *) * L);
    s->tok = malloc(sizeof(char *) * n);
    s->type = malloc(sizeof(int) * n);
    if (!s->attn || !s->q || !s->k || !s->qs || !s->ks || !s->tok || !s->type) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (int i = 0; i < n; i++) {
        s->tok[i] = malloc(64);
        if (i == 0) strcpy(s->tok[i], "[CLS]");
        else if (i == n - 1 || (pair && i == s->n_a - 1)) strcpy(s->tok[i], "[SEP]");
        else strcpy(s->tok[i], words[(i - 1) % 14]);
        s->type[i] = i >= s->n_a;
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

static inline void synth_free(synth *s) {
    for (int i = 0; i < s->n; i++) free(s->tok[i]);
    free(s->tok); free(s->type); free(s->attn); free(s->q); free(s->k); free(s->qs); free(s->ks);
}

static inline bl_render_input synth_input(const synth *s) {
    bl_render_input in = {0};
    in.n = s->n; in.layers = s->L; in.heads = s->H; in.head_dim = s->d;
    in.tokens = (const char *const *)s->tok;
    in.type_ids = s->type;
    in.attn = s->attn;
    in.query = s->qs;
    in.key = s->ks;
    return in;
}
#endif
