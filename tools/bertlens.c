/* bertlens.c — the native command line tool: tokenize, attention, fill-mask, convert,
   export-hf, render, info. Output is JSON on stdout; errors go to stderr as
   "bertlens: error: …" with exit code 1 (2 for usage errors). */
#include "cli.h"
#include "base/internal.h"
#include "base/json.h"
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef BL_WEIGHTS_DIR
#define BL_WEIGHTS_DIR "weights"
#endif

static const char *USAGE =
    "usage: bertlens COMMAND [options]\n"
    "  tokenize  [-m MODEL] [--pair TEXT_B] TEXT     (or --jsonl: below)\n"
    "            (or --vocab vocab.txt [--cased] [--max-len N] instead of a model)\n"
    "  attention [-m MODEL] [--pair TEXT_B] [--precision f32|native] [--value-norms] TEXT\n"
    "  classify  [-m MODEL] [--pair TEXT_B] [--precision f32|native] TEXT   the task head: labels with\n"
    "            probabilities per token (token classification, ELECTRA \"replaced\") or for the text\n"
    "--ids 0,31414,232,2 [--types 0,0,0,0] instead of TEXT (attention, fill-mask, classify): token ids\n"
    "  fill-mask [-m MODEL] [-k K] [--lens] TEXT   (--lens: top-k after every layer, the logit lens)\n"
    "  convert   HF_DIR -o OUT [--dtype int16|int8|f16|f32] [--shard-mb N] [--no-fidelity]\n"
    "            (stores the attention's largest and mean deviation from the float model on a\n"
    "            built-in calibration text; --no-fidelity: skip it, and the float copy it needs)\n"
    "  export-hf [-m MODEL] -o DIR\n"
    "  render    [-m MODEL] [--pair B] TEXT --view heatmap|model|head|neuron|rollout|flow|mlm|task|headmap\n"
    "            [--layer L] [--head H|mean] [--colormap NAME] [--width PX] [--scale S] [--dark]\n"
    "            [--words] [--value-norms] [--format png|svg] -o OUT.png|OUT.svg\n"
    "            (--words: attention between words, word pieces merged; svg: vector, text as text)\n"
    "            (--value-norms: value-weighted \xe2\x80\x96\xce\xb1" "f(x)\xe2\x80\x96 in the heatmap, model, head, rollout, flow)\n"
    "            model view: [--bar entropy|cls|sep|punct|prev|next|self] a head statistic under each\n"
    "            thumbnail; [--rank I-J] the heads ranked by the attention from token I to token J\n"
    "  info      [-m MODEL]\n"
    "  stats     [-m MODEL] [--pair B] TEXT      per-head statistics, distances and MDS (JSON)\n"
    "            [-m MODEL] --file SENTENCES.txt  their mean and sd over one sentence per line\n"
    "  compare   [-m MODEL] [--model-b MODEL_B] TEXT_A [TEXT_B]   A − B of every map (aligned by\n"
    "            position) and each head's entropy change\n"
    "attention, fill-mask and render take --threads N (default: the CPUs, at most 8).\n"
    "--jsonl instead of TEXT [--pair B] (tokenize, attention, fill-mask, render): the text comes\n"
    "from stdin as JSON {\"a\": TEXT, \"b\": B} (b optional or null), used with its full length,\n"
    "\\u0000 included. tokenize, attention and fill-mask read one object per line and print one\n"
    "line each, in order; render reads one object (one picture).\n"
    "MODEL is a .bin made by `bertlens convert` or a shard manifest .json;\n"
    "without -m the default model listed in weights/manifest.json is used.\n";

