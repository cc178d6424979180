/* cli_stats.c — `bertlens stats`: what each head does (Clark et al. 2019), as JSON.
     stats [-m MODEL] [--pair B] TEXT   one input: per-head statistics, the Jensen–Shannon
                                        distances between heads and their 2-D MDS
     stats [-m MODEL] --file F          one sentence per line (empty lines skipped): the mean
                                        and sample standard deviation of each statistic per head
   With --file the sentences run in parallel, one context per thread (a sentence is small, so
   threads across sentences beat threads inside one forward); each sentence's statistics land
   in its own row, and the summary adds the rows in file order, so the output does not depend
   on --threads. A progress line goes to stderr. */
#include "cli.h"
#include "base/internal.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int cli_precision(const cli_opts *o, int *prec) {
    if (!o->precision || !strcmp(o->precision, "native")) *prec = BL_PREC_NATIVE;
    else if (!strcmp(o->precision, "f32")) *prec = BL_PREC_F32;
    else return cli_die("--precision must be f32 or native, not '%s'", o->precision);
    return 0;
}

/* {"entropy":[L][H],…} from v[(l·H + h)·BL_STAT_COUNT + s] */
static void print_stat_object(const float *v, int L, int H) {
    fputc('{', stdout);
    for (int s = 0; s < BL_STAT_COUNT; s++) {
        printf("%s\"%s\":[", s ? "," : "", bl_stat_name(s));
        for (int l = 0; l < L; l++) {
            fputs(l ? ",[" : "[", stdout);
            for (int h = 0; h < H; h++) printf(h ? ",%.6g" : "%.6g", v[((size_t)l * H + h) * BL_STAT_COUNT + s]);
            fputc(']', stdout);
        }
        fputc(']', stdout);
    }
    fputc('}', stdout);
}

static uint8_t *token_kinds(const cli_model *cm, const bl_encoding *enc) {
    uint8_t *k = malloc((size_t)enc->n);
    for (int i = 0; k && i < enc->n; i++) k[i] = (uint8_t)bl_token_kind(bl_vocab_token(bl_model_vocab(cm->m), enc->ids[i]));
    return k;
}

static int stats_one(cli_model *cm, const cli_opts *o, int prec) {
    const bl_config *c = bl_model_config(cm->m);
    const int L = c->layers, H = c->heads, M = L * H;
    cli_input in;
    cli_text t;
    bl_encoding enc;
    bl_err e;
    cli_input_init(&in, o, 0);
    if (cli_input_next(&in, &t) != 1 || cli_encode(cm, &t, &enc)) { cli_input_free(&in); return 1; }
    cli_input_free(&in);
    bl_ctx *ctx = cli_ctx_new(cm, o);
    float *st = malloc(sizeof(float) * (size_t)M * BL_STAT_COUNT), *dist = malloc(sizeof(float) * (size_t)M * M),
          *xy = malloc(sizeof(float) * (size_t)M * 2);
    uint8_t *kinds = token_kinds(cm, &enc);
    int rc = 0;
    if (!ctx) rc = 1;
    else if (!st || !dist || !xy || !kinds) rc = cli_die("out of memory");
    else if (bl_forward(ctx, enc.ids, enc.type_ids, enc.n, prec, &e) != 0) rc = cli_die("forward: %s", e.msg);
    else if (bl_head_stats(bl_attention(ctx), NULL, L, H, enc.n, kinds, st, &e) != 0 ||
             bl_head_distances(bl_attention(ctx), NULL, L, H, enc.n, dist, &e) != 0 || bl_mds2(dist, M, xy, &e) != 0)
        rc = cli_die("stats: %s", e.msg);
    if (!rc) {
        fputs("{\"tokens\":", stdout);
        cli_json_tokens(stdout, bl_model_vocab(cm->m), &enc);
        printf(",\"truncated\":%s,\"layers\":%d,\"heads\":%d,\"stats\":", enc.truncated ? "true" : "false", L, H);
        print_stat_object(st, L, H);
        fputs(",\"distances\":[", stdout);
        for (int a = 0; a < M; a++) {
            fputs(a ? ",[" : "[", stdout);
            for (int b = 0; b < M; b++) printf(b ? ",%.6g" : "%.6g", dist[(size_t)a * M + b]);
            fputc(']', stdout);
        }
        fputs("],\"mds\":[", stdout);
        for (int a = 0; a < M; a++) printf("%s[%.6g,%.6g]", a ? "," : "", xy[a * 2], xy[a * 2 + 1]);
        fputs("]}\n", stdout);
    }
    free(st); free(dist); free(xy); free(kinds);
    bl_ctx_free(ctx);
    bl_encoding_free(&enc);
    return rc;
}

