/* cli.h — shared pieces of the native `bertlens` command line tool. */
#ifndef BL_CLI_H
#define BL_CLI_H
#include "bertlens.h"
#include <stdio.h>

/* Parsed common options; positional arguments are collected in `args`. */
typedef struct {
    const char *model;       /* -m; NULL = default model from weights/manifest.json */
    const char *pair;        /* --pair */
    const char *out;         /* -o */
    const char *precision;   /* --precision f32|native */
    const char *dtype;       /* --dtype */
    const char *view, *colormap, *head;
    const char *vocab;       /* tokenize --vocab */
    int cased, max_len;
    int layer, k, shard_mb, jsonl, width, scale, dark;
    int threads;             /* --threads; 0 = the CPUs online, at most 8 */
    const char *file;        /* stats --file SENTENCES.txt */
    const char *model_b;     /* compare --model-b */
    const char *format;      /* render --format png|svg */
    const char *bar, *rank;  /* render (model view): --bar STAT under each thumbnail, --rank I-J */
    int words, value_norms, lens;   /* --words, --value-norms, --lens */
    int no_fidelity;         /* convert --no-fidelity: no float copy, no fidelity record */
    const char *ids, *types; /* --ids 0,31414,2 [--types 0,0,0]: token ids instead of TEXT */
    int nargs;
    const char *args[8];
} cli_opts;

/* A loaded model with the bytes it lives in. */
typedef struct {
    uint8_t *buf;
    size_t len;
    bl_model *m;
    bl_pool *pool;           /* made by cli_ctx_new for its contexts */
    bl_tokenizer *tok;       /* bl_model_tokenizer: the stored tokenizer.json or the vocab; NULL: none */
    char path[1024];
} cli_model;

/* One text to run: segment a and optional b (NULL) with their byte lengths, which count every
   byte: JSON text may hold NUL ("\u0000"), and a NUL is text (HF's cleaning drops the
   character, not what follows it). */
typedef struct {
    const char *a, *b;
    size_t alen, blen;
} cli_text;

/* Where a command's texts come from: TEXT [--pair B] on the command line (one text), or with
   --jsonl stdin: one {"a": …, "b": … (optional, may be null)} per line, or when `whole` all of
   stdin as one such object. */
typedef struct {
    const cli_opts *o;
    int whole, count;
    char *line;
    size_t cap;
    struct bl_json *j;
} cli_input;

int cli_die(const char *fmt, ...);   /* prints "bertlens: error: …" and returns 1 */
char *cli_read_file(const char *path, size_t *len);   /* whole file, NUL-terminated; NULL on error */
int cli_load_model(const char *path, cli_model *cm);
void cli_free_model(cli_model *cm);
int cli_encode(const cli_model *cm, const cli_text *t, bl_encoding *enc);

/* TEXT or --jsonl, not both, not neither: 0, or 1 after printing the error for cmd. */
int cli_check_text(const cli_opts *o, const char *cmd);
void cli_input_init(cli_input *in, const cli_opts *o, int whole);
/* The next text into t (valid until the next call): 1, 0 at the end, -1 after printing the
   error (bad JSON or not {"a": string, …}, naming the stdin line). */
int cli_input_next(cli_input *in, cli_text *t);
void cli_input_free(cli_input *in);
/* A context for cm with --threads applied (the pool lives in cm until cli_free_model); NULL
   after printing the error. */
bl_ctx *cli_ctx_new(cli_model *cm, const cli_opts *o);

/* JSON output */
void cli_json_str(FILE *f, const char *s);
void cli_json_tokens(FILE *f, const bl_vocab *v, const bl_encoding *enc);
void cli_json_ints(FILE *f, const int *v, int n);
/* v as [outer][inner][n][n] (inner 0: [outer][n][n]), %.7g; null when v is NULL (cli_stats.c) */
void cli_json_maps(FILE *f, const float *v, int outer, int inner, int n);


int cli_render(const cli_opts *o);   /* cli_render.c */
int cli_stats(const cli_opts *o);    /* cli_stats.c */
int cli_compare(const cli_opts *o);  /* cli_stats.c */
#endif
