/* test_convert.c — Hugging Face directory -> weights file, against golden values written by an
   independent implementation (tests/data/make_hf.py: numpy widening of F32/F16/BF16):
   config and tokenizer flags, every tensor for f32 (exact), f16 (rounding) and int8 (error <=
   scale/2), both key styles, tied/untied decoder; each broken directory gives its specific
   message; export-hf re-converts to a byte-identical file; shards + manifest round trip and
   reject corrupt parts. Needs /usr/bin/python3 (or python3) with numpy. */
#define _POSIX_C_SOURCE 200809L   /* mkdtemp */
#include "base/internal.h"
#include "base/json.h"
#include "check.h"
#include "hf_expected.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char tmp[256];

static char *path_of(const char *a, const char *b) {
    static char buf[8][1024];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 1024, "%s/%s%s%s", tmp, a, b ? "/" : "", b ? b : "");
    return p;
}

static bl_model *load(const char *path, uint8_t **buf) {
    size_t len; bl_err e = {{0}};
    if (bl_read_model_file(path, buf, &len, &e) < 0) { CHECK(0, "read %s: %s", path, e.msg); return NULL; }
    bl_model *m = bl_model_load(*buf, len, 0, &e);
    CHECK(m != NULL, "load %s: %s", path, e.msg);
    if (!m) { free(*buf); *buf = NULL; }
    return m;
}

static void check_against(const bl_model *m, const expected *x, int dtype, const char *what) {
    const bl_config *c = bl_model_config(m);
    int got[] = {c->vocab_size, c->hidden, c->layers, c->heads, c->intermediate, c->max_pos, c->type_vocab,
                 c->act, c->lowercase, c->strip_accents, c->chinese_chars, c->has_mlm};
    for (int i = 0; i < 12; i++) CHECK(got[i] == x->cfg[i], "%s: config field %d: %d, want %d", what, i, got[i], x->cfg[i]);
    CHECK(c->ln_eps == x->eps, "%s: eps %g want %g", what, (double)c->ln_eps, (double)x->eps);
    CHECK(bl_model_dtype(m) == dtype, "%s: dtype", what);
    int tied = x->cfg[12];
    CHECK(bl_model_tensor_count(m) == x->n - (tied ? 0 : 0), "%s: %d tensors, want %d", what, bl_model_tensor_count(m), x->n);
    if (c->has_mlm) CHECK((m->w.decoder.data == m->w.word.data) == tied, "%s: decoder tied = %d", what, tied);
    for (int i = 0; i < x->n; i++) {
        bl_tensor t; const char *nm = NULL;
        int j;
        for (j = 0; j < bl_model_tensor_count(m); j++) {
            bl_model_tensor_at(m, j, &t, &nm);
            if (!strcmp(nm, x->names[i])) break;
        }
        CHECK(j < bl_model_tensor_count(m), "%s: tensor %s absent", what, x->names[i]);
        if (j == bl_model_tensor_count(m)) continue;
        CHECK(t.rows == x->rows[i] && t.cols == x->cols[i], "%s: %s shape [%d, %d]", what, nm, t.rows, t.cols);
        if (t.rows != x->rows[i] || t.cols != x->cols[i]) continue;
        size_t n = (size_t)t.rows * t.cols;
        float *g = malloc(sizeof(float) * n);
        bl_tensor_to_f32(&t, g);
        int bad = 0;
        for (size_t k = 0; k < n; k++) {
            float w = x->vals[i][k], tol = 0;
            if (t.dtype == BL_DT_F16) tol = fabsf(w) / 2048 + 3e-8f;
            if (t.dtype == BL_DT_I8) tol = t.scale[k / t.cols] * 0.5f * 1.0001f;
            if (t.dtype == BL_DT_I16) tol = t.scale[k / t.cols] * 0.5f * 1.001f;   /* + q·scale's own rounding */
            if (!(fabsf(g[k] - w) <= tol)) bad++;
        }
        CHECK(bad == 0, "%s: %s (%s): %d of %zu values off", what, nm, bl_dtype_name(t.dtype), bad, n);
        free(g);
    }
}

static int files_equal(const char *a, const char *b) {
    uint8_t *x, *y; size_t nx, ny; bl_err e;
    if (bl_read_whole_file(a, &x, &nx, &e) < 0) return 0;
    if (bl_read_whole_file(b, &y, &ny, &e) < 0) { free(x); return 0; }
    int eq = nx == ny && !memcmp(x, y, nx);
    free(x); free(y);
    return eq;
}

