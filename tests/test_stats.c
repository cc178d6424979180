/* test_stats.c — head statistics, head distances, MDS and their summary over sentences
   (core/analysis/stats.c) against tests/model/golden/stats_default.txt, written by
   tests/model/stats_golden.py in numpy (no shared code) from the default model's reference
   attention maps (tests/model/golden/default.*, real bert-base-uncased ids: [CLS], [SEP] and
   punctuation are real tokens). Plus known answers: token kinds, one-hot and uniform maps, MDS
   of points that lie in a plane, the 16-bit maps. */
#include "bertlens.h"
#include "check.h"
#include "base/json.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXC 8

typedef struct { int n, *ids; const float *att; } gcase;

/* tests/model/golden/default.{txt,bin}: attentions per case (see tests/model/reference.py) */
static int load_default(int *L, int *H, gcase *c, int *nc, float **blob) {
    char *txt = check_read_file("tests/model/golden/default.txt", NULL), *p = txt;
    size_t blen;
    *blob = (float *)check_read_file("tests/model/golden/default.bin", &blen);
    if (!txt || !*blob) { free(txt); return -1; }
    int hid = 0, voc = 0;
    size_t off = 0;
    *nc = 0;
    char *line = strtok(p, "\n");
    while (line) {
        if (!strncmp(line, "model ", 6)) sscanf(line + 6, "%d %d %d %d", L, H, &hid, &voc);
        else if (!strncmp(line, "case ", 5) && *nc < MAXC) {
            int n, nm;
            sscanf(line + 5, "%d %d", &n, &nm);
            gcase *g = &c[(*nc)++];
            g->n = n;
            g->ids = malloc(sizeof(int) * n);
            char *ids = strtok(NULL, "\n") + 4;
            for (int i = 0; i < n; i++) g->ids[i] = (int)strtol(ids, &ids, 10);
            strtok(NULL, "\n");   /* types */
            strtok(NULL, "\n");   /* mlm */
            g->att = *blob + off;
            off += (size_t)*L * *H * n * n + (size_t)n * hid + (size_t)nm * voc;
        }
        line = strtok(NULL, "\n");
    }
    free(txt);
    return off * 4 == blen ? 0 : -1;
}

