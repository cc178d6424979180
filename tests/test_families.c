/* test_families.c — DistilBERT, RoBERTa/XLM-R/CamemBERT, ELECTRA, ALBERT, MiniLM and the BERT
   task heads against an independent implementation.

   Each checkpoint in tests/model/families/ (random weights in the family's own Hugging Face key
   layout and dtype, made by tests/model/families.py) is converted with bl_convert_hf to an F32
   and an int8 file. The golden outputs in tests/model/golden_families/ come from the torch
   restatement of each family's modeling code in families.py (float64, no code shared with C).
     F32 file, BL_PREC_F32: attention and hidden 1e-4 absolute, MLM and head logits 1e-4
       relative to the largest |reference logit| (float32 rounding only);
     int8 file: BL_PREC_NATIVE against BL_PREC_F32 on the same file (its own dequantized
       weights): attention 2e-2, hidden 6e-2, logits 5e-2 relative; and, looser, against the
       reference (int8 weights): attention 5e-2, so a head or layer mapped to the wrong tensor
       cannot hide behind the quantization.
   Also: the converter's reading of each config (family, embedding width, shared layers, head,
   labels, special ids), the task head's probabilities (softmax / sigmoid of the logits, checked
   in double here), and the CLI end to end (BERTLENS_CLI): convert, then `attention --ids`,
   `fill-mask --ids` and `classify --ids` against the same goldens. */
#define _POSIX_C_SOURCE 200809L   /* mkstemp */
#include "check.h"
#include "golden.h"
#include "bertlens.h"
#include "base/json.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXCASES 8

typedef struct {
    int n, nmlm;
    int *ids, *types, *mlm_pos;
    float *att, *hidden, *logits, *head;   /* into the golden blob */
} gcase;

typedef struct {
    char family[32], headkind[16];
    int maps, heads, hidden, vocab, labels, ncases, head_rows;
    gcase c[MAXCASES];
    float *blob;
} golden;

static int load_golden(const char *name, golden *g) {
    memset(g, 0, sizeof *g);
    size_t blen = 0;
    char *txt = read_golden_files("tests/model/golden_families", name, &g->blob, &blen), *p = txt;
    if (!txt) return -1;
    while (*p == '#') p = strchr(p, '\n') + 1;
    int used = 0;
    if (sscanf(p, "model %31s %d %d %d %d %15s %d%n", g->family, &g->maps, &g->heads, &g->hidden, &g->vocab,
               g->headkind, &g->labels, &used) != 7) { free(txt); return -1; }
    p = strchr(p, '\n') + 1;
    size_t off = 0;
    while (*p && g->ncases < MAXCASES) {
        gcase *c = &g->c[g->ncases];
        int rc = read_case(&p, &c->n, &c->nmlm, &c->ids, &c->types, &c->mlm_pos);
        if (rc > 0) break;
        if (rc < 0) { free(txt); return -1; }
        c->att = g->blob + off;    off += (size_t)g->maps * g->heads * c->n * c->n;
        c->hidden = g->blob + off; off += (size_t)c->n * g->hidden;
        c->logits = g->blob + off; off += (size_t)c->nmlm * g->vocab;
        c->head = g->blob + off;
        if (!strcmp(g->headkind, "token") || !strcmp(g->headkind, "disc")) off += (size_t)c->n * g->labels;
        else if (!strcmp(g->headkind, "seq")) off += (size_t)g->labels;
        g->ncases++;
    }
    free(txt);
    return off * 4 == blen && g->ncases > 0 ? 0 : -1;
}

static void free_golden(golden *g) {
    for (int i = 0; i < g->ncases; i++) { free(g->c[i].ids); free(g->c[i].types); free(g->c[i].mlm_pos); }
    free(g->blob);
}

typedef struct { double att, hid, mlm, head; } diffs;

/* Outputs of one forward: attention, hidden, MLM rows and head logits, copied. */
typedef struct { float *att, *hid, *mlm, *head; } outputs;