static void expect_convert_error(const char *dir, const char *want1, const char *want2) {
    bl_err e = {{0}};
    char *out = path_of("bad.bin", NULL);
    remove(out);
    int r = bl_convert_hf(path_of(dir, NULL), out, BL_DT_I8, 0, &e);
    CHECK(r < 0, "%s: converted", dir);
    CHECK(strstr(e.msg, want1) != NULL, "%s: error '%s' lacks '%s'", dir, e.msg, want1);
    if (want2) CHECK(strstr(e.msg, want2) != NULL, "%s: error '%s' lacks '%s'", dir, e.msg, want2);
    CHECK(!file_exists(out), "%s: output written despite the error", dir);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/bertlens_convert_XXXXXX");
    if (make_hf_dirs(tmp)) return check_summary("test_convert");
    char cmd[4096];
    const char *py = hf_python();

    const char *good[] = {"f32_prefix", "f16_plain_gamma", "bf16_untied", "f32_explicit_tied"};
    const char *dtn[] = {"f32", "f16", "int8", "int16"};
    for (size_t g = 0; g < sizeof good / sizeof good[0]; g++) {
        char hf[512], exp_path[512];
        snprintf(hf, sizeof hf, "hf/%s", good[g]);
        snprintf(exp_path, sizeof exp_path, "%s", path_of(hf, "expected.txt"));
        expected x;
        if (read_expected(exp_path, &x) < 0) continue;
        for (int dt = 0; dt < 4; dt++) {
            char what[128], bin[128], exp_dir[128], bin2[128];
            snprintf(what, sizeof what, "%s as %s", good[g], dtn[dt]);
            snprintf(bin, sizeof bin, "%s.%s.bin", good[g], dtn[dt]);
            snprintf(exp_dir, sizeof exp_dir, "%s.%s.export", good[g], dtn[dt]);
            snprintf(bin2, sizeof bin2, "%s.%s.again.bin", good[g], dtn[dt]);
            bl_err e = {{0}};
            int r = bl_convert_hf(path_of(hf, NULL), path_of(bin, NULL), dt, 0, &e);
            CHECK(r == 0, "convert %s: %s", what, e.msg);
            if (r) continue;
            uint8_t *buf;
            bl_model *m = load(path_of(bin, NULL), &buf);
            if (!m) continue;
            check_against(m, &x, dt, what);
            /* export-hf, then convert the export with the same dtype: byte-identical */
            r = bl_export_hf(m, path_of(exp_dir, NULL), &e);
            CHECK(r == 0, "export %s: %s", what, e.msg);
            if (r == 0) {
                r = bl_convert_hf(path_of(exp_dir, NULL), path_of(bin2, NULL), dt, 0, &e);
                CHECK(r == 0, "re-convert export of %s: %s", what, e.msg);
                CHECK(r == 0 && files_equal(path_of(bin, NULL), path_of(bin2, NULL)),
                      "%s: export-hf + convert is not byte-identical", what);
                CHECK(file_exists(path_of(exp_dir, "config.json")) && file_exists(path_of(exp_dir, "vocab.txt")) &&
                      file_exists(path_of(exp_dir, "tokenizer_config.json")), "%s: export files", what);
            }
            bl_model_free(m);
            free(buf);
        }
        free_expected(&x);
    }

    /* the exported safetensors read back by Python (safetensors layout + F32 values), when
       numpy is there: an independent reader of what export-hf writes */
    snprintf(cmd, sizeof cmd,
             "%s -c \"import json,struct,numpy as np\n"
             "d='%s/f32_prefix.f32.export/'\n"
             "b=open(d+'model.safetensors','rb').read(); n=struct.unpack('<Q',b[:8])[0]; h=json.loads(b[8:8+n])\n"
             "t=h['bert.encoder.layer.1.output.dense.weight']; s,e=t['data_offsets']\n"
             "v=np.frombuffer(b[8+n+s:8+n+e],'<f4').reshape(t['shape'])\n"
             "c=json.load(open(d+'config.json'))\n"
             "assert t['shape']==[8,16] and c['model_type']=='bert' and c['num_hidden_layers']==2 and c['layer_norm_eps']==1e-12\n"
             "assert 'cls.predictions.decoder.weight' not in h and len(open(d+'vocab.txt',encoding='utf-8').read().split(chr(10)))==41\n"
             "print(float(v[3][5]).hex())\" > %s/py.txt",
             py, tmp, tmp);
    CHECK(system(cmd) == 0, "python could not read the export");
    {
        uint8_t *b; size_t n; bl_err e;
        expected x;
        if (bl_read_whole_file(path_of("py.txt", NULL), &b, &n, &e) == 0 &&
            read_expected(path_of("hf/f32_prefix", "expected.txt"), &x) == 0) {
            char *s = realloc(b, n + 1);
            s[n] = 0;
            float v = strtof(s, NULL);
            for (int i = 0; i < x.n; i++)
                if (!strcmp(x.names[i], "encoder.layer.1.output.dense.weight"))
                    CHECK(v == x.vals[i][3 * 16 + 5], "python reads %a from the export, want %a", v, x.vals[i][3 * 16 + 5]);
            free(s);
            free_expected(&x);
        }
    }

    /* shards: many small parts + manifest; parts concatenate to the single file */
    {
        bl_err e = {{0}};
        char single[1024];
        snprintf(single, sizeof single, "%s", path_of("f32_prefix.int8.bin", NULL));
        int r = bl_convert_hf_ex(path_of("hf/f32_prefix", NULL), path_of("sh/model", NULL), BL_DT_I8, 4096, &e);
        CHECK(r < 0 && strstr(e.msg, "cannot write"), "shards into a missing directory: %s", e.msg);
        snprintf(cmd, sizeof cmd, "mkdir -p %s/sh", tmp);
        CHECK(system(cmd) == 0, "mkdir");
        r = bl_convert_hf_ex(path_of("hf/f32_prefix", NULL), path_of("sh/model", NULL), BL_DT_I8, 4096, &e);
        CHECK(r == 0, "sharded convert: %s", e.msg);
        uint8_t *whole, *joined; size_t wl, jl;
        CHECK(bl_read_whole_file(single, &whole, &wl, &e) == 0, "%s", e.msg);
        CHECK(bl_read_model_file(path_of("sh/model.json", NULL), &joined, &jl, &e) == 0, "read manifest: %s", e.msg);
        CHECK(wl == jl && !memcmp(whole, joined, wl), "joined parts != the single file");
        int nparts = 0;
        size_t total = 0;
        for (int i = 0; i < 1000; i++) {
            char pn[64]; uint8_t *pb; size_t pl;
            snprintf(pn, sizeof pn, "sh/model.part%03d", i);
            if (!file_exists(path_of(pn, NULL))) break;
            bl_read_whole_file(path_of(pn, NULL), &pb, &pl, &e);
            CHECK(pl <= 4096 && pl > 0, "part %d is %zu bytes", i, pl);
            CHECK(total + pl <= wl && !memcmp(pb, whole + total, pl), "part %d is not the right slice", i);
            total += pl;
            nparts++;
            free(pb);
        }
        CHECK(nparts == (int)((wl + 4095) / 4096) && total == wl, "%d parts, %zu bytes", nparts, total);
        uint8_t *mb; size_t ml;
        bl_json *j = NULL;
        if (bl_read_whole_file(path_of("sh/model.json", NULL), &mb, &ml, &e) == 0) {
            j = bl_json_parse((const char *)mb, ml, &e);
            free(mb);
        }
        CHECK(j != NULL, "manifest parses: %s", e.msg);
        if (j) {
            uint8_t d[32]; char hex[65];
            bl_sha256(whole, wl, d);
            for (int i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02x", d[i]);
            const bl_json *cfg = bl_json_get(j, "config");
            CHECK(!strcmp(bl_json_get_str(j, "format"), "bertlens-weights-manifest"), "manifest format");
            CHECK(bl_json_get(j, "size")->i64 == (long long)wl, "manifest size");
            CHECK(!strcmp(bl_json_get_str(j, "sha256"), hex), "manifest sha256");
            CHECK(bl_json_get(j, "parts")->n == nparts, "manifest parts");
            CHECK(!strcmp(bl_json_get_str(bl_json_at(bl_json_get(j, "parts"), 0), "path"), "model.part000"), "part path");
            CHECK(!strcmp(bl_json_get_str(j, "dtype"), "int8") && !strcmp(bl_json_get_str(j, "name"), "model"), "dtype/name");
            CHECK(cfg && bl_json_get(cfg, "num_hidden_layers")->i64 == 2 && bl_json_get(cfg, "vocab_size")->i64 == 40 &&
                  bl_json_get(cfg, "layer_norm_eps")->num == 1e-12 && bl_json_get(cfg, "has_mlm")->boolean == 1,
                  "manifest config");
        }
        bl_json_free(j);
        free(joined);
        /* "-o X.json": X.json is the manifest, parts X.partNNN */
        r = bl_convert_hf_ex(path_of("hf/f32_prefix", NULL), path_of("sh/m2.json", NULL), BL_DT_I8, 8192, &e);
        CHECK(r == 0 && file_exists(path_of("sh/m2.part000", NULL)) && !file_exists(path_of("sh/m2.json.json", NULL)),
              "manifest named by -o: %s", e.msg);
        uint8_t *b2 = NULL;
        bl_model *m = load(path_of("sh/m2.json", NULL), &b2);
        CHECK(m != NULL, "load via manifest");
        bl_model_free(m);
        free(b2);
        /* shard_mb API: 1 MiB parts for a 10 KB file: one part */
        r = bl_convert_hf(path_of("hf/f32_prefix", NULL), path_of("sh/one", NULL), BL_DT_I8, 1, &e);
        CHECK(r == 0 && file_exists(path_of("sh/one.part000", NULL)) && !file_exists(path_of("sh/one.part001", NULL)),
              "--shard-mb 1: %s", e.msg);
        CHECK(files_equal(path_of("sh/one.part000", NULL), single), "single part == the file");

        /* corrupt parts */
        uint8_t *bad; size_t bl;
        const char *p1 = path_of("sh/model.part001", NULL);
        bl_read_whole_file(p1, &bad, &bl, &e);
        bad[10] ^= 1;
        FILE *f = fopen(p1, "wb"); fwrite(bad, 1, bl, f); fclose(f);
        CHECK(bl_read_model_file(path_of("sh/model.json", NULL), &joined, &jl, &e) < 0 &&
              strstr(e.msg, "model.part001': SHA-256 mismatch"), "flipped part: %s", e.msg);
        f = fopen(p1, "wb"); fwrite(bad, 1, bl - 1, f); fclose(f);
        CHECK(bl_read_model_file(path_of("sh/model.json", NULL), &joined, &jl, &e) < 0 &&
              strstr(e.msg, "model.part001' is 4095 bytes, the manifest says 4096"), "short part: %s", e.msg);
        remove(p1);
        CHECK(bl_read_model_file(path_of("sh/model.json", NULL), &joined, &jl, &e) < 0 &&
              strstr(e.msg, "cannot open") && strstr(e.msg, "model.part001"), "missing part: %s", e.msg);
        free(bad);
        f = fopen(path_of("sh/bad.json", NULL), "wb");
        fputs("{\"format\": \"bertlens-weights-manifest\", \"size\": 1, \"sha256\": \"00\", \"parts\": []}", f);
        fclose(f);
        CHECK(bl_read_model_file(path_of("sh/bad.json", NULL), &joined, &jl, &e) < 0 &&
              strstr(e.msg, "needs \"size\", \"sha256\""), "bad manifest: %s", e.msg);
        f = fopen(path_of("sh/bad2.json", NULL), "wb");
        fputs("{\"format\": \"bertlens-weights-manifest\",\n \"size\": }", f);
        fclose(f);
        CHECK(bl_read_model_file(path_of("sh/bad2.json", NULL), &joined, &jl, &e) < 0 &&
              strstr(e.msg, "JSON: unexpected character at byte 49 (line 2, column 10)"), "manifest syntax: %s", e.msg);
        free(whole);
    }

    /* corrupt safetensors headers (every 3rd byte of the header set to a JSON-significant
       character): converted or rejected, never a crash (ASan in tests/run.sh) */
    {
        uint8_t *st; size_t sl; bl_err e;
        snprintf(cmd, sizeof cmd, "mkdir -p %s/fz && cp %s/hf/f32_prefix/*.json %s/hf/f32_prefix/vocab.txt %s/fz/",
                 tmp, tmp, tmp, tmp);
        CHECK(system(cmd) == 0, "fuzz dir");
        if (bl_read_whole_file(path_of("hf/f32_prefix", "model.safetensors"), &st, &sl, &e) == 0) {
            size_t hl = st[0] | (size_t)st[1] << 8;
            const char sub[] = "\"{}[],:09-";
            int ok = 0, rejected = 0;
            for (size_t i = 8; i < 8 + hl; i += 3) {
                uint8_t *c = malloc(sl);
                memcpy(c, st, sl);
                c[i] = (uint8_t)sub[i % (sizeof sub - 1)];
                FILE *f = fopen(path_of("fz", "model.safetensors"), "wb");
                fwrite(c, 1, sl, f);
                fclose(f);
                free(c);
                if (bl_convert_hf(path_of("fz", NULL), path_of("fz.bin", NULL), BL_DT_I8, 0, &e) == 0) ok++;
                else { rejected++; CHECK(strlen(e.msg) > 10, "empty message"); }
            }
            CHECK(rejected > 0, "corrupt headers rejected (%d ok, %d rejected)", ok, rejected);
            free(st);
        }
    }

    /* broken inputs: each with its specific message */
    expect_convert_error("hf/not_bert", "config.json: model_type 'gpt2' is not supported (supported: bert, distilbert, roberta, xlm-roberta, camembert, electra, albert)", NULL);
    expect_convert_error("hf/no_type", "config.json: no model_type and no Bert* architecture", NULL);
    expect_convert_error("hf/missing_field", "config.json: missing field 'num_attention_heads'", NULL);
    expect_convert_error("hf/bad_act", "config.json: unsupported hidden_act 'swish'", NULL);
    expect_convert_error("hf/heads_divide", "config.json: bad config: hidden 8 is not divisible by heads 3", NULL);
    expect_convert_error("hf/config_syntax", "config.json: JSON: expected a string key at byte", "(line 2, column 20)");
    expect_convert_error("hf/header_len", "model.safetensors: bad header length 1099511627776", NULL);
    expect_convert_error("hf/header_json", "model.safetensors: header: JSON: expected ',' or ']' at byte 11", NULL);
    expect_convert_error("hf/overlap", "model.safetensors: tensors 'bert.embeddings.LayerNorm.", "overlap");
    expect_convert_error("hf/out_of_range", "model.safetensors: tensor 'cls.predictions.bias': data_offsets [", "out of range");
    expect_convert_error("hf/span", "tensor 'bert.embeddings.LayerNorm.weight': data_offsets span 32 bytes, its shape and dtype F32 need 36", NULL);
    expect_convert_error("hf/unknown_dtype", "tensor 'bert.encoder.layer.0.output.dense.bias': unknown dtype 'Q4'", NULL);
    expect_convert_error("hf/int_dtype", "tensor 'bert.encoder.layer.1.attention.self.key.weight': dtype I32 is not supported (F32, F16, BF16)", NULL);
    expect_convert_error("hf/wrong_shape", "tensor 'bert.encoder.layer.0.attention.self.query.weight': expected shape [8, 8], got [8, 4]", NULL);
    expect_convert_error("hf/missing_tensor", "missing tensor 'encoder.layer.1.intermediate.dense.bias'", NULL);
    expect_convert_error("hf/vocab_short", "vocab_short/vocab.txt has 39 tokens, config.json vocab_size is 40", NULL);
    expect_convert_error("hf/no_vocab", "no vocab.txt or tokenizer.json", NULL);
    expect_convert_error("hf/nan", "tensor 'bert.encoder.layer.0.output.LayerNorm.bias': element 0 is NaN or infinite", NULL);
    expect_convert_error("hf/empty", "cannot open '", "empty/config.json': No such file or directory");
    expect_convert_error("hf/does_not_exist", "cannot open '", "does_not_exist/config.json'");
    {
        bl_err e = {{0}};
        CHECK(bl_convert_hf(path_of("hf/f32_prefix", NULL), path_of("no/such/dir/out.bin", NULL), BL_DT_I8, 0, &e) < 0 &&
              strstr(e.msg, "cannot write '") && strstr(e.msg, "no/such/dir/out.bin"), "unwritable output: %s", e.msg);
        CHECK(bl_convert_hf(path_of("hf/f32_prefix", NULL), path_of("x.bin", NULL), 9, 0, &e) < 0 &&
              strstr(e.msg, "unknown dtype 9"), "bad dtype: %s", e.msg);
        CHECK(bl_dtype_parse("int8") == BL_DT_I8 && bl_dtype_parse("f16") == BL_DT_F16 &&
              bl_dtype_parse("int16") == BL_DT_I16 && bl_dtype_parse("i16") == BL_DT_I16 &&
              bl_dtype_parse("f32") == BL_DT_F32 && bl_dtype_parse("q4") == -1, "bl_dtype_parse");
        uint8_t *b; size_t n;
        CHECK(bl_read_model_file(path_of("nope.bin", NULL), &b, &n, &e) < 0 && strstr(e.msg, "cannot open '") &&
              strstr(e.msg, "nope.bin': No such file or directory"), "missing model file: %s", e.msg);
    }

    if (!getenv("BL_KEEP_TMP")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    }
    return check_summary("test_convert");
}
