/* convert_stream.c — the Hugging Face -> bertlens converter, fed bytes as they arrive.

   Natively bl_convert_hf (convert.c) reads a directory through it in 1 MiB chunks; in the
   browser the worker pushes each fetched chunk. Both get the same bytes out.

   Order of calls: config.json, the tokenizer files, optionally the shard index, then each
   weights file (begin, push..., end), then finish. Once the config, the vocab and the list of
   tensor names (from the first header, the pickle or the index) are known, the output is laid
   out exactly as bl_model_write lays it out (weights/FORMAT.md), every canonical tensor's slot
   fixed; each tensor is then converted row by row as its bytes go by, in whatever order the
   file stores them. Peak memory: the output plus one row of the current tensor (plus the
   safetensors header or the torch pickle), never a whole source tensor.

   The untied-decoder rule (store cls.predictions.decoder.weight only when it differs from the
   word embeddings) is decided without keeping either: the SHA-256 of both as f32 rows. The
   decoder is the last tensor of the layout, so dropping it moves the data down by one table
   entry (128 bytes) and cuts the tail. */
#include "model/convert_stream.h"
#include "model/family.h"
#include "base/json.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BL_ALIGN 64
#define BL_HDR_FIXED 64
#define BL_HDR_SIZE 192
#define BL_ENTRY 128
#define BL_ST_MAX_HEADER (100u << 20)
#define BL_PK_MAX (64u << 20)

enum { K_NONE, K_ST, K_PT };
enum { ST_LEN, ST_HDR, ST_DATA };

typedef struct {
    char name[96];
    int rows, cols, matrix, kind, dt;   /* dt: BL_DT_* stored */
    char *src;            /* chosen source name (owned), NULL = absent */
    int file;             /* index file that holds it (-1: no index) */
    uint64_t off, soff, end;
    int sink;             /* 1 once a file has provided it */
    int filled;
} bl_cslot;

typedef struct {
    int slot, storage;
    uint64_t begin, end;
    int dtype, esize;
    uint8_t *row;         /* one source row while it is incomplete */
    size_t rowfill;
    int r, done;
    const char *src;      /* the slot's source name (messages) */
} bl_sink;

struct bl_conv {
    bl_conv_opts o;
    int failed;
    bl_err err;                 /* the first error, repeated by every later call */
    int have_config;
    bl_config cfg;
    /* tokenizer files as given, until the vocab is resolved */
    uint8_t *tf[3];             /* vocab.txt, tokenizer.json, tokenizer_config.json */
    size_t tfl[3];
    char *tfn[3];
    char *vocab;                /* tokens each followed by '\n' */
    size_t vlen;
    char *labels;               /* the task head's labels, each followed by '\n' (family.c) */
    size_t llen;
    uint8_t *tok;               /* tokenizer.json kept for the file (RoBERTa, ALBERT families) */
    size_t tlen;
    int prepared;
    /* the index: tensor name -> file */
    int have_index;
    char *index_name;
    char **inv;                 /* inventory of tensor names */
    int *inv_file;
    int ninv;
    char **files;
    int nfiles;
    int *file_seen;
    int nweights;               /* weights files begun */
    /* layout */
    int laid_out;
    bl_cslot *slots;
    int nslots, word_slot, dec_slot, tensors_done, tensors_total;
    uint8_t *out;
    size_t out_len;
    uint64_t toff, doff;
    bl_sha256_ctx hw, hd;
    int hash_dec, dec_same_source;
    /* the payload SHA-256, computed as the regions complete in layout order (while the rest
       downloads) when the layout is final, i.e. there is no decoder that may be dropped */
    bl_sha256_ctx hout;
    int progressive, hash_slot;
    uint64_t hash_pos;
    float *rowf;
    size_t rowf_cap;
    /* the current file */
    int kind, in_file, file_index;
    char fname[512];
    int64_t total;
    uint64_t got, bytes;
    /* safetensors */
    int st_state;
    uint8_t lenb[8];
    int nlen;
    uint64_t hl, max_end, data_pos;
    uint8_t *hdr;
    size_t nhdr;
    /* torch zip */
    bl_zip *zip;
    bl_pk_result pk;
    int have_pk, cur_storage;
    uint64_t storage_pos;
    int *storage_seen;
    char prefix[256];
    int entry_kind;             /* 1 data.pkl, 2 storage, 3 byteorder, 0 other */
    /* sinks of the current file, sorted by (storage, begin) */
    bl_sink *sinks;
    int nsinks, sb, se, first;
    size_t mem, peak;
    /* the float copy for the fidelity measurement (o.measure): a weights file of the same model
       without its heads, in ref_dt, filled row by row beside the output; ref_shared: the output
       itself is that copy (an f32 output, or f16 when only f16 fits) */
    int ref_dt, ref_shared, ref_nt;
    bl_fidelity fid;            /* BL_FID_MEMORY when no copy fits under o.max_bytes */
    bl_config ref_cfg;
    uint8_t *ref;
    size_t ref_len;
    uint64_t *ref_off;          /* [nslots]: a slot's data offset in the copy, 0 = not in it */
    uint64_t ref_toff, ref_doff;
};

/* ---------------------------------------------------------------- small helpers */
static void wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void wr64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint64_t rd64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static uint64_t align64(uint64_t x) { return (x + (BL_ALIGN - 1)) & ~(uint64_t)(BL_ALIGN - 1); }
static uint64_t dt_size(int dt) { return (uint64_t)bl_dtype_size(dt); }

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static char *dup_str(const char *s) {
    char *d = malloc(strlen(s) + 1);
    if (d) strcpy(d, s);
    return d;
}

/* Record the first error: every later call repeats it. */
static int cfail(bl_conv *c, bl_err *e) {
    c->failed = 1;
    if (e) c->err = *e;
    return -1;
}

static int cfailed(const bl_conv *c, bl_err *e) {
    if (e) *e = c->err;
    return -1;
}

static void mem_add(bl_conv *c, long long d) {
    c->mem = (size_t)((long long)c->mem + d);
    if (c->mem > c->peak) c->peak = c->mem;
}

/* ---------------------------------------------------------------- lifecycle */
bl_conv *bl_conv_new(const bl_conv_opts *o, bl_err *e) {
    int dt = o ? o->dtype : BL_DT_I8;
    if (dt < BL_DT_F32 || dt > BL_DT_I16) { bl_fail(e, "unknown dtype %d", dt); return NULL; }
    bl_conv *c = calloc(1, sizeof *c);
    if (!c) { bl_fail(e, "out of memory"); return NULL; }
    if (o) c->o = *o;
    c->o.dtype = dt;
    c->word_slot = c->dec_slot = -1;
    c->total = -1;
    return c;
}

static void free_file_state(bl_conv *c) {
    for (int i = 0; i < c->nsinks; i++) free(c->sinks[i].row);
    free(c->sinks);
    c->sinks = NULL;
    c->nsinks = c->sb = c->se = c->first = 0;
    free(c->hdr);
    c->hdr = NULL;
    bl_zip_free(c->zip);
    c->zip = NULL;
    bl_pk_result_free(&c->pk);
    c->have_pk = 0;
    free(c->storage_seen);
    c->storage_seen = NULL;
    c->in_file = 0;
}