int cli_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("bertlens: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

/* ------------------------------------------------------------------ model loading */

char *cli_read_file(const char *path, size_t *len) {
    uint8_t *b;
    if (bl_read_whole_file(path, &b, len, NULL) != 0) return NULL;
    return (char *)b;
}

/* The default model: weights/manifest.json {"default": NAME, "models": [{"name", "file"}…]}. */
static int default_model_path(char *out, size_t cap, bl_model_entry *ent) {
    char mpath[1024], *txt;
    size_t len;
    snprintf(mpath, sizeof mpath, "%s/manifest.json", BL_WEIGHTS_DIR);
    if (!(txt = cli_read_file(mpath, &len)))
        return cli_die("no model given (-m) and no default model: cannot read %s", mpath);
    bl_err e;
    int rc = bl_model_list_resolve(txt, len, ent, &e);
    free(txt);
    if (rc) return cli_die("%s: %s", mpath, e.msg);
    snprintf(out, cap, "%s/%s", BL_WEIGHTS_DIR, ent->file);
    return 0;
}

/* What the model list says of the default model's file, checked (weights/FORMAT.md): its size,
   and for a shard manifest that its size and SHA-256 are the list's. The file's own payload
   checksum is verified by bl_model_load. */
static int check_entry(const cli_model *cm, const bl_model_entry *ent) {
    if (ent->size >= 0 && (uint64_t)cm->len != (uint64_t)ent->size)
        return cli_die("%s is %zu bytes, %s/manifest.json says %lld", cm->path, cm->len, BL_WEIGHTS_DIR, (long long)ent->size);
    if (!ent->sharded) return 0;
    size_t len;
    char *txt = cli_read_file(cm->path, &len);
    if (!txt) return cli_die("cannot read %s", cm->path);
    bl_shard_manifest sm;
    bl_err e;
    int rc = bl_shard_manifest_parse(txt, len, ent, &sm, &e) != 0 ? cli_die("%s: %s", cm->path, e.msg) : 0;
    bl_shard_manifest_free(&sm);
    free(txt);
    return rc;
}

int cli_load_model(const char *path, cli_model *cm) {
    memset(cm, 0, sizeof *cm);
    bl_model_entry ent = {0};
    if (path) snprintf(cm->path, sizeof cm->path, "%s", path);
    else if (default_model_path(cm->path, sizeof cm->path, &ent)) return 1;
    bl_err e;
    if (bl_read_model_file(cm->path, &cm->buf, &cm->len, &e) != 0) { bl_model_entry_free(&ent); return cli_die("%s", e.msg); }
    int bad = !path && check_entry(cm, &ent);
    bl_model_entry_free(&ent);
    cm->m = bad ? NULL : bl_model_load(cm->buf, cm->len, 0, &e);
    /* the core's choice (the page makes the same): a stored tokenizer.json that does not parse
       rejects the file; a RoBERTa/ALBERT file without one loads for --ids (cli_encode says why) */
    if (cm->m && !(cm->tok = bl_model_tokenizer(cm->m, &e)) && bl_model_tokenizer_json(cm->m, NULL)) {
        bl_model_free(cm->m);
        cm->m = NULL;
    }
    if (!cm->m) {
        free(cm->buf);
        cm->buf = NULL;
        return bad ? 1 : cli_die("%s: %s", cm->path, e.msg);
    }
    return 0;
}

void cli_free_model(cli_model *cm) {
    bl_pool_free(cm->pool);
    bl_tokenizer_free(cm->tok);
    bl_model_free(cm->m);
    free(cm->buf);
    memset(cm, 0, sizeof *cm);
}

static int encode_with(const bl_vocab *v, const bl_tok_opts *o, int max_len, const cli_text *t, bl_encoding *enc) {
    bl_err e;
    if (bl_tokenize(v, o, t->a, t->alen, t->b, t->blen, max_len, enc, &e) != 0) return cli_die("tokenize: %s", e.msg);
    return 0;
}

int cli_encode(const cli_model *cm, const cli_text *t, bl_encoding *enc) {
    const bl_config *c = bl_model_config(cm->m);
    if (cm->tok) {   /* bl_model_tokenizer: the stored tokenizer.json, or the vocab as a BertTokenizer */
        bl_err e;
        if (bl_tokenizer_encode(cm->tok, t->a, t->alen, t->b, t->b ? t->blen : 0, bl_config_max_tokens(c), enc, &e))
            return cli_die("tokenize: %s", e.msg);
        return 0;
    }
    /* no tokenizer (bl_model_tokenizer): the weights file's vocab is not a WordPiece vocab.txt */
    if (c->family == BL_FAMILY_ROBERTA || c->family == BL_FAMILY_ALBERT)
        return cli_die("tokenize: this %s model's tokenizer (%s) is not in its weights file; give token ids with --ids",
                       bl_family_name(c->family), c->family == BL_FAMILY_ROBERTA ? "byte-level BPE or Unigram"
                                                                                 : "SentencePiece Unigram");
    return encode_with(bl_model_vocab(cm->m), bl_model_tok_opts(cm->m), bl_config_max_tokens(c), t, enc);
}

/* --ids (and --types) as an encoding: the ids as given, no special tokens added. */
static int parse_id_list(const char *flag, const char *s, int **out, int *n) {
    *n = 0;
    *out = malloc(sizeof(int) * (strlen(s) / 2 + 2));
    if (!*out) return cli_die("out of memory");
    for (const char *p = s; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > 0x7fffffff || (*end && *end != ',')) {
            free(*out);
            return cli_die("%s expects comma-separated non-negative integers, not '%s'", flag, s);
        }
        (*out)[(*n)++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (!*n) { free(*out); return cli_die("%s: no ids", flag); }
    return 0;
}

static int ids_encoding(const cli_opts *o, bl_encoding *enc) {
    memset(enc, 0, sizeof *enc);
    int nt = 0;
    if (parse_id_list("--ids", o->ids, &enc->ids, &enc->n)) return 1;
    if (o->types) {
        if (parse_id_list("--types", o->types, &enc->type_ids, &nt)) { bl_encoding_free(enc); return 1; }
        if (nt != enc->n) { bl_encoding_free(enc); return cli_die("--types needs one value per id (%d ids, %d types)", enc->n, nt); }
    } else enc->type_ids = calloc((size_t)enc->n, sizeof(int));
    enc->start = malloc(sizeof(int) * (size_t)enc->n);
    enc->end = malloc(sizeof(int) * (size_t)enc->n);
    if (!enc->type_ids || !enc->start || !enc->end) { bl_encoding_free(enc); return cli_die("out of memory"); }
    for (int i = 0; i < enc->n; i++) enc->start[i] = enc->end[i] = -1;
    enc->n_a = enc->n;
    return 0;
}

/* ------------------------------------------------------------------ text input */

int cli_check_text(const cli_opts *o, const char *cmd) {
    if (o->ids && (o->jsonl || o->nargs || o->pair))
        return cli_die("%s: --ids replaces TEXT, --pair and --jsonl", cmd);
    if (o->ids) return 0;
    if (o->types) return cli_die("%s: --types goes with --ids", cmd);
    if (o->jsonl && (o->nargs || o->pair))
        return cli_die("%s: --jsonl takes the text from stdin, not TEXT or --pair", cmd);
    if (!o->jsonl && o->nargs != 1) return cli_die("%s: expected one TEXT argument (or --jsonl)", cmd);
    return 0;
}

void cli_input_init(cli_input *in, const cli_opts *o, int whole) {
    memset(in, 0, sizeof *in);
    in->o = o;
    in->whole = whole;
}

void cli_input_free(cli_input *in) {
    bl_json_free(in->j);
    free(in->line);
    memset(in, 0, sizeof *in);
}

int cli_input_next(cli_input *in, cli_text *t) {
    bl_json_free(in->j);
    in->j = NULL;
    memset(t, 0, sizeof *t);
    if (!in->o->jsonl) {   /* argv: NUL-terminated by nature, so strlen is the whole text */
        if (in->count++) return 0;
        if (in->o->ids) { t->a = ""; return 1; }   /* the ids are the input (run_model) */
        t->a = in->o->args[0];
        t->alen = strlen(t->a);
        t->b = in->o->pair;
        t->blen = t->b ? strlen(t->b) : 0;
        return 1;
    }
    char where[48];
    bl_err e;
    if (in->whole) {
        size_t len;
        if (in->count++) return 0;
        if (bl_read_whole_file("/dev/stdin", (uint8_t **)&in->line, &len, &e) != 0) return -cli_die("stdin: %s", e.msg);
        snprintf(where, sizeof where, "stdin");
        in->j = bl_json_parse(in->line, len, &e);
    } else {
        ssize_t len = getline(&in->line, &in->cap, stdin);
        if (len < 0) return 0;
        in->count++;
        while (len > 0 && (in->line[len - 1] == '\n' || in->line[len - 1] == '\r')) in->line[--len] = 0;
        snprintf(where, sizeof where, "stdin line %d", in->count);
        in->j = bl_json_parse(in->line, (size_t)len, &e);
    }
    if (!in->j) return -cli_die("%s: %s", where, e.msg);
    const bl_json *bj = bl_json_get(in->j, "b");
    t->a = bl_json_get_strn(in->j, "a", &t->alen);
    if (bj && !bl_json_is_null(bj)) t->b = bl_json_strn(bj, &t->blen);
    if (!t->a || (bj && !bl_json_is_null(bj) && !t->b))
        return -cli_die("%s: expected {\"a\": string, \"b\": string (optional)}", where);
    return 1;
}

/* ------------------------------------------------------------------ JSON output */

void cli_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p == '\r') fputs("\\r", f);
        else if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);   /* the tokenizer emits valid UTF-8 only */
    }
    fputc('"', f);
}