/* ------------------------------------------------------------------ --file */
typedef struct {
    cli_model *cm;
    int prec, count, M;
    char **lines;            /* [count] sentences, NUL-terminated */
    float *rows;             /* [count][M·BL_STAT_COUNT] */
    atomic_int next, done, failed;
    bl_err err;              /* the first failure (written by the thread that set failed) */
    int err_line;
    int progress_step;
} stats_job;

static void stats_worker(void *arg, int task) {
    (void)task;
    stats_job *j = arg;
    const bl_config *c = bl_model_config(j->cm->m);
    bl_err e;
    bl_ctx *ctx = bl_ctx_new(j->cm->m, &e);
    int s;
    while ((s = atomic_fetch_add(&j->next, 1)) < j->count && !atomic_load(&j->failed)) {
        bl_encoding enc;
        uint8_t *kinds = NULL;
        const char *line = j->lines[s];
        int bad = !ctx;
        if (!bad && bl_tokenize(bl_model_vocab(j->cm->m), bl_model_tok_opts(j->cm->m), line, strlen(line), NULL, 0,
                                c->max_pos, &enc, &e) != 0)
            bad = 1;
        else if (!bad) {
            if (!(kinds = token_kinds(j->cm, &enc))) bad = bl_fail(&e, "out of memory");
            else bad = bl_forward(ctx, enc.ids, enc.type_ids, enc.n, j->prec, &e) != 0 ||
                       bl_head_stats(bl_attention(ctx), NULL, c->layers, c->heads, enc.n, kinds,
                                     j->rows + (size_t)s * j->M * BL_STAT_COUNT, &e) != 0;
            free(kinds);
            bl_encoding_free(&enc);
        }
        if (bad) {
            if (!atomic_exchange(&j->failed, 1)) { j->err = e; j->err_line = s; }
            break;
        }
        int d = atomic_fetch_add(&j->done, 1) + 1;
        if (d % j->progress_step == 0 || d == j->count) fprintf(stderr, "\rstats: %d/%d sentences", d, j->count);
    }
    bl_ctx_free(ctx);
}

