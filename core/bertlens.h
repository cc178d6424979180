/* bertlens.h — see what BERT attends to. The one public header of the C core.

   The same code runs natively (CLI, tests, benchmarks) and as WebAssembly in the page.

   Usage:
       bl_err e;
       bl_model *m = bl_model_load(bytes, nbytes, 0, &e);   // validates; no copy of the big arrays
       if (!m) { fprintf(stderr, "%s\n", e.msg); ... }       // `bytes` must outlive `m`
       bl_encoding enc;
       bl_tokenize(bl_model_vocab(m), bl_model_tok_opts(m), text, strlen(text), NULL, 0,
                   bl_model_config(m)->max_pos, &enc, &e);
       bl_ctx *c = bl_ctx_new(m, &e);
       bl_forward(c, enc.ids, enc.type_ids, enc.n, BL_PREC_NATIVE, &e);
       const float *att = bl_attention(c);                  // [layers][heads][n][n], rows sum to 1
       ...
       bl_ctx_free(c); bl_encoding_free(&enc); bl_model_free(m);

   Conventions: functions that can fail return NULL or a negative value and fill `bl_err` with a
   specific message (never print, never abort). Every pointer returned by an accessor is owned
   by the object it came from. No global mutable state. */
#ifndef BERTLENS_H
#define BERTLENS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BL_VERSION_STRING "0.1.0"
#define BL_ERR_MAX 256
typedef struct { char msg[BL_ERR_MAX]; } bl_err;

/* ---------------------------------------------------------------- configuration */
enum { BL_ACT_GELU = 0 /* erf */, BL_ACT_GELU_TANH = 1, BL_ACT_RELU = 2 };

typedef struct {
    int vocab_size, hidden, layers, heads, intermediate, max_pos, type_vocab;
    float ln_eps;
    int act;            /* BL_ACT_* */
    int lowercase;      /* tokenizer: do_lower_case */
    int strip_accents;  /* tokenizer: -1 = follow lowercase (HF None), 0 = no, 1 = yes */
    int chinese_chars;  /* tokenizer: tokenize_chinese_chars */
    int has_mlm;        /* MLM head present (fill-mask possible) */
    /* The BERT family (format version 2; a version-1 file reads as BERT with these defaults).
       Writers may leave the fields 0: embed 0 = hidden, groups 0 = layers, inner 0 = 1. */
    int family;         /* BL_FAMILY_*: which Hugging Face code the checkpoint came from */
    int embed;          /* embedding width E (ALBERT, ELECTRA: embedding_size; else hidden) */
    int emb_proj;       /* 1: embeddings.project maps E to hidden (ALBERT always, ELECTRA when E != H) */
    int pos_offset;     /* 0: position i; 1: RoBERTa's pad_id + cumsum(id != pad) · (id != pad) */
    int groups, inner;  /* ALBERT: groups × inner stored layers; step i of layers/inner runs group
                           int(i / (steps / groups)), each group its inner layers in turn */
    int sinusoidal;     /* DistilBERT sinusoidal_pos_embds (informative: the table is stored) */
    int head;           /* BL_HEAD_*: the task head (besides an MLM head) */
    int n_labels;       /* its outputs (labels in bl_model_label) */
    int head_sigmoid;   /* 1: labels scored independently (sigmoid), 0: softmax over labels */
    int cls_id, sep_id, pad_id, mask_id, unk_id;   /* special token ids, -1 none */
    int has_fidelity;   /* the file carries a fidelity record (bl_model_fidelity; version 2 and up) */
} bl_config;

enum { BL_FAMILY_BERT = 0, BL_FAMILY_DISTILBERT = 1, BL_FAMILY_ROBERTA = 2 /* XLM-R, CamemBERT */,
       BL_FAMILY_ELECTRA = 3, BL_FAMILY_ALBERT = 4, BL_FAMILY_COUNT = 5 };
/* Task heads, each as its family's Hugging Face class computes it:
   TOKEN  *ForTokenClassification: classifier on every token
   SEQ    *ForSequenceClassification on token 0: BERT/ALBERT pooler (dense + tanh), RoBERTa and
          ELECTRA classifier.dense (+ tanh / GELU), DistilBERT pre_classifier (+ ReLU); then the
          classifier
   DISC   ELECTRA discriminator: dense + hidden_act + dense_prediction, one "replaced" logit per
          token (sigmoid) */
enum { BL_HEAD_NONE = 0, BL_HEAD_TOKEN = 1, BL_HEAD_SEQ = 2, BL_HEAD_DISC = 3, BL_HEAD_COUNT = 4 };
const char *bl_family_name(int family);   /* "bert", "distilbert", ...; "?" otherwise */
const char *bl_head_name(int head);       /* "none", "token-classification", ... */
/* Longest input the positions allow: max_pos, less pad_id + 1 with RoBERTa positions. */
int bl_config_max_tokens(const bl_config *c);

/* ---------------------------------------------------------------- tokenizer (tokenizer.c) */
typedef struct bl_vocab bl_vocab;

typedef struct {
    int lowercase;      /* as bl_config */
    int strip_accents;  /* -1, 0, 1 as bl_config */
    int chinese_chars;
} bl_tok_opts;

typedef struct {
    int n;              /* tokens including [CLS]/[SEP] */
    int n_a;            /* tokens of the first segment incl. [CLS] and its [SEP] */
    int *ids;           /* [n] */
    int *type_ids;      /* [n] 0 for segment A, 1 for segment B */
    int *start, *end;   /* [n] byte offsets [start,end) into the segment's input text
                           (A for type 0, B for type 1); -1 for special tokens added around it */
    int truncated;      /* 1 when tokens were dropped to fit max_len (HF longest_first) */
} bl_encoding;