void cli_json_ints(FILE *f, const int *v, int n) {
    fputc('[', f);
    for (int i = 0; i < n; i++) fprintf(f, i ? ",%d" : "%d", v[i]);
    fputc(']', f);
}

void cli_json_tokens(FILE *f, const bl_vocab *v, const bl_encoding *enc) {
    fputc('[', f);
    for (int i = 0; i < enc->n; i++) {
        if (i) fputc(',', f);
        cli_json_str(f, bl_vocab_token(v, enc->ids[i]));
    }
    fputc(']', f);
}

/* What `tokenize` tokenizes with: a model's vocab and flags, or a bare vocab.txt (--vocab). */
typedef struct {
    const bl_vocab *vocab;
    const bl_tok_opts *opts;
    int max_len;
} tok_source;

static void print_encoding(const tok_source *ts, const bl_encoding *enc) {
    fputs("{\"tokens\":", stdout);
    cli_json_tokens(stdout, ts->vocab, enc);
    fputs(",\"ids\":", stdout);
    cli_json_ints(stdout, enc->ids, enc->n);
    fputs(",\"type_ids\":", stdout);
    cli_json_ints(stdout, enc->type_ids, enc->n);
    printf(",\"truncated\":%s}\n", enc->truncated ? "true" : "false");
}

