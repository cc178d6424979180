/* manifest.c — the model list (weights/manifest.json: which model) and the shard manifest
   (which parts make its file), resolved by the rules of weights/FORMAT.md, "Model list" and
   "Shards and manifest". The CLI, model_io.c's reader and the page's worker (through
   wasm_api.c) all resolve with these two functions; the service worker, which has no
   WebAssembly, keeps a JS copy that tests/e2e/manifest.test.mjs holds to the same answers. */
#include "base/internal.h"
#include "base/json.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 2^53 - 1: the largest size a JavaScript number holds exactly, so every reader agrees. */
#define BL_SIZE_MAX_EXACT 9007199254740991.0

/* A string node's bytes and length (NULs from "\u0000" included), or NULL. */
static const char *bl_mstr(const bl_json *j, size_t *len) {
    if (!j || j->type != BL_JSON_STR) return NULL;
    *len = j->len;
    return j->str;
}

/* A size: a JSON number that is a whole number in 0 .. 2^53-1 (1.0 and 1e3 count: JavaScript's
   JSON.parse cannot tell them from 1 and 1000). */
static int bl_json_size(const bl_json *j, int64_t *out) {
    if (!j || j->type != BL_JSON_NUM || !(j->num >= 0) || j->num > BL_SIZE_MAX_EXACT || j->num != floor(j->num))
        return -1;
    *out = (int64_t)j->num;
    return 0;
}

/* 64 hex digits, either case: written lowercase to out[65]. */
static int bl_json_sha256(const bl_json *j, char out[65]) {
    size_t len;
    const char *s = bl_mstr(j, &len);
    if (!s || len != 64) return -1;
    for (int i = 0; i < 64; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'F') c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return -1;
        out[i] = c;
    }
    out[64] = 0;
    return 0;
}

static int bl_manifest_path_ok(const char *s, size_t len, int plain) {
    if (!s || len < 1 || len > 255) return 0;
    size_t seg = 0;   /* start of the current segment */
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '/') {
            if (i == len ? 0 : plain) return 0;
            size_t n = i - seg;
            if (n == 0 || (n == 1 && s[seg] == '.') || (n == 2 && s[seg] == '.' && s[seg + 1] == '.')) return 0;
            seg = i + 1;
            continue;
        }
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static char *bl_strndup(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) { memcpy(d, s, n); d[n] = 0; }
    return d;
}

void bl_model_entry_free(bl_model_entry *m) {
    if (!m) return;
    free(m->name);
    free(m->file);
    memset(m, 0, sizeof *m);
}

int bl_model_list_resolve(const char *json, size_t len, bl_model_entry *out, bl_err *e) {
    memset(out, 0, sizeof *out);
    out->size = -1;
    bl_err je;
    bl_json *j = bl_json_parse(json, len, &je);
    if (!j) return bl_fail(e, "model list: %s", je.msg);
    int rc = -1;
    const bl_json *models = bl_json_get(j, "models"), *def = bl_json_get(j, "default"), *entry = NULL;
    if (j->type != BL_JSON_OBJ) { bl_fail(e, "model list: not a JSON object"); goto done; }
    if (!models || models->type != BL_JSON_ARR || models->n < 1) { bl_fail(e, "model list: \"models\" must be a non-empty array"); goto done; }
    if (!def) entry = bl_json_at(models, 0);
    else {
        size_t dlen;
        const char *d = bl_mstr(def, &dlen);
        if (!d) { bl_fail(e, "model list: \"default\" must be a string"); goto done; }
        for (const bl_json *m = models->child; m && !entry; m = m->next) {
            size_t nlen;
            const char *n = bl_mstr(bl_json_get(m, "name"), &nlen);
            if (n && nlen == dlen && !memcmp(n, d, dlen)) entry = m;
        }
        if (!entry) { bl_fail(e, "model list: the default model \"%.64s\" is not in \"models\"", d); goto done; }
    }
    if (entry->type != BL_JSON_OBJ) { bl_fail(e, "model list: the model entry is not an object"); goto done; }
    size_t nlen = 0, flen = 0;
    const char *name = bl_mstr(bl_json_get(entry, "name"), &nlen),
               *file = bl_mstr(bl_json_get(entry, "file"), &flen);
    if (!name || nlen == 0 || memchr(name, 0, nlen)) { bl_fail(e, "model list: the model needs a \"name\" (a non-empty string)"); goto done; }
    if (!file || !bl_manifest_path_ok(file, flen, 0)) {
        bl_fail(e, "model list: model \"%.64s\": \"file\" must be a relative path of letters, digits, '.', '_', '-' "
                   "and '/' (no empty, '.' or '..' parts)", name);
        goto done;
    }
    const bl_json *size = bl_json_get(entry, "size"), *sha = bl_json_get(entry, "sha256");
    if (size && bl_json_size(size, &out->size) < 0) { bl_fail(e, "model list: model \"%.64s\": \"size\" must be a whole number of bytes", name); goto done; }
    if (sha && bl_json_sha256(sha, out->sha256) < 0) { bl_fail(e, "model list: model \"%.64s\": \"sha256\" must be 64 hex digits", name); goto done; }
    out->sharded = flen > 5 && !memcmp(file + flen - 5, ".json", 5);
    if (!(out->name = bl_strndup(name, nlen)) || !(out->file = bl_strndup(file, flen))) {
        bl_model_entry_free(out);
        out->size = -1;
        bl_fail(e, "model list: out of memory");
        goto done;
    }
    rc = 0;
done:
    bl_json_free(j);
    return rc;
}

