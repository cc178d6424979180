/* check.h — the tiny test harness every tests/test_*.c uses.
   CHECK(cond, fmt, ...) records a failure with a message; main returns check_summary(). */
#ifndef BL_CHECK_H
#define BL_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include "base/internal.h"

static int check_run, check_failed;

#define CHECK(cond, ...) do { check_run++; if (!(cond)) { check_failed++; \
    fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); \
    fputc('\n', stderr); } } while (0)

/* The whole file, NUL-terminated, or NULL; free() it. */
static inline char *check_read_file(const char *path, size_t *len) {
    uint8_t *b;
    size_t n;
    if (bl_read_whole_file(path, &b, &n, NULL) != 0) return NULL;
    if (len) *len = n;
    return (char *)b;
}

static int check_summary(const char *name) {
    printf("%s: %d checks, %d failed\n", name, check_run, check_failed);
    return check_failed ? 1 : 0;
}
#endif
