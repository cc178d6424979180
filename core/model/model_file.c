/* model_file.c — the weights file: validation and in-place parsing (bl_model_load), the writer
   (bl_model_write) and the int8 quantizer. The byte layout is specified in weights/FORMAT.md;
   keep the two in step.

   The loader trusts nothing: every count, offset and size is checked against the buffer length
   with overflow-safe 64-bit arithmetic before anything is read through a pointer, and the
   payload SHA-256 is verified (unless BL_LOAD_SKIP_CHECKSUM) before the tables are parsed. */
#include "base/internal.h"
#include "kernels/kernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "bertlens weights are little-endian and parsed in place: big-endian hosts are unsupported"
#endif

#define BL_MAGIC "BERTLENS"
#define BL_FORMAT_VERSION 3u      /* the newest this build reads; plain BERT is still written as 1,
                                    int16 files as 3 (so that builds without int16 refuse them) */
#define BL_HDR_FIXED 64          /* magic .. sha256: bytes not covered by the checksum */
#define BL_HDR_SIZE 192          /* version 1: fixed header + config + section offsets */
#define BL_HDR_SIZE2 256         /* version 2: + the family block (64 bytes at 192) */
#define BL_TENSOR_ENTRY 128      /* bytes per tensor table entry */
#define BL_NAME_MAX 96           /* name field, NUL-padded (so at most 95 chars) */
#define BL_ALIGN 64

/* Sanity limits: reject absurd configs before allocating anything. Generous for BERT-large
   and friends, small enough that sizes stay far from overflow on 32-bit (wasm) size_t. */
#define BL_MAX_VOCAB (1 << 21)
#define BL_MAX_HIDDEN 16384
#define BL_MAX_LAYERS 256
#define BL_MAX_HEADS 1024
#define BL_MAX_INTER 65536
#define BL_MAX_POS 65536
#define BL_MAX_TYPES 1024
#define BL_MAX_LABELS 65536

/* ---------------------------------------------------------------- little-endian access */
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static float rdf32(const uint8_t *p) { uint32_t u = rd32(p); float f; memcpy(&f, &u, 4); return f; }
static void wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void wr64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void wrf32(uint8_t *p, float f) { uint32_t u; memcpy(&u, &f, 4); wr32(p, u); }
static uint64_t align64(uint64_t x) { return (x + (BL_ALIGN - 1)) & ~(uint64_t)(BL_ALIGN - 1); }

const char *bl_dtype_name(int dtype) {
    return dtype == BL_DT_F32 ? "f32" : dtype == BL_DT_F16 ? "f16" : dtype == BL_DT_I8 ? "int8"
         : dtype == BL_DT_I16 ? "int16" : "?";
}

int bl_dtype_parse(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "f32") || !strcmp(s, "float32")) return BL_DT_F32;
    if (!strcmp(s, "f16") || !strcmp(s, "float16")) return BL_DT_F16;
    if (!strcmp(s, "int8") || !strcmp(s, "i8")) return BL_DT_I8;
    if (!strcmp(s, "int16") || !strcmp(s, "i16")) return BL_DT_I16;
    return -1;
}

static uint64_t bl_dt_size(int dt) { return (uint64_t)bl_dtype_size(dt); }

/* ---------------------------------------------------------------- the canonical tensor set */
/* Shape codes for rows/cols: V vocab, H hidden, E embedding width, I intermediate, P max_pos,
   T type_vocab, C n_labels, 1. */
typedef struct {
    const char *name;     /* top-level name, or the suffix after "encoder.layer.{i}." */
    size_t off;           /* offset of the bl_tensor / const float* in bl_weights or bl_layer */
    int matrix;           /* bl_tensor (matrix dtype) vs const float* (F32 vector) */
    char r, c;
    int mlm;              /* which config has it: BL_SK_* */
} bl_slot;

/* When a slot is part of a file: always, with the MLM head, the optional untied decoder, with
   token types, with embeddings.project, with a head that has a dense layer before its
   classifier (SEQ, DISC), with any task head. */
enum { BL_SK_ALWAYS = 0, BL_SK_MLM = 1, BL_SK_DECODER = 2, BL_SK_TYPES = 3, BL_SK_PROJ = 4, BL_SK_HEAD_DENSE = 5,
       BL_SK_HEAD = 6 };

#define LS(n, f, m, r, c) {n, offsetof(bl_layer, f), m, r, c, 0}
static const bl_slot bl_layer_slots[] = {
    LS("attention.self.query.weight", q_w, 1, 'H', 'H'), LS("attention.self.query.bias", q_b, 0, '1', 'H'),
    LS("attention.self.key.weight", k_w, 1, 'H', 'H'),   LS("attention.self.key.bias", k_b, 0, '1', 'H'),
    LS("attention.self.value.weight", v_w, 1, 'H', 'H'), LS("attention.self.value.bias", v_b, 0, '1', 'H'),
    LS("attention.output.dense.weight", o_w, 1, 'H', 'H'), LS("attention.output.dense.bias", o_b, 0, '1', 'H'),
    LS("attention.output.LayerNorm.weight", ln1_g, 0, '1', 'H'),
    LS("attention.output.LayerNorm.bias", ln1_b, 0, '1', 'H'),
    LS("intermediate.dense.weight", i_w, 1, 'I', 'H'), LS("intermediate.dense.bias", i_b, 0, '1', 'I'),
    LS("output.dense.weight", f_w, 1, 'H', 'I'),       LS("output.dense.bias", f_b, 0, '1', 'H'),
    LS("output.LayerNorm.weight", ln2_g, 0, '1', 'H'), LS("output.LayerNorm.bias", ln2_b, 0, '1', 'H'),
};
#undef LS
#define BL_NLAYER_SLOTS ((int)(sizeof bl_layer_slots / sizeof bl_layer_slots[0]))

#define TS(n, f, m, r, c, k) {n, offsetof(bl_weights, f), m, r, c, k}
/* The embeddings (the first BL_NEMB_SLOTS, written before the layers), then the task head and
   the MLM head, the untied decoder last (the converter drops it from the end when tied). */
static const bl_slot bl_top_slots[] = {
    TS("embeddings.word_embeddings.weight", word, 1, 'V', 'E', BL_SK_ALWAYS),
    TS("embeddings.position_embeddings.weight", pos, 1, 'P', 'E', BL_SK_ALWAYS),
    TS("embeddings.token_type_embeddings.weight", type, 1, 'T', 'E', BL_SK_TYPES),
    TS("embeddings.LayerNorm.weight", emb_ln_g, 0, '1', 'E', BL_SK_ALWAYS),
    TS("embeddings.LayerNorm.bias", emb_ln_b, 0, '1', 'E', BL_SK_ALWAYS),
    TS("embeddings.project.weight", proj, 1, 'H', 'E', BL_SK_PROJ),
    TS("embeddings.project.bias", proj_b, 0, '1', 'H', BL_SK_PROJ),
    TS("classifier.dense.weight", head_w, 1, 'H', 'H', BL_SK_HEAD_DENSE),
    TS("classifier.dense.bias", head_b, 0, '1', 'H', BL_SK_HEAD_DENSE),
    TS("classifier.out.weight", out_w, 1, 'C', 'H', BL_SK_HEAD),
    TS("classifier.out.bias", out_b, 0, '1', 'C', BL_SK_HEAD),
    TS("cls.predictions.transform.dense.weight", mlm_w, 1, 'E', 'H', BL_SK_MLM),
    TS("cls.predictions.transform.dense.bias", mlm_b, 0, '1', 'E', BL_SK_MLM),
    TS("cls.predictions.transform.LayerNorm.weight", mlm_ln_g, 0, '1', 'E', BL_SK_MLM),
    TS("cls.predictions.transform.LayerNorm.bias", mlm_ln_b, 0, '1', 'E', BL_SK_MLM),
    TS("cls.predictions.bias", decoder_b, 0, '1', 'V', BL_SK_MLM),
    TS("cls.predictions.decoder.weight", decoder, 1, 'V', 'E', BL_SK_DECODER),
};
#undef TS
#define BL_NTOP_SLOTS ((int)(sizeof bl_top_slots / sizeof bl_top_slots[0]))
#define BL_NEMB_SLOTS 7

