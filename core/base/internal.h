/* internal.h — structures shared between core files. Not part of the public API. */
#ifndef BL_INTERNAL_H
#define BL_INTERNAL_H

#include "bertlens.h"
#include <stdio.h>

/* BL_DT_* (tensor dtypes) live in bertlens.h: the CLI needs them for --dtype. */

/* A 2-D matrix [rows][cols], row-major, pointing into the file buffer (never copied).
   Linear weights are stored as HF nn.Linear does: [out][in]. Embeddings: [tokens][hidden].
   I8 and I16 (int16 holding -4095..4095): symmetric per row, value = data[r][c] * scale[r]. */
typedef struct {
    int dtype;            /* BL_DT_* */
    int rows, cols;
    const void *data;
    const float *scale;   /* [rows], I8 and I16 only; NULL otherwise */
    int run;              /* I16: inputs per exact int32 run, bl_k_i16_run (0: the worst case, 64) */
    const int32_t *wsum;  /* I8 linear weight of a model file: Σ of each row (bl_model_load); else NULL */
} bl_tensor;

typedef struct {
    bl_tensor q_w, k_w, v_w, o_w, i_w, f_w;     /* attention q/k/v/output, FFN in (intermediate), FFN out */
    const float *q_b, *k_b, *v_b, *o_b, *i_b, *f_b;
    const float *ln1_g, *ln1_b;                 /* attention.output.LayerNorm */
    const float *ln2_g, *ln2_b;                 /* output.LayerNorm */
} bl_layer;

typedef struct {
    bl_tensor word, pos, type;                  /* embeddings [*][embed]; type absent when type_vocab = 0 */
    const float *emb_ln_g, *emb_ln_b;
    bl_tensor proj; const float *proj_b;        /* embeddings.project [hidden][embed] (cfg.emb_proj) */
    bl_layer *layers;                           /* [cfg.layers] */
    /* MLM head (valid when cfg.has_mlm) */
    bl_tensor mlm_w; const float *mlm_b;        /* cls.predictions.transform.dense */
    const float *mlm_ln_g, *mlm_ln_b;           /* cls.predictions.transform.LayerNorm */
    bl_tensor decoder;                          /* == word unless the file stores an untied decoder */
    const float *decoder_b;                     /* cls.predictions.bias [vocab] */
    /* task head (cfg.head): classifier.dense (SEQ, DISC) and classifier.out [n_labels][hidden] */
    bl_tensor head_w; const float *head_b;
    bl_tensor out_w; const float *out_b;
} bl_weights;

struct bl_model {
    bl_config cfg;
    bl_tok_opts tok;
    bl_vocab *vocab;
    bl_weights w;
    int dtype;                 /* dtype of the linear weights */
    uint8_t sha256[32];
    const uint8_t *buf;
    size_t len;
    /* model_file.c bookkeeping (bertlens info) */
    uint32_t version;          /* format version of the file */
    int n_tensors;             /* entries in the tensor table */
    const uint8_t *table;      /* the tensor table inside buf */
    int checksum_ok;           /* 1 when the payload SHA-256 was verified at load */
    char *label_text;          /* the labels section, each '\n' made a NUL (owned) */
    const char **labels;       /* [n_labels] into label_text */
    const char *tok_json;      /* the stored tokenizer.json (version 2, optional), into buf */
    size_t tok_json_len;
    bl_fidelity fid;           /* the fidelity record (status BL_FID_NONE without one) */
    int32_t *row_sums;         /* every I8 linear weight's row sums (owned), the tensors' wsum */
};

/* Canonical tensor names in the weights file (HF names without the "bert." prefix; LayerNorm
   as weight/bias). Biases and LayerNorm are always F32; matrices F32, F16 or I8.
     embeddings.word_embeddings.weight [vocab][hidden]
     embeddings.position_embeddings.weight [max_pos][hidden]
     embeddings.token_type_embeddings.weight [type_vocab][hidden]
     embeddings.LayerNorm.weight / .bias [hidden]
     encoder.layer.{i}.attention.self.{query,key,value}.{weight,bias}
     encoder.layer.{i}.attention.output.dense.{weight,bias}
     encoder.layer.{i}.attention.output.LayerNorm.{weight,bias}
     encoder.layer.{i}.intermediate.dense.{weight,bias}
     encoder.layer.{i}.output.dense.{weight,bias}
     encoder.layer.{i}.output.LayerNorm.{weight,bias}
     cls.predictions.transform.dense.{weight,bias}        (optional: MLM head)
     cls.predictions.transform.LayerNorm.{weight,bias}
     cls.predictions.bias [vocab]
     cls.predictions.decoder.weight                       (only when not tied)
   1-D tensors are stored with rows = 1, cols = length. */