/* ------------------------------------------------------------------ commands */

/* --vocab FILE: tokenize with a bare vocab.txt (uncased unless --cased); handy before any
   model exists, e.g. to check the training recipe's tokenizer against this one. */
static int load_vocab(const cli_opts *o, bl_vocab **v, bl_tok_opts *t) {
    char *txt;
    size_t len;
    if (!(txt = cli_read_file(o->vocab, &len))) return cli_die("cannot read vocab file '%s'", o->vocab);
    bl_err e;
    *v = bl_vocab_parse(txt, len, &e);
    free(txt);
    if (!*v) return cli_die("%s: %s", o->vocab, e.msg);
    t->lowercase = !o->cased;
    t->strip_accents = -1;
    t->chinese_chars = 1;
    return 0;
}

static int cmd_tokenize(const cli_opts *o) {
    if (cli_check_text(o, "tokenize")) return 1;
    cli_model cm = {0};
    bl_vocab *own = NULL;
    bl_tok_opts topts;
    tok_source ts;
    if (o->vocab) {
        if (load_vocab(o, &own, &topts)) return 1;
        ts = (tok_source){own, &topts, o->max_len > 0 ? o->max_len : 512};
    } else {
        if (cli_load_model(o->model, &cm)) return 1;
        ts = (tok_source){bl_model_vocab(cm.m), bl_model_tok_opts(cm.m), bl_model_config(cm.m)->max_pos};
    }
    int rc = 0, got;
    cli_input in;
    cli_text t;
    cli_input_init(&in, o, 0);
    while (!rc && (got = cli_input_next(&in, &t)) != 0) {
        bl_encoding enc;
        if (got < 0 || (cm.m ? cli_encode(&cm, &t, &enc) : encode_with(ts.vocab, ts.opts, ts.max_len, &t, &enc))) rc = 1;
        else { print_encoding(&ts, &enc); bl_encoding_free(&enc); }
    }
    cli_input_free(&in);
    bl_vocab_free(own);
    if (cm.m) cli_free_model(&cm);
    return rc;
}

static int parse_precision(const char *s, int *prec) {
    if (!s || strcmp(s, "native") == 0) *prec = BL_PREC_NATIVE;
    else if (strcmp(s, "f32") == 0) *prec = BL_PREC_F32;
    else return cli_die("--precision must be f32 or native, not '%s'", s);
    return 0;
}

bl_ctx *cli_ctx_new(cli_model *cm, const cli_opts *o) {
    bl_err e;
    int threads = o->threads;
    if (!threads) {
        const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
    }
    if (!cm->pool && threads > 1 && !(cm->pool = bl_pool_new(threads, &e))) { cli_die("%s", e.msg); return NULL; }
    bl_ctx *c = bl_ctx_new(cm->m, &e);
    if (!c) { cli_die("%s", e.msg); return NULL; }
    bl_ctx_set_pool(c, cm->pool);
    bl_ctx_set_value_norms(c, o->value_norms);   /* attention --value-norms */
    bl_ctx_set_keep_hidden(c, o->lens);           /* fill-mask --lens */
    return c;
}

/* Tokenize the text and run the model (att_only: for the attention maps alone, see
   bl_ctx_set_attention_only); on success the caller owns enc and ctx. */
static int run_model(cli_model *cm, const cli_opts *o, const cli_text *t, int prec, int att_only,
                     bl_encoding *enc, bl_ctx **ctx) {
    if (o->ids ? ids_encoding(o, enc) : cli_encode(cm, t, enc)) return 1;
    bl_err e;
    *ctx = cli_ctx_new(cm, o);
    if (!*ctx) { bl_encoding_free(enc); return 1; }
    bl_ctx_set_attention_only(*ctx, att_only);
    if (bl_forward(*ctx, enc->ids, enc->type_ids, enc->n, prec, &e) != 0) {
        bl_ctx_free(*ctx);
        bl_encoding_free(enc);
        return cli_die("forward: %s", e.msg);
    }
    return 0;
}

