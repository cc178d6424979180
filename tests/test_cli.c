/* test_cli.c — the CLI contract of DESIGN.md, run as a user would: the `bertlens` program
   (BERTLENS_CLI) on the committed small checkpoints, every bad input checked for its exact
   error text, exit code, and that stdout stays empty. */
#include "check.h"
#include "base/json.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *cli;

static double jnum(const bl_json *j) { return j && j->type == BL_JSON_NUM ? j->num : NAN; }
static int jtrue(const bl_json *j) { return j && j->type == BL_JSON_BOOL && j->boolean; }
static int jfalse(const bl_json *j) { return j && j->type == BL_JSON_BOOL && !j->boolean; }
static char tmp[256];

typedef struct { int rc; char *out, *err; size_t out_len; } result;

/* Runs `bertlens ARGS` (a shell fragment) with optional stdin text. */
static result run(const char *stdin_text, const char *args) {
    char cmd[4096], in[300], out[300], err[300];
    snprintf(in, sizeof in, "%s/stdin", tmp);
    snprintf(out, sizeof out, "%s/stdout", tmp);
    snprintf(err, sizeof err, "%s/stderr", tmp);
    FILE *f = fopen(in, "wb");
    if (f) { if (stdin_text) fputs(stdin_text, f); fclose(f); }
    snprintf(cmd, sizeof cmd, "'%s' %s <'%s' >'%s' 2>'%s'", cli, args, in, out, err);
    int st = system(cmd);
    result r = {WIFEXITED(st) ? WEXITSTATUS(st) : -1, NULL, NULL, 0};
    r.out = check_read_file(out, &r.out_len);
    r.err = check_read_file(err, NULL);
    return r;
}

static void done(result *r) { free(r->out); free(r->err); }

/* An error: exit code rc, nothing on stdout, stderr exactly "bertlens: error: MSG\n" (MSG may
   contain %s for TMP). */
static void expect_error(const char *args, int rc, const char *msg) {
    char want[1024], full[1024];
    snprintf(full, sizeof full, "bertlens: error: %s\n", msg);
    snprintf(want, sizeof want, full, tmp);
    result r = run(NULL, args);
    CHECK(r.rc == rc, "`bertlens %s`: exit %d, want %d", args, r.rc, rc);
    CHECK(r.out && r.out_len == 0, "`bertlens %s`: stdout not empty: %s", args, r.out ? r.out : "(null)");
    CHECK(r.err && !strncmp(r.err, want, strlen(want)), "`bertlens %s`: stderr\n  got  %s  want %s", args,
          r.err ? r.err : "(null)", want);
    done(&r);
}

static bl_json *run_json(const char *args) {
    result r = run(NULL, args);
    CHECK(r.rc == 0, "`bertlens %s` failed: %s", args, r.err ? r.err : "");
    bl_err e;
    bl_json *j = r.rc == 0 && r.out ? bl_json_parse(r.out, r.out_len, &e) : NULL;
    CHECK(r.rc != 0 || j, "`bertlens %s`: output is not JSON: %s", args, e.msg);
    done(&r);
    return j;
}

static int ints_equal(const bl_json *arr, const int *want, int n) {
    if (bl_json_len(arr) != n) return 0;
    for (int i = 0; i < n; i++)
        if (jnum(bl_json_at(arr, i)) != want[i]) return 0;
    return 1;
}

/* Line i (0-based) of text, without its "\n", into a malloc'd string; NULL if absent. */
static char *nth_line(const char *text, int i) {
    for (; text && i > 0; i--) text = (text = strchr(text, '\n')) ? text + 1 : NULL;
    if (!text || !*text) return NULL;
    size_t n = strcspn(text, "\n");
    char *l = malloc(n + 1);
    if (l) { memcpy(l, text, n); l[n] = 0; }
    return l;
}

/* Whether line `line` of `bertlens JSONL_ARGS` with stdin jsonl_in is, byte for byte, what
   `bertlens ARGS` prints: 1 the same, 0 different, -1 a run failed (printed). */
