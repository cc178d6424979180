/* test_default_model.c — the shipped default model, as CI receives it.
   1. weights/manifest.json names it; its size and SHA-256 match the file, and the loader's own
      payload checksum passes.
   2. Masked-word accuracy of the shipped int8 model on the held-out sample that the training
      recipe wrote (weights/train/heldout_eval.jsonl: held-out sentences with words replaced by
      [MASK], the true ids, and the torch f32 model's top-1 for each), compared with the accuracy
      the recipe measured with torch (heldout_eval_summary.json) — nothing here is typed in by
      hand. The int8 model must agree with torch's top-1 on most masks and reach its accuracy
      within a small margin. */
#include "check.h"
#include "bertlens.h"
#include "base/json.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ACC_MARGIN 0.03       /* |accuracy(int8 C) - accuracy(torch f32)|, absolute */
#define MIN_AGREEMENT 0.90    /* share of masks where C's top-1 equals torch's top-1 */

static bl_json *read_json(const char *path) {
    size_t len;
    char *t = check_read_file(path, &len);
    CHECK(t != NULL, "cannot read %s", path);
    if (!t) return NULL;
    bl_err e;
    bl_json *j = bl_json_parse(t, len, &e);
    free(t);
    CHECK(j != NULL, "%s: %s", path, e.msg);
    return j;
}

static double num(const bl_json *j) { return j && j->type == BL_JSON_NUM ? j->num : NAN; }

static int argmax(const float *v, int n) {
    int b = 0;
    for (int i = 1; i < n; i++) if (v[i] > v[b]) b = i;
    return b;
}

int main(void) {
    bl_json *man = read_json("weights/manifest.json");
    if (!man) return check_summary("test_default_model");
    const char *def = bl_json_get_str(man, "default");
    const bl_json *entry = NULL, *models = bl_json_get(man, "models");
    for (int i = 0; def && i < bl_json_len(models); i++) {
        const char *name = bl_json_get_str(bl_json_at(models, i), "name");
        if (name && !strcmp(name, def)) entry = bl_json_at(models, i);
    }
    CHECK(entry && bl_json_get_str(entry, "file"), "manifest: no entry with a file for the default '%s'", def ? def : "?");
    if (!entry) { bl_json_free(man); return check_summary("test_default_model"); }
    char path[512];
    snprintf(path, sizeof path, "weights/%s", bl_json_get_str(entry, "file"));
    size_t len = 0;
    uint8_t *buf = (uint8_t *)check_read_file(path, &len);
    CHECK(buf != NULL, "cannot read the default model %s", path);
    if (!buf) { bl_json_free(man); return check_summary("test_default_model"); }
    uint8_t sha[32];
    char hex[65];
    bl_sha256(buf, len, sha);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", sha[i]);
    CHECK(num(bl_json_get(entry, "size")) == (double)len, "%s: %zu bytes, the manifest says %.0f", path, len,
          num(bl_json_get(entry, "size")));
    const char *want = bl_json_get_str(entry, "sha256");
    CHECK(want && !strcmp(want, hex), "%s: SHA-256 %s, the manifest says %s", path, hex, want ? want : "(none)");

    bl_err e = {{0}};
    bl_model *m = bl_model_load(buf, len, 0, &e);
    CHECK(m != NULL, "%s: %s", path, e.msg);
    bl_ctx *ctx = m ? bl_ctx_new(m, &e) : NULL;
    const bl_config *c = m ? bl_model_config(m) : NULL;
    CHECK(!m || c->has_mlm, "the default model needs its MLM head");
    if (!ctx || !c->has_mlm) goto out;

    bl_json *sum = read_json("weights/train/heldout_eval_summary.json");
    double torch_top1 = num(bl_json_get(bl_json_get(sum, "fill_mask_sample"), "top1"));
    CHECK(!isnan(torch_top1), "heldout_eval_summary.json: no fill_mask_sample.top1");
    bl_json_free(sum);

    char *lines = check_read_file("weights/train/heldout_eval.jsonl", &len);
    CHECK(lines != NULL, "cannot read weights/train/heldout_eval.jsonl");
    int masks = 0, correct = 0, agree = 0, sentences = 0;
    float *logits = malloc(sizeof(float) * (size_t)c->vocab_size);
    int mask_id = bl_vocab_id(bl_model_vocab(m), "[MASK]", 6);
    for (char *p = lines, *nl; p && *p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        if (!ll) continue;
        bl_json *row = bl_json_parse(p, ll, &e);
        CHECK(row != NULL, "heldout_eval.jsonl line %d: %s", sentences + 1, e.msg);
        if (!row) break;
        const char *text = bl_json_get_str(row, "text");
        const bl_json *exp = bl_json_get(row, "expected_ids"), *t1 = bl_json_get(row, "torch_top1_ids");
        bl_encoding enc;
        if (text && bl_tokenize(bl_model_vocab(m), bl_model_tok_opts(m), text, strlen(text), NULL, 0, c->max_pos,
                                &enc, &e) == 0) {
            int k = 0;
            if (bl_forward(ctx, enc.ids, enc.type_ids, enc.n, BL_PREC_NATIVE, &e) == 0) {
                for (int i = 0; i < enc.n; i++) {
                    if (enc.ids[i] != mask_id) continue;
                    if (bl_mlm_logits(ctx, i, logits, &e) != 0) break;
                    int top = argmax(logits, c->vocab_size);
                    correct += top == (int)num(bl_json_at(exp, k));
                    agree += top == (int)num(bl_json_at(t1, k));
                    k++;
                }
            }
            CHECK(k == bl_json_len(exp), "line %d: %d [MASK] tokens, %d expected ids", sentences + 1, k, bl_json_len(exp));
            masks += k;
            bl_encoding_free(&enc);
        }
        sentences++;
        bl_json_free(row);
    }
    double acc = masks ? (double)correct / masks : 0, agr = masks ? (double)agree / masks : 0;
    printf("held-out fill-mask sample: %d sentences, %d masks; int8 C top-1 %.1f%% (torch f32 %.1f%%), "
           "agreement with torch top-1 %.1f%%\n", sentences, masks, 100 * acc, 100 * torch_top1, 100 * agr);
    CHECK(masks >= 100, "only %d masks in the held-out sample", masks);
    CHECK(fabs(acc - torch_top1) <= ACC_MARGIN, "top-1 %.3f differs from torch's %.3f by more than %.2f", acc,
          torch_top1, ACC_MARGIN);
    CHECK(agr >= MIN_AGREEMENT, "top-1 agrees with torch on %.1f%% of masks (< %.0f%%)", 100 * agr, 100 * MIN_AGREEMENT);
    free(logits);
    free(lines);
out:
    bl_ctx_free(ctx);
    bl_model_free(m);
    free(buf);
    bl_json_free(man);
    return check_summary("test_default_model");
}
