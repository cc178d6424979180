/* test_bert.c — the forward pass against an independent implementation.

   For each random Hugging Face checkpoint in tests/model/models/ (made by gen_models.py), the
   golden outputs in tests/model/golden/ come from tests/model/reference.py (torch, float64,
   no code shared with the C side). Here each checkpoint is converted with bl_convert_hf to
   F32, F16 and int8 files, loaded, and run in both precisions; attentions, last hidden states
   and MLM logits are compared with the reference, and the max differences are printed.

   Tolerances: attention and hidden states absolute (hidden states are LayerNorm outputs, ~1
   and up to ~4); logits relative to the largest |reference logit| at that position (~15–40):
     exact weights (F32 file, or F16 file of an F16/BF16 checkpoint), either precision:
         attention 1e-4, hidden 1e-4, logits 1e-5 — float32 rounding only
     F16 file of an F32 checkpoint (weights rounded to 11 significant bits):
         attention 2e-3, hidden 5e-3, logits 2e-3
     int8 file, BL_PREC_F32 (dequantized weights) and BL_PREC_NATIVE (int8 activations too):
         per model, ~1.5× the larger of the two precisions' measured errors (model_spec.i8):
         attention 0.6–0.9%, hidden 2–4%, logits 0.7–2% measured. Both precisions start from
         the same quantized weights, so their errors against the reference are close; that the
         native path really runs int8 activations is checked apart (check_native_differs).
   The shipped default model against a reference made from its own dequantized weights
   (check_default_model): f32 float32 rounding only, native the int8 activations alone.
   Also: every attention row sums to 1, q/k from bl_query/bl_key reproduce the attention,
   invalid n / ids / type ids / positions are errors with specific messages, and a context
   reused across different n gives bit-identical results to fresh ones. */
#define _POSIX_C_SOURCE 200809L   /* mkstemp */
#include "check.h"
#include "golden.h"
#include "bertlens.h"
#include "base/json.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXCASES 16

typedef struct {
    int n, nmlm;
    int *ids, *types, *mlm_pos;
    float *att, *hidden, *logits;   /* point into the golden blob */
} gcase;

typedef struct {
    int layers, heads, hidden, vocab, ncases;
    gcase c[MAXCASES];
    float *blob;
} golden;

static int load_golden(const char *name, golden *g) {
    memset(g, 0, sizeof *g);
    size_t blen = 0;
    char *txt = read_golden_files("tests/model/golden", name, &g->blob, &blen), *p = txt;
    if (!txt) return -1;
    int hdr[4];
    if (read_ints(&p, "model", hdr, 4)) { free(txt); return -1; }
    g->layers = hdr[0]; g->heads = hdr[1]; g->hidden = hdr[2]; g->vocab = hdr[3];
    size_t off = 0;
    while (*p && g->ncases < MAXCASES) {
        gcase *c = &g->c[g->ncases];
        int rc = read_case(&p, &c->n, &c->nmlm, &c->ids, &c->types, &c->mlm_pos);
        if (rc > 0) break;
        if (rc < 0) { free(txt); return -1; }
        c->att = g->blob + off;   off += (size_t)g->layers * g->heads * c->n * c->n;
        c->hidden = g->blob + off; off += (size_t)c->n * g->hidden;
        c->logits = g->blob + off; off += (size_t)c->nmlm * g->vocab;
        g->ncases++;
    }
    free(txt);
    return off * 4 == blen && g->ncases > 0 ? 0 : -1;
}

static void free_golden(golden *g) {
    for (int i = 0; i < g->ncases; i++) { free(g->c[i].ids); free(g->c[i].types); free(g->c[i].mlm_pos); }
    free(g->blob);
}

/* max |difference|; for logits divided by the position's max |reference logit| */
typedef struct { double att, hid, logit; } diffs;