/* Parse vocab.txt (one token per line, "\n" or "\r\n"). Duplicates keep the first id. */
bl_vocab *bl_vocab_parse(const char *txt, size_t len, bl_err *e);
void bl_vocab_free(bl_vocab *v);
int bl_vocab_size(const bl_vocab *v);
const char *bl_vocab_token(const bl_vocab *v, int id);          /* NUL-terminated, NULL if out of range */
int bl_vocab_id(const bl_vocab *v, const char *tok, size_t len); /* -1 if absent */

/* Hugging Face BertTokenizer, exactly: [CLS] A [SEP] (B [SEP]). b may be NULL (no pair).
   Invalid UTF-8 is replaced by U+FFFD (which cleaning then drops), never an error.
   max_len counts special tokens; <= 0 means no limit. Returns 0 or -1. */
int bl_tokenize(const bl_vocab *v, const bl_tok_opts *o,
                const char *a, size_t alen, const char *b, size_t blen,
                int max_len, bl_encoding *out, bl_err *e);
void bl_encoding_free(bl_encoding *enc);

/* ---------------------------------------------------------------- tokenizers (tok_json.c)
   Hugging Face tokenizer.json pipelines, exactly as the Rust `tokenizers` library computes them:
   models WordPiece, BPE (byte-level or not; merges as "a b" or [a, b]) and Unigram;
   normalizers BertNormalizer, Lowercase, NFD, NFKD, NFC, NFKC, StripAccents, Strip, Replace
   (string patterns), Prepend, Precompiled (SentencePiece charsmaps), Sequence; pre-tokenizers
   BertPreTokenizer, ByteLevel, Metaspace, Whitespace, WhitespaceSplit, Sequence;
   post-processors BertProcessing, RobertaProcessing, ByteLevel, TemplateProcessing, Sequence;
   added tokens (special or not, normalized, lstrip/rstrip, single_word); truncation
   longest_first. Anything else is an error naming it. A vocab.txt BertTokenizer (bl_tokenize
   above) can sit behind the same interface. Offsets are byte offsets into the text given, -1
   for the tokens the post-processor adds; the file's padding is ignored. */
typedef struct bl_tokenizer bl_tokenizer;

enum { BL_TOKENIZER_VOCAB_TXT = 0, BL_TOKENIZER_WORDPIECE = 1, BL_TOKENIZER_BPE = 2,
       BL_TOKENIZER_UNIGRAM = 3 };
/* roles of special tokens (bl_tokenizer_special) */
enum { BL_TOKROLE_CLS = 0, BL_TOKROLE_SEP = 1, BL_TOKROLE_MASK = 2, BL_TOKROLE_PAD = 3,
       BL_TOKROLE_UNK = 4, BL_TOKROLE_BOS = 5, BL_TOKROLE_EOS = 6, BL_TOKROLE_COUNT = 7 };
/* bl_tokenizer_display flags */
enum { BL_TOKD_WORD_START = 1,   /* began with a word-start marker (Ġ, ▁), which was removed */
       BL_TOKD_CONTINUATION = 2, /* WordPiece continuation ("##" kept) */
       BL_TOKD_SPECIAL = 4,      /* a special added token */
       BL_TOKD_PARTIAL = 8 };    /* byte-level bytes that are not whole characters (<0xNN>) */

bl_tokenizer *bl_tokenizer_from_json(const char *json, size_t len, bl_err *e);
bl_tokenizer *bl_tokenizer_from_vocab(const char *vocab_txt, size_t len, const bl_tok_opts *o, bl_err *e);
void bl_tokenizer_free(bl_tokenizer *t);
int bl_tokenizer_kind(const bl_tokenizer *t);          /* BL_TOKENIZER_* */
/* Encode A (and B when b is not NULL): what the library's encode(a, b) gives with
   add_special_tokens and truncation to max_len (<= 0: the file's truncation, if any).
   Type ids are the post-processor's (RoBERTa gives B type 0): tokens before n_a have offsets
   into A, the others into B. Invalid UTF-8 bytes count as U+FFFD, one byte each. */
int bl_tokenizer_encode(const bl_tokenizer *t, const char *a, size_t alen, const char *b, size_t blen,
                        int max_len, bl_encoding *out, bl_err *e);
int bl_tokenizer_vocab_size(const bl_tokenizer *t);    /* model vocab plus added tokens */
const char *bl_tokenizer_token(const bl_tokenizer *t, int id, size_t *len);   /* NULL if none */
int bl_tokenizer_id(const bl_tokenizer *t, const char *tok, size_t len);     /* -1 if absent */
int bl_tokenizer_special(const bl_tokenizer *t, int role);                   /* -1 if none */
/* Readable form of token id for the page, NUL-terminated in buf (whole characters only):
   byte-level pieces decoded to UTF-8, a leading Ġ/▁ dropped and flagged BL_TOKD_WORD_START.
   Returns its length or -1. */
int bl_tokenizer_display(const bl_tokenizer *t, int id, char *buf, size_t cap, int *flags);

/* ---------------------------------------------------------------- model file (model_file.c) */
typedef struct bl_model bl_model;

/* dtypes of tensors in the weights file (matrices: any; biases and LayerNorm: always F32).
   BL_DT_I16: 13-bit integers (±4095) stored as int16 with a scale per row (format version 3);
   the embeddings of such a file are F32 (F16 in files written before; both load). */
enum { BL_DT_F32 = 0, BL_DT_F16 = 1, BL_DT_I8 = 2, BL_DT_I16 = 3 };

enum { BL_LOAD_SKIP_CHECKSUM = 1 };

/* Validate and parse a weights file in place (see weights/FORMAT.md). The bytes must stay
   alive and unchanged while the model is used. The SHA-256 of the payload is verified unless
   BL_LOAD_SKIP_CHECKSUM. */
