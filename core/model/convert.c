/* convert.c — Hugging Face BERT directory <-> bertlens weights file (native only).

   bl_convert_hf feeds config.json, the tokenizer files and the weights (model.safetensors,
   safetensors shards with their index, or pytorch_model.bin) through the streaming converter
   (convert_stream.c, the code the browser runs) in 1 MiB chunks, and writes the weights file —
   or shards plus a manifest. bl_export_hf writes the reverse
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

/* Feed one file through the converter in 1 MiB chunks, as the browser feeds downloads. */
static int bl_feed_file(bl_conv *c, const char *path, bl_err *e) {
    FILE *f = fopen(path, "rb");
    if (!f) return bl_fail(e, "cannot open '%s': %s", path, strerror(errno));
    int64_t total = -1;
    if (fseek(f, 0, SEEK_END) == 0) {
        long t = ftell(f);
        if (t >= 0) total = t;
        if (fseek(f, 0, SEEK_SET) != 0) total = -1;
    }
    size_t cap = 1u << 20;
    uint8_t *buf = malloc(cap);
    if (!buf) { fclose(f); return bl_fail(e, "out of memory"); }
    int rc = bl_conv_begin_file(c, path, total, e);
    while (rc == 0) {
        size_t r = fread(buf, 1, cap, f);
        if (r == 0) break;
        rc = bl_conv_push(c, buf, r, e);
    }
    if (rc == 0 && ferror(f)) rc = bl_fail(e, "cannot read '%s': read error", path);
    if (rc == 0) rc = bl_conv_end_file(c, e);
    free(buf);
    fclose(f);
    return rc;
}

static int bl_feed_small(bl_conv *c, const char *dir, const char *name, int required, bl_err *e) {
    char path[4096];
    bl_join(path, sizeof path, dir, name);
    if (!required && !bl_file_exists(path)) return 0;
    uint8_t *b;
    size_t n;
    if (bl_read_whole_file(path, &b, &n, e) < 0) return -1;
    int rc;
    if (!strcmp(name, "config.json")) {
        rc = bl_conv_set_config(c, (const char *)b, n, e);
        /* the converter names "config.json"; the CLI names the file it read */
        if (rc < 0 && e && !strncmp(e->msg, "config.json: ", 13)) {
            char msg[BL_ERR_MAX];
            snprintf(msg, sizeof msg, "%s", e->msg + 13);
            bl_fail(e, "%s: %s", path, msg);
        }
    } else if (strstr(name, ".index.json")) rc = bl_conv_set_index(c, path, (const char *)b, n, e);
    else rc = bl_conv_set_tokenizer_file(c, path, b, n, e);
    free(b);
    return rc;
}