/* Runs every golden case through ctx; returns the max differences over all of them. */
static diffs run_cases(bl_ctx *ctx, const golden *g, int prec, const char *label) {
    diffs d = {0, 0, -1};   /* logit -1: no MLM logits compared (model without the head) */
    float *logits = malloc(sizeof(float) * g->vocab);
    for (int ci = 0; ci < g->ncases; ci++) {
        const gcase *c = &g->c[ci];
        bl_err e = {{0}};
        int rc = bl_forward(ctx, c->ids, c->types, c->n, prec, &e);
        CHECK(rc == 0, "%s case %d (n=%d): forward failed: %s", label, ci, c->n, e.msg);
        if (rc) { d.att = d.hid = d.logit = INFINITY; continue; }
        CHECK(bl_ctx_n(ctx) == c->n, "%s: bl_ctx_n %d != %d", label, bl_ctx_n(ctx), c->n);
        const float *att = bl_attention(ctx);
        size_t na = (size_t)g->layers * g->heads * c->n * c->n;
        d.att = fmax(d.att, maxdiff(att, c->att, na));
        if (getenv("BL_DEBUG_ATT")) {   /* where the worst attention difference is */
            size_t wi = 0;
            for (size_t i = 0; i < na; i++)
                if (fabs(att[i] - c->att[i]) > fabs(att[wi] - c->att[wi])) wi = i;
            size_t per_head = (size_t)c->n * c->n;
            fprintf(stderr, "%s case %d: worst at layer %zu head %zu row %zu col %zu: %.4f vs %.4f\n", label, ci,
                    wi / per_head / g->heads, wi / per_head % g->heads, wi % per_head / c->n, wi % c->n,
                    att[wi], c->att[wi]);
        }
        d.hid = fmax(d.hid, maxdiff(bl_hidden(ctx), c->hidden, (size_t)c->n * g->hidden));
        /* every row a probability distribution */
        double worst = 0;
        for (size_t r = 0; r < na / c->n; r++) {
            double s = 0;
            for (int j = 0; j < c->n; j++) {
                s += att[r * c->n + j];
                if (att[r * c->n + j] < 0) worst = INFINITY;
            }
            worst = fmax(worst, fabs(s - 1.0));
        }
        CHECK(worst < 1e-5, "%s case %d: attention rows sum to 1 within %.3g", label, ci, worst);
        for (int k = 0; k < c->nmlm; k++) {
            rc = bl_mlm_logits(ctx, c->mlm_pos[k], logits, &e);
            CHECK(rc == 0, "%s case %d: mlm_logits(%d) failed: %s", label, ci, c->mlm_pos[k], e.msg);
            if (rc) continue;
            const float *ref = c->logits + (size_t)k * g->vocab;
            double range = 0;
            for (int v = 0; v < g->vocab; v++) range = fmax(range, fabs(ref[v]));
            d.logit = fmax(d.logit, maxdiff(logits, ref, (size_t)g->vocab) / range);
        }
    }
    free(logits);
    return d;
}

/* q·k/sqrt(d) → softmax from bl_query/bl_key must reproduce bl_attention (neuron view). */
static void check_qk(bl_ctx *ctx, const golden *g, const char *label) {
    int n = bl_ctx_n(ctx), H = g->hidden, d = H / g->heads;
    const float *att = bl_attention(ctx);
    double worst = 0;
    float *row = malloc(sizeof(float) * n);
    for (int l = 0; l < g->layers; l++) {
        const float *q = bl_query(ctx, l), *k = bl_key(ctx, l);
        CHECK(q && k, "%s: bl_query/bl_key(%d) NULL", label, l);
        if (!q || !k) break;
        for (int h = 0; h < g->heads; h++)
            for (int i = 0; i < n; i++) {
                double m = -INFINITY, s = 0;
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    for (int t = 0; t < d; t++) dot += (double)q[i * H + h * d + t] * k[j * H + h * d + t];
                    row[j] = (float)(dot / sqrt((double)d));
                    m = fmax(m, row[j]);
                }
                for (int j = 0; j < n; j++) s += exp(row[j] - m);
                for (int j = 0; j < n; j++) {
                    double p = exp(row[j] - m) / s;
                    worst = fmax(worst, fabs(p - att[(((size_t)l * g->heads + h) * n + i) * n + j]));
                }
            }
    }
    free(row);
    CHECK(worst < 1e-5, "%s: softmax(q·k/√d) from bl_query/bl_key differs from bl_attention by %.3g", label, worst);
    CHECK(bl_query(ctx, -1) == NULL && bl_key(ctx, g->layers) == NULL, "%s: bad layer must give NULL", label);
}

