/* test_analysis.c — core/analysis/: residual-aware attention, the rollout product and the
   attention flow against references written here independently: double-precision products,
   permutations composed by index, and max-flow as the brute-force minimum cut. */
#include "analysis/analysis.h"
#include "bertlens.h"
#include "check.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned seed = 4242;
static double urand(void) {
    seed = seed * 1103515245u + 12345u;
    return (double)((seed >> 8) & 0xffff) / 65536.0;
}

/* n×n row-stochastic, peaky, non-symmetric */
static void random_map(float *a, int n) {
    for (int i = 0; i < n; i++) {
        float s = 0;
        for (int j = 0; j < n; j++) {
            double u = urand();
            a[i * n + j] = (float)(u * u * u + 1e-3);
            s += a[i * n + j];
        }
        for (int j = 0; j < n; j++) a[i * n + j] /= s;
    }
}

/* A' from the sum of `heads` maps, in double */
static void residual_ref(const float *sum, int n, int heads, double *out) {
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < n; j++) {
            out[i * n + j] = 0.5 * sum[i * n + j] / heads + (i == j ? 0.5 : 0.0);
            s += out[i * n + j];
        }
        for (int j = 0; j < n; j++) out[i * n + j] /= s;
    }
}

static void test_residual(void) {
    int n = 9, H = 3;
    float *sum = calloc((size_t)n * n, sizeof *sum), *a = malloc(sizeof(float) * n * n), *m = malloc(sizeof(float) * n * n);
    double *want = malloc(sizeof(double) * n * n);
    for (int h = 0; h < H; h++) {
        random_map(m, n);
        for (int k = 0; k < n * n; k++) sum[k] += m[k];
    }
    memcpy(a, sum, sizeof(float) * n * n);
    bl_residual_attention(a, n, H);
    residual_ref(sum, n, H, want);
    double err = 0;
    for (int k = 0; k < n * n; k++) err = fmax(err, fabs(a[k] - want[k]));
    CHECK(err < 1e-6, "A' vs double: max error %g", err);
    /* an all-zero map (every weight below what the maps store) still gives rows summing to 1 */
    memset(a, 0, sizeof(float) * n * n);
    bl_residual_attention(a, n, H);
    int bad = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) bad += a[i * n + j] != (i == j ? 1.0f : 0.0f);
    CHECK(bad == 0, "A' of an all-zero map is the identity (%d entries differ)", bad);
    free(sum); free(a); free(m); free(want);
}

/* R = A'_{L-1} ⋯ A'_0 in double; reversed: A'_0 ⋯ A'_{L-1} */
static void product_ref(const float *res, int L, int n, int reversed, double *R) {
    double *t = malloc(sizeof(double) * n * n);
    for (int k = 0; k < n * n; k++) R[k] = res[k];
    for (int l = 1; l < L; l++) {
        const float *a = res + (size_t)l * n * n;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double v = 0;
                for (int k = 0; k < n; k++) v += reversed ? R[i * n + k] * a[k * n + j] : a[i * n + k] * R[k * n + j];
                t[i * n + j] = v;
            }
        memcpy(R, t, sizeof(double) * n * n);
    }
    free(t);
}

static void rollout(const float *res, int L, int n, float *R) {
    float *tmp = malloc(sizeof(float) * n * n);
    memcpy(R, res, sizeof(float) * n * n);
    for (int l = 1; l < L; l++) bl_rollout_step(res + (size_t)l * n * n, R, tmp, n);
    free(tmp);
}

