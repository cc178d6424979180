/* lens.c — the logit lens for a masked LM: the MLM head applied to the hidden state after every
   layer at each [MASK], each layer's top-k (how the prediction forms through the depth; the
   last layer's is fill-mask's). Needs the forward run with bl_ctx_set_keep_hidden. */
#include "base/internal.h"
#include <stdlib.h>
#include <string.h>

int bl_logit_lens(bl_ctx *c, const bl_model *m, const int *ids, int n, int k, bl_mlm_top *out, bl_err *e) {
    if (!out) return bl_fail(e, "logit lens: out is NULL");
    memset(out, 0, sizeof *out);
    if (!c || !m || !ids) return bl_fail(e, "logit lens: context, model or ids is NULL");
    const bl_config *cfg = bl_model_config(m);
    if (!cfg->has_mlm) return bl_fail(e, "logit lens: this model has no masked-LM head");
    if (k < 1) return bl_fail(e, "logit lens: k must be at least 1, not %d", k);
    if (n != bl_ctx_n(c)) return bl_fail(e, "logit lens: %d ids, but the last forward ran on %d tokens", n, bl_ctx_n(c));
    if (!bl_hidden_at(c, 0)) return bl_fail(e, "logit lens: the forward kept no per-layer hidden states (bl_ctx_set_keep_hidden)");
    if (k > cfg->vocab_size) k = cfg->vocab_size;
    const int L = cfg->layers, mask = cfg->mask_id;
    int masks = 0;
    for (int i = 0; mask >= 0 && i < n; i++) masks += ids[i] == mask;
    out->k = k;
    if (!masks) return 0;
    const size_t rows = (size_t)masks * L;
    float *logits;
    if (bl_mlm_top_alloc(out, rows, k, cfg->vocab_size, &logits)) return bl_fail(e, "logit lens: out of memory");
    size_t r = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] != mask) continue;
        for (int l = 0; l < L; l++, r++) {
            if (bl_mlm_logits_at(c, l, i, logits, e) != 0) { free(logits); bl_mlm_top_free(out); return -1; }
            bl_mlm_top_k(logits, cfg->vocab_size, k, out->ids + r * k, out->p + r * k);
            for (int t = 0; t < k; t++) out->tokens[r * k + t] = bl_vocab_token(bl_model_vocab(m), out->ids[r * k + t]);
            out->pos[r] = i;
        }
    }
    out->count = (int)rows;
    free(logits);
    return 0;
}