static int convert_dir(const char *hf_dir, const char *out_path, const bl_conv_opts *opts, size_t shard_bytes, bl_err *e) {
    const int dtype = opts->dtype;
    if (dtype < BL_DT_F32 || dtype > BL_DT_I16) return bl_fail(e, "unknown dtype %d", dtype);
    bl_conv_opts o = *opts;
    bl_conv *c = bl_conv_new(&o, e);
    if (!c) return -1;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = -1;
    char path[4096];
    static const char *tok[] = {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"};
    if (bl_feed_small(c, hf_dir, "config.json", 1, e) < 0) goto done;
    int have_vocab = 0;
    for (int i = 0; i < 2; i++) {
        bl_join(path, sizeof path, hf_dir, tok[i]);
        have_vocab |= bl_file_exists(path);
    }
    if (!have_vocab) { bl_fail(e, "%s: no vocab.txt or tokenizer.json in the directory", hf_dir); goto done; }
    for (int i = 0; i < 4; i++)
        if (bl_feed_small(c, hf_dir, tok[i], 0, e) < 0) goto done;
    /* the weights: one safetensors file, safetensors shards, one pytorch_model.bin, .bin shards */
    static const char *single[] = {"model.safetensors", "pytorch_model.bin"};
    static const char *index[] = {"model.safetensors.index.json", "pytorch_model.bin.index.json"};
    int found = 0;
    for (int k = 0; k < 2 && !found; k++) {
        bl_join(path, sizeof path, hf_dir, single[k]);
        if (bl_file_exists(path)) {
            found = 1;
            if (bl_feed_file(c, path, e) < 0) goto done;
            break;
        }
        bl_join(path, sizeof path, hf_dir, index[k]);
        if (bl_file_exists(path)) {
            found = 1;
            if (bl_feed_small(c, hf_dir, index[k], 1, e) < 0) goto done;
            for (int i = 0; bl_conv_file(c, i); i++) {
                bl_join(path, sizeof path, hf_dir, bl_conv_file(c, i));
                if (bl_feed_file(c, path, e) < 0) goto done;
            }
        }
    }
    if (!found) {
        bl_fail(e, "%s: no model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json",
                hf_dir);
        goto done;
    }
    if (bl_conv_finish(c, &buf, &len, e) < 0) goto done;
    /* Load what we made: the converter never emits a file the loader rejects. */
    bl_err le;
    bl_model *m = bl_model_load(buf, len, 0, &le);
    if (!m) { bl_fail(e, "internal error: the converted file does not load: %s", le.msg); goto done; }
    const bl_config *cfg = bl_model_config(m);
    rc = shard_bytes > 0 ? bl_write_shards(out_path, buf, len, cfg, dtype, shard_bytes, e)
                      : bl_write_file(out_path, buf, len, e);
    bl_model_free(m);
done:
    free(buf);
    bl_conv_free(c);
    return rc;
}

int bl_convert_hf_ex(const char *hf_dir, const char *out_path, int dtype, size_t shard_bytes, bl_err *e) {
    bl_conv_opts o = {dtype, 0, 0};
    return convert_dir(hf_dir, out_path, &o, shard_bytes, e);
}

int bl_convert_hf_opts(const char *hf_dir, const char *out_path, const bl_conv_opts *o, int shard_mb, bl_err *e) {
    if (shard_mb > 4095) return bl_fail(e, "--shard-mb %d is too large (at most 4095)", shard_mb);
    return convert_dir(hf_dir, out_path, o, shard_mb > 0 ? (size_t)shard_mb << 20 : 0, e);
}

/* ---------------------------------------------------------------- export */
/* Dequantize an int8 row for export so that re-quantizing gives back the same bytes: the
   ±127 entries become the f32 value nearest 127*scale whose f32 division by 127 is exactly
   scale (bl_quantize_row computes max|row| / 127.0f); the others are q*scale, which
   re-quantize to q since their relative error (~2^-24) is far below 0.5/127. */
static void bl_export_q_row(const int8_t *q8, const int16_t *q16, float s, int n, float *out) {
    const int Q = q16 ? BL_I16_MAX : 127;
    const float fq = (float)Q;
    float top = fq * s;
    if (s > 0 && top / fq != s) {
        float up = top, dn = top;
        for (int k = 0; k < 64; k++) {
            up = nextafterf(up, INFINITY);
            dn = nextafterf(dn, 0.0f);
            if (up / fq == s) { top = up; break; }
            if (dn / fq == s) { top = dn; break; }
        }
    }
    for (int i = 0; i < n; i++) {
        const int v = q16 ? q16[i] : q8[i];
        out[i] = v == Q ? top : v == -Q ? -top : (float)v * s;
    }
}

int bl_export_hf(const bl_model *m, const char *dir, bl_err *e) {
    const bl_config *c = &m->cfg;
    /* the export writes BERT's config and key names: other families and task heads would come
       back as something else */
    if (c->family != BL_FAMILY_BERT || c->head != BL_HEAD_NONE)
        return bl_fail(e, "only plain BERT files can be exported (this one is %s%s%s)",
                       bl_family_name(c->family), c->head ? " with a " : "", c->head ? bl_head_name(c->head) : "");
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) return bl_fail(e, "cannot create '%s': %s", dir, strerror(errno));
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
                bl_export_q_row((const int8_t *)t.data + (size_t)r * t.cols, NULL, t.scale[r], t.cols, d + (size_t)r * t.cols);
        else if (t.dtype == BL_DT_I16)
            for (int r = 0; r < t.rows; r++)
                bl_export_q_row(NULL, (const int16_t *)t.data + (size_t)r * t.cols, t.scale[r], t.cols, d + (size_t)r * t.cols);
        else bl_tensor_to_f32(&t, d);
        uint8_t *le = (uint8_t *)d;   /* little-endian host (checked in model_file.c) */
        bad = fwrite(le, 4, n, o) != n;
        free(d);
    }
    if (fclose(o) != 0) bad = 1;
    if (bad) return bl_fail(e, "cannot write '%s': write failed", path);
    return 0;
}