/* One line of `attention` output for one text. */
static int attention_one(cli_model *cm, const cli_opts *o, const cli_text *t, int prec) {
    bl_encoding enc;
    bl_ctx *ctx;
    if (run_model(cm, o, t, prec, !o->value_norms, &enc, &ctx)) return 1;   /* the maps only, unless norms */
    const bl_config *c = bl_model_config(cm->m);
    const float *att = bl_attention(ctx);
    int n = enc.n;
    fputs("{\"tokens\":", stdout);
    cli_json_tokens(stdout, bl_model_vocab(cm->m), &enc);
    fputs(",\"ids\":", stdout);
    cli_json_ints(stdout, enc.ids, n);
    fputs(",\"type_ids\":", stdout);
    cli_json_ints(stdout, enc.type_ids, n);
    printf(",\"truncated\":%s,\"layers\":%d,\"heads\":%d,\"attentions\":[", enc.truncated ? "true" : "false",
           c->layers, c->heads);
    for (int l = 0; l < c->layers; l++) {
        fputs(l ? ",[" : "[", stdout);
        for (int h = 0; h < c->heads; h++) {
            fputs(h ? ",[" : "[", stdout);
            for (int i = 0; i < n; i++) {
                fputs(i ? ",[" : "[", stdout);
                const float *row = att + (((size_t)l * c->heads + h) * n + i) * n;
                for (int j = 0; j < n; j++) printf(j ? ",%.7g" : "%.7g", row[j]);
                fputc(']', stdout);
            }
            fputc(']', stdout);
        }
        fputc(']', stdout);
    }
    fputc(']', stdout);
    if (o->value_norms) {   /* Kobayashi et al. 2020: ‖α f(x)‖ per head and per layer */
        fputs(",\"norms\":", stdout);
        cli_json_maps(stdout, bl_value_norms(ctx), c->layers, c->heads, n);
        fputs(",\"norms_layer\":", stdout);
        cli_json_maps(stdout, bl_value_norms_layer(ctx), c->layers, 0, n);
    }
    fputs("}\n", stdout);
    bl_ctx_free(ctx);
    bl_encoding_free(&enc);
    return 0;
}

static int cmd_attention(const cli_opts *o) {
    int prec, rc = 0, got;
    if (cli_check_text(o, "attention") || parse_precision(o->precision, &prec)) return 1;
    cli_model cm;
    if (cli_load_model(o->model, &cm)) return 1;
    cli_input in;
    cli_text t;
    cli_input_init(&in, o, 0);
    while (!rc && (got = cli_input_next(&in, &t)) != 0) rc = got < 0 || attention_one(&cm, o, &t, prec);
    cli_input_free(&in);
    cli_free_model(&cm);
    return rc;
}

/* One line of `fill-mask` output for one text: bl_fill_mask's top-k at every [MASK]. */
static int fill_mask_one(cli_model *cm, const cli_opts *o, const cli_text *t, int prec, int k) {
    bl_encoding enc;
    bl_ctx *ctx;
    if (run_model(cm, o, t, prec, 0, &enc, &ctx)) return 1;
    bl_mlm_top top;
    bl_err e;
    bl_mlm_top lens = {0};   /* --lens: the same top-k after every layer (lens.count = masks × layers) */
    int rc = bl_fill_mask(ctx, cm->m, enc.ids, enc.n, k, &top, &e) != 0 ? cli_die("%s", e.msg) : 0;
    if (!rc && o->lens && bl_logit_lens(ctx, cm->m, enc.ids, enc.n, k, &lens, &e) != 0) rc = cli_die("%s", e.msg);
    if (!rc) {
        fputc('[', stdout);
        for (int i = 0; i < top.count; i++) {
            printf("%s{\"position\":%d,\"top\":[", i ? "," : "", top.pos[i]);
            for (int r = 0; r < top.k; r++) {
                const int at = i * top.k + r;
                printf("%s{\"token\":", r ? "," : "");
                cli_json_str(stdout, top.tokens[at]);
                /* %.9g prints the float exactly: the page's numbers are the same floats */
                printf(",\"id\":%d,\"p\":%.9g}", top.ids[at], (double)top.p[at]);
            }
            fputc(']', stdout);
            if (o->lens) {
                const int L = top.count ? lens.count / top.count : 0;
                fputs(",\"lens\":[", stdout);
                for (int l = 0; l < L; l++) {
                    fputs(l ? ",[" : "[", stdout);
                    for (int r = 0; r < lens.k; r++) {
                        const size_t at = ((size_t)i * L + l) * lens.k + r;
                        printf("%s{\"token\":", r ? "," : "");
                        cli_json_str(stdout, lens.tokens[at]);
                        printf(",\"id\":%d,\"p\":%.9g}", lens.ids[at], (double)lens.p[at]);
                    }
                    fputc(']', stdout);
                }
                fputc(']', stdout);
            }
            fputc('}', stdout);
        }
        fputs("]\n", stdout);
    }
    bl_mlm_top_free(&top);
    bl_mlm_top_free(&lens);
    bl_ctx_free(ctx);
    bl_encoding_free(&enc);
    return rc;
}