bl_model *bl_model_load(const void *data, size_t len, int flags, bl_err *e);
void bl_model_free(bl_model *m);
const bl_config *bl_model_config(const bl_model *m);
const bl_vocab *bl_model_vocab(const bl_model *m);
const bl_tok_opts *bl_model_tok_opts(const bl_model *m);
int bl_model_dtype(const bl_model *m);            /* BL_DT_* of the linear weights */
void bl_model_checksum(const bl_model *m, uint8_t sha256[32]);   /* stored payload SHA-256 */
/* For `bertlens info`: */
uint32_t bl_model_format_version(const bl_model *m);
size_t bl_model_file_size(const bl_model *m);
int bl_model_checksum_verified(const bl_model *m); /* 1 verified at load, 0 skipped (flag) */
int bl_model_verify(const bl_model *m, bl_err *e); /* recompute the payload SHA-256 now: 0 or -1 */
int bl_model_tensor_count(const bl_model *m);
/* Tensor i of the file's table (0 <= i < count): name, BL_DT_*, shape. Returns 0 or -1. */
int bl_model_tensor_info(const bl_model *m, int i, const char **name, int *dtype,
                         int *rows, int *cols);
const char *bl_dtype_name(int dtype);             /* "f32", "f16", "int8", "int16"; "?" otherwise */
/* The tokenizer.json stored with the model (version 2 files of families whose vocab is not a
   WordPiece vocab.txt: RoBERTa/XLM-R/CamemBERT, ALBERT), for bl_tokenizer_from_json; NULL when
   the file has none (then bl_tokenize with the vocab is the tokenizer). */
const char *bl_model_tokenizer_json(const bl_model *m, size_t *len);
/* Label i of the task head (config.id2label), NUL-terminated; NULL out of range or no head. */
const char *bl_model_label(const bl_model *m, int i);
/* The tokenizer a model's text goes through (model_tokenizer.c), the one the CLI and the page
   share: its stored tokenizer.json, else its vocab as a BertTokenizer (the families whose vocab
   is a vocab.txt); NULL with a message for a RoBERTa/ALBERT file without a tokenizer.json.
   Free with bl_tokenizer_free. */
bl_tokenizer *bl_model_tokenizer(const bl_model *m, bl_err *e);
/* bl_tokenizer_display, except that a bare word-start marker (▁ alone) shows as itself rather
   than as nothing. Returns the length or -1. */
int bl_model_token_display(const bl_tokenizer *t, int id, char *buf, size_t cap);

/* Attention fidelity (fidelity.c): how far the converted file's attention is from the float
   model it came from, measured by the converter on a built-in calibration text (a sentence, a
   pair and a paragraph, tokenized with the model's own tokenizer) and stored in the file. */
enum { BL_FID_NONE = 0,       /* not measured: a file without the record, or no reason given */
       BL_FID_MEASURED = 1,
       BL_FID_MEMORY = 2,     /* not measured: the float copy would pass the memory ceiling */
       BL_FID_NO_TOKENIZER = 3, /* not measured: the file has no tokenizer to encode the text */
       BL_FID_FAILED = 4,     /* not measured: a forward failed (e.g. out of memory) */
       BL_FID_COUNT = 5 };
typedef struct {
    int status;            /* BL_FID_* */
    int ref_dtype;         /* BL_DT_F32 or BL_DT_F16: the float copy the file was compared with */
    float max_dev;         /* max |α_file − α_float| over every layer, head, row and column */
    float mean_dev;        /* the mean of the same over all those cells */
    int calib;             /* the calibration text's version (bl_fidelity_calibration), 0 none */
    int sequences, tokens; /* encoded inputs and their tokens in all */
    int precision;         /* BL_PREC_* the file's forward ran in (the page's: native) */
    uint64_t cells;        /* attention weights compared */
    uint64_t ref_bytes;    /* bytes of the float copy (what it would need, for BL_FID_MEMORY) */
    uint64_t limit_bytes;  /* the ceiling it would have passed (BL_FID_MEMORY), else 0 */
} bl_fidelity;
/* The stored record; status BL_FID_NONE for a file without one (older files). */
void bl_model_fidelity(const bl_model *m, bl_fidelity *out);
/* Measure m (the converted file, run in `precision`) against ref (the same model with float
   weights, run in BL_PREC_F32) on the calibration text, tokenized by m's tokenizer. A file
   without a tokenizer gives status BL_FID_NO_TOKENIZER; a failing forward BL_FID_FAILED with
   e saying why. Returns 0 (out filled, whatever the status) or -1 (bad arguments). */
int bl_fidelity_measure(const bl_model *m, const bl_model *ref, int precision, bl_fidelity *out, bl_err *e);
/* Calibration text version v's inputs: count (returned) pairs (a[i], b[i]); b[i] NULL for a
   single text. 0 for an unknown version. */
int bl_fidelity_calibration(int version, const char *const **a, const char *const **b);
/* The one line the CLI and the page show: "int8: attention within 0.013 of the float model
   (max), mean 0.0004" or "int8: attention fidelity not measured (…)". Returns its length. */
int bl_fidelity_text(const bl_fidelity *f, int dtype, char *buf, size_t cap);

/* ---------------------------------------------------------------- inference (bert.c) */
typedef struct bl_ctx bl_ctx;

enum { BL_PREC_NATIVE = 0 /* int8 kernels where weights are int8 */,
       BL_PREC_F32 = 1    /* dequantized weights, f32 activations: the reference path */ };

bl_ctx *bl_ctx_new(const bl_model *m, bl_err *e);
void bl_ctx_free(bl_ctx *c);
/* Memory ceiling: a forward whose scratch (bl_ctx_bytes for its n) exceeds max_bytes fails with
   "forward: this model at n=… needs … MB, above the limit of … MB" before allocating, instead
   of letting malloc (or WebAssembly memory growth) fail or abort. 0 (the default) = no limit. */
void bl_ctx_set_max_bytes(bl_ctx *c, size_t max_bytes);
/* Bytes a context for m holds after a forward on n tokens (SIZE_MAX if that overflows size_t;
   0 for n < 1), attention kept as floats. Grows as layers × heads × n² (the kept attention maps)
   plus O(n). bl_ctx_bytes_u16: the same with the maps kept as 16-bit (below). */
