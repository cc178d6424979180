/* fuzz_json.c — libFuzzer target: arbitrary bytes to the JSON parser (core/base/json.c), which reads
   every user-supplied JSON: shard manifests (-m x.json), safetensors headers and config.json
   (convert), `tokenize --jsonl` lines. A parsed tree is walked with the accessors; every string
   must be NUL-terminated at its length (bl_json_strn gives that length; bl_json_str only
   strings without a NUL) and valid UTF-8 was required of the input.
   Built by tests/fuzz/run.sh. */
#include "base/json.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

static size_t walk(const bl_json *j, int depth) {
    REQUIRE(depth <= 600);
    size_t nodes = 1;
    switch (j->type) {
    case BL_JSON_STR: {
        /* the whole length through bl_json_strn; the C string only when no NUL would cut it */
        size_t len = 0;
        REQUIRE(j->str && j->str[j->len] == 0 && bl_json_strn(j, &len) == j->str && len == j->len);
        REQUIRE(bl_json_str(j) == (memchr(j->str, 0, j->len) ? NULL : j->str));
        break;
    }
    case BL_JSON_ARR: case BL_JSON_OBJ: {
        int k = 0;
        for (const bl_json *c = j->child; c; c = c->next, k++) {
            if (j->type == BL_JSON_OBJ) {
                REQUIRE(c->key && c->key[c->key_len] == 0);
                /* lookup by key finds a member with that key (the last one) */
                if (strlen(c->key) == c->key_len) {
                    const bl_json *g = bl_json_get(j, c->key);
                    REQUIRE(g && g->key_len == c->key_len && !memcmp(g->key, c->key, c->key_len));
                }
            } else {
                REQUIRE(bl_json_at(j, k) == c);
            }
            nodes += walk(c, depth + 1);
        }
        REQUIRE(k == j->n && bl_json_len(j) == k);
        REQUIRE(bl_json_at(j, k) == NULL && bl_json_at(j, -1) == NULL);
        break;
    }
    case BL_JSON_NULL: REQUIRE(bl_json_is_null(j)); break;
    case BL_JSON_BOOL: REQUIRE(j->boolean == 0 || j->boolean == 1); break;
    case BL_JSON_NUM: if (j->is_int) REQUIRE((double)j->i64 == j->num); break;
    default: REQUIRE(0);
    }
    return nodes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* an exact-size copy so ASan sees any read past the end (no NUL terminator) */
    char *s = malloc(size ? size : 1);
    memcpy(s, data, size);
    bl_err e = {{0}};
    bl_json *j = bl_json_parse(s, size, &e);
    if (j) {
        walk(j, 0);
        (void)bl_json_get_str(j, "path");
        bl_json_free(j);
    } else {
        REQUIRE(strncmp(e.msg, "JSON: ", 6) == 0 || e.msg[0]);
    }
    free(s);
    return 0;
}