static int stats_file(cli_model *cm, const cli_opts *o, int prec) {
    size_t len;
    char *txt = cli_read_file(o->file, &len);
    if (!txt) return cli_die("stats: cannot read '%s'", o->file);
    const bl_config *c = bl_model_config(cm->m);
    stats_job j = {.cm = cm, .prec = prec, .M = c->layers * c->heads};
    size_t cap = 0;
    int *lineno = NULL, rc = 0;
    int ln = 0;
    for (char *p = txt, *end = txt + len; !rc && p < end;) {   /* split in place, keeping line numbers */
        char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
        char *line = p;
        p = e + 1;
        ln++;
        *e = 0;
        if (e > line && e[-1] == '\r') *--e = 0;
        if (e == line) continue;   /* empty line */
        if ((size_t)j.count == cap) {
            cap = cap ? cap * 2 : 256;
            char **l2 = realloc(j.lines, cap * sizeof *l2);
            if (l2) j.lines = l2;
            int *n2 = realloc(lineno, cap * sizeof *n2);
            if (n2) lineno = n2;
            if (!l2 || !n2) { rc = cli_die("out of memory"); break; }
        }
        lineno[j.count] = ln;
        j.lines[j.count++] = line;
    }
    if (!rc && !j.count) rc = cli_die("stats: '%s' holds no sentences", o->file);
    if (!rc && !(j.rows = malloc(sizeof(float) * (size_t)j.count * j.M * BL_STAT_COUNT))) rc = cli_die("out of memory");
    int threads = o->threads;
    if (!threads) {
        const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
    }
    bl_err e;
    bl_pool *pool = NULL;
    if (!rc && threads > 1 && !(pool = bl_pool_new(threads, &e))) rc = cli_die("%s", e.msg);
    if (!rc) {
        j.progress_step = j.count / 100 > 0 ? j.count / 100 : 1;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        bl_pool_run(pool, threads, stats_worker, &j);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        fprintf(stderr, "%s(%.2f s, %d threads)\n", atomic_load(&j.done) ? " " : "", secs, threads);
        if (atomic_load(&j.failed)) rc = cli_die("stats: %s line %d: %s", o->file, lineno[j.err_line], j.err.msg);
    }
    if (!rc) {
        const size_t w = (size_t)j.M * BL_STAT_COUNT;
        float *mean = malloc(sizeof(float) * w), *sd = malloc(sizeof(float) * w);
        if (!mean || !sd) rc = cli_die("out of memory");
        else {
            bl_stats_summary(j.rows, j.count, (int)w, mean, sd);
            printf("{\"sentences\":%d,\"layers\":%d,\"heads\":%d,\"mean\":", j.count, c->layers, c->heads);
            print_stat_object(mean, c->layers, c->heads);
            fputs(",\"sd\":", stdout);
            print_stat_object(sd, c->layers, c->heads);
            fputs("}\n", stdout);
        }
        free(mean); free(sd);
    }
    bl_pool_free(pool);
    free(j.rows); free(j.lines); free(lineno); free(txt);
    return rc;
}

int cli_stats(const cli_opts *o) {
    int prec = BL_PREC_NATIVE;
    if (o->file && (o->nargs || o->pair || o->jsonl)) return cli_die("stats: --file takes the sentences from the file, not TEXT");
    if (!o->file && (o->jsonl || o->nargs != 1)) return cli_die("stats: usage: bertlens stats [-m MODEL] TEXT | --file SENTENCES.txt");
    if (cli_precision(o, &prec)) return 1;
    cli_model cm;
    if (cli_load_model(o->model, &cm)) return 1;
    int rc = o->file ? stats_file(&cm, o, prec) : stats_one(&cm, o, prec);
    cli_free_model(&cm);
    return rc;
}

void cli_json_maps(FILE *f, const float *v, int outer, int inner, int n) {
    if (!v) { fputs("null", f); return; }
    const int in = inner > 0 ? inner : 1;
    fputc('[', f);
    for (int a = 0; a < outer; a++) {
        fputs(a ? "," : "", f);
        if (inner > 0) fputc('[', f);
        for (int b = 0; b < in; b++) {
            fputs(b ? ",[" : "[", f);
            for (int i = 0; i < n; i++) {
                fputs(i ? ",[" : "[", f);
                const float *row = v + (((size_t)a * in + b) * n + i) * n;
                for (int j = 0; j < n; j++) fprintf(f, j ? ",%.7g" : "%.7g", row[j]);
                fputc(']', f);
            }
            fputc(']', f);
        }
        if (inner > 0) fputc(']', f);
    }
    fputc(']', f);
}

/* ------------------------------------------------------------------ compare */
/* `bertlens compare [-m MODEL] [--model-b MODEL_B] TEXT_A [TEXT_B]`: A − B of every map over
   the aligned positions and each head's entropy change; TEXT_B defaults to TEXT_A (two models
   on one input). The tokens that differ at aligned positions are listed: alignment is by
   position, so they are where the comparison is between unlike tokens. */
typedef struct { bl_encoding enc; bl_ctx *ctx; const char **tok; } cmp_side;