/* Whether a config has the slot: 0 no, 1 required, 2 optional (the untied decoder). */
static int bl_slot_wanted(const bl_config *c, int kind) {
    switch (kind) {
    case BL_SK_ALWAYS: return 1;
    case BL_SK_MLM: return c->has_mlm;
    case BL_SK_DECODER: return c->has_mlm ? 2 : 0;
    case BL_SK_TYPES: return c->type_vocab > 0;
    case BL_SK_PROJ: return c->emb_proj;
    case BL_SK_HEAD_DENSE: return c->head == BL_HEAD_SEQ || c->head == BL_HEAD_DISC;
    case BL_SK_HEAD: return c->head != BL_HEAD_NONE;
    default: return 0;
    }
}

int bl_stored_layers(const bl_config *c) { return c->groups > 0 ? c->groups * (c->inner > 0 ? c->inner : 1) : c->layers; }

int bl_layer_for_step(const bl_config *c, int a) {
    if (c->groups <= 0) return a;
    const int K = c->inner > 0 ? c->inner : 1, N = c->layers / K, i = a / K;
    /* AlbertTransformer: int(i / (num_hidden_layers / num_hidden_groups)), in doubles as Python */
    const int g = (int)((double)i / ((double)N / (double)c->groups));
    return g * K + a % K;
}

int bl_mlm_act(const bl_config *c) {
    /* RobertaLMHead and ElectraGeneratorPredictions call the erf GELU whatever hidden_act says */
    return c->family == BL_FAMILY_ROBERTA || c->family == BL_FAMILY_ELECTRA ? BL_ACT_GELU : c->act;
}

int bl_head_act(const bl_config *c) {
    if (c->head == BL_HEAD_DISC) return c->act;   /* get_activation(config.hidden_act) */
    switch (c->family) {
    case BL_FAMILY_DISTILBERT: return BL_ACT_RELU;   /* pre_classifier + nn.ReLU */
    case BL_FAMILY_ELECTRA: return BL_ACT_GELU;      /* ElectraClassificationHead: gelu */
    default: return BL_ACT_TANH;                     /* pooler / RobertaClassificationHead */
    }
}

const char *bl_family_name(int f) {
    static const char *n[] = {"bert", "distilbert", "roberta", "electra", "albert"};
    return f >= 0 && f < BL_FAMILY_COUNT ? n[f] : "?";
}

const char *bl_head_name(int h) {
    static const char *n[] = {"none", "token-classification", "sequence-classification", "electra-discriminator"};
    return h >= 0 && h < BL_HEAD_COUNT ? n[h] : "?";
}

int bl_config_max_tokens(const bl_config *c) {
    return c->pos_offset ? c->max_pos - c->pad_id - 1 : c->max_pos;
}

static int bl_dim(const bl_config *c, char code) {
    switch (code) {
    case 'V': return c->vocab_size;
    case 'H': return c->hidden;
    case 'E': return c->embed > 0 ? c->embed : c->hidden;
    case 'C': return c->n_labels;
    case 'I': return c->intermediate;
    case 'P': return c->max_pos;
    case 'T': return c->type_vocab;
    default: return 1;
    }
}

/* an int16 file's embedding tables (not embeddings.project, which is multiplied) */
static int bl_i16_embedding(const char *name, int dtype) {
    return dtype == BL_DT_I16 && !strncmp(name, "embeddings.", 11) && strcmp(name, "embeddings.project.weight");
}

int bl_stored_dtype(const char *name, int dtype) {
    if (!bl_tensor_is_matrix(name)) return BL_DT_F32;
    /* embeddings are looked up, never multiplied by the int16 kernel, so they keep the float
       values: 13-bit rows moved attention on a peaked test checkpoint by 0.05 (one scale per row
       is coarse for the small entries), F16 still by 0.026–0.046 where F32 gives 0.008–0.011
       (tests/test_fidelity.c) */
    return bl_i16_embedding(name, dtype) ? BL_DT_F32 : dtype;
}

/* What the loader accepts: bl_stored_dtype's, and F16 embeddings in an int16 file (what the
   converter wrote before they became F32). */
static int bl_dtype_accepted(const char *name, int dtype, int tdt) {
    return tdt == bl_stored_dtype(name, dtype) || (tdt == BL_DT_F16 && bl_i16_embedding(name, dtype));
}

int bl_tensor_is_matrix(const char *name) {
    /* Matrices are the ".weight"s that are not LayerNorm: linear layers and embeddings. */
    size_t n = strlen(name);
    return n > 7 && !strcmp(name + n - 7, ".weight") && !strstr(name, "LayerNorm");
}

/* Map a canonical name to a slot index: top-level slots 0..NTOP-1, then layer i slot s at
   NTOP + i*NLAYER + s. Returns -1 when the name is not canonical for this config. */
static int bl_slot_index(const char *name, int layers) {
    static const char pre[] = "encoder.layer.";
    if (!strncmp(name, pre, sizeof pre - 1)) {
        const char *p = name + sizeof pre - 1;
        long li = 0;
        int nd = 0;
        while (*p >= '0' && *p <= '9' && nd < 4) { li = li * 10 + (*p - '0'); p++; nd++; }
        if (nd == 0 || nd == 4 || *p != '.' || (nd > 1 && name[sizeof pre - 1] == '0') || li >= layers)
            return -1;
        for (int s = 0; s < BL_NLAYER_SLOTS; s++)
            if (!strcmp(p + 1, bl_layer_slots[s].name)) return BL_NTOP_SLOTS + (int)li * BL_NLAYER_SLOTS + s;
        return -1;
    }
    for (int s = 0; s < BL_NTOP_SLOTS; s++)
        if (!strcmp(name, bl_top_slots[s].name)) return s;
    return -1;
}

static const bl_slot *bl_slot_get(int idx) {
    return idx < BL_NTOP_SLOTS ? &bl_top_slots[idx] : &bl_layer_slots[(idx - BL_NTOP_SLOTS) % BL_NLAYER_SLOTS];
}

static void bl_slot_name(int idx, char *buf, size_t n) {
    if (idx < BL_NTOP_SLOTS) snprintf(buf, n, "%s", bl_top_slots[idx].name);
    else snprintf(buf, n, "encoder.layer.%d.%s", (idx - BL_NTOP_SLOTS) / BL_NLAYER_SLOTS,
                  bl_layer_slots[(idx - BL_NTOP_SLOTS) % BL_NLAYER_SLOTS].name);
}