static int run_case(bl_ctx *ctx, const golden *g, const gcase *c, int prec, outputs *o, const char *label) {
    bl_err e = {{0}};
    int rc = bl_forward(ctx, c->ids, c->types, c->n, prec, &e);
    CHECK(rc == 0, "%s (n=%d): forward failed: %s", label, c->n, e.msg);
    if (rc) return -1;
    size_t na = (size_t)g->maps * g->heads * c->n * c->n;
    o->att = malloc(na * 4);
    o->hid = malloc((size_t)c->n * g->hidden * 4);
    o->mlm = malloc(((size_t)c->nmlm * g->vocab + 1) * 4);
    o->head = malloc(((size_t)c->n * (g->labels + 1)) * 4);
    memcpy(o->att, bl_attention(ctx), na * 4);
    memcpy(o->hid, bl_hidden(ctx), (size_t)c->n * g->hidden * 4);
    for (int k = 0; k < c->nmlm; k++) {
        rc = bl_mlm_logits(ctx, c->mlm_pos[k], o->mlm + (size_t)k * g->vocab, &e);
        CHECK(rc == 0, "%s: mlm_logits(%d): %s", label, c->mlm_pos[k], e.msg);
    }
    if (g->labels) {
        int want = !strcmp(g->headkind, "seq") ? g->labels : c->n * g->labels;
        CHECK(bl_head_size(ctx) == want, "%s: bl_head_size %d, expected %d", label, bl_head_size(ctx), want);
        rc = bl_head_logits(ctx, o->head, &e);
        CHECK(rc == 0, "%s: head logits: %s", label, e.msg);
        /* probabilities: softmax per row, or sigmoid (discriminator), computed here in double */
        float *pr = malloc(sizeof(float) * (size_t)want);
        rc = bl_head_probs(ctx, pr, &e);
        CHECK(rc == 0, "%s: head probs: %s", label, e.msg);
        const int C = g->labels, disc = !strcmp(g->headkind, "disc");
        double worst = 0;
        for (int r = 0; r < want / C; r++) {
            const float *l = o->head + (size_t)r * C;
            double mx = l[0], s = 0;
            for (int j = 1; j < C; j++) mx = fmax(mx, l[j]);
            for (int j = 0; j < C; j++) s += exp(l[j] - mx);
            for (int j = 0; j < C; j++) {
                double p = disc ? 1 / (1 + exp(-(double)l[j])) : exp(l[j] - mx) / s;
                worst = fmax(worst, fabs(p - pr[(size_t)r * C + j]));
            }
        }
        CHECK(worst < 1e-6, "%s: head probabilities off by %.3g", label, worst);
        free(pr);
    } else {
        bl_err he = {{0}};
        CHECK(bl_head_logits(ctx, o->head, &he) < 0 && strstr(he.msg, "no task head"), "%s: head on a model without one: '%s'",
              label, he.msg);
    }
    return 0;
}

static void free_outputs(outputs *o) { free(o->att); free(o->hid); free(o->mlm); free(o->head); }

/* differences of a against b (reference) for one case; logits relative to max |b| */
static void compare(const golden *g, const gcase *c, const outputs *a, const float *att, const float *hid,
                    const float *mlm, const float *head, diffs *d) {
    d->att = fmax(d->att, maxdiff(a->att, att, (size_t)g->maps * g->heads * c->n * c->n));
    d->hid = fmax(d->hid, maxdiff(a->hid, hid, (size_t)c->n * g->hidden));
    for (int k = 0; k < c->nmlm; k++) {
        const float *r = mlm + (size_t)k * g->vocab;
        d->mlm = fmax(d->mlm, maxdiff(a->mlm + (size_t)k * g->vocab, r, (size_t)g->vocab) / maxabs(r, (size_t)g->vocab));
    }
    if (g->labels) {
        size_t nh = !strcmp(g->headkind, "seq") ? (size_t)g->labels : (size_t)c->n * g->labels;
        d->head = fmax(d->head, maxdiff(a->head, head, nh) / fmax(maxabs(head, nh), 1.0));
    }
}