static void test_rollout(void) {
    int n = 7, L = 5;
    float *res = malloc(sizeof(float) * L * n * n), *R = malloc(sizeof(float) * n * n);
    double *want = malloc(sizeof(double) * n * n), *rev = malloc(sizeof(double) * n * n);
    for (int l = 0; l < L; l++) {
        float *a = res + (size_t)l * n * n;
        random_map(a, n);
        for (int k = 0; k < n * n; k++) a[k] *= 2;   /* as a sum of 2 heads */
        bl_residual_attention(a, n, 2);
    }
    for (int depth = 2; depth <= L; depth++) {
        rollout(res, depth, n, R);
        product_ref(res, depth, n, 0, want);
        product_ref(res, depth, n, 1, rev);
        double err = 0, gap = 0, rows = 0;
        for (int k = 0; k < n * n; k++) {
            err = fmax(err, fabs(R[k] - want[k]));
            gap = fmax(gap, fabs(want[k] - rev[k]));
        }
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < n; j++) s += R[i * n + j];
            rows = fmax(rows, fabs(s - 1));
        }
        CHECK(gap > 0.02, "%d layers: the reversed product is only %g away (the test could not tell)", depth, gap);
        CHECK(err < 1e-5 && rows < 1e-5, "%d layers: rollout vs double product %g, rows sum to 1 within %g", depth, err, rows);
    }
    /* one-hot maps (permutations, zeros skipped): the rollout is the composed permutation,
       exactly. Row i of R = P_last ⋯ P_0 has its 1 at p0[p1[...p_last[i]]]. */
    int perm[3][6] = {{1, 2, 0, 4, 5, 3}, {5, 4, 3, 2, 1, 0}, {0, 2, 4, 1, 3, 5}}, m = 6;
    float *P = calloc((size_t)3 * m * m, sizeof *P), *Q = malloc(sizeof(float) * m * m);
    for (int l = 0; l < 3; l++)
        for (int i = 0; i < m; i++) P[((size_t)l * m + i) * m + perm[l][i]] = 1;
    rollout(P, 3, m, Q);
    int bad = 0;
    for (int i = 0; i < m; i++) {
        int j = perm[0][perm[1][perm[2][i]]];
        for (int c = 0; c < m; c++) bad += Q[i * m + c] != (c == j ? 1.0f : 0.0f);
    }
    CHECK(bad == 0, "rollout of permutations is their composition (%d entries differ)", bad);
    free(P); free(Q); free(res); free(R); free(want); free(rev);
}

/* Max-flow by brute force: the minimum over all s-t cuts of the layered graph, in double.
   Node v = level*n + token; edge (l, j) -> (l+1, i) with capacity res[l][i][j]. */
