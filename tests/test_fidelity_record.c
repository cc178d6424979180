/* test_fidelity_record.c — the attention fidelity record (fidelity.c, convert_stream.c, FORMAT.md).

   - the stored figures equal an independent computation: tests/model/fidelity_check.py runs
     every test checkpoint's float weights through a torch restatement of Hugging Face's code
     and compares with `bertlens attention` on the converted int8 file;
   - the stream converter with a memory ceiling: an f32 copy when it fits, an f16 copy when
     only that fits, no copy and "not measured" (with the sizes) when neither does; the file
     loads in every case and the output bytes are the same apart from the record;
   - without measuring: no record, the very bytes bl_convert_hf writes;
   - an f32 file is its own float model: measured 0;
   - files without a record (the shipped default model, bl_model_write's) read as not measured,
     and `bertlens info` says so; a damaged record is refused. */
#define _POSIX_C_SOURCE 200809L   /* popen, mkdtemp */
#include "check.h"
#include <math.h>
#include <string.h>
#include <unistd.h>

#define CKPT "tests/model/models/tiny_f32"

static const char *cli(void) {
    const char *c = getenv("BERTLENS_CLI");
    return c && *c ? c : "build/bertlens";
}

static int feed(bl_conv *c, const char *name, bl_err *e) {
    char path[512];
    snprintf(path, sizeof path, CKPT "/%s", name);
    uint8_t *b;
    size_t n;
    if (bl_read_whole_file(path, &b, &n, e) < 0) return -1;
    int rc;
    if (!strcmp(name, "config.json")) rc = bl_conv_set_config(c, (const char *)b, n, e);
    else if (strcmp(name, "model.safetensors")) rc = bl_conv_set_tokenizer_file(c, name, b, n, e);
    else {
        rc = bl_conv_begin_file(c, name, (int64_t)n, e);
        for (size_t off = 0; rc == 0 && off < n; off += 4096)
            rc = bl_conv_push(c, b + off, n - off < 4096 ? n - off : 4096, e);
        if (rc == 0) rc = bl_conv_end_file(c, e);
    }
    free(b);
    return rc;
}

/* Convert CKPT to int8 through bl_conv with these options. */
static uint8_t *convert(int dtype, size_t max_bytes, int measure, size_t *len, bl_conv_progress *pg, bl_err *e) {
    bl_conv_opts o = {dtype, max_bytes, measure};
    bl_conv *c = bl_conv_new(&o, e);
    uint8_t *out = NULL;
    *len = 0;
    static const char *files[] = {"config.json", "vocab.txt", "tokenizer_config.json", "model.safetensors"};
    int rc = c ? 0 : -1;
    for (int i = 0; i < 4 && rc == 0; i++) rc = feed(c, files[i], e);
    if (rc == 0 && pg) bl_conv_get_progress(c, pg);
    if (rc == 0) rc = bl_conv_finish(c, &out, len, e);
    bl_conv_free(c);
    return rc == 0 ? out : NULL;
}

static int load_fid(const uint8_t *b, size_t n, bl_fidelity *f, bl_config *cfg) {
    bl_err e;
    bl_model *m = bl_model_load(b, n, 0, &e);
    if (!m) { CHECK(0, "the file does not load: %s", e.msg); return -1; }
    bl_model_fidelity(m, f);
    if (cfg) *cfg = *bl_model_config(m);
    bl_model_free(m);
    return 0;
}

/* The same tensors (names, shapes, bytes and int8 scales) in two files. */
static int same_tensors(const uint8_t *a, size_t la, const uint8_t *b, size_t lb) {
    bl_err e;
    bl_model *ma = a ? bl_model_load(a, la, 0, &e) : NULL, *mb = b ? bl_model_load(b, lb, 0, &e) : NULL;
    int same = ma && mb && bl_model_tensor_count(ma) == bl_model_tensor_count(mb);
    for (int i = 0; same && i < bl_model_tensor_count(ma); i++) {
        bl_tensor ta, tb;
        const char *na, *nb;
        bl_model_tensor_at(ma, i, &ta, &na);
        bl_model_tensor_at(mb, i, &tb, &nb);
        same = !strcmp(na, nb) && ta.dtype == tb.dtype && ta.rows == tb.rows && ta.cols == tb.cols &&
               !memcmp(ta.data, tb.data, (size_t)ta.rows * ta.cols * (size_t)bl_dtype_size(ta.dtype)) &&
               (!ta.scale || !memcmp(ta.scale, tb.scale, (size_t)ta.rows * 4));
    }
    bl_model_free(ma);
    bl_model_free(mb);
    return same;
}

