/* model_io.c — native file input: read a weights file, or a manifest of shards that are read,
   checked (size, SHA-256 each and of the whole) and concatenated. The browser does the same
   with fetch in web/; the format is in weights/FORMAT.md. */
#include "base/internal.h"
#include "base/json.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bl_read_whole_file(const char *path, uint8_t **buf, size_t *len, bl_err *e) {
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return bl_fail(e, "cannot open '%s': %s", path, strerror(errno));
    /* Read in growing chunks rather than trusting ftell: works for pipes and /dev files too.
       One spare byte keeps the data NUL-terminated, so text files can be used as strings. */
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap + 1);
    while (b) {
        if (n == cap) {
            uint8_t *nb = cap > SIZE_MAX / 2 - 1 ? NULL : realloc(b, cap * 2 + 1);
            if (!nb) { free(b); b = NULL; break; }
            b = nb;
            cap *= 2;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    if (!b) { fclose(f); return bl_fail(e, "cannot read '%s': out of memory", path); }
    if (ferror(f)) { free(b); fclose(f); return bl_fail(e, "cannot read '%s': read error", path); }
    fclose(f);
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}

static int bl_hex_digest(const char *s, uint8_t out[32]) {
    if (!s || strlen(s) != 64) return -1;
    for (int i = 0; i < 64; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0) return -1;
        if (i % 2) out[i / 2] |= (uint8_t)v; else out[i / 2] = (uint8_t)(v << 4);
    }
    return 0;
}

static int bl_json_u64(const bl_json *j, uint64_t *out) {
    if (!j || j->type != BL_JSON_NUM || !j->is_int || j->i64 < 0) return -1;
    *out = (uint64_t)j->i64;
    return 0;
}

static int bl_read_manifest(const char *path, const uint8_t *mb, size_t mlen, uint8_t **buf, size_t *len, bl_err *e) {
    bl_err je;
    bl_json *j = bl_json_parse((const char *)mb, mlen, &je);
    if (!j) return bl_fail(e, "manifest '%s': %s", path, je.msg);
    int rc = -1;
    uint8_t *out = NULL, want[32], got[32];
    uint64_t total;
    const bl_json *parts = bl_json_get(j, "parts");
    const char *fmt = bl_json_get_str(j, "format");
    if (!fmt || strcmp(fmt, "bertlens-weights-manifest")) {
        bl_fail(e, "manifest '%s': \"format\" is not \"bertlens-weights-manifest\"", path);
        goto done;
    }
    if (bl_json_u64(bl_json_get(j, "size"), &total) < 0 || bl_hex_digest(bl_json_get_str(j, "sha256"), want) < 0 ||
        !parts || parts->type != BL_JSON_ARR || parts->n < 1) {
        bl_fail(e, "manifest '%s': needs \"size\", \"sha256\" (64 hex digits) and a non-empty \"parts\" array", path);
        goto done;
    }
    if (total > (uint64_t)SIZE_MAX || !(out = malloc(total ? (size_t)total : 1))) {
        bl_fail(e, "manifest '%s': cannot allocate %llu bytes", path, (unsigned long long)total);
        goto done;
    }
    /* part paths are relative to the manifest's directory */
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    uint64_t pos = 0;
    int i = 0;
    for (const bl_json *p = parts->child; p; p = p->next, i++) {
        const char *pp = bl_json_get_str(p, "path");
        uint64_t psize;
        uint8_t pwant[32];
        if (!pp || !*pp || strchr(pp, '/') || bl_json_u64(bl_json_get(p, "size"), &psize) < 0 ||
            bl_hex_digest(bl_json_get_str(p, "sha256"), pwant) < 0) {
            bl_fail(e, "manifest '%s': part %d needs \"path\" (a file name), \"size\" and \"sha256\"", path, i);
            goto done;
        }
        if (psize > total - pos) {
            bl_fail(e, "manifest '%s': parts add up to more than \"size\" %llu", path, (unsigned long long)total);
            goto done;
        }
        char full[4096];
        if (dirlen + strlen(pp) >= sizeof full) { bl_fail(e, "manifest '%s': part path too long", path); goto done; }
        memcpy(full, path, dirlen);
        strcpy(full + dirlen, pp);
        uint8_t *pb;
        size_t pl;
        if (bl_read_whole_file(full, &pb, &pl, e) < 0) goto done;
        if (pl != psize) {
            bl_fail(e, "part '%s' is %zu bytes, the manifest says %llu", full, pl, (unsigned long long)psize);
            free(pb);
            goto done;
        }
        bl_sha256(pb, pl, got);
        if (pl) memcpy(out + pos, pb, pl);
        free(pb);
        if (memcmp(got, pwant, 32)) { bl_fail(e, "part '%s': SHA-256 mismatch (corrupted or stale part)", full); goto done; }
        pos += psize;
    }
    if (pos != total) {
        bl_fail(e, "manifest '%s': parts add up to %llu bytes, \"size\" says %llu", path,
                (unsigned long long)pos, (unsigned long long)total);
        goto done;
    }
    bl_sha256(out, (size_t)total, got);
    if (memcmp(got, want, 32)) { bl_fail(e, "manifest '%s': SHA-256 of the joined parts does not match", path); goto done; }
    *buf = out;
    *len = (size_t)total;
    out = NULL;
    rc = 0;
done:
    free(out);
    bl_json_free(j);
    return rc;
}

int bl_read_model_file(const char *path, uint8_t **buf, size_t *len, bl_err *e) {
    uint8_t *b;
    size_t n;
    *buf = NULL;
    *len = 0;
    if (bl_read_whole_file(path, &b, &n, e) < 0) return -1;
    size_t i = 0;
    while (i < n && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) i++;
    if (i < n && b[i] == '{') {   /* a manifest (weights files start with "BERTLENS") */
        int rc = bl_read_manifest(path, b, n, buf, len, e);
        free(b);
        return rc;
    }
    *buf = b;
    *len = n;
    return 0;
}
