/* test_lens.c — the logit lens (bl_ctx_set_keep_hidden, bl_hidden_at, bl_mlm_logits_at,
   bl_logit_lens; `fill-mask --lens`) on the tiny_f32 test checkpoint (f32 and int8 files, both
   precisions) and the default model through the CLI: the last layer's rows are fill-mask's to
   the bit, the last kept hidden state is bl_hidden, the MLM head on it matches
   tests/model/reference.py's logits (torch float64) within 1e-4 for f32, keeping the states
   changes no output, and no states are kept unless asked. */
#include "bertlens.h"
#include "check.h"
#include "base/json.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* case 1 of tests/model/golden/tiny_f32.txt: 7 tokens, [MASK] (103) at position 5; its MLM
   logits are the golden's rows after the attentions and hidden state */
static const int IDS[7] = {101, 150, 7, 199, 0, 103, 102}, TYPES[7] = {0};

static bl_model *convert(int dt, uint8_t **buf) {
    char out[] = "/tmp/bl_test_lens_XXXXXX";
    int fd = mkstemp(out);
    if (fd < 0) return NULL;
    close(fd);
    bl_err e;
    size_t len;
    int rc = bl_convert_hf("tests/model/models/tiny_f32", out, dt, 0, &e);
    if (!rc) rc = bl_read_model_file(out, buf, &len, &e);
    remove(out);
    bl_model *m = rc ? NULL : bl_model_load(*buf, len, 0, &e);
    CHECK(m != NULL, "tiny_f32 %s: %s", bl_dtype_name(dt), e.msg);
    return m;
}

static void test_library(void) {

    size_t glen;
    float *gold = (float *)check_read_file("tests/model/golden/tiny_f32.bin", &glen);
    const int L = 2, Hh = 4, Hd = 32, V = 200;
    /* case 0: maps, hidden, one logits row (its "mlm 0"); case 1: maps, hidden, then pos 5 first */
    const float *want = gold ? gold + (L * Hh * 1 * 1 + 1 * Hd + V) + (L * Hh * 7 * 7 + 7 * Hd) : NULL;
    CHECK(gold != NULL, "tests/model/golden/tiny_f32.bin read");
    static const int dts[] = {BL_DT_F32, BL_DT_I8};
    for (int di = 0; di < 2; di++) {
        uint8_t *buf = NULL;
        bl_model *m = convert(dts[di], &buf);
        bl_err e;
        bl_ctx *c = m ? bl_ctx_new(m, &e) : NULL;
        if (!c) { bl_model_free(m); free(buf); continue; }
        for (int prec = 0; prec < 2; prec++) {
            bl_forward(c, IDS, TYPES, 7, prec, &e);
            CHECK(bl_hidden_at(c, 0) == NULL, "no per-layer states unless asked");
            float *att0 = malloc(sizeof(float) * L * Hh * 49), *h0 = malloc(sizeof(float) * 7 * Hd);
            memcpy(att0, bl_attention(c), sizeof(float) * L * Hh * 49);
            memcpy(h0, bl_hidden(c), sizeof(float) * 7 * Hd);
            bl_mlm_top fm, lens;
            bl_fill_mask(c, m, IDS, 7, 5, &fm, &e);
            bl_ctx_set_keep_hidden(c, 1);
            CHECK(bl_forward(c, IDS, TYPES, 7, prec, &e) == 0, "forward keeping states: %s", e.msg);
            CHECK(!memcmp(att0, bl_attention(c), sizeof(float) * L * Hh * 49) && !memcmp(h0, bl_hidden(c), sizeof(float) * 7 * Hd),
                  "keeping the states changes no output");
            CHECK(bl_hidden_at(c, L - 1) && !memcmp(bl_hidden_at(c, L - 1), bl_hidden(c), sizeof(float) * 7 * Hd),
                  "the last kept state is bl_hidden");
            CHECK(bl_hidden_at(c, 0) && memcmp(bl_hidden_at(c, 0), bl_hidden(c), sizeof(float) * 7 * Hd),
                  "layer 0's state differs from the last");
            CHECK(bl_logit_lens(c, m, IDS, 7, 5, &lens, &e) == 0, "logit lens: %s", e.msg);
            CHECK(lens.count == L * fm.count && fm.count == 1 && lens.pos[0] == 5 && lens.pos[L - 1] == 5,
                  "lens rows: %d (masks %d × %d layers)", lens.count, fm.count, L);
            if (lens.count == L && fm.count == 1)
                CHECK(!memcmp(lens.ids + (L - 1) * 5, fm.ids, sizeof(int) * 5) && !memcmp(lens.p + (L - 1) * 5, fm.p, sizeof(float) * 5),
                      "the last layer's top-5 is fill-mask's, bit for bit");
            float logits[200];
            if (want && dts[di] == BL_DT_F32 && prec == BL_PREC_F32 && bl_mlm_logits_at(c, L - 1, 5, logits, &e) == 0) {
                double err = 0;
                for (int v = 0; v < V; v++) err = fmax(err, fabs(logits[v] - want[v]));
                CHECK(err < 1e-4, "MLM head on the last kept state vs the reference's logits: %g", err);
            }
            CHECK(bl_mlm_logits_at(c, L, 5, logits, &e) == -1 && strstr(e.msg, "layer 2"), "layer out of range refused");
            bl_ctx_set_keep_hidden(c, 0);
            bl_mlm_top_free(&fm); bl_mlm_top_free(&lens); free(att0); free(h0);
        }
        bl_ctx_free(c);
        bl_model_free(m);
        free(buf);
    }
    free(gold);
}