static int same_output(const char *jsonl_in, int line, const char *jsonl_args, const char *args) {
    result a = run(jsonl_in, jsonl_args), b = run(NULL, args);
    CHECK(a.rc == 0 && b.rc == 0, "`bertlens %s` / `bertlens %s`: %s", jsonl_args, args, a.rc ? a.err : b.err);
    char *l = a.rc == 0 ? nth_line(a.out, line) : NULL;
    int same = !l || b.rc ? -1 : b.out_len == strlen(l) + 1 && !memcmp(l, b.out, b.out_len - 1);
    free(l);
    done(&a);
    done(&b);
    return same;
}

static void test_usage(void) {
    result r = run(NULL, "");
    CHECK(r.rc == 2 && strstr(r.err, "usage: bertlens"), "no arguments: usage on stderr, exit 2 (got %d)", r.rc);
    done(&r);
    r = run(NULL, "--help");
    CHECK(r.rc == 0 && strstr(r.out, "usage: bertlens"), "--help: usage on stdout");
    done(&r);
    expect_error("frobnicate", 2, "unknown command 'frobnicate'");
    expect_error("tokenize --bogus x", 2, "unknown option '--bogus' (see bertlens --help)");
    expect_error("attention -k", 2, "-k needs a value");
    expect_error("attention --threads 0 x", 2, "--threads expects an integer in 1..16, not '0'");
    expect_error("fill-mask -k zero x", 2, "-k expects an integer in 1..1048576, not 'zero'");
}