static bl_model *convert_load(const char *name, int dtype, uint8_t **buf) {
    char dir[512], path[] = "/tmp/bl_families_XXXXXX";
    snprintf(dir, sizeof dir, "tests/model/families/%s", name);
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    close(fd);
    bl_err e = {{0}};
    bl_model *m = NULL;
    size_t len;
    int rc = bl_convert_hf(dir, path, dtype, 0, &e);
    CHECK(rc == 0, "%s: convert (%s): %s", name, bl_dtype_name(dtype), e.msg);
    if (rc == 0 && bl_read_model_file(path, buf, &len, &e) == 0) {
        m = bl_model_load(*buf, len, 0, &e);
        CHECK(m != NULL, "%s: load: %s", name, e.msg);
    }
    unlink(path);
    return m;
}

/* What the converter must read from each config.json (families.py's SPECS). */
static const struct {
    const char *name;
    int family, embed, emb_proj, pos_offset, groups, inner, types, head, labels, cls, sep, pad, mask;
    const char *label0;
} expect[] = {
    {"distil_mlm_f32", BL_FAMILY_DISTILBERT, 32, 0, 0, 0, 0, 0, BL_HEAD_NONE, 0, 101, 102, 0, 103, NULL},
    {"distil_seq_f16", BL_FAMILY_DISTILBERT, 24, 0, 0, 0, 0, 0, BL_HEAD_SEQ, 3, 101, 102, 0, 103, "negative"},
    {"roberta_mlm_f32", BL_FAMILY_ROBERTA, 32, 0, 1, 0, 0, 1, BL_HEAD_NONE, 0, 0, 2, 1, 199, NULL},
    {"xlmr_token_f16", BL_FAMILY_ROBERTA, 24, 0, 1, 0, 0, 1, BL_HEAD_TOKEN, 5, 0, 2, 1, 199, "O"},
    {"camembert_seq_bf16", BL_FAMILY_ROBERTA, 32, 0, 1, 0, 0, 1, BL_HEAD_SEQ, 2, 0, 2, 1, 199, "LABEL_0"},
    {"electra_disc_f32", BL_FAMILY_ELECTRA, 16, 1, 0, 0, 0, 2, BL_HEAD_DISC, 1, 101, 102, 0, 103, "replaced"},
    {"electra_gen_f16", BL_FAMILY_ELECTRA, 24, 1, 0, 0, 0, 2, BL_HEAD_NONE, 0, 101, 102, 0, 103, NULL},
    {"electra_seq_f32", BL_FAMILY_ELECTRA, 24, 0, 0, 0, 0, 2, BL_HEAD_SEQ, 2, 101, 102, 0, 103, "no"},
    {"albert_mlm_f32", BL_FAMILY_ALBERT, 16, 1, 0, 1, 1, 2, BL_HEAD_NONE, 0, 2, 3, 0, 4, NULL},
    {"albert_seq_bf16", BL_FAMILY_ALBERT, 12, 1, 0, 2, 2, 2, BL_HEAD_SEQ, 3, 2, 3, 0, 4, "a"},
    {"bert_token_f32", BL_FAMILY_BERT, 32, 0, 0, 0, 0, 2, BL_HEAD_TOKEN, 4, 101, 102, 0, 103, "O"},
    {"bert_seq_bf16", BL_FAMILY_BERT, 24, 0, 0, 0, 0, 2, BL_HEAD_SEQ, 2, 101, 102, 0, 103, "NEGATIVE"},
    {"minilm_f16", BL_FAMILY_BERT, 32, 0, 0, 0, 0, 2, BL_HEAD_NONE, 0, 101, 102, 0, 103, NULL},
};

