/* norms.c — value-weighted attention norms (Kobayashi et al. 2020; see analysis.h). For each
   token j and head h, f_h(x_j) = v_j^h · (W_O^h)ᵀ (v_j^h: the head's d values, W_O^h: the d
   input columns of the output projection that read them), then
     ‖α^h_ij f_h(x_j)‖ = α^h_ij ‖f_h(x_j)‖
     ‖Σ_h α^h_ij f_h(x_j)‖² = Σ_g Σ_h α^g_ij α^h_ij ⟨f_g(x_j), f_h(x_j)⟩
   The second uses the per-token Gram matrix of the heads' vectors: n·heads²·hidden once, then
   heads² per pair (i, j), instead of heads·hidden per pair. Sums in double. */
#include "analysis/analysis.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int grow_d(double **p, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    double *q = realloc(*p, need * sizeof *q);
    if (!q) return -1;
    *p = q;
    *cap = need;
    return 0;
}

int bl_vnorm_layer(bl_vnorm *vn, int layers, int heads, int hidden, int l, int n, const float *v,
                   const float *att, const uint16_t *att16) {
    const int d = hidden / heads;
    const size_t nn = (size_t)n * n;
    if (l == 0 && (size_t)layers * nn > vn->cap) {
        float *a = realloc(vn->norms, sizeof(float) * (size_t)layers * heads * nn);
        if (!a) return -1;
        vn->norms = a;
        float *b = realloc(vn->layer, sizeof(float) * (size_t)layers * nn);
        if (!b) return -1;
        vn->layer = b;
        vn->cap = (size_t)layers * nn;
    }
    if (grow_d(&vn->f, &vn->fcap, (size_t)heads * n * hidden) || grow_d(&vn->g, &vn->gcap, (size_t)n * heads * heads + heads))
        return -1;
    /* f[h][j][o] = Σ_k v[j][h·d + k] · wo[o][h·d + k] */
    for (int h = 0; h < heads; h++)
        for (int j = 0; j < n; j++) {
            const float *vj = v + (size_t)j * hidden + (size_t)h * d;
            double *f = vn->f + ((size_t)h * n + j) * hidden;
            for (int o = 0; o < hidden; o++) {
                const float *w = vn->wo + (size_t)o * hidden + (size_t)h * d;
                double s = 0;
                for (int k = 0; k < d; k++) s += (double)vj[k] * w[k];
                f[o] = s;
            }
        }
    for (int j = 0; j < n; j++)
        for (int g = 0; g < heads; g++)
            for (int h = g; h < heads; h++) {
                const double *a = vn->f + ((size_t)g * n + j) * hidden, *b = vn->f + ((size_t)h * n + j) * hidden;
                double s = 0;
                for (int o = 0; o < hidden; o++) s += a[o] * b[o];
                vn->g[((size_t)j * heads + g) * heads + h] = vn->g[((size_t)j * heads + h) * heads + g] = s;
            }
    float *norms = vn->norms + (size_t)l * heads * nn, *lay = vn->layer + (size_t)l * nn;
    double *al = vn->g + (size_t)n * heads * heads;   /* [heads] α^h_ij */
    if (l == 0) vn->n = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            for (int h = 0; h < heads; h++) {
                const size_t k = (size_t)h * nn + (size_t)i * n + j;
                al[h] = att ? att[k] : att16[k] * (1.0 / 65535.0);
                const double gjj = vn->g[((size_t)j * heads + h) * heads + h];
                norms[k] = (float)(al[h] * sqrt(gjj > 0 ? gjj : 0));
            }
            const double *G = vn->g + (size_t)j * heads * heads;
            double s = 0;
            for (int g = 0; g < heads; g++)
                for (int h = 0; h < heads; h++) s += al[g] * al[h] * G[g * heads + h];
            lay[(size_t)i * n + j] = (float)sqrt(s > 0 ? s : 0);
        }
    if (l == layers - 1) vn->n = n;
    return 0;
}

void bl_vnorm_free(bl_vnorm *vn) {
    free(vn->norms);
    free(vn->layer);
    free(vn->wo);
    free(vn->f);
    free(vn->g);
    memset(vn, 0, sizeof *vn);
}