/* ---------------------------------------------------------------- config block */
/* Config block at byte 64: 16 little-endian 32-bit fields (see FORMAT.md). */
enum { CF_VOCAB, CF_HIDDEN, CF_LAYERS, CF_HEADS, CF_INTER, CF_MAXPOS, CF_TYPES, CF_EPS, CF_ACT,
       CF_LOWER, CF_STRIP, CF_CHINESE, CF_MLM, CF_DTYPE, CF_NTENSORS, CF_RESERVED };

/* Version 2 is needed for anything a version-1 file cannot say. */
static int bl_config_needs_v2(const bl_config *c) {
    return c->family || (c->embed && c->embed != c->hidden) || c->emb_proj || c->pos_offset || c->groups ||
           c->inner > 1 || c->sinusoidal || c->head || c->n_labels || c->type_vocab == 0 || c->has_fidelity;
}

int bl_config_check(const bl_config *c, bl_err *e) {
    struct { const char *name; int v, min, max; } d[] = {
        {"vocab_size", c->vocab_size, 1, BL_MAX_VOCAB}, {"hidden", c->hidden, 1, BL_MAX_HIDDEN},
        {"layers", c->layers, 1, BL_MAX_LAYERS},       {"heads", c->heads, 1, BL_MAX_HEADS},
        {"intermediate", c->intermediate, 1, BL_MAX_INTER}, {"max_pos", c->max_pos, 1, BL_MAX_POS},
        /* 0: no token type embeddings (DistilBERT) */
        {"type_vocab", c->type_vocab, 0, BL_MAX_TYPES},
        {"family", c->family, 0, BL_FAMILY_COUNT - 1}, {"embed", c->embed, 0, BL_MAX_HIDDEN},
        {"emb_proj", c->emb_proj, 0, 1}, {"pos_offset", c->pos_offset, 0, 1},
        {"groups", c->groups, 0, c->layers}, {"inner", c->inner, 0, c->layers},
        {"sinusoidal", c->sinusoidal, 0, 1}, {"head", c->head, 0, BL_HEAD_COUNT - 1},
        {"n_labels", c->n_labels, 0, BL_MAX_LABELS}, {"head_sigmoid", c->head_sigmoid, 0, 1},
        {"has_fidelity", c->has_fidelity, 0, 1}};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        if (d[i].v < d[i].min || d[i].v > d[i].max)
            return bl_fail(e, "bad config: %s = %d (must be %d..%d)", d[i].name, d[i].v, d[i].min, d[i].max);
    const int E = c->embed ? c->embed : c->hidden;
    if (E != c->hidden && !c->emb_proj)
        return bl_fail(e, "bad config: embed %d differs from hidden %d without embeddings.project", E, c->hidden);
    if (c->groups && (c->inner < 1 || c->layers % c->inner))
        return bl_fail(e, "bad config: %d attention layers are not a multiple of %d inner layers", c->layers, c->inner);
    if (!c->groups && c->inner > 1)
        return bl_fail(e, "bad config: inner = %d without shared layer groups", c->inner);
    if (c->groups && c->groups > c->layers / c->inner)
        return bl_fail(e, "bad config: %d layer groups for %d steps", c->groups, c->layers / c->inner);
    if ((c->head == BL_HEAD_NONE) != (c->n_labels == 0))
        return bl_fail(e, "bad config: head %s with %d labels", bl_head_name(c->head), c->n_labels);
    if (c->head == BL_HEAD_DISC && (c->n_labels != 1 || !c->head_sigmoid))
        return bl_fail(e, "bad config: the ELECTRA discriminator head has one sigmoid output");
    if (c->head == BL_HEAD_NONE && c->head_sigmoid) return bl_fail(e, "bad config: head_sigmoid without a head");
    const int sp[5] = {c->cls_id, c->sep_id, c->pad_id, c->mask_id, c->unk_id};
    static const char *spn[5] = {"cls_id", "sep_id", "pad_id", "mask_id", "unk_id"};
    for (int i = 0; i < 5; i++)
        if (sp[i] < -1 || sp[i] >= c->vocab_size)
            return bl_fail(e, "bad config: %s = %d (must be -1..%d)", spn[i], sp[i], c->vocab_size - 1);
    if (c->pos_offset && (c->pad_id < 0 || c->pad_id + 1 >= c->max_pos))
        return bl_fail(e, "bad config: RoBERTa positions need pad_id (%d) + 1 below max_pos %d", c->pad_id, c->max_pos);
    if (c->hidden % c->heads)
        return bl_fail(e, "bad config: hidden %d is not divisible by heads %d", c->hidden, c->heads);
    if (!(c->ln_eps > 0.0f && c->ln_eps < 1.0f))   /* also rejects NaN */
        return bl_fail(e, "bad config: LayerNorm eps %g (must be in (0, 1))", (double)c->ln_eps);
    if (c->act < BL_ACT_GELU || c->act > BL_ACT_RELU) return bl_fail(e, "bad config: activation %d", c->act);
    if (c->lowercase != 0 && c->lowercase != 1) return bl_fail(e, "bad config: lowercase %d", c->lowercase);
    if (c->strip_accents < -1 || c->strip_accents > 1)
        return bl_fail(e, "bad config: strip_accents %d", c->strip_accents);
    if (c->chinese_chars != 0 && c->chinese_chars != 1)
        return bl_fail(e, "bad config: chinese_chars %d", c->chinese_chars);
    if (c->has_mlm != 0 && c->has_mlm != 1) return bl_fail(e, "bad config: has_mlm %d", c->has_mlm);
    return 0;
}

/* Family block at byte 192 (version 2): 16 little-endian 32-bit fields (see FORMAT.md). */
enum { FF_FAMILY, FF_EMBED, FF_PROJ, FF_POSOFF, FF_GROUPS, FF_INNER, FF_SINUS, FF_HEAD, FF_NLABELS, FF_SIGMOID,
       FF_CLS, FF_SEP, FF_PAD, FF_MASK, FF_UNK, FF_RESERVED };

static void bl_read_family(const uint8_t *p, bl_config *c) {
    int *f[FF_RESERVED] = {&c->family, &c->embed, &c->emb_proj, &c->pos_offset, &c->groups, &c->inner,
                           &c->sinusoidal, &c->head, &c->n_labels, &c->head_sigmoid, &c->cls_id, &c->sep_id,
                           &c->pad_id, &c->mask_id, &c->unk_id};
    for (int i = 0; i < FF_RESERVED; i++) *f[i] = (int)rd32(p + 4 * i);
}

/* Version 3 is version 2's layout; it says the matrices may be int16, which a version-2 reader
   would otherwise reject only as an unknown dtype. */
static uint32_t bl_version_for(const bl_config *cfg, int dtype) {
    return dtype == BL_DT_I16 ? 3u : bl_config_needs_v2(cfg) ? 2u : 1u;
}

uint64_t bl_header_size(const bl_config *cfg, int dtype) {
    return bl_version_for(cfg, dtype) >= 2 ? BL_HDR_SIZE2 : BL_HDR_SIZE;
}

