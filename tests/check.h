/* check.h — the tiny test harness every tests/test_*.c uses.
   CHECK(cond, fmt, ...) records a failure with a message; main returns check_summary(). */
#ifndef BL_CHECK_H
#define BL_CHECK_H
#include <stdio.h>

static int check_run, check_failed;

#define CHECK(cond, ...) do { check_run++; if (!(cond)) { check_failed++; \
    fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); \
    fputc('\n', stderr); } } while (0)

static int check_summary(const char *name) {
    printf("%s: %d checks, %d failed\n", name, check_run, check_failed);
    return check_failed ? 1 : 0;
}
#endif