static void test_token_kind(void) {
    struct { const char *t; int k; } cases[] = {
        {"[CLS]", BL_TOKK_CLS}, {"<s>", BL_TOKK_CLS}, {"[SEP]", BL_TOKK_SEP}, {"</s>", BL_TOKK_SEP},
        {".", BL_TOKK_PUNCT}, {",", BL_TOKK_PUNCT}, {"$", BL_TOKK_PUNCT}, {"##.", BL_TOKK_PUNCT},
        {"\xC4\xA0,", BL_TOKK_PUNCT} /* Ġ, */, {"\xE2\x96\x81!", BL_TOKK_PUNCT} /* ▁! */,
        {"\xE2\x80\xA6", BL_TOKK_PUNCT} /* … Po */, {"\xC2\xAB", BL_TOKK_PUNCT} /* « Pi */,
        {"the", 0}, {"##s", 0}, {"a.", 0}, {"##", BL_TOKK_PUNCT} /* two "#" */, {"\xC4\xA0", 0}, {"", 0}, {"[MASK]", 0},
        {"\xE2\x82\xAC", 0} /* € is Sc, not punctuation */,
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK(bl_token_kind(cases[i].t) == cases[i].k, "bl_token_kind(\"%s\") = %d, want %d", cases[i].t,
              bl_token_kind(cases[i].t), cases[i].k);
}

/* the next line of the golden that starts with tag; its numbers after skip leading ints */
static char *next_tag(char **p, const char *tag) {
    size_t tl = strlen(tag);
    while (**p) {
        char *line = *p, *nl = strchr(line, '\n');
        *p = nl ? nl + 1 : line + strlen(line);
        if (!strncmp(line, tag, tl) && line[tl] == ' ') return line + tl + 1;
    }
    return NULL;
}

static void test_golden(void) {
    int L = 0, H = 0, nc = 0;
    gcase c[MAXC];
    float *blob = NULL;
    int rc = load_default(&L, &H, c, &nc, &blob);
    CHECK(rc == 0 && nc == 5, "tests/model/golden/default.* read (%d cases)", nc);
    if (rc) return;
    size_t vlen;
    char *vtxt = check_read_file("weights/vocab-bert-base-uncased.txt", &vlen);
    bl_err e;
    bl_vocab *v = vtxt ? bl_vocab_parse(vtxt, vlen, &e) : NULL;
    char *gold = check_read_file("tests/model/golden/stats_default.txt", NULL), *gp = gold;
    CHECK(v && gold, "vocab and tests/model/golden/stats_default.txt read");
    if (!v || !gold) { free(vtxt); free(gold); free(blob); return; }
    const int M = L * H;
    float *stats = malloc(sizeof(float) * M * BL_STAT_COUNT * nc), *dist = malloc(sizeof(float) * M * M),
          *xy = malloc(sizeof(float) * M * 2);
    double es = 0, ed = 0, em = 0, esum = 0;
    int kinds_seen = 0;
    for (int ci = 0; ci < nc; ci++) {
        int n = c[ci].n;
        uint8_t *kinds = malloc((size_t)n);
        for (int i = 0; i < n; i++) kinds_seen |= kinds[i] = (uint8_t)bl_token_kind(bl_vocab_token(v, c[ci].ids[i]));
        float *st = stats + (size_t)ci * M * BL_STAT_COUNT;
        CHECK(bl_head_stats(c[ci].att, NULL, L, H, n, kinds, st, &e) == 0, "stats: %s", e.msg);
        CHECK(bl_head_distances(c[ci].att, NULL, L, H, n, dist, &e) == 0, "distances: %s", e.msg);
        CHECK(bl_mds2(dist, M, xy, &e) == 0, "mds: %s", e.msg);
        next_tag(&gp, "case");
        for (int m = 0; m < M; m++) {
            char *s = next_tag(&gp, "stat");
            strtol(s, &s, 10); strtol(s, &s, 10);
            for (int k = 0; k < BL_STAT_COUNT; k++) es = fmax(es, fabs(strtod(s, &s) - st[m * BL_STAT_COUNT + k]));
        }
        for (int a = 0; a < M; a++) {
            char *s = next_tag(&gp, "dist");
            for (int b = 0; b < M; b++) ed = fmax(ed, fabs(strtod(s, &s) - dist[a * M + b]));
        }
        for (int a = 0; a < M; a++) {
            char *s = next_tag(&gp, "mds");
            for (int k = 0; k < 2; k++) em = fmax(em, fabs(strtod(s, &s) - xy[a * 2 + k]));
        }
        /* the 16-bit maps give the same numbers within their rounding (7.7e-6 per weight) */
        uint16_t *a16 = malloc(sizeof(uint16_t) * M * n * n);
        float *st16 = malloc(sizeof(float) * M * BL_STAT_COUNT);
        for (size_t k = 0; k < (size_t)M * n * n; k++) a16[k] = (uint16_t)lrintf(c[ci].att[k] * 65535.0f);
        bl_head_stats(NULL, a16, L, H, n, kinds, st16, &e);
        double d16 = 0;
        for (int k = 0; k < M * BL_STAT_COUNT; k++) d16 = fmax(d16, fabs(st16[k] - st[k]));
        CHECK(d16 < 2e-3, "case %d: stats from 16-bit maps differ by %g", ci, d16);
        free(a16); free(st16); free(kinds);
    }
    CHECK(kinds_seen == (BL_TOKK_CLS | BL_TOKK_SEP | BL_TOKK_PUNCT), "the cases hold [CLS], [SEP] and punctuation (%d)", kinds_seen);
    CHECK(es < 2e-6, "head statistics vs numpy: max error %g", es);
    CHECK(ed < 2e-6, "JS distances vs numpy: max error %g", ed);
    CHECK(em < 1e-4, "MDS vs numpy eigh: max error %g", em);
    float *mean = malloc(sizeof(float) * M * BL_STAT_COUNT), *sd = malloc(sizeof(float) * M * BL_STAT_COUNT);
    bl_stats_summary(stats, nc, M * BL_STAT_COUNT, mean, sd);
    for (int m = 0; m < M; m++) {
        char *s = next_tag(&gp, "mean"), *t = next_tag(&gp, "sd");
        if (!s || !t) { esum = 1; break; }
        strtol(s, &s, 10); strtol(s, &s, 10); strtol(t, &t, 10); strtol(t, &t, 10);
        for (int k = 0; k < BL_STAT_COUNT; k++) {
            esum = fmax(esum, fabs(strtod(s, &s) - mean[m * BL_STAT_COUNT + k]));
            esum = fmax(esum, fabs(strtod(t, &t) - sd[m * BL_STAT_COUNT + k]));
        }
    }
    CHECK(esum < 2e-6, "mean/sd over the 5 cases vs numpy: max error %g", esum);
    printf("stats vs numpy: stats %.2g, distances %.2g, mds %.2g, summary %.2g\n", es, ed, em, esum);
    free(mean); free(sd); free(stats); free(dist); free(xy);
    for (int ci = 0; ci < nc; ci++) free(c[ci].ids);
    bl_vocab_free(v); free(vtxt); free(gold); free(blob);
}

/* Known answers: head 0 one-hot on the previous token (row 0 on itself), head 1 uniform. */
static void test_known(void) {
    enum { n = 6 };
    float a[2 * n * n] = {0};
    uint8_t kinds[n] = {BL_TOKK_CLS, 0, BL_TOKK_PUNCT, 0, 0, BL_TOKK_SEP};
    for (int i = 0; i < n; i++) a[i * n + (i ? i - 1 : 0)] = 1;
    for (int k = 0; k < n * n; k++) a[n * n + k] = 1.0f / n;
    float st[2 * BL_STAT_COUNT];
    bl_err e;
    CHECK(bl_head_stats(a, NULL, 1, 2, n, kinds, st, &e) == 0, "%s", e.msg);
    const float *p = st, *u = st + BL_STAT_COUNT;
    CHECK(p[BL_STAT_PREV] == 1 && p[BL_STAT_NEXT] == 0 && fabsf(p[BL_STAT_SELF] - 1.0f / n) < 1e-7f,
          "one-hot previous: prev %g next %g self %g", p[BL_STAT_PREV], p[BL_STAT_NEXT], p[BL_STAT_SELF]);
    CHECK(p[BL_STAT_ENTROPY] == 0, "one-hot entropy %g", p[BL_STAT_ENTROPY]);
    /* rows 0 and 1 look at [CLS] (token 0), row 3 at the punctuation (token 2), none at [SEP] */
    CHECK(fabsf(p[BL_STAT_CLS] - 2.0f / n) < 1e-7f && fabsf(p[BL_STAT_PUNCT] - 1.0f / n) < 1e-7f && p[BL_STAT_SEP] == 0,
          "one-hot kinds: cls %g punct %g sep %g", p[BL_STAT_CLS], p[BL_STAT_PUNCT], p[BL_STAT_SEP]);
    CHECK(fabsf(u[BL_STAT_ENTROPY] - logf(n)) < 1e-6f, "uniform entropy %g, want ln %d", u[BL_STAT_ENTROPY], n);
    CHECK(fabsf(u[BL_STAT_SEP] - 1.0f / n) < 1e-7f && fabsf(u[BL_STAT_PREV] - 1.0f / n) < 1e-7f, "uniform sep/prev");
    float d[4];
    bl_head_distances(a, NULL, 1, 2, n, d, &e);
    /* JSD(one-hot, uniform) in bits, from its definition: each row compares e_k with 1/n */
    double m1 = (1.0 + 1.0 / n) / 2, m0 = (1.0 / n) / 2;
    double jsd = 0.5 * log2(1 / m1) + 0.5 * ((1.0 / n) * log2((1.0 / n) / m1) + (n - 1) * (1.0 / n) * log2((1.0 / n) / m0));
    CHECK(d[0] == 0 && d[3] == 0 && d[1] == d[2] && fabs(d[1] - sqrt(jsd)) < 1e-6, "one-hot vs uniform distance %g, want %g",
          d[1], sqrt(jsd));
}

/* MDS of points that lie in a plane gives them back up to a rigid motion: the pairwise
   distances of the output equal the input's. */
static void test_mds_plane(void) {
    enum { m = 12 };
    float pts[m][2], D[m * m], xy[m * 2];
    for (int i = 0; i < m; i++) { pts[i][0] = (float)(i % 4) * 0.7f + 0.1f * i; pts[i][1] = (float)(i / 4) - 0.05f * i * i; }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) D[i * m + j] = hypotf(pts[i][0] - pts[j][0], pts[i][1] - pts[j][1]);
    bl_err e;
    CHECK(bl_mds2(D, m, xy, &e) == 0, "%s", e.msg);
    double err = 0, cx = 0;
    for (int i = 0; i < m; i++) {
        cx += xy[i * 2];
        for (int j = 0; j < m; j++)
            err = fmax(err, fabs(hypot(xy[i * 2] - xy[j * 2], xy[i * 2 + 1] - xy[j * 2 + 1]) - D[i * m + j]));
    }
    CHECK(err < 1e-4, "MDS of planar points: distances off by %g", err);
    CHECK(fabs(cx) < 1e-4, "MDS output is centred (%g)", cx);
}