static void check_family(int i) {
    const char *name = expect[i].name;
    golden g;
    if (load_golden(name, &g)) { CHECK(0, "%s: cannot read the golden files", name); return; }
    uint8_t *b32 = NULL, *b8 = NULL;
    bl_model *m32 = convert_load(name, BL_DT_F32, &b32), *m8 = convert_load(name, BL_DT_I8, &b8);
    if (!m32 || !m8) { bl_model_free(m32); bl_model_free(m8); free(b32); free(b8); free_golden(&g); return; }
    const bl_config *c = bl_model_config(m32);
    CHECK(c->family == expect[i].family && c->embed == expect[i].embed && c->emb_proj == expect[i].emb_proj &&
          c->pos_offset == expect[i].pos_offset && c->groups == expect[i].groups && c->inner == expect[i].inner &&
          c->type_vocab == expect[i].types && c->head == expect[i].head && c->n_labels == expect[i].labels,
          "%s: config family %d embed %d proj %d posoff %d groups %d inner %d types %d head %d labels %d", name,
          c->family, c->embed, c->emb_proj, c->pos_offset, c->groups, c->inner, c->type_vocab, c->head, c->n_labels);
    CHECK(c->cls_id == expect[i].cls && c->sep_id == expect[i].sep && c->pad_id == expect[i].pad &&
          c->mask_id == expect[i].mask, "%s: special ids cls %d sep %d pad %d mask %d", name, c->cls_id, c->sep_id,
          c->pad_id, c->mask_id);
    CHECK(c->layers == g.maps && c->heads == g.heads && c->hidden == g.hidden, "%s: %d maps × %d heads, hidden %d",
          name, c->layers, c->heads, c->hidden);
    CHECK(c->has_mlm == (g.c[0].nmlm > 0 || g.c[1].nmlm > 0), "%s: has_mlm %d", name, c->has_mlm);
    CHECK(expect[i].label0 ? bl_model_label(m32, 0) && !strcmp(bl_model_label(m32, 0), expect[i].label0)
                           : bl_model_label(m32, 0) == NULL, "%s: label 0 '%s'", name,
          bl_model_label(m32, 0) ? bl_model_label(m32, 0) : "(none)");
    CHECK(bl_model_format_version(m32) == (expect[i].family || expect[i].head ? 2u : 1u), "%s: format version %u", name,
          bl_model_format_version(m32));
    bl_err e = {{0}};
    bl_ctx *x32 = bl_ctx_new(m32, &e), *x8 = bl_ctx_new(m8, &e);
    diffs f32 = {0}, n8 = {0}, r8 = {0};
    for (int k = 0; k < g.ncases; k++) {
        const gcase *gc = &g.c[k];
        outputs a = {0}, q = {0}, qf = {0};
        char label[128];
        snprintf(label, sizeof label, "%s case %d f32", name, k);
        if (run_case(x32, &g, gc, BL_PREC_F32, &a, label) == 0)
            compare(&g, gc, &a, gc->att, gc->hidden, gc->logits, gc->head, &f32);
        snprintf(label, sizeof label, "%s case %d int8", name, k);
        if (run_case(x8, &g, gc, BL_PREC_F32, &qf, label) == 0 && run_case(x8, &g, gc, BL_PREC_NATIVE, &q, label) == 0) {
            compare(&g, gc, &q, qf.att, qf.hid, qf.mlm, qf.head, &n8);
            compare(&g, gc, &q, gc->att, gc->hidden, gc->logits, gc->head, &r8);
        }
        free_outputs(&a);
        free_outputs(&q);
        free_outputs(&qf);
    }
    printf("%-20s f32 vs torch: att %.2e hid %.2e mlm %.2e head %.2e | int8 native vs own dequantized: att %.2e "
           "hid %.2e mlm %.2e head %.2e | int8 vs torch: att %.2e\n", name, f32.att, f32.hid, f32.mlm, f32.head, n8.att,
           n8.hid, n8.mlm, n8.head, r8.att);
    CHECK(f32.att <= 1e-4 && f32.hid <= 1e-4 && f32.mlm <= 1e-4 && f32.head <= 1e-4,
          "%s: f32 errors att %.3g hid %.3g mlm %.3g head %.3g", name, f32.att, f32.hid, f32.mlm, f32.head);
    CHECK(n8.att <= 2e-2 && n8.hid <= 6e-2 && n8.mlm <= 5e-2 && n8.head <= 5e-2,
          "%s: int8 native vs its own dequantized weights: att %.3g hid %.3g mlm %.3g head %.3g", name, n8.att, n8.hid,
          n8.mlm, n8.head);
    CHECK(n8.att > 0, "%s: the native path on the int8 file equals the f32 path (int8 kernels not used?)", name);
    CHECK(r8.att <= 5e-2, "%s: int8 attention vs torch %.3g", name, r8.att);
    bl_ctx_free(x32);
    bl_ctx_free(x8);
    bl_model_free(m32);
    bl_model_free(m8);
    free(b32);
    free(b8);
    free_golden(&g);
}