static int cmp_run(cli_model *cm, const cli_opts *o, const char *text, int prec, cmp_side *s) {
    cli_text t = {text, NULL, strlen(text), 0};
    bl_err e;
    if (cli_encode(cm, &t, &s->enc)) return 1;
    if (!(s->ctx = cli_ctx_new(cm, o))) return 1;
    if (bl_forward(s->ctx, s->enc.ids, s->enc.type_ids, s->enc.n, prec, &e) != 0) return cli_die("forward: %s", e.msg);
    if (!(s->tok = malloc(sizeof(char *) * (size_t)s->enc.n))) return cli_die("out of memory");
    for (int i = 0; i < s->enc.n; i++) s->tok[i] = bl_vocab_token(bl_model_vocab(cm->m), s->enc.ids[i]);
    return 0;
}

#ifndef BL_FONT_FILE
#define BL_FONT_FILE "web/fonts/DejaVuSans-subset.ttf"
#endif

/* maps[L·H][n0][n0] cut to their first n positions */
static float *cut_maps(const float *maps, int count, int n0, int n) {
    float *out = malloc(sizeof(float) * (size_t)count * n * n);
    for (int m = 0; out && m < count; m++)
        for (int i = 0; i < n; i++)
            memcpy(out + ((size_t)m * n + i) * n, maps + ((size_t)m * n0 + i) * n0, sizeof(float) * (size_t)n);
    return out;
}

/* -o OUT.png|OUT.svg: the heatmap of A − B at --layer / --head (default layer 0, the mean of the heads) */
static int compare_picture(const cli_opts *o, const bl_config *c, cmp_side *a, cmp_side *b, int n) {
    size_t flen;
    uint8_t *font = (uint8_t *)cli_read_file(BL_FONT_FILE, &flen);
    if (!font) return cli_die("cannot read the font %s", BL_FONT_FILE);
    const int maps = c->layers * c->heads;
    float *ma = cut_maps(bl_attention(a->ctx), maps, a->enc.n, n), *mb = cut_maps(bl_attention(b->ctx), maps, b->enc.n, n);
    bl_err e;
    bl_renderer *r = ma && mb ? bl_renderer_new(font, flen, &e) : NULL;
    int rc = !ma || !mb ? cli_die("out of memory") : !r ? cli_die("%s", e.msg) : 0;
    bl_view_opts vo = {.view = BL_VIEW_HEATMAP, .layer = o->layer >= 0 ? o->layer : 0, .head = -1, .scale = (float)o->scale,
                       .width = o->width ? o->width : 900, .dark = o->dark, .token = -1, .hover_x = -1, .hover_y = -1};
    if (o->head && strcmp(o->head, "mean")) vo.head = atoi(o->head);
    if (!rc && (vo.layer >= c->layers || vo.head >= c->heads)) rc = cli_die("compare: --layer/--head out of range");
    const size_t olen = strlen(o->out);
    const int svg = o->format ? !strcmp(o->format, "svg") : olen > 4 && !strcmp(o->out + olen - 4, ".svg");
    if (!rc) {
        bl_render_input in = {.n = n, .layers = c->layers, .heads = c->heads, .head_dim = c->hidden / c->heads,
                              .tokens = a->tok, .type_ids = a->enc.type_ids, .attn = ma, .attn_b = mb};
        int w, h;
        if (svg) {
            size_t len;
            char *doc = bl_render_svg(r, &in, &vo, &len, &e);
            FILE *f = doc ? fopen(o->out, "wb") : NULL;
            int bad = !doc ? cli_die("render: %s", e.msg) : !f || fwrite(doc, 1, len, f) != len ? cli_die("cannot write %s", o->out) : 0;
            if (f && fclose(f) != 0 && !bad) bad = cli_die("cannot write %s", o->out);
            free(doc);
            rc = bad;
        } else {
            const uint8_t *px = bl_render(r, &in, &vo, &w, &h, &e);
            rc = !px ? cli_die("render: %s", e.msg) : bl_write_png(o->out, px, w, h, &e) != 0 ? cli_die("%s", e.msg) : 0;
        }
    }
    bl_renderer_free(r);
    free(ma); free(mb); free(font);
    return rc;
}

