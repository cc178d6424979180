/* json.c — see json.h. A recursive-descent parser over a byte range with a depth limit, so
   hostile input can neither overflow the stack nor read past the end. */
#include "base/json.h"
#include "base/internal.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BL_JSON_MAX_DEPTH 512

typedef struct {
    const char *s;
    size_t len, pos;
    bl_err *e;
    int failed;
} bl_jp;

static bl_json *jp_fail(bl_jp *p, size_t at, const char *what) {
    if (!p->failed) {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < at && i < p->len; i++) {
            if (p->s[i] == '\n') { line++; col = 1; }
            else col++;
        }
        bl_fail(p->e, "JSON: %s at byte %zu (line %zu, column %zu)", what, at, line, col);
        p->failed = 1;
    }
    return NULL;
}

static void jp_ws(bl_jp *p) {
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static int jp_hex4(bl_jp *p, size_t at, unsigned *out) {
    if (p->len - at < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[at + i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* Parses a string starting at the opening quote. Decoded output is never longer than the
   source, so one allocation of the source span suffices. */
static char *jp_string(bl_jp *p, size_t *out_len) {
    size_t start = p->pos++;
    size_t end = p->pos;   /* find the closing quote to size the buffer */
    while (end < p->len && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->len) { jp_fail(p, start, "unterminated string"); return NULL; }
    char *o = malloc(end - start + 1);
    if (!o) { jp_fail(p, start, "out of memory"); return NULL; }
    size_t n = 0;
    while (1) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') { p->pos++; break; }
        if (c < 0x20) { free(o); jp_fail(p, p->pos, "control character in string"); return NULL; }
        if (c != '\\') {
            uint32_t cp;
            size_t k = bl_utf8_decode((const uint8_t *)p->s + p->pos, p->len - p->pos, &cp);
            if (!k) { free(o); jp_fail(p, p->pos, "invalid UTF-8 in string"); return NULL; }
            memcpy(o + n, p->s + p->pos, k);
            n += k; p->pos += k;
            continue;
        }
        size_t at = p->pos;
        char x = p->s[p->pos + 1];
        p->pos += 2;
        switch (x) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (jp_hex4(p, p->pos, &cp) < 0) { free(o); jp_fail(p, at, "bad \\u escape"); return NULL; }
            p->pos += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) { free(o); jp_fail(p, at, "unpaired low surrogate in \\u escape"); return NULL; }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (p->len - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
                    jp_hex4(p, p->pos + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF) {
                    free(o); jp_fail(p, at, "unpaired high surrogate in \\u escape"); return NULL;
                }
                p->pos += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            n += bl_utf8_encode(cp, o + n);
            break;
        }
        default: free(o); jp_fail(p, at, "bad escape in string"); return NULL;
        }
    }
    o[n] = 0;
    *out_len = n;
    return o;
}

static bl_json *jp_value(bl_jp *p, int depth);

static bl_json *jp_new(bl_jp *p, int type) {
    bl_json *j = calloc(1, sizeof *j);
    if (!j) return jp_fail(p, p->pos, "out of memory");
    j->type = type;
    return j;
}

static int jp_lit(bl_jp *p, const char *w) {
    size_t n = strlen(w);
    if (p->len - p->pos >= n && !memcmp(p->s + p->pos, w, n)) { p->pos += n; return 1; }
    return 0;
}

static bl_json *jp_number(bl_jp *p) {
    size_t st = p->pos, i = p->pos;
    int is_int = 1;
    if (i < p->len && p->s[i] == '-') i++;
    if (i < p->len && p->s[i] == '0') i++;
    else if (i < p->len && p->s[i] >= '1' && p->s[i] <= '9') while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9') i++;
    else return jp_fail(p, st, "invalid number");
    if (i < p->len && p->s[i] == '.') {
        is_int = 0; i++;
        if (!(i < p->len && p->s[i] >= '0' && p->s[i] <= '9')) return jp_fail(p, i, "invalid number (digit expected after '.')");
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9') i++;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        is_int = 0; i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-')) i++;
        if (!(i < p->len && p->s[i] >= '0' && p->s[i] <= '9')) return jp_fail(p, i, "invalid number (digit expected in exponent)");
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9') i++;
    }
    char tmp[64];
    size_t n = i - st;
    bl_json *j = jp_new(p, BL_JSON_NUM);
    if (!j) return NULL;
    char *buf = n < sizeof tmp ? tmp : malloc(n + 1);   /* strtod needs a terminated copy */
    if (!buf) { free(j); return jp_fail(p, st, "out of memory"); }
    memcpy(buf, p->s + st, n);
    buf[n] = 0;
    j->num = strtod(buf, NULL);
    if (is_int) {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == 0) { j->is_int = 1; j->i64 = v; }   /* ERANGE: keep only the double */
    }
    if (buf != tmp) free(buf);
    p->pos = i;
    return j;
}