/* ---- model_file.c: writer and helpers (used by convert.c) */
/* One tensor to write, always given as f32 [rows][cols] (1-D: rows = 1). The writer stores
   matrices (bl_tensor_is_matrix) in `dtype`, everything else as F32. */
typedef struct { const char *name; int rows, cols; const float *data; } bl_wtensor;
/* Serialise a weights file into a malloc'd buffer. vocab: tokens, each followed by '\n'. */
int bl_model_write(const bl_config *cfg, int dtype, const char *vocab, size_t vocab_len,
                   const bl_wtensor *t, int nt, uint8_t **out, size_t *out_len, bl_err *e);
/* The same with the task head's labels (labels: n_labels strings, each followed by '\n';
   NULL/0 without a head). Writes version 1 for a plain BERT config, else version 2; version 3
   (the version 2 layout) whenever dtype is BL_DT_I16, so older readers refuse it by version. */
int bl_model_write_ex(const bl_config *cfg, int dtype, const char *vocab, size_t vocab_len,
                      const char *labels, size_t labels_len, const bl_wtensor *t, int nt,
                      uint8_t **out, size_t *out_len, bl_err *e);
/* Header bytes (192 for version 1, 256 for versions 2 and 3) for a config and dtype, and the header itself:
   fixed header, config and family blocks, section offsets (vocab right after the header,
   labels right after the vocab, a stored tokenizer.json right after the labels). The SHA-256 is left for the caller. Shared by the writer
   and the streaming converter so that both lay files out the same way. */
uint64_t bl_header_size(const bl_config *cfg, int dtype);
void bl_header_put(uint8_t *b, const bl_config *cfg, int dtype, int nt, uint64_t file_size, uint64_t vocab_len,
                   uint64_t labels_len, uint64_t tok_len, uint64_t table_off, uint64_t data_off);
/* The fidelity record (weights/FORMAT.md): BL_FID_BYTES bytes right before the tensor table
   when cfg->has_fidelity, which writers reserve; bl_fidelity_put fills them. */
#define BL_FID_BYTES 64
void bl_fidelity_put(uint8_t *p, const bl_fidelity *f);
/* Stored layer for attention step a (ALBERT shares layers; identity otherwise). */
int bl_layer_for_step(const bl_config *cfg, int a);
int bl_stored_layers(const bl_config *cfg);
/* Activations of the heads as each family's code has them (BL_ACT_*, or BL_ACT_TANH). */
enum { BL_ACT_TANH = 3 };
int bl_mlm_act(const bl_config *cfg);
int bl_head_act(const bl_config *cfg);
int bl_tensor_is_matrix(const char *canonical_name);
/* The dtype a canonical tensor is stored in, in a file whose matrices are `dtype`: F32 for
   vectors, F16 for the embeddings of an int16 file, else dtype. */
int bl_stored_dtype(const char *canonical_name, int dtype);
/* Config ranges (layers, heads | hidden, eps, flags...): 0 or -1 with "bad config: ...". */
int bl_config_check(const bl_config *c, bl_err *e);
/* Dequantize / widen a tensor into out[rows*cols] f32. */
void bl_tensor_to_f32(const bl_tensor *t, float *out);
/* The int8 quantizer (per row): scale = max|row| / 127 (f32), q = round(w / scale). */
void bl_quantize_row(const float *w, int n, int8_t *q, float *scale);
/* The int16 quantizer: the same with 13 bits (±4095) stored as int16, scale = max|row| / 4095. */
#define BL_I16_MAX 4095
void bl_quantize_row_i16(const float *w, int n, int16_t *q, float *scale);
/* Bytes per element of a BL_DT_* (1 for int8); 1 for an unknown one. */
static inline int bl_dtype_size(int dt) { return dt == BL_DT_F32 ? 4 : dt == BL_DT_F16 || dt == BL_DT_I16 ? 2 : 1; }
/* Whether a dtype stores integers with a scale per row (I8, I16). */
static inline int bl_dtype_scaled(int dtype) { return dtype == BL_DT_I8 || dtype == BL_DT_I16; }
/* Rows o0..o0+rows of a 2-D tensor as a tensor of their own, with their scales and row sums
   (threads share a linear step by rows this way; a kernel gives each row the same bits in
   either). */
