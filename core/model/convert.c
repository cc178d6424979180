/* convert.c — Hugging Face BERT directory <-> bertlens weights file (native only).

   bl_convert_hf reads config.json, model.safetensors, vocab.txt (or tokenizer.json) and
   tokenizer_config.json, validates all of it (every failure names the file, field or tensor),
   and writes a weights file — or shards plus a manifest. bl_export_hf writes the reverse
   (F32 safetensors), chosen so that converting it back gives a byte-identical file. */
#define _POSIX_C_SOURCE 200809L   /* mkdir */
#include "base/internal.h"
#include "base/json.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

/* ---------------------------------------------------------------- small helpers */
static void bl_join(char *out, size_t n, const char *dir, const char *file) {
    size_t dl = strlen(dir);
    snprintf(out, n, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", file);
}

static int bl_file_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

static int bl_write_file(const char *path, const void *data, size_t len, bl_err *e) {
    FILE *f = fopen(path, "wb");
    if (!f) return bl_fail(e, "cannot write '%s': %s", path, strerror(errno));
    size_t w = len ? fwrite(data, 1, len, f) : 0;
    int bad = w != len;
    if (fclose(f) != 0) bad = 1;
    if (bad) return bl_fail(e, "cannot write '%s': %s", path, strerror(errno ? errno : EIO));
    return 0;
}

static bl_json *bl_load_json(const char *path, bl_err *e) {
    uint8_t *b;
    size_t n;
    if (bl_read_whole_file(path, &b, &n, e) < 0) return NULL;
    bl_err je;
    bl_json *j = bl_json_parse((const char *)b, n, &je);
    free(b);
    if (!j) bl_fail(e, "%s: %s", path, je.msg);
    else if (j->type != BL_JSON_OBJ) { bl_fail(e, "%s: not a JSON object", path); bl_json_free(j); j = NULL; }
    return j;
}

static void bl_hex(const uint8_t d[32], char out[65]) {
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Shortest %g form that reads back as the same float ("1e-12", not "9.99999996e-13"). */
static void bl_fmt_float(char *out, size_t n, float v) {
    for (int p = 6; p <= 9; p++) {
        snprintf(out, n, "%.*g", p, (double)v);
        if ((float)strtod(out, NULL) == v) return;
    }
}

/* ---------------------------------------------------------------- config.json */
static int bl_cfg_int(const bl_json *j, const char *path, const char *key, int *out, bl_err *e) {
    const bl_json *v = bl_json_get(j, key);
    if (!v) return bl_fail(e, "%s: missing field '%s'", path, key);
    if (v->type != BL_JSON_NUM || !v->is_int || v->i64 < 1 || v->i64 > 0x7fffffff)
        return bl_fail(e, "%s: field '%s' must be a positive integer", path, key);
    *out = (int)v->i64;
    return 0;
}

static int bl_read_hf_config(const char *dir, bl_config *c, bl_err *e) {
    char path[4096];
    bl_join(path, sizeof path, dir, "config.json");
    bl_json *j = bl_load_json(path, e);
    if (!j) return -1;
    int rc = -1;
    const char *mt = bl_json_get_str(j, "model_type");
    const bl_json *arch = bl_json_get(j, "architectures");
    int bert_arch = 0;
    for (const bl_json *a = arch && arch->type == BL_JSON_ARR ? arch->child : NULL; a; a = a->next)
        if (a->type == BL_JSON_STR && !strncmp(a->str, "Bert", 4)) bert_arch = 1;
    if (mt && strcmp(mt, "bert")) { bl_fail(e, "%s: model_type is '%s', not 'bert'", path, mt); goto done; }
    if (!mt && !bert_arch) { bl_fail(e, "%s: not a BERT config (no model_type \"bert\" and no Bert* architecture)", path); goto done; }
    if (bl_cfg_int(j, path, "vocab_size", &c->vocab_size, e) < 0 ||
        bl_cfg_int(j, path, "hidden_size", &c->hidden, e) < 0 ||
        bl_cfg_int(j, path, "num_hidden_layers", &c->layers, e) < 0 ||
        bl_cfg_int(j, path, "num_attention_heads", &c->heads, e) < 0 ||
        bl_cfg_int(j, path, "intermediate_size", &c->intermediate, e) < 0 ||
        bl_cfg_int(j, path, "max_position_embeddings", &c->max_pos, e) < 0 ||
        bl_cfg_int(j, path, "type_vocab_size", &c->type_vocab, e) < 0)
        goto done;
    const bl_json *eps = bl_json_get(j, "layer_norm_eps");
    c->ln_eps = 1e-12f;
    if (eps) {
        if (eps->type != BL_JSON_NUM || !(eps->num > 0 && eps->num < 1)) {
            bl_fail(e, "%s: layer_norm_eps must be a number in (0, 1)", path);
            goto done;
        }
        c->ln_eps = (float)eps->num;
    }
    const bl_json *act = bl_json_get(j, "hidden_act");
    const char *as = act && act->type == BL_JSON_STR ? act->str : act ? "" : "gelu";
    if (!strcmp(as, "gelu")) c->act = BL_ACT_GELU;
    else if (!strcmp(as, "gelu_new") || !strcmp(as, "gelu_pytorch_tanh")) c->act = BL_ACT_GELU_TANH;
    else if (!strcmp(as, "relu")) c->act = BL_ACT_RELU;
    else { bl_fail(e, "%s: unsupported hidden_act '%s' (gelu, gelu_new, relu)", path, as); goto done; }
    const char *pe = bl_json_get_str(j, "position_embedding_type");
    if (pe && strcmp(pe, "absolute")) {
        bl_fail(e, "%s: unsupported position_embedding_type '%s' (absolute only)", path, pe);
        goto done;
    }
    rc = 0;
done:
    bl_json_free(j);
    return rc;
}

/* ---------------------------------------------------------------- tokenizer files */
static int bl_json_flag(const bl_json *j, const char *path, const char *key, int *out, int allow_null, bl_err *e) {
    const bl_json *v = bl_json_get(j, key);
    if (!v) return 0;   /* keep the default */
    if (v->type == BL_JSON_BOOL) { *out = v->boolean; return 0; }
    if (allow_null && v->type == BL_JSON_NULL) { *out = -1; return 0; }
    return bl_fail(e, "%s: '%s' must be true or false%s", path, key, allow_null ? " or null" : "");
}

static int bl_read_tok_config(const char *dir, bl_config *c, bl_err *e) {
    char path[4096];
    c->lowercase = 1;        /* BertTokenizer defaults */
    c->strip_accents = -1;
    c->chinese_chars = 1;
    bl_join(path, sizeof path, dir, "tokenizer_config.json");
    if (bl_file_exists(path)) {
        bl_json *j = bl_load_json(path, e);
        if (!j) return -1;
        int rc = bl_json_flag(j, path, "do_lower_case", &c->lowercase, 0, e) < 0 ||
                 bl_json_flag(j, path, "strip_accents", &c->strip_accents, 1, e) < 0 ||
                 bl_json_flag(j, path, "tokenize_chinese_chars", &c->chinese_chars, 0, e) < 0 ? -1 : 0;
        bl_json_free(j);
        return rc;
    }
    /* No tokenizer_config.json: a fast-tokenizer-only directory keeps the same flags in
       tokenizer.json's BertNormalizer. */
    bl_join(path, sizeof path, dir, "tokenizer.json");
    if (!bl_file_exists(path)) return 0;
    bl_json *j = bl_load_json(path, e);
    if (!j) return -1;
    const bl_json *nz = bl_json_get(j, "normalizer");
    const char *t = bl_json_get_str(nz, "type");
    int rc = 0;
    if (t && !strcmp(t, "BertNormalizer"))
        rc = bl_json_flag(nz, path, "lowercase", &c->lowercase, 0, e) < 0 ||
             bl_json_flag(nz, path, "strip_accents", &c->strip_accents, 1, e) < 0 ||
             bl_json_flag(nz, path, "handle_chinese_chars", &c->chinese_chars, 0, e) < 0 ? -1 : 0;
    bl_json_free(j);
    return rc;
}

/* The vocab as the weights file stores it: tokens each followed by '\n'. vocab.txt lines end
   in \n, \r\n or \r (Python's universal newlines, as HF's load_vocab reads it). */
static int bl_read_vocab(const char *dir, char **out, size_t *out_len, int *count, char *path, size_t pn, bl_err *e) {
    uint8_t *b;
    size_t n;
    bl_join(path, pn, dir, "vocab.txt");
    if (bl_file_exists(path)) {
        if (bl_read_whole_file(path, &b, &n, e) < 0) return -1;
        char *v = malloc(n + 1);
        if (!v) { free(b); return bl_fail(e, "%s: out of memory", path); }
        size_t o = 0;
        int cnt = 0;
        for (size_t i = 0; i < n; i++) {
            if (b[i] == '\r' || b[i] == '\n') {
                if (b[i] == '\r' && i + 1 < n && b[i + 1] == '\n') i++;
                v[o++] = '\n';
                cnt++;
            } else v[o++] = (char)b[i];
        }
        if (n && b[n - 1] != '\n' && b[n - 1] != '\r') { v[o++] = '\n'; cnt++; }
        free(b);
        *out = v; *out_len = o; *count = cnt;
        return 0;
    }
    bl_join(path, pn, dir, "tokenizer.json");
    if (!bl_file_exists(path))
        return bl_fail(e, "%s: no vocab.txt or tokenizer.json in the directory", dir);
    bl_json *j = bl_load_json(path, e);
    if (!j) return -1;
    const bl_json *voc = bl_json_get(bl_json_get(j, "model"), "vocab");
    if (!voc || voc->type != BL_JSON_OBJ || voc->n < 1) {
        bl_json_free(j);
        return bl_fail(e, "%s: no model.vocab object (not a WordPiece tokenizer)", path);
    }
    const bl_json **by_id = calloc((size_t)voc->n, sizeof *by_id);
    size_t total = 0;
    int rc = -1;
    if (!by_id) { bl_fail(e, "%s: out of memory", path); goto done; }
    for (const bl_json *t = voc->child; t; t = t->next) {
        if (t->type != BL_JSON_NUM || !t->is_int || t->i64 < 0 || t->i64 >= voc->n || by_id[t->i64]) {
            bl_fail(e, "%s: model.vocab ids must be 0..%d, each once (token '%s')", path, voc->n - 1, t->key);
            goto done;
        }
        if (memchr(t->key, '\n', t->key_len) || memchr(t->key, '\r', t->key_len) || strlen(t->key) != t->key_len) {
            bl_fail(e, "%s: vocab token %lld contains a line break or NUL", path, t->i64);
            goto done;
        }
        by_id[t->i64] = t;
        total += t->key_len + 1;
    }
    char *v = malloc(total);
    if (!v) { bl_fail(e, "%s: out of memory", path); goto done; }
    size_t o = 0;
    for (int i = 0; i < voc->n; i++) {
        memcpy(v + o, by_id[i]->key, by_id[i]->key_len);
        o += by_id[i]->key_len;
        v[o++] = '\n';
    }
    *out = v; *out_len = o; *count = voc->n;
    rc = 0;
done:
    free(by_id);
    bl_json_free(j);
    return rc;
}

/* ---------------------------------------------------------------- safetensors */
typedef struct {
    const char *name;      /* points into the parsed header */
    char dtype[16];
    int ndim;
    int64_t shape[8];
    uint64_t begin, end;   /* relative to the data section */
    const uint8_t *data;
} bl_st_tensor;

typedef struct {
    uint8_t *file;
    size_t len;
    bl_json *hdr;
    bl_st_tensor *t;
    int n;
} bl_st;

static void bl_st_free(bl_st *s) {
    free(s->file);
    bl_json_free(s->hdr);
    free(s->t);
    memset(s, 0, sizeof *s);
}

static int bl_st_dtype_size(const char *d) {
    static const struct { const char *n; int s; } k[] = {
        {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1},
        {"U64", 8}, {"U32", 4}, {"U16", 2}, {"U8", 1}, {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(d, k[i].n)) return k[i].s;
    return 0;
}

static int bl_st_cmp(const void *a, const void *b) {
    const bl_st_tensor *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : x->end < y->end ? -1 : x->end > y->end;
}

static int bl_st_open(const char *path, bl_st *s, bl_err *e) {
    memset(s, 0, sizeof *s);
    if (bl_read_whole_file(path, &s->file, &s->len, e) < 0) return -1;
    if (s->len < 8) { bl_fail(e, "%s: too short for a safetensors file (%zu bytes)", path, s->len); goto fail; }
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)s->file[i] << (8 * i);
    if (hl < 2 || hl > s->len - 8 || hl > (100u << 20)) {
        bl_fail(e, "%s: bad header length %llu (file is %zu bytes)", path, (unsigned long long)hl, s->len);
        goto fail;
    }
    bl_err je;
    s->hdr = bl_json_parse((const char *)s->file + 8, (size_t)hl, &je);
    if (!s->hdr) { bl_fail(e, "%s: header: %s", path, je.msg); goto fail; }
    if (s->hdr->type != BL_JSON_OBJ) { bl_fail(e, "%s: header is not a JSON object", path); goto fail; }
    const uint8_t *data = s->file + 8 + hl;
    uint64_t dlen = s->len - 8 - hl;
    s->t = calloc((size_t)s->hdr->n + 1, sizeof *s->t);
    if (!s->t) { bl_fail(e, "%s: out of memory", path); goto fail; }
    for (const bl_json *j = s->hdr->child; j; j = j->next) {
        if (!strcmp(j->key, "__metadata__")) continue;
        bl_st_tensor *t = &s->t[s->n];
        t->name = j->key;
        const char *dt = bl_json_get_str(j, "dtype");
        const bl_json *shape = bl_json_get(j, "shape"), *offs = bl_json_get(j, "data_offsets");
        if (!dt || !shape || shape->type != BL_JSON_ARR || !offs || offs->type != BL_JSON_ARR || offs->n != 2) {
            bl_fail(e, "%s: tensor '%s': needs dtype, shape and data_offsets [begin, end]", path, j->key);
            goto fail;
        }
        int es = bl_st_dtype_size(dt);
        if (!es) { bl_fail(e, "%s: tensor '%s': unknown dtype '%.15s'", path, j->key, dt); goto fail; }
        snprintf(t->dtype, sizeof t->dtype, "%s", dt);
        if (shape->n > 8) { bl_fail(e, "%s: tensor '%s': %d dimensions", path, j->key, shape->n); goto fail; }
        uint64_t count = 1;
        for (const bl_json *d = shape->child; d; d = d->next) {
            if (d->type != BL_JSON_NUM || !d->is_int || d->i64 < 0 || d->i64 > (1LL << 40)) {
                bl_fail(e, "%s: tensor '%s': bad shape", path, j->key);
                goto fail;
            }
            t->shape[t->ndim++] = d->i64;
            count = count && (uint64_t)d->i64 > UINT64_MAX / count ? UINT64_MAX : count * (uint64_t)d->i64;
        }
        const bl_json *b0 = bl_json_at(offs, 0), *b1 = bl_json_at(offs, 1);
        if (b0->type != BL_JSON_NUM || !b0->is_int || b0->i64 < 0 || b1->type != BL_JSON_NUM || !b1->is_int ||
            b1->i64 < b0->i64) {
            bl_fail(e, "%s: tensor '%s': bad data_offsets", path, j->key);
            goto fail;
        }
        t->begin = (uint64_t)b0->i64;
        t->end = (uint64_t)b1->i64;
        if (t->end > dlen) {
            bl_fail(e, "%s: tensor '%s': data_offsets [%llu, %llu] out of range (data section is %llu bytes)",
                    path, j->key, (unsigned long long)t->begin, (unsigned long long)t->end, (unsigned long long)dlen);
            goto fail;
        }
        if (count > UINT64_MAX / (uint64_t)es || count * (uint64_t)es != t->end - t->begin) {
            bl_fail(e, "%s: tensor '%s': data_offsets span %llu bytes, its shape and dtype %s need %llu",
                    path, j->key, (unsigned long long)(t->end - t->begin), dt,
                    (unsigned long long)(count > UINT64_MAX / (uint64_t)es ? UINT64_MAX : count * (uint64_t)es));
            goto fail;
        }
        t->data = data + t->begin;
        s->n++;
    }
    /* non-overlapping: sort a copy by begin and compare neighbours */
    bl_st_tensor *sorted = malloc(sizeof *sorted * ((size_t)s->n + 1));
    if (!sorted) { bl_fail(e, "%s: out of memory", path); goto fail; }
    memcpy(sorted, s->t, sizeof *sorted * (size_t)s->n);
    qsort(sorted, (size_t)s->n, sizeof *sorted, bl_st_cmp);
    for (int i = 1; i < s->n; i++)
        if (sorted[i].begin < sorted[i - 1].end && sorted[i].end > sorted[i].begin) {
            bl_fail(e, "%s: tensors '%s' and '%s' overlap", path, sorted[i - 1].name, sorted[i].name);
            free(sorted);
            goto fail;
        }
    free(sorted);
    return 0;
fail:
    bl_st_free(s);
    return -1;
}

static const bl_st_tensor *bl_st_find(const bl_st *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->t[i].name, name)) return &s->t[i];
    return NULL;
}

