/* test_model_file.c — the weights file: write -> load round trips for f32/f16/int8 (values,
   quantization error <= scale/2, tied and untied decoder, no MLM head), the accessors, and
   rejection of corrupt files (truncated, flipped byte, bad magic, unknown version, absurd
   config, overflowing offsets, wrong shapes/dtypes, unknown/duplicate/missing tensors, vocab
   count) with their specific messages; a table out of canonical order loads and runs the same.
   Layout constants mirror weights/FORMAT.md. */
#include "base/internal.h"
#include "check.h"
#include <math.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#define NT_MAX 64
typedef struct {
    bl_config cfg;
    bl_wtensor t[NT_MAX];
    char names[NT_MAX][96];
    float *data[NT_MAX];
    int nt;
} spec;

static uint32_t rng = 12345;
static float frand(void) { rng = rng * 1664525u + 1013904223u; return ((rng >> 8) / 16777216.0f - 0.5f) * 0.2f; }

static void add(spec *s, const char *name, int rows, int cols) {
    int i = s->nt++;
    snprintf(s->names[i], sizeof s->names[i], "%s", name);
    s->data[i] = malloc(sizeof(float) * (size_t)rows * cols);
    for (int k = 0; k < rows * cols; k++) s->data[i][k] = frand();
    if (rows > 1 && cols > 1) s->data[i][3] = 0.25f;        /* a row whose max is exact */
    s->t[i] = (bl_wtensor){s->names[i], rows, cols, s->data[i]};
}

static void make_spec(spec *s, int has_mlm, int untied) {
    memset(s, 0, sizeof *s);
    s->cfg = (bl_config){.vocab_size = 20, .hidden = 8, .layers = 2, .heads = 2, .intermediate = 16,
                         .max_pos = 12, .type_vocab = 2, .ln_eps = 1e-12f, .act = BL_ACT_GELU,
                         .lowercase = 1, .strip_accents = -1, .chinese_chars = 1, .has_mlm = has_mlm};
    int V = 20, H = 8, I = 16;
    add(s, "embeddings.word_embeddings.weight", V, H);
    add(s, "embeddings.position_embeddings.weight", 12, H);
    add(s, "embeddings.token_type_embeddings.weight", 2, H);
    add(s, "embeddings.LayerNorm.weight", 1, H);
    add(s, "embeddings.LayerNorm.bias", 1, H);
    char n[96];
    const char *qkv[] = {"query", "key", "value"};
    for (int l = 0; l < 2; l++) {
        for (int k = 0; k < 3; k++) {
            snprintf(n, sizeof n, "encoder.layer.%d.attention.self.%s.weight", l, qkv[k]); add(s, n, H, H);
            snprintf(n, sizeof n, "encoder.layer.%d.attention.self.%s.bias", l, qkv[k]); add(s, n, 1, H);
        }
        snprintf(n, sizeof n, "encoder.layer.%d.attention.output.dense.weight", l); add(s, n, H, H);
        snprintf(n, sizeof n, "encoder.layer.%d.attention.output.dense.bias", l); add(s, n, 1, H);
        snprintf(n, sizeof n, "encoder.layer.%d.attention.output.LayerNorm.weight", l); add(s, n, 1, H);
        snprintf(n, sizeof n, "encoder.layer.%d.attention.output.LayerNorm.bias", l); add(s, n, 1, H);
        snprintf(n, sizeof n, "encoder.layer.%d.intermediate.dense.weight", l); add(s, n, I, H);
        snprintf(n, sizeof n, "encoder.layer.%d.intermediate.dense.bias", l); add(s, n, 1, I);
        snprintf(n, sizeof n, "encoder.layer.%d.output.dense.weight", l); add(s, n, H, I);
        snprintf(n, sizeof n, "encoder.layer.%d.output.dense.bias", l); add(s, n, 1, H);
        snprintf(n, sizeof n, "encoder.layer.%d.output.LayerNorm.weight", l); add(s, n, 1, H);
        snprintf(n, sizeof n, "encoder.layer.%d.output.LayerNorm.bias", l); add(s, n, 1, H);
    }
    if (has_mlm) {
        add(s, "cls.predictions.transform.dense.weight", H, H);
        add(s, "cls.predictions.transform.dense.bias", 1, H);
        add(s, "cls.predictions.transform.LayerNorm.weight", 1, H);
        add(s, "cls.predictions.transform.LayerNorm.bias", 1, H);
        add(s, "cls.predictions.bias", 1, V);
        if (untied) add(s, "cls.predictions.decoder.weight", V, H);
    }
}

