/* test_convert_stream.c — the streaming converter (bl_conv_*) on the checkpoints of
   tests/data/make_hf.py:
   - the CLI's convert (bl_convert_hf) equals bl_model_write fed the golden f32 values (numpy's
     widening of F32/F16/BF16, written by make_hf.py) and its vocab, byte for byte, for every
     dtype: the stream lays the file out exactly as the writer does;
   - pushing the files in chunks of 1 byte, primes, random sizes and 1 MiB, with and without the
     announced size, gives the same bytes as the CLI;
   - sharded safetensors (with the index), pytorch_model.bin written by torch.save (the decoder
     sharing the embeddings' storage, fused q/k/v views) and .bin shards give the same bytes as
     the plain safetensors checkpoint with the same values;
   - every hostile input gives its specific error: a pickle that calls os.system, a strided
     view, the legacy torch format, compressed entries, a truncated or corrupted zip, truncated
     safetensors, huge sizes and offsets, bad header JSON, overlaps; misuse of the API; the
     memory ceiling; hand-made pickles with other GLOBALs and opcodes.
   Needs /usr/bin/python3 with numpy (and python3-torch for the pytorch_model.bin cases). */
#define _POSIX_C_SOURCE 200809L   /* mkdtemp */
#include "base/internal.h"
#include "model/convert_stream.h"
#include "check.h"
#include "hf_expected.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

static char tmp[256];
static int have_torch;

static char *path_of(const char *a, const char *b) {
    static char buf[8][1024];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 1024, "%s/hf/%s%s%s", tmp, a, b ? "/" : "", b ? b : "");
    return p;
}

/* chunk sizes: a fixed size, or (size 0) pseudo-random 1..9000 from a seed */
typedef struct { size_t fixed; uint32_t seed; } chunker;
static size_t next_chunk(chunker *k) {
    if (k->fixed) return k->fixed;
    k->seed = k->seed * 1664525u + 1013904223u;
    size_t r = (k->seed >> 8) % 9000;
    return 1 + (r < 3000 ? r % 17 : r);   /* many tiny chunks, some large */
}

static int push_file(bl_conv *c, const char *dir, const char *name, chunker *k, int known, bl_err *e) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    uint8_t *b; size_t n;
    if (bl_read_whole_file(p, &b, &n, e) < 0) return -1;
    int rc = bl_conv_begin_file(c, name, known ? (int64_t)n : -1, e);
    for (size_t o = 0; rc == 0 && o < n;) {
        size_t m = next_chunk(k);
        if (m > n - o) m = n - o;
        rc = bl_conv_push(c, b + o, m, e);
        o += m;
    }
    if (rc == 0) rc = bl_conv_end_file(c, e);
    free(b);
    return rc;
}

static int give_small(bl_conv *c, const char *dir, const char *name, bl_err *e) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (!file_exists(p)) return 0;
    uint8_t *b; size_t n;
    if (bl_read_whole_file(p, &b, &n, e) < 0) return -1;
    int rc = !strcmp(name, "config.json") ? bl_conv_set_config(c, (const char *)b, n, e)
           : strstr(name, "index.json") ? bl_conv_set_index(c, name, (const char *)b, n, e)
           : bl_conv_set_tokenizer_file(c, name, b, n, e);
    free(b);
    return rc;
}

/* A directory through the push API, as the page's worker does it. */
static int stream_dir(const char *dir, int dtype, chunker k, int known, uint8_t **out, size_t *len,
                      bl_conv_progress *pr, bl_err *e) {
    bl_conv_opts o = {dtype, 0, 0};
    bl_conv *c = bl_conv_new(&o, e);
    if (!c) return -1;
    const char *small[] = {"config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof small / sizeof small[0]; i++) rc = give_small(c, dir, small[i], e);
    char p[1024];
    const char *idx[] = {"model.safetensors.index.json", "pytorch_model.bin.index.json"};
    const char *one[] = {"model.safetensors", "pytorch_model.bin"};
    int done = 0;
    for (int i = 0; rc == 0 && i < 2 && !done; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, idx[i]);
        if (file_exists(p)) {
            rc = give_small(c, dir, idx[i], e);
            for (int f = 0; rc == 0 && bl_conv_file(c, f); f++) rc = push_file(c, dir, bl_conv_file(c, f), &k, known, e);
            done = 1;
        }
        snprintf(p, sizeof p, "%s/%s", dir, one[i]);
        if (!done && file_exists(p)) { rc = push_file(c, dir, one[i], &k, known, e); done = 1; }
    }
    if (rc == 0) rc = bl_conv_finish(c, out, len, e);
    if (pr) bl_conv_get_progress(c, pr);
    bl_conv_free(c);
    return rc;
}