static int cmd_fill_mask(const cli_opts *o) {
    int prec, rc = 0, got;
    if (cli_check_text(o, "fill-mask") || parse_precision(o->precision, &prec)) return 1;
    cli_model cm;
    if (cli_load_model(o->model, &cm)) return 1;
    if (!bl_model_config(cm.m)->has_mlm) { cli_free_model(&cm); return cli_die("fill-mask: this model has no masked-LM head"); }
    if (bl_model_config(cm.m)->mask_id < 0) { cli_free_model(&cm); return cli_die("fill-mask: the vocabulary has no mask token"); }
    cli_input in;
    cli_text t;
    cli_input_init(&in, o, 0);
    while (!rc && (got = cli_input_next(&in, &t)) != 0) rc = got < 0 || fill_mask_one(&cm, o, &t, prec, o->k > 0 ? o->k : 5);
    cli_input_free(&in);
    cli_free_model(&cm);
    return rc;
}

/* One line of `classify` output: the task head's labels and probabilities. */
static int classify_one(cli_model *cm, const cli_opts *o, const cli_text *t, int prec) {
    bl_encoding enc;
    bl_ctx *ctx;
    if (run_model(cm, o, t, prec, 0, &enc, &ctx)) return 1;
    const bl_config *c = bl_model_config(cm->m);
    const int C = c->n_labels, size = bl_head_size(ctx);
    float *p = malloc(sizeof(float) * (size_t)size);
    bl_err e;
    int rc = !p ? cli_die("out of memory") : bl_head_probs(ctx, p, &e) ? cli_die("classify: %s", e.msg) : 0;
    if (!rc) {
        fputs("{\"tokens\":", stdout);
        cli_json_tokens(stdout, bl_model_vocab(cm->m), &enc);
        fputs(",\"ids\":", stdout);
        cli_json_ints(stdout, enc.ids, enc.n);
        printf(",\"truncated\":%s,\"head\":\"%s\",\"labels\":[", enc.truncated ? "true" : "false", bl_head_name(c->head));
        for (int j = 0; j < C; j++) { if (j) fputc(',', stdout); cli_json_str(stdout, bl_model_label(cm->m, j)); }
        /* per row (token, or the text): the best label and every label's probability */
        const int rows = size / C;
        fputs(c->head == BL_HEAD_SEQ ? "],\"prediction\":" : "],\"predictions\":[", stdout);
        for (int r = 0; r < rows; r++) {
            const float *pr = p + (size_t)r * C;
            int best = 0;
            for (int j = 1; j < C; j++) best = pr[j] > pr[best] ? j : best;
            printf("%s{\"label\":", r ? "," : "");
            cli_json_str(stdout, bl_model_label(cm->m, best));
            printf(",\"p\":%.9g,\"probs\":[", (double)pr[best]);
            for (int j = 0; j < C; j++) printf(j ? ",%.9g" : "%.9g", (double)pr[j]);
            fputs("]}", stdout);
        }
        fputs(c->head == BL_HEAD_SEQ ? "}\n" : "]}\n", stdout);
    }
    free(p);
    bl_ctx_free(ctx);
    bl_encoding_free(&enc);
    return rc;
}

static int cmd_classify(const cli_opts *o) {
    int prec, rc = 0, got;
    if (cli_check_text(o, "classify") || parse_precision(o->precision, &prec)) return 1;
    cli_model cm;
    if (cli_load_model(o->model, &cm)) return 1;
    if (bl_model_config(cm.m)->head == BL_HEAD_NONE) {
        cli_free_model(&cm);
        return cli_die("classify: this model has no task head (a token or sequence classifier, or ELECTRA's discriminator)");
    }
    cli_input in;
    cli_text t;
    cli_input_init(&in, o, 0);
    while (!rc && (got = cli_input_next(&in, &t)) != 0) rc = got < 0 || classify_one(&cm, o, &t, prec);
    cli_input_free(&in);
    cli_free_model(&cm);
    return rc;
}

/* "fidelity": the record the converter stored (bl_model_fidelity), or "not measured". */
static void print_fidelity(const bl_model *m) {
    static const char *why[BL_FID_COUNT] = {"no record", NULL, "memory limit", "no tokenizer", "forward failed"};
    bl_fidelity f;
    bl_model_fidelity(m, &f);
    char text[256];
    bl_fidelity_text(&f, bl_model_dtype(m), text, sizeof text);
    printf("\"fidelity\":{\"status\":\"%s\"", f.status == BL_FID_MEASURED ? "measured" : "not measured");
    if (f.status == BL_FID_MEASURED)
        printf(",\"max\":%.9g,\"mean\":%.9g,\"reference\":\"%s\",\"precision\":\"%s\",\"calibration\":%d,"
               "\"sequences\":%d,\"tokens\":%d,\"cells\":%llu",
               (double)f.max_dev, (double)f.mean_dev, bl_dtype_name(f.ref_dtype), f.precision == BL_PREC_F32 ? "f32" : "native",
               f.calib, f.sequences, f.tokens, (unsigned long long)f.cells);
    else printf(",\"reason\":\"%s\"", why[f.status]);
    printf(",\"text\":");
    cli_json_str(stdout, text);
    printf("}");
}