static void free_spec(spec *s) { for (int i = 0; i < s->nt; i++) free(s->data[i]); }

static const char VOCAB[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n##s\nthe\ncat\n\xc3\xa9t\xc3\xa9\n";

static int write_spec(const spec *s, int dtype, uint8_t **buf, size_t *len) {
    bl_err e = {{0}};
    int r = bl_model_write(&s->cfg, dtype, VOCAB, sizeof VOCAB - 1, s->t, s->nt, buf, len, &e);
    CHECK(r == 0, "write failed: %s", e.msg);
    return r;
}

/* Find the loaded tensor for a canonical name through the table + bl_weights. */
static const void *find_loaded(const bl_model *m, const char *name, bl_tensor *out) {
    const bl_weights *w = &m->w;
    int l = -1;
    char rest[96];
    if (sscanf(name, "encoder.layer.%d.%95s", &l, rest) == 2) {
        const bl_layer *L = &w->layers[l];
        struct { const char *n; const bl_tensor *t; const float *v; } map[] = {
            {"attention.self.query.weight", &L->q_w, 0}, {"attention.self.query.bias", 0, L->q_b},
            {"attention.self.key.weight", &L->k_w, 0}, {"attention.self.key.bias", 0, L->k_b},
            {"attention.self.value.weight", &L->v_w, 0}, {"attention.self.value.bias", 0, L->v_b},
            {"attention.output.dense.weight", &L->o_w, 0}, {"attention.output.dense.bias", 0, L->o_b},
            {"attention.output.LayerNorm.weight", 0, L->ln1_g}, {"attention.output.LayerNorm.bias", 0, L->ln1_b},
            {"intermediate.dense.weight", &L->i_w, 0}, {"intermediate.dense.bias", 0, L->i_b},
            {"output.dense.weight", &L->f_w, 0}, {"output.dense.bias", 0, L->f_b},
            {"output.LayerNorm.weight", 0, L->ln2_g}, {"output.LayerNorm.bias", 0, L->ln2_b}};
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (!strcmp(rest, map[i].n)) { if (map[i].t) { *out = *map[i].t; return out; } return map[i].v; }
        return NULL;
    }
    struct { const char *n; const bl_tensor *t; const float *v; } map[] = {
        {"embeddings.word_embeddings.weight", &w->word, 0}, {"embeddings.position_embeddings.weight", &w->pos, 0},
        {"embeddings.token_type_embeddings.weight", &w->type, 0}, {"embeddings.LayerNorm.weight", 0, w->emb_ln_g},
        {"embeddings.LayerNorm.bias", 0, w->emb_ln_b}, {"cls.predictions.transform.dense.weight", &w->mlm_w, 0},
        {"cls.predictions.transform.dense.bias", 0, w->mlm_b}, {"cls.predictions.transform.LayerNorm.weight", 0, w->mlm_ln_g},
        {"cls.predictions.transform.LayerNorm.bias", 0, w->mlm_ln_b}, {"cls.predictions.bias", 0, w->decoder_b},
        {"cls.predictions.decoder.weight", &w->decoder, 0}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(name, map[i].n)) { if (map[i].t) { *out = *map[i].t; return out; } return map[i].v; }
    return NULL;
}

static void check_roundtrip(int dtype, int has_mlm, int untied) {
    spec s;
    make_spec(&s, has_mlm, untied);
    uint8_t *buf; size_t len;
    if (write_spec(&s, dtype, &buf, &len)) { free_spec(&s); return; }
    bl_err e = {{0}};
    bl_model *m = bl_model_load(buf, len, 0, &e);
    CHECK(m != NULL, "load (dtype %d mlm %d untied %d): %s", dtype, has_mlm, untied, e.msg);
    if (!m) { free(buf); free_spec(&s); return; }
    const bl_config *c = bl_model_config(m);
    /* a version-1 file: the BERT fields as written, the family fields at their BERT values */
    CHECK(!memcmp(c, &s.cfg, offsetof(bl_config, family)), "config round trip");
    CHECK(c->family == BL_FAMILY_BERT && c->embed == c->hidden && !c->emb_proj && !c->pos_offset && !c->groups &&
          !c->head && !c->n_labels, "version-1 family defaults");
    CHECK(bl_model_dtype(m) == dtype, "dtype %d", bl_model_dtype(m));
    CHECK(bl_model_tensor_count(m) == s.nt, "tensor count %d vs %d", bl_model_tensor_count(m), s.nt);
    CHECK(bl_model_file_size(m) == len && bl_model_checksum_verified(m) == 1 && bl_model_format_version(m) == (dtype == BL_DT_I16 ? 3u : 1u), "info");
    CHECK(bl_model_tok_opts(m)->lowercase == 1 && bl_model_tok_opts(m)->strip_accents == -1 &&
          bl_model_tok_opts(m)->chinese_chars == 1, "tok opts");
    CHECK(bl_vocab_size(bl_model_vocab(m)) == 20, "vocab size");
    uint8_t d[32], st[32];
    bl_sha256(buf + 64, len - 64, d);
    bl_model_checksum(m, st);
    CHECK(!memcmp(d, st, 32), "stored checksum is the SHA-256 of bytes [64, end)");
    CHECK(bl_model_verify(m, &e) == 0, "verify: %s", e.msg);
    for (int i = 0; i < s.nt; i++) {
        const char *nm; int dt, r, cc;
        CHECK(bl_model_tensor_info(m, i, &nm, &dt, &r, &cc) == 0 && !strcmp(nm, s.names[i]) &&
              r == s.t[i].rows && cc == s.t[i].cols, "tensor_info %d", i);
        bl_tensor t;
        const void *p = find_loaded(m, s.names[i], &t);
        CHECK(p != NULL, "tensor %s not wired into bl_weights", s.names[i]);
        if (!p) continue;
        int n = s.t[i].rows * s.t[i].cols;
        if (p != &t) {   /* vector: F32 in place */
            CHECK(!memcmp(p, s.data[i], sizeof(float) * n), "%s: f32 vector differs", s.names[i]);
            CHECK((((const uint8_t *)p - buf) % 64) == 0, "%s: not 64-byte aligned", s.names[i]);
            continue;
        }
        /* FORMAT.md: an int16 file keeps its embeddings (not embeddings.project) in f32 */
        const int emb = !strncmp(s.names[i], "embeddings.", 11) && strcmp(s.names[i], "embeddings.project.weight");
        const int want = dtype == BL_DT_I16 && emb ? BL_DT_F32 : dtype;
        CHECK(t.dtype == want && t.rows == s.t[i].rows && t.cols == s.t[i].cols, "%s: dtype/shape", s.names[i]);
        CHECK((((const uint8_t *)t.data - buf) % 64) == 0, "%s: data not 64-byte aligned", s.names[i]);
        CHECK((const uint8_t *)t.data >= buf && (const uint8_t *)t.data < buf + len, "%s: points into the buffer", s.names[i]);
        float *deq = malloc(sizeof(float) * n);
        bl_tensor_to_f32(&t, deq);
        int bad = 0;
        for (int r = 0; r < t.rows; r++) {
            float mx = 0;
            for (int k = 0; k < t.cols; k++) mx = fmaxf(mx, fabsf(s.data[i][r * t.cols + k]));
            if (want == BL_DT_I16) {
                /* scale = max|row|/4095, q = round(w/scale), |q| <= 4095 reached in every row */
                if (t.scale[r] != mx / 4095.0f) bad++;
                int qmax = 0;
                for (int k = 0; k < t.cols; k++) {
                    int q = ((const int16_t *)t.data)[r * t.cols + k];
                    qmax = abs(q) > qmax ? abs(q) : qmax;
                    /* q·scale itself rounds by up to an ulp of w: 4095·2^-24 of scale, above the int8 slack */
                    if (fabsf(deq[r * t.cols + k] - s.data[i][r * t.cols + k]) > t.scale[r] * 0.5f * 1.001f) bad++;
                }
                if (qmax != 4095) bad++;
            }
            if (want == BL_DT_I8) {
                /* independent restatement of the spec: scale = max|row|/127, q = round(w/scale) */
                if (t.scale[r] != mx / 127.0f) bad++;
                int qmax = 0;
                for (int k = 0; k < t.cols; k++) {
                    int q = ((const int8_t *)t.data)[r * t.cols + k];
                    qmax = abs(q) > qmax ? abs(q) : qmax;
                    if (fabsf(deq[r * t.cols + k] - s.data[i][r * t.cols + k]) > t.scale[r] * 0.5f * 1.0001f) bad++;
                }
                if (qmax != 127) bad++;
                /* the row's sum, kept at load for the relaxed-SIMD kernel (linear weights only) */
                int32_t sum = 0;
                for (int k = 0; k < t.cols; k++) sum += ((const int8_t *)t.data)[r * t.cols + k];
                if (!emb && (!t.wsum || t.wsum[r] != sum)) bad++;
            }
            if ((want != BL_DT_I8 || emb) && t.wsum) bad++;   /* row sums: int8 linear weights only */
            for (int k = 0; k < t.cols; k++) {
                float w = s.data[i][r * t.cols + k], g = deq[r * t.cols + k];
                if (want == BL_DT_F32 && g != w) bad++;
                if (want == BL_DT_F16 && (g != bl_f16_to_f32(bl_f32_to_f16(w)) || fabsf(g - w) > fabsf(w) * (1.0f / 2048) + 6e-8f)) bad++;
            }
        }
        CHECK(bad == 0, "%s (dtype %d): %d values off", s.names[i], dtype, bad);
        free(deq);
    }
    if (has_mlm) {
        if (untied) CHECK(m->w.decoder.data != m->w.word.data, "untied decoder has its own data");
        else CHECK(m->w.decoder.data == m->w.word.data && m->w.decoder.scale == m->w.word.scale &&
                   m->w.decoder.wsum == m->w.word.wsum, "tied decoder == word embeddings");
    }
    /* the buffer may be only 8-byte aligned (malloc in wasm): copy to an offset of 8 */
    uint8_t *b2 = malloc(len + 8);
    memcpy(b2 + 8, buf, len);
    bl_model *m2 = bl_model_load(b2 + 8, len, 0, &e);
    CHECK(m2 != NULL, "load at 8-byte alignment: %s", e.msg);
    bl_model_free(m2);
    free(b2);
    bl_model_free(m);
    free(buf);
    free_spec(&s);
}

/* --- corruption helpers: layout from weights/FORMAT.md */
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void resign(uint8_t *b, size_t len) { bl_sha256(b + 64, len - 64, b + 24); }
static uint8_t *entry(uint8_t *b, int i) { return b + rd64(b + 144) + 128 * (size_t)i; }

static void expect_fail(const uint8_t *b, size_t len, int flags, const char *want, const char *what) {
    bl_err e = {{0}};
    bl_model *m = bl_model_load(b, len, flags, &e);
    CHECK(m == NULL, "%s: accepted", what);
    CHECK(strstr(e.msg, want) != NULL, "%s: error '%s' lacks '%s'", what, e.msg, want);
    bl_model_free(m);
}

typedef void (*mutator)(uint8_t *b, size_t len);
static void check_mutation(const uint8_t *orig, size_t len, mutator f, const char *want, const char *what) {
    uint8_t *b = malloc(len);
    memcpy(b, orig, len);
    f(b, len);
    resign(b, len);   /* structural errors must be caught even when the checksum matches */
    expect_fail(b, len, 0, want, what);
    free(b);
}

static void m_heads(uint8_t *b, size_t l) { (void)l; wr32(b + 64 + 12, 3); }
static void m_heads0(uint8_t *b, size_t l) { (void)l; wr32(b + 64 + 12, 0); }
static void m_hidden(uint8_t *b, size_t l) { (void)l; wr32(b + 64 + 4, 1u << 30); }
static void m_layers(uint8_t *b, size_t l) { (void)l; wr32(b + 64 + 8, 1000000); }
static void m_eps(uint8_t *b, size_t l) { (void)l; wr32(b + 64 + 28, 0x7fc00000); }
static void m_ntens(uint8_t *b, size_t l) { (void)l; wr32(b + 64 + 56, 0xffffffffu); }
static void m_dtype(uint8_t *b, size_t l) { (void)l; wr32(b + 64 + 52, 7); }
static void m_voff(uint8_t *b, size_t l) { (void)l; wr64(b + 128, 0xfffffffffffffff0ull); }
static void m_vlen(uint8_t *b, size_t l) { (void)l; wr64(b + 136, 0xffffffffffffff00ull); }
static void m_toff(uint8_t *b, size_t l) { (void)l; wr64(b + 144, l - 100); }
static void m_doff(uint8_t *b, size_t l) { (void)l; wr64(b + 152, 0xffffffffffffffc0ull); }
static void m_toff_over(uint8_t *b, size_t l) { (void)l; wr64(entry(b, 0) + 112, 0xffffffffffffffc0ull); }
static void m_toff_past(uint8_t *b, size_t l) { wr64(entry(b, 0) + 112, (l + 63) & ~(size_t)63); }
static void m_toff_mis(uint8_t *b, size_t l) { (void)l; wr64(entry(b, 1) + 112, rd64(entry(b, 1) + 112) + 4); }
static void m_overlap(uint8_t *b, size_t l) { (void)l; wr64(entry(b, 1) + 112, rd64(entry(b, 0) + 112)); }
static void m_scale(uint8_t *b, size_t l) { (void)l; wr64(entry(b, 0) + 120, 0xffffffffffffffc0ull); }
static void m_rows(uint8_t *b, size_t l) { (void)l; wr32(entry(b, 0) + 100, 19); }
static void m_tdtype(uint8_t *b, size_t l) { (void)l; wr32(entry(b, 3) + 96, 1); }
static void m_name(uint8_t *b, size_t l) { (void)l; memcpy(entry(b, 1), "embeddings.bogus", 17); }
static void m_dup(uint8_t *b, size_t l) { (void)l; memcpy(entry(b, 4), entry(b, 3), 96); }
static void m_layer_idx(uint8_t *b, size_t l) { (void)l; memcpy(entry(b, 6), "encoder.layer.2", 15); }
static void m_noterm(uint8_t *b, size_t l) { (void)l; memset(entry(b, 2), 'x', 96); }
static void m_missing(uint8_t *b, size_t l) { (void)l; wr32(b + 64 + 56, rd32(b + 64 + 56) - 1); }
static void m_vocab(uint8_t *b, size_t l) { (void)l; wr32(b + 64 + 0, 21); }

/* FORMAT.md: the writer emits the canonical order, the loader accepts any. The same tensors
   written in a permuted order (reversed: the MLM head first, layer 1 before layer 0, the
   embeddings last; and a fixed shuffle) must load, with the table really in that order, and
   give the canonical file's forward output bit for bit (attention, hidden states, MLM logits),
   so every tensor reached its slot by name, not by position. */
static void forward_out(const uint8_t *buf, size_t len, float *out, size_t *nout) {
    bl_err e = {{0}};
    bl_model *m = bl_model_load(buf, len, 0, &e);
    CHECK(m != NULL, "any order: load: %s", e.msg);
    bl_ctx *c = m ? bl_ctx_new(m, &e) : NULL;
    static const int ids[] = {2, 17, 4, 18, 16, 3, 5, 19, 3}, types[] = {0, 0, 0, 0, 0, 0, 1, 1, 1};
    const int n = 9;
    *nout = 0;
    if (c && bl_forward(c, ids, types, n, BL_PREC_NATIVE, &e) == 0) {
        const bl_config *cfg = bl_model_config(m);
        size_t na = (size_t)cfg->layers * cfg->heads * n * n, nh = (size_t)n * cfg->hidden;
        memcpy(out, bl_attention(c), na * 4);
        memcpy(out + na, bl_hidden(c), nh * 4);
        *nout = na + nh;
        if (cfg->has_mlm && bl_mlm_logits(c, 2, out + *nout, &e) == 0) *nout += (size_t)cfg->vocab_size;
    }
    CHECK(*nout > 0, "any order: forward: %s", e.msg);
    bl_ctx_free(c);
    bl_model_free(m);
}

static void check_any_order(int dtype, int untied) {
    spec s;
    make_spec(&s, 1, untied);
    uint8_t *canon, *perm;
    size_t clen, plen, n0, n1;
    if (write_spec(&s, dtype, &canon, &clen)) { free_spec(&s); return; }
    float *want = malloc(sizeof(float) * 4096), *got = malloc(sizeof(float) * 4096);
    forward_out(canon, clen, want, &n0);
    for (int shuffle = 0; shuffle <= 1; shuffle++) {
        bl_wtensor t[NT_MAX];
        for (int i = 0; i < s.nt; i++) t[i] = s.t[s.nt - 1 - i];
        if (shuffle)   /* Fisher-Yates with a fixed LCG */
            for (uint32_t i = (uint32_t)s.nt - 1, r = 7; i > 0; i--) {
                r = r * 1664525u + 1013904223u;
                const uint32_t j = (r >> 8) % (i + 1);
                bl_wtensor tmp = t[i]; t[i] = t[j]; t[j] = tmp;
            }
        bl_err e = {{0}};
        if (bl_model_write(&s.cfg, dtype, VOCAB, sizeof VOCAB - 1, t, s.nt, &perm, &plen, &e)) {
            CHECK(0, "any order: write: %s", e.msg);
            continue;
        }
        int same_order = 1;
        for (int i = 0; i < s.nt; i++) same_order &= !strcmp((const char *)entry(perm, i), s.names[i]);
        CHECK(!same_order && !strcmp((const char *)entry(perm, 0), t[0].name),
              "any order (dtype %d, shuffle %d): the table is not in the permuted order", dtype, shuffle);
        forward_out(perm, plen, got, &n1);
        CHECK(n0 > 0 && n1 == n0 && !memcmp(want, got, n0 * 4),
              "any order (dtype %d, untied %d, shuffle %d): forward output differs from the canonical file's",
              dtype, untied, shuffle);
        free(perm);
    }
    free(want);
    free(got);
    free(canon);
    free_spec(&s);
}

/* Files written before int16 files' embeddings became F32 have them as F16, and still load:
   an int16 file is rewritten here with F16 embedding tables (the f16 values in the first half
   of each F32 region, the entry's dtype 1). The same F16 table is refused in an int8 file and
   for a matrix that is not an embedding. */
static void check_i16_f16_embeddings(void) {
    spec s;
    make_spec(&s, 1, 0);
    uint8_t *buf; size_t len;
    if (write_spec(&s, BL_DT_I16, &buf, &len)) { free_spec(&s); return; }
    int patched = 0, layer = -1;
    for (int i = 0; i < s.nt; i++) {
        uint8_t *te = entry(buf, i);
        const char *nm = (const char *)te;
        if (!strcmp(nm, "encoder.layer.0.attention.self.query.weight")) layer = i;
        if (strncmp(nm, "embeddings.", 11) || !strstr(nm, "_embeddings.weight")) continue;
        CHECK(rd32(te + 96) == BL_DT_F32, "%s: written as dtype %u, want f32", nm, rd32(te + 96));
        uint8_t *d = buf + rd64(te + 112);
        const size_t n = (size_t)rd32(te + 100) * rd32(te + 104);
        for (size_t k = 0; k < n; k++) {
            const uint16_t h = bl_f32_to_f16(s.data[i][k]);
            d[2 * k] = (uint8_t)h;
            d[2 * k + 1] = (uint8_t)(h >> 8);
        }
        wr32(te + 96, BL_DT_F16);
        patched++;
    }
    CHECK(patched == 3, "patched %d embedding tables, want 3", patched);
    resign(buf, len);
    bl_err e = {{0}};
    bl_model *m = bl_model_load(buf, len, 0, &e);
    CHECK(m != NULL, "an int16 file with f16 embeddings: %s", e.msg);
    if (m) {
        bl_tensor t;
        const int iw = 0;   /* make_spec adds the word embeddings first */
        CHECK(find_loaded(m, s.names[iw], &t) == &t && t.dtype == BL_DT_F16 &&
              bl_f16_to_f32(((const uint16_t *)t.data)[5]) == bl_f16_to_f32(bl_f32_to_f16(s.data[iw][5])),
              "f16 word embeddings of an int16 file: dtype %d", t.dtype);
        bl_model_free(m);
    }
    /* an f16 matrix that is not an embedding */
    uint8_t *b2 = malloc(len);
    memcpy(b2, buf, len);
    if (layer >= 0) { wr32(entry(b2, layer) + 96, BL_DT_F16); resign(b2, len); }
    expect_fail(b2, len, 0, "dtype f16, expected int16", "an f16 layer matrix in an int16 file");
    /* f16 embeddings in an int8 file */
    free(buf);
    if (write_spec(&s, BL_DT_I8, &buf, &len) == 0) {
        uint8_t *te = entry(buf, 0);
        CHECK(!strcmp((const char *)te, "embeddings.word_embeddings.weight"), "entry 0 is %s", (const char *)te);
        wr32(te + 96, BL_DT_F16);
        resign(buf, len);
        expect_fail(buf, len, 0, "dtype f16, expected int8", "f16 word embeddings in an int8 file");
        free(buf);
    }
    free(b2);
    free_spec(&s);
}

int main(void) {
    check_i16_f16_embeddings();
    for (int dt = 0; dt < 4; dt++) {
        check_any_order(dt, 0);
        check_any_order(dt, 1);
    }
    for (int dt = 0; dt < 4; dt++) {
        check_roundtrip(dt, 1, 0);
        check_roundtrip(dt, 1, 1);
        check_roundtrip(dt, 0, 0);
    }

    spec s;
    make_spec(&s, 1, 0);
    uint8_t *buf; size_t len;
    if (write_spec(&s, BL_DT_I8, &buf, &len)) return check_summary("test_model_file");

    /* whole-file problems */
    expect_fail(buf, len - 1, 0, "truncated: header says", "truncated by one byte");
    expect_fail(buf, 100, 0, "file too small (100 bytes", "truncated to 100 bytes");
    expect_fail(NULL, 0, 0, "no data", "NULL");
    uint8_t *b = malloc(len + 64);
    memcpy(b, buf, len);
    b[len] = 0;
    expect_fail(b, len + 1, 0, "trailing data", "one extra byte");
    b[len / 2] ^= 0x10;
    expect_fail(b, len, 0, "checksum mismatch", "flipped byte in the middle");
    memcpy(b, buf, len);
    b[len - 1] ^= 1;
    expect_fail(b, len, 0, "checksum mismatch", "flipped last byte");
    memcpy(b, buf, len);
    b[70] ^= 1;
    expect_fail(b, len, 0, "checksum mismatch", "flipped config byte");
    memcpy(b, buf, len);
    b[0] = 'X';
    expect_fail(b, len, 0, "bad magic", "wrong magic");
    memcpy(b, buf, len);
    wr32(b + 8, 4);
    expect_fail(b, len, 0, "unsupported format version 4 (this build reads versions 1 to 3)", "version 4");
    memcpy(b, buf, len);
    b[60] = 1;
    expect_fail(b, len, 0, "reserved header bytes", "reserved byte set");
    memcpy(b + 1, buf, len);
    expect_fail(b + 1, len, 0, "not 4-byte aligned", "misaligned buffer");
    /* a flipped byte in tensor data passes with SKIP_CHECKSUM (the caller asked) ... */
    memcpy(b, buf, len);
    b[len - 200] ^= 1;
    bl_err e = {{0}};
    bl_model *m = bl_model_load(b, len, BL_LOAD_SKIP_CHECKSUM, &e);
    CHECK(m != NULL && bl_model_checksum_verified(m) == 0, "skip checksum: %s", e.msg);
    /* ... and bl_model_verify finds it later */
    if (m) CHECK(bl_model_verify(m, &e) < 0 && strstr(e.msg, "checksum mismatch"), "verify after skip: %s", e.msg);
    bl_model_free(m);
    free(b);

    /* structural corruption with a valid checksum */
    check_mutation(buf, len, m_heads, "hidden 8 is not divisible by heads 3", "heads 3");
    check_mutation(buf, len, m_heads0, "heads = 0 (must be 1..", "heads 0");
    check_mutation(buf, len, m_hidden, "hidden = 1073741824 (must be 1..", "huge hidden");
    check_mutation(buf, len, m_layers, "layers = 1000000 (must be 1..", "huge layers");
    check_mutation(buf, len, m_eps, "LayerNorm eps nan", "NaN eps");
    check_mutation(buf, len, m_ntens, "4294967295 tensors in the table", "huge tensor count");
    check_mutation(buf, len, m_dtype, "matrix dtype 7", "unknown dtype");
    check_mutation(buf, len, m_voff, "vocab [18446744073709551600, +", "vocab offset overflow");
    check_mutation(buf, len, m_vlen, "lies outside the file", "vocab length overflow");
    check_mutation(buf, len, m_toff, "tensor table at", "table past the end");
    check_mutation(buf, len, m_doff, "data offset", "data offset overflow");
    check_mutation(buf, len, m_toff_over, "tensor 'embeddings.word_embeddings.weight': data [18446744073709551552", "tensor offset overflow");
    check_mutation(buf, len, m_toff_past, "tensor 'embeddings.word_embeddings.weight': data [", "tensor past the end");
    check_mutation(buf, len, m_toff_mis, "tensor 'embeddings.position_embeddings.weight': data [", "misaligned tensor");
    check_mutation(buf, len, m_overlap, "overlapping the previous tensor", "overlapping tensors");
    check_mutation(buf, len, m_scale, "tensor 'embeddings.word_embeddings.weight': scales [", "scale offset overflow");
    check_mutation(buf, len, m_rows, "tensor 'embeddings.word_embeddings.weight': expected shape [20, 8], got [19, 8]", "wrong shape");
    check_mutation(buf, len, m_tdtype, "tensor 'embeddings.LayerNorm.weight': dtype f16, expected f32", "wrong dtype");
    check_mutation(buf, len, m_name, "unexpected tensor 'embeddings.bogus'", "unknown tensor");
    check_mutation(buf, len, m_dup, "duplicate tensor 'embeddings.LayerNorm.weight'", "duplicate tensor");
    check_mutation(buf, len, m_layer_idx, "unexpected tensor 'encoder.layer.2.", "layer index out of range");
    check_mutation(buf, len, m_noterm, "tensor 2: name is not NUL-terminated", "unterminated name");
    check_mutation(buf, len, m_missing, "missing tensor 'cls.predictions.bias'", "missing tensor");
    check_mutation(buf, len, m_vocab, "expected shape [21, 8], got [20, 8]", "vocab_size changed");

    /* int16 files: version 3 exactly when the matrices are int16, values within ±4095 */
    {
        uint8_t *ib; size_t il;
        if (write_spec(&s, BL_DT_I16, &ib, &il) == 0) {
            CHECK(rd32(ib + 8) == 3, "an int16 file is version 3 (got %u)", rd32(ib + 8));
            uint8_t *c2 = malloc(il);
            memcpy(c2, ib, il);
            wr32(c2 + 8, 2);
            resign(c2, il);
            expect_fail(c2, il, 0, "format version 2 with int16 matrices", "int16 in version 2");
            memcpy(c2, buf, len < il ? len : il);
            free(c2);
            /* the int8 file marked version 3 (its header has no family block: version 1) */
            c2 = malloc(len);
            memcpy(c2, buf, len);
            wr32(c2 + 8, 3);
            resign(c2, len);
            expect_fail(c2, len, 0, "", "version 3 without int16");
            free(c2);
            /* the first int16 matrix (after the f16 embeddings) gets a value of 4096, then -4096 */
            c2 = malloc(il);
            for (int v = 0; v < 2; v++) {
                memcpy(c2, ib, il);
                int k = 0;
                while (k < 64 && rd32(entry(c2, k) + 96) != BL_DT_I16) k++;
                CHECK(k < 64, "int16 file has an int16 tensor");
                if (k == 64) break;
                uint8_t *d = c2 + rd64(entry(c2, k) + 112) + 2 * 5;
                const uint16_t bad = v ? (uint16_t)(int16_t)-4096 : 4096;
                d[0] = (uint8_t)bad; d[1] = (uint8_t)(bad >> 8);
                resign(c2, il);
                expect_fail(c2, il, 0, "an int16 value lies outside -4095..4095", v ? "int16 -4096" : "int16 4096");
                d[0] = 0xff; d[1] = 0x0f;   /* 4095 itself loads */
                resign(c2, il);
                bl_model *ok = bl_model_load(c2, il, 0, &e);
                CHECK(ok != NULL, "int16 4095 refused: %s", e.msg);
                bl_model_free(ok);
            }
            free(c2);
            free(ib);
        }
    }

    /* vocab count != vocab_size (a writer bug or hand-made file) */
    uint8_t *vb; size_t vl;
    CHECK(bl_model_write(&s.cfg, BL_DT_F32, "a\nb\n", 4, s.t, s.nt, &vb, &vl, &e) == 0, "write: %s", e.msg);
    expect_fail(vb, vl, 0, "vocab has 2 tokens, config says vocab_size 20", "short vocab");
    free(vb);
    /* has_mlm = 0 but MLM tensors present */
    s.cfg.has_mlm = 0;
    CHECK(bl_model_write(&s.cfg, BL_DT_F32, VOCAB, sizeof VOCAB - 1, s.t, s.nt, &vb, &vl, &e) == 0, "write: %s", e.msg);
    expect_fail(vb, vl, 0, "unexpected tensor 'cls.predictions.transform.dense.weight' (the config says has_mlm = 0)", "mlm off");
    free(vb);
    s.cfg.has_mlm = 1;
    /* the writer validates too */
    s.cfg.heads = 3;
    CHECK(bl_model_write(&s.cfg, BL_DT_F32, VOCAB, sizeof VOCAB - 1, s.t, s.nt, &vb, &vl, &e) < 0 &&
          strstr(e.msg, "not divisible"), "writer rejects bad config: %s", e.msg);
    s.cfg.heads = 2;

    /* every truncation length and every single-byte flip (checksum skipped, so the parser
       sees them): rejected or loaded, never a crash (run under ASan by tests/run.sh) */
    int loaded = 0;
    for (size_t cut = 0; cut < len; cut += 7) {
        m = bl_model_load(buf, cut, 0, &e);
        CHECK(m == NULL, "truncated to %zu accepted", cut);
        bl_model_free(m);
    }
    b = malloc(len);
    for (size_t i = 0; i < 4096 && i < len; i++) {
        memcpy(b, buf, len);
        b[i] ^= (uint8_t)(1u << (i % 8));
        m = bl_model_load(b, len, BL_LOAD_SKIP_CHECKSUM, &e);
        loaded += m != NULL;
        bl_model_free(m);
        if (i >= 24 && i < 56) continue;   /* the stored digest itself */
        m = bl_model_load(b, len, 0, &e);
        CHECK(m == NULL, "flip at %zu accepted with checksum on", i);
        bl_model_free(m);
    }
    CHECK(loaded > 0, "some flips (e.g. in padding/data) load when the checksum is skipped");
    free(b);
    free(buf);
    free_spec(&s);
    return check_summary("test_model_file");
}