void bl_header_put(uint8_t *b, const bl_config *cfg, int dtype, int nt, uint64_t file_size, uint64_t vocab_len,
                   uint64_t labels_len, uint64_t tok_len, uint64_t table_off, uint64_t data_off) {
    const uint32_t version = bl_version_for(cfg, dtype);
    const int v2 = version >= 2;
    const uint64_t hdr = v2 ? BL_HDR_SIZE2 : BL_HDR_SIZE;
    memcpy(b, BL_MAGIC, 8);
    wr32(b + 8, version);
    wr64(b + 16, file_size);
    uint8_t *cb = b + BL_HDR_FIXED;
    const uint32_t v[CF_RESERVED] = {(uint32_t)cfg->vocab_size, (uint32_t)cfg->hidden, (uint32_t)cfg->layers,
        (uint32_t)cfg->heads, (uint32_t)cfg->intermediate, (uint32_t)cfg->max_pos, (uint32_t)cfg->type_vocab, 0,
        (uint32_t)cfg->act, (uint32_t)cfg->lowercase, (uint32_t)cfg->strip_accents, (uint32_t)cfg->chinese_chars,
        (uint32_t)cfg->has_mlm, (uint32_t)dtype, (uint32_t)nt};
    for (int i = 0; i < CF_RESERVED; i++) wr32(cb + 4 * i, v[i]);
    wrf32(cb + 4 * CF_EPS, cfg->ln_eps);
    wr64(b + 128, hdr);
    wr64(b + 136, vocab_len);
    wr64(b + 144, table_off);
    wr64(b + 152, data_off);
    if (!v2) return;
    wr64(b + 160, labels_len ? hdr + vocab_len : 0);
    wr64(b + 168, labels_len);
    wr64(b + 176, tok_len ? hdr + vocab_len + labels_len : 0);
    wr64(b + 184, tok_len);
    const int f[FF_RESERVED] = {cfg->family, cfg->embed ? cfg->embed : cfg->hidden, cfg->emb_proj, cfg->pos_offset,
        cfg->groups, cfg->groups ? cfg->inner : 0, cfg->sinusoidal, cfg->head, cfg->n_labels, cfg->head_sigmoid,
        cfg->cls_id, cfg->sep_id, cfg->pad_id, cfg->mask_id, cfg->unk_id};
    for (int i = 0; i < FF_RESERVED; i++) wr32(b + BL_HDR_SIZE + 4 * i, (uint32_t)f[i]);
    wr32(b + BL_HDR_SIZE + 4 * FF_RESERVED, cfg->has_fidelity ? BL_FID_BYTES : 0);
}

/* ---------------------------------------------------------------- fidelity record
   BL_FID_BYTES bytes right before the tensor table (FORMAT.md, "Fidelity"), present when the
   family block's last field says so. Written by the converter once it has measured. */
void bl_fidelity_put(uint8_t *p, const bl_fidelity *f) {
    memset(p, 0, BL_FID_BYTES);
    wr32(p, (uint32_t)f->status);
    wr32(p + 4, (uint32_t)f->ref_dtype);
    wrf32(p + 8, f->max_dev);
    wrf32(p + 12, f->mean_dev);
    wr32(p + 16, (uint32_t)f->calib);
    wr32(p + 20, (uint32_t)f->sequences);
    wr32(p + 24, (uint32_t)f->tokens);
    wr32(p + 28, (uint32_t)f->precision);
    wr64(p + 32, f->cells);
    wr64(p + 40, f->ref_bytes);
    wr64(p + 48, f->limit_bytes);
}

static int bl_fidelity_get(const uint8_t *p, bl_fidelity *f, bl_err *e) {
    memset(f, 0, sizeof *f);
    f->status = (int)rd32(p);
    f->ref_dtype = (int)rd32(p + 4);
    f->max_dev = rdf32(p + 8);
    f->mean_dev = rdf32(p + 12);
    f->calib = (int)rd32(p + 16);
    f->sequences = (int)rd32(p + 20);
    f->tokens = (int)rd32(p + 24);
    f->precision = (int)rd32(p + 28);
    f->cells = rd64(p + 32);
    f->ref_bytes = rd64(p + 40);
    f->limit_bytes = rd64(p + 48);
    if (rd64(p + 56)) return bl_fail(e, "weights: reserved fidelity bytes are not zero");
    if (rd32(p) >= BL_FID_COUNT) return bl_fail(e, "weights: fidelity status %u is unknown", rd32(p));
    if (f->status == BL_FID_MEASURED &&
        (!(f->max_dev >= 0.0f && f->max_dev <= 1.0f) || !(f->mean_dev >= 0.0f && f->mean_dev <= f->max_dev) ||
         (f->ref_dtype != BL_DT_F32 && f->ref_dtype != BL_DT_F16) || rd32(p + 28) > 1 || !f->cells))
        return bl_fail(e, "weights: the fidelity record is inconsistent (max %g, mean %g)", (double)f->max_dev,
                       (double)f->mean_dev);
    return 0;
}

void bl_model_fidelity(const bl_model *m, bl_fidelity *out) {
    if (m) *out = m->fid;
    else memset(out, 0, sizeof *out);
}

static void bl_read_config(const uint8_t *p, bl_config *c) {
    c->vocab_size = (int)rd32(p + 4 * CF_VOCAB);
    c->hidden = (int)rd32(p + 4 * CF_HIDDEN);
    c->layers = (int)rd32(p + 4 * CF_LAYERS);
    c->heads = (int)rd32(p + 4 * CF_HEADS);
    c->intermediate = (int)rd32(p + 4 * CF_INTER);
    c->max_pos = (int)rd32(p + 4 * CF_MAXPOS);
    c->type_vocab = (int)rd32(p + 4 * CF_TYPES);
    c->ln_eps = rdf32(p + 4 * CF_EPS);
    c->act = (int)rd32(p + 4 * CF_ACT);
    c->lowercase = (int)rd32(p + 4 * CF_LOWER);
    c->strip_accents = (int)rd32(p + 4 * CF_STRIP);
    c->chinese_chars = (int)rd32(p + 4 * CF_CHINESE);
    c->has_mlm = (int)rd32(p + 4 * CF_MLM);
}

/* A region [off, off+size) must lie inside [lo, len). Overflow-safe. */
static int bl_in(uint64_t off, uint64_t size, uint64_t lo, uint64_t len) {
    return off >= lo && off <= len && size <= len - off;
}

/* ---------------------------------------------------------------- loader */
void bl_model_free(bl_model *m) {
    if (!m) return;
    if (m->vocab) bl_vocab_free(m->vocab);
    free(m->w.layers);
    free(m->label_text);
    free(m->labels);
    free(m->row_sums);
    free(m);
}

/* Where slot idx lives in m->w: a bl_tensor for matrices, a const float * otherwise. */
static void *bl_slot_field(bl_model *m, int idx) {
    char *base = idx < BL_NTOP_SLOTS ? (char *)&m->w
                                      : (char *)&m->w.layers[(idx - BL_NTOP_SLOTS) / BL_NLAYER_SLOTS];
    return base + bl_slot_get(idx)->off;
}

/* Slot idx's tensor when the file has it and it is an int8 matrix that linear layers multiply
   by, else NULL: the embeddings are looked up (the tied MLM decoder multiplies by the word
   embeddings, but only the masked rows, too few to take row sums: kernels_relaxed.c). */
static bl_tensor *bl_i8_matrix(bl_model *m, const int *found, int idx) {
    bl_tensor *t = found[idx] && bl_slot_get(idx)->matrix ? bl_slot_field(m, idx) : NULL;
    if (t == &m->w.word || t == &m->w.pos || t == &m->w.type) return NULL;
    return t && t->dtype == BL_DT_I8 ? t : NULL;
}