/* Token ids of bert-base-uncased, as published with the vocab (independent of this code). */
static void test_tokenize(void) {
    const char *V = "--vocab weights/vocab-bert-base-uncased.txt";
    char args[512];
    snprintf(args, sizeof args, "tokenize %s 'Hello, world!'", V);
    bl_json *j = run_json(args);
    int want[] = {101, 7592, 1010, 2088, 999, 102};
    CHECK(j && ints_equal(bl_json_get(j, "ids"), want, 6), "tokenize 'Hello, world!' ids");
    CHECK(j && jfalse(bl_json_get(j, "truncated")), "not truncated");
    bl_json_free(j);

    snprintf(args, sizeof args, "tokenize %s --pair 'you' 'hi there'", V);
    j = run_json(args);
    int ids2[] = {101, 7632, 2045, 102, 2017, 102}, types2[] = {0, 0, 0, 0, 1, 1};
    CHECK(j && ints_equal(bl_json_get(j, "ids"), ids2, 6) && ints_equal(bl_json_get(j, "type_ids"), types2, 6),
          "pair ids and type ids");
    const bl_json *toks = j ? bl_json_get(j, "tokens") : NULL;
    CHECK(toks && bl_json_len(toks) == 6 && !strcmp(bl_json_str(bl_json_at(toks, 0)), "[CLS]") &&
              !strcmp(bl_json_str(bl_json_at(toks, 2)), "there"), "pair tokens");
    bl_json_free(j);

    snprintf(args, sizeof args, "tokenize %s ''", V);   /* empty text: [CLS] [SEP] */
    j = run_json(args);
    int ids3[] = {101, 102};
    CHECK(j && ints_equal(bl_json_get(j, "ids"), ids3, 2), "empty text is [CLS] [SEP]");
    bl_json_free(j);

    snprintf(args, sizeof args, "tokenize %s \"$(printf 'caf\\303 ok\\377')\"", V);   /* invalid UTF-8: replaced, not fatal */
    j = run_json(args);
    int ids4[] = {101, 24689, 7929, 102};   /* "caf" "ok" */
    CHECK(j && ints_equal(bl_json_get(j, "ids"), ids4, 4), "invalid UTF-8 bytes are dropped");
    bl_json_free(j);

    snprintf(args, sizeof args, "tokenize %s --max-len 5 'one two three four five'", V);
    j = run_json(args);
    int ids5[] = {101, 2028, 2048, 2093, 102};
    CHECK(j && ints_equal(bl_json_get(j, "ids"), ids5, 5) && jtrue(bl_json_get(j, "truncated")),
          "truncated to max length and reported");
    bl_json_free(j);

    snprintf(args, sizeof args, "tokenize %s --jsonl", V);
    result r = run("{\"a\":\"hi there\",\"b\":\"you\"}\n{\"a\":\"Hello, world!\"}\n{\"a\":\"x\",\"b\":null}\n", args);
    CHECK(r.rc == 0, "--jsonl: %s", r.err);
    int lines = 0;
    for (char *p = r.out; p && *p; p++) lines += *p == '\n';
    CHECK(lines == 3, "--jsonl: one output line per input line (got %d)", lines);
    CHECK(r.out && strstr(r.out, "[101,7632,2045,102,2017,102]") &&
              strstr(r.out, "[101,7592,1010,2088,999,102]"), "--jsonl: ids in order");
    done(&r);

    /* A NUL inside text is text. HF's BertTokenizer cleans the text character by character
       (BasicTokenizer._clean_text in transformers' tokenization_bert.py: `if cp == 0 or
       cp == 0xFFFD or _is_control(char): continue`): the NUL itself is dropped and every
       character after it kept, so the ids are those of the text without the NUL ("hello\0here"
       is one word, "hellohere", not two). The ids below are @huggingface/tokenizers' for this
       vocab (the tokenizer.json of tests/golden/tokenizer/make_golden.mjs), not ours. A reader
       that stops at the NUL prints [101,7592,102] for the first line. */
    r = run("{\"a\":\"Hello\\u0000 here\",\"b\":\"you\\u0000 there\"}\n{\"a\":\"hello\\u0000here\"}\n"
            "{\"a\":\"\\u0000start end\\u0000\"}\n", args);
    CHECK(r.rc == 0, "--jsonl with NUL: %s", r.err);
    {
        static const int want0[] = {101, 7592, 2182, 102, 2017, 2045, 102}, want1[] = {101, 7592, 5886, 2063, 102},
                         want2[] = {101, 2707, 2203, 102};
        static const int *want[] = {want0, want1, want2}, nwant[] = {7, 5, 4};
        for (int i = 0; i < 3; i++) {
            char *l = nth_line(r.out, i);
            bl_err e;
            bl_json *lj = l ? bl_json_parse(l, strlen(l), &e) : NULL;
            CHECK(lj && ints_equal(bl_json_get(lj, "ids"), want[i], nwant[i]), "--jsonl with NUL, line %d: %s", i + 1,
                  l ? l : "(missing)");
            bl_json_free(lj);
            free(l);
        }
    }
    done(&r);
    r = run("{\"a\":\"ok\"}\n{\"a\": 3}\n", args);
    CHECK(r.rc == 1 && strstr(r.err, "bertlens: error: stdin line 2: expected {\"a\": string"), "--jsonl bad line: %s", r.err);
    done(&r);
    r = run("{\"a\":\"ok\"\n", args);
    CHECK(r.rc == 1 && strstr(r.err, "bertlens: error: stdin line 1: "), "--jsonl bad JSON: %s", r.err);
    done(&r);
    r = run("{\"a\":\"ok\",\"b\":false}\n", args);
    CHECK(r.rc == 1 && strstr(r.err, "bertlens: error: stdin line 1: expected {\"a\": string"), "--jsonl b not a string: %s",
          r.err);
    done(&r);
    expect_error("tokenize --vocab /nonexistent/vocab.txt x", 1, "cannot read vocab file '/nonexistent/vocab.txt'");
    expect_error("tokenize --vocab weights/vocab-bert-base-uncased.txt --jsonl x", 1,
                 "tokenize: --jsonl takes the text from stdin, not TEXT or --pair");
}