static int cmd_convert(const cli_opts *o) {
    if (o->nargs != 1 || !o->out) return cli_die("convert: usage: bertlens convert HF_DIR -o OUT [--dtype int16|int8|f16|f32] [--shard-mb N]");
    /* int16 by default: int8 moved single attention weights by up to 0.5 on peaked heads, int16
       keeps them within 0.02 of the float model (weights/FORMAT.md) at an f16 file's size */
    const char *d = o->dtype ? o->dtype : "int16";
    int dt = bl_dtype_parse(d);
    if (dt < 0) return cli_die("--dtype must be int16, int8, f16 or f32, not '%s'", d);
    bl_err e;
    bl_conv_opts co = {dt, 0, !o->no_fidelity};
    if (bl_convert_hf_opts(o->args[0], o->out, &co, o->shard_mb, &e) != 0) return cli_die("convert: %s", e.msg);
    /* With shards the file to read back is the manifest: OUT itself when it ends in .json. */
    char path[1024];
    size_t ol = strlen(o->out);
    int is_json = ol >= 5 && !strcmp(o->out + ol - 5, ".json");
    snprintf(path, sizeof path, "%s%s", o->out, o->shard_mb > 0 && !is_json ? ".json" : "");
    cli_model cm;   /* read back what was written: a converter that writes garbage must not say ok */
    if (cli_load_model(path, &cm)) return 1;
    const bl_config *c = bl_model_config(cm.m);
    printf("{\"output\":");
    cli_json_str(stdout, path);
    printf(",\"dtype\":\"%s\",\"bytes\":%zu,\"layers\":%d,\"hidden\":%d,\"heads\":%d,\"vocab_size\":%d,",
           bl_dtype_name(dt), cm.len, c->layers, c->hidden, c->heads, c->vocab_size);
    print_fidelity(cm.m);
    printf("}\n");
    cli_free_model(&cm);
    return 0;
}

static int cmd_export_hf(const cli_opts *o) {
    if (!o->out || o->nargs) return cli_die("export-hf: usage: bertlens export-hf [-m MODEL] -o DIR");
    cli_model cm;
    if (cli_load_model(o->model, &cm)) return 1;
    bl_err e;
    int rc = bl_export_hf(cm.m, o->out, &e) != 0 ? cli_die("export-hf: %s", e.msg) : 0;
    if (!rc) { printf("{\"output\":"); cli_json_str(stdout, o->out); printf("}\n"); }
    cli_free_model(&cm);
    return rc;
}

static int cmd_info(const cli_opts *o) {
    if (o->nargs) return cli_die("info: unexpected argument '%s'", o->args[0]);
    cli_model cm;
    if (cli_load_model(o->model, &cm)) return 1;   /* the load verifies the checksum */
    const bl_config *c = bl_model_config(cm.m);
    uint8_t sha[32];
    bl_model_checksum(cm.m, sha);
    printf("{\"path\":");
    cli_json_str(stdout, cm.path);
    printf(",\"bytes\":%zu,\"dtype\":\"%s\",\"checksum\":\"ok\",\"sha256\":\"", cm.len, bl_dtype_name(bl_model_dtype(cm.m)));
    for (int i = 0; i < 32; i++) printf("%02x", sha[i]);
    printf("\",\"config\":{\"vocab_size\":%d,\"hidden\":%d,\"layers\":%d,\"heads\":%d,\"intermediate\":%d,"
           "\"max_pos\":%d,\"type_vocab\":%d,\"ln_eps\":%g,\"act\":\"%s\",\"lowercase\":%s,\"strip_accents\":%d,"
           "\"chinese_chars\":%s,\"has_mlm\":%s,\"family\":\"%s\",\"embed\":%d,\"head\":\"%s\",\"n_labels\":%d}",
           c->vocab_size, c->hidden, c->layers, c->heads, c->intermediate, c->max_pos, c->type_vocab, c->ln_eps,
           c->act == BL_ACT_GELU ? "gelu" : c->act == BL_ACT_GELU_TANH ? "gelu_tanh" : "relu",
           c->lowercase ? "true" : "false", c->strip_accents, c->chinese_chars ? "true" : "false",
           c->has_mlm ? "true" : "false", bl_family_name(c->family), c->embed, bl_head_name(c->head), c->n_labels);
    printf(",");
    print_fidelity(cm.m);
    printf("}\n");
    cli_free_model(&cm);
    return 0;
}

