/* model_io.c — native file input: read a weights file, or a manifest of shards that are read,
   checked (size, SHA-256 each and of the whole) and concatenated. The browser does the same
   with fetch in web/; the format is in weights/FORMAT.md. */
#include "base/internal.h"
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
    for (int i = 0; i < 64; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) return -1;
        if (i % 2) out[i / 2] |= (uint8_t)v; else out[i / 2] = (uint8_t)(v << 4);
    }
    return 0;
}

/* A shard manifest (checked by bl_shard_manifest_parse): its parts read, each checked against
   its size and SHA-256, concatenated, and the whole checked against the manifest's. */
static int bl_read_manifest(const char *path, const uint8_t *mb, size_t mlen, uint8_t **buf, size_t *len, bl_err *e) {
    bl_shard_manifest sm;
    bl_err me;
    if (bl_shard_manifest_parse((const char *)mb, mlen, NULL, &sm, &me) != 0) return bl_fail(e, "'%s': %s", path, me.msg);
    int rc = -1;
    uint8_t *out = NULL, want[32], got[32];
    if ((uint64_t)sm.size > (uint64_t)SIZE_MAX || !(out = malloc(sm.size ? (size_t)sm.size : 1))) {
        bl_fail(e, "manifest '%s': cannot allocate %lld bytes", path, (long long)sm.size);
        goto done;
    }
    /* part paths are relative to the manifest's directory */
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0, pos = 0;
    for (int i = 0; i < sm.nparts; i++) {
        const bl_shard_part *p = &sm.parts[i];
        char full[4096];
        if (dirlen + strlen(p->path) >= sizeof full) { bl_fail(e, "manifest '%s': part path too long", path); goto done; }
        memcpy(full, path, dirlen);
        strcpy(full + dirlen, p->path);
        uint8_t *pb;
        size_t pl;
        if (bl_read_whole_file(full, &pb, &pl, e) < 0) goto done;
        if ((uint64_t)pl != (uint64_t)p->size) {
            bl_fail(e, "part '%s' is %zu bytes, the manifest says %lld", full, pl, (long long)p->size);
            free(pb);
            goto done;
        }
        bl_sha256(pb, pl, got);
        if (pl) memcpy(out + pos, pb, pl);
        free(pb);
        bl_hex_digest(p->sha256, want);
        if (memcmp(got, want, 32)) { bl_fail(e, "part '%s': SHA-256 mismatch (corrupted or stale part)", full); goto done; }
        pos += pl;
    }
    bl_sha256(out, (size_t)sm.size, got);
    bl_hex_digest(sm.sha256, want);
    if (memcmp(got, want, 32)) { bl_fail(e, "manifest '%s': SHA-256 of the joined parts does not match", path); goto done; }
    *buf = out;
    *len = (size_t)sm.size;
    out = NULL;
    rc = 0;
done:
    free(out);
    bl_shard_manifest_free(&sm);
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