/* RoBERTa positions start at pad_id + 1: the longest input is max_pos - pad_id - 1 tokens. */
static void check_roberta_limits(void) {
    uint8_t *b = NULL;
    bl_model *m = convert_load("roberta_mlm_f32", BL_DT_F32, &b);
    if (!m) { free(b); return; }
    const bl_config *c = bl_model_config(m);
    CHECK(bl_config_max_tokens(c) == c->max_pos - 2, "max tokens %d (max_pos %d)", bl_config_max_tokens(c), c->max_pos);
    int n = c->max_pos - 1, *ids = calloc((size_t)n, sizeof *ids);
    for (int i = 0; i < n; i++) ids[i] = 5;
    bl_err e = {{0}};
    bl_ctx *x = bl_ctx_new(m, &e);
    CHECK(bl_forward(x, ids, NULL, n, BL_PREC_F32, &e) < 0 && strstr(e.msg, "out of range (1.."),
          "n = max_pos - 1 on RoBERTa: '%s'", e.msg);
    CHECK(bl_forward(x, ids, NULL, n - 1, BL_PREC_F32, &e) == 0, "n = max_pos - 2: %s", e.msg);
    bl_ctx_free(x);
    free(ids);
    bl_model_free(m);
    free(b);
}

/* DistilBERT takes no token types: pair type ids are ignored, as Hugging Face's model does. */
static void check_distil_types(void) {
    uint8_t *b = NULL;
    bl_model *m = convert_load("distil_mlm_f32", BL_DT_F32, &b);
    if (!m) { free(b); return; }
    int ids[4] = {101, 150, 102, 160}, t0[4] = {0}, t1[4] = {0, 0, 1, 1};
    bl_err e = {{0}};
    bl_ctx *x = bl_ctx_new(m, &e);
    size_t na = (size_t)bl_model_config(m)->layers * bl_model_config(m)->heads * 16;
    float *a0 = malloc(na * 4);
    CHECK(bl_forward(x, ids, t0, 4, BL_PREC_F32, &e) == 0, "forward: %s", e.msg);
    memcpy(a0, bl_attention(x), na * 4);
    CHECK(bl_forward(x, ids, t1, 4, BL_PREC_F32, &e) == 0, "forward with type ids 1: %s", e.msg);
    CHECK(!memcmp(a0, bl_attention(x), na * 4), "DistilBERT: type ids changed the attention");
    free(a0);
    bl_ctx_free(x);
    bl_model_free(m);
    free(b);
}

/* Run the CLI, return its stdout (malloc'd) or NULL. */
static char *run_cli(const char *args) {
    const char *cli = getenv("BERTLENS_CLI");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s 2>/dev/null", cli, args);
    FILE *f = popen(cmd, "r");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    for (size_t r; out && (r = fread(out + n, 1, cap - n - 1, f)) > 0;) {
        n += r;
        if (n + 1 == cap) out = realloc(out, cap *= 2);
    }
    int st = pclose(f);
    if (out) out[n] = 0;
    if (st != 0) { free(out); return NULL; }
    return out;
}