/* ------------------------------------------------------------------ options */

static int parse_int(const char *flag, const char *s, int lo, int hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return cli_die("%s expects an integer in %d..%d, not '%s'", flag, lo, hi, s);
    *out = (int)v;
    return 0;
}

static int parse_opts(int argc, char **argv, cli_opts *o) {
    memset(o, 0, sizeof *o);
    o->layer = -1;   /* not given: each command picks its default */
    o->scale = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE(field) do { if (!v) return cli_die("%s needs a value", a); o->field = v; i++; } while (0)
#define TAKE_INT(field, lo, hi) do { if (!v) return cli_die("%s needs a value", a); \
        if (parse_int(a, v, lo, hi, &o->field)) return 1; \
        i++; } while (0)
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) TAKE(model);
        else if (!strcmp(a, "--pair")) TAKE(pair);
        else if (!strcmp(a, "-o")) TAKE(out);
        else if (!strcmp(a, "--precision")) TAKE(precision);
        else if (!strcmp(a, "--dtype")) TAKE(dtype);
        else if (!strcmp(a, "--view")) TAKE(view);
        else if (!strcmp(a, "--colormap")) TAKE(colormap);
        else if (!strcmp(a, "--head")) TAKE(head);
        else if (!strcmp(a, "--layer")) TAKE_INT(layer, 0, 1 << 20);
        else if (!strcmp(a, "-k")) TAKE_INT(k, 1, 1 << 20);
        else if (!strcmp(a, "--shard-mb")) TAKE_INT(shard_mb, 1, 1 << 20);
        else if (!strcmp(a, "--width")) TAKE_INT(width, 64, 8192);
        else if (!strcmp(a, "--scale")) TAKE_INT(scale, 1, 4);
        else if (!strcmp(a, "--vocab")) TAKE(vocab);
        else if (!strcmp(a, "--max-len")) TAKE_INT(max_len, 1, 1 << 20);
        else if (!strcmp(a, "--threads")) TAKE_INT(threads, 1, 16);
        else if (!strcmp(a, "--file")) TAKE(file);
        else if (!strcmp(a, "--model-b")) TAKE(model_b);
        else if (!strcmp(a, "--ids")) TAKE(ids);
        else if (!strcmp(a, "--types")) TAKE(types);
        else if (!strcmp(a, "--format")) TAKE(format);
        else if (!strcmp(a, "--bar")) TAKE(bar);
        else if (!strcmp(a, "--rank")) TAKE(rank);
        else if (!strcmp(a, "--words")) o->words = 1;
        else if (!strcmp(a, "--no-fidelity")) o->no_fidelity = 1;
        else if (!strcmp(a, "--value-norms")) o->value_norms = 1;
        else if (!strcmp(a, "--lens")) o->lens = 1;
        else if (!strcmp(a, "--cased")) o->cased = 1;
        else if (!strcmp(a, "--dark")) o->dark = 1;
        else if (!strcmp(a, "--jsonl")) o->jsonl = 1;
        else if (!strcmp(a, "--")) { for (i++; i < argc; i++) { if (o->nargs == 8) return cli_die("too many arguments"); o->args[o->nargs++] = argv[i]; } }
        else if (a[0] == '-' && a[1]) return cli_die("unknown option '%s' (see bertlens --help)", a);
        else { if (o->nargs == 8) return cli_die("too many arguments"); o->args[o->nargs++] = a; }
#undef TAKE
#undef TAKE_INT
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) { puts("bertlens " BL_VERSION_STRING); return 0; }
    cli_opts o;
    if (parse_opts(argc, argv, &o)) return 2;
    const char *cmd = argv[1];
    if (!strcmp(cmd, "tokenize")) return cmd_tokenize(&o);
    if (!strcmp(cmd, "attention")) return cmd_attention(&o);
    if (!strcmp(cmd, "fill-mask")) return cmd_fill_mask(&o);
    if (!strcmp(cmd, "classify")) return cmd_classify(&o);
    if (!strcmp(cmd, "convert")) return cmd_convert(&o);
    if (!strcmp(cmd, "export-hf")) return cmd_export_hf(&o);
    if (!strcmp(cmd, "render")) return cli_render(&o);
    if (!strcmp(cmd, "info")) return cmd_info(&o);
    if (!strcmp(cmd, "stats")) return cli_stats(&o);
    if (!strcmp(cmd, "compare")) return cli_compare(&o);
    cli_die("unknown command '%s'", cmd);
    fputs(USAGE, stderr);
    return 2;
}