/* The sum of each row of every int8 linear weight, into one block m owns, pointed to by the tensors'
   wsum: the relaxed-SIMD kernel offsets its activations and takes these sums off again, and
   summing per call cost 2–3% of a bert-base forward at 32 and 128 tokens. A pass over the int8
   weights at load. -1: out of memory. */
static int bl_row_sums(bl_model *m, const int *found, int nslots) {
    size_t total = 0;
    for (int idx = 0; idx < nslots; idx++) {
        const bl_tensor *t = bl_i8_matrix(m, found, idx);
        total += t ? (size_t)t->rows : 0;
    }
    if (!total) return 0;
    if (!(m->row_sums = malloc(total * sizeof *m->row_sums))) return -1;
    int32_t *next = m->row_sums;
    for (int idx = 0; idx < nslots; idx++) {
        bl_tensor *t = bl_i8_matrix(m, found, idx);
        if (!t) continue;
        bl_k_row_sums_i8(next, t->data, t->rows, t->cols);
        t->wsum = next;
        next += t->rows;
    }
    return 0;
}

static bl_model *bl_load_fail(bl_model *m, int *found) {
    free(found);
    bl_model_free(m);
    return NULL;
}

bl_model *bl_model_load(const void *data, size_t len, int flags, bl_err *e) {
    const uint8_t *b = data;
    if (!b) return bl_fail(e, "weights: no data"), NULL;
    if (len < BL_HDR_SIZE)
        return bl_fail(e, "weights: file too small (%zu bytes; the header alone is %d)", len, BL_HDR_SIZE), NULL;
    if (memcmp(b, BL_MAGIC, 8))
        return bl_fail(e, "weights: bad magic (not a bertlens weights file)"), NULL;
    uint32_t version = rd32(b + 8);
    if (version < 1 || version > BL_FORMAT_VERSION)
        return bl_fail(e, "weights: unsupported format version %u (this build reads versions 1 to %u)",
                       version, BL_FORMAT_VERSION), NULL;
    const uint64_t hdr = version >= 2 ? BL_HDR_SIZE2 : BL_HDR_SIZE;
    if (len < hdr)
        return bl_fail(e, "weights: file too small (%zu bytes; a version %u header alone is %llu)", len, version,
                       (unsigned long long)hdr), NULL;
    /* Bytes 12..15 and 56..63 are outside the checksum: they must be zero so that no bit of
       the file can change unnoticed. */
    if (rd32(b + 12) || rd64(b + 56))
        return bl_fail(e, "weights: reserved header bytes (12..15, 56..63) are not zero"), NULL;
    uint64_t fsize = rd64(b + 16);
    if (fsize > len)
        return bl_fail(e, "weights: truncated: header says %llu bytes, got %zu",
                       (unsigned long long)fsize, len), NULL;
    if (fsize < len)
        return bl_fail(e, "weights: %zu bytes but the header says %llu (trailing data)",
                       len, (unsigned long long)fsize), NULL;
    /* Tensors are read in place as float/uint16_t: the buffer needs their alignment. */
    if ((uintptr_t)b % 4)
        return bl_fail(e, "weights: buffer address is not 4-byte aligned"), NULL;
    int checked = 0;
    if (!(flags & BL_LOAD_SKIP_CHECKSUM)) {
        uint8_t d[32];
        bl_sha256(b + BL_HDR_FIXED, len - BL_HDR_FIXED, d);
        if (memcmp(d, b + 24, 32))
            return bl_fail(e, "weights: checksum mismatch (payload SHA-256 differs from the header: file corrupted)"), NULL;
        checked = 1;
    }

    /* Config: read into locals and validate before any allocation sized by it. */
    bl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    const uint8_t *cb = b + BL_HDR_FIXED;
    bl_read_config(cb, &cfg);
    uint64_t loff = 0, llen = 0, koff = 0, klen = 0;
    if (version >= 2) {
        bl_read_family(b + BL_HDR_SIZE, &cfg);
        uint32_t fb = rd32(b + BL_HDR_SIZE + 4 * FF_RESERVED);
        if (fb != 0 && fb != BL_FID_BYTES)
            return bl_fail(e, "weights: fidelity record size %u (must be 0 or %d)", fb, BL_FID_BYTES), NULL;
        cfg.has_fidelity = fb != 0;
        loff = rd64(b + 160);
        llen = rd64(b + 168);
        koff = rd64(b + 176);
        klen = rd64(b + 184);
    } else {
        /* a version-1 file is BERT; its special tokens are looked up in the vocab below */
        cfg.cls_id = cfg.sep_id = cfg.pad_id = cfg.mask_id = cfg.unk_id = -1;
    }
    if (bl_config_check(&cfg, e) < 0) return NULL;
    if (!cfg.embed) cfg.embed = cfg.hidden;
    uint32_t dtype = rd32(cb + 4 * CF_DTYPE), nt = rd32(cb + 4 * CF_NTENSORS);
    if (dtype > BL_DT_I16) return bl_fail(e, "bad config: matrix dtype %u", dtype), NULL;
    if ((dtype == BL_DT_I16) != (version >= 3))
        return bl_fail(e, "weights: format version %u with %s matrices (int16 is version 3, and version 3 is int16)",
                       version, bl_dtype_name((int)dtype)), NULL;
    for (int i = 4 * CF_RESERVED; i < 4 * CF_RESERVED + 4; i++)
        if (cb[i]) return bl_fail(e, "weights: reserved config field is not zero"), NULL;
    for (int i = 160; version < 2 && i < BL_HDR_SIZE; i++)
        if (b[i]) return bl_fail(e, "weights: reserved bytes 160..191 are not zero"), NULL;
    int nslots = BL_NTOP_SLOTS + bl_stored_layers(&cfg) * BL_NLAYER_SLOTS;
    if (nt < 1 || nt > (uint32_t)nslots)
        return bl_fail(e, "weights: %u tensors in the table (this config has at most %d)", nt, nslots), NULL;
    uint64_t voff = rd64(b + 128), vlen = rd64(b + 136), toff = rd64(b + 144), doff = rd64(b + 152);
    if (!bl_in(voff, vlen, hdr, len))
        return bl_fail(e, "weights: vocab [%llu, +%llu) lies outside the file (%zu bytes)",
                       (unsigned long long)voff, (unsigned long long)vlen, len), NULL;
    if (cfg.n_labels ? !llen || !bl_in(loff, llen, voff + vlen, len) : loff || llen)
        return bl_fail(e, "weights: labels [%llu, +%llu) lie outside the file, overlap the vocab or do not match "
                          "%d labels", (unsigned long long)loff, (unsigned long long)llen, cfg.n_labels), NULL;
    if (llen && (!bl_in(toff, (uint64_t)nt * BL_TENSOR_ENTRY, loff + llen, len)))
        return bl_fail(e, "weights: tensor table at %llu overlaps the labels", (unsigned long long)toff), NULL;
    if (klen ? !bl_in(koff, klen, llen ? loff + llen : voff + vlen, len) ||
                   !bl_in(toff, (uint64_t)nt * BL_TENSOR_ENTRY, koff + klen, len)
             : koff != 0)
        return bl_fail(e, "weights: the tokenizer section [%llu, +%llu) lies outside the file or overlaps another",
                       (unsigned long long)koff, (unsigned long long)klen), NULL;
    if (!bl_in(toff, (uint64_t)nt * BL_TENSOR_ENTRY, voff + vlen, len))
        return bl_fail(e, "weights: tensor table at %llu (%u entries) lies outside the file (%zu bytes) or overlaps the vocab",
                       (unsigned long long)toff, nt, len), NULL;
    if (doff < toff + (uint64_t)nt * BL_TENSOR_ENTRY || doff > len)
        return bl_fail(e, "weights: data offset %llu is outside [end of table, end of file]",
                       (unsigned long long)doff), NULL;

    /* the fidelity record: the 64 bytes right before the table, after every section */
    bl_fidelity fid;
    memset(&fid, 0, sizeof fid);
    if (cfg.has_fidelity) {
        uint64_t sec_end = klen ? koff + klen : llen ? loff + llen : voff + vlen;
        if (toff < sec_end + BL_FID_BYTES)
            return bl_fail(e, "weights: the fidelity record before the table at %llu overlaps a section",
                           (unsigned long long)toff), NULL;
        if (bl_fidelity_get(b + toff - BL_FID_BYTES, &fid, e) < 0) return NULL;
    }

    bl_model *m = calloc(1, sizeof *m);
    int *found = calloc((size_t)nslots, sizeof *found);
    if (!m || !found) { free(m); free(found); return bl_fail(e, "weights: out of memory"), NULL; }
    m->cfg = cfg;
    m->dtype = (int)dtype;
    m->buf = b;
    m->len = len;
    m->version = version;
    m->n_tensors = (int)nt;
    m->table = b + toff;
    m->checksum_ok = checked;
    m->fid = fid;
    m->tok_json = klen ? (const char *)b + koff : NULL;
    m->tok_json_len = (size_t)klen;
    memcpy(m->sha256, b + 24, 32);
    m->tok.lowercase = cfg.lowercase;
    m->tok.strip_accents = cfg.strip_accents;
    m->tok.chinese_chars = cfg.chinese_chars;
    m->w.layers = calloc((size_t)bl_stored_layers(&cfg), sizeof *m->w.layers);
    if (!m->w.layers) { bl_fail(e, "weights: out of memory"); return bl_load_fail(m, found); }

    uint64_t prev_end = doff;   /* tensor regions appear in table order, non-overlapping */
    for (uint32_t i = 0; i < nt; i++) {
        const uint8_t *te = m->table + (size_t)i * BL_TENSOR_ENTRY;
        if (!memchr(te, 0, BL_NAME_MAX)) {
            bl_fail(e, "weights: tensor %u: name is not NUL-terminated", i);
            return bl_load_fail(m, found);
        }
        const char *name = (const char *)te;
        uint32_t tdt = rd32(te + 96), rows = rd32(te + 100), cols = rd32(te + 104);
        uint64_t off = rd64(te + 112), soff = rd64(te + 120);
        if (rd32(te + 108)) {
            bl_fail(e, "weights: tensor '%s': reserved field is not zero", name);
            return bl_load_fail(m, found);
        }
        int idx = bl_slot_index(name, bl_stored_layers(&cfg));
        if (idx < 0 || (idx < BL_NTOP_SLOTS && !bl_slot_wanted(&cfg, bl_top_slots[idx].mlm))) {
            const int k = idx >= 0 ? bl_top_slots[idx].mlm : -1;
            bl_fail(e, "weights: unexpected tensor '%.95s'%s", name,
                    k == BL_SK_MLM || k == BL_SK_DECODER ? " (the config says has_mlm = 0)"
                    : k == BL_SK_TYPES ? " (the config says type_vocab = 0)"
                    : k == BL_SK_PROJ ? " (the config has no embeddings.project)"
                    : k >= 0 ? " (the config has no such task head)" : "");
            return bl_load_fail(m, found);
        }
        if (found[idx]) { bl_fail(e, "weights: duplicate tensor '%s'", name); return bl_load_fail(m, found); }
        found[idx] = 1;
        const bl_slot *s = bl_slot_get(idx);
        int er = bl_dim(&cfg, s->r), ec = bl_dim(&cfg, s->c);
        if (rows != (uint32_t)er || cols != (uint32_t)ec) {
            bl_fail(e, "weights: tensor '%s': expected shape [%d, %d], got [%u, %u]", name, er, ec, rows, cols);
            return bl_load_fail(m, found);
        }
        uint32_t want_dt = (uint32_t)bl_stored_dtype(name, (int)dtype);
        if (!bl_dtype_accepted(name, (int)dtype, (int)tdt)) {
            bl_fail(e, "weights: tensor '%s': dtype %s, expected %s", name,
                    tdt <= BL_DT_I16 ? bl_dtype_name((int)tdt) : "unknown", bl_dtype_name((int)want_dt));
            return bl_load_fail(m, found);
        }
        uint64_t size = (uint64_t)rows * cols * bl_dt_size((int)tdt);   /* < 2^21 * 2^16 * 4: no overflow */
        if (off % BL_ALIGN || !bl_in(off, size, prev_end, len)) {
            bl_fail(e, "weights: tensor '%s': data [%llu, +%llu) misaligned, outside the file (%zu bytes) or overlapping the previous tensor",
                    name, (unsigned long long)off, (unsigned long long)size, len);
            return bl_load_fail(m, found);
        }
        prev_end = off + size;
        if (bl_dtype_scaled((int)tdt)) {
            if (soff % BL_ALIGN || !bl_in(soff, (uint64_t)rows * 4, prev_end, len)) {
                bl_fail(e, "weights: tensor '%s': scales [%llu, +%llu) misaligned, outside the file or overlapping",
                        name, (unsigned long long)soff, (unsigned long long)rows * 4);
                return bl_load_fail(m, found);
            }
            prev_end = soff + (uint64_t)rows * 4;
        } else if (soff != 0) {
            bl_fail(e, "weights: tensor '%s': scale offset %llu on a %s tensor (must be 0)", name,
                    (unsigned long long)soff, bl_dtype_name((int)tdt));
            return bl_load_fail(m, found);
        }
        /* All checks passed: point into the buffer. */
        void *dst = bl_slot_field(m, idx);
        if (s->matrix) {
            bl_tensor *t = dst;
            t->dtype = (int)tdt;
            t->rows = er;
            t->cols = ec;
            t->data = b + off;
            t->scale = bl_dtype_scaled((int)tdt) ? (const float *)(b + soff) : NULL;
            /* the int16 kernels' exact int32 lane sums rely on |q| <= 4095 */
            if (tdt == BL_DT_I16) {
                const int16_t *q = (const int16_t *)(b + off);
                const size_t cnt = (size_t)rows * cols;
                int bad = 0;
                for (size_t k = 0; k < cnt; k++) bad |= q[k] > BL_I16_MAX || q[k] < -BL_I16_MAX;
                if (bad) {
                    bl_fail(e, "weights: tensor '%s': an int16 value lies outside -%d..%d", name, BL_I16_MAX, BL_I16_MAX);
                    return bl_load_fail(m, found);
                }
                t->run = bl_k_i16_run(q, (int)rows, (int)cols);
            }
        } else {
            *(const float **)dst = (const float *)(b + off);
        }
    }
    for (int idx = 0; idx < nslots; idx++) {
        const bl_slot *s = bl_slot_get(idx);
        int required = idx >= BL_NTOP_SLOTS || bl_slot_wanted(&cfg, s->mlm) == 1;
        if (required && !found[idx]) {
            char nm[128];
            bl_slot_name(idx, nm, sizeof nm);
            bl_fail(e, "weights: missing tensor '%s'", nm);
            return bl_load_fail(m, found);
        }
    }
    if (bl_row_sums(m, found, nslots) < 0) {
        bl_fail(e, "weights: out of memory");
        return bl_load_fail(m, found);
    }
    if (cfg.has_mlm && !found[BL_NTOP_SLOTS - 1]) m->w.decoder = m->w.word;   /* tied */
    free(found);

    /* Vocab: tokens each followed by '\n'; their count must be the config's vocab_size. */
    const char *vt = (const char *)b + voff;
    uint64_t nl = 0;
    for (uint64_t i = 0; i < vlen; i++) nl += vt[i] == '\n';
    if (vlen == 0 || vt[vlen - 1] != '\n' || nl != (uint64_t)cfg.vocab_size) {
        bl_fail(e, "weights: vocab has %llu tokens, config says vocab_size %d",
                (unsigned long long)nl + (vlen && vt[vlen - 1] != '\n'), cfg.vocab_size);
        return bl_load_fail(m, NULL);
    }
    m->vocab = bl_vocab_parse(vt, (size_t)vlen, e);
    if (!m->vocab) return bl_load_fail(m, NULL);
    if (bl_vocab_size(m->vocab) != cfg.vocab_size) {
        bl_fail(e, "weights: vocab parses to %d tokens, config says vocab_size %d",
                bl_vocab_size(m->vocab), cfg.vocab_size);
        return bl_load_fail(m, NULL);
    }
    if (version < 2) {
        bl_config *c = &m->cfg;
        c->cls_id = bl_vocab_id(m->vocab, "[CLS]", 5);
        c->sep_id = bl_vocab_id(m->vocab, "[SEP]", 5);
        c->pad_id = bl_vocab_id(m->vocab, "[PAD]", 5);
        c->mask_id = bl_vocab_id(m->vocab, "[MASK]", 6);
        c->unk_id = bl_vocab_id(m->vocab, "[UNK]", 5);
    }
    if (cfg.n_labels) {
        /* labels: n_labels strings, each followed by '\n' (no NUL inside) */
        const char *lt = (const char *)b + loff;
        uint64_t cnt = 0;
        for (uint64_t i = 0; i < llen; i++) cnt += lt[i] == '\n';
        if (lt[llen - 1] != '\n' || cnt != (uint64_t)cfg.n_labels || memchr(lt, 0, (size_t)llen)) {
            bl_fail(e, "weights: the labels section holds %llu labels, config says %d", (unsigned long long)cnt,
                    cfg.n_labels);
            return bl_load_fail(m, NULL);
        }
        m->label_text = malloc((size_t)llen);
        m->labels = malloc(sizeof *m->labels * (size_t)cfg.n_labels);
        if (!m->label_text || !m->labels) { bl_fail(e, "weights: out of memory"); return bl_load_fail(m, NULL); }
        memcpy(m->label_text, lt, (size_t)llen);
        int k = 0;
        m->labels[k++] = m->label_text;
        for (uint64_t i = 0; i + 1 < llen; i++)
            if (m->label_text[i] == '\n') m->labels[k++] = m->label_text + i + 1;
        for (uint64_t i = 0; i < llen; i++)
            if (m->label_text[i] == '\n') m->label_text[i] = 0;
    }
    return m;
}

