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
    int nargs;
    const char *args[8];
} cli_opts;

/* A loaded model with the bytes it lives in. */
typedef struct {
    uint8_t *buf;
    size_t len;
    bl_model *m;
    bl_pool *pool;           /* made by cli_ctx_new for its contexts */
    char path[1024];
} cli_model;

int cli_die(const char *fmt, ...);
char *cli_read_file(const char *path, size_t *len);   /* whole file, NUL-terminated; NULL on error */   /* prints "bertlens: error: …" and returns 1 */
int cli_load_model(const char *path, cli_model *cm);
void cli_free_model(cli_model *cm);
int cli_encode(const cli_model *cm, const char *a, const char *b, bl_encoding *enc);
/* A context for cm with --threads applied (the pool lives in cm until cli_free_model); NULL
   after printing the error. */
bl_ctx *cli_ctx_new(cli_model *cm, const cli_opts *o);

/* JSON output */
void cli_json_str(FILE *f, const char *s);
void cli_json_tokens(FILE *f, const bl_vocab *v, const bl_encoding *enc);
void cli_json_ints(FILE *f, const int *v, int n);

/* indices of the k largest of v[n], best first */
void cli_top_k(const float *v, int n, int k, int *idx);

int cli_render(const cli_opts *o);   /* cli_render.c */
#endif