void bl_conv_free(bl_conv *c) {
    if (!c) return;
    free_file_state(c);
    for (int i = 0; i < 3; i++) { free(c->tf[i]); free(c->tfn[i]); }
    free(c->vocab);
    free(c->labels);
    free(c->tok);
    free(c->index_name);
    for (int i = 0; i < c->ninv; i++) free(c->inv[i]);
    free(c->inv);
    free(c->inv_file);
    for (int i = 0; i < c->nfiles; i++) free(c->files[i]);
    free(c->files);
    free(c->file_seen);
    for (int i = 0; i < c->nslots; i++) free(c->slots[i].src);
    free(c->slots);
    free(c->out);
    free(c->rowf);
    free(c->ref);
    free(c->ref_off);
    free(c);
}

void bl_conv_get_progress(const bl_conv *c, bl_conv_progress *p) {
    memset(p, 0, sizeof *p);
    p->bytes = c->bytes;
    p->file_bytes = c->got;
    p->file_total = c->total;
    p->tensors_done = c->tensors_done;
    p->tensors_total = c->tensors_total;
    p->mem_bytes = c->mem + bl_zip_buffered(c->zip);
    p->peak_bytes = c->peak > p->mem_bytes ? c->peak : p->mem_bytes;
    p->out_bytes = c->out_len;
}

const char *bl_conv_file(const bl_conv *c, int i) {
    return i >= 0 && i < c->nfiles ? c->files[i] : NULL;
}

/* ---------------------------------------------------------------- config.json */
int bl_conv_set_config(bl_conv *c, const char *json, size_t len, bl_err *e) {
    if (c->failed) return cfailed(c, e);
    if (c->have_config) { bl_fail(e, "config.json given twice"); return cfail(c, e); }
    bl_err je;
    bl_json *j = bl_json_parse(json, len, &je);
    if (!j) { bl_fail(e, "config.json: %s", je.msg); return cfail(c, e); }
    bl_config *cf = &c->cfg;
    int rc = -1;
    if (j->type != BL_JSON_OBJ) { bl_fail(e, "config.json: not a JSON object"); goto done; }
    if (bl_family_config(j, cf, &c->labels, &c->llen, e) < 0) goto done;
    bl_err ce;
    if (bl_config_check(cf, &ce) < 0) { bl_fail(e, "config.json: %s", ce.msg); goto done; }
    c->have_config = 1;
    rc = 0;
done:
    bl_json_free(j);
    return rc < 0 ? cfail(c, e) : 0;
}

/* ---------------------------------------------------------------- tokenizer files */
int bl_conv_set_tokenizer_file(bl_conv *c, const char *name, const uint8_t *bytes, size_t len, bl_err *e) {
    if (c->failed) return cfailed(c, e);
    const char *b = base_name(name);
    int k = !strcmp(b, "vocab.txt") ? 0 : !strcmp(b, "tokenizer.json") ? 1 : !strcmp(b, "tokenizer_config.json") ? 2
          : !strcmp(b, "special_tokens_map.json") ? 3 : -1;
    if (k < 0) {
        bl_fail(e, "%s: not a tokenizer file (vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json)", name);
        return cfail(c, e);
    }
    if (c->prepared) { bl_fail(e, "%s: the tokenizer files must come before the weights", name); return cfail(c, e); }
    if (k == 3) return 0;   /* BertTokenizer's special tokens are fixed ([CLS], [SEP], [MASK], ...) */
    if (len > (256u << 20)) { bl_fail(e, "%s: %zu bytes is too large for a tokenizer file", name, len); return cfail(c, e); }
    free(c->tf[k]);
    free(c->tfn[k]);
    c->tf[k] = malloc(len + 1);
    c->tfn[k] = dup_str(name);
    if (!c->tf[k] || !c->tfn[k]) { bl_fail(e, "%s: out of memory", name); return cfail(c, e); }
    if (len) memcpy(c->tf[k], bytes, len);
    c->tf[k][len] = 0;
    c->tfl[k] = len;
    return 0;
}

static bl_json *tok_json(bl_conv *c, int k, bl_err *e) {
    bl_err je;
    bl_json *j = bl_json_parse((const char *)c->tf[k], c->tfl[k], &je);
    if (!j) bl_fail(e, "%s: %s", c->tfn[k], je.msg);
    else if (j->type != BL_JSON_OBJ) { bl_fail(e, "%s: not a JSON object", c->tfn[k]); bl_json_free(j); j = NULL; }
    return j;
}

static int json_flag(const bl_json *j, const char *path, const char *key, int *out, int allow_null, bl_err *e) {
    const bl_json *v = bl_json_get(j, key);
    if (!v) return 0;
    if (v->type == BL_JSON_BOOL) { *out = v->boolean; return 0; }
    if (allow_null && v->type == BL_JSON_NULL) { *out = -1; return 0; }
    return bl_fail(e, "%s: '%s' must be true or false%s", path, key, allow_null ? " or null" : "");
}

static int unigram_vocab(bl_conv *c, const char *vname, const bl_json *voc, int *count, bl_err *e) {
    size_t total = 0;
    for (const bl_json *t = voc->child; t; t = t->next) {
        const bl_json *piece = t->type == BL_JSON_ARR ? t->child : NULL;
        if (!piece || piece->type != BL_JSON_STR)
            return bl_fail(e, "%s: model.vocab entries must be [piece, score]", vname);
        if (memchr(piece->str, '\n', piece->len) || memchr(piece->str, '\r', piece->len) || strlen(piece->str) != piece->len)
            return bl_fail(e, "%s: vocab piece '%.60s' contains a line break or NUL", vname, piece->str);
        total += piece->len + 1;
    }
    char *v = malloc(total + 1);
    if (!v) return bl_fail(e, "%s: out of memory", vname);
    size_t o = 0;
    for (const bl_json *t = voc->child; t; t = t->next) {
        memcpy(v + o, t->child->str, t->child->len);
        o += t->child->len;
        v[o++] = '\n';
    }
    c->vocab = v;
    c->vlen = o;
    *count = voc->n;
    return 0;
}

/* The id of a token in the vocab being built (tokens each followed by '\n'), -1 if absent. */
static int vocab_find(const bl_conv *c, const char *tok, size_t n) {
    int id = 0;
    for (size_t i = 0; i < c->vlen; id++) {
        const char *nl = memchr(c->vocab + i, '\n', c->vlen - i);
        size_t l = (size_t)(nl - (c->vocab + i));
        if (l == n && !memcmp(c->vocab + i, tok, n)) return id;
        i += l + 1;
    }
    return -1;
}

/* Special token ids: tokenizer_config.json's cls_token, sep_token, pad_token, mask_token and
   unk_token (a string or {"content": ...}) where given, else the family's defaults ([CLS] ...
   or <s> ...), each looked up in the vocab (-1 when absent). RoBERTa's pad id comes from
   config.json's pad_token_id, which its positions are counted from. */
static int special_ids(bl_conv *c, bl_err *e) {
    bl_config *cf = &c->cfg;
    static const char *keys[5] = {"cls_token", "sep_token", "pad_token", "mask_token", "unk_token"};
    int *ids[5] = {&cf->cls_id, &cf->sep_id, &cf->pad_id, &cf->mask_id, &cf->unk_id};
    bl_json *tc = NULL;
    if (c->tf[2]) {
        bl_err je;
        tc = bl_json_parse((const char *)c->tf[2], c->tfl[2], &je);
    }
    for (int r = 0; r < 5; r++) {
        if (r == 2 && cf->pos_offset) continue;
        const bl_json *v = tc && tc->type == BL_JSON_OBJ ? bl_json_get(tc, keys[r]) : NULL;
        if (v && v->type == BL_JSON_OBJ) v = bl_json_get(v, "content");
        const char *tok = v && v->type == BL_JSON_STR ? v->str : bl_family_default_special(cf->family, r);
        size_t tl = v && v->type == BL_JSON_STR ? v->len : strlen(tok);
        *ids[r] = vocab_find(c, tok, tl);
    }
    bl_json_free(tc);
    if (cf->pos_offset && cf->pad_id >= cf->vocab_size)
        return bl_fail(e, "config.json: pad_token_id %d is not in the vocab (%d tokens)", cf->pad_id, cf->vocab_size);
    bl_err ce;
    if (bl_config_check(cf, &ce) < 0) return bl_fail(e, "config.json: %s", ce.msg);
    return 0;
}