static bl_json *jp_value(bl_jp *p, int depth) {
    jp_ws(p);
    if (p->pos >= p->len) return jp_fail(p, p->pos, "unexpected end of input");
    if (depth > BL_JSON_MAX_DEPTH) return jp_fail(p, p->pos, "nesting too deep");
    char c = p->s[p->pos];
    bl_json *j;
    if (c == '{' || c == '[') {
        int obj = c == '{';
        j = jp_new(p, obj ? BL_JSON_OBJ : BL_JSON_ARR);
        if (!j) return NULL;
        p->pos++;
        jp_ws(p);
        if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) { p->pos++; return j; }
        bl_json **tail = &j->child;
        while (1) {
            char *key = NULL;
            size_t klen = 0;
            if (obj) {
                jp_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != '"') { bl_json_free(j); return jp_fail(p, p->pos, "expected a string key"); }
                if (!(key = jp_string(p, &klen))) { bl_json_free(j); return NULL; }
                jp_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != ':') { free(key); bl_json_free(j); return jp_fail(p, p->pos, "expected ':'"); }
                p->pos++;
            }
            bl_json *v = jp_value(p, depth + 1);
            if (!v) { free(key); bl_json_free(j); return NULL; }
            v->key = key;
            v->key_len = klen;
            *tail = v;
            tail = &v->next;
            j->n++;
            jp_ws(p);
            if (p->pos < p->len && p->s[p->pos] == ',') { p->pos++; continue; }
            if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) { p->pos++; return j; }
            bl_json_free(j);
            return jp_fail(p, p->pos, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    if (c == '"') {
        j = jp_new(p, BL_JSON_STR);
        if (!j) return NULL;
        if (!(j->str = jp_string(p, &j->len))) { free(j); return NULL; }
        return j;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return jp_number(p);
    if (jp_lit(p, "true")) { if ((j = jp_new(p, BL_JSON_BOOL))) j->boolean = 1; return j; }
    if (jp_lit(p, "false")) return jp_new(p, BL_JSON_BOOL);
    if (jp_lit(p, "null")) return jp_new(p, BL_JSON_NULL);
    return jp_fail(p, p->pos, "unexpected character");
}

bl_json *bl_json_parse(const char *s, size_t len, bl_err *e) {
    bl_jp p = {s, s ? len : 0, 0, e, 0};
    bl_json *j = jp_value(&p, 0);
    if (!j) return NULL;
    jp_ws(&p);
    if (p.pos != p.len) { bl_json_free(j); return jp_fail(&p, p.pos, "trailing characters after the value"); }
    return j;
}

void bl_json_free(bl_json *j) {
    while (j) {   /* iterate over siblings, recurse only into children (depth is bounded) */
        bl_json *next = j->next;
        bl_json_free(j->child);
        free(j->str);
        free(j->key);
        free(j);
        j = next;
    }
}

const bl_json *bl_json_get(const bl_json *j, const char *key) {
    if (!j || j->type != BL_JSON_OBJ) return NULL;
    const bl_json *found = NULL;
    size_t kl = strlen(key);
    for (const bl_json *c = j->child; c; c = c->next)
        if (c->key_len == kl && !memcmp(c->key, key, kl)) found = c;
    return found;
}

const bl_json *bl_json_at(const bl_json *j, int i) {
    if (!j || j->type != BL_JSON_ARR || i < 0) return NULL;
    const bl_json *c = j->child;
    while (c && i--) c = c->next;
    return c;
}

const char *bl_json_strn(const bl_json *j, size_t *len) {
    if (!j || j->type != BL_JSON_STR) return NULL;
    *len = j->len;
    return j->str;
}

const char *bl_json_get_strn(const bl_json *j, const char *key, size_t *len) { return bl_json_strn(bl_json_get(j, key), len); }

/* A string with a NUL inside is not a C string: NULL, so that no caller silently uses a prefix. */
const char *bl_json_str(const bl_json *j) {
    return j && j->type == BL_JSON_STR && !memchr(j->str, 0, j->len) ? j->str : NULL;
}

const char *bl_json_get_str(const bl_json *j, const char *key) { return bl_json_str(bl_json_get(j, key)); }
int bl_json_len(const bl_json *j) { return j && (j->type == BL_JSON_ARR || j->type == BL_JSON_OBJ) ? j->n : 0; }
int bl_json_is_null(const bl_json *j) { return j && j->type == BL_JSON_NULL; }