size_t bl_ctx_bytes(const bl_model *m, int n);
size_t bl_ctx_bytes_u16(const bl_model *m, int n);
/* How the next forwards keep the attention maps: 0 (the default) as floats (bl_attention), 1 as
   round(p × 65535) in uint16 (bl_attention_u16; absolute error <= 1/131070 = 7.7e-6), half
   the memory: bert-base at n = 512 keeps 151 MB of maps as floats. The softmax and P·V still
   run in f32; only what is kept for the views is rounded. */
void bl_ctx_set_attention_u16(bl_ctx *c, int on);
/* 1: the next forwards compute only what the attention maps (and bl_query / bl_key) need: the
   last layer stops after its softmax (no values, no context, no feed-forward), a fifth of the
   default model's work. bl_hidden then returns NULL and bl_mlm_logits / bl_head_logits fail,
   so set it only when nothing needs the last hidden state. 0 (the default): the whole encoder. */
void bl_ctx_set_attention_only(bl_ctx *c, int on);
/* Threads (threads.c): a pool of 1..16 threads, the caller included, that contexts borrow for
   their forwards; the work is split so that results are bit-identical for any count. One pool
   serves any number of contexts, one forward at a time, and must outlive them. Natively always
   available; in WebAssembly only in the -pthread build (bertlens_core_mt), whose threads are
   Web Workers that go back to Emscripten's pool only through the event loop the blocked caller
   never returns to: make one pool and keep it. */
typedef struct bl_pool bl_pool;
bl_pool *bl_pool_new(int threads, bl_err *e);
void bl_pool_free(bl_pool *p);
int bl_pool_size(const bl_pool *p);               /* 1 for NULL */
void bl_ctx_set_pool(bl_ctx *c, bl_pool *p);     /* borrowed; NULL = the caller only (default) */
/* Run the encoder on n tokens (1 <= n <= max_pos). Keeps every attention map. */
int bl_forward(bl_ctx *c, const int *ids, const int *type_ids, int n, int precision, bl_err *e);
int bl_ctx_n(const bl_ctx *c);                    /* n of the last forward */
const float *bl_attention(const bl_ctx *c);       /* [layers][heads][n][n], post-softmax; NULL in u16 mode */
const uint16_t *bl_attention_u16(const bl_ctx *c); /* the same × 65535, rounded; NULL in float mode */
const float *bl_hidden(const bl_ctx *c);          /* [n][hidden], last hidden state */
/* Per layer query/key vectors (after bias, before scaling) for the neuron view:
   [n][hidden], head h occupies columns [h*d, (h+1)*d). */
const float *bl_query(const bl_ctx *c, int layer);
const float *bl_key(const bl_ctx *c, int layer);
/* Value-weighted attention (Kobayashi, Kuribayashi, Yokoi & Inui 2020, "Attention is Not Only a
   Weight"): with bl_ctx_set_value_norms(c, 1) the next forwards also compute, per layer,
   ‖α_ij f_h(x_j)‖ for every head, f_h(x) = (x W_V^h + b_V^h) W_O^h (the head's slice of the
   output projection; its bias belongs to no token), and ‖Σ_h α^h_ij f_h(x_j)‖, in the forward's
   precision (V as the forward computed it, W_O dequantized), summed in double. Costs n·hidden²
   + n·heads²·hidden + n²·heads² per layer and (heads + 1)·n² floats per layer kept.
   bl_value_norms: [layers][heads][n][n]; bl_value_norms_layer: [layers][n][n]; NULL unless the
   last forward computed them. */
void bl_ctx_set_value_norms(bl_ctx *c, int on);
const float *bl_value_norms(const bl_ctx *c);
const float *bl_value_norms_layer(const bl_ctx *c);
/* MLM logits for one position of the last forward: logits[vocab_size]. Needs has_mlm. */
int bl_mlm_logits(bl_ctx *c, int pos, float *logits, bl_err *e);
/* Logit lens (nostalgebraist 2020, as ecco draws it for GPT-2; here for the masked LM): with
   bl_ctx_set_keep_hidden(c, 1) the next full forwards keep every layer's output,
   bl_hidden_at(c, l) = [n][hidden] after layer l (l = layers-1 is bl_hidden), NULL otherwise;
   bl_mlm_logits_at applies the MLM head to that row, as bl_mlm_logits does to the last. */
void bl_ctx_set_keep_hidden(bl_ctx *c, int on);
const float *bl_hidden_at(const bl_ctx *c, int layer);
int bl_mlm_logits_at(bl_ctx *c, int layer, int pos, float *logits, bl_err *e);
/* The task head on the last forward (cfg.head != BL_HEAD_NONE), in its precision: TOKEN and
   DISC give [n][n_labels], SEQ gives [n_labels]; bl_head_size says how many floats. probs:
   softmax over each row's labels, or sigmoid of each logit when cfg.head_sigmoid (DISC always),
   computed in double. Return 0 or -1. */
int bl_head_size(const bl_ctx *c);
int bl_head_logits(bl_ctx *c, float *logits, bl_err *e);
int bl_head_probs(bl_ctx *c, float *probs, bl_err *e);

/* Masked-LM predictions (fill_mask.c): the one softmax and top-k that the CLI's fill-mask, its
   masked-LM render and the page all use, so they print the same probabilities. */
typedef struct {
    int count, k;                  /* count [MASK] positions × k choices each */
    int *pos;                      /* [count] token positions, ascending */
    int *ids;                      /* [count*k] vocab ids, best first */
    float *p;                      /* [count*k] their softmax probabilities */
    const char **tokens;           /* [count*k] their strings, borrowed from the model's vocab */
} bl_mlm_top;
/* The k best ids of logits[vocab] (k is clamped to vocab): larger logit first, equal logits by
   lower id, NaN last. p (may be NULL) receives their probabilities: softmax computed in double,
   max subtracted, the sum over ids 0..vocab-1 in order, each rounded to float once. Returns the
   number of ids written, or -1 (bad arguments, out of memory). */