/* The tokenizer flags (tokenizer_config.json, else tokenizer.json's BertNormalizer) and the
   vocab (vocab.txt, else tokenizer.json's model.vocab), as bertlens stores them. */
static int prepare(bl_conv *c, bl_err *e) {
    if (c->prepared) return 0;
    if (!c->have_config) return bl_fail(e, "config.json must be given before the weights");
    bl_config *cf = &c->cfg;
    if (c->tf[2]) {
        bl_json *j = tok_json(c, 2, e);
        if (!j) return -1;
        int rc = json_flag(j, c->tfn[2], "do_lower_case", &cf->lowercase, 0, e) < 0 ||
                 json_flag(j, c->tfn[2], "strip_accents", &cf->strip_accents, 1, e) < 0 ||
                 json_flag(j, c->tfn[2], "tokenize_chinese_chars", &cf->chinese_chars, 0, e) < 0 ? -1 : 0;
        bl_json_free(j);
        if (rc < 0) return -1;
    } else if (c->tf[1]) {
        bl_json *j = tok_json(c, 1, e);
        if (!j) return -1;
        const bl_json *nz = bl_json_get(j, "normalizer");
        const char *t = bl_json_get_str(nz, "type");
        int rc = 0;
        if (t && !strcmp(t, "BertNormalizer"))
            rc = json_flag(nz, c->tfn[1], "lowercase", &cf->lowercase, 0, e) < 0 ||
                 json_flag(nz, c->tfn[1], "strip_accents", &cf->strip_accents, 1, e) < 0 ||
                 json_flag(nz, c->tfn[1], "handle_chinese_chars", &cf->chinese_chars, 0, e) < 0 ? -1 : 0;
        bl_json_free(j);
        if (rc < 0) return -1;
    }
    int count = 0;
    const char *vname;
    if (c->tf[0]) {
        /* lines end in \n, \r\n or \r (Python's universal newlines, as HF's load_vocab reads) */
        const uint8_t *b = c->tf[0];
        size_t n = c->tfl[0], o = 0;
        vname = c->tfn[0];
        char *v = malloc(n + 2);
        if (!v) return bl_fail(e, "%s: out of memory", vname);
        for (size_t i = 0; i < n; i++) {
            if (b[i] == '\r' || b[i] == '\n') {
                if (b[i] == '\r' && i + 1 < n && b[i + 1] == '\n') i++;
                v[o++] = '\n';
                count++;
            } else v[o++] = (char)b[i];
        }
        if (n && b[n - 1] != '\n' && b[n - 1] != '\r') { v[o++] = '\n'; count++; }
        c->vocab = v;
        c->vlen = o;
    } else if (c->tf[1]) {
        vname = c->tfn[1];
        bl_json *j = tok_json(c, 1, e);
        if (!j) return -1;
        const bl_json *voc = bl_json_get(bl_json_get(j, "model"), "vocab");
        if (voc && voc->type == BL_JSON_ARR && voc->n >= 1) {
            /* Unigram (XLM-R, CamemBERT, ALBERT): [[piece, score], ...] in id order */
            int rc = unigram_vocab(c, vname, voc, &count, e);
            bl_json_free(j);
            if (rc < 0) return -1;
            goto have_vocab;
        }
        if (!voc || voc->type != BL_JSON_OBJ || voc->n < 1) {
            bl_json_free(j);
            return bl_fail(e, "%s: no model.vocab (neither a token -> id object nor a Unigram list)", vname);
        }
        const bl_json **by_id = calloc((size_t)voc->n, sizeof *by_id);
        size_t total = 0;
        int rc = -1;
        if (!by_id) { bl_fail(e, "%s: out of memory", vname); goto vdone; }
        for (const bl_json *t = voc->child; t; t = t->next) {
            if (t->type != BL_JSON_NUM || !t->is_int || t->i64 < 0 || t->i64 >= voc->n || by_id[t->i64]) {
                bl_fail(e, "%s: model.vocab ids must be 0..%d, each once (token '%.60s')", vname, voc->n - 1, t->key);
                goto vdone;
            }
            if (memchr(t->key, '\n', t->key_len) || memchr(t->key, '\r', t->key_len) || strlen(t->key) != t->key_len) {
                bl_fail(e, "%s: vocab token %lld contains a line break or NUL", vname, t->i64);
                goto vdone;
            }
            by_id[t->i64] = t;
            total += t->key_len + 1;
        }
        char *v = malloc(total + 1);
        if (!v) { bl_fail(e, "%s: out of memory", vname); goto vdone; }
        size_t o = 0;
        for (int i = 0; i < voc->n; i++) {
            memcpy(v + o, by_id[i]->key, by_id[i]->key_len);
            o += by_id[i]->key_len;
            v[o++] = '\n';
        }
        c->vocab = v;
        c->vlen = o;
        count = voc->n;
        rc = 0;
    vdone:
        free(by_id);
        bl_json_free(j);
        if (rc < 0) return -1;
    } else {
        return bl_fail(e, "no vocab.txt or tokenizer.json: the tokenizer must be given before the weights");
    }
have_vocab:
    if (count != cf->vocab_size)
        return bl_fail(e, "%s has %d tokens, config.json vocab_size is %d", vname, count, cf->vocab_size);
    if (special_ids(c, e) < 0) return -1;
    /* these families' vocab is no WordPiece vocab: the file keeps tokenizer.json, verbatim */
    if ((cf->family == BL_FAMILY_ROBERTA || cf->family == BL_FAMILY_ALBERT) && c->tf[1]) {
        c->tok = c->tf[1];
        c->tlen = c->tfl[1];
        c->tf[1] = NULL;
    }
    for (int k = 0; k < 3; k++) { free(c->tf[k]); c->tf[k] = NULL; }
    c->prepared = 1;
    return 0;
}

