/* compare.c — two attention sets side by side (two inputs, or two models on one input): the
   difference A − B of every map, aligned by token position, and each head's change in entropy
   (Clark et al. 2019's row entropy, bl_head_stats). When the inputs have different lengths the
   first min(nA, nB) positions are compared (the rows are not renormalised: a difference shows
   where the weight went, including to positions one side lacks); bl_compare_tokens says which
   aligned positions hold different tokens, so the reader knows where alignment by position
   compares unlike things ("The doctor said she…" vs "…he…" differ at one position). */
#include "base/internal.h"
#include <stdlib.h>
#include <string.h>

int bl_attention_diff(const float *a, int na, const float *b, int nb, int maps, float *out) {
    if (!a || !b || !out || na < 1 || nb < 1 || maps < 1) return -1;
    const int n = na < nb ? na : nb;
    for (int m = 0; m < maps; m++)
        for (int i = 0; i < n; i++) {
            const float *ra = a + ((size_t)m * na + i) * na, *rb = b + ((size_t)m * nb + i) * nb;
            float *o = out + ((size_t)m * n + i) * n;
            for (int j = 0; j < n; j++) o[j] = ra[j] - rb[j];
        }
    return n;
}

int bl_entropy_change(const float *a, int na, const float *b, int nb, int layers, int heads, float *out, bl_err *e) {
    const size_t M = (size_t)layers * heads;
    uint8_t *ka = calloc((size_t)(na > nb ? na : nb), 1);
    float *sa = malloc(sizeof(float) * M * BL_STAT_COUNT), *sb = malloc(sizeof(float) * M * BL_STAT_COUNT);
    int rc = !ka || !sa || !sb ? bl_fail(e, "compare: out of memory") : 0;
    /* entropy needs no token kinds: all 0 */
    if (!rc) rc = bl_head_stats(a, NULL, layers, heads, na, ka, sa, e);
    if (!rc) rc = bl_head_stats(b, NULL, layers, heads, nb, ka, sb, e);
    for (size_t m = 0; !rc && m < M; m++)
        out[m] = sa[m * BL_STAT_COUNT + BL_STAT_ENTROPY] - sb[m * BL_STAT_COUNT + BL_STAT_ENTROPY];
    free(ka); free(sa); free(sb);
    return rc;
}

int bl_compare_tokens(const char *const *ta, int na, const char *const *tb, int nb, int *differ) {
    const int n = na < nb ? na : nb;
    int count = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(ta[i] ? ta[i] : "", tb[i] ? tb[i] : "")) differ[count++] = i;
    return count;
}