/* The tensor for a canonical name under any of the HF spellings: with or without "bert.",
   LayerNorm weight/bias or gamma/beta. */
static const bl_st_tensor *bl_st_lookup(const bl_st *s, const char *canon) {
    char alt[160];
    const char *ln = strstr(canon, "LayerNorm.");
    for (int pre = 0; pre < 2; pre++)
        for (int gb = 0; gb < 2; gb++) {
            if (gb && !ln) continue;
            snprintf(alt, sizeof alt, "%s%s", pre ? "bert." : "", canon);
            if (gb) {
                char *p = strstr(alt, "LayerNorm.") + 10;
                strcpy(p, !strcmp(p, "weight") ? "gamma" : "beta");
            }
            const bl_st_tensor *t = bl_st_find(s, alt);
            if (t) return t;
        }
    return NULL;
}

/* Widen an F32/F16/BF16 tensor to f32 after checking its shape; NaN/Inf are rejected. */
static float *bl_st_to_f32(const char *path, const bl_st_tensor *t, int rows, int cols, int vector, bl_err *e) {
    int ok = vector ? t->ndim == 1 && t->shape[0] == cols
                    : t->ndim == 2 && t->shape[0] == rows && t->shape[1] == cols;
    if (!ok) {
        char got[128] = "[";
        for (int i = 0; i < t->ndim; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? ", " : "", (long long)t->shape[i]);
        strcat(got, "]");
        if (vector) bl_fail(e, "%s: tensor '%s': expected shape [%d], got %s", path, t->name, cols, got);
        else bl_fail(e, "%s: tensor '%s': expected shape [%d, %d], got %s", path, t->name, rows, cols, got);
        return NULL;
    }
    int dt = !strcmp(t->dtype, "F32") ? 0 : !strcmp(t->dtype, "F16") ? 1 : !strcmp(t->dtype, "BF16") ? 2 : -1;
    if (dt < 0) {
        bl_fail(e, "%s: tensor '%s': dtype %s is not supported (F32, F16, BF16)", path, t->name, t->dtype);
        return NULL;
    }
    size_t n = (size_t)rows * (size_t)cols;
    float *out = malloc(sizeof(float) * (n ? n : 1));
    if (!out) { bl_fail(e, "%s: out of memory", path); return NULL; }
    const uint8_t *p = t->data;
    for (size_t i = 0; i < n; i++) {
        if (dt == 0) {
            uint32_t u = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
                         (uint32_t)p[4 * i + 3] << 24;
            memcpy(&out[i], &u, 4);
        } else {
            uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
            uint32_t u = (uint32_t)h << 16;   /* bf16 is the top half of an f32 */
            if (dt == 1) out[i] = bl_f16_to_f32(h);
            else memcpy(&out[i], &u, 4);
        }
        if (!isfinite(out[i])) {
            bl_fail(e, "%s: tensor '%s': element %zu is NaN or infinite", path, t->name, i);
            free(out);
            return NULL;
        }
    }
    return out;
}