/* ---------------------------------------------------------------- the shard index */
static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int bl_conv_set_index(bl_conv *c, const char *name, const char *json, size_t len, bl_err *e) {
    if (c->failed) return cfailed(c, e);
    if (c->have_index || c->nweights) { bl_fail(e, "%s: the index must come once, before the weights", name); return cfail(c, e); }
    bl_err je;
    bl_json *j = bl_json_parse(json, len, &je);
    if (!j) { bl_fail(e, "%s: %s", name, je.msg); return cfail(c, e); }
    const bl_json *wm = bl_json_get(j, "weight_map");
    int rc = -1;
    if (!wm || wm->type != BL_JSON_OBJ || wm->n < 1) { bl_fail(e, "%s: no \"weight_map\" object", name); goto done; }
    c->inv = calloc((size_t)wm->n, sizeof *c->inv);
    c->inv_file = calloc((size_t)wm->n, sizeof *c->inv_file);
    c->files = calloc((size_t)wm->n, sizeof *c->files);
    c->index_name = dup_str(name);
    if (!c->inv || !c->inv_file || !c->files || !c->index_name) { bl_fail(e, "%s: out of memory", name); goto done; }
    for (const bl_json *t = wm->child; t; t = t->next) {
        const char *f = bl_json_str(t);
        if (!f || strlen(f) != t->len || !*f || strchr(f, '/') || strchr(f, '\\') || !strcmp(f, ".") || !strcmp(f, "..") ||
            strlen(f) > 200 || !(ends_with(f, ".safetensors") || ends_with(f, ".bin"))) {
            bl_fail(e, "%s: weight_map['%.80s'] is not a .safetensors or .bin file name", name, t->key);
            goto done;
        }
        if (strlen(t->key) != t->key_len) { bl_fail(e, "%s: a tensor name contains a NUL byte", name); goto done; }
        int fi = -1;
        for (int i = 0; i < c->nfiles; i++)
            if (!strcmp(c->files[i], f)) fi = i;
        if (fi < 0) {
            if (!(c->files[c->nfiles] = dup_str(f))) { bl_fail(e, "%s: out of memory", name); goto done; }
            c->nfiles++;
        }
        if (!(c->inv[c->ninv] = dup_str(t->key))) { bl_fail(e, "%s: out of memory", name); goto done; }
        c->ninv++;
    }
    qsort(c->files, (size_t)c->nfiles, sizeof *c->files, name_cmp);
    int k = 0;
    for (const bl_json *t = wm->child; t; t = t->next, k++)
        for (int i = 0; i < c->nfiles; i++)
            if (!strcmp(c->files[i], t->str)) c->inv_file[k] = i;
    c->file_seen = calloc((size_t)c->nfiles, sizeof *c->file_seen);
    if (!c->file_seen) { bl_fail(e, "%s: out of memory", name); goto done; }
    c->have_index = 1;
    rc = 0;
done:
    bl_json_free(j);
    return rc < 0 ? cfail(c, e) : 0;
}

/* ---------------------------------------------------------------- layout */
static int inv_find(const bl_conv *c, const char *n) {
    for (int i = 0; i < c->ninv; i++)
        if (!strcmp(c->inv[i], n)) return i;
    return -1;
}

/* A canonical name under any of its family's checkpoint spellings (family.c: with and
   without the family prefix, LayerNorm gamma/beta; the first spelling present wins). */
static int inv_lookup(const bl_conv *c, const char *canon) {
    char alt[8][BL_SRC_NAME];
    int n = bl_family_sources(&c->cfg, canon, alt, 8);
    for (int k = 0; k < n; k++) {
        int i = inv_find(c, alt[k]);
        if (i >= 0) return i;
    }
    return -1;
}

static void put_header(bl_conv *c, int nt, uint64_t size) {
    bl_header_put(c->out, &c->cfg, c->o.dtype, nt, size, c->vlen, c->llen, c->tlen, c->toff, c->doff);
}

/* The inventory of names is known: choose each canonical tensor's source and place it. */
/* The float copy's layout (bl_model_write's, for the copy's config: no MLM or task head, whose
   weights the attention never reads) in dtype dt; returns its size. */
static uint64_t ref_layout(bl_conv *c, int dt) {
    c->ref_cfg = c->cfg;
    c->ref_cfg.has_mlm = 0;
    c->ref_cfg.head = BL_HEAD_NONE;
    c->ref_cfg.n_labels = 0;
    c->ref_cfg.head_sigmoid = 0;
    c->ref_cfg.has_fidelity = 0;
    c->ref_nt = 0;
    for (int i = 0; i < c->nslots; i++) c->ref_nt += c->slots[i].kind == 0 && strncmp(c->slots[i].name, "classifier.", 11);
    c->ref_toff = align64(bl_header_size(&c->ref_cfg, dt) + c->vlen);
    c->ref_doff = align64(c->ref_toff + (uint64_t)c->ref_nt * BL_ENTRY);
    uint64_t pos = c->ref_doff;
    for (int i = 0; i < c->nslots; i++) {
        const bl_cslot *s = &c->slots[i];
        c->ref_off[i] = 0;
        if (s->kind != 0 || !strncmp(s->name, "classifier.", 11)) continue;
        pos = align64(pos);
        c->ref_off[i] = pos;
        pos += (uint64_t)s->rows * (uint64_t)s->cols * dt_size(s->matrix ? dt : BL_DT_F32);
    }
    return pos;
}

/* Choose the float copy: f32, else f16, within o.max_bytes beside an output of out_need bytes;
   the output itself when it is already that dtype. None fits: BL_FID_MEMORY, and no copy. */
static int ref_choose(bl_conv *c, uint64_t out_need, bl_err *e) {
    c->ref_dt = -1;
    if (!c->o.measure) return 0;
    c->ref_off = calloc((size_t)c->nslots, sizeof *c->ref_off);
    if (!c->ref_off) return bl_fail(e, "out of memory");
    const int dts[2] = {BL_DT_F32, BL_DT_F16};
    uint64_t size = 0;
    for (int k = 0; k < 2; k++) {
        if (c->o.dtype == dts[k]) { c->ref_dt = dts[k]; c->ref_shared = 1; c->fid.ref_bytes = 0; return 0; }
        size = ref_layout(c, dts[k]);
        if (size < (uint64_t)SIZE_MAX / 4 && (!c->o.max_bytes || out_need + size <= c->o.max_bytes)) {
            c->ref_dt = dts[k];
            break;
        }
    }
    if (c->ref_dt < 0) {
        c->fid.status = BL_FID_MEMORY;
        c->fid.ref_bytes = size;   /* the f16 copy's, the smaller */
        c->fid.limit_bytes = c->o.max_bytes;
        return 0;
    }
    c->ref = calloc(1, (size_t)size);
    if (!c->ref) return bl_fail(e, "out of memory for the float copy (%.1f MB)", (double)size / 1048576.0);
    c->ref_len = (size_t)size;
    c->fid.ref_bytes = size;
    mem_add(c, (long long)size);
    bl_header_put(c->ref, &c->ref_cfg, c->ref_dt, c->ref_nt, size, c->vlen, 0, 0, c->ref_toff, c->ref_doff);
    if (c->vlen) memcpy(c->ref + bl_header_size(&c->ref_cfg, c->ref_dt), c->vocab, c->vlen);
    for (int i = 0, j = 0; i < c->nslots; i++) {
        const bl_cslot *s = &c->slots[i];
        if (!c->ref_off[i]) continue;
        uint8_t *te = c->ref + c->ref_toff + (size_t)j++ * BL_ENTRY;
        memcpy(te, s->name, strlen(s->name));
        wr32(te + 96, (uint32_t)(s->matrix ? c->ref_dt : BL_DT_F32));
        wr32(te + 100, (uint32_t)s->rows);
        wr32(te + 104, (uint32_t)s->cols);
        wr64(te + 112, c->ref_off[i]);
    }
    return 0;
}

/* A converted row also goes to the float copy. */
static void ref_row(bl_conv *c, const bl_sink *k, const float *f, int n) {
    if (!c->ref || !c->ref_off[k->slot]) return;
    const int dt = c->slots[k->slot].matrix ? c->ref_dt : BL_DT_F32;
    uint8_t *d = c->ref + c->ref_off[k->slot] + (size_t)k->r * (size_t)n * dt_size(dt);
    if (dt == BL_DT_F32) memcpy(d, f, 4 * (size_t)n);
    else
        for (int i = 0; i < n; i++) {
            uint16_t h = bl_f32_to_f16(f[i]);
            d[2 * i] = (uint8_t)h;
            d[2 * i + 1] = (uint8_t)(h >> 8);
        }
}

