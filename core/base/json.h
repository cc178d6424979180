/* json.h — a small strict JSON (RFC 8259) parser: internal API of the core, also used by the
   CLI (--jsonl input, manifests). Parses into a tree of nodes; strings are decoded to UTF-8
   (\uXXXX escapes including surrogate pairs) and NUL-terminated, with their byte length kept
   because "\u0000" may occur inside. Errors name the problem and the byte offset, line and
   column: "JSON: expected ':' at byte 12 (line 1, column 13)". Nesting is limited to 512. */
#ifndef BL_JSON_H
#define BL_JSON_H
#include "bertlens.h"

enum { BL_JSON_NULL, BL_JSON_BOOL, BL_JSON_NUM, BL_JSON_STR, BL_JSON_ARR, BL_JSON_OBJ };

typedef struct bl_json bl_json;
struct bl_json {
    int type;          /* BL_JSON_* */
    int boolean;       /* BOOL */
    double num;        /* NUM */
    int is_int;        /* NUM written as an integer (no fraction/exponent) that fits int64 */
    long long i64;     /* NUM when is_int */
    char *str;         /* STR: decoded UTF-8, NUL-terminated */
    size_t len;        /* STR: byte length (may contain NUL bytes) */
    char *key;         /* member of an OBJ: its key (decoded, NUL-terminated) */
    size_t key_len;
    int n;             /* ARR/OBJ: number of children */
    bl_json *child;    /* ARR/OBJ: first child */
    bl_json *next;     /* next sibling */
};

/* Parse exactly one JSON value (surrounding whitespace allowed, nothing else). Input must be
   valid UTF-8. Returns NULL and fills e on error. */
bl_json *bl_json_parse(const char *s, size_t len, bl_err *e);
void bl_json_free(bl_json *j);
/* Object member by key (the last one when a key repeats, as Python does); NULL if absent or
   j is not an object. */
const bl_json *bl_json_get(const bl_json *j, const char *key);
/* Array element i; NULL if out of range or j is not an array. */
const bl_json *bl_json_at(const bl_json *j, int i);
/* Text: the string of a node that may be NULL, with its byte length in *len, which counts
   every byte, NULs from "\u0000" included (the buffer is also NUL-terminated at len). NULL,
   and *len untouched, unless a string. bl_json_get_strn: the same for member key. */
const char *bl_json_strn(const bl_json *j, size_t *len);
const char *bl_json_get_strn(const bl_json *j, const char *key, size_t *len);
/* Names and paths, as C strings: the string of a node that may be NULL (of member key), NULL
   unless a string or when it holds a NUL byte, which a C string would silently cut. */
const char *bl_json_str(const bl_json *j);
const char *bl_json_get_str(const bl_json *j, const char *key);
/* Convenience on a node that may be NULL: its number of children (0 unless an array/object),
   whether it is JSON null. */
int bl_json_len(const bl_json *j);
int bl_json_is_null(const bl_json *j);
#endif