static double min_cut(const float *res, int L, int n, int src, int sink) {
    int V = (L + 1) * n, free_nodes = V - 2;
    int *others = malloc(sizeof(int) * V), cnt = 0;
    for (int v = 0; v < V; v++)
        if (v != src && v != sink) others[cnt++] = v;
    char *in_s = malloc(V);
    double best = INFINITY;
    for (long mask = 0; mask < (1L << free_nodes); mask++) {
        memset(in_s, 0, V);
        in_s[src] = 1;
        for (int k = 0; k < free_nodes; k++)
            if (mask >> k & 1) in_s[others[k]] = 1;
        double c = 0;
        for (int l = 0; l < L; l++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (in_s[l * n + j] && !in_s[(l + 1) * n + i]) c += res[((size_t)l * n + i) * n + j];
        if (c < best) best = c;
    }
    free(others);
    free(in_s);
    return best;
}

static void test_flow(void) {
    /* one layer: the flow from j to the sink token is the single edge A'[to][j] */
    int n = 5;
    float *a = malloc(sizeof(float) * n * n), out[8];
    random_map(a, n);
    bl_residual_attention(a, n, 1);
    CHECK(bl_attention_flow(a, 1, n, 2, out) == 0, "flow runs");
    double err = 0;
    for (int j = 0; j < n; j++) err = fmax(err, fabs(out[j] - a[2 * n + j]));
    CHECK(err < 1e-7, "one layer: flow = the edge's capacity (error %g)", err);
    free(a);
    /* deeper graphs against the brute-force minimum cut, several shapes and sink tokens */
    static const int shapes[][2] = {{3, 2}, {3, 3}, {4, 2}, {2, 5}, {3, 4}};
    int checked = 0, bad = 0;
    for (int s = 0; s < 5; s++) {
        int m = shapes[s][0], L = shapes[s][1];
        float *res = malloc(sizeof(float) * L * m * m), f[8];
        for (int rep = 0; rep < 3; rep++) {
            for (int l = 0; l < L; l++) {
                random_map(res + (size_t)l * m * m, m);
                bl_residual_attention(res + (size_t)l * m * m, m, 1);
            }
            int to = rep % m;
            if (bl_attention_flow(res, L, m, to, f)) { bad++; continue; }
            for (int j = 0; j < m; j++) {
                double want = min_cut(res, L, m, j, L * m + to);
                checked++;
                if (fabs(f[j] - want) > 1e-5) {
                    bad++;
                    fprintf(stderr, "n=%d L=%d to=%d: flow[%d] = %f, min cut %f\n", m, L, to, j, f[j], want);
                }
            }
        }
        free(res);
    }
    CHECK(checked == 3 * (3 + 3 + 4 + 2 + 3) && bad == 0, "flow = minimum cut: %d checked, %d differ", checked, bad);
}

/* Word grouping from token strings: WordPiece, byte-level BPE, SentencePiece, specials. */
static void test_word_ids(void) {
    struct { const char *t[9]; int n, want[9], nw; } cases[] = {
        {{"[CLS]", "the", "un", "##believ", "##able", "story", ".", "[SEP]"}, 8, {0, 1, 2, 2, 2, 3, 4, 5}, 6},
        {{"<s>", "Hello", "\xC4\xA0world", "\xC4\xA0un", "believ", "able", "!", "</s>"}, 8, {0, 1, 2, 3, 3, 3, 3, 4}, 5},
        {{"[CLS]", "\xE2\x96\x81the", "\xE2\x96\x81un", "believ", "[MASK]", "able", "[SEP]"}, 7, {0, 1, 2, 2, 3, 4, 5}, 6},
        /* "##" after a special token starts a word; a lone "##" is the token "##", not a piece */
        {{"[CLS]", "##s", "a", "##", "[SEP]", "##b", "[SEP]"}, 7, {0, 1, 2, 3, 4, 5, 6}, 7},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        int got[9], nw = bl_word_ids(cases[c].t, cases[c].n, got), bad = nw != cases[c].nw;
        for (int i = 0; i < cases[c].n; i++) bad += got[i] != cases[c].want[i];
        CHECK(!bad, "word ids case %zu: %d words (want %d)", c, nw, cases[c].nw);
    }
}

/* Merging against the matrix statement out = D⁻¹ Pᵀ A P (P the n×nw indicator of word_of, D the
   pieces per word) in double, on a random map with words out of order; a hand-worked case. */
static void test_word_attention(void) {
    enum { n = 9, nw = 4 };
    const int word_of[n] = {0, 2, 2, 1, 3, 3, 3, 1, 0};
    float a[n * n], out[nw * nw];
    random_map(a, n);
    CHECK(bl_word_attention(a, NULL, n, word_of, nw, out) == 0, "word attention runs");
    double P[n][nw] = {{0}}, cnt[nw] = {0}, err = 0, rowerr = 0;
    for (int i = 0; i < n; i++) { P[i][word_of[i]] = 1; cnt[word_of[i]]++; }
    for (int v = 0; v < nw; v++) {
        double rs = 0;
        for (int w = 0; w < nw; w++) {
            double s = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) s += P[i][v] * a[i * n + j] * P[j][w];
            err = fmax(err, fabs(s / cnt[v] - out[v * nw + w]));
            rs += out[v * nw + w];
        }
        rowerr = fmax(rowerr, fabs(rs - 1));
    }
    CHECK(err < 1e-6, "word attention vs D^-1 P^T A P: max error %g", err);
    CHECK(rowerr < 1e-6, "word rows sum to 1 (off by %g)", rowerr);
    /* by hand: 3 tokens, words {0}, {1, 2}; row 0 = (.5 .25 .25), row 1 = (.2 .8 0), row 2 = (.6 .1 .3)
       -> to-word sums (.5 .5), (.2 .8), (.6 .4); from-word 1 averages rows 1, 2: (.4 .6) */
    const float h[9] = {0.5f, 0.25f, 0.25f, 0.2f, 0.8f, 0, 0.6f, 0.1f, 0.3f};
    const int wo[3] = {0, 1, 1};
    float ho[4];
    bl_word_attention(h, NULL, 3, wo, 2, ho);
    CHECK(fabsf(ho[0] - 0.5f) < 1e-7f && fabsf(ho[1] - 0.5f) < 1e-7f && fabsf(ho[2] - 0.4f) < 1e-7f &&
          fabsf(ho[3] - 0.6f) < 1e-7f, "hand-worked merge: %g %g %g %g", ho[0], ho[1], ho[2], ho[3]);
    /* 16-bit maps: the same within their rounding */
    uint16_t a16[n * n];
    float o16[nw * nw];
    for (int k = 0; k < n * n; k++) a16[k] = (uint16_t)lrintf(a[k] * 65535.0f);
    bl_word_attention(NULL, a16, n, word_of, nw, o16);
    double e16 = 0;
    for (int k = 0; k < nw * nw; k++) e16 = fmax(e16, fabs(o16[k] - out[k]));
    CHECK(e16 < 1e-4, "16-bit maps merge within rounding (%g)", e16);
    /* a word without tokens, or an index out of range, is refused */
    const int gap[n] = {0, 0, 1, 1, 3, 3, 3, 1, 0}, oob[n] = {0, 0, 1, 1, 2, 2, 2, 4, 0};
    CHECK(bl_word_attention(a, NULL, n, gap, nw, out) == -1, "empty word 2 refused");
    CHECK(bl_word_attention(a, NULL, n, oob, nw, out) == -1, "word index 4 of 4 refused");
}

int main(void) {
    test_residual();
    test_rollout();
    test_flow();
    test_word_ids();
    test_word_attention();
    return check_summary("test_analysis");
}