static char *run_cli(const char *args) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", cli(), args);
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *out = calloc(1, cap);
    size_t r;
    while (out && (r = fread(out + n, 1, cap - 1 - n, p)) > 0) n += r;
    pclose(p);
    return out;
}

int main(void) {
    /* 1. the independent computation */
    {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "%s tests/model/fidelity_check.py --cli '%s' --dtype int8",
                 access("/usr/bin/python3", 0) == 0 ? "/usr/bin/python3" : "python3", cli());
        int rc = system(cmd);
        CHECK(rc == 0, "'%s' failed (exit %d): the stored fidelity differs from torch's", cmd, rc);
    }

    /* 2. the stream converter: measured, copy kinds, memory ceiling */
    bl_err e;
    size_t l0, l1, l2, l3;
    bl_conv_progress pg;
    uint8_t *plain = convert(BL_DT_I8, 0, 0, &l0, NULL, &e);
    CHECK(plain, "convert without measuring: %s", e.msg);
    uint8_t *f32 = convert(BL_DT_I8, 0, 1, &l1, &pg, &e);
    CHECK(f32, "convert measuring: %s", e.msg);
    bl_fidelity f;
    bl_config cfg;
    if (plain && f32) {
        CHECK(load_fid(plain, l0, &f, &cfg) == 0 && f.status == BL_FID_NONE && !cfg.has_fidelity,
              "without measuring: no record (status %d)", f.status);
        CHECK(l1 == l0 + 128, "the record and the version 2 header add 128 bytes: %zu vs %zu", l1, l0);
        CHECK(load_fid(f32, l1, &f, &cfg) == 0 && f.status == BL_FID_MEASURED && cfg.has_fidelity &&
              f.ref_dtype == BL_DT_F32 && f.calib == 1 && f.sequences == 3 && f.tokens > 20 && f.cells > 0 &&
              f.max_dev > 1e-4f && f.max_dev < 0.05f && f.mean_dev > 0 && f.mean_dev < f.max_dev && f.ref_bytes > 0,
              "measured with an f32 copy: status %d ref %d max %g mean %g", f.status, f.ref_dtype, (double)f.max_dev,
              (double)f.mean_dev);
        const bl_fidelity with_f32 = f;
        /* the ceiling: the output and its row buffers, plus room for less than the f32 copy */
        int maxcols = 0;
        bl_model *m = bl_model_load(plain, l0, 0, &e);
        for (int i = 0; m && i < bl_model_tensor_count(m); i++) {
            int cols;
            bl_model_tensor_info(m, i, NULL, NULL, NULL, &cols);
            if (cols > maxcols) maxcols = cols;
        }
        bl_model_free(m);
        const size_t out_need = pg.out_bytes + 8 * (size_t)maxcols;
        uint8_t *f16 = convert(BL_DT_I8, out_need + with_f32.ref_bytes - 1, 1, &l2, NULL, &e);
        CHECK(f16, "convert with room for an f16 copy: %s", e.msg);
        if (f16 && load_fid(f16, l2, &f, NULL) == 0) {
            CHECK(f.status == BL_FID_MEASURED && f.ref_dtype == BL_DT_F16 && f.ref_bytes < with_f32.ref_bytes &&
                  fabsf(f.max_dev - with_f32.max_dev) < 2e-3f,
                  "an f16 copy when f32 does not fit: status %d ref %d max %g (f32 copy: %g)", f.status, f.ref_dtype,
                  (double)f.max_dev, (double)with_f32.max_dev);
            char t[256];
            bl_fidelity_text(&f, BL_DT_I8, t, sizeof t);
            CHECK(strstr(t, "f16 copy"), "the text names the f16 copy: %s", t);
        }
        uint8_t *none = convert(BL_DT_I8, out_need + 16, 1, &l3, NULL, &e);
        CHECK(none, "convert with no room for a copy still converts: %s", e.msg);
        if (none && load_fid(none, l3, &f, NULL) == 0) {
            CHECK(f.status == BL_FID_MEMORY && f.limit_bytes == out_need + 16 && f.ref_bytes > 16 && f.max_dev == 0,
                  "no room: not measured, with the sizes (status %d, need %llu, limit %llu)", f.status,
                  (unsigned long long)f.ref_bytes, (unsigned long long)f.limit_bytes);
            char t[256];
            bl_fidelity_text(&f, BL_DT_I8, t, sizeof t);
            CHECK(strstr(t, "not measured") && strstr(t, "memory limit"), "no room: %s", t);
        }
        /* the tensors are the same whatever the copy (or none, or no measuring) */
        CHECK(same_tensors(plain, l0, f32, l1) && same_tensors(f16, l2, f32, l1) && same_tensors(none, l3, f32, l1),
              "the tensors depend on the float copy");
        CHECK(l2 == l1 && l3 == l1, "the file size depends on the copy: %zu %zu %zu", l1, l2, l3);
        free(f16);
        free(none);
    }

    /* 3. an f32 file is the float model */
    {
        size_t n;
        uint8_t *b = convert(BL_DT_F32, 0, 1, &n, NULL, &e);
        CHECK(b && load_fid(b, n, &f, NULL) == 0 && f.status == BL_FID_MEASURED && f.max_dev == 0 && f.mean_dev == 0,
              "f32: measured 0 (status %d max %g)", f.status, (double)f.max_dev);
        /* a damaged record is refused even with a valid checksum */
        if (b) {
            const bl_config *c0 = NULL;
            bl_model *m = bl_model_load(b, n, 0, &e);
            if (m) c0 = bl_model_config(m);
            CHECK(c0 && c0->has_fidelity, "the record is announced");
            bl_model_free(m);
            uint8_t *tbl = b + ((size_t)b[144] | (size_t)b[145] << 8 | (size_t)b[146] << 16);
            tbl[-64] = 9;   /* status */
            bl_sha256(b + 64, n - 64, b + 24);
            m = bl_model_load(b, n, 0, &e);
            CHECK(!m && strstr(e.msg, "fidelity status 9"), "an unknown status is refused: %s", m ? "loaded" : e.msg);
            bl_model_free(m);
            tbl[-64] = 1;
            tbl[-64 + 8 + 3] = 0x7f;   /* max = NaN-ish / huge */
            tbl[-64 + 8 + 2] = 0xc0;
            bl_sha256(b + 64, n - 64, b + 24);
            m = bl_model_load(b, n, 0, &e);
            CHECK(!m && strstr(e.msg, "inconsistent"), "a max outside [0, 1] is refused: %s", m ? "loaded" : e.msg);
            bl_model_free(m);
        }
        free(b);
    }

    /* 4. files without a record: the shipped default model, bl_model_write's */
    {
        size_t n;
        uint8_t *b;
        if (bl_read_model_file("weights/bertlens-mini.int8.bin", &b, &n, &e) == 0) {
            CHECK(load_fid(b, n, &f, NULL) == 0 && f.status == BL_FID_NONE, "the default model has no record");
            char t[256];
            bl_fidelity_text(&f, BL_DT_I8, t, sizeof t);
            CHECK(!strcmp(t, "int8: attention fidelity not measured (the file has no record)"), "old file: %s", t);
            free(b);
        } else CHECK(0, "weights/bertlens-mini.int8.bin: %s", e.msg);
        char *out = run_cli("info -m weights/bertlens-mini.int8.bin");
        CHECK(out && strstr(out, "\"fidelity\":{\"status\":\"not measured\",\"reason\":\"no record\","
                                 "\"text\":\"int8: attention fidelity not measured (the file has no record)\"}"),
              "info on an old file: %s", out ? out : "(no output)");
        free(out);
        if (f32) {
            char tmpl[] = "/tmp/bl-fid-XXXXXX", args[400];
            if (mkdtemp(tmpl)) {
                char path[300];
                snprintf(path, sizeof path, "%s/m.bin", tmpl);
                FILE *w = fopen(path, "wb");
                if (w) { fwrite(f32, 1, l1, w); fclose(w); }
                snprintf(args, sizeof args, "info -m %s", path);
                out = run_cli(args);
                char want[200];
                bl_fidelity g;
                load_fid(f32, l1, &g, NULL);
                snprintf(want, sizeof want, "\"fidelity\":{\"status\":\"measured\",\"max\":%.9g,\"mean\":%.9g,",
                         (double)g.max_dev, (double)g.mean_dev);
                CHECK(out && strstr(out, want) && strstr(out, "int8: attention within 0.00"),
                      "info on a measured file: %s (want %s)", out ? out : "", want);
                free(out);
                remove(path);
                remove(tmpl);
            }
        }
    }
    free(plain);
    free(f32);
    return check_summary("test_fidelity_record");
}