/* ---------------------------------------------------------------- manifest */
static void bl_json_out_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static const char *bl_act_name(int act) {
    return act == BL_ACT_GELU_TANH ? "gelu_new" : act == BL_ACT_RELU ? "relu" : "gelu";
}

static void bl_config_json(FILE *f, const bl_config *c) {
    char eps[32];
    bl_fmt_float(eps, sizeof eps, c->ln_eps);
    fprintf(f, "{\"vocab_size\": %d, \"hidden_size\": %d, \"num_hidden_layers\": %d, "
               "\"num_attention_heads\": %d, \"intermediate_size\": %d, \"max_position_embeddings\": %d, "
               "\"type_vocab_size\": %d, \"layer_norm_eps\": %s, \"hidden_act\": \"%s\", "
               "\"do_lower_case\": %s, \"strip_accents\": %s, \"tokenize_chinese_chars\": %s, \"has_mlm\": %s}",
            c->vocab_size, c->hidden, c->layers, c->heads, c->intermediate, c->max_pos, c->type_vocab, eps,
            bl_act_name(c->act), c->lowercase ? "true" : "false",
            c->strip_accents < 0 ? "null" : c->strip_accents ? "true" : "false",
            c->chinese_chars ? "true" : "false", c->has_mlm ? "true" : "false");
}