/* `fill-mask --lens` on the default model: the "top" of every mask is the last lens row, and
   without --lens the output is what it was */
static void test_cli(void) {
    const char *cli = getenv("BERTLENS_CLI");
    if (!cli) { fprintf(stderr, "test_lens: BERTLENS_CLI not set, CLI checks skipped\n"); return; }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s fill-mask -k 4 --lens 'The [MASK] sat on the [MASK].' > /tmp/test_lens_a.json && "
                              "%s fill-mask -k 4 'The [MASK] sat on the [MASK].' > /tmp/test_lens_b.json", cli, cli);
    CHECK(system(cmd) == 0, "bertlens fill-mask [--lens] runs");
    size_t la, lb;
    char *a = check_read_file("/tmp/test_lens_a.json", &la), *b = check_read_file("/tmp/test_lens_b.json", &lb);
    bl_err e;
    bl_json *ja = a ? bl_json_parse(a, la, &e) : NULL, *jb = b ? bl_json_parse(b, lb, &e) : NULL;
    CHECK(ja && jb && bl_json_len(ja) == 2 && bl_json_len(jb) == 2, "two masks in both outputs");
    for (int i = 0; ja && jb && i < bl_json_len(ja); i++) {
        const bl_json *top = bl_json_get(bl_json_at(ja, i), "top"), *lens = bl_json_get(bl_json_at(ja, i), "lens");
        const bl_json *last = bl_json_at(lens, bl_json_len(lens) - 1), *plain = bl_json_get(bl_json_at(jb, i), "top");
        int same = bl_json_len(lens) == 4 && bl_json_len(top) == 4 && bl_json_len(last) == 4;
        for (int r = 0; same && r < 4; r++) {
            const bl_json *x = bl_json_at(top, r), *y = bl_json_at(last, r), *z = bl_json_at(plain, r);
            same = bl_json_get(x, "id")->num == bl_json_get(y, "id")->num && bl_json_get(x, "p")->num == bl_json_get(y, "p")->num &&
                   bl_json_get(x, "id")->num == bl_json_get(z, "id")->num && bl_json_get(x, "p")->num == bl_json_get(z, "p")->num;
        }
        CHECK(same, "mask %d: 4 layers, the last layer's top-4 = fill-mask's = without --lens", i);
    }
    bl_json_free(ja); bl_json_free(jb); free(a); free(b);
}

int main(void) {
    test_library();
    test_cli();
    return check_summary("test_lens");
}