/* All rows are in: measure the output (its header written, its checksum not yet) against the
   float copy and fill its fidelity record; then drop the copy. */
static void measure(bl_conv *c, size_t size) {
    bl_fidelity f = c->fid;
    if (c->ref_dt >= 0) {
        bl_err e;
        bl_model *m = bl_model_load(c->out, size, BL_LOAD_SKIP_CHECKSUM, &e);
        bl_model *r = c->ref_shared ? m : c->ref ? bl_model_load(c->ref, c->ref_len, BL_LOAD_SKIP_CHECKSUM, &e) : NULL;
        uint64_t rb = f.ref_bytes;
        if (!m || !r || bl_fidelity_measure(m, r, BL_PREC_NATIVE, &f, &e) < 0) f.status = BL_FID_FAILED;
        f.ref_bytes = rb;
        if (r != m) bl_model_free(r);
        bl_model_free(m);
    }
    if (c->ref) { free(c->ref); mem_add(c, -(long long)c->ref_len); c->ref = NULL; }
    c->fid = f;
    bl_fidelity_put(c->out + c->toff - BL_FID_BYTES, &f);
}

static int layout(bl_conv *c, const char *where, int drop_decoder, bl_err *e) {
    bl_config *cf = &c->cfg;
    cf->has_mlm = inv_lookup(c, "cls.predictions.transform.dense.weight") >= 0;
    cf->has_fidelity = c->o.measure ? 1 : 0;
    bl_err ce;
    if (bl_config_check(cf, &ce) < 0) return bl_fail(e, "config.json: %s", ce.msg);
    int cap = 17 + 16 * bl_stored_layers(cf);
    c->slots = calloc((size_t)cap, sizeof *c->slots);
    if (!c->slots) return bl_fail(e, "out of memory");
    char name[96];
    int rows, cols, kind;
    for (int i = 0; bl_canonical_tensor(cf, i, name, sizeof name, &rows, &cols, &kind) == 0; i++) {
        if (kind != 0 && !cf->has_mlm) continue;
        int s = inv_lookup(c, name);
        if (s < 0 && !strcmp(name, "cls.predictions.bias")) s = inv_find(c, "cls.predictions.decoder.bias");
        if (kind == 2 && drop_decoder) continue;   /* the word embeddings' own bytes: tied */
        if (s < 0) {
            if (kind == 2) continue;   /* decoder absent: tied */
            char alt[8][BL_SRC_NAME];
            int na = bl_family_sources(cf, name, alt, 8);
            return bl_fail(e, "%s: missing tensor '%s' (also tried the %s. prefix%s)", where, na ? alt[0] : name,
                           bl_family_name(cf->family), strstr(name, "LayerNorm.") ? " and gamma/beta" : "");
        }
        bl_cslot *sl = &c->slots[c->nslots];
        snprintf(sl->name, sizeof sl->name, "%s", name);
        sl->rows = rows;
        sl->cols = cols;
        sl->kind = kind;
        sl->matrix = bl_tensor_is_matrix(name);
        sl->dt = bl_stored_dtype(name, c->o.dtype);
        sl->src = dup_str(c->inv[s]);
        sl->file = c->have_index ? c->inv_file[s] : -1;
        if (!sl->src) return bl_fail(e, "out of memory");
        if (!strcmp(name, "embeddings.word_embeddings.weight")) c->word_slot = c->nslots;
        if (kind == 2) c->dec_slot = c->nslots;
        c->nslots++;
    }
    /* the same layout as bl_model_write */
    c->toff = align64(bl_header_size(cf, c->o.dtype) + c->vlen + c->llen + c->tlen);
    if (cf->has_fidelity) c->toff += BL_FID_BYTES;   /* the record, filled by measure() */
    c->doff = align64(c->toff + (uint64_t)c->nslots * BL_ENTRY);
    uint64_t pos = c->doff;
    size_t maxrow = 0;
    for (int i = 0; i < c->nslots; i++) {
        bl_cslot *s = &c->slots[i];
        pos = align64(pos);
        s->off = pos;
        pos += (uint64_t)s->rows * (uint64_t)s->cols * dt_size(s->dt);
        if (bl_dtype_scaled(s->dt)) {
            pos = align64(pos);
            s->soff = pos;
            pos += (uint64_t)s->rows * 4;
        }
        s->end = pos;
        if ((size_t)s->cols > maxrow) maxrow = (size_t)s->cols;
    }
    /* one source row (at most 4 bytes an element) and its f32 widening */
    uint64_t need = pos + 8 * (uint64_t)maxrow;
    if (pos > (uint64_t)SIZE_MAX / 2 || (c->o.max_bytes && need > c->o.max_bytes))
        return bl_fail(e, "the converted model needs %.1f MB, above the limit of %.1f MB", (double)need / 1048576.0,
                       (double)c->o.max_bytes / 1048576.0);
    if (ref_choose(c, need, e) < 0) return -1;
    c->out = calloc(1, (size_t)pos);
    c->rowf = malloc(sizeof(float) * (maxrow ? maxrow : 1));
    if (!c->out || !c->rowf)
        return bl_fail(e, "out of memory for the converted model (%.1f MB)", (double)pos / 1048576.0);
    c->rowf_cap = maxrow;
    c->out_len = (size_t)pos;
    mem_add(c, (long long)pos + (long long)(4 * maxrow));
    put_header(c, c->nslots, pos);
    if (c->vlen) memcpy(c->out + bl_header_size(cf, c->o.dtype), c->vocab, c->vlen);
    if (c->llen) memcpy(c->out + bl_header_size(cf, c->o.dtype) + c->vlen, c->labels, c->llen);
    if (c->tlen) memcpy(c->out + bl_header_size(cf, c->o.dtype) + c->vlen + c->llen, c->tok, c->tlen);
    for (int i = 0; i < c->nslots; i++) {
        const bl_cslot *s = &c->slots[i];
        uint8_t *te = c->out + c->toff + (size_t)i * BL_ENTRY;
        memcpy(te, s->name, strlen(s->name));
        wr32(te + 96, (uint32_t)s->dt);
        wr32(te + 100, (uint32_t)s->rows);
        wr32(te + 104, (uint32_t)s->cols);
        wr64(te + 112, s->off);
        wr64(te + 120, s->soff);
    }
    c->tensors_total = c->nslots;
    bl_sha256_init(&c->hw);
    bl_sha256_init(&c->hd);
    bl_sha256_init(&c->hout);
    c->progressive = c->dec_slot < 0 && !c->o.measure;   /* the record is written last */
    c->hash_pos = BL_HDR_FIXED;
    c->hash_slot = 0;
    c->laid_out = 1;
    return 0;
}

/* ---------------------------------------------------------------- sinks: tensors being converted */
static int sink_cmp(const void *a, const void *b) {
    const bl_sink *x = a, *y = b;
    if (x->storage != y->storage) return x->storage < y->storage ? -1 : 1;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : x->slot - y->slot;
}

static void shape_str(const bl_src_tensor *t, char *got, size_t n) {
    snprintf(got, n, "[");
    for (int i = 0; i < t->ndim; i++)
        snprintf(got + strlen(got), n - strlen(got), "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    snprintf(got + strlen(got), n - strlen(got), "]");
}

/* A file's tensors are known: attach a sink to every slot whose source is among them, after
   checking its shape and dtype (in canonical order, so the first problem is reported). */