const bl_config *bl_model_config(const bl_model *m) { return &m->cfg; }
const char *bl_model_tokenizer_json(const bl_model *m, size_t *len) {
    if (len) *len = m ? m->tok_json_len : 0;
    return m ? m->tok_json : NULL;
}

const char *bl_model_label(const bl_model *m, int i) {
    return m && m->labels && i >= 0 && i < m->cfg.n_labels ? m->labels[i] : NULL;
}
const bl_vocab *bl_model_vocab(const bl_model *m) { return m->vocab; }
const bl_tok_opts *bl_model_tok_opts(const bl_model *m) { return &m->tok; }
int bl_model_dtype(const bl_model *m) { return m->dtype; }
void bl_model_checksum(const bl_model *m, uint8_t sha256[32]) { memcpy(sha256, m->sha256, 32); }
uint32_t bl_model_format_version(const bl_model *m) { return m->version; }
size_t bl_model_file_size(const bl_model *m) { return m->len; }
int bl_model_checksum_verified(const bl_model *m) { return m->checksum_ok; }
int bl_model_tensor_count(const bl_model *m) { return m->n_tensors; }

int bl_model_verify(const bl_model *m, bl_err *e) {
    uint8_t d[32];
    bl_sha256(m->buf + BL_HDR_FIXED, m->len - BL_HDR_FIXED, d);
    if (memcmp(d, m->sha256, 32))
        return bl_fail(e, "weights: checksum mismatch (payload SHA-256 differs from the header: file corrupted)");
    return 0;
}