int bl_mlm_top_k(const float *logits, int vocab, int k, int *ids, float *p);
/* Top-k at every position of ids[n] that holds the vocab's [MASK], after bl_forward(c, ids, …,
   n) on model m (the context's). k is clamped to vocab_size. No [MASK] (or none in the vocab):
   count = 0. Needs has_mlm. Returns 0, or -1 with *out empty. Free with bl_mlm_top_free. */
int bl_fill_mask(bl_ctx *c, const bl_model *m, const int *ids, int n, int k, bl_mlm_top *out, bl_err *e);
void bl_mlm_top_free(bl_mlm_top *t);
/* The logit lens at every [MASK] (core/analysis/lens.c), after a forward with
   bl_ctx_set_keep_hidden(c, 1): out->count = masks × layers rows, row r is mask r / layers
   after layer r % layers (pos[r] its position), each with its top-k as bl_fill_mask gives them;
   the last layer's rows are bl_fill_mask's. Returns 0, or -1 with *out empty. */
int bl_logit_lens(bl_ctx *c, const bl_model *m, const int *ids, int n, int k, bl_mlm_top *out, bl_err *e);

/* ---------------------------------------------------------------- renderer (render.c, font.c, colormap.c)
   Views are drawn by the core into an RGBA framebuffer (row-major, 4 bytes/pixel, straight
   alpha); the page only blits it. Sizes are in device pixels: CSS size × opts.scale. */
typedef struct bl_renderer bl_renderer;

enum { BL_VIEW_HEATMAP = 0, BL_VIEW_MODEL = 1, BL_VIEW_HEAD = 2, BL_VIEW_NEURON = 3,
       BL_VIEW_ROLLOUT = 4, BL_VIEW_FLOW = 5, BL_VIEW_MLM = 6, BL_VIEW_TASK = 7,
       BL_VIEW_HEAD_MAP = 8, BL_VIEW_COUNT = 9 };
enum { BL_CMAP_YLGNBU = 0, BL_CMAP_VIRIDIS = 1, BL_CMAP_MAGMA = 2, BL_CMAP_GREYS = 3, BL_CMAP_COUNT = 4 };
enum { BL_PAIR_ALL = 0, BL_PAIR_AA = 1, BL_PAIR_AB = 2, BL_PAIR_BA = 3, BL_PAIR_BB = 4 };

/* What to draw: borrowed arrays, typically straight from bl_ctx after bl_forward. */
typedef struct {
    int n, layers, heads, head_dim;
    const char *const *tokens;     /* [n] UTF-8 token strings */
    const int *type_ids;           /* [n] */
    const float *attn;             /* [layers][heads][n][n] */
    const uint16_t *attn16;        /* or the same as bl_attention_u16 keeps it (attn NULL) */
    const float *const *query;     /* [layers] -> [n][heads*head_dim] (neuron view), may be NULL */
    const float *const *key;       /* [layers] -> [n][heads*head_dim], may be NULL */
    /* masked-LM view: for each of mlm_count positions, top-k tokens and probabilities */
    int mlm_count, mlm_k;
    const int *mlm_pos;            /* [mlm_count] token positions */
    const char *const *mlm_tokens; /* [mlm_count*mlm_k] */
    const float *mlm_p;            /* [mlm_count*mlm_k] */
    const int *word_of;            /* [n] word of each token for opts.words; NULL: bl_word_ids(tokens) */
    const float *attn_b;           /* compare mode: a second set of maps at the same n (aligned by
                                      position, e.g. bl_attention_diff's first n); the heatmap then
                                      shows A − B with diverging colours. Floats only. */
    /* task head (prediction view): cfg.head, its n_labels labels (config.id2label) and
       bl_head_probs' output: TOKEN and DISC [n][n_labels], SEQ [n_labels]; head_p NULL: none */
    int head, n_labels;
    const char *const *labels;     /* [n_labels], may be NULL (drawn as "?") */
    const float *head_p;
    /* masked-LM view, the logit lens (bl_logit_lens): for each of the mlm_count positions,
       lens_layers rows (after layer 0, 1, …) of mlm_k choices, [mlm_count][lens_layers][mlm_k],
       drawn as a layer × rank table under the predictions; lens_tokens NULL: no table */
    int lens_layers;
    const char *const *lens_tokens;
    const float *lens_p;
    /* value-weighted attention (opts.value_weighted): bl_value_norms [layers][heads][n][n] and
       bl_value_norms_layer [layers][n][n] of the same forward; NULL: none */
    const float *norms, *norms_layer;
    /* what the maps hold, for the renderer's caches: nonzero = the caller's count of forward
       passes, a new value whenever attn/attn16/norms/norms_layer hold new contents; 0 = unknown,
       and the caches sample the maps instead (at n = 512, 65536 scattered reads a frame) */
    uint64_t maps_id;
} bl_render_input;

typedef struct {
    int view;          /* BL_VIEW_* */
    int layer, head;   /* head -1 = mean over heads */
    int colormap;      /* BL_CMAP_* */
    int dark;          /* dark theme */
    float scale;       /* devicePixelRatio: text and lines stay sharp */
    int width;         /* CSS pixels available; the renderer picks the height */
    int hide_special;  /* hide [CLS]/[SEP] rows and columns (renormalise nothing; just hide) */
    int pair_filter;   /* BL_PAIR_* */
    float threshold;   /* cells/lines below it are drawn as 0 */
    int token;         /* selected token (neuron view, head-view isolation), -1 none */
    int hover_x, hover_y; /* pointer in CSS pixels, -1 none: highlight row/column or lines */
    float vmax;        /* top of the colour scale; <= 0: auto (largest value shown) */
    int words;         /* 1: word-level attention (bl_word_attention) in the heatmap, model, head,
                          rollout and flow views; token indices (token, hits) are then words */
    int value_weighted;/* 1: the heatmap, model, head, rollout and flow views draw ‖α f(x)‖
                          (in->norms; head -1 / all heads: in->norms_layer, the norm of the sum
                          over heads) on an auto scale; rollout and flow use norms_layer with
                          each row normalised to sum 1 (Kobayashi et al. 2020) */
    int stat_bar;      /* model view: a bar under each thumbnail showing statistic stat_bar - 1
                          (BL_STAT_*; entropy as a share of ln n); 0 = none */
    int rank, rank_from, rank_to; /* model view, rank = 1: thumbnails ordered by α[rank_from][rank_to]
                          (tokens, or words with `words`), largest first ("find heads") */
    int zoom_size, zoom_row, zoom_col; /* heatmap and rollout: zoom_size > 0 shows at most that many
                          rows from token zoom_row on and columns from zoom_col on (of those the
                          filters keep); 0 = the whole matrix */
} bl_view_opts;