static int attach(bl_conv *c, const bl_src_tensor *t, int n, bl_err *e) {
    c->sinks = calloc((size_t)c->nslots + 1, sizeof *c->sinks);
    if (!c->sinks) return bl_fail(e, "%s: out of memory", c->fname);
    for (int i = 0; i < c->nslots; i++) {
        bl_cslot *s = &c->slots[i];
        const bl_src_tensor *st = NULL;
        for (int k = 0; k < n && !st; k++)
            if (!strcmp(t[k].name, s->src)) st = &t[k];
        if (!st) {
            if (c->have_index && s->file == c->file_index)
                return bl_fail(e, "%s: tensor '%s' is listed in %s but not in the file", c->fname, s->src, c->index_name);
            continue;
        }
        if (s->sink) return bl_fail(e, "%s: tensor '%s' was already read from another file", c->fname, s->src);
        int vector = !s->matrix;
        int ok = vector ? st->ndim == 1 && st->shape[0] == s->cols
                        : st->ndim == 2 && st->shape[0] == s->rows && st->shape[1] == s->cols;
        if (!ok) {
            char got[160];
            shape_str(st, got, sizeof got);
            if (vector) return bl_fail(e, "%s: tensor '%s': expected shape [%d], got %s", c->fname, st->name, s->cols, got);
            return bl_fail(e, "%s: tensor '%s': expected shape [%d, %d], got %s", c->fname, st->name, s->rows, s->cols, got);
        }
        if (st->dtype == BL_SRC_OTHER)
            return bl_fail(e, "%s: tensor '%s': dtype %s is not supported (F32, F16, BF16)", c->fname, st->name, st->dtname);
        bl_sink *k = &c->sinks[c->nsinks++];
        k->slot = i;
        k->storage = st->storage;
        k->begin = st->begin;
        k->end = st->end;
        k->dtype = st->dtype;
        k->esize = st->esize;
        k->src = s->src;
        s->sink = 1;
    }
    qsort(c->sinks, (size_t)c->nsinks, sizeof *c->sinks, sink_cmp);
    /* the decoder read from the very bytes of the word embeddings (torch's shared storage) is
       tied without hashing either */
    if (c->dec_slot >= 0 && c->word_slot >= 0) {
        const bl_sink *w = NULL, *d = NULL;
        for (int i = 0; i < c->nsinks; i++) {
            if (c->sinks[i].slot == c->word_slot) w = &c->sinks[i];
            if (c->sinks[i].slot == c->dec_slot) d = &c->sinks[i];
        }
        if (w && d && w->storage == d->storage && w->storage >= 0 && w->begin == d->begin && w->end == d->end &&
            w->dtype == d->dtype)
            c->dec_same_source = 1;
    }
    c->hash_dec = c->dec_slot >= 0 && !c->dec_same_source;
    return 0;
}

/* Hash the output up to the end of the leading run of completed tensors. */
static void hash_advance(bl_conv *c) {
    while (c->progressive && c->hash_slot < c->nslots && c->slots[c->hash_slot].filled) {
        uint64_t end = c->slots[c->hash_slot].end;
        bl_sha256_update(&c->hout, c->out + c->hash_pos, (size_t)(end - c->hash_pos));
        c->hash_pos = end;
        c->hash_slot++;
    }
}

/* One complete source row of sink k: widen to f32, check, hash, store. */
static int put_row(bl_conv *c, bl_sink *k, const uint8_t *p, bl_err *e) {
    bl_cslot *s = &c->slots[k->slot];
    int n = s->cols;
    float *f = c->rowf;
    if (k->dtype == BL_SRC_F32) memcpy(f, p, 4 * (size_t)n);   /* little-endian host (model_file.c) */
    else if (k->dtype == BL_SRC_F16)
        for (int i = 0; i < n; i++) f[i] = bl_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
    else
        for (int i = 0; i < n; i++) {
            uint32_t u = (uint32_t)(p[2 * i] | p[2 * i + 1] << 8) << 16;   /* bf16: the top half of an f32 */
            memcpy(&f[i], &u, 4);
        }
    for (int i = 0; i < n; i++)
        if (!isfinite(f[i]))
            return bl_fail(e, "%s: tensor '%s': element %zu is NaN or infinite", c->fname, k->src,
                           (size_t)k->r * (size_t)n + (size_t)i);
    if (c->hash_dec && k->slot == c->word_slot) bl_sha256_update(&c->hw, f, 4 * (size_t)n);
    if (c->hash_dec && k->slot == c->dec_slot) bl_sha256_update(&c->hd, f, 4 * (size_t)n);
    ref_row(c, k, f, n);
    uint8_t *d = c->out + s->off + (size_t)k->r * (size_t)n * dt_size(s->dt);
    if (s->dt == BL_DT_F32) memcpy(d, f, 4 * (size_t)n);
    else if (s->dt == BL_DT_F16)
        for (int i = 0; i < n; i++) {
            uint16_t h = bl_f32_to_f16(f[i]);
            d[2 * i] = (uint8_t)h;
            d[2 * i + 1] = (uint8_t)(h >> 8);
        }
    else {
        float sc;
        if (s->dt == BL_DT_I16) bl_quantize_row_i16(f, n, (int16_t *)d, &sc);   /* little-endian host */
        else bl_quantize_row(f, n, (int8_t *)d, &sc);
        memcpy(c->out + s->soff + 4 * (size_t)k->r, &sc, 4);
    }
    if (++k->r == s->rows) {
        k->done = 1;
        s->filled = 1;
        c->tensors_done++;
        if (k->row) { free(k->row); k->row = NULL; mem_add(c, -(long long)((size_t)n * (size_t)k->esize)); }
        hash_advance(c);
    }
    return 0;
}

static int sink_bytes(bl_conv *c, bl_sink *k, const uint8_t *p, size_t n, bl_err *e) {
    size_t rb = (size_t)c->slots[k->slot].cols * (size_t)k->esize;
    while (n > 0 && !k->done) {
        if (k->rowfill == 0 && n >= rb) {   /* a whole row in the chunk: no copy */
            if (put_row(c, k, p, e) < 0) return -1;
            p += rb;
            n -= rb;
            continue;
        }
        if (!k->row) {
            if (!(k->row = malloc(rb))) return bl_fail(e, "%s: out of memory", c->fname);
            mem_add(c, (long long)rb);
        }
        size_t t = rb - k->rowfill < n ? rb - k->rowfill : n;
        memcpy(k->row + k->rowfill, p, t);
        k->rowfill += t;
        p += t;
        n -= t;
        if (k->rowfill == rb) {
            k->rowfill = 0;
            if (put_row(c, k, k->row, e) < 0) return -1;
        }
    }
    return 0;
}

/* Bytes [pos, pos+n) of the stream that sinks [sb, se) read from. */
static int feed(bl_conv *c, uint64_t pos, const uint8_t *p, size_t n, bl_err *e) {
    uint64_t end = pos + n;
    for (int i = c->first; i < c->se && c->sinks[i].begin < end; i++) {
        bl_sink *k = &c->sinks[i];
        if (k->done || k->end <= pos) continue;
        uint64_t lo = k->begin > pos ? k->begin : pos, hi = k->end < end ? k->end : end;
        if (sink_bytes(c, k, p + (lo - pos), (size_t)(hi - lo), e) < 0) return -1;
    }
    while (c->first < c->se && c->sinks[c->first].done) c->first++;
    return 0;
}

