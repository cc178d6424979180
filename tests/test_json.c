/* test_json.c — the JSON parser: values, escapes (\uXXXX incl. surrogate pairs), strictness
   (each malformed input rejected with its position), and agreement with Python's json module
   on a generated corpus when python3 is available. */
#define _POSIX_C_SOURCE 200809L   /* popen */
#include "base/json.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>

static bl_json *parse(const char *s, bl_err *e) { return bl_json_parse(s, strlen(s), e); }

static void expect_error(const char *s, const char *want) {
    bl_err e = {{0}};
    bl_json *j = parse(s, &e);
    CHECK(j == NULL, "accepted bad JSON: %s", s);
    CHECK(strstr(e.msg, want) != NULL, "input %s: error '%s' lacks '%s'", s, e.msg, want);
    bl_json_free(j);
}

int main(void) {
    bl_err e = {{0}};
    bl_json *j = parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\"], \"b\": {\"c\": 12345678901234}, \"a\": 7} ", &e);
    CHECK(j != NULL, "parse failed: %s", e.msg);
    if (j) {
        CHECK(j->type == BL_JSON_OBJ && j->n == 3, "object with 3 members");
        const bl_json *a = bl_json_get(j, "a");
        CHECK(a && a->type == BL_JSON_NUM && a->is_int && a->i64 == 7, "duplicate key: last wins");
        const bl_json *arr = j->child;
        CHECK(arr->type == BL_JSON_ARR && arr->n == 6, "array of 6");
        CHECK(bl_json_at(arr, 0)->is_int && bl_json_at(arr, 0)->i64 == 1, "int 1");
        CHECK(!bl_json_at(arr, 1)->is_int && bl_json_at(arr, 1)->num == -2500.0, "float -2.5e3");
        CHECK(bl_json_at(arr, 2)->type == BL_JSON_BOOL && bl_json_at(arr, 2)->boolean == 1, "true");
        CHECK(bl_json_at(arr, 3)->type == BL_JSON_BOOL && bl_json_at(arr, 3)->boolean == 0, "false");
        CHECK(bl_json_at(arr, 4)->type == BL_JSON_NULL, "null");
        CHECK(bl_json_at(arr, 5)->type == BL_JSON_STR && !strcmp(bl_json_at(arr, 5)->str, "x"), "string");
        CHECK(bl_json_at(arr, 6) == NULL && bl_json_at(arr, -1) == NULL, "out of range index");
        const bl_json *c = bl_json_get(bl_json_get(j, "b"), "c");
        CHECK(c && c->is_int && c->i64 == 12345678901234LL, "big int exact");
        CHECK(bl_json_get(j, "zz") == NULL && bl_json_get(arr, "a") == NULL, "absent key / not object");
        CHECK(bl_json_len(arr) == 6 && bl_json_len(j) == 3 && bl_json_len(NULL) == 0 && bl_json_len(a) == 0, "bl_json_len");
        CHECK(!strcmp(bl_json_str(bl_json_at(arr, 5)), "x") && bl_json_str(a) == NULL && bl_json_str(NULL) == NULL, "bl_json_str");
        CHECK(bl_json_is_null(bl_json_at(arr, 4)) && !bl_json_is_null(a) && !bl_json_is_null(NULL), "bl_json_is_null");
    }
    bl_json_free(j);

    /* escapes: simple, BMP, surrogate pair (U+1F600), embedded NUL */
    j = parse("\"q\\\"b\\\\s\\/n\\nt\\tu\\u00e9\\u4e2d\\ud83d\\ude00z\\u0000end\"", &e);
    CHECK(j != NULL, "escapes: %s", e.msg);
    if (j) {
        const char want[] = "q\"b\\s/n\nt\tu\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80z\0end";
        CHECK(j->len == sizeof want - 1 && !memcmp(j->str, want, sizeof want - 1),
              "decoded escapes (len %zu want %zu)", j->len, sizeof want - 1);
    }
    bl_json_free(j);
    /* The length accessors: "\u0000" in the middle, at the end, next to a surrogate pair; the
       C-string accessors refuse a string with a NUL (a prefix is never handed out as the whole) */
    j = parse("{\"mid\":\"a\\u0000b\",\"end\":\"\\ud83d\\ude00\\u0000\",\"only\":\"\\u0000\","
              "\"pair\":\"\\u0000\\ud834\\udd1e\\u0000x\",\"plain\":\"\\ud83d\\ude00\",\"n\":1}", &e);
    CHECK(j != NULL, "NUL strings: %s", e.msg);
    if (j) {
        static const struct { const char *key, *want; size_t len; } cases[] = {
            {"mid", "a\0b", 3},
            {"end", "\xf0\x9f\x98\x80\0", 5},          /* U+1F600 then NUL */
            {"only", "\0", 1},
            {"pair", "\0\xf0\x9d\x84\x9e\0x", 7},     /* NUL, U+1D11E, NUL, x */
            {"plain", "\xf0\x9f\x98\x80", 4},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            size_t len = 99, len2 = 99;
            const char *s = bl_json_get_strn(j, cases[i].key, &len);
            const char *s2 = bl_json_strn(bl_json_get(j, cases[i].key), &len2);
            CHECK(s && s == s2 && len == cases[i].len && len2 == len && !memcmp(s, cases[i].want, len) && s[len] == 0,
                  "bl_json_get_strn(%s): length %zu, want %zu", cases[i].key, len, cases[i].len);
            int has_nul = memchr(cases[i].want, 0, cases[i].len) != NULL;
            CHECK(has_nul ? bl_json_get_str(j, cases[i].key) == NULL && bl_json_str(bl_json_get(j, cases[i].key)) == NULL
                          : bl_json_get_str(j, cases[i].key) == s,
                  "bl_json_get_str(%s): NULL exactly when the string holds a NUL", cases[i].key);
        }
        size_t len = 42;
        CHECK(!bl_json_get_strn(j, "n", &len) && !bl_json_get_strn(j, "absent", &len) && !bl_json_strn(NULL, &len) &&
                  !bl_json_strn(j, &len) && len == 42, "bl_json_strn: NULL (length untouched) unless a string");
    }
    bl_json_free(j);
    j = parse("\"\xe4\xb8\xad\xf0\x9f\x98\x80\"", &e);
    CHECK(j && j->len == 7, "raw UTF-8 kept");
    bl_json_free(j);
    j = parse("[[[[[]]]]]", &e);
    CHECK(j && j->n == 1, "nested empty arrays");
    bl_json_free(j);
    j = parse("-0", &e);
    CHECK(j && j->is_int && j->i64 == 0, "-0");
    bl_json_free(j);
    j = parse("99999999999999999999", &e);
    CHECK(j && !j->is_int && j->num == 1e20, "int overflowing int64 stays a double");
    bl_json_free(j);

    /* malformed input: each with its message and position */
    expect_error("", "unexpected end of input at byte 0");
    expect_error("{\"a\" 1}", "expected ':' at byte 5 (line 1, column 6)");
    expect_error("{\"a\":1,}", "expected a string key at byte 7");
    expect_error("[1,]", "unexpected character at byte 3");
    expect_error("[1 2]", "expected ',' or ']' at byte 3");
    expect_error("{\"a\":1", "expected ',' or '}' at byte 6");
    expect_error("\"abc", "unterminated string at byte 0");
    expect_error("\"a\\qb\"", "bad escape in string at byte 2");
    expect_error("\"\\u12g4\"", "bad \\u escape at byte 1");
    expect_error("\"\\ud83d\"", "unpaired high surrogate in \\u escape at byte 1");
    expect_error("\"\\ud83dx\"", "unpaired high surrogate");
    expect_error("\"\\ud83d\\u0041\"", "unpaired high surrogate");
    expect_error("\"\\ude00\"", "unpaired low surrogate in \\u escape at byte 1");
    expect_error("\"a\tb\"", "control character in string at byte 2");
    expect_error("\"\xff\"", "invalid UTF-8 in string at byte 1");
    expect_error("\"\xc0\xaf\"", "invalid UTF-8");          /* overlong '/' */
    expect_error("\"\xed\xa0\x80\"", "invalid UTF-8");      /* encoded surrogate */
    expect_error("01", "trailing characters after the value at byte 1");
    expect_error("1.", "digit expected after '.'");
    expect_error("1e+", "digit expected in exponent");
    expect_error("-", "invalid number at byte 0");
    expect_error("+1", "unexpected character at byte 0");
    expect_error("tru", "unexpected character");
    expect_error("NaN", "unexpected character");
    expect_error("{} {}", "trailing characters after the value at byte 3");
    expect_error("[\n1,\n  x]", "unexpected character at byte 7 (line 3, column 3)");
    char deep[1200];
    memset(deep, '[', 600); memset(deep + 600, ']', 600); deep[0] = '['; 
    j = bl_json_parse(deep, 1200, &e);
    CHECK(j == NULL && strstr(e.msg, "nesting too deep"), "depth limit: %s", e.msg);
    bl_json_free(j);
    j = bl_json_parse(deep + 200, 800, &e);
    CHECK(j != NULL, "depth 400 is fine: %s", e.msg);
    bl_json_free(j);

    /* every truncation and single-byte corruption of a document: parsed or rejected with a
       message, never a crash or an over-read (ASan in tests/run.sh) */
    const char *doc = "{\"a\": [1, -2.5e-3, true, null, \"x\\u00e9\\ud83d\\ude00\\n\"], \"b\": {\"c\": {}}, \"d\": \"\xe4\xb8\xad\"}";
    size_t dl = strlen(doc);
    int rejected = 0;
    for (size_t cut = 0; cut < dl; cut++) {
        char *copy = malloc(cut ? cut : 1);   /* exact-size buffer: over-reads are caught */
        memcpy(copy, doc, cut);
        bl_json *t = bl_json_parse(copy, cut, &e);
        CHECK(t == NULL && strstr(e.msg, "JSON: "), "truncation at %zu accepted", cut);
        bl_json_free(t);
        free(copy);
    }
    const char subst[] = "\"\\{}[],:0-e.tfnu \x80\xff\x01";
    for (size_t i = 0; i < dl; i++)
        for (size_t k = 0; k < sizeof subst - 1; k++) {
            char *copy = malloc(dl);
            memcpy(copy, doc, dl);
            copy[i] = subst[k];
            e.msg[0] = 0;
            bl_json *t = bl_json_parse(copy, dl, &e);
            if (!t) { rejected++; CHECK(strstr(e.msg, "JSON: ") && strstr(e.msg, " at byte "), "message: %s", e.msg); }
            bl_json_free(t);
            free(copy);
        }
    CHECK(rejected > 0, "corruptions rejected");

    /* cross-check with Python's json on strings with every kind of escape (independent
       decoder): python writes one JSON string per line and the UTF-8 hex of its decoding */
    FILE *py = popen("python3 tests/data/json_strings.py 2>/dev/null", "r");
    int lines = 0;
    if (py) {
        char line[4096];
        while (fgets(line, sizeof line, py)) {
            char *sp = strrchr(line, ' ');
            if (!sp) continue;
            *sp = 0;
            char *hex = sp + 1;
            hex[strcspn(hex, "\n")] = 0;
            bl_json *s = parse(line, &e);
            CHECK(s && s->type == BL_JSON_STR, "python string %s: %s", line, e.msg);
            if (s) {
                char got[4096];
                for (size_t i = 0; i < s->len; i++) sprintf(got + 2 * i, "%02x", (unsigned char)s->str[i]);
                got[2 * s->len] = 0;
                CHECK(!strcmp(got, hex), "%s decodes to %s, python says %s", line, got, hex);
            }
            bl_json_free(s);
            lines++;
        }
        pclose(py);
    }
    if (lines == 0) printf("test_json: python3 not available, skipped the cross-check\n");
    else CHECK(lines == 300, "python produced %d lines", lines);
    return check_summary("test_json");
}
