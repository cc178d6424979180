/* fidelity.c — how far a converted file's attention is from the float model it came from.

   The converter (convert_stream.c) keeps a float copy of the checkpoint beside the file it
   writes, runs both through the project's own forward on a built-in calibration text and
   stores the largest and the mean |Δα| in the file (weights/FORMAT.md, "Fidelity"). Rounding
   the weights to int8 moves single attention weights of peaked heads by up to ~0.1 while the
   mean stays near 1e-3: the max is what a user comparing cells with a notebook will notice,
   the mean says whether it is a few cells or all of them. */
#include "base/internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Version 1: a short sentence, a pair (segment B, type ids 1) and a paragraph with numbers,
   names and punctuation, so that lengths from ~10 to ~70 tokens and both segments are seen.
   Never change a version's text: files record which one they were measured on. */
static const char *const calib1_a[] = {
    "The cat sat on the mat.",
    "Where did the committee meet last Tuesday?",
    "In 1905, Albert Einstein published four papers that changed physics: on the photoelectric "
    "effect, on Brownian motion, on special relativity, and on the equivalence of mass and energy. "
    "Each of them, written while he worked at the patent office in Bern, would have been enough "
    "for a career.",
};
static const char *const calib1_b[] = {
    NULL,
    "They met in the old library, next to the river, at three o'clock.",
    NULL,
};

int bl_fidelity_calibration(int version, const char *const **a, const char *const **b) {
    if (version != 1) return 0;
    if (a) *a = calib1_a;
    if (b) *b = calib1_b;
    return (int)(sizeof calib1_a / sizeof calib1_a[0]);
}

int bl_fidelity_measure(const bl_model *m, const bl_model *ref, int precision, bl_fidelity *out, bl_err *e) {
    if (!m || !ref || !out) return bl_fail(e, "fidelity: no model");
    memset(out, 0, sizeof *out);
    const bl_config *c = bl_model_config(m), *rc = bl_model_config(ref);
    if (c->layers != rc->layers || c->heads != rc->heads || c->vocab_size != rc->vocab_size)
        return bl_fail(e, "fidelity: the float copy's shape differs from the file's");
    out->ref_dtype = bl_model_dtype(ref);
    out->precision = precision;
    bl_err te;
    bl_tokenizer *tok = bl_model_tokenizer(m, &te);
    if (!tok) {
        out->status = BL_FID_NO_TOKENIZER;
        bl_fail(e, "%s", te.msg);
        return 0;
    }
    const char *const *ta, *const *tb;
    const int ncal = bl_fidelity_calibration(1, &ta, &tb);
    bl_ctx *x = bl_ctx_new(m, e), *y = x ? bl_ctx_new(ref, e) : NULL;
    double sum = 0.0;
    float mx = 0.0f;
    int ok = x && y;
    if (ok) {
        /* only the maps are compared: the last layer can stop after its softmax */
        bl_ctx_set_attention_only(x, 1);
        bl_ctx_set_attention_only(y, 1);
    }
    for (int i = 0; ok && i < ncal; i++) {
        bl_encoding enc;
        memset(&enc, 0, sizeof enc);
        if (bl_tokenizer_encode(tok, ta[i], strlen(ta[i]), tb[i], tb[i] ? strlen(tb[i]) : 0, bl_config_max_tokens(c),
                                &enc, e) != 0) {
            ok = 0;
            break;
        }
        const int n = enc.n;
        /* a tokenizer.json may give segment B type 1 to a model with one token type (XLM-R's
           test checkpoints do): the calibration reads it as type 0 rather than fail */
        for (int k = 0; k < n; k++)
            if (enc.type_ids[k] >= (c->type_vocab > 0 ? c->type_vocab : 1)) enc.type_ids[k] = 0;
        ok = bl_forward(x, enc.ids, enc.type_ids, n, precision, e) == 0 &&
             bl_forward(y, enc.ids, enc.type_ids, n, BL_PREC_F32, e) == 0;
        if (ok) {
            const float *p = bl_attention(x), *q = bl_attention(y);
            const size_t cells = (size_t)c->layers * (size_t)c->heads * (size_t)n * (size_t)n;
            for (size_t k = 0; k < cells; k++) {
                float d = fabsf(p[k] - q[k]);
                if (!(d <= mx)) mx = d;   /* a NaN wins: it must not read as faithful */
                sum += d;
            }
            out->cells += cells;
            out->tokens += n;
            out->sequences++;
        }
        bl_encoding_free(&enc);
    }
    bl_ctx_free(x);
    bl_ctx_free(y);
    bl_tokenizer_free(tok);
    if (!ok || !out->cells || !(mx <= 1.0f)) {
        if (ok) bl_fail(e, "fidelity: the attention is not finite");
        out->status = BL_FID_FAILED;
        out->max_dev = out->mean_dev = 0.0f;
        out->cells = 0;
        out->sequences = out->tokens = 0;
        return 0;
    }
    out->status = BL_FID_MEASURED;
    out->calib = 1;
    out->max_dev = mx;
    out->mean_dev = (float)(sum / (double)out->cells);
    if (out->mean_dev > out->max_dev) out->mean_dev = out->max_dev;   /* rounding of a constant |Δ| */
    return 0;
}

int bl_fidelity_text(const bl_fidelity *f, int dtype, char *buf, size_t cap) {
    const char *dt = bl_dtype_name(dtype);
    int n;
    switch (f->status) {
    case BL_FID_MEASURED:
        n = snprintf(buf, cap, "%s: attention within %.2g of the float model%s (max), mean %.2g", dt,
                     (double)f->max_dev, f->ref_dtype == BL_DT_F16 ? " (an f16 copy)" : "", (double)f->mean_dev);
        break;
    case BL_FID_MEMORY:
        n = snprintf(buf, cap, "%s: attention fidelity not measured (a float copy of %.0f MB would pass the %.0f MB "
                     "memory limit)", dt, (double)f->ref_bytes / 1048576.0, (double)f->limit_bytes / 1048576.0);
        break;
    case BL_FID_NO_TOKENIZER:
        n = snprintf(buf, cap, "%s: attention fidelity not measured (no tokenizer for the calibration text)", dt);
        break;
    case BL_FID_FAILED:
        n = snprintf(buf, cap, "%s: attention fidelity not measured (the forward failed)", dt);
        break;
    default:
        n = snprintf(buf, cap, "%s: attention fidelity not measured (the file has no record)", dt);
        break;
    }
    return n < 0 ? 0 : n;
}
