/* stats.c — what each head does, in numbers (Clark, Khandelwal, Levy & Manning 2019, "What Does
   BERT Look At? An Analysis of BERT's Attention"): the entropy of its rows, the share of its
   attention that goes to [CLS], [SEP], punctuation, the previous / next token and the token
   itself; Jensen–Shannon distances between heads' maps and a classical MDS of them to 2-D
   (their Figure 6 "head clustering"). Everything is computed in double from the maps and
   rounded once; the loops run in a fixed order, so results do not depend on threads. */
#include "base/internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int bl_uc_flags(uint32_t cp);   /* core/text/unicode_data.c: class in the low 3 bits, 2 = P* */

static const char *const STAT_NAMES[BL_STAT_COUNT] = {"entropy", "cls", "sep", "punct", "prev", "next", "self"};

const char *bl_stat_name(int s) { return s >= 0 && s < BL_STAT_COUNT ? STAT_NAMES[s] : "?"; }

/* BERT's idea of punctuation (BasicTokenizer): every ASCII non-alphanumeric printable and
   Unicode P*. A word-start marker (Ġ U+0120, ▁ U+2581) or "##" in front is not part of it. */
static int is_punct_cp(uint32_t c) {
    if (c < 128) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
    return (bl_uc_flags(c) & 7) == 2;
}

int bl_token_kind(const char *tok) {
    if (!tok) return 0;
    if (!strcmp(tok, "[CLS]") || !strcmp(tok, "<s>")) return BL_TOKK_CLS;
    if (!strcmp(tok, "[SEP]") || !strcmp(tok, "</s>")) return BL_TOKK_SEP;
    size_t n = strlen(tok), i = 0;
    if (n > 2 && tok[0] == '#' && tok[1] == '#') i = 2;
    else if (n > 2 && (unsigned char)tok[0] == 0xC4 && (unsigned char)tok[1] == 0xA0) i = 2;        /* Ġ */
    else if (n > 3 && !memcmp(tok, "\xE2\x96\x81", 3)) i = 3;                                        /* ▁ */
    if (i >= n) return 0;
    while (i < n) {
        uint32_t c;
        size_t l = bl_utf8_decode((const uint8_t *)tok + i, n - i, &c);
        if (!l || !is_punct_cp(c)) return 0;
        i += l;
    }
    return BL_TOKK_PUNCT;
}

/* Row i of map (l,h) as floats: straight from attn, or converted from attn16 into buf. */
static const float *map_row(const float *attn, const uint16_t *attn16, size_t map, int n, int i, float *buf) {
    size_t k = (map * n + i) * (size_t)n;
    if (attn) return attn + k;
    for (int j = 0; j < n; j++) buf[j] = attn16[k + j] * (1.0f / 65535.0f);
    return buf;
}

int bl_head_stats(const float *attn, const uint16_t *attn16, int layers, int heads, int n,
                  const uint8_t *kinds, float *out, bl_err *e) {
    if ((!attn && !attn16) || layers < 1 || heads < 1 || n < 1 || !kinds || !out)
        return bl_fail(e, "head stats: bad arguments");
    float *buf = attn ? NULL : malloc(sizeof(float) * (size_t)n);
    if (!attn && !buf) return bl_fail(e, "head stats: out of memory");
    for (size_t m = 0; m < (size_t)layers * heads; m++) {
        double s[BL_STAT_COUNT] = {0};
        for (int i = 0; i < n; i++) {
            const float *row = map_row(attn, attn16, m, n, i, buf);
            double ent = 0, cls = 0, sep = 0, pun = 0;
            for (int j = 0; j < n; j++) {
                double p = row[j];
                if (p > 0) ent -= p * log(p);
                if (kinds[j] & BL_TOKK_CLS) cls += p;
                if (kinds[j] & BL_TOKK_SEP) sep += p;
                if (kinds[j] & BL_TOKK_PUNCT) pun += p;
            }
            s[BL_STAT_ENTROPY] += ent;
            s[BL_STAT_CLS] += cls;
            s[BL_STAT_SEP] += sep;
            s[BL_STAT_PUNCT] += pun;
            if (i > 0) s[BL_STAT_PREV] += row[i - 1];
            if (i + 1 < n) s[BL_STAT_NEXT] += row[i + 1];
            s[BL_STAT_SELF] += row[i];
        }
        float *o = out + m * BL_STAT_COUNT;
        for (int k = 0; k < BL_STAT_COUNT; k++) o[k] = (float)(s[k] / n);
        /* previous / next exist for n - 1 rows only */
        o[BL_STAT_PREV] = n > 1 ? (float)(s[BL_STAT_PREV] / (n - 1)) : 0;
        o[BL_STAT_NEXT] = n > 1 ? (float)(s[BL_STAT_NEXT] / (n - 1)) : 0;
    }
    free(buf);
    return 0;
}

/* Jensen–Shannon divergence of two distributions in bits (0..1). */
static double jsd2(const float *p, const float *q, int n) {
    double d = 0;
    for (int j = 0; j < n; j++) {
        double a = p[j], b = q[j], m = 0.5 * (a + b);
        if (a > 0) d += 0.5 * a * log2(a / m);
        if (b > 0) d += 0.5 * b * log2(b / m);
    }
    return d > 0 ? d : 0;
}