void bl_shard_manifest_free(bl_shard_manifest *s) {
    if (!s) return;
    for (int i = 0; i < s->nparts; i++) free(s->parts[i].path);
    free(s->parts);
    memset(s, 0, sizeof *s);
}

int bl_shard_manifest_parse(const char *json, size_t len, const bl_model_entry *entry, bl_shard_manifest *out, bl_err *e) {
    memset(out, 0, sizeof *out);
    bl_err je;
    bl_json *j = bl_json_parse(json, len, &je);
    if (!j) return bl_fail(e, "shard manifest: %s", je.msg);
    int rc = -1;
    const bl_json *parts = bl_json_get(j, "parts");
    size_t fmtlen;
    const char *fmt = bl_mstr(bl_json_get(j, "format"), &fmtlen);
    if (!fmt || fmtlen != 25 || memcmp(fmt, "bertlens-weights-manifest", 25)) {
        bl_fail(e, "shard manifest: \"format\" is not \"bertlens-weights-manifest\"");
        goto done;
    }
    if (bl_json_size(bl_json_get(j, "size"), &out->size) < 0 || bl_json_sha256(bl_json_get(j, "sha256"), out->sha256) < 0 ||
        !parts || parts->type != BL_JSON_ARR || parts->n < 1) {
        bl_fail(e, "shard manifest: needs \"size\", \"sha256\" (64 hex digits) and a non-empty \"parts\" array");
        goto done;
    }
    if (entry && entry->size >= 0 && entry->size != out->size) {
        bl_fail(e, "shard manifest: \"size\" %lld differs from the model list's %lld", (long long)out->size, (long long)entry->size);
        goto done;
    }
    if (entry && entry->sha256[0] && strcmp(entry->sha256, out->sha256)) {
        bl_fail(e, "shard manifest: \"sha256\" differs from the model list's");
        goto done;
    }
    if (!(out->parts = calloc((size_t)parts->n, sizeof *out->parts))) { bl_fail(e, "shard manifest: out of memory"); goto done; }
    int64_t sum = 0;
    for (const bl_json *p = parts->child; p; p = p->next) {
        bl_shard_part *q = &out->parts[out->nparts];
        size_t plen;
        const char *path = bl_mstr(bl_json_get(p, "path"), &plen);
        if (!path || !bl_manifest_path_ok(path, plen, 1) || bl_json_size(bl_json_get(p, "size"), &q->size) < 0 ||
            bl_json_sha256(bl_json_get(p, "sha256"), q->sha256) < 0) {
            bl_fail(e, "shard manifest: part %d needs \"path\" (a file name of letters, digits, '.', '_', '-'), \"size\" "
                       "and \"sha256\"", out->nparts);
            goto done;
        }
        if (q->size > out->size - sum) {
            bl_fail(e, "shard manifest: the parts add up to more than \"size\" %lld", (long long)out->size);
            goto done;
        }
        sum += q->size;
        if (!(q->path = bl_strndup(path, plen))) { bl_fail(e, "shard manifest: out of memory"); goto done; }
        out->nparts++;
    }
    if (sum != out->size) {
        bl_fail(e, "shard manifest: the parts add up to %lld bytes, \"size\" says %lld", (long long)sum, (long long)out->size);
        goto done;
    }
    rc = 0;
done:
    if (rc) bl_shard_manifest_free(out);
    bl_json_free(j);
    return rc;
}