static void test_model_commands(void) {
    char args[1024];
    snprintf(args, sizeof args, "convert tests/model/models/tiny_f32 -o %s/t.bin --dtype f32", tmp);
    bl_json *j = run_json(args);
    CHECK(j && !strcmp(bl_json_str(bl_json_get(j, "dtype")), "f32"), "convert reports dtype");
    bl_json_free(j);
    snprintf(args, sizeof args, "convert tests/model/models/tiny_f32 -o %s/q.bin", tmp);
    j = run_json(args);
    CHECK(j && !strcmp(bl_json_str(bl_json_get(j, "dtype")), "int16"), "convert defaults to int16");
    bl_json_free(j);
    snprintf(args, sizeof args, "convert tests/model/models/tiny_f32 -o %s/sh --shard-mb 1", tmp);
    j = run_json(args);
    char want[512];
    snprintf(want, sizeof want, "%s/sh.json", tmp);
    CHECK(j && !strcmp(bl_json_str(bl_json_get(j, "output")), want), "sharded convert reads back its manifest");
    bl_json_free(j);

    snprintf(args, sizeof args, "info -m %s/sh.json", tmp);
    j = run_json(args);
    const bl_json *cfg = j ? bl_json_get(j, "config") : NULL;
    CHECK(cfg && jnum(bl_json_get(cfg, "layers")) == 2 && jnum(bl_json_get(cfg, "heads")) == 4,
          "info: config from the manifest");
    CHECK(j && !strcmp(bl_json_str(bl_json_get(j, "checksum")), "ok"), "info: checksum ok");
    bl_json_free(j);

    /* attention: shape, rows sum to 1, both precisions close */
    for (int p = 0; p < 2; p++) {
        snprintf(args, sizeof args, "attention -m %s/%s --precision %s 'hello world the'", tmp, p ? "q.bin" : "t.bin",
                 p ? "native" : "f32");
        j = run_json(args);
        int L = j ? (int)jnum(bl_json_get(j, "layers")) : 0, H = j ? (int)jnum(bl_json_get(j, "heads")) : 0;
        int n = j ? bl_json_len(bl_json_get(j, "ids")) : 0;
        const bl_json *att = j ? bl_json_get(j, "attentions") : NULL;
        CHECK(L == 2 && H == 4 && n >= 3 && bl_json_len(att) == L, "attention: layers %d heads %d n %d", L, H, n);
        double worst = 0;
        for (int l = 0; att && l < L; l++)
            for (int h = 0; h < H; h++) {
                const bl_json *m = bl_json_at(bl_json_at(att, l), h);
                CHECK(bl_json_len(m) == n, "attention[%d][%d] has %d rows", l, h, bl_json_len(m));
                for (int i = 0; i < n; i++) {
                    double s = 0;
                    for (int k = 0; k < n; k++) s += jnum(bl_json_at(bl_json_at(m, i), k));
                    worst = fmax(worst, fabs(s - 1));
                }
            }
        CHECK(worst < 1e-5, "attention rows sum to 1 (worst %g)", worst);
        bl_json_free(j);
    }

    /* truncation: 40 words into a 24-position model */
    snprintf(args, sizeof args, "attention -m %s/t.bin '%s'", tmp,
             "the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the");
    j = run_json(args);
    CHECK(j && jtrue(bl_json_get(j, "truncated")) && bl_json_len(bl_json_get(j, "ids")) == 24,
          "attention: long text truncated to max positions and reported");
    bl_json_free(j);

    /* --threads: the same output, byte for byte, with 1 and 3 threads; the default model (512
       positions) and ~100 tokens, so that the threads take a share (from 64 tokens on) */
    {
        char a1[1200], a3[1200], text[900] = "";
        for (int i = 0; i < 50; i++) strcat(text, i % 5 ? "cat sat " : "the mat, ");
        snprintf(a1, sizeof a1, "attention --threads 1 '%s'", text);
        snprintf(a3, sizeof a3, "attention --threads 3 '%s'", text);
        result r1 = run(NULL, a1), r3 = run(NULL, a3);
        CHECK(r1.rc == 0 && r3.rc == 0 && r1.out_len > 100 && r1.out_len == r3.out_len && !memcmp(r1.out, r3.out, r1.out_len),
              "attention --threads 3 prints what --threads 1 prints");
        done(&r1);
        done(&r3);
    }

    /* fill-mask: one entry per [MASK], k choices, probabilities descending */
    snprintf(args, sizeof args, "fill-mask -m %s/t.bin -k 4 '[MASK] the [MASK]'", tmp);
    j = run_json(args);
    CHECK(j && bl_json_len(j) == 2, "fill-mask: one entry per [MASK]");
    for (int i = 0; j && i < bl_json_len(j); i++) {
        const bl_json *top = bl_json_get(bl_json_at(j, i), "top");
        CHECK(bl_json_len(top) == 4, "fill-mask: k=4 choices");
        for (int t = 1; t < bl_json_len(top); t++)
            CHECK(jnum(bl_json_get(bl_json_at(top, t), "p")) <= jnum(bl_json_get(bl_json_at(top, t - 1), "p")),
                  "fill-mask: probabilities descending");
    }
    CHECK(j && jnum(bl_json_get(bl_json_at(j, 0), "position")) == 1, "fill-mask: position counts [CLS]");
    bl_json_free(j);
    /* probabilities: each in [0, 1], and the top-k of one position (here the whole vocab at k
       large, clamped) sum to at most 1; the whole vocab sums to 1 */
    snprintf(args, sizeof args, "fill-mask -m %s/t.bin -k 1000000 'the [MASK] world [MASK]'", tmp);
    j = run_json(args);
    CHECK(j && bl_json_len(j) == 2, "fill-mask -k 1000000: one entry per [MASK]");
    for (int i = 0; j && i < bl_json_len(j); i++) {
        const bl_json *top = bl_json_get(bl_json_at(j, i), "top");
        double sum = 0, lo = 1, hi = 0;
        for (int t = 0; t < bl_json_len(top); t++) {
            double p = jnum(bl_json_get(bl_json_at(top, t), "p"));
            sum += p;
            lo = fmin(lo, p);
            hi = fmax(hi, p);
        }
        CHECK(bl_json_len(top) > 4 && lo >= 0 && hi <= 1, "fill-mask: %d probabilities in [0, 1] (%g .. %g)", bl_json_len(top), lo, hi);
        CHECK(fabs(sum - 1) <= 1e-5, "fill-mask: the whole vocab sums to 1 (%.9f)", sum);
    }
    bl_json_free(j);
    snprintf(args, sizeof args, "fill-mask -m %s/q.bin -k 3 '[MASK] [MASK] the'", tmp);
    j = run_json(args);
    for (int i = 0; j && i < bl_json_len(j); i++) {
        const bl_json *top = bl_json_get(bl_json_at(j, i), "top");
        double sum = 0;
        int in01 = 1;
        for (int t = 0; t < bl_json_len(top); t++) {
            double p = jnum(bl_json_get(bl_json_at(top, t), "p"));
            sum += p;
            in01 &= p >= 0 && p <= 1;
        }
        CHECK(bl_json_len(top) == 3 && in01 && sum <= 1 + 1e-6, "fill-mask (int16): top-3 in [0, 1], sum %.9f <= 1", sum);
    }
    CHECK(j && bl_json_len(j) == 2, "fill-mask (int16): one entry per [MASK]");
    bl_json_free(j);

    /* Text with a NUL inside (only JSON can carry one) gives what the text without it gives,
       segment b included (the reason: test_tokenize); the second line, the text a reader that
       stops at the NUL would see, must differ, or the comparison proves nothing. */
    {
        char ja[512], aa[512];
        const char *in = "{\"a\":\"hello\\u0000 world the\",\"b\":\"the\\u0000 world\"}\n{\"a\":\"hello\",\"b\":\"the\"}\n";
        snprintf(ja, sizeof ja, "attention -m %s/t.bin --jsonl", tmp);
        snprintf(aa, sizeof aa, "attention -m %s/t.bin --pair 'the world' 'hello world the'", tmp);
        CHECK(same_output(in, 0, ja, aa) == 1, "attention --jsonl: the text after a NUL is kept");
        CHECK(same_output(in, 1, ja, aa) == 0, "attention: the text cut at the NUL gives other output");
        snprintf(ja, sizeof ja, "fill-mask -m %s/t.bin -k 3 --jsonl", tmp);
        snprintf(aa, sizeof aa, "fill-mask -m %s/t.bin -k 3 '[MASK] the [MASK]'", tmp);
        in = "{\"a\":\"[MASK] the\\u0000 [MASK]\"}\n{\"a\":\"[MASK] the\"}\n";
        CHECK(same_output(in, 0, ja, aa) == 1, "fill-mask --jsonl: the [MASK] after a NUL is kept");
        CHECK(same_output(in, 1, ja, aa) == 0, "fill-mask: the text cut at the NUL gives other output");
    }

    /* render: a PNG file */
    snprintf(args, sizeof args, "render -m %s/t.bin 'hello world' --view heatmap --head mean -o %s/h.png", tmp, tmp);
    j = run_json(args);
    bl_json_free(j);
    snprintf(args, sizeof args, "%s/h.png", tmp);
    size_t len = 0;
    char *png = check_read_file(args, &len);
    CHECK(png && len > 100 && !memcmp(png, "\x89PNG\r\n\x1a\n", 8), "render wrote a PNG");
    /* render --jsonl: stdin is one object; "hello\0 world" draws what "hello world" draws, and
       not what "hello" (the text cut at the NUL) draws */
    snprintf(args, sizeof args, "render -m %s/t.bin --jsonl --view heatmap --head mean -o %s/nul.png", tmp, tmp);
    result rr = run("{\"a\":\"hello\\u0000 world\"}\n", args);
    CHECK(rr.rc == 0, "render --jsonl: %s", rr.err);
    done(&rr);
    snprintf(args, sizeof args, "%s/nul.png", tmp);
    size_t nlen = 0;
    char *npng = check_read_file(args, &nlen);
    CHECK(png && npng && nlen == len && !memcmp(png, npng, len), "render --jsonl: the text after a NUL is drawn");
    free(npng);
    snprintf(args, sizeof args, "render -m %s/t.bin 'hello' --view heatmap --head mean -o %s/cut.png", tmp, tmp);
    bl_json_free(run_json(args));
    snprintf(args, sizeof args, "%s/cut.png", tmp);
    npng = check_read_file(args, &nlen);
    CHECK(png && npng && (nlen != len || memcmp(png, npng, len)), "render: the text cut at the NUL draws another picture");
    free(npng);
    free(png);
    snprintf(args, sizeof args, "render -m %s/t.bin --jsonl -o %s/x.png", tmp, tmp);
    rr = run("{\"a\":\"hello\"}\n{\"a\":\"world\"}\n", args);   /* one picture: one object */
    CHECK(rr.rc == 1 && rr.out_len == 0 && strstr(rr.err, "bertlens: error: stdin: JSON: trailing characters after the value at byte 14 (line 2, column 1)"),
          "render --jsonl with two objects: %s", rr.err);
    done(&rr);

    /* export-hf then convert again gives the same file */
    snprintf(args, sizeof args, "export-hf -m %s/t.bin -o %s/hf", tmp, tmp);
    bl_json_free(run_json(args));
    snprintf(args, sizeof args, "convert %s/hf -o %s/t2.bin --dtype f32", tmp, tmp);
    bl_json_free(run_json(args));
    size_t l1 = 0, l2 = 0;
    snprintf(args, sizeof args, "%s/t.bin", tmp);
    char *a = check_read_file(args, &l1);
    snprintf(args, sizeof args, "%s/t2.bin", tmp);
    char *b = check_read_file(args, &l2);
    CHECK(a && b && l1 == l2 && !memcmp(a, b, l1), "export-hf + convert round trip is byte-identical");
    free(a);
    free(b);
}