/* stdout of `$BERTLENS_CLI args` parsed as JSON (NULL on failure) */
static bl_json *cli_json(const char *args) {
    const char *cli = getenv("BERTLENS_CLI");
    if (!cli) return NULL;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s > /tmp/test_stats_out.json 2>/tmp/test_stats_err.txt", cli, args);
    if (system(cmd) != 0) return NULL;
    size_t len;
    char *txt = check_read_file("/tmp/test_stats_out.json", &len);
    bl_err e;
    bl_json *j = txt ? bl_json_parse(txt, len, &e) : NULL;
    free(txt);
    return j;
}

/* the stats object {"entropy":[L][H],…} against the golden lines tag (…"l h v0..v6") */
static double stat_obj_err(const bl_json *o, const char *gold, const char *tag, int L, int H) {
    char *g = (char *)gold;
    double err = 0;
    for (int m = 0; m < L * H; m++) {
        char *s = next_tag(&g, tag);
        if (!s) return 1;
        strtol(s, &s, 10); strtol(s, &s, 10);
        for (int k = 0; k < BL_STAT_COUNT; k++) {
            const bl_json *v = bl_json_at(bl_json_at(bl_json_get(o, bl_stat_name(k)), m / H), m % H);
            double want = strtod(s, &s);
            err = fmax(err, v && v->type == BL_JSON_NUM ? fabs(v->num - want) : 1);
        }
    }
    return err;
}