static uint8_t *cli_convert(const char *dir, int dtype, size_t *len) {
    bl_err e = {{0}};
    char out[1024];
    snprintf(out, sizeof out, "%s/out.bin", tmp);
    remove(out);
    if (bl_convert_hf(dir, out, dtype, 0, &e) < 0) { CHECK(0, "convert %s: %s", dir, e.msg); return NULL; }
    uint8_t *b;
    if (bl_read_whole_file(out, &b, len, &e) < 0) { CHECK(0, "%s", e.msg); return NULL; }
    return b;
}

/* The reference: bl_model_write on make_hf.py's golden f32 values and vocab. */
static uint8_t *golden_write(const char *dir, int dtype, size_t *len) {
    char p[1024];
    snprintf(p, sizeof p, "%s/expected.txt", dir);
    expected x;
    if (read_expected(p, &x) < 0) return NULL;
    bl_config c;
    memset(&c, 0, sizeof c);
    const int *k = x.cfg;
    c.vocab_size = k[0]; c.hidden = k[1]; c.layers = k[2]; c.heads = k[3]; c.intermediate = k[4];
    c.max_pos = k[5]; c.type_vocab = k[6]; c.act = k[7]; c.lowercase = k[8]; c.strip_accents = k[9];
    c.chinese_chars = k[10]; c.has_mlm = k[11];
    c.ln_eps = x.eps;
    bl_wtensor t[64];
    for (int i = 0; i < x.n; i++) {
        t[i].name = x.names[i];
        t[i].rows = x.rows[i];
        t[i].cols = x.cols[i];
        t[i].data = x.vals[i];
    }
    uint8_t *vb; size_t vl; bl_err e = {{0}};
    snprintf(p, sizeof p, "%s/vocab_expected.txt", dir);
    uint8_t *out = NULL;
    if (bl_read_whole_file(p, &vb, &vl, &e) == 0) {
        /* an int16 file is version 3, whose family block holds the special ids: the BERT
           defaults' lines in the vocab (FORMAT.md), as the converter finds them */
        static const char *sp[5] = {"[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]"};
        int *ids[5] = {&c.cls_id, &c.sep_id, &c.pad_id, &c.mask_id, &c.unk_id};
        for (int k2 = 0; k2 < 5; k2++) {
            *ids[k2] = -1;
            size_t pos = 0, sl = strlen(sp[k2]);
            for (int line = 0; pos < vl; line++) {
                const char *nl = memchr(vb + pos, '\n', vl - pos);
                const size_t ll = nl ? (size_t)(nl - (const char *)vb) - pos : vl - pos;
                if (ll == sl && !memcmp(vb + pos, sp[k2], sl)) { *ids[k2] = line; break; }
                pos += ll + 1;
            }
        }
        if (bl_model_write(&c, dtype, (const char *)vb, vl, t, x.n, &out, len, &e) < 0) CHECK(0, "write: %s", e.msg);
        free(vb);
    } else CHECK(0, "%s", e.msg);
    free_expected(&x);
    return out;
}

static void expect_stream_error(const char *dir, int known, size_t chunk, const char *want) {
    bl_err e = {{0}};
    uint8_t *out = NULL; size_t len;
    chunker k = {chunk, 7};
    int r = stream_dir(path_of(dir, NULL), BL_DT_I8, k, known, &out, &len, NULL, &e);
    CHECK(r < 0 && out == NULL, "%s (stream, chunk %zu): converted", dir, chunk);
    CHECK(strstr(e.msg, want) != NULL, "%s (stream, chunk %zu, size %s): error '%s' lacks '%s'", dir, chunk,
          known ? "known" : "unknown", e.msg, want);
    free(out);
}

