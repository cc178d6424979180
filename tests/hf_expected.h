/* hf_expected.h — the golden values tests/data/make_hf.py writes beside each Hugging Face
   directory (expected.txt: a "config ..." line, then "tensor NAME ROWS COLS" lines each followed
   by the values as C99 hex floats), made and read by test_convert.c and test_convert_stream.c.
   Include after check.h, with _POSIX_C_SOURCE 200809L (mkdtemp). */
#ifndef BL_HF_EXPECTED_H
#define BL_HF_EXPECTED_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int file_exists(const char *p) {
    FILE *f = fopen(p, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* The python that runs make_hf.py (it needs numpy): /usr/bin/python3 when there is one. */
static inline const char *hf_python(void) {
    return file_exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

/* mkdtemp(dir) (a template ending in XXXXXX), then make_hf.py writes its directories under
   dir/hf; 0 on success, else -1 after a failed CHECK. */
static inline int make_hf_dirs(char *dir) {
    if (!mkdtemp(dir)) { CHECK(0, "mkdtemp failed"); return -1; }
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s tests/data/make_hf.py %s/hf", hf_python(), dir);
    int gen = system(cmd);
    CHECK(gen == 0, "'%s' failed (needs python3 with numpy): the golden HF directories are missing", cmd);
    return gen == 0 ? 0 : -1;
}

typedef struct {
    int cfg[15];      /* V H L NH I P T (eps separately) act lower strip chinese has_mlm tied */
    float eps;
    int n;
    char names[64][96];
    int rows[64], cols[64];
    float *vals[64];
} expected;

static inline int read_expected(const char *path, expected *x) {
    uint8_t *b; size_t len; bl_err e;
    memset(x, 0, sizeof *x);
    if (bl_read_whole_file(path, &b, &len, &e) < 0) { CHECK(0, "%s", e.msg); return -1; }
    char *s = realloc(b, len + 1);
    s[len] = 0;
    char *line = strtok(s, "\n");
    char eps[64];
    int *c = x->cfg;
    if (!line || sscanf(line, "config %d %d %d %d %d %d %d %63s %d %d %d %d %d %d", &c[0], &c[1], &c[2], &c[3],
                        &c[4], &c[5], &c[6], eps, &c[7], &c[8], &c[9], &c[10], &c[11], &c[12]) != 14) {
        free(s);
        CHECK(0, "bad expected.txt header");
        return -1;
    }
    x->eps = strtof(eps, NULL);
    while ((line = strtok(NULL, "\n")) && x->n < 64) {
        int i = x->n;
        if (sscanf(line, "tensor %95s %d %d", x->names[i], &x->rows[i], &x->cols[i]) != 3) break;
        char *v = strtok(NULL, "\n");
        size_t n = (size_t)x->rows[i] * x->cols[i];
        x->vals[i] = malloc(sizeof(float) * n);
        char *p = v;
        for (size_t k = 0; k < n; k++) x->vals[i][k] = strtof(p, &p);   /* C99 hex floats */
        x->n++;
    }
    free(s);
    return 0;
}

static inline void free_expected(expected *x) { for (int i = 0; i < x->n; i++) free(x->vals[i]); }

/* Load a converted file through bl_read_model_file (works for .bin and manifests). */
#endif