static int bl_write_shards(const char *out_path, const uint8_t *b, size_t len, const bl_config *cfg,
                           int dtype, size_t part, bl_err *e) {
    size_t ol = strlen(out_path);
    int is_json = ol > 5 && !strcmp(out_path + ol - 5, ".json");
    char stem[4096], man[4096];
    if (ol + 16 >= sizeof stem) return bl_fail(e, "output path too long");
    snprintf(stem, sizeof stem, "%.*s", (int)(is_json ? ol - 5 : ol), out_path);
    snprintf(man, sizeof man, is_json ? "%s" : "%s.json", out_path);
    size_t nparts = (len + part - 1) / part;
    if (nparts > 1000) return bl_fail(e, "%zu parts of %zu bytes needed (at most 1000): use bigger shards", nparts, part);
    const char *base = strrchr(stem, '/') ? strrchr(stem, '/') + 1 : stem;
    char *mbuf = NULL;
    size_t mlen = 0;
    FILE *m = open_memstream(&mbuf, &mlen);
    if (!m) return bl_fail(e, "out of memory");
    uint8_t d[32];
    char hex[65];
    bl_sha256(b, len, d);
    bl_hex(d, hex);
    fprintf(m, "{\n  \"format\": \"bertlens-weights-manifest\",\n  \"version\": 1,\n  \"name\": ");
    bl_json_out_str(m, base);
    fprintf(m, ",\n  \"size\": %zu,\n  \"sha256\": \"%s\",\n  \"parts\": [\n", len, hex);
    int rc = 0;
    for (size_t i = 0; i < nparts && rc == 0; i++) {
        size_t off = i * part, n = len - off < part ? len - off : part;
        char pp[4200];
        snprintf(pp, sizeof pp, "%s.part%03zu", stem, i);
        rc = bl_write_file(pp, b + off, n, e);
        bl_sha256(b + off, n, d);
        bl_hex(d, hex);
        fprintf(m, "    {\"path\": ");
        bl_json_out_str(m, strrchr(pp, '/') ? strrchr(pp, '/') + 1 : pp);
        fprintf(m, ", \"size\": %zu, \"sha256\": \"%s\"}%s\n", n, hex, i + 1 < nparts ? "," : "");
    }
    fprintf(m, "  ],\n  \"dtype\": \"%s\",\n  \"config\": ", bl_dtype_name(dtype));
    bl_config_json(m, cfg);
    fprintf(m, "\n}\n");
    fclose(m);
    if (rc == 0) rc = bl_write_file(man, mbuf, mlen, e);
    free(mbuf);
    return rc;
}