static void ids_arg(const gcase *c, char *buf, size_t n, int types) {
    size_t o = 0;
    for (int i = 0; i < c->n && o + 16 < n; i++) o += (size_t)snprintf(buf + o, n - o, "%s%d", i ? "," : "", types ? c->types[i] : c->ids[i]);
}

/* `bertlens convert` to F32, then the golden cases through `attention --ids --types --precision f32`
   (every map), `classify --ids` (softmax / sigmoid of the golden head logits) and
   `fill-mask --ids` (the golden logits' best token at the mask). */
static void check_cli(const char *name) {
    if (!getenv("BERTLENS_CLI")) { CHECK(0, "BERTLENS_CLI is not set (run through ctest)"); return; }
    golden g;
    if (load_golden(name, &g)) { CHECK(0, "%s: golden", name); return; }
    char path[] = "/tmp/bl_families_cli_XXXXXX", args[4096], ids[1024], types[1024];
    int fd = mkstemp(path);
    if (fd < 0) { free_golden(&g); return; }
    close(fd);
    snprintf(args, sizeof args, "convert tests/model/families/%s -o %s --dtype f32", name, path);
    char *out = run_cli(args);
    CHECK(out != NULL, "%s: bertlens convert failed", name);
    free(out);
    double att = 0, head = 0;
    int mlm_ok = 1, mlm_n = 0;
    for (int k = 0; out && k < g.ncases; k++) {
        const gcase *c = &g.c[k];
        ids_arg(c, ids, sizeof ids, 0);
        ids_arg(c, types, sizeof types, 1);
        snprintf(args, sizeof args, "attention -m %s --precision f32 --ids %s --types %s", path, ids, types);
        char *o = run_cli(args);
        bl_json *j = o ? bl_json_parse(o, strlen(o), NULL) : NULL;
        const bl_json *a = bl_json_get(j, "attentions");
        CHECK(a && bl_json_len(a) == g.maps, "%s case %d: attention --ids output", name, k);
        for (int l = 0; a && l < g.maps; l++)
            for (int h = 0; h < g.heads; h++)
                for (int r = 0; r < c->n; r++)
                    for (int q = 0; q < c->n; q++) {
                        const bl_json *v = bl_json_at(bl_json_at(bl_json_at(bl_json_at(a, l), h), r), q);
                        float ref = c->att[(((size_t)l * g.heads + h) * c->n + r) * c->n + q];
                        att = fmax(att, v ? fabs(v->num - ref) : INFINITY);
                    }
        bl_json_free(j);
        free(o);
        if (g.labels) {
            snprintf(args, sizeof args, "classify -m %s --precision f32 --ids %s --types %s", path, ids, types);
            o = run_cli(args);
            j = o ? bl_json_parse(o, strlen(o), NULL) : NULL;
            const int seq = !strcmp(g.headkind, "seq"), disc = !strcmp(g.headkind, "disc");
            const bl_json *pr = seq ? bl_json_get(j, "prediction") : bl_json_get(j, "predictions");
            CHECK(pr && (seq || bl_json_len(pr) == c->n), "%s case %d: classify output '%.200s'", name, k, o ? o : "");
            for (int r = 0; pr && r < (seq ? 1 : c->n); r++) {
                const float *l = c->head + (size_t)r * g.labels;
                const bl_json *probs = bl_json_get(seq ? pr : bl_json_at(pr, r), "probs");
                double mx = l[0], sum = 0;
                for (int q = 1; q < g.labels; q++) mx = fmax(mx, l[q]);
                for (int q = 0; q < g.labels; q++) sum += exp(l[q] - mx);
                for (int q = 0; q < g.labels; q++) {
                    double want = disc ? 1 / (1 + exp(-(double)l[q])) : exp(l[q] - mx) / sum;
                    const bl_json *v = bl_json_at(probs, q);
                    head = fmax(head, v ? fabs(v->num - want) : INFINITY);
                }
            }
            bl_json_free(j);
            free(o);
        }
        if (c->nmlm) {
            snprintf(args, sizeof args, "fill-mask -m %s --precision f32 -k 1 --ids %s --types %s", path, ids, types);
            o = run_cli(args);
            j = o ? bl_json_parse(o, strlen(o), NULL) : NULL;
            for (const bl_json *p = j ? j->child : NULL; p; p = p->next) {
                int pos = (int)bl_json_get(p, "position")->i64, best = 0;
                for (int m = 0; m < c->nmlm; m++)
                    if (c->mlm_pos[m] == pos) {
                        const float *l = c->logits + (size_t)m * g.vocab;
                        for (int v = 1; v < g.vocab; v++) best = l[v] > l[best] ? v : best;
                        const bl_json *id = bl_json_get(bl_json_at(bl_json_get(p, "top"), 0), "id");
                        mlm_ok &= id && id->i64 == best;
                        mlm_n++;
                    }
            }
            CHECK(j != NULL, "%s case %d: fill-mask output", name, k);
            bl_json_free(j);
            free(o);
        }
    }
    /* export-hf writes BERT's layout: another family (or a head) must be refused, not mislabelled */
    snprintf(args, sizeof args, "export-hf -m %s -o %s.export", path, path);
    out = run_cli(args);
    CHECK(out == NULL, "%s: export-hf accepted a %s file", name, g.family);
    free(out);
    printf("%-20s CLI: attention --ids max error %.2e, classify probabilities %.2e, fill-mask positions checked %d\n",
           name, att, head, mlm_n);
    CHECK(att <= 1e-4 && head <= 1e-5 && mlm_ok, "%s: CLI attention %.3g, classify %.3g, fill-mask top-1 %s", name, att, head,
          mlm_ok ? "ok" : "wrong");
    unlink(path);
    free_golden(&g);
}

