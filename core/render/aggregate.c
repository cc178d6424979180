/* aggregate.c — the renderer's side of rollout and attention flow: A'_l read from the maps
   (floats or 16-bit), and the results cached so hover re-renders cost nothing extra. The
   maths itself is core/analysis/ (pure functions on float arrays). */
#include "render/render_internal.h"
#include "analysis/analysis.h"
#include <stdlib.h>
#include <string.h>

void bl_residual_layer(const bl_render_input *in, int l, float *out) {
    size_t nn = (size_t)in->n * in->n;
    const size_t base = (size_t)l * in->heads * nn;
    for (size_t k = 0; k < nn; k++) out[k] = 0;
    for (int h = 0; h < in->heads; h++)
        for (size_t k = 0; k < nn; k++) out[k] += bl_attk(in, base + (size_t)h * nn + k);
    bl_residual_attention(out, in->n, in->heads);
}

void bl_residual_layer_vw(const bl_render_input *in, int l, float *out) {
    const int n = in->n;
    const float *m = in->norms_layer + (size_t)l * n * n;
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < n; j++) s += m[(size_t)i * n + j];
        const float inv = s > 0 ? (float)(1.0 / s) : 0;
        for (int j = 0; j < n; j++) out[(size_t)i * n + j] = m[(size_t)i * n + j] * inv;
    }
    bl_residual_attention(out, n, 1);
}

/* A'_l of this render: of the weights, or of the value-weighted norms */
static void bl_layer_a(const bl_renderer *r, const bl_render_input *in, int l, float *out) {
    if (r->vw) bl_residual_layer_vw(in, l, out);
    else bl_residual_layer(in, l, out);
}

/* a cache key for "same A' as last time": FNV-1a over the floats' bits */
static uint64_t bl_hash_floats(uint64_t h, const float *p, size_t cnt) {
    for (size_t k = 0; k < cnt; k++) {
        uint32_t w;
        memcpy(&w, p + k, 4);
        h = bl_fnv(h, w);
    }
    return h;
}

static uint64_t bl_aggregate_seed(int n, int upto) { return BL_FNV_BASIS ^ ((uint64_t)n << 32) ^ (uint64_t)upto; }

/* Keep cnt floats of `src` in a grow-only cache under `key` (skipped when out of memory). */
static void bl_cache_store(float **buf, size_t *cap, uint64_t *key_out, int *valid, const float *src, size_t cnt,
                           uint64_t key) {
    if (cnt > *cap) {
        float *p = realloc(*buf, cnt * sizeof *p);
        if (p) { *buf = p; *cap = cnt; }
    }
    if (*cap >= cnt) {
        memcpy(*buf, src, cnt * sizeof *src);
        *key_out = key;
        *valid = 1;
    }
}

/* The rollout product is O(n³·L) (about a second for n = 512 and 12 layers), so it is cached
   under a key of its inputs: a strided sample of the maps it reads and their address, as the
   model and head views key theirs (hashing every A'_l instead cost ~100 ms per hover at n = 512
   on bert-base). On a miss it multiplies, with two n×n buffers whatever the depth. */
int bl_render_rollout(bl_renderer *r, const bl_render_input *in, int upto, float *out) {
    int n = in->n;
    size_t nn = (size_t)n * n;
    float *s = bl_scratch(r, 2 * nn);
    if (!s) return -1;
    float *a = s, *tmp = s + nn;
    uint64_t key = bl_fnv(bl_aggregate_seed(n, upto), (uint64_t)r->vw);
    key = bl_fnv_maps(key, in, 0, (size_t)(upto + 1) * in->heads * nn);
    if (r->vw) {   /* and the layers' norms (same forward; its own buffer) */
        bl_render_input nl = {.attn = in->norms_layer, .maps_id = in->maps_id};
        key = bl_fnv_maps(key, &nl, 0, (size_t)(upto + 1) * nn);
    }
    if (r->roll_valid && r->roll_key == key && r->roll_cap >= nn) {
        memcpy(out, r->roll, nn * sizeof *out);
        return 0;
    }
    bl_layer_a(r, in, 0, out);
    for (int l = 1; l <= upto; l++) {
        bl_layer_a(r, in, l, a);
        bl_rollout_step(a, out, tmp, n);
    }
    bl_cache_store(&r->roll, &r->roll_cap, &r->roll_key, &r->roll_valid, out, nn, key);
    return 0;
}

int bl_render_flow(bl_renderer *r, const bl_render_input *in, int upto, float *out) {
    int n = in->n, layers = upto + 1;
    size_t nn = (size_t)n * n, ne = (size_t)layers * nn;
    float *res = malloc(ne * sizeof *res);
    if (!res) return -1;
    for (int l = 0; l < layers; l++) bl_layer_a(r, in, l, res + (size_t)l * nn);
    uint64_t key = bl_hash_floats(bl_aggregate_seed(n, upto), res, ne);
    int rc = 0;
    if (r->flow_valid && r->flow_key == key && r->flow_cap >= (size_t)n)
        memcpy(out, r->flow, (size_t)n * sizeof *out);
    else if ((rc = bl_attention_flow(res, layers, n, 0, out)) == 0)   /* token 0 = [CLS] */
        bl_cache_store(&r->flow, &r->flow_cap, &r->flow_key, &r->flow_valid, out, (size_t)n, key);
    free(res);
    return rc;
}
