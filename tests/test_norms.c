/* test_norms.c — value-weighted attention norms (bl_ctx_set_value_norms; Kobayashi et al. 2020)
   on the BERT test checkpoints against tests/model/golden/norms_NAME.bin, which
   tests/model/norms_golden.py computes in torch float64 straight from the definition (its own
   forward pass, ‖α f_h(x_j)‖ and ‖Σ_h α f_h(x_j)‖ as vector norms, no Gram matrix). Errors are
   relative to the largest norm of each case: f32 weights in f32 precision within 1e-4, int8
   weights (either path) within 2e-2. */
#include "bertlens.h"
#include "check.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXCASES 16
typedef struct { int n, ids[64], types[64]; } ncase;

/* the cases of tests/model/golden/NAME.txt (reference.py's index) */
static int read_cases(const char *name, ncase *c, int *L, int *H) {
    char path[256];
    snprintf(path, sizeof path, "tests/model/golden/%s.txt", name);
    char *txt = check_read_file(path, NULL);
    if (!txt) return -1;
    int nc = 0;
    for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "model ", 6)) sscanf(line + 6, "%d %d", L, H);
        else if (!strncmp(line, "case ", 5) && nc < MAXCASES) {
            ncase *k = &c[nc++];
            sscanf(line + 5, "%d", &k->n);
            char *ids = strtok(NULL, "\n") + 4, *types = strtok(NULL, "\n") + 6;
            for (int i = 0; i < k->n && i < 64; i++) {
                k->ids[i] = (int)strtol(ids, &ids, 10);
                k->types[i] = (int)strtol(types, &types, 10);
            }
        }
    }
    free(txt);
    return nc;
}

static bl_model *convert(const char *name, int dt, uint8_t **buf) {
    char hf[256], out[256];
    snprintf(hf, sizeof hf, "tests/model/models/%s", name);
    snprintf(out, sizeof out, "/tmp/bl_test_norms_XXXXXX");
    int fd = mkstemp(out);
    if (fd < 0) return NULL;
    close(fd);
    bl_err e;
    size_t len;
    int rc = bl_convert_hf(hf, out, dt, 0, &e);
    if (!rc) rc = bl_read_model_file(out, buf, &len, &e);
    remove(out);
    bl_model *m = rc ? NULL : bl_model_load(*buf, len, 0, &e);
    CHECK(m != NULL, "%s %s: %s", name, bl_dtype_name(dt), e.msg);
    return m;
}

int main(void) {
    static const char *models[] = {"tiny_f32", "untied_relu", "bf16_tanh", "odd_f16"};
    printf("%-12s %-5s %-7s %-12s %-12s\n", "model", "file", "prec", "norms", "norms_layer");
    for (size_t mi = 0; mi < sizeof models / sizeof *models; mi++) {
        ncase cs[MAXCASES];
        int L = 0, H = 0, nc = read_cases(models[mi], cs, &L, &H);
        char path[256];
        snprintf(path, sizeof path, "tests/model/golden/norms_%s.bin", models[mi]);
        size_t glen;
        float *gold = (float *)check_read_file(path, &glen);
        CHECK(nc > 0 && gold, "%s: golden cases and %s read", models[mi], path);
        if (nc <= 0 || !gold) { free(gold); continue; }
        static const int dts[] = {BL_DT_F32, BL_DT_I8};
        for (int di = 0; di < 2; di++) {
            uint8_t *buf = NULL;
            bl_model *m = convert(models[mi], dts[di], &buf);
            bl_err e;
            bl_ctx *ctx = m ? bl_ctx_new(m, &e) : NULL;
            if (!ctx) { bl_model_free(m); free(buf); continue; }
            for (int prec = 0; prec < 2; prec++) {
                if (dts[di] == BL_DT_F32 && prec == BL_PREC_NATIVE) continue;   /* the same path */
                double en = 0, el = 0;
                size_t off = 0;
                int ok = 1;
                for (int ci = 0; ci < nc; ci++) {
                    const int n = cs[ci].n;
                    const size_t a = (size_t)L * H * n * n, b = (size_t)L * n * n;
                    if ((off + a + b) * 4 > glen) { ok = 0; break; }
                    bl_ctx_set_value_norms(ctx, 0);
                    bl_forward(ctx, cs[ci].ids, cs[ci].types, n, prec, &e);
                    if (bl_value_norms(ctx)) ok = 0;   /* not asked for: none */
                    bl_ctx_set_value_norms(ctx, 1);
                    if (bl_forward(ctx, cs[ci].ids, cs[ci].types, n, prec, &e) != 0) { ok = 0; break; }
                    const float *nv = bl_value_norms(ctx), *lv = bl_value_norms_layer(ctx);
                    if (!nv || !lv) { ok = 0; break; }
                    double mx = 0, dn = 0, mxl = 0, dl = 0;
                    for (size_t k = 0; k < a; k++) { mx = fmax(mx, fabs(gold[off + k])); dn = fmax(dn, fabs(nv[k] - gold[off + k])); }
                    for (size_t k = 0; k < b; k++) { mxl = fmax(mxl, fabs(gold[off + a + k])); dl = fmax(dl, fabs(lv[k] - gold[off + a + k])); }
                    if (!(dn <= mx) || !(dl <= mxl)) dn = dl = INFINITY;   /* NaN */
                    en = fmax(en, dn / mx);
                    el = fmax(el, dl / mxl);
                    off += a + b;
                }
                CHECK(ok && off * 4 == glen, "%s %s: every case ran with norms, golden fully used", models[mi],
                      bl_dtype_name(dts[di]));
                const double tol = dts[di] == BL_DT_I8 ? 2e-2 : 1e-4;   /* int8: the weights themselves are rounded */
                printf("%-12s %-5s %-7s %-12.3g %-12.3g\n", models[mi], bl_dtype_name(dts[di]),
                       prec == BL_PREC_F32 ? "f32" : "native", en, el);
                CHECK(en <= tol && el <= tol, "%s %s %s: relative errors %.3g, %.3g > %g", models[mi],
                      bl_dtype_name(dts[di]), prec == BL_PREC_F32 ? "f32" : "native", en, el, tol);
            }
            bl_ctx_free(ctx);
            bl_model_free(m);
            free(buf);
        }
        free(gold);
    }
    return check_summary("test_norms");
}
