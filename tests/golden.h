/* golden.h — reading the forward-pass golden files (NAME.txt under tests/model/golden and
   tests/model/golden_families: "# comment" lines, then "WORD v1 v2 ..." lines) and comparing
   float outputs with them; shared by test_bert.c and test_families.c. */
#ifndef BL_GOLDEN_H
#define BL_GOLDEN_H
#include "check.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* reads "WORD v1 v2 ..." into vals (count values expected), skipping comment lines before it;
   returns 0 on success and moves *p past the line */
static inline int read_ints(char **p, const char *word, int *vals, int count) {
    char *s = *p;
    while (*s == '#') { s = strchr(s, '\n'); if (!s) return -1; s++; }
    size_t wl = strlen(word);
    if (strncmp(s, word, wl) != 0) return -1;
    s += wl;
    for (int i = 0; i < count; i++) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s) return -1;
        vals[i] = (int)v;
        s = end;
    }
    while (*s == ' ' || *s == '\r') s++;
    if (*s != '\n') return -1;
    *p = s + 1;
    return 0;
}

/* DIR/NAME.txt (returned, NUL-terminated; free() it) and DIR/NAME.bin (*blob, *blen bytes);
   NULL when either cannot be read. */
static inline char *read_golden_files(const char *dir, const char *name, float **blob, size_t *blen) {
    char path[1024];
    *blob = NULL;
    if (snprintf(path, sizeof path, "%s/%s.txt", dir, name) >= (int)sizeof path) return NULL;
    char *txt = check_read_file(path, NULL);
    if (snprintf(path, sizeof path, "%s/%s.bin", dir, name) >= (int)sizeof path) { free(txt); return NULL; }
    *blob = (float *)check_read_file(path, blen);
    if (!txt || !*blob) { free(txt); return NULL; }
    return txt;
}

/* One case's "case N NMLM", "ids", "types" and "mlm" lines; the three arrays are malloc'd (the
   caller frees them). 1: no "case" line (the end of the cases), 0: read, -1: malformed. */
static inline int read_case(char **p, int *n, int *nmlm, int **ids, int **types, int **mlm_pos) {
    int nm[2];
    if (read_ints(p, "case", nm, 2)) return 1;
    *n = nm[0]; *nmlm = nm[1];
    *ids = malloc(sizeof(int) * *n);
    *types = malloc(sizeof(int) * *n);
    *mlm_pos = malloc(sizeof(int) * (*nmlm + 1));
    return read_ints(p, "ids", *ids, *n) || read_ints(p, "types", *types, *n) ||
           read_ints(p, "mlm", *mlm_pos, *nmlm) ? -1 : 0;
}

static inline double maxdiff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d;   /* NaN counts as a failure */
    }
    return m;
}

static inline double maxabs(const float *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}
#endif