/* ---------------------------------------------------------------- files */
static int zip_begin(void *user, const char *name, int64_t *size, int *buffer, bl_err *e);
static int zip_data(void *user, const uint8_t *p, size_t n, bl_err *e);
static int zip_end(void *user, const uint8_t *whole, size_t n, bl_err *e);

static int use_inventory(bl_conv *c, const bl_src_tensor *t, int n, bl_err *e) {
    if (c->laid_out) return 0;
    c->inv = calloc((size_t)n + 1, sizeof *c->inv);
    if (!c->inv) return bl_fail(e, "out of memory");
    for (int i = 0; i < n; i++) {
        if (!(c->inv[i] = dup_str(t[i].name))) return bl_fail(e, "out of memory");
        c->ninv++;
    }
    /* torch.save keeps a tied decoder as a second view of the word embeddings' storage: then it
       is tied whatever its values, and it is left out of the layout from the start */
    int drop = 0, wi = inv_lookup(c, "embeddings.word_embeddings.weight"), di = inv_lookup(c, "cls.predictions.decoder.weight");
    if (wi >= 0 && di >= 0) {
        const bl_src_tensor *w = NULL, *d = NULL;
        for (int i = 0; i < n; i++) {
            if (!strcmp(t[i].name, c->inv[wi])) w = &t[i];
            if (!strcmp(t[i].name, c->inv[di])) d = &t[i];
        }
        drop = w && d && w->storage >= 0 && w->storage == d->storage && w->begin == d->begin && w->end == d->end &&
               w->dtype == d->dtype && w->ndim == d->ndim && !memcmp(w->shape, d->shape, sizeof w->shape);
    }
    return layout(c, c->fname, drop, e);
}

int bl_conv_begin_file(bl_conv *c, const char *name, int64_t total, bl_err *e) {
    if (c->failed) return cfailed(c, e);
    const char *b = base_name(name);
    if (c->in_file) { bl_fail(e, "%s: begun before '%s' was ended", name, c->fname); return cfail(c, e); }
    snprintf(c->fname, sizeof c->fname, "%s", name);
    int kind = ends_with(b, ".safetensors") ? K_ST : ends_with(b, ".bin") ? K_PT : K_NONE;
    if (kind == K_NONE) {
        bl_fail(e, "%s: not a weights file (model.safetensors, model-*-of-*.safetensors, pytorch_model.bin)", name);
        return cfail(c, e);
    }
    c->file_index = -1;
    if (c->have_index) {
        for (int i = 0; i < c->nfiles; i++)
            if (!strcmp(c->files[i], b)) c->file_index = i;
        if (c->file_index < 0) { bl_fail(e, "%s: not listed in %s", name, c->index_name); return cfail(c, e); }
        if (c->file_seen[c->file_index]) { bl_fail(e, "%s: given twice", name); return cfail(c, e); }
        c->file_seen[c->file_index] = 1;
    } else if (c->nweights) {
        bl_fail(e, "%s: a second weights file without an index (model.safetensors.index.json)", name);
        return cfail(c, e);
    }
    if (prepare(c, e) < 0) return cfail(c, e);
    if (c->have_index && !c->laid_out && layout(c, c->index_name, 0, e) < 0) return cfail(c, e);
    c->nweights++;
    c->kind = kind;
    c->total = total < 0 ? -1 : total;
    c->got = 0;
    c->in_file = 1;
    c->st_state = ST_LEN;
    c->nlen = 0;
    c->nhdr = 0;
    c->data_pos = 0;
    c->max_end = 0;
    c->cur_storage = -1;
    c->prefix[0] = 0;
    if (kind == K_PT) {
        bl_zip_cb cb = {c, zip_begin, zip_data, zip_end};
        c->zip = bl_zip_new(name, &cb, BL_PK_MAX, e);
        if (!c->zip) return cfail(c, e);
    }
    return 0;
}

/* safetensors: the length, the header, then the data */
static int st_push(bl_conv *c, const uint8_t *p, size_t n, bl_err *e) {
    while (n > 0) {
        if (c->st_state == ST_LEN) {
            while (n > 0 && c->nlen < 8) { c->lenb[c->nlen++] = *p++; n--; }
            if (c->nlen < 8) return 0;
            c->hl = rd64(c->lenb);
            if (c->hl < 2 || c->hl > BL_ST_MAX_HEADER || (c->total >= 0 && c->hl > (uint64_t)c->total - 8)) {
                if (c->total >= 0)
                    return bl_fail(e, "%s: bad header length %llu (file is %lld bytes)", c->fname,
                                   (unsigned long long)c->hl, (long long)c->total);
                return bl_fail(e, "%s: bad header length %llu (at most %u)", c->fname, (unsigned long long)c->hl,
                               BL_ST_MAX_HEADER);
            }
            c->hdr = malloc((size_t)c->hl);
            if (!c->hdr) return bl_fail(e, "%s: out of memory", c->fname);
            mem_add(c, (long long)c->hl);
            c->st_state = ST_HDR;
        }
        if (c->st_state == ST_HDR) {
            size_t k = c->hl - c->nhdr < n ? (size_t)(c->hl - c->nhdr) : n;
            memcpy(c->hdr + c->nhdr, p, k);
            c->nhdr += k;
            p += k;
            n -= k;
            if (c->nhdr < c->hl) return 0;
            bl_src_tensor *t;
            int nt;
            uint64_t dlen = c->total >= 0 ? (uint64_t)c->total - 8 - c->hl : UINT64_MAX;
            int rc = bl_st_header(c->fname, c->hdr, (size_t)c->hl, dlen, &t, &nt, &c->max_end, e);
            free(c->hdr);
            c->hdr = NULL;
            mem_add(c, -(long long)c->hl);
            if (rc < 0) return -1;
            rc = use_inventory(c, t, nt, e);
            if (rc == 0) rc = attach(c, t, nt, e);
            bl_src_tensors_free(t, nt);
            if (rc < 0) return -1;
            c->sb = c->first = 0;
            c->se = c->nsinks;
            c->st_state = ST_DATA;
            continue;
        }
        if (feed(c, c->data_pos, p, n, e) < 0) return -1;
        c->data_pos += n;
        return 0;
    }
    return 0;
}

/* torch zip entries: <prefix>/data.pkl first, then the storages <prefix>/data/KEY */
static int zip_begin(void *user, const char *name, int64_t *size, int *buffer, bl_err *e) {
    bl_conv *c = user;
    const char *slash = strchr(name, '/');
    c->entry_kind = 0;
    if (!c->have_pk) {
        if (!slash || strcmp(slash + 1, "data.pkl"))
            return bl_fail(e, "%s: the first entry is '%s', not data.pkl (not a torch.save file)", c->fname, name);
        snprintf(c->prefix, sizeof c->prefix, "%.*s", (int)(slash - name), name);
        c->entry_kind = 1;
        *buffer = 1;
        return 0;
    }
    size_t pl = strlen(c->prefix);
    if (!strncmp(name, c->prefix, pl) && name[pl] == '/' && !strncmp(name + pl + 1, "data/", 5)) {
        const char *key = name + pl + 6;
        for (int i = 0; i < c->pk.nstorages; i++)
            if (!strcmp(c->pk.storages[i].key, key)) {
                if (c->storage_seen[i]) return bl_fail(e, "%s: storage '%s' appears twice", c->fname, name);
                c->storage_seen[i] = 1;
                c->cur_storage = i;
                c->storage_pos = 0;
                c->entry_kind = 2;
                *size = (int64_t)(c->pk.storages[i].numel * (uint64_t)c->pk.storages[i].esize);
                /* the sinks reading this storage */
                c->sb = 0;
                while (c->sb < c->nsinks && c->sinks[c->sb].storage < i) c->sb++;
                c->se = c->sb;
                while (c->se < c->nsinks && c->sinks[c->se].storage == i) c->se++;
                c->first = c->sb;
                return 0;
            }
    }
    if (!strncmp(name, c->prefix, pl) && !strcmp(name + pl, "/byteorder")) c->entry_kind = 3;
    if (*size < 0 || c->entry_kind == 3) *buffer = 1;   /* small entries (version, byteorder, ...) */
    return 0;
}