int bl_head_distances(const float *attn, const uint16_t *attn16, int layers, int heads, int n,
                      float *dist, bl_err *e) {
    if ((!attn && !attn16) || layers < 1 || heads < 1 || n < 1 || !dist)
        return bl_fail(e, "head distances: bad arguments");
    const size_t M = (size_t)layers * heads;
    float *conv = NULL;
    if (!attn) {   /* the u16 maps converted once: M·n² floats, what the float mode keeps anyway */
        if (!(conv = malloc(sizeof(float) * M * n * n))) return bl_fail(e, "head distances: out of memory");
        for (size_t k = 0; k < M * n * n; k++) conv[k] = attn16[k] * (1.0f / 65535.0f);
        attn = conv;
    }
    for (size_t a = 0; a < M; a++) {
        dist[a * M + a] = 0;
        for (size_t b = a + 1; b < M; b++) {
            double s = 0;
            for (int i = 0; i < n; i++)
                s += jsd2(attn + (a * n + i) * n, attn + (b * n + i) * n, n);
            dist[a * M + b] = dist[b * M + a] = (float)sqrt(s / n);
        }
    }
    free(conv);
    return 0;
}

/* Eigen-decomposition of the symmetric m×m matrix a (destroyed) by cyclic Jacobi rotations:
   eigenvalues in w, eigenvectors in the columns of v. Robust for the repeated or tiny
   eigenvalues a distance matrix of near-identical heads gives, and m is at most a few hundred. */
static void jacobi(double *a, int m, double *w, double *v) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) v[i * m + j] = i == j;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, tot = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) {
                tot += a[i * m + j] * a[i * m + j];
                if (i != j) off += a[i * m + j] * a[i * m + j];
            }
        if (off <= 1e-30 * (tot > 0 ? tot : 1)) break;
        for (int p = 0; p < m; p++)
            for (int q = p + 1; q < m; q++) {
                double apq = a[p * m + q];
                if (apq == 0) continue;
                double theta = (a[q * m + q] - a[p * m + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < m; k++) {   /* columns p, q */
                    double akp = a[k * m + p], akq = a[k * m + q];
                    a[k * m + p] = c * akp - s * akq;
                    a[k * m + q] = s * akp + c * akq;
                }
                for (int k = 0; k < m; k++) {   /* rows p, q */
                    double apk = a[p * m + k], aqk = a[q * m + k];
                    a[p * m + k] = c * apk - s * aqk;
                    a[q * m + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < m; k++) {
                    double vkp = v[k * m + p], vkq = v[k * m + q];
                    v[k * m + p] = c * vkp - s * vkq;
                    v[k * m + q] = s * vkp + c * vkq;
                }
            }
    }
    for (int i = 0; i < m; i++) w[i] = a[i * m + i];
}

int bl_mds2(const float *dist, int m, float *xy, bl_err *e) {
    if (!dist || m < 1 || !xy) return bl_fail(e, "MDS: bad arguments");
    const size_t mm = (size_t)m * m;
    double *b = malloc(sizeof(double) * mm), *v = malloc(sizeof(double) * mm), *w = malloc(sizeof(double) * m);
    double *rm = calloc((size_t)m, sizeof(double));
    if (!b || !v || !w || !rm) { free(b); free(v); free(w); free(rm); return bl_fail(e, "MDS: out of memory"); }
    /* B = -1/2 J D² J (double centring) */
    double all = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            double d2 = (double)dist[(size_t)i * m + j] * dist[(size_t)i * m + j];
            b[(size_t)i * m + j] = d2;
            rm[i] += d2 / m;
            all += d2 / ((double)m * m);
        }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) b[(size_t)i * m + j] = -0.5 * (b[(size_t)i * m + j] - rm[i] - rm[j] + all);
    jacobi(b, m, w, v);
    /* the two largest eigenvalues; coordinates = eigenvector × sqrt(max(λ, 0)), signed so that
       the component of largest magnitude is positive (eigenvectors have no sign of their own) */
    int top[2] = {-1, -1};
    for (int k = 0; k < m; k++) {
        if (top[0] < 0 || w[k] > w[top[0]]) { top[1] = top[0]; top[0] = k; }
        else if (top[1] < 0 || w[k] > w[top[1]]) top[1] = k;
    }
    for (int c = 0; c < 2; c++) {
        int k = top[c];
        double sc = k >= 0 && w[k] > 0 ? sqrt(w[k]) : 0, big = 0;
        for (int i = 0; k >= 0 && i < m; i++)
            if (fabs(v[(size_t)i * m + k]) > fabs(big)) big = v[(size_t)i * m + k];
        if (big < 0) sc = -sc;
        for (int i = 0; i < m; i++) xy[i * 2 + c] = k >= 0 ? (float)(v[(size_t)i * m + k] * sc) : 0;
    }
    free(b); free(v); free(w); free(rm);
    return 0;
}

void bl_stats_summary(const float *rows, int nrows, int width, float *mean, float *sd) {
    for (int k = 0; k < width; k++) {
        double s = 0, s2 = 0;
        for (int r = 0; r < nrows; r++) s += rows[(size_t)r * width + k];
        double mu = nrows > 0 ? s / nrows : 0;
        for (int r = 0; r < nrows; r++) {
            double d = rows[(size_t)r * width + k] - mu;
            s2 += d * d;
        }
        mean[k] = (float)mu;
        if (sd) sd[k] = nrows > 1 ? (float)sqrt(s2 / (nrows - 1)) : 0;
    }
}