static int contains(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

static void check_errors(bl_ctx *ctx, const bl_model *m, const char *label) {
    const bl_config *cfg = bl_model_config(m);
    int P = cfg->max_pos;
    int *ids = calloc((size_t)P + 1, sizeof(int)), *types = calloc((size_t)P + 1, sizeof(int));
    for (int i = 0; i <= P; i++) ids[i] = 101;
    bl_err e;
    struct { int n; const char *msg; } bad_n[] = {{0, "n=0"}, {-3, "n=-3"}, {P + 1, "out of range"}};
    for (int i = 0; i < 3; i++) {
        e.msg[0] = 0;
        int rc = bl_forward(ctx, ids, types, bad_n[i].n, BL_PREC_F32, &e);
        CHECK(rc < 0 && contains(e.msg, bad_n[i].msg) && contains(e.msg, "max positions"),
              "%s: n=%d must fail naming the range (got %d, '%s')", label, bad_n[i].n, rc, e.msg);
    }
    ids[3] = cfg->vocab_size;
    int rc = bl_forward(ctx, ids, types, 5, BL_PREC_NATIVE, &e);
    CHECK(rc < 0 && contains(e.msg, "token id") && contains(e.msg, "position 3"),
          "%s: id = vocab_size must fail (got %d, '%s')", label, rc, e.msg);
    ids[3] = -1;
    rc = bl_forward(ctx, ids, types, 5, BL_PREC_NATIVE, &e);
    CHECK(rc < 0 && contains(e.msg, "token id -1"), "%s: id -1 must fail ('%s')", label, e.msg);
    ids[3] = 101;
    types[4] = cfg->type_vocab;
    rc = bl_forward(ctx, ids, types, 5, BL_PREC_F32, &e);
    CHECK(rc < 0 && contains(e.msg, "type id") && contains(e.msg, "position 4"),
          "%s: type id = type_vocab must fail ('%s')", label, e.msg);
    types[4] = 0;
    rc = bl_forward(ctx, NULL, types, 5, BL_PREC_F32, &e);
    CHECK(rc < 0 && contains(e.msg, "ids"), "%s: NULL ids must fail ('%s')", label, e.msg);
    rc = bl_forward(ctx, ids, types, 5, 7, &e);
    CHECK(rc < 0 && contains(e.msg, "precision"), "%s: unknown precision must fail ('%s')", label, e.msg);
    /* a valid forward, then MLM argument errors */
    rc = bl_forward(ctx, ids, NULL, 3, BL_PREC_F32, &e);   /* NULL type ids mean all 0 */
    CHECK(rc == 0, "%s: forward with NULL type ids: %s", label, e.msg);
    float *logits = malloc(sizeof(float) * cfg->vocab_size);
    rc = bl_mlm_logits(ctx, 3, logits, &e);
    if (cfg->has_mlm) {
        CHECK(rc < 0 && contains(e.msg, "position 3"), "%s: mlm pos = n must fail ('%s')", label, e.msg);
        rc = bl_mlm_logits(ctx, -1, logits, &e);
        CHECK(rc < 0 && contains(e.msg, "position -1"), "%s: mlm pos -1 must fail ('%s')", label, e.msg);
    } else {
        CHECK(rc < 0 && contains(e.msg, "no masked-LM head"), "%s: mlm without head must fail ('%s')", label, e.msg);
    }
    free(logits); free(ids); free(types);
}

/* The same cases on one reused context (growing and shrinking n) and on fresh contexts must
   give bit-identical attentions and hidden states. */
static void check_reuse(const bl_model *m, const golden *g, int prec, const char *label) {
    bl_err e;
    bl_ctx *shared = bl_ctx_new(m, &e);
    CHECK(shared != NULL, "%s: ctx_new: %s", label, e.msg);
    if (!shared) return;
    static const int order[] = {3, 0, 4, 1, 3, 2, 0};   /* large, 1, large-1, 7, large, pair, 1 */
    int bad = 0;
    for (size_t oi = 0; oi < sizeof order / sizeof order[0]; oi++) {
        if (order[oi] >= g->ncases) continue;
        const gcase *c = &g->c[order[oi]];
        bl_ctx *fresh = bl_ctx_new(m, &e);
        if (!fresh || bl_forward(fresh, c->ids, c->types, c->n, prec, &e) ||
            bl_forward(shared, c->ids, c->types, c->n, prec, &e)) {
            CHECK(0, "%s: reuse forward failed: %s", label, e.msg);
            bl_ctx_free(fresh);
            break;
        }
        size_t na = (size_t)g->layers * g->heads * c->n * c->n;
        if (memcmp(bl_attention(fresh), bl_attention(shared), na * 4) ||
            memcmp(bl_hidden(fresh), bl_hidden(shared), (size_t)c->n * g->hidden * 4) ||
            memcmp(bl_query(fresh, g->layers - 1), bl_query(shared, g->layers - 1), (size_t)c->n * g->hidden * 4))
            bad++;
        bl_ctx_free(fresh);
    }
    CHECK(bad == 0, "%s: a reused context differs from fresh ones in %d of the runs", label, bad);
    bl_ctx_free(shared);
}

/* bl_ctx_set_attention_u16: the maps rounded to 1/65535 (within half a step of the float run's),
   nothing else changed (hidden states bit-identical: P·V reads the f32 probabilities), and a
   context switched back and forth (its buffers regrown for the other element size, checked by
   ASan in the sanitizer build) gives the float maps bit for bit again. */
static void check_u16(const bl_model *m, const golden *g, int prec, const char *label) {
    bl_err e;
    bl_ctx *ref = bl_ctx_new(m, &e), *c = bl_ctx_new(m, &e);
    CHECK(ref && c, "%s: ctx_new: %s", label, e.msg);
    if (!ref || !c) { bl_ctx_free(ref); bl_ctx_free(c); return; }
    static const int order[] = {3, 0, 4, 3, 1};
    double worst = 0;
    for (size_t oi = 0; oi < sizeof order / sizeof order[0]; oi++) {
        if (order[oi] >= g->ncases) continue;
        const gcase *k = &g->c[order[oi]];
        const size_t na = (size_t)g->layers * g->heads * k->n * k->n;
        bl_ctx_set_attention_u16(c, 1);
        if (bl_forward(ref, k->ids, k->types, k->n, prec, &e) || bl_forward(c, k->ids, k->types, k->n, prec, &e)) {
            CHECK(0, "%s: u16 forward failed: %s", label, e.msg);
            break;
        }
        const float *a = bl_attention(ref);
        const uint16_t *a16 = bl_attention_u16(c);
        CHECK(a16 && !bl_attention(c) && !bl_attention_u16(ref), "%s: one of bl_attention / _u16 per mode", label);
        if (!a16) break;
        for (size_t i = 0; i < na; i++) {
            const double d = fabs(a16[i] / 65535.0 - a[i]);
            if (d > worst) worst = d;
        }
        CHECK(!memcmp(bl_hidden(ref), bl_hidden(c), (size_t)k->n * g->hidden * 4),
              "%s: n=%d: hidden states differ in u16 mode", label, k->n);
        bl_ctx_set_attention_u16(c, 0);
        CHECK(bl_ctx_n(c) == 0, "%s: switching the format leaves no stale maps", label);
        if (bl_forward(c, k->ids, k->types, k->n, prec, &e)) { CHECK(0, "%s: %s", label, e.msg); break; }
        CHECK(bl_attention(c) && !memcmp(bl_attention(c), a, na * 4), "%s: n=%d: float maps differ after u16 runs", label, k->n);
    }
    CHECK(worst <= 0.5 / 65535 + 1e-7, "%s: u16 maps off by %.3g (> half a step)", label, worst);
    /* maps at 2 bytes instead of 4, plus one 8-row block of float probabilities */
    const size_t N = 64, saved = (size_t)g->layers * g->heads * N * N * 2 - 8 * N * 4;
    CHECK(bl_ctx_bytes(m, (int)N) - bl_ctx_bytes_u16(m, (int)N) == saved, "%s: bl_ctx_bytes_u16 %zu vs %zu",
          label, bl_ctx_bytes_u16(m, (int)N), bl_ctx_bytes(m, (int)N));
    bl_ctx_free(ref);
    bl_ctx_free(c);
}

/* Pools of 2 and 3 threads (tokens split for the linear layers, heads for attention) give the
   single-thread results bit for bit, float and u16 maps; one pool serves two contexts in turn;
   bad sizes are refused. */
static void check_threads(const bl_model *m, const golden *g, int prec, const char *label) {
    bl_err e;
    bl_ctx *one = bl_ctx_new(m, &e), *many = bl_ctx_new(m, &e), *other = bl_ctx_new(m, &e);
    CHECK(one && many && other, "%s: ctx_new: %s", label, e.msg);
    CHECK(!bl_pool_new(0, &e) && strstr(e.msg, "out of range"), "%s: a pool of 0 threads is refused: %s", label, e.msg);
    CHECK(!bl_pool_new(17, &e), "%s: a pool of 17 threads is refused", label);
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
    /* the single-thread WebAssembly build (tests/run_wasm_units.sh) says so instead */
    CHECK(!bl_pool_new(2, &e) && strstr(e.msg, "no thread support"), "%s: no pools here: %s", label, e.msg);
    bl_ctx_free(one); bl_ctx_free(many); bl_ctx_free(other);
    return;
#endif
    int bad = 0;
    for (int threads = 2; one && many && other && threads <= 3; threads++) {
        bl_pool *pool = bl_pool_new(threads, &e);
        CHECK(pool && bl_pool_size(pool) == threads, "%s: pool of %d: %s", label, threads, e.msg);
        bl_ctx_set_pool(many, pool);
        bl_ctx_set_pool(other, pool);
        for (int u16 = 0; u16 <= 1; u16++) {
            bl_ctx_set_attention_u16(one, u16);
            bl_ctx_set_attention_u16(many, u16);
            for (int ci = 0; ci < g->ncases + 2; ci++) {
                /* the golden cases, then two longer inputs where the model allows: threads take a
                   share only from 64 tokens on (bert.c BL_TASK_TOKENS) */
                static int xids[160], xtypes[160];
                gcase extra = {0};
                const gcase *k = ci < g->ncases ? &g->c[ci] : &extra;
                if (ci >= g->ncases) {
                    const bl_config *cfg = bl_model_config(m);
                    const int want = ci == g->ncases ? 100 : 131;
                    extra.n = want < cfg->max_pos ? want : cfg->max_pos;
                    extra.ids = xids;
                    extra.types = xtypes;
                    for (int t = 0; t < extra.n; t++) {
                        xids[t] = (int)((unsigned)(t * 7919 + 101) % (unsigned)g->vocab);
                        xtypes[t] = cfg->type_vocab > 1 && t > extra.n / 2;
                    }
                }
                if (bl_forward(one, k->ids, k->types, k->n, prec, &e) || bl_forward(many, k->ids, k->types, k->n, prec, &e) ||
                    bl_forward(other, k->ids, k->types, k->n, prec, &e)) {
                    CHECK(0, "%s: threaded forward failed: %s", label, e.msg);
                    bad++;
                    continue;
                }
                const size_t na = (size_t)g->layers * g->heads * k->n * k->n;
                const int same_att = u16 ? !memcmp(bl_attention_u16(one), bl_attention_u16(many), na * 2)
                                         : !memcmp(bl_attention(one), bl_attention(many), na * 4);
                if (!same_att || memcmp(bl_hidden(one), bl_hidden(many), (size_t)k->n * g->hidden * 4) ||
                    memcmp(bl_hidden(one), bl_hidden(other), (size_t)k->n * g->hidden * 4) ||
                    memcmp(bl_key(one, g->layers - 1), bl_key(many, g->layers - 1), (size_t)k->n * g->hidden * 4))
                    bad++;
            }
        }
        bl_ctx_set_pool(many, NULL);
        bl_ctx_set_pool(other, NULL);
        bl_pool_free(pool);
    }
    CHECK(bad == 0, "%s: %d threaded runs differ from one thread", label, bad);
    bl_ctx_free(one);
    bl_ctx_free(many);
    bl_ctx_free(other);
}

/* The native (int8 activations) path must not be the f32 one: on an int8 file, the attention
   and hidden states of the two precisions differ by more than float32 rounding, by at least
   `min_att` (a fraction of what is measured, printed) — an int8 path that silently fell back to
   f32 would pass the tolerances against the reference, but not this. */
static void check_native_differs(const bl_model *m, const golden *g, double min_att, double min_hid, const char *label) {
    bl_err e;
    bl_ctx *nat = bl_ctx_new(m, &e), *f32 = bl_ctx_new(m, &e);
    CHECK(nat && f32, "%s: ctx_new: %s", label, e.msg);
    double da = 0, dh = 0;
    for (int ci = 0; nat && f32 && ci < g->ncases; ci++) {
        const gcase *c = &g->c[ci];
        if (bl_forward(nat, c->ids, c->types, c->n, BL_PREC_NATIVE, &e) ||
            bl_forward(f32, c->ids, c->types, c->n, BL_PREC_F32, &e)) {
            CHECK(0, "%s: forward failed: %s", label, e.msg);
            break;
        }
        da = fmax(da, maxdiff(bl_attention(nat), bl_attention(f32), (size_t)g->layers * g->heads * c->n * c->n));
        dh = fmax(dh, maxdiff(bl_hidden(nat), bl_hidden(f32), (size_t)c->n * g->hidden));
    }
    printf("%-24s native vs f32: attention %.3g, hidden %.3g\n", label, da, dh);
    CHECK(da > min_att && dh > min_hid, "%s: native and f32 paths differ by only %.3g (attention), %.3g (hidden): "
          "is the int8 path running?", label, da, dh);
    bl_ctx_free(nat);
    bl_ctx_free(f32);
}

/* i8: the int8 file's bounds (attention, hidden, logits/max), both precisions */
typedef struct { const char *name; int exact_f16; double i8[3]; } model_spec;

/* The shipped default model (weights/manifest.json) against tests/model/golden/default.*, which
   tests/model/default_golden.py made from the same weights (dequantized) with reference.py. */
static void check_default_model(void) {
    size_t len = 0;
    char *man = check_read_file("weights/manifest.json", &len);
    CHECK(man != NULL, "cannot read weights/manifest.json");
    if (!man) return;
    bl_err e = {{0}};
    bl_json *j = bl_json_parse(man, len, &e);
    free(man);
    CHECK(j != NULL, "weights/manifest.json: %s", e.msg);
    const char *def = bl_json_get_str(j, "default"), *file = NULL;
    const bl_json *models = bl_json_get(j, "models");
    for (int i = 0; def && i < bl_json_len(models); i++)
        if (!strcmp(bl_json_get_str(bl_json_at(models, i), "name") ? bl_json_get_str(bl_json_at(models, i), "name") : "", def))
            file = bl_json_get_str(bl_json_at(models, i), "file");
    char path[512];
    snprintf(path, sizeof path, "weights/%s", file ? file : "?");
    bl_json_free(j);
    golden g;
    int rc = load_golden("default", &g);
    CHECK(rc == 0, "cannot read tests/model/golden/default.{txt,bin} (tests/model/default_golden.py)");
    uint8_t *buf = NULL;
    if (rc == 0) rc = bl_read_model_file(path, &buf, &len, &e);
    CHECK(rc == 0, "default model %s: %s", path, e.msg);
    bl_model *m = rc == 0 ? bl_model_load(buf, len, 0, &e) : NULL;   /* verifies the checksum */
    CHECK(rc != 0 || m, "default model %s: %s", path, e.msg);
    bl_ctx *ctx = m ? bl_ctx_new(m, &e) : NULL;
    for (int prec = 0; ctx && prec < 2; prec++) {
        const char *pn = prec == BL_PREC_F32 ? "f32" : "native";
        diffs d = run_cases(ctx, &g, prec, "default");
        printf("%-12s %-5s %-6s  %-10.3g %-10.3g %.3g\n", "default", "int8", pn, d.att, d.hid, d.logit);
        /* ~1.5x the measured errors (f32: 3.2e-6, 2.9e-6, 5.8e-7; native: 8.2e-3, 1.1e-2, 1.6e-3),
           the same with every kernel variant and in WebAssembly */
        const double ta = prec == BL_PREC_F32 ? 5e-6 : 1.2e-2, th = prec == BL_PREC_F32 ? 4.5e-6 : 1.6e-2,
                     tl = prec == BL_PREC_F32 ? 9e-7 : 2.4e-3;
        CHECK(d.att <= ta, "default model %s: max |attention diff| %.3g > %.3g", pn, d.att, ta);
        CHECK(d.hid <= th, "default model %s: max |hidden diff| %.3g > %.3g", pn, d.hid, th);
        CHECK(d.logit >= 0 && d.logit <= tl, "default model %s: max |logit diff| / max |logit| %.3g > %.3g", pn,
              d.logit, tl);
    }
    if (ctx) check_native_differs(m, &g, 3e-3, 3e-3, "default model");
    /* the only test model long enough (512 positions) for the threads to take a share */
    if (ctx) check_threads(m, &g, BL_PREC_NATIVE, "default model");
    bl_ctx_free(ctx);
    bl_model_free(m);
    free(buf);
    free_golden(&g);
}

int main(void) {
    /* exact_f16: the checkpoint's own dtype is F16/BF16, so an F16 file holds its exact values */
    /* int8 bounds: ~1.5x the measured max of the two precisions (attention, hidden, logits):
       tiny_f32 6.4e-3 2.8e-2 7.0e-3; odd_f16 5.9e-3 3.8e-2 -; untied_relu 9.4e-3 2.6e-2 2.0e-2;
       bf16_tanh 6.6e-3 1.9e-2 1.3e-2 */
    static const model_spec models[] = {
        {"tiny_f32", 0, {1e-2, 4.2e-2, 1.1e-2}}, {"odd_f16", 1, {9e-3, 5.7e-2, 0}},
        {"untied_relu", 0, {1.4e-2, 3.9e-2, 3e-2}}, {"bf16_tanh", 1, {1e-2, 2.8e-2, 1.9e-2}}};
    static const int dtypes[] = {BL_DT_F32, BL_DT_F16, BL_DT_I8};
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    printf("%-12s %-5s %-6s  %-10s %-10s %-10s\n", "model", "file", "prec", "attention", "hidden", "logits/max");
    for (size_t mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
        golden g;
        int rc = load_golden(models[mi].name, &g);
        CHECK(rc == 0, "%s: cannot read tests/model/golden/%s.{txt,bin} (run from the repo root)",
              models[mi].name, models[mi].name);
        if (rc) { free_golden(&g); continue; }
        for (int di = 0; di < 3; di++) {
            int dt = dtypes[di];
            char hf[256], out[512], label[128];
            snprintf(hf, sizeof hf, "tests/model/models/%s", models[mi].name);
            snprintf(out, sizeof out, "%s/bl_test_bert_XXXXXX", tmpdir);
            int fd = mkstemp(out);
            CHECK(fd >= 0, "mkstemp in %s failed", tmpdir);
            if (fd < 0) continue;
            close(fd);
            bl_err e = {{0}};
            rc = bl_convert_hf(hf, out, dt, 0, &e);
            CHECK(rc == 0, "%s: convert to %s failed: %s", models[mi].name, bl_dtype_name(dt), e.msg);
            uint8_t *buf = NULL;
            size_t len = 0;
            if (rc == 0) rc = bl_read_model_file(out, &buf, &len, &e);
            remove(out);
            bl_model *m = rc == 0 ? bl_model_load(buf, len, 0, &e) : NULL;
            CHECK(m != NULL, "%s %s: load failed: %s", models[mi].name, bl_dtype_name(dt), e.msg);
            bl_ctx *ctx = m ? bl_ctx_new(m, &e) : NULL;
            CHECK(!m || ctx != NULL, "%s: ctx_new failed: %s", models[mi].name, e.msg);
            if (ctx) {
                const bl_config *cfg = bl_model_config(m);
                CHECK(cfg->layers == g.layers && cfg->heads == g.heads && cfg->hidden == g.hidden &&
                      cfg->vocab_size == g.vocab, "%s: config does not match the golden index", models[mi].name);
                int golden_mlm = 0;
                for (int ci = 0; ci < g.ncases; ci++) golden_mlm += g.c[ci].nmlm;
                CHECK((golden_mlm > 0) == (cfg->has_mlm != 0), "%s: has_mlm %d but the reference has %d MLM rows",
                      models[mi].name, cfg->has_mlm, golden_mlm);
                for (int prec = 0; prec < 2; prec++) {
                    snprintf(label, sizeof label, "%s %s %s", models[mi].name, bl_dtype_name(dt),
                             prec == BL_PREC_F32 ? "f32" : "native");
                    diffs d = run_cases(ctx, &g, prec, label);
                    char lg[32] = "-";
                    if (d.logit >= 0) snprintf(lg, sizeof lg, "%.3g", d.logit);
                    printf("%-12s %-5s %-6s  %-10.3g %-10.3g %s\n", models[mi].name, bl_dtype_name(dt),
                           prec == BL_PREC_F32 ? "f32" : "native", d.att, d.hid, lg);
                    double ta = 1e-4, th = 1e-4, tl = 1e-5;
                    if (dt == BL_DT_F16 && !models[mi].exact_f16) { ta = 2e-3; th = 5e-3; tl = 2e-3; }
                    if (dt == BL_DT_I8) { ta = models[mi].i8[0]; th = models[mi].i8[1]; tl = models[mi].i8[2]; }
                    CHECK(d.att <= ta, "%s: max |attention diff| %.3g > %.3g", label, d.att, ta);
                    CHECK(d.hid <= th, "%s: max |hidden diff| %.3g > %.3g", label, d.hid, th);
                    CHECK(d.logit <= tl, "%s: max |logit diff| %.3g > %.3g", label, d.logit, tl);
                    check_qk(ctx, &g, label);
                    if (dt != BL_DT_F16) {
                        check_reuse(m, &g, prec, label);
                        check_u16(m, &g, prec, label);
                        check_threads(m, &g, prec, label);
                    }
                }
                snprintf(label, sizeof label, "%s %s", models[mi].name, bl_dtype_name(dt));
                if (dt == BL_DT_I8) check_native_differs(m, &g, 1e-4, 3e-4, label);
                check_errors(ctx, m, label);
            }
            bl_ctx_free(ctx);
            bl_model_free(m);
            free(buf);
        }
        free_golden(&g);
    }
    check_default_model();
    {   /* no model: errors, not crashes */
        bl_err e;
        CHECK(bl_ctx_new(NULL, &e) == NULL && contains(e.msg, "NULL"), "ctx_new(NULL) must fail");
        CHECK(bl_forward(NULL, NULL, NULL, 1, 0, &e) < 0, "forward(NULL ctx) must fail");
        CHECK(bl_attention(NULL) == NULL && bl_ctx_n(NULL) == 0, "accessors on NULL");
        bl_ctx_free(NULL);
    }
    return check_summary("test_bert");
}