/* ---------------------------------------------------------------- convert */
int bl_convert_hf(const char *hf_dir, const char *out_path, int dtype, int shard_mb, bl_err *e) {
    if (shard_mb > 4095) return bl_fail(e, "--shard-mb %d is too large (at most 4095)", shard_mb);
    return bl_convert_hf_ex(hf_dir, out_path, dtype, shard_mb > 0 ? (size_t)shard_mb << 20 : 0, e);
}

int bl_convert_hf_ex(const char *hf_dir, const char *out_path, int dtype, size_t shard_bytes, bl_err *e) {
    if (dtype < BL_DT_F32 || dtype > BL_DT_I8) return bl_fail(e, "unknown dtype %d", dtype);
    bl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (bl_read_hf_config(hf_dir, &cfg, e) < 0 || bl_read_tok_config(hf_dir, &cfg, e) < 0) return -1;
    char *vocab = NULL;
    size_t vlen = 0;
    int vcount = 0;
    char vpath[4096];
    if (bl_read_vocab(hf_dir, &vocab, &vlen, &vcount, vpath, sizeof vpath, e) < 0) return -1;
    char st_path[4096];
    bl_join(st_path, sizeof st_path, hf_dir, "model.safetensors");
    bl_st st;
    bl_wtensor *wt = NULL;
    char (*names)[96] = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int nt = 0, rc = -1;
    if (vcount != cfg.vocab_size) {
        bl_fail(e, "%s has %d tokens, config.json vocab_size is %d", vpath, vcount, cfg.vocab_size);
        free(vocab);
        return -1;
    }
    if (bl_st_open(st_path, &st, e) < 0) { free(vocab); return -1; }

    cfg.has_mlm = bl_st_lookup(&st, "cls.predictions.transform.dense.weight") != NULL;
    /* validate the config ranges before sizing anything by them */
    if (bl_config_check(&cfg, e) < 0) {
        char msg[BL_ERR_MAX];
        snprintf(msg, sizeof msg, "%s", e ? e->msg : "");
        bl_fail(e, "%s/config.json: %s", hf_dir, msg);
        goto done;
    }
    int cap = 11 + 16 * cfg.layers;
    wt = calloc((size_t)cap, sizeof *wt);
    names = calloc((size_t)cap, sizeof *names);
    if (!wt || !names) { bl_fail(e, "out of memory"); goto done; }
    const float *word = NULL;
    char name[96];
    int rows, cols, kind;
    for (int i = 0; bl_canonical_tensor(&cfg, i, name, sizeof name, &rows, &cols, &kind) == 0; i++) {
        if (kind == 1 && !cfg.has_mlm) continue;
        if (kind == 2 && !cfg.has_mlm) continue;
        const bl_st_tensor *t = bl_st_lookup(&st, name);
        if (!t && !strcmp(name, "cls.predictions.bias")) t = bl_st_find(&st, "cls.predictions.decoder.bias");
        if (!t) {
            if (kind == 2) continue;   /* decoder absent: tied */
            bl_fail(e, "%s: missing tensor '%s' (also tried the bert. prefix%s)", st_path, name,
                    strstr(name, "LayerNorm.") ? " and gamma/beta" : "");
            goto done;
        }
        int vector = !bl_tensor_is_matrix(name);
        float *d = bl_st_to_f32(st_path, t, rows, cols, vector, e);
        if (!d) goto done;
        if (kind == 2 && word && !memcmp(d, word, sizeof(float) * (size_t)rows * cols)) {
            free(d);   /* decoder equal to the word embeddings: tied, not stored */
            continue;
        }
        snprintf(names[nt], sizeof names[nt], "%s", name);
        wt[nt] = (bl_wtensor){names[nt], vector ? 1 : rows, cols, d};
        if (!strcmp(name, "embeddings.word_embeddings.weight")) word = d;
        nt++;
    }
    if (bl_model_write(&cfg, dtype, vocab, vlen, wt, nt, &buf, &len, e) < 0) goto done;
    /* Load what we wrote: the converter never emits a file the loader rejects. */
    bl_err le;
    bl_model *m = bl_model_load(buf, len, 0, &le);
    if (!m) { bl_fail(e, "internal error: the converted file does not load: %s", le.msg); goto done; }
    bl_model_free(m);
    rc = shard_bytes > 0 ? bl_write_shards(out_path, buf, len, &cfg, dtype, shard_bytes, e)
                      : bl_write_file(out_path, buf, len, e);
done:
    for (int i = 0; i < nt; i++) free((void *)wt[i].data);
    free(wt);
    free(names);
    free(buf);
    free(vocab);
    bl_st_free(&st);
    return rc;
}