/* `bertlens stats` (f32 precision: the reference is float64 torch) on the golden's first case,
   and --file over its single-sentence cases; the output does not depend on --threads. */
static void test_cli(void) {
    if (!getenv("BERTLENS_CLI")) { fprintf(stderr, "test_stats: BERTLENS_CLI not set, CLI checks skipped\n"); return; }
    char *gold = check_read_file("tests/model/golden/stats_default.txt", NULL);
    if (!gold) return;
    bl_json *j = cli_json("stats --precision f32 'The cat sat on the mat because it was tired.'");
    CHECK(j != NULL, "bertlens stats TEXT runs and prints JSON");
    if (j) {
        char *g = gold;
        next_tag(&g, "case");
        double err = stat_obj_err(bl_json_get(j, "stats"), g, "stat", 4, 4);
        CHECK(err < 1e-3, "bertlens stats vs numpy on the reference maps: max error %g", err);
        CHECK(bl_json_len(bl_json_get(j, "distances")) == 16 && bl_json_len(bl_json_get(j, "mds")) == 16,
              "distances [16][16] and mds [16][2]");
        bl_json_free(j);
    }
    FILE *f = fopen("/tmp/test_stats_sentences.txt", "w");
    if (f) {
        /* cases 0, 1, 3, 4 of tests/model/golden/default.txt, with an empty line and CRLF */
        fputs("The cat sat on the mat because it was tired.\r\n\nThe capital of France is [MASK].\n"
              "In the beginning God created the heaven and the earth. And the earth was without form, and void; "
              "and darkness was upon the face of the deep. The package manager installs the software, resolves its "
              "dependencies and keeps the system up to date.\na", f);
        fclose(f);
    }
    bl_json *j1 = cli_json("stats --precision f32 --threads 1 --file /tmp/test_stats_sentences.txt");
    char *out1 = check_read_file("/tmp/test_stats_out.json", NULL);
    bl_json *j2 = cli_json("stats --precision f32 --threads 2 --file /tmp/test_stats_sentences.txt");
    char *out2 = check_read_file("/tmp/test_stats_out.json", NULL);
    char *err2 = check_read_file("/tmp/test_stats_err.txt", NULL);
    CHECK(j1 && j2, "bertlens stats --file runs");
    if (j1 && j2) {
        const bl_json *n = bl_json_get(j1, "sentences");
        CHECK(n && n->num == 4, "4 sentences (the empty line skipped)");
        double em = stat_obj_err(bl_json_get(j1, "mean"), gold, "fmean", 4, 4);
        double es = stat_obj_err(bl_json_get(j1, "sd"), gold, "fsd", 4, 4);
        CHECK(em < 1e-3 && es < 1e-3, "stats --file mean/sd vs numpy: max errors %g, %g", em, es);
        CHECK(out1 && out2 && !strcmp(out1, out2), "stats --file: the same output with 1 and 2 threads");
        CHECK(err2 && strstr(err2, "stats: 4/4 sentences"), "a progress line on stderr (%s)", err2 ? err2 : "");
    }
    bl_json *bad = cli_json("stats --file /nonexistent/sentences.txt");
    CHECK(!bad, "a missing file fails");
    bl_json_free(j1); bl_json_free(j2); free(out1); free(out2); free(err2); free(gold);
}

