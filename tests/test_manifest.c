/* test_manifest.c — the model list and shard manifest rules of weights/FORMAT.md
   (bl_model_list_resolve, bl_shard_manifest_parse) case by case as the text states them, and
   bl_mlm_top_k's order and softmax against a long-double reference summed the other way. */
#include "check.h"
#include <math.h>
#include <string.h>

#define H64 "abababababababababababababababababababababababababababababababab"
#define G64 "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"

static int list_ok(const char *json, const char *want_name, const char *want_file) {
    bl_model_entry m;
    bl_err e = {{0}};
    int rc = bl_model_list_resolve(json, strlen(json), &m, &e);
    if (rc != 0) return want_name ? (fprintf(stderr, "  refused: %s\n", e.msg), 0) : e.msg[0] != 0;
    int ok = want_name && !strcmp(m.name, want_name) && !strcmp(m.file, want_file);
    bl_model_entry_free(&m);
    return ok;
}

int main(void) {
    /* ---- which model */
    CHECK(list_ok("{\"default\":\"b\",\"models\":[{\"name\":\"a\",\"file\":\"a.bin\"},{\"name\":\"b\",\"file\":\"b.bin\"}]}", "b", "b.bin"),
          "the default is the entry named by \"default\"");
    CHECK(list_ok("{\"models\":[{\"name\":\"a\",\"file\":\"a.bin\"},{\"name\":\"b\",\"file\":\"b.bin\"}]}", "a", "a.bin"),
          "without \"default\", the first entry");
    CHECK(list_ok("{\"default\":\"x\",\"models\":[{\"name\":\"x\",\"file\":\"1.bin\"},{\"name\":\"x\",\"file\":\"2.bin\"}]}", "x", "1.bin"),
          "a repeated name: the first entry with it");
    CHECK(list_ok("{\"default\":\"c\",\"models\":[{\"name\":\"a\",\"file\":\"a.bin\"}]}", NULL, NULL),
          "a default that is not listed is an error, not the first entry");
    CHECK(list_ok("{\"default\":null,\"models\":[{\"name\":\"a\",\"file\":\"a.bin\"}]}", NULL, NULL), "default null is an error");
    CHECK(list_ok("{\"models\":[]}", NULL, NULL), "empty models");
    CHECK(list_ok("[]", NULL, NULL), "not an object");
    CHECK(list_ok("{\"models\":[{\"file\":\"a.bin\"}]}", NULL, NULL), "an entry without name");
    CHECK(list_ok("{\"models\":[{\"name\":\"a\\u0000b\",\"file\":\"a.bin\"}]}", NULL, NULL), "a name with NUL");
    /* paths */
    const char *good[] = {"a.bin", "sub/dir/a.json", ".hidden", "a..b", "A-Z_0.9"};
    const char *bad[] = {"", "/a", "../a", "a/..", "a/./b", "./a", "a//b", "a/", "http://x/a", "data:x", "a b",
                         "a\\\\b", "%2e", "a?b", "\\u00e9.bin", ".", ".."};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char j[512];
        snprintf(j, sizeof j, "{\"models\":[{\"name\":\"a\",\"file\":\"%s\"}]}", good[i]);
        CHECK(list_ok(j, "a", good[i]), "path '%s' is valid", good[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char j[512];
        snprintf(j, sizeof j, "{\"models\":[{\"name\":\"a\",\"file\":\"%s\"}]}", bad[i]);
        CHECK(list_ok(j, NULL, NULL), "path '%s' is refused", bad[i]);
    }
    {
        char j[700], f[300];
        memset(f, 'x', 256);
        f[256] = 0;
        snprintf(j, sizeof j, "{\"models\":[{\"name\":\"a\",\"file\":\"%s\"}]}", f);
        CHECK(list_ok(j, NULL, NULL), "a 256-character path is refused");
        f[255] = 0;
        snprintf(j, sizeof j, "{\"models\":[{\"name\":\"a\",\"file\":\"%s\"}]}", f);
        CHECK(list_ok(j, "a", f), "a 255-character path is valid");
    }
    /* sizes, digests, sharded */
    {
        bl_model_entry m;
        bl_err e;
        const char *j = "{\"models\":[{\"name\":\"a\",\"file\":\"d/a.json\",\"size\":1e3,\"sha256\":\"" "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB" "\"}]}";
        CHECK(bl_model_list_resolve(j, strlen(j), &m, &e) == 0 && m.sharded && m.size == 1000 && !strcmp(m.sha256, H64),
              "1e3 is a size, digests are lowercased, .json is sharded");
        bl_model_entry_free(&m);
        j = "{\"models\":[{\"name\":\"a\",\"file\":\".json\"}]}";
        CHECK(bl_model_list_resolve(j, strlen(j), &m, &e) == 0 && !m.sharded && m.size == -1 && !m.sha256[0],
              "\".json\" alone is a weights file; no size, no digest");
        bl_model_entry_free(&m);
        const char *bad_sizes[] = {"-1", "1.5", "\"1\"", "null", "9007199254740992", "1e300"};
        for (size_t i = 0; i < sizeof bad_sizes / sizeof *bad_sizes; i++) {
            char b[256];
            snprintf(b, sizeof b, "{\"models\":[{\"name\":\"a\",\"file\":\"a\",\"size\":%s}]}", bad_sizes[i]);
            CHECK(bl_model_list_resolve(b, strlen(b), &m, &e) != 0, "size %s is refused", bad_sizes[i]);
        }
        char b[256];
        snprintf(b, sizeof b, "{\"models\":[{\"name\":\"a\",\"file\":\"a\",\"size\":9007199254740991}]}");
        CHECK(bl_model_list_resolve(b, strlen(b), &m, &e) == 0 && m.size == 9007199254740991LL, "2^53 - 1 is a size");
        bl_model_entry_free(&m);
        snprintf(b, sizeof b, "{\"models\":[{\"name\":\"a\",\"file\":\"a\",\"sha256\":\"%.63s\"}]}", H64);
        CHECK(bl_model_list_resolve(b, strlen(b), &m, &e) != 0, "a 63-digit sha256 is refused");
    }

    /* ---- shard manifests */
    {
        bl_shard_manifest sm;
        bl_model_entry ent = {.size = -1};
        bl_err e;
#define SHARDS(parts) "{\"format\":\"bertlens-weights-manifest\",\"size\":30,\"sha256\":\"" H64 "\",\"parts\":[" parts "]}"
#define PART(p, n) "{\"path\":\"" p "\",\"size\":" #n ",\"sha256\":\"" G64 "\"}"
        const char *ok = SHARDS(PART("m.part000", 20) "," PART("m.part001", 10));
        CHECK(bl_shard_manifest_parse(ok, strlen(ok), NULL, &sm, &e) == 0 && sm.nparts == 2 && sm.size == 30 &&
              !strcmp(sm.parts[1].path, "m.part001") && sm.parts[1].size == 10, "two parts: %s", e.msg);
        bl_shard_manifest_free(&sm);
        ent.size = 30;
        strcpy(ent.sha256, H64);
        CHECK(bl_shard_manifest_parse(ok, strlen(ok), &ent, &sm, &e) == 0, "the list's size and digest agree");
        bl_shard_manifest_free(&sm);
        ent.size = 31;
        CHECK(bl_shard_manifest_parse(ok, strlen(ok), &ent, &sm, &e) != 0 && strstr(e.msg, "size"), "the list's size differs: %s", e.msg);
        ent.size = -1;
        strcpy(ent.sha256, G64);
        CHECK(bl_shard_manifest_parse(ok, strlen(ok), &ent, &sm, &e) != 0 && strstr(e.msg, "sha256"), "the list's digest differs: %s", e.msg);
        const char *bad[] = {
            SHARDS(PART("a", 10) "," PART("b", 10)), SHARDS(PART("a", 20) "," PART("b", 20)), SHARDS(PART("d/a", 30)),
            SHARDS(PART("..", 30)), SHARDS("{\"file\":\"a\",\"size\":30,\"sha256\":\"" G64 "\"}"), SHARDS(""),
            "{\"format\":\"x\",\"size\":30,\"sha256\":\"" H64 "\",\"parts\":[" PART("a", 30) "]}",
            "{\"format\":\"bertlens-weights-manifest\",\"sha256\":\"" H64 "\",\"parts\":[" PART("a", 30) "]}",
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
            CHECK(bl_shard_manifest_parse(bad[i], strlen(bad[i]), NULL, &sm, &e) != 0 && sm.parts == NULL,
                  "invalid shard manifest %zu is refused (%s)", i, e.msg);
    }

    /* ---- bl_mlm_top_k: order (logit down, id up on ties, NaN last) and softmax */
    {
        const float v[8] = {1.0f, 3.0f, NAN, 3.0f, -2.0f, 0.5f, 3.0f, -INFINITY};
        const int want[8] = {1, 3, 6, 0, 5, 4, 7, 2};
        int ids[8];
        float p[8];
        for (int k = 1; k <= 8; k++) {
            CHECK(bl_mlm_top_k(v, 8, k, ids, NULL) == k && !memcmp(ids, want, sizeof(int) * (size_t)k), "top-%d order", k);
        }
        CHECK(bl_mlm_top_k(v, 8, 100, ids, NULL) == 8, "k clamps to the vocab");
        /* large k takes the sorting path: the same order on a longer vector with many ties */
        enum { V = 3000 };
        static float big[V];
        static int a[V], b[V];
        for (int i = 0; i < V; i++) big[i] = (float)((i * 7919) % 97) * 0.25f;
        CHECK(bl_mlm_top_k(big, V, V, a, NULL) == V, "top-%d (sorting path)", V);
        int sorted = 1;
        for (int i = 1; i < V; i++)
            sorted &= big[a[i - 1]] > big[a[i]] || (big[a[i - 1]] == big[a[i]] && a[i - 1] < a[i]);
        CHECK(sorted, "the sorting path orders by value down, then id up");
        CHECK(bl_mlm_top_k(big, V, 64, b, NULL) == 64 && !memcmp(a, b, sizeof(int) * 64), "insertion and sorting agree");
        /* probabilities against a long-double softmax summed from the last id down */
        const float w[6] = {2.5f, -1.0f, 0.0f, 7.25f, 7.25f, -30.0f};
        CHECK(bl_mlm_top_k(w, 6, 6, ids, p) == 6, "softmax of 6");
        long double mx = 7.25L, sum = 0;
        for (int i = 5; i >= 0; i--) sum += expl((long double)w[i] - mx);
        double worst = 0, total = 0;
        for (int r = 0; r < 6; r++) {
            worst = fmax(worst, fabs((double)(expl((long double)w[ids[r]] - mx) / sum) - (double)p[r]) / (double)p[r]);
            total += p[r];
        }
        CHECK(worst < 1e-6 && fabs(total - 1) < 1e-6 && ids[0] == 3 && ids[1] == 4 && p[0] == p[1],
              "softmax within 1e-6 (relative) of a long-double reference (worst %.3g), sums to 1", worst);
    }
    return check_summary("test_manifest");
}