/* Text through the tokenizer.json the converter stored (ALBERT, XLM-R): `bertlens tokenize`
   gives the ids the Rust tokenizers library gives (tests/model/families_tok.mjs). */
static void check_tokenizer_json(void) {
    char *txt = check_read_file("tests/model/golden_families/tokenize.txt", NULL);
    CHECK(txt != NULL, "tokenize.txt");
    int cases = 0;
    for (char *line = txt; line && *line;) {
        char *nl = strchr(line, '\n'), *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (nl) *nl = 0;
        if (!t1 || !t2) break;
        *t1 = *t2 = 0;
        char path[] = "/tmp/bl_families_tok_XXXXXX", args[1024];
        int fd = mkstemp(path);
        if (fd < 0) break;
        close(fd);
        snprintf(args, sizeof args, "convert tests/model/families/%s -o %s --dtype f32", line, path);
        char *o = run_cli(args);
        free(o);
        snprintf(args, sizeof args, "tokenize -m %s '%s'", path, t1 + 1);
        o = run_cli(args);
        bl_json *j = o ? bl_json_parse(o, strlen(o), NULL) : NULL;
        const bl_json *ids = bl_json_get(j, "ids");
        char got[512] = "";
        for (int i = 0; ids && i < bl_json_len(ids); i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? "," : "", bl_json_at(ids, i)->i64);
        CHECK(!strcmp(got, t2 + 1), "%s: tokenize '%s' gave [%s], the tokenizers library [%s]", line, t1 + 1, got, t2 + 1);
        bl_json_free(j);
        free(o);
        unlink(path);
        cases++;
        line = nl ? nl + 1 : NULL;
    }
    CHECK(cases >= 4, "tokenize.txt: %d cases", cases);
    free(txt);
}

int main(void) {
    check_tokenizer_json();
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) check_family((int)i);
    static const char *cli_models[] = {"roberta_mlm_f32", "xlmr_token_f16", "electra_disc_f32", "albert_seq_bf16",
                                       "distil_mlm_f32", "electra_gen_f16"};
    for (size_t i = 0; i < sizeof cli_models / sizeof cli_models[0]; i++) check_cli(cli_models[i]);
    check_roberta_limits();
    check_distil_types();
    return check_summary("test_families");
}
