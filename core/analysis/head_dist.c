/* head_dist.c — Jensen–Shannon distances between heads over a subset of query rows, for views
   that must answer quickly (the head map). bl_head_distances (stats.c) takes every row, two
   logarithms per term; here each row's own entropy is computed once, so a pair costs one
   logarithm per term: JSD(p, q) = H(½(p + q)) − ½H(p) − ½H(q) (bits). */
#include "base/internal.h"
#include <math.h>
#include <stdlib.h>

/* -Σ p log2 p of n values */
static double entropy2(const float *p, int n) {
    double h = 0;
    for (int j = 0; j < n; j++)
        if (p[j] > 0) h -= p[j] * log2(p[j]);
    return h;
}

int bl_head_distances_rows(const float *attn, const uint16_t *attn16, int layers, int heads, int n, const int *rows,
                           int nrows, float *dist, bl_err *e) {
    if ((!attn && !attn16) || layers < 1 || heads < 1 || n < 1 || !rows || nrows < 1 || !dist)
        return bl_fail(e, "head distances: bad arguments");
    for (int k = 0; k < nrows; k++)
        if (rows[k] < 0 || rows[k] >= n) return bl_fail(e, "head distances: row %d outside 0..%d", rows[k], n - 1);
    const size_t M = (size_t)layers * heads;
    /* the chosen rows of every map, as floats: sub[a][k][n], and their entropies ent[a][k] */
    float *sub = malloc(sizeof(float) * M * nrows * n);
    double *ent = malloc(sizeof(double) * M * nrows);
    if (!sub || !ent) { free(sub); free(ent); return bl_fail(e, "head distances: out of memory"); }
    for (size_t a = 0; a < M; a++)
        for (int k = 0; k < nrows; k++) {
            float *dst = sub + (a * nrows + k) * n;
            const size_t src = (a * n + rows[k]) * (size_t)n;
            for (int j = 0; j < n; j++) dst[j] = attn ? attn[src + j] : attn16[src + j] * (1.0f / 65535.0f);
            ent[a * nrows + k] = entropy2(dst, n);
        }
    for (size_t a = 0; a < M; a++) {
        dist[a * M + a] = 0;
        for (size_t b = a + 1; b < M; b++) {
            double s = 0;
            for (int k = 0; k < nrows; k++) {
                const float *p = sub + (a * nrows + k) * n, *q = sub + (b * nrows + k) * n;
                float hm = 0;   /* float terms, one row: n ≤ 4096 terms of at most 0.53 bits each */
                for (int j = 0; j < n; j++) {
                    const float m = 0.5f * (p[j] + q[j]);
                    if (m > 0) hm -= m * log2f(m);
                }
                const double d = hm - 0.5 * (ent[a * nrows + k] + ent[b * nrows + k]);
                s += d > 0 ? d : 0;
            }
            dist[a * M + b] = dist[b * M + a] = (float)sqrt(s / nrows);
        }
    }
    free(sub);
    free(ent);
    return 0;
}
