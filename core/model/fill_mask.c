/* fill_mask.c — masked-LM predictions: softmax and top-k over the MLM logits, once for every
   caller (the CLI's fill-mask, its masked-LM render, the page through wasm_api.c), so the page
   and the command line print the same probabilities for the same logits. */
#include "bertlens.h"
#include "base/internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* a ranks before b: larger logit first, then lower id; NaN ranks below every number, so the
   order is total and the same whatever the selection method. */
static int bl_ranks_before(const float *v, int a, int b) {
    const float x = v[a], y = v[b];
    if (isnan(x) || isnan(y)) return isnan(y) && (!isnan(x) || a < b);
    return x > y || (x == y && a < b);
}

int bl_mlm_top_k(const float *logits, int vocab, int k, int *ids, float *p) {
    if (!logits || vocab < 1 || k < 1 || !ids) return -1;
    if (k > vocab) k = vocab;
    /* k small (the page asks 5, at most 20): insertion into the sorted best-k, O(vocab·k) in
       the worst case, one pass. Larger k: a bottom-up merge sort of all ids (qsort would need
       the logits in a global: it takes no context argument). Both give the same total order. */
    if (k <= 64) {
        int have = 0;
        for (int i = 0; i < vocab; i++) {
            if (have == k && !bl_ranks_before(logits, i, ids[k - 1])) continue;
            int j = have < k ? have++ : k - 1;
            while (j > 0 && bl_ranks_before(logits, i, ids[j - 1])) { ids[j] = ids[j - 1]; j--; }
            ids[j] = i;
        }
    } else {
        int *all = malloc(sizeof(int) * (size_t)vocab);
        if (!all) return -1;
        int *tmp = malloc(sizeof(int) * (size_t)vocab);
        if (!tmp) { free(all); return -1; }
        for (int i = 0; i < vocab; i++) all[i] = i;
        for (int w = 1; w < vocab; w *= 2) {
            for (int lo = 0; lo < vocab; lo += 2 * w) {
                int mid = lo + w < vocab ? lo + w : vocab, hi = lo + 2 * w < vocab ? lo + 2 * w : vocab;
                int a = lo, b = mid, o = lo;
                while (a < mid && b < hi) tmp[o++] = bl_ranks_before(logits, all[b], all[a]) ? all[b++] : all[a++];
                while (a < mid) tmp[o++] = all[a++];
                while (b < hi) tmp[o++] = all[b++];
            }
            int *s = all; all = tmp; tmp = s;
        }
        memcpy(ids, all, sizeof(int) * (size_t)k);
        free(all);
        free(tmp);
    }
    if (p) {
        /* softmax in double: the largest logit (as float) is subtracted in double, the sum runs
           over ids 0..vocab-1 in order, and each probability is rounded to float once. */
        float mx = -INFINITY;
        for (int i = 0; i < vocab; i++) mx = logits[i] > mx ? logits[i] : mx;
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += exp((double)logits[i] - mx);
        for (int r = 0; r < k; r++) p[r] = (float)(exp((double)logits[ids[r]] - mx) / sum);
    }
    return k;
}

void bl_mlm_top_free(bl_mlm_top *t) {
    if (!t) return;
    free(t->pos);
    free(t->ids);
    free(t->p);
    free(t->tokens);
    memset(t, 0, sizeof *t);
}

/* out's arrays for `rows` rows of k choices, and *logits for one row of the vocabulary: 0, or -1
   with nothing allocated (out emptied). Shared by fill-mask and the logit lens. */
int bl_mlm_top_alloc(bl_mlm_top *out, size_t rows, int k, int vocab, float **logits) {
    const size_t nk = rows * (size_t)k;
    *logits = malloc(sizeof(float) * (size_t)vocab);
    out->pos = malloc(sizeof(int) * rows);
    out->ids = malloc(sizeof(int) * nk);
    out->p = malloc(sizeof(float) * nk);
    out->tokens = malloc(sizeof(char *) * nk);
    if (*logits && out->pos && out->ids && out->p && out->tokens) return 0;
    free(*logits);
    *logits = NULL;
    bl_mlm_top_free(out);
    return -1;
}

int bl_fill_mask(bl_ctx *c, const bl_model *m, const int *ids, int n, int k, bl_mlm_top *out, bl_err *e) {
    if (!out) return bl_fail(e, "fill-mask: out is NULL");
    memset(out, 0, sizeof *out);
    if (!c || !m || !ids) return bl_fail(e, "fill-mask: context, model or ids is NULL");
    const bl_config *cfg = bl_model_config(m);
    const bl_vocab *v = bl_model_vocab(m);
    if (!cfg->has_mlm) return bl_fail(e, "fill-mask: this model has no masked-LM head");
    if (k < 1) return bl_fail(e, "fill-mask: k must be at least 1, not %d", k);
    if (n != bl_ctx_n(c)) return bl_fail(e, "fill-mask: %d ids, but the last forward ran on %d tokens", n, bl_ctx_n(c));
    if (k > cfg->vocab_size) k = cfg->vocab_size;
    out->k = k;
    const int mask = cfg->mask_id;   /* the family's mask token ([MASK], <mask>) */
    int count = 0;
    for (int i = 0; mask >= 0 && i < n; i++) count += ids[i] == mask;
    if (!count) return 0;
    float *logits;
    if (bl_mlm_top_alloc(out, (size_t)count, k, cfg->vocab_size, &logits))
        return bl_fail(e, "fill-mask: out of memory (%d positions × top %d)", count, k);
    for (int i = 0; i < n; i++) {
        if (ids[i] != mask) continue;
        const size_t at = (size_t)out->count * (size_t)k;
        int rc = bl_mlm_logits(c, i, logits, e);
        if (rc == 0 && bl_mlm_top_k(logits, cfg->vocab_size, k, out->ids + at, out->p + at) != k)
            rc = bl_fail(e, "fill-mask: out of memory (top %d of %d)", k, cfg->vocab_size);
        if (rc != 0) {
            free(logits);
            bl_mlm_top_free(out);
            return -1;
        }
        for (int r = 0; r < k; r++) out->tokens[at + (size_t)r] = bl_vocab_token(v, out->ids[at + (size_t)r]);
        out->pos[out->count++] = i;
    }
    free(logits);
    return 0;
}