int cli_compare(const cli_opts *o) {
    int prec = BL_PREC_NATIVE;
    if (o->nargs < 1 || o->nargs > 2 || o->jsonl)
        return cli_die("compare: usage: bertlens compare [-m MODEL] [--model-b MODEL_B] TEXT_A [TEXT_B] "
                       "[-o DIFF.png|DIFF.svg [--layer L] [--head H|mean]]");
    if (cli_precision(o, &prec)) return 1;
    cli_model ma = {0}, mb = {0};
    cmp_side a = {0}, b = {0};
    int rc = cli_load_model(o->model, &ma);
    cli_model *mbp = &ma;
    if (!rc && o->model_b) { rc = cli_load_model(o->model_b, &mb); mbp = &mb; }
    const bl_config *ca = rc ? NULL : bl_model_config(ma.m), *cb = rc ? NULL : bl_model_config(mbp->m);
    if (!rc && (ca->layers != cb->layers || ca->heads != cb->heads))
        rc = cli_die("compare: the models differ in shape (%d×%d and %d×%d layers × heads)", ca->layers, ca->heads,
                     cb->layers, cb->heads);
    if (!rc) rc = cmp_run(&ma, o, o->args[0], prec, &a) || cmp_run(mbp, o, o->args[o->nargs - 1], prec, &b);
    float *diff = NULL, *dent = NULL;
    int *differ = NULL;
    if (!rc) {
        const int L = ca->layers, H = ca->heads, na = a.enc.n, nb = b.enc.n, n = na < nb ? na : nb;
        diff = malloc(sizeof(float) * (size_t)L * H * n * n);
        dent = malloc(sizeof(float) * (size_t)L * H);
        differ = malloc(sizeof(int) * (size_t)n);
        bl_err e;
        if (!diff || !dent || !differ) rc = cli_die("out of memory");
        else if (bl_attention_diff(bl_attention(a.ctx), na, bl_attention(b.ctx), nb, L * H, diff) != n ||
                 bl_entropy_change(bl_attention(a.ctx), na, bl_attention(b.ctx), nb, L, H, dent, &e) != 0)
            rc = cli_die("compare: %s", e.msg);
        if (!rc) {
            const int nd = bl_compare_tokens(a.tok, na, b.tok, nb, differ);
            fputs("{\"tokens_a\":", stdout);
            cli_json_tokens(stdout, bl_model_vocab(ma.m), &a.enc);
            fputs(",\"tokens_b\":", stdout);
            cli_json_tokens(stdout, bl_model_vocab(mbp->m), &b.enc);
            printf(",\"n\":%d,\"tokens_differ\":", n);
            cli_json_ints(stdout, differ, nd);
            printf(",\"layers\":%d,\"heads\":%d,\"entropy_change\":[", L, H);
            for (int l = 0; l < L; l++) {
                fputs(l ? ",[" : "[", stdout);
                for (int h = 0; h < H; h++) printf(h ? ",%.7g" : "%.7g", dent[l * H + h]);
                fputc(']', stdout);
            }
            fputs("],\"diff\":", stdout);
            cli_json_maps(stdout, diff, L, H, n);
            fputs("}\n", stdout);
            if (o->out) rc = compare_picture(o, ca, &a, &b, n);
        }
    }
    free(diff); free(dent); free(differ);
    bl_ctx_free(a.ctx); bl_ctx_free(b.ctx);
    if (a.enc.ids) bl_encoding_free(&a.enc);
    if (b.enc.ids) bl_encoding_free(&b.enc);
    free(a.tok); free(b.tok);
    if (mb.m) cli_free_model(&mb);
    if (ma.m) cli_free_model(&ma);
    return rc;
}