int bl_model_tensor_info(const bl_model *m, int i, const char **name, int *dtype, int *rows, int *cols) {
    if (i < 0 || i >= m->n_tensors) return -1;
    const uint8_t *te = m->table + (size_t)i * BL_TENSOR_ENTRY;
    if (name) *name = (const char *)te;
    if (dtype) *dtype = (int)rd32(te + 96);
    if (rows) *rows = (int)rd32(te + 100);
    if (cols) *cols = (int)rd32(te + 104);
    return 0;
}

const char *bl_model_vocab_text(const bl_model *m, size_t *len) {
    *len = (size_t)rd64(m->buf + 136);
    return (const char *)m->buf + rd64(m->buf + 128);
}

int bl_model_tensor_at(const bl_model *m, int i, bl_tensor *t, const char **name) {
    if (i < 0 || i >= m->n_tensors) return -1;
    const uint8_t *te = m->table + (size_t)i * BL_TENSOR_ENTRY;
    t->dtype = (int)rd32(te + 96);
    t->rows = (int)rd32(te + 100);
    t->cols = (int)rd32(te + 104);
    t->data = m->buf + rd64(te + 112);
    t->scale = bl_dtype_scaled(t->dtype) ? (const float *)(m->buf + rd64(te + 120)) : NULL;
    t->run = 0;   /* the int16 kernels' worst case */
    t->wsum = NULL;   /* (the loaded slots hold the row sums) */
    if (name) *name = (const char *)te;
    return 0;
}

int bl_canonical_tensor(const bl_config *c, int i, char *name, size_t n, int *rows, int *cols, int *kind) {
    const int nl = bl_stored_layers(c) * BL_NLAYER_SLOTS;
    if (i < 0) return -1;
    /* walk the slots in file order (embeddings, layers, the rest), counting the wanted ones */
    for (int j = 0, seen = 0; j < BL_NTOP_SLOTS + nl; j++) {
        int idx = j < BL_NEMB_SLOTS ? j : j < BL_NEMB_SLOTS + nl ? BL_NTOP_SLOTS + (j - BL_NEMB_SLOTS) : j - nl;
        const bl_slot *s = bl_slot_get(idx);
        int want = idx < BL_NTOP_SLOTS ? bl_slot_wanted(c, s->mlm) : 1;
        if (!want || seen++ < i) continue;
        bl_slot_name(idx, name, n);
        *rows = bl_dim(c, s->r);
        *cols = bl_dim(c, s->c);
        *kind = idx >= BL_NTOP_SLOTS ? 0 : s->mlm == BL_SK_MLM ? 1 : s->mlm == BL_SK_DECODER ? 2 : 0;
        return 0;
    }
    return -1;
}