static void expect_cli_error(const char *dir, const char *want) {
    bl_err e = {{0}};
    char out[1024];
    snprintf(out, sizeof out, "%s/bad.bin", tmp);
    int r = bl_convert_hf(path_of(dir, NULL), out, BL_DT_I8, 0, &e);
    CHECK(r < 0 && !file_exists(out), "%s: converted", dir);
    CHECK(strstr(e.msg, want) != NULL, "%s (CLI): error '%s' lacks '%s'", dir, e.msg, want);
}

static int pickle_error(const char *pkl, size_t n, const char *want) {
    bl_pk_result r;
    bl_err e = {{0}};
    int rc = bl_pickle_state_dict("data.pkl", (const uint8_t *)pkl, n, &r, &e);
    if (rc == 0) bl_pk_result_free(&r);
    CHECK(rc < 0 && strstr(e.msg, want), "pickle: error '%s' lacks '%s'", e.msg, want);
    return rc;
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/bertlens_stream_XXXXXX");
    if (make_hf_dirs(tmp)) return check_summary("test_convert_stream");
    char cmd[2048];
    have_torch = file_exists(path_of("pt_f32", "pytorch_model.bin"));
    CHECK(have_torch || getenv("BL_NO_TORCH"), "no pytorch_model.bin cases: install python3-torch (or set BL_NO_TORCH=1)");

    /* 1. CLI == bl_model_write(golden values); stream in any chunks == CLI */
    const char *good[] = {"f32_prefix", "f16_plain_gamma", "bf16_untied", "f32_explicit_tied"};
    const chunker chunks[] = {{1, 0}, {7, 0}, {13, 0}, {4099, 0}, {1 << 20, 0}, {0, 1}, {0, 99}};
    for (size_t g = 0; g < sizeof good / sizeof good[0]; g++)
        for (int dt = 0; dt < 4; dt++) {   /* f32, f16, int8, int16 */
            size_t cl = 0, gl = 0;
            uint8_t *cli = cli_convert(path_of(good[g], NULL), dt, &cl);
            uint8_t *gold = golden_write(path_of(good[g], NULL), dt, &gl);
            CHECK(cli && gold && cl == gl && !memcmp(cli, gold, cl),
                  "%s as %s: the CLI's file (%zu bytes) differs from bl_model_write on the golden values (%zu bytes)",
                  good[g], bl_dtype_name(dt), cl, gl);
            for (size_t k = 0; cli && k < sizeof chunks / sizeof chunks[0]; k++)
                for (int known = 0; known < 2; known++) {
                    if (k < 2 && known == 0 && dt != BL_DT_I8) continue;   /* 1-byte runs: once per case suffices */
                    uint8_t *s = NULL; size_t sl = 0; bl_err e = {{0}};
                    bl_conv_progress pr;
                    int r = stream_dir(path_of(good[g], NULL), dt, chunks[k], known, &s, &sl, &pr, &e);
                    CHECK(r == 0, "%s as %s, chunks %zu: %s", good[g], bl_dtype_name(dt), chunks[k].fixed, e.msg);
                    CHECK(r == 0 && sl == cl && !memcmp(s, cli, cl), "%s as %s, chunks %zu/%u, size %s: not the CLI's bytes",
                          good[g], bl_dtype_name(dt), chunks[k].fixed, chunks[k].seed, known ? "known" : "unknown");
                    CHECK(r != 0 || (pr.tensors_done == pr.tensors_total && pr.tensors_total > 0 && pr.bytes > 0),
                          "%s: progress %d/%d tensors", good[g], pr.tensors_done, pr.tensors_total);
                    /* the converter held the output plus small buffers, never a whole source tensor */
                    CHECK(r != 0 || pr.peak_bytes <= cl + 256 + 8192, "%s: peak %zu bytes for a %zu-byte output",
                          good[g], pr.peak_bytes, cl);
                    free(s);
                }
            free(cli);
            free(gold);
        }

    /* 2. the other layouts of the same values: the same bytes */
    struct { const char *dir, *same_as; int torch; } alt[] = {
        {"f32_sharded", "f32_prefix", 0}, {"f16_sharded", "f16_plain_gamma", 0}, {"pt_f32", "f32_prefix", 1},
        {"pt_f16", "f16_plain_gamma", 1}, {"pt_bf16_untied", "bf16_untied", 1}, {"pt_sharded", "f32_prefix", 1}};
    for (size_t a = 0; a < sizeof alt / sizeof alt[0]; a++) {
        if (alt[a].torch && !have_torch) continue;
        for (int dt = 0; dt < 3; dt++) {
            size_t rl = 0, cl = 0;
            uint8_t *ref = cli_convert(path_of(alt[a].same_as, NULL), dt, &rl);
            uint8_t *cli = cli_convert(path_of(alt[a].dir, NULL), dt, &cl);
            CHECK(ref && cli && rl == cl && !memcmp(ref, cli, rl), "%s as %s: not the bytes of %s", alt[a].dir,
                  bl_dtype_name(dt), alt[a].same_as);
            for (size_t k = 0; ref && k < sizeof chunks / sizeof chunks[0]; k++) {
                if (k == 0 && dt != BL_DT_I8) continue;
                uint8_t *s = NULL; size_t sl = 0; bl_err e = {{0}};
                int r = stream_dir(path_of(alt[a].dir, NULL), dt, chunks[k], k % 2, &s, &sl, NULL, &e);
                CHECK(r == 0 && sl == rl && !memcmp(s, ref, rl), "%s as %s, chunks %zu/%u: %s", alt[a].dir,
                      bl_dtype_name(dt), chunks[k].fixed, chunks[k].seed, r ? e.msg : "not the same bytes");
                free(s);
            }
            free(ref);
            free(cli);
        }
    }

    /* 3. hostile inputs: their specific errors, from the CLI and from the stream */
    if (have_torch) {
        const char *sys_msg = "pytorch_model.bin: the pickle calls 'posix system': only tensors are read";
        expect_cli_error("pt_system", sys_msg);
        expect_stream_error("pt_system", 0, 1, sys_msg);
        expect_cli_error("pt_strided", "a tensor is not contiguous row-major");
        expect_cli_error("pt_legacy", "not a zip file (torch.save's format; the legacy format of torch < 1.6 is not read)");
        expect_cli_error("pt_deflated", "data.pkl' is compressed (method 8)");
        expect_cli_error("pt_truncated", "pytorch_model.bin: truncated: the file ends inside entry 'pytorch_model/data/");
        expect_stream_error("pt_truncated", 0, 13, "truncated: the file ends inside entry");
        expect_cli_error("pt_corrupt", "entry 'pytorch_model/data/0': CRC-32 mismatch (corrupted download)");
        expect_stream_error("pt_corrupt", 0, 1, "entry 'pytorch_model/data/0': CRC-32 mismatch");
    }
    expect_cli_error("st_truncated", "model.safetensors: tensor 'bert.embeddings.word_embeddings.weight': data_offsets [");
    expect_stream_error("st_truncated", 0, 5, "model.safetensors: truncated: the file ends at byte");
    expect_stream_error("st_truncated", 0, 1 << 20, "model.safetensors: truncated: the file ends at byte");
    expect_cli_error("st_huge", "tensor 'bert.embeddings.LayerNorm.weight': data_offsets span 32 bytes, its shape and dtype F32 need 18446744073709551615");
    expect_cli_error("st_huge_offsets", "tensor 'cls.predictions.bias': data_offsets [0, 4611686018427387904] out of range");
    expect_stream_error("st_huge_offsets", 0, 1, "tensor 'cls.predictions.bias': data_offsets span 4611686018427387904 bytes");
    expect_stream_error("header_json", 0, 1, "model.safetensors: header: JSON: expected ',' or ']' at byte 11");
    expect_stream_error("header_len", 0, 3, "model.safetensors: bad header length 1099511627776 (at most 104857600)");
    expect_stream_error("overlap", 1, 1, "overlap");
    expect_stream_error("nan", 0, 1, "tensor 'bert.encoder.layer.0.output.LayerNorm.bias': element 0 is NaN or infinite");
    expect_stream_error("wrong_shape", 0, 2, "expected shape [8, 8], got [8, 4]");
    expect_stream_error("missing_tensor", 0, 9, "missing tensor 'encoder.layer.1.intermediate.dense.bias'");
    expect_stream_error("vocab_short", 1, 9, "vocab.txt has 39 tokens, config.json vocab_size is 40");
    expect_stream_error("not_bert", 1, 9, "config.json: model_type 'gpt2' is not supported (supported: bert, distilbert, roberta, xlm-roberta, camembert, electra, albert)");

    /* 4. the API used wrongly, the memory ceiling, a shard index */
    {
        bl_err e = {{0}};
        bl_conv_opts o = {BL_DT_I8, 0, 0};
        uint8_t *cfg; size_t cl;
        bl_read_whole_file(path_of("f32_prefix", "config.json"), &cfg, &cl, &e);
        bl_conv *c = bl_conv_new(&o, &e);
        CHECK(bl_conv_push(c, cfg, 1, &e) < 0 && strstr(e.msg, "outside a file"), "push before begin: %s", e.msg);
        CHECK(bl_conv_set_config(c, (const char *)cfg, cl, &e) < 0 && strstr(e.msg, "outside a file"),
              "errors repeat: %s", e.msg);
        bl_conv_free(c);
        c = bl_conv_new(&o, &e);
        CHECK(bl_conv_set_config(c, (const char *)cfg, cl, &e) == 0, "%s", e.msg);
        CHECK(bl_conv_begin_file(c, "model.safetensors", -1, &e) < 0 && strstr(e.msg, "no vocab.txt or tokenizer.json"),
              "weights before the tokenizer: %s", e.msg);
        bl_conv_free(c);
        c = bl_conv_new(&o, &e);
        CHECK(bl_conv_set_tokenizer_file(c, "merges.txt", cfg, cl, &e) < 0 && strstr(e.msg, "merges.txt: not a tokenizer file"),
              "unknown tokenizer file: %s", e.msg);
        bl_conv_free(c);
        c = bl_conv_new(&o, &e);
        bl_conv_set_config(c, (const char *)cfg, cl, &e);
        give_small(c, path_of("f32_prefix", NULL), "vocab.txt", &e);
        CHECK(bl_conv_begin_file(c, "model.onnx", -1, &e) < 0 && strstr(e.msg, "model.onnx: not a weights file"),
              "unknown weights file: %s", e.msg);
        bl_conv_free(c);
        o.max_bytes = 4096;
        c = bl_conv_new(&o, &e);
        bl_conv_set_config(c, (const char *)cfg, cl, &e);
        give_small(c, path_of("f32_prefix", NULL), "vocab.txt", &e);
        chunker k = {100, 0};
        CHECK(push_file(c, path_of("f32_prefix", NULL), "model.safetensors", &k, 1, &e) < 0 &&
              strstr(e.msg, "the converted model needs 0.0 MB, above the limit of 0.0 MB"), "ceiling: %s", e.msg);
        bl_conv_free(c);
        o.max_bytes = 0;
        /* a shard index: its files in order; a file it does not list; too many bytes */
        c = bl_conv_new(&o, &e);
        bl_conv_set_config(c, (const char *)cfg, cl, &e);
        give_small(c, path_of("f32_sharded", NULL), "vocab.txt", &e);
        CHECK(give_small(c, path_of("f32_sharded", NULL), "model.safetensors.index.json", &e) == 0, "%s", e.msg);
        CHECK(bl_conv_file(c, 0) && !strcmp(bl_conv_file(c, 0), "model-00001-of-00003.safetensors") && bl_conv_file(c, 2) &&
              !strcmp(bl_conv_file(c, 2), "model-00003-of-00003.safetensors") && !bl_conv_file(c, 3), "index files");
        CHECK(bl_conv_begin_file(c, "model.safetensors", -1, &e) < 0 && strstr(e.msg, "not listed in model.safetensors.index.json"),
              "file not in the index: %s", e.msg);
        bl_conv_free(c);
        c = bl_conv_new(&o, &e);
        bl_conv_set_config(c, (const char *)cfg, cl, &e);
        give_small(c, path_of("f32_sharded", NULL), "vocab.txt", &e);
        give_small(c, path_of("f32_sharded", NULL), "model.safetensors.index.json", &e);
        k.fixed = 64;
        CHECK(push_file(c, path_of("f32_sharded", NULL), "model-00002-of-00003.safetensors", &k, 1, &e) == 0, "%s", e.msg);
        uint8_t *out = NULL; size_t ol;
        CHECK(bl_conv_finish(c, &out, &ol, &e) < 0 && strstr(e.msg, "which was not given"), "shards missing: %s", e.msg);
        bl_conv_free(c);
        c = bl_conv_new(&o, &e);
        bl_conv_set_config(c, (const char *)cfg, cl, &e);
        give_small(c, path_of("f32_prefix", NULL), "vocab.txt", &e);
        CHECK(bl_conv_begin_file(c, "model.safetensors", 10, &e) == 0 && bl_conv_push(c, cfg, 11, &e) < 0 &&
              strstr(e.msg, "more than the announced 10 bytes"), "too many bytes: %s", e.msg);
        bl_conv_free(c);
        free(cfg);
    }

    /* 5. hand-made pickles: other GLOBALs, other opcodes, storages out of range */
    {
        static const char eval[] = "\x80\x02" "cbuiltins\neval\n" "X\x01\x00\x00\x00" "1" "\x85R.";
        pickle_error(eval, sizeof eval - 1, "data.pkl: the pickle calls 'builtins eval': only tensors are read");
        static const char sg[] = "\x80\x04\x8c\x02os\x8c\x06system\x93.";
        pickle_error(sg, sizeof sg - 1, "the pickle calls 'os system'");
        static const char inst[] = "\x80\x02}(X\x01\x00\x00\x00" "a" "i__main__\nX\n)u.";
        pickle_error(inst, sizeof inst - 1, "the pickle uses opcode 0x69 ('i') at byte 10: only tensors are read");
        static const char newobj[] = "\x80\x02" "ccollections\nOrderedDict\n)\x81.";
        pickle_error(newobj, sizeof newobj - 1, "opcode 0x81");
        static const char notdict[] = "\x80\x02K\x05.";
        pickle_error(notdict, sizeof notdict - 1, "the pickle is not a dict of tensors");
        static const char notensor[] = "\x80\x02}X\x01\x00\x00\x00" "aK\x05s.";
        pickle_error(notensor, sizeof notensor - 1, "'a' is not a tensor: only tensors are read");
        /* a tensor of 6 elements at offset 2 in a storage of 4 */
        static const char oob[] = "\x80\x02}X\x01\x00\x00\x00" "a" "ctorch._utils\n_rebuild_tensor_v2\n"
                                  "((X\x07\x00\x00\x00storage" "ctorch\nFloatStorage\n" "X\x01\x00\x00\x00" "0"
                                  "X\x03\x00\x00\x00" "cpu" "K\x04tQ" "K\x02K\x06\x85K\x01\x85\x89}tRs.";
        pickle_error(oob, sizeof oob - 1, "a tensor of 6 elements at offset 2 lies outside its storage '0' (4 elements)");
        static const char trunc[] = "\x80\x02}X\x10\x00\x00\x00" "ab";
        pickle_error(trunc, sizeof trunc - 1, "the pickle ends inside a string");
        static const char nostop[] = "\x80\x02}";
        pickle_error(nostop, sizeof nostop - 1, "the pickle ends without STOP");
        static const char get[] = "\x80\x02h\x07.";
        pickle_error(get, sizeof get - 1, "memo 7 is empty");
        /* the same well-formed: a tensor [2, 3] at element offset 1 of 7 */
        static const char ok[] = "\x80\x02}X\x01\x00\x00\x00" "a" "ctorch._utils\n_rebuild_tensor_v2\n"
                                 "((X\x07\x00\x00\x00storage" "ctorch\nHalfStorage\n" "X\x01\x00\x00\x00" "0"
                                 "X\x03\x00\x00\x00" "cpu" "K\x07tQ" "K\x01K\x02K\x03\x86K\x03K\x01\x86\x89}tRs.";
        bl_pk_result r; bl_err e = {{0}};
        int rc = bl_pickle_state_dict("data.pkl", (const uint8_t *)ok, sizeof ok - 1, &r, &e);
        CHECK(rc == 0 && r.n == 1 && r.nstorages == 1 && !strcmp(r.t[0].name, "a") && r.t[0].ndim == 2 &&
              r.t[0].shape[0] == 2 && r.t[0].shape[1] == 3 && r.t[0].begin == 2 && r.t[0].end == 14 &&
              r.t[0].dtype == BL_SRC_F16 && r.storages[0].numel == 7, "well-formed pickle: %s", e.msg);
        if (rc == 0) bl_pk_result_free(&r);
    }

    if (!getenv("BL_KEEP_TMP")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    }
    return check_summary("test_convert_stream");
}
