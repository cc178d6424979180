/* cli_render.c — `bertlens render`: the page's views drawn by the same C renderer into a PNG. */
#include "cli.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BL_FONT_FILE
#define BL_FONT_FILE "web/fonts/DejaVuSans-subset.ttf"
#endif

static const char *VIEWS[BL_VIEW_COUNT] = {"heatmap", "model", "head", "neuron", "rollout", "flow", "mlm", "task", "headmap"};
static const char *CMAPS[BL_CMAP_COUNT] = {"ylgnbu", "viridis", "magma", "greys"};

static int lookup(const char *what, const char *s, const char *const *names, int count) {
    for (int i = 0; i < count; i++)
        if (!strcmp(s, names[i])) return i;
    cli_die("unknown %s '%s'", what, s);
    return -1;
}

int cli_render(const cli_opts *o) {
    if (!o->out || (!o->jsonl && o->nargs != 1))
        return cli_die("render: usage: bertlens render [-m MODEL] TEXT|--jsonl --view V [--format png|svg] -o OUT.png|OUT.svg");
    if (cli_check_text(o, "render")) return 1;
    bl_view_opts vo = {0};
    vo.view = o->view ? lookup("view", o->view, VIEWS, BL_VIEW_COUNT) : BL_VIEW_HEATMAP;
    vo.colormap = o->colormap ? lookup("colormap", o->colormap, CMAPS, BL_CMAP_COUNT) : BL_CMAP_YLGNBU;
    if (vo.view < 0 || vo.colormap < 0) return 1;
    vo.layer = o->layer;
    vo.head = 0;
    if (o->head && !strcmp(o->head, "mean")) vo.head = -1;
    else if (o->head) {
        char *end;
        long h = strtol(o->head, &end, 10);
        if (!*o->head || *end || h < 0) return cli_die("--head expects a head number or 'mean', not '%s'", o->head);
        vo.head = (int)h;
    }
    vo.scale = (float)o->scale;
    vo.width = o->width ? o->width : 900;
    vo.dark = o->dark;
    vo.words = o->words;   /* word pieces merged into words (Clark et al. 2019) */
    vo.value_weighted = o->value_norms;   /* ‖α f(x)‖ (Kobayashi et al. 2020); the context computes them */
    /* --format png|svg; without it the output name decides (.svg), else PNG */
    const size_t olen = o->out ? strlen(o->out) : 0;
    if (o->format && strcmp(o->format, "png") && strcmp(o->format, "svg"))
        return cli_die("--format must be png or svg, not '%s'", o->format);
    const int svg = o->format ? !strcmp(o->format, "svg") : olen > 4 && !strcmp(o->out + olen - 4, ".svg");
    vo.token = -1;
    vo.hover_x = vo.hover_y = -1;
    /* the model view's statistic bars and head finder, as the page's "bars" and "find heads" */
    if (o->bar) {
        for (int k = 0; k < BL_STAT_COUNT && !vo.stat_bar; k++)
            if (!strcmp(o->bar, bl_stat_name(k))) vo.stat_bar = k + 1;
        if (!vo.stat_bar) return cli_die("--bar expects entropy, cls, sep, punct, prev, next or self, not '%s'", o->bar);
    }
    if (o->rank) {
        int used = 0;
        if (sscanf(o->rank, "%d-%d%n", &vo.rank_from, &vo.rank_to, &used) != 2 || o->rank[used] || vo.rank_from < 0 ||
            vo.rank_to < 0)
            return cli_die("--rank expects FROM-TO token positions (e.g. 4-2), not '%s'", o->rank);
        vo.rank = 1;
    }
    if ((o->bar || o->rank) && vo.view != BL_VIEW_MODEL) return cli_die("--bar and --rank apply to --view model");

    cli_model cm;
    if (cli_load_model(o->model, &cm)) return 1;
    const bl_config *c = bl_model_config(cm.m);
    /* rollout and flow accumulate layers 0..layer: by default show the whole model */
    if (vo.layer < 0) vo.layer = (vo.view == BL_VIEW_ROLLOUT || vo.view == BL_VIEW_FLOW) ? c->layers - 1 : 0;
    int bad = vo.layer >= c->layers ? cli_die("--layer %d out of range 0..%d", vo.layer, c->layers - 1)
            : vo.head >= c->heads   ? cli_die("--head %d out of range 0..%d", vo.head, c->heads - 1) : 0;
    if (bad) { cli_free_model(&cm); return 1; }

    size_t font_len;
    uint8_t *font = (uint8_t *)cli_read_file(BL_FONT_FILE, &font_len);
    if (!font) { cli_free_model(&cm); return cli_die("cannot read the font %s", BL_FONT_FILE); }

    int rc = 0;
    bl_encoding enc;
    bl_ctx *ctx = NULL;
    bl_renderer *r = NULL;
    bl_mlm_top mt = {0};   /* the masked-LM view's predictions: the same as `fill-mask` */
    const char **toks = NULL, **labels = NULL;
    char **shown = NULL;   /* readable pieces (bl_model_token_display), as the page draws them */
    int *word_of = NULL;
    float *head_p = NULL;  /* the task head's probabilities: the same as `classify` */
    const float **qs = NULL, **ks = NULL;
    bl_err e;
    cli_input input;
    cli_text text;
    cli_input_init(&input, o, 1);   /* one picture: with --jsonl, all of stdin is one object */
    if (cli_input_next(&input, &text) != 1 || cli_encode(&cm, &text, &enc)) { rc = 1; goto done_enc; }
    if (!(ctx = cli_ctx_new(&cm, o))) { rc = 1; goto done; }
    if (bl_forward(ctx, enc.ids, enc.type_ids, enc.n, BL_PREC_NATIVE, &e)) { rc = cli_die("forward: %s", e.msg); goto done; }
    if (vo.view == BL_VIEW_MLM && bl_model_config(cm.m)->has_mlm &&
        bl_fill_mask(ctx, cm.m, enc.ids, enc.n, o->k > 0 ? o->k : 5, &mt, &e) != 0) { rc = cli_die("%s", e.msg); goto done; }
    toks = malloc(sizeof(char *) * (size_t)enc.n);
    shown = calloc((size_t)enc.n, sizeof(char *));
    word_of = malloc(sizeof(int) * (size_t)enc.n);
    qs = malloc(sizeof(float *) * (size_t)c->layers);
    ks = malloc(sizeof(float *) * (size_t)c->layers);
    if (!toks || !shown || !word_of || !qs || !ks) { rc = cli_die("out of memory"); goto done; }
    for (int i = 0; i < enc.n; i++) {
        const char *raw = bl_vocab_token(bl_model_vocab(cm.m), enc.ids[i]);
        char buf[512];
        toks[i] = raw ? raw : "";
        if (cm.tok && bl_model_token_display(cm.tok, enc.ids[i], buf, sizeof buf) >= 0) shown[i] = strdup(buf);
        else shown[i] = strdup(toks[i]);
        if (!shown[i]) { rc = cli_die("out of memory"); goto done; }
    }
    /* words from the pieces as the tokenizer wrote them (the readable forms drop the markers) */
    if (bl_word_ids(toks, enc.n, word_of) < 0) { rc = cli_die("render: bad tokens"); goto done; }
    if (c->head != BL_HEAD_NONE && vo.view == BL_VIEW_TASK) {
        head_p = malloc(sizeof(float) * (size_t)bl_head_size(ctx));
        labels = malloc(sizeof(char *) * (size_t)c->n_labels);
        if (!head_p || !labels) { rc = cli_die("out of memory"); goto done; }
        if (bl_head_probs(ctx, head_p, &e)) { rc = cli_die("render: %s", e.msg); goto done; }
        for (int j = 0; j < c->n_labels; j++) labels[j] = bl_model_label(cm.m, j);
    }
    for (int l = 0; l < c->layers; l++) { qs[l] = bl_query(ctx, l); ks[l] = bl_key(ctx, l); }
    bl_render_input in = {
        .n = enc.n, .layers = c->layers, .heads = c->heads, .head_dim = c->hidden / c->heads,
        .tokens = (const char *const *)shown, .word_of = word_of, .type_ids = enc.type_ids, .attn = bl_attention(ctx),
        .query = qs, .key = ks,
        .mlm_count = mt.count, .mlm_k = mt.k, .mlm_pos = mt.pos, .mlm_tokens = mt.tokens, .mlm_p = mt.p,
        .head = c->head, .n_labels = c->n_labels, .labels = labels, .head_p = head_p,
        .norms = bl_value_norms(ctx), .norms_layer = bl_value_norms_layer(ctx),
    };
    if (!(r = bl_renderer_new(font, font_len, &e))) { rc = cli_die("%s", e.msg); goto done; }
    int w, h;
    if (svg) {   /* the same draw calls as the PNG, as vector shapes and text */
        size_t len;
        char *doc = bl_render_svg(r, &in, &vo, &len, &e);
        if (!doc) { rc = cli_die("render: %s", e.msg); goto done; }
        FILE *f = fopen(o->out, "wb");
        int bad = !f || fwrite(doc, 1, len, f) != len;
        if (f && fclose(f) != 0) bad = 1;
        free(doc);
        if (bad) { rc = cli_die("cannot write %s", o->out); goto done; }
        bl_render(r, &in, &vo, &w, &h, &e);   /* its size, for the JSON line */
    } else {
        const uint8_t *px = bl_render(r, &in, &vo, &w, &h, &e);
        if (!px) { rc = cli_die("render: %s", e.msg); goto done; }
        if (bl_write_png(o->out, px, w, h, &e) != 0) { rc = cli_die("%s", e.msg); goto done; }
    }
    printf("{\"output\":");
    cli_json_str(stdout, o->out);
    printf(",\"width\":%d,\"height\":%d,\"view\":\"%s\",\"layer\":%d,\"head\":%d}\n", w, h, VIEWS[vo.view], vo.layer, vo.head);
done:
    for (int i = 0; shown && i < enc.n; i++) free(shown[i]);
    bl_encoding_free(&enc);
done_enc:
    cli_input_free(&input);
    bl_renderer_free(r);
    bl_ctx_free(ctx);
    bl_mlm_top_free(&mt);
    free(toks);
    free(shown);
    free(word_of);
    free(head_p);
    free(labels);
    free(qs);
    free(ks);
    free(font);
    cli_free_model(&cm);
    return rc;
}