/* ---------------------------------------------------------------- quantization */
void bl_quantize_row_i16(const float *w, int n, int16_t *q, float *scale) {
    float m = 0.0f;
    for (int i = 0; i < n; i++) m = fabsf(w[i]) > m ? fabsf(w[i]) : m;
    float s = m / (float)BL_I16_MAX;   /* f32 division, as bl_quantize_row */
    *scale = s;
    for (int i = 0; i < n; i++) {
        float r = s > 0.0f ? roundf(w[i] / s) : 0.0f;
        q[i] = (int16_t)(r > BL_I16_MAX ? BL_I16_MAX : r < -BL_I16_MAX ? -BL_I16_MAX : r);
    }
}

void bl_quantize_row(const float *w, int n, int8_t *q, float *scale) {
    float m = 0.0f;
    for (int i = 0; i < n; i++) m = fabsf(w[i]) > m ? fabsf(w[i]) : m;
    /* f32 division, so that the scale is a pure function of max|row| (export-hf relies on it
       to give back byte-identical files). An all-zero row gets scale 0 and q 0. */
    float s = m / 127.0f;
    *scale = s;
    for (int i = 0; i < n; i++) {
        float r = s > 0.0f ? roundf(w[i] / s) : 0.0f;
        q[i] = (int8_t)(r > 127.0f ? 127 : r < -127.0f ? -127 : r);
    }
}

void bl_tensor_to_f32(const bl_tensor *t, float *out) {
    size_t n = (size_t)t->rows * (size_t)t->cols;
    if (t->dtype == BL_DT_F32) memcpy(out, t->data, n * 4);
    else if (t->dtype == BL_DT_F16) {
        const uint16_t *h = t->data;
        for (size_t i = 0; i < n; i++) out[i] = bl_f16_to_f32(h[i]);
    } else if (t->dtype == BL_DT_I16) {
        const int16_t *q = t->data;
        for (int r = 0; r < t->rows; r++)
            for (int c = 0; c < t->cols; c++)
                out[(size_t)r * t->cols + c] = (float)q[(size_t)r * t->cols + c] * t->scale[r];
    } else {
        const int8_t *q = t->data;
        for (int r = 0; r < t->rows; r++)
            for (int c = 0; c < t->cols; c++)
                out[(size_t)r * t->cols + c] = (float)q[(size_t)r * t->cols + c] * t->scale[r];
    }
}

/* ---------------------------------------------------------------- writer */
int bl_model_write(const bl_config *cfg, int dtype, const char *vocab, size_t vocab_len,
                   const bl_wtensor *t, int nt, uint8_t **out, size_t *out_len, bl_err *e) {
    return bl_model_write_ex(cfg, dtype, vocab, vocab_len, NULL, 0, t, nt, out, out_len, e);
}

int bl_model_write_ex(const bl_config *cfg, int dtype, const char *vocab, size_t vocab_len,
                      const char *labels, size_t labels_len, const bl_wtensor *t, int nt,
                      uint8_t **out, size_t *out_len, bl_err *e) {
    *out = NULL;
    *out_len = 0;
    if (bl_config_check(cfg, e) < 0) return -1;
    if (dtype < BL_DT_F32 || dtype > BL_DT_I16) return bl_fail(e, "write: unknown dtype %d", dtype);
    if (nt < 1) return bl_fail(e, "write: no tensors");
    if (!cfg->n_labels != !labels_len) return bl_fail(e, "write: %d labels but %zu bytes of labels", cfg->n_labels, labels_len);
    /* Layout: header, vocab, labels, table, then each tensor (and its int8 scales) 64-byte aligned. */
    uint64_t voff = bl_header_size(cfg, dtype), toff = align64(voff + vocab_len + labels_len);
    if (cfg->has_fidelity) toff += BL_FID_BYTES;   /* a zero record: not measured */
    uint64_t doff = align64(toff + (uint64_t)nt * BL_TENSOR_ENTRY), pos = doff;
    uint64_t *offs = malloc(sizeof *offs * 2 * (size_t)nt);
    if (!offs) return bl_fail(e, "write: out of memory");
    for (int i = 0; i < nt; i++) {
        if (!t[i].name || strlen(t[i].name) >= BL_NAME_MAX || t[i].rows < 1 || t[i].cols < 1) {
            free(offs);
            return bl_fail(e, "write: tensor %d ('%s'): bad name or shape", i, t[i].name ? t[i].name : "");
        }
        int dt = bl_stored_dtype(t[i].name, dtype);
        pos = align64(pos);
        offs[2 * i] = pos;
        pos += (uint64_t)t[i].rows * (uint64_t)t[i].cols * bl_dt_size(dt);
        offs[2 * i + 1] = 0;
        if (bl_dtype_scaled(dt)) {
            pos = align64(pos);
            offs[2 * i + 1] = pos;
            pos += (uint64_t)t[i].rows * 4;
        }
    }
    if (pos > (uint64_t)SIZE_MAX) { free(offs); return bl_fail(e, "write: file too large for this platform"); }
    uint8_t *b = calloc(1, (size_t)pos);
    if (!b) { free(offs); return bl_fail(e, "write: out of memory (%llu bytes)", (unsigned long long)pos); }

    bl_header_put(b, cfg, dtype, nt, pos, vocab_len, labels_len, 0, toff, doff);
    if (vocab_len) memcpy(b + voff, vocab, vocab_len);
    if (labels_len) memcpy(b + voff + vocab_len, labels, labels_len);

    for (int i = 0; i < nt; i++) {
        uint8_t *te = b + toff + (size_t)i * BL_TENSOR_ENTRY;
        int dt = bl_stored_dtype(t[i].name, dtype);
        size_t n = (size_t)t[i].rows * (size_t)t[i].cols;
        memcpy(te, t[i].name, strlen(t[i].name));
        wr32(te + 96, (uint32_t)dt);
        wr32(te + 100, (uint32_t)t[i].rows);
        wr32(te + 104, (uint32_t)t[i].cols);
        wr64(te + 112, offs[2 * i]);
        wr64(te + 120, offs[2 * i + 1]);
        uint8_t *d = b + offs[2 * i];
        if (dt == BL_DT_F32) {
            for (size_t k = 0; k < n; k++) wrf32(d + 4 * k, t[i].data[k]);
        } else if (dt == BL_DT_F16) {
            for (size_t k = 0; k < n; k++) {
                uint16_t h = bl_f32_to_f16(t[i].data[k]);
                d[2 * k] = (uint8_t)h;
                d[2 * k + 1] = (uint8_t)(h >> 8);
            }
        } else {
            uint8_t *sc = b + offs[2 * i + 1];
            for (int r = 0; r < t[i].rows; r++) {
                float s;
                if (dt == BL_DT_I16)   /* little-endian host: int16 in place */
                    bl_quantize_row_i16(t[i].data + (size_t)r * t[i].cols, t[i].cols,
                                        (int16_t *)d + (size_t)r * t[i].cols, &s);
                else
                    bl_quantize_row(t[i].data + (size_t)r * t[i].cols, t[i].cols,
                                    (int8_t *)d + (size_t)r * t[i].cols, &s);
                wrf32(sc + 4 * (size_t)r, s);
            }
        }
    }
    free(offs);
    bl_sha256(b + BL_HDR_FIXED, (size_t)pos - BL_HDR_FIXED, b + 24);
    *out = b;
    *out_len = (size_t)pos;
    return 0;
}