static inline bl_tensor bl_tensor_rows(const bl_tensor *w, int o0, int rows) {
    bl_tensor v = *w;
    v.rows = rows;
    v.data = (const char *)w->data + (size_t)o0 * w->cols * bl_dtype_size(w->dtype);
    if (w->scale) v.scale = w->scale + o0;
    if (w->wsum) v.wsum = w->wsum + o0;
    return v;
}

/* Raw vocab text of a loaded model (tokens each followed by '\n'), pointing into its buffer. */
const char *bl_model_vocab_text(const bl_model *m, size_t *len);
/* Table entry i of a loaded model as a bl_tensor (any dtype, 1-D included). 0 or -1. */
int bl_model_tensor_at(const bl_model *m, int i, bl_tensor *t, const char **name);
/* Canonical tensor i (0 <= i < count) for a config: embeddings, layers, then the MLM head.
   kind: 0 required, 1 MLM head (required when has_mlm), 2 optional untied decoder. Only the
   tensors this config has are listed (embeddings.project, token types, head and MLM head as the
   config says), the decoder always last. Returns -1 when i is past the end. */
int bl_canonical_tensor(const bl_config *c, int i, char *name, size_t n, int *rows, int *cols, int *kind);

/* ---- convert.c: bl_convert_hf with the shard size in bytes (0 = one file); tests use small
   shards to get many parts from a tiny model. */
int bl_convert_hf_ex(const char *hf_dir, const char *out_path, int dtype, size_t shard_bytes, bl_err *e);

/* ---- model_io.c (native): read a whole file into a malloc'd buffer, followed by a NUL byte
   that len does not count (so text files can be used as C strings). */
int bl_read_whole_file(const char *path, uint8_t **buf, size_t *len, bl_err *e);

/* f16 <-> f32 (IEEE half, round to nearest even) */
float bl_f16_to_f32(uint16_t h);
uint16_t bl_f32_to_f16(float f);

/* UTF-8 (util.c), the one decoder of the core (JSON, tokenizer, font). bl_utf8_decode: the
   sequence at s[0..n), n >= 1: its length 1..4 with *cp its code point, or 0 when it is not
   valid UTF-8 (overlong, surrogate, above U+10FFFF, bad or missing continuation byte) with
   *cp = U+FFFD; a caller that replaces skips one byte, so the next byte resyncs. bl_utf8_encode:
   cp (<= U+10FFFF, not a surrogate) into out[0..4), returns the bytes written. */
size_t bl_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp);
size_t bl_utf8_encode(uint32_t cp, char *out);

/* Error helper: formats into e->msg (e may be NULL). Always returns -1. */
int bl_fail(bl_err *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* threads.c (bl_pool_* in bertlens.h): bl_pool_run runs fn(arg, t) for t < tasks on the pool's
   threads and the caller; a NULL pool or one of 1 thread runs them in order. */
#define BL_MAX_THREADS 16
int bl_pool_supported(void);   /* 0 in a WebAssembly build without -pthread */
void bl_pool_run(bl_pool *p, int tasks, void (*fn)(void *arg, int task), void *arg);

/* fill_mask.c: a bl_mlm_top's arrays for `rows` rows of k choices and one vocabulary row of
   logits; 0, or -1 with nothing allocated. Used by bl_fill_mask and bl_logit_lens. */
int bl_mlm_top_alloc(bl_mlm_top *out, size_t rows, int k, int vocab, float **logits);

#endif