/* ---------------------------------------------------------------- export */
/* Dequantize an int8 row for export so that re-quantizing gives back the same bytes: the
   ±127 entries become the f32 value nearest 127*scale whose f32 division by 127 is exactly
   scale (bl_quantize_row computes max|row| / 127.0f); the others are q*scale, which
   re-quantize to q since their relative error (~2^-24) is far below 0.5/127. */
static void bl_export_i8_row(const int8_t *q, float s, int n, float *out) {
    float top = 127.0f * s;
    if (s > 0 && top / 127.0f != s) {
        float up = top, dn = top;
        for (int k = 0; k < 64; k++) {
            up = nextafterf(up, INFINITY);
            dn = nextafterf(dn, 0.0f);
            if (up / 127.0f == s) { top = up; break; }
            if (dn / 127.0f == s) { top = dn; break; }
        }
    }
    for (int i = 0; i < n; i++)
        out[i] = q[i] == 127 ? top : q[i] == -127 ? -top : (float)q[i] * s;
}

int bl_export_hf(const bl_model *m, const char *dir, bl_err *e) {
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) return bl_fail(e, "cannot create '%s': %s", dir, strerror(errno));
    const bl_config *c = &m->cfg;
    char path[4096];
    int rc = -1;
    const char *prefix = c->has_mlm ? "bert." : "";
    int has_decoder = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        bl_tensor t; const char *nm;
        bl_model_tensor_at(m, i, &t, &nm);
        if (!strcmp(nm, "cls.predictions.decoder.weight")) has_decoder = 1;
    }

    /* config.json */
    char *txt = NULL;
    size_t tl = 0;
    FILE *f = open_memstream(&txt, &tl);
    if (!f) return bl_fail(e, "out of memory");
    char eps[32];
    bl_fmt_float(eps, sizeof eps, c->ln_eps);
    fprintf(f, "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"bert\",\n  \"vocab_size\": %d,\n"
               "  \"hidden_size\": %d,\n  \"num_hidden_layers\": %d,\n  \"num_attention_heads\": %d,\n"
               "  \"intermediate_size\": %d,\n  \"max_position_embeddings\": %d,\n  \"type_vocab_size\": %d,\n"
               "  \"layer_norm_eps\": %s,\n  \"hidden_act\": \"%s\",\n  \"position_embedding_type\": \"absolute\",\n"
               "  \"hidden_dropout_prob\": 0.1,\n  \"attention_probs_dropout_prob\": 0.1,\n"
               "  \"initializer_range\": 0.02,\n  \"pad_token_id\": 0,\n  \"tie_word_embeddings\": %s\n}\n",
            c->has_mlm ? "BertForMaskedLM" : "BertModel", c->vocab_size, c->hidden, c->layers, c->heads,
            c->intermediate, c->max_pos, c->type_vocab, eps, bl_act_name(c->act), has_decoder ? "false" : "true");
    fclose(f);
    bl_join(path, sizeof path, dir, "config.json");
    rc = bl_write_file(path, txt, tl, e);
    free(txt);
    if (rc < 0) return -1;

    /* tokenizer_config.json and vocab.txt */
    f = open_memstream(&txt, &tl);
    if (!f) return bl_fail(e, "out of memory");
    fprintf(f, "{\n  \"tokenizer_class\": \"BertTokenizer\",\n  \"do_lower_case\": %s,\n  \"strip_accents\": %s,\n"
               "  \"tokenize_chinese_chars\": %s,\n  \"model_max_length\": %d\n}\n",
            c->lowercase ? "true" : "false", c->strip_accents < 0 ? "null" : c->strip_accents ? "true" : "false",
            c->chinese_chars ? "true" : "false", c->max_pos);
    fclose(f);
    bl_join(path, sizeof path, dir, "tokenizer_config.json");
    rc = bl_write_file(path, txt, tl, e);
    free(txt);
    if (rc < 0) return -1;
    size_t vl;
    const char *vt = bl_model_vocab_text(m, &vl);
    bl_join(path, sizeof path, dir, "vocab.txt");
    if (bl_write_file(path, vt, vl, e) < 0) return -1;

    /* model.safetensors: header (names, F32, shapes, offsets), space-padded to 8 bytes */
    f = open_memstream(&txt, &tl);
    if (!f) return bl_fail(e, "out of memory");
    fprintf(f, "{\"__metadata__\":{\"format\":\"pt\"}");
    uint64_t off = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        bl_tensor t; const char *nm;
        bl_model_tensor_at(m, i, &t, &nm);
        uint64_t n = (uint64_t)t.rows * (uint64_t)t.cols * 4;
        int vec = !bl_tensor_is_matrix(nm);
        fprintf(f, ",\"%s%s\":{\"dtype\":\"F32\",\"shape\":", strncmp(nm, "cls.", 4) ? prefix : "", nm);
        if (vec) fprintf(f, "[%d]", t.cols); else fprintf(f, "[%d,%d]", t.rows, t.cols);
        fprintf(f, ",\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)(off + n));
        off += n;
    }
    fputc('}', f);
    while ((ftell(f)) % 8) fputc(' ', f);
    fclose(f);
    bl_join(path, sizeof path, dir, "model.safetensors");
    FILE *o = fopen(path, "wb");
    if (!o) { free(txt); return bl_fail(e, "cannot write '%s': %s", path, strerror(errno)); }
    uint8_t hl[8];
    for (int i = 0; i < 8; i++) hl[i] = (uint8_t)((uint64_t)tl >> (8 * i));
    int bad = fwrite(hl, 1, 8, o) != 8 || fwrite(txt, 1, tl, o) != tl;
    free(txt);
    for (int i = 0; i < m->n_tensors && !bad; i++) {
        bl_tensor t; const char *nm;
        bl_model_tensor_at(m, i, &t, &nm);
        size_t n = (size_t)t.rows * (size_t)t.cols;
        float *d = malloc(sizeof(float) * n);
        if (!d) { bad = 1; break; }
        if (t.dtype == BL_DT_I8)
            for (int r = 0; r < t.rows; r++)
                bl_export_i8_row((const int8_t *)t.data + (size_t)r * t.cols, t.scale[r], t.cols, d + (size_t)r * t.cols);
        else bl_tensor_to_f32(&t, d);
        uint8_t *le = (uint8_t *)d;   /* little-endian host (checked in model_file.c) */
        bad = fwrite(le, 4, n, o) != n;
        free(d);
    }
    if (fclose(o) != 0) bad = 1;
    if (bad) return bl_fail(e, "cannot write '%s': write failed", path);
    return 0;
}
