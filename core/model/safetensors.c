/* safetensors.c — the safetensors header: an 8-byte little-endian length, then a JSON object
   {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}} whose offsets are
   relative to the data that follows. Read and checked before any tensor data arrives, so the
   streaming converter knows where every tensor lies and can reject a bad file early. */
#include "model/convert_stream.h"
#include "base/json.h"
#include <stdlib.h>
#include <string.h>

void bl_src_tensors_free(bl_src_tensor *t, int n) {
    for (int i = 0; t && i < n; i++) free(t[i].name);
    free(t);
}

static int bl_st_dtype(const char *d, int *src) {
    static const struct { const char *n; int s, src; } k[] = {
        {"F32", 4, BL_SRC_F32}, {"F16", 2, BL_SRC_F16}, {"BF16", 2, BL_SRC_BF16},
        {"F64", 8, BL_SRC_OTHER}, {"I64", 8, BL_SRC_OTHER}, {"I32", 4, BL_SRC_OTHER},
        {"I16", 2, BL_SRC_OTHER}, {"I8", 1, BL_SRC_OTHER}, {"U64", 8, BL_SRC_OTHER},
        {"U32", 4, BL_SRC_OTHER}, {"U16", 2, BL_SRC_OTHER}, {"U8", 1, BL_SRC_OTHER},
        {"BOOL", 1, BL_SRC_OTHER}, {"F8_E4M3", 1, BL_SRC_OTHER}, {"F8_E5M2", 1, BL_SRC_OTHER}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(d, k[i].n)) { *src = k[i].src; return k[i].s; }
    return 0;
}

static int bl_by_begin(const void *a, const void *b) {
    const bl_src_tensor *x = *(const bl_src_tensor *const *)a, *y = *(const bl_src_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : x->end < y->end ? -1 : x->end > y->end;
}

int bl_st_header(const char *name, const uint8_t *json, size_t hl, uint64_t data_len,
                 bl_src_tensor **out, int *n, uint64_t *max_end, bl_err *e) {
    *out = NULL;
    *n = 0;
    *max_end = 0;
    bl_err je;
    bl_json *hdr = bl_json_parse((const char *)json, hl, &je);
    if (!hdr) return bl_fail(e, "%s: header: %s", name, je.msg);
    bl_src_tensor *t = NULL;
    const bl_src_tensor **sorted = NULL;
    int nt = 0;
    if (hdr->type != BL_JSON_OBJ) { bl_fail(e, "%s: header is not a JSON object", name); goto fail; }
    t = calloc((size_t)hdr->n + 1, sizeof *t);
    if (!t) { bl_fail(e, "%s: out of memory", name); goto fail; }
    for (const bl_json *j = hdr->child; j; j = j->next) {
        if (!strcmp(j->key, "__metadata__")) continue;
        bl_src_tensor *s = &t[nt];
        const char *dt = bl_json_get_str(j, "dtype");
        const bl_json *shape = bl_json_get(j, "shape"), *offs = bl_json_get(j, "data_offsets");
        if (!dt || !shape || shape->type != BL_JSON_ARR || !offs || offs->type != BL_JSON_ARR || offs->n != 2) {
            bl_fail(e, "%s: tensor '%s': needs dtype, shape and data_offsets [begin, end]", name, j->key);
            goto fail;
        }
        int es = bl_st_dtype(dt, &s->dtype);
        if (!es) { bl_fail(e, "%s: tensor '%s': unknown dtype '%.15s'", name, j->key, dt); goto fail; }
        s->esize = es;
        s->storage = -1;
        snprintf(s->dtname, sizeof s->dtname, "%s", dt);
        if (shape->n > 8) { bl_fail(e, "%s: tensor '%s': %d dimensions", name, j->key, shape->n); goto fail; }
        uint64_t count = 1;
        for (const bl_json *d = shape->child; d; d = d->next) {
            if (d->type != BL_JSON_NUM || !d->is_int || d->i64 < 0 || d->i64 > (1LL << 40)) {
                bl_fail(e, "%s: tensor '%s': bad shape", name, j->key);
                goto fail;
            }
            s->shape[s->ndim++] = d->i64;
            count = count && (uint64_t)d->i64 > UINT64_MAX / count ? UINT64_MAX : count * (uint64_t)d->i64;
        }
        const bl_json *b0 = bl_json_at(offs, 0), *b1 = bl_json_at(offs, 1);
        if (b0->type != BL_JSON_NUM || !b0->is_int || b0->i64 < 0 || b1->type != BL_JSON_NUM || !b1->is_int ||
            b1->i64 < b0->i64) {
            bl_fail(e, "%s: tensor '%s': bad data_offsets", name, j->key);
            goto fail;
        }
        s->begin = (uint64_t)b0->i64;
        s->end = (uint64_t)b1->i64;
        if (data_len != UINT64_MAX && s->end > data_len) {
            bl_fail(e, "%s: tensor '%s': data_offsets [%llu, %llu] out of range (data section is %llu bytes)",
                    name, j->key, (unsigned long long)s->begin, (unsigned long long)s->end,
                    (unsigned long long)data_len);
            goto fail;
        }
        if (count > UINT64_MAX / (uint64_t)es || count * (uint64_t)es != s->end - s->begin) {
            bl_fail(e, "%s: tensor '%s': data_offsets span %llu bytes, its shape and dtype %s need %llu",
                    name, j->key, (unsigned long long)(s->end - s->begin), dt,
                    (unsigned long long)(count > UINT64_MAX / (uint64_t)es ? UINT64_MAX : count * (uint64_t)es));
            goto fail;
        }
        s->name = malloc(j->key_len + 1);
        if (!s->name) { bl_fail(e, "%s: out of memory", name); goto fail; }
        memcpy(s->name, j->key, j->key_len + 1);
        if (s->end > *max_end) *max_end = s->end;
        nt++;
    }
    /* non-overlapping: sort by begin and compare neighbours (empty tensors overlap nothing) */
    sorted = malloc(sizeof *sorted * ((size_t)nt + 1));
    if (!sorted) { bl_fail(e, "%s: out of memory", name); goto fail; }
    for (int i = 0; i < nt; i++) sorted[i] = &t[i];
    qsort(sorted, (size_t)nt, sizeof *sorted, bl_by_begin);
    uint64_t reach = 0;
    const bl_src_tensor *last = NULL;
    for (int i = 0; i < nt; i++) {
        if (sorted[i]->end == sorted[i]->begin) continue;
        if (last && sorted[i]->begin < reach) {
            bl_fail(e, "%s: tensors '%s' and '%s' overlap", name, last->name, sorted[i]->name);
            goto fail;
        }
        reach = sorted[i]->end;
        last = sorted[i];
    }
    free(sorted);
    bl_json_free(hdr);
    *out = t;
    *n = nt;
    return 0;
fail:
    free(sorted);
    bl_src_tensors_free(t, nt);
    bl_json_free(hdr);
    *max_end = 0;
    return -1;
}