/* What is under a point of the last render (for tooltips and clicks). Per kind:
     1 BL_HIT_CELL (heatmap, rollout): from = row token, to = column token, value = the cell's value,
       layer/head as rendered (head -1 = mean; rollout: layer = last layer included)
     2 BL_HIT_TOKEN: from = token index; side 0 = row label / left column / sentence chip (MLM),
       1 = column label / right column / neuron-view row; value = the bar's value (flow:
       the token's flow, neuron: softmax weight), layer/head where meaningful
     3 BL_HIT_HEAD, a thumbnail or head swatch (model view, head view): layer, head
     4 BL_HIT_MLM, a masked-LM choice: from = the [MASK] position, to = rank (0 = best), head = index into
       the mlm_* arrays, value = probability; layer = -1, or in the logit lens table the layer
       whose hidden state the row is from (its choices are the lens_* arrays')
     5 BL_HIT_LABEL, the prediction view: from = token (-1: a sequence label's bar), to = label
       (the token's best; -1 for a sequence classifier's token), value = its probability
   Unused fields are -1 (value 0). */
enum { BL_HIT_NONE = 0, BL_HIT_CELL = 1, BL_HIT_TOKEN = 2, BL_HIT_HEAD = 3 /* thumbnail or head swatch */,
       BL_HIT_MLM = 4, BL_HIT_LABEL = 5, BL_HIT_COUNT = 6 };
typedef struct {
    int kind;          /* BL_HIT_* */
    int from, to, layer, head;
    float value;
    int side;          /* kind 2: 0 = left/"from" side (or sentence chip), 1 = right/"to" side */
} bl_hit;

/* ttf: a TrueType font the renderer borrows (must outlive it); web/fonts/DejaVuSans-subset.ttf.
   Codepoints the font lacks are drawn as outlined boxes. */
bl_renderer *bl_renderer_new(const uint8_t *ttf, size_t len, bl_err *e);
void bl_renderer_free(bl_renderer *r);
/* Draws into an internal framebuffer (reused; valid until the next bl_render or free); *w, *h
   receive its size in device pixels. The width is round(width × scale) unless the view needs
   more (tiny widths); the height is the view's. Neither exceeds 4096: a view that cannot fit
   is an error. Views and their options:
     HEATMAP  layer, head (-1 mean); hide_special, pair_filter, threshold, vmax, hover
     MODEL    every layer × head; layer/head mark the selected thumbnail; fixed 0..1 scale
              (vmax overrides); hide_special, pair_filter, threshold apply
     HEAD     layer; head -1 = all heads overlaid; hover or `token` isolates one token's lines
     NEURON   layer, head (-1 shows head 0), token = the query (default 0); needs query/key
     ROLLOUT  rollout through layers 0..layer (layer = layers-1 for the whole model)
     FLOW     max-flow to [CLS] through layers 0..layer; exact for n <= 64, else rollout's
              [CLS] row (the title says which)
     MLM      mlm_* arrays; works with mlm_count = 0 (tells the user to click a token)
     TASK     the task head's prediction (head, labels, head_p): token labels under the tokens,
              the discriminator's "replaced" score, or the sequence labels as bars; a note
              when there is no head
     HEAD_MAP every head as a dot at its classical MDS position (bl_mds2 of bl_head_distances on
              these maps), coloured by layer; layer/head mark the selected one; hits BL_HIT_HEAD
   The geometry never depends on hover_x/hover_y, so hovering can re-render freely. */
const uint8_t *bl_render(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o,
                         int *w, int *h, bl_err *e);
bl_hit bl_hit_test(const bl_renderer *r, int css_x, int css_y);
/* The same view as an SVG 1.1 document, drawn from the same layout and draw calls as the
   raster (which the renderer also holds afterwards, as after bl_render): rectangles, lines,
   text as <text> elements (XML-escaped), the model view's thumbnails as embedded PNG images;
   viewBox = the framebuffer in device pixels. Returns a malloc'd NUL-terminated string of *len
   bytes (free() it), or NULL. */
char *bl_render_svg(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, size_t *len, bl_err *e);

/* Colormaps (colormap.c): matplotlib's 256-entry tables; v is clamped to [0,1] and picks entry
   min(floor(v*256), 255) as matplotlib does. bl_colormap_lut: [256][3] RGB, NULL if unknown. */
void bl_colormap(int cmap, float v, uint8_t rgb[3]);
const uint8_t *bl_colormap_lut(int cmap);
int bl_colormap_index(float v);

/* PNG (png.c, stb_image_write): writes w×h RGBA. Returns 0 or -1. */
int bl_write_png(const char *path, const uint8_t *rgba, int w, int h, bl_err *e);