static int zip_data(void *user, const uint8_t *p, size_t n, bl_err *e) {
    bl_conv *c = user;
    if (c->entry_kind != 2) return 0;
    if (feed(c, c->storage_pos, p, n, e) < 0) return -1;
    c->storage_pos += n;
    return 0;
}

static int zip_end(void *user, const uint8_t *whole, size_t n, bl_err *e) {
    bl_conv *c = user;
    if (c->entry_kind == 1) {
        if (bl_pickle_state_dict(c->fname, whole, n, &c->pk, e) < 0) return -1;
        c->have_pk = 1;
        c->storage_seen = calloc((size_t)c->pk.nstorages + 1, sizeof *c->storage_seen);
        if (!c->storage_seen) return bl_fail(e, "%s: out of memory", c->fname);
        if (use_inventory(c, c->pk.t, c->pk.n, e) < 0 || attach(c, c->pk.t, c->pk.n, e) < 0) return -1;
    } else if (c->entry_kind == 2) {
        for (int i = c->sb; i < c->se; i++)
            if (!c->sinks[i].done)
                return bl_fail(e, "%s: internal error: tensor '%s' incomplete at the end of its storage", c->fname, c->sinks[i].src);
        c->sb = c->se = c->first = 0;
        c->cur_storage = -1;
    } else if (c->entry_kind == 3) {
        if (!(n == 6 && !memcmp(whole, "little", 6)))
            return bl_fail(e, "%s: the tensors are stored big-endian (byteorder '%.*s')", c->fname, (int)(n < 16 ? n : 16), whole);
    }
    return 0;
}

int bl_conv_push(bl_conv *c, const uint8_t *p, size_t n, bl_err *e) {
    if (c->failed) return cfailed(c, e);
    if (!c->in_file) { bl_fail(e, "bytes pushed outside a file (call bl_conv_begin_file)"); return cfail(c, e); }
    if (c->total >= 0 && n > (uint64_t)c->total - c->got) {
        bl_fail(e, "%s: more than the announced %lld bytes", c->fname, (long long)c->total);
        return cfail(c, e);
    }
    c->got += n;
    c->bytes += n;
    int rc = c->kind == K_ST ? st_push(c, p, n, e) : bl_zip_push(c->zip, p, n, e);
    size_t zb = bl_zip_buffered(c->zip);
    if (c->mem + zb > c->peak) c->peak = c->mem + zb;
    return rc < 0 ? cfail(c, e) : 0;
}

int bl_conv_end_file(bl_conv *c, bl_err *e) {
    if (c->failed) return cfailed(c, e);
    if (!c->in_file) { bl_fail(e, "no file to end"); return cfail(c, e); }
    if (c->total >= 0 && c->got < (uint64_t)c->total) {
        bl_fail(e, "%s: truncated: got %llu of %lld bytes", c->fname, (unsigned long long)c->got, (long long)c->total);
        return cfail(c, e);
    }
    if (c->kind == K_ST) {
        if (c->st_state != ST_DATA || c->data_pos < c->max_end) {
            bl_fail(e, "%s: truncated: the file ends at byte %llu, its %s needs %llu", c->fname,
                    (unsigned long long)c->got, c->st_state == ST_DATA ? "data" : "header",
                    (unsigned long long)(c->st_state == ST_DATA ? 8 + c->hl + c->max_end : 8 + c->hl));
            return cfail(c, e);
        }
    } else {
        if (bl_zip_finish(c->zip, e) < 0) return cfail(c, e);
        for (int i = 0; i < c->nsinks; i++)
            if (!c->sinks[i].done) {
                bl_fail(e, "%s: storage '%s' of tensor '%s' is missing", c->fname,
                        c->pk.storages[c->sinks[i].storage].key, c->sinks[i].src);
                return cfail(c, e);
            }
    }
    free_file_state(c);
    return 0;
}

int bl_conv_finish(bl_conv *c, uint8_t **out, size_t *len, bl_err *e) {
    *out = NULL;
    *len = 0;
    if (c->failed) return cfailed(c, e);
    if (c->in_file) { bl_fail(e, "%s: not ended", c->fname); return cfail(c, e); }
    if (!c->laid_out) {
        if (prepare(c, e) < 0) return cfail(c, e);
        bl_fail(e, "no weights file was given (model.safetensors, pytorch_model.bin or shards)");
        return cfail(c, e);
    }
    for (int i = 0; i < c->nslots; i++)
        if (!c->slots[i].filled) {
            const bl_cslot *s = &c->slots[i];
            if (s->file >= 0 && !c->file_seen[s->file])
                bl_fail(e, "tensor '%s' is in %s, which was not given", s->src, c->files[s->file]);
            else bl_fail(e, "missing tensor '%s' (%s)", s->name, s->src);
            return cfail(c, e);
        }
    uint64_t size = c->out_len;
    int nt = c->nslots;
    if (c->dec_slot >= 0) {
        int tied = c->dec_same_source;
        if (!tied) {
            uint8_t a[32], b[32];
            bl_sha256_final(&c->hw, a);
            bl_sha256_final(&c->hd, b);
            tied = !memcmp(a, b, 32);
        }
        if (tied) {
            /* drop the decoder (the last tensor): one table entry less moves the data down by 128 */
            const bl_cslot *d = &c->slots[c->dec_slot];
            uint64_t data_end = c->dec_slot > 0 ? c->slots[c->dec_slot - 1].end : c->doff;
            memmove(c->out + c->doff - BL_ENTRY, c->out + c->doff, (size_t)(data_end - c->doff));
            nt--;
            size = data_end - BL_ENTRY;
            for (int i = 0; i < nt; i++) {
                uint8_t *te = c->out + c->toff + (size_t)i * BL_ENTRY;
                wr64(te + 112, rd64(te + 112) - BL_ENTRY);
                if (rd64(te + 120)) wr64(te + 120, rd64(te + 120) - BL_ENTRY);
            }
            c->doff -= BL_ENTRY;
            (void)d;
        }
    }
    put_header(c, nt, size);
    if (c->o.measure) measure(c, (size_t)size);
    if (c->progressive && c->hash_slot == c->nslots && c->hash_pos == size) bl_sha256_final(&c->hout, c->out + 24);
    else bl_sha256(c->out + BL_HDR_FIXED, (size_t)size - BL_HDR_FIXED, c->out + 24);
    uint8_t *o = c->out;
    if (size < c->out_len) {
        uint8_t *r = realloc(o, (size_t)size);
        if (r) o = r;
    }
    c->out = NULL;
    mem_add(c, -(long long)c->out_len);
    c->out_len = 0;
    *out = o;
    *len = (size_t)size;
    c->failed = 1;
    snprintf(c->err.msg, sizeof c->err.msg, "the converter has finished");
    return 0;
}