/* Compare mode: A − B on unequal lengths by hand; identical inputs give an all-zero difference
   and no entropy change (CLI, also two loads of one model); a minimal pair's difference is the
   two `attention` outputs subtracted, and the differing position is named. */
static void test_compare(void) {
    /* a: 2 tokens, b: 3 tokens, one map: the first 2×2 of each */
    const float a[4] = {0.5f, 0.5f, 0.25f, 0.75f}, b[9] = {0.2f, 0.3f, 0.5f, 0.1f, 0.8f, 0.1f, 0.3f, 0.3f, 0.4f};
    float d[4];
    CHECK(bl_attention_diff(a, 2, b, 3, 1, d) == 2 && fabsf(d[0] - 0.3f) < 1e-7f && fabsf(d[1] - 0.2f) < 1e-7f &&
          fabsf(d[2] - 0.15f) < 1e-7f && fabsf(d[3] + 0.05f) < 1e-7f, "diff by hand: %g %g %g %g", d[0], d[1], d[2], d[3]);
    const char *ta[] = {"[CLS]", "she", "[SEP]"}, *tb[] = {"[CLS]", "he", "[SEP]", "x"};
    int differ[3];
    CHECK(bl_compare_tokens(ta, 3, tb, 4, differ) == 1 && differ[0] == 1, "token 1 differs");
    if (!getenv("BERTLENS_CLI")) return;
    bl_json *j = cli_json("compare 'The doctor said she was late.' 'The doctor said she was late.'");
    CHECK(j != NULL, "bertlens compare runs");
    double mx = 0;
    const bl_json *diff = bl_json_get(j, "diff"), *ent = bl_json_get(j, "entropy_change");
    for (const bl_json *l = diff ? diff->child : NULL; l; l = l->next)
        for (const bl_json *h = l->child; h; h = h->next)
            for (const bl_json *r = h->child; r; r = r->next)
                for (const bl_json *v = r->child; v; v = v->next) mx = fmax(mx, fabs(v->num));
    for (const bl_json *l = ent ? ent->child : NULL; l; l = l->next)
        for (const bl_json *v = l->child; v; v = v->next) mx = fmax(mx, fabs(v->num));
    CHECK(j && bl_json_len(diff) == 4 && mx == 0 && bl_json_len(bl_json_get(j, "tokens_differ")) == 0,
          "identical inputs: all-zero difference and entropy change (max %g)", mx);
    bl_json_free(j);
    j = cli_json("compare 'The doctor said she was late.' 'The doctor said he was late.'");
    bl_json *ja = cli_json("attention 'The doctor said she was late.'");
    bl_json *jb = cli_json("attention 'The doctor said he was late.'");
    const bl_json *td = bl_json_get(j, "tokens_differ");
    CHECK(j && ja && jb && bl_json_len(td) == 1 && bl_json_at(td, 0)->num == 4, "minimal pair: position 4 differs");
    double err = 0, big = 0;
    diff = bl_json_get(j, "diff");
    const bl_json *aa = bl_json_get(ja, "attentions"), *ab = bl_json_get(jb, "attentions");
    for (int l = 0; j && ja && jb && l < 4; l++)
        for (int h = 0; h < 4; h++)
            for (int r = 0; r < 9; r++)
                for (int c = 0; c < 9; c++) {
                    const bl_json *x = bl_json_at(bl_json_at(bl_json_at(bl_json_at(diff, l), h), r), c);
                    const bl_json *y = bl_json_at(bl_json_at(bl_json_at(bl_json_at(aa, l), h), r), c);
                    const bl_json *z = bl_json_at(bl_json_at(bl_json_at(bl_json_at(ab, l), h), r), c);
                    if (!x || !y || !z) { err = 1; continue; }
                    err = fmax(err, fabs(x->num - (y->num - z->num)));
                    big = fmax(big, fabs(x->num));
                }
    CHECK(err < 1e-6 && big > 1e-3, "minimal pair: diff = attention(A) - attention(B) within %g (largest %g)", err, big);
    bl_json_free(j); bl_json_free(ja); bl_json_free(jb);
}

int main(void) {
    test_token_kind();
    test_known();
    test_mds_plane();
    test_golden();
    test_cli();
    test_compare();
    return check_summary("test_stats");
}