/* ---------------------------------------------------------------- streaming converter
   (convert_stream.c; natively and in WebAssembly) Hugging Face BERT checkpoint -> weights file,
   fed the files' bytes as they arrive in chunks of any size, converting each tensor as soon as
   its bytes have gone by: peak memory is about the converted model plus one row of a tensor.
   The result is byte-identical to bl_convert_hf (which feeds the files through this).
   Calls, in this order:
     bl_conv_set_config            config.json
     bl_conv_set_tokenizer_file    vocab.txt and/or tokenizer.json (its WordPiece model.vocab and
                                   BertNormalizer flags), tokenizer_config.json,
                                   special_tokens_map.json (accepted, not needed)
     bl_conv_set_index             sharded checkpoints only: model.safetensors.index.json or
                                   pytorch_model.bin.index.json; bl_conv_file lists the shards
     for each weights file (model.safetensors, pytorch_model.bin, or every shard):
       bl_conv_begin_file, bl_conv_push..., bl_conv_end_file
     bl_conv_finish                the weights file (malloc'd; the caller frees it)
   Inputs: safetensors F32/F16/BF16; pytorch_model.bin as torch.save writes it (zip + pickle),
   read by a restricted reader that executes nothing and refuses anything but tensors. Every
   failure names the file and tensor; after one, every call repeats it. */
typedef struct bl_conv bl_conv;

typedef struct {
    int dtype;           /* BL_DT_* of the matrices */
    size_t max_bytes;    /* memory ceiling: the converted model and its row buffers; 0 = none */
    int measure;         /* 1: also keep a float copy (f32, else f16, within max_bytes) and store
                            the attention fidelity (bl_fidelity_measure) in the file; 0: no record */
} bl_conv_opts;

typedef struct {
    uint64_t bytes;          /* pushed so far, all files */
    uint64_t file_bytes;     /* pushed into the current (or last) file */
    int64_t file_total;      /* its announced size, -1 if unknown */
    int tensors_done;        /* canonical tensors converted */
    int tensors_total;       /* tensors of the output (0 until the tensor names are known) */
    size_t mem_bytes;        /* held by the converter now */
    size_t peak_bytes;       /* at most so far */
    size_t out_bytes;        /* size of the output being filled (0 until laid out) */
} bl_conv_progress;

bl_conv *bl_conv_new(const bl_conv_opts *o, bl_err *e);
void bl_conv_free(bl_conv *c);
int bl_conv_set_config(bl_conv *c, const char *json, size_t len, bl_err *e);
/* name: the file's name or path (its last component says which file it is; messages use it) */
int bl_conv_set_tokenizer_file(bl_conv *c, const char *name, const uint8_t *bytes, size_t len, bl_err *e);
int bl_conv_set_index(bl_conv *c, const char *name, const char *json, size_t len, bl_err *e);
/* The weights files the index names, sorted (i from 0); NULL past the end or without an index. */
const char *bl_conv_file(const bl_conv *c, int i);
/* total: the file's size in bytes, or -1 if unknown (then truncation shows at bl_conv_end_file). */
int bl_conv_begin_file(bl_conv *c, const char *name, int64_t total, bl_err *e);
int bl_conv_push(bl_conv *c, const uint8_t *bytes, size_t n, bl_err *e);
/* Checks that the file was complete (its announced size, the safetensors data, the zip's end). */
int bl_conv_end_file(bl_conv *c, bl_err *e);
int bl_conv_finish(bl_conv *c, uint8_t **out, size_t *len, bl_err *e);
void bl_conv_get_progress(const bl_conv *c, bl_conv_progress *p);

/* ---------------------------------------------------------------- model list and shard manifests (manifest.c)
   The rules are weights/FORMAT.md's ("Model list", "Shards and manifest"); the CLI, the native
   reader (bl_read_model_file) and the page's worker all resolve with these. */
typedef struct {
    char *name;          /* the model's "name" */
    char *file;          /* its "file": a path relative to the list's directory (checked) */
    int sharded;         /* file ends in ".json": a shard manifest, read with bl_shard_manifest_parse */
    int64_t size;        /* the weights file's size in bytes; -1 when the entry gives none */
    char sha256[65];     /* its SHA-256, lowercase hex; "" when the entry gives none */
} bl_model_entry;
/* Which model a model list (weights/manifest.json) names: the entry whose "name" is "default",
   or the first entry when there is no "default". Returns 0, or -1 (e says why). */
int bl_model_list_resolve(const char *json, size_t len, bl_model_entry *out, bl_err *e);
void bl_model_entry_free(bl_model_entry *m);

typedef struct {
    char *path;          /* a plain file name, relative to the shard manifest's directory */
    int64_t size;
    char sha256[65];     /* lowercase hex */
} bl_shard_part;
typedef struct {
    int64_t size;        /* of the whole weights file: the parts' sizes add up to it */
    char sha256[65];     /* of the whole weights file */
    int nparts;
    bl_shard_part *parts;
} bl_shard_manifest;
/* Parse and check a shard manifest; entry (may be NULL): the model list's entry that named it,
   whose size and sha256, when given, must equal the manifest's. Returns 0, or -1. */
int bl_shard_manifest_parse(const char *json, size_t len, const bl_model_entry *entry, bl_shard_manifest *out, bl_err *e);
void bl_shard_manifest_free(bl_shard_manifest *s);

/* ---------------------------------------------------------------- native only: conversion
   (convert.c, model_io.c; not compiled into the WebAssembly module's exports) */

/* Convert a Hugging Face BERT directory (config.json; model.safetensors, sharded safetensors
   with model.safetensors.index.json, or pytorch_model.bin (sharded with its index); vocab.txt or
   tokenizer.json; optional tokenizer_config.json) into a weights file, through bl_conv. dtype is BL_DT_* of the
   matrices. shard_mb <= 0: writes out_path. shard_mb > 0: writes parts STEM.part000, ... (each
   at most shard_mb MiB, byte slices of the single file) and a manifest (see weights/FORMAT.md):
   out_path itself when it ends in ".json" (STEM = out_path minus ".json"), else out_path.json
   (STEM = out_path). */
int bl_convert_hf(const char *hf_dir, const char *out_path, int dtype, int shard_mb, bl_err *e);
/* The same with the converter's options (o->measure: store the attention fidelity). */
int bl_convert_hf_opts(const char *hf_dir, const char *out_path, const bl_conv_opts *o, int shard_mb, bl_err *e);
/* Write config.json, model.safetensors (F32, dequantized), vocab.txt, tokenizer_config.json
   into dir (created if missing). Converting the result with the model's dtype gives back a
   byte-identical weights file. */