static void test_bad_inputs(void) {
    char args[1024], path[512];
    expect_error("info -m /nonexistent.bin", 1, "cannot open '/nonexistent.bin': No such file or directory");
    /* truncated weights */
    snprintf(path, sizeof path, "%s/t.bin", tmp);
    size_t len = 0;
    char *b = check_read_file(path, &len);
    CHECK(b && len > 1000, "cannot read %s", path);
    if (!b || len <= 1000) { free(b); return; }
    snprintf(path, sizeof path, "%s/trunc.bin", tmp);
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, 1000, f);
    fclose(f);
    snprintf(args, sizeof args, "attention -m %s/trunc.bin x", tmp);
    char msg[512];
    snprintf(msg, sizeof msg, "%%s/trunc.bin: weights: truncated: header says %zu bytes, got 1000", len);
    expect_error(args, 1, msg);
    /* a flipped payload byte: checksum */
    b[len / 2] ^= 0x40;
    snprintf(path, sizeof path, "%s/flip.bin", tmp);
    f = fopen(path, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
    snprintf(args, sizeof args, "info -m %s/flip.bin", tmp);
    result r = run(NULL, args);
    CHECK(r.rc == 1 && strstr(r.err, "checksum") && r.out_len == 0, "flipped byte: checksum error, got: %s", r.err);
    done(&r);
    /* wrong magic */
    memcpy(b, "NOTBERT!", 8);
    f = fopen(path, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
    r = run(NULL, args);
    CHECK(r.rc == 1 && strstr(r.err, "magic"), "wrong magic named: %s", r.err);
    done(&r);
    free(b);

    snprintf(args, sizeof args, "attention -m %s/t.bin --precision bogus x", tmp);
    expect_error(args, 1, "--precision must be f32 or native, not 'bogus'");
    snprintf(args, sizeof args, "convert tests/model/models/tiny_f32 -o %s/x.bin --dtype int4", tmp);
    expect_error(args, 1, "--dtype must be int16, int8, f16 or f32, not 'int4'");
    snprintf(args, sizeof args, "convert %s -o %s/x.bin", tmp, tmp);   /* not an HF directory */
    expect_error(args, 1, "convert: cannot open '%s/config.json': No such file or directory");
    expect_error("convert tests/model/models/tiny_f32", 1,
                 "convert: usage: bertlens convert HF_DIR -o OUT [--dtype int16|int8|f16|f32] [--shard-mb N]");
    snprintf(args, sizeof args, "render -m %s/t.bin x --view bogus -o %s/x.png", tmp, tmp);
    expect_error(args, 1, "unknown view 'bogus'");
    snprintf(args, sizeof args, "render -m %s/t.bin x --layer 9 -o %s/x.png", tmp, tmp);
    expect_error(args, 1, "--layer 9 out of range 0..1");
    snprintf(args, sizeof args, "attention -m %s/t.bin", tmp);
    expect_error(args, 1, "attention: expected one TEXT argument (or --jsonl)");
    snprintf(args, sizeof args, "fill-mask -m %s/t.bin --jsonl --pair b", tmp);
    expect_error(args, 1, "fill-mask: --jsonl takes the text from stdin, not TEXT or --pair");
    snprintf(args, sizeof args, "render -m %s/t.bin --jsonl x -o %s/x.png", tmp, tmp);
    expect_error(args, 1, "render: --jsonl takes the text from stdin, not TEXT or --pair");
}

int main(void) {
    cli = getenv("BERTLENS_CLI");
    if (!cli) { fprintf(stderr, "test_cli: BERTLENS_CLI is not set (run through ctest)\n"); return 1; }
    snprintf(tmp, sizeof tmp, "/tmp/bertlens-test-cli-%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", tmp);
    if (system(cmd) != 0) return 1;
    test_usage();
    test_tokenize();
    test_model_commands();
    test_bad_inputs();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return check_summary("test_cli");
}