int bl_export_hf(const bl_model *m, const char *dir, bl_err *e);
/* Read a whole weights file into a malloc'd buffer (free() it): a .bin file, or a manifest
   JSON whose parts are concatenated and checked against their sizes and SHA-256. */
int bl_read_model_file(const char *path, uint8_t **buf, size_t *len, bl_err *e);
/* Parse "int8"/"i8", "int16"/"i16", "f16", "f32" into BL_DT_*; -1 if unknown. */
int bl_dtype_parse(const char *s);

/* ---------------------------------------------------------------- attention analyses (core/analysis/)
   Pure functions on the maps a forward keeps ([layers][heads][n][n], as floats `attn` or as
   bl_attention_u16's `attn16`; pass one, the other NULL). Computed in double, rounded once.

   Head statistics (Clark, Khandelwal, Levy & Manning 2019, "What Does BERT Look At?"), per head,
   each a mean over the map's n rows:
     entropy  -Σ_j α_ij ln α_ij (nats; ln n = uniform, 0 = one-hot)
     cls/sep/punct  Σ α_ij over the tokens j of that kind (kinds[j], bl_token_kind)
     prev/next  α_i,i-1 / α_i,i+1 (a mean over the n-1 rows that have one; 0 when n = 1)
     self     α_ii */
enum { BL_TOKK_CLS = 1, BL_TOKK_SEP = 2, BL_TOKK_PUNCT = 4 };
/* The kind of a token from its string: "[CLS]"/"<s>", "[SEP]"/"</s>", or punctuation (every
   character BERT's BasicTokenizer calls punctuation, after a leading "##", "Ġ" or "▁"). */
int bl_token_kind(const char *tok);
enum { BL_STAT_ENTROPY = 0, BL_STAT_CLS = 1, BL_STAT_SEP = 2, BL_STAT_PUNCT = 3, BL_STAT_PREV = 4,
       BL_STAT_NEXT = 5, BL_STAT_SELF = 6, BL_STAT_COUNT = 7 };
const char *bl_stat_name(int stat);       /* "entropy", "cls", …, "self"; "?" otherwise */
/* out[(l·heads + h)·BL_STAT_COUNT + s]. Returns 0 or -1. */
int bl_head_stats(const float *attn, const uint16_t *attn16, int layers, int heads, int n,
                  const uint8_t *kinds, float *out, bl_err *e);
/* Distance between every two heads a, b (index l·heads + h): sqrt of the mean over rows i of the
   Jensen–Shannon divergence (bits) of their row i, a metric in [0, 1]. dist[M×M], M = L·H. */
int bl_head_distances(const float *attn, const uint16_t *attn16, int layers, int heads, int n,
                      float *dist, bl_err *e);
/* The same distance over the query rows rows[0..nrows) only (each in 0..n-1): what the head map
   view uses on long inputs, where every row would cost O(L²H²n²). With every row it equals
   bl_head_distances up to rounding (head_dist.c sums each pair with one logarithm per term). */
int bl_head_distances_rows(const float *attn, const uint16_t *attn16, int layers, int heads, int n, const int *rows,
                           int nrows, float *dist, bl_err *e);
/* Classical (Torgerson) MDS of a symmetric m×m distance matrix to 2-D: xy[m][2], the two
   leading eigenvectors of -½·J·D²·J scaled by sqrt(eigenvalue), each signed so that its
   largest-magnitude component is positive. Returns 0 or -1. */
int bl_mds2(const float *dist, int m, float *xy, bl_err *e);
/* Mean and sample standard deviation (n-1; 0 for one row) of each column of rows[nrows][width]
   (e.g. head statistics over many sentences), summed in row order. sd may be NULL. */
void bl_stats_summary(const float *rows, int nrows, int width, float *mean, float *sd);

/* Word-level attention (Clark et al. 2019, §2): word_of[i] is the word of token i (0..nw-1, every
   word non-empty). out[nw×nw]: attention TO a word summed over its pieces, FROM a word averaged
   over its pieces, so rows still sum to 1. One map (a or a16). Returns 0, or -1 (bad word_of). */
int bl_word_attention(const float *a, const uint16_t *a16, int n, const int *word_of, int nw, float *out);
/* word_of from token strings: a special token ([CLS], </s>, …) is a word; a WordPiece "##x"
   continues the word before it; when some token carries a word-start mark (byte-level BPE "Ġ",
   SentencePiece "▁"), every unmarked token continues the word before it. Returns nw, or -1. */
int bl_word_ids(const char *const *tokens, int n, int *word_of);

/* Compare mode (two inputs, or two models on one input), aligned by token position over the
   first n = min(na, nb) positions: out[maps][n][n] = A − B (rows not renormalised); returns n,
   or -1. bl_entropy_change: out[l·heads + h] = entropy(A) − entropy(B) of each head (each over
   its own full map). bl_compare_tokens: the aligned positions whose tokens differ into
   differ[min(na, nb)]; returns their count. */
int bl_attention_diff(const float *a, int na, const float *b, int nb, int maps, float *out);
int bl_entropy_change(const float *a, int na, const float *b, int nb, int layers, int heads, float *out, bl_err *e);
int bl_compare_tokens(const char *const *ta, int na, const char *const *tb, int nb, int *differ);

/* ---------------------------------------------------------------- utilities */
typedef struct { uint32_t h[8]; uint64_t len; uint8_t buf[64]; size_t nbuf; } bl_sha256_ctx;
void bl_sha256_init(bl_sha256_ctx *s);
void bl_sha256_update(bl_sha256_ctx *s, const void *data, size_t len);
void bl_sha256_final(bl_sha256_ctx *s, uint8_t out[32]);
void bl_sha256(const void *data, size_t len, uint8_t out[32]);

#ifdef __cplusplus
}
#endif
#endif
