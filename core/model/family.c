/* family.c — the BERT family in the converter: which Hugging Face config fields each family
   (model_type) uses, and under which checkpoint keys each canonical tensor of the weights file
   is found.

   The weights file names every tensor as BERT does (weights/FORMAT.md): a DistilBERT q_lin is
   stored as attention.self.query, an ALBERT shared layer as encoder.layer.{g*inner+j}, the
   RoBERTa lm_head as cls.predictions, and so on, because the math is the same; what differs
   (positions, embedding width, shared layers, head activations) is in the config. */
#include "model/family.h"
#include <stdlib.h>
#include <string.h>

static const struct { const char *model_type; int family; const char *prefix; } bl_model_types[] = {
    {"bert", BL_FAMILY_BERT, "bert."},
    {"distilbert", BL_FAMILY_DISTILBERT, "distilbert."},
    {"roberta", BL_FAMILY_ROBERTA, "roberta."},
    {"xlm-roberta", BL_FAMILY_ROBERTA, "roberta."},
    {"camembert", BL_FAMILY_ROBERTA, "roberta."},
    {"electra", BL_FAMILY_ELECTRA, "electra."},
    {"albert", BL_FAMILY_ALBERT, "albert."},
};
#define BL_NTYPES ((int)(sizeof bl_model_types / sizeof bl_model_types[0]))
#define BL_SUPPORTED "bert, distilbert, roberta, xlm-roberta, camembert, electra, albert"

static const char *family_prefix(int family) {
    for (int i = 0; i < BL_NTYPES; i++)
        if (bl_model_types[i].family == family) return bl_model_types[i].prefix;
    return "";
}

static int get_int(const bl_json *j, const char *key, int dflt, int *out, bl_err *e) {
    const bl_json *v = bl_json_get(j, key);
    if (!v) {
        if (dflt < 0) return bl_fail(e, "config.json: missing field '%s'", key);
        *out = dflt;
        return 0;
    }
    if (v->type != BL_JSON_NUM || !v->is_int || v->i64 < 1 || v->i64 > 0x7fffffff)
        return bl_fail(e, "config.json: field '%s' must be a positive integer", key);
    *out = (int)v->i64;
    return 0;
}

/* pad_token_id may be 0 (BERT) */
static int get_id(const bl_json *j, const char *key, int dflt) {
    const bl_json *v = bl_json_get(j, key);
    return v && v->type == BL_JSON_NUM && v->is_int && v->i64 >= 0 && v->i64 < 0x7fffffff ? (int)v->i64 : dflt;
}

static int parse_act(const char *as, int *act, const char *key, bl_err *e) {
    if (!strcmp(as, "gelu")) *act = BL_ACT_GELU;
    else if (!strcmp(as, "gelu_new") || !strcmp(as, "gelu_pytorch_tanh")) *act = BL_ACT_GELU_TANH;
    else if (!strcmp(as, "relu")) *act = BL_ACT_RELU;
    else return bl_fail(e, "config.json: unsupported %s '%.60s' (gelu, gelu_new, gelu_pytorch_tanh, relu)", key, as);
    return 0;
}

static int arch_has(const bl_json *j, const char *what) {
    const bl_json *arch = bl_json_get(j, "architectures");
    for (const bl_json *a = arch && arch->type == BL_JSON_ARR ? arch->child : NULL; a; a = a->next)
        if (a->type == BL_JSON_STR && strstr(a->str, what)) return 1;
    return 0;
}

/* The labels section: id2label["0"], ["1"], ... each followed by '\n' (line breaks inside a
   label become spaces); missing entries are "LABEL_i" as transformers names them. */
static int make_labels(const bl_json *j, int n, int disc, char **out, size_t *len, bl_err *e) {
    const bl_json *map = bl_json_get(j, "id2label");
    size_t cap = 64, o = 0;
    char *t = malloc(cap);
    if (!t) return bl_fail(e, "out of memory");
    for (int i = 0; i < n; i++) {
        char key[16], dflt[32];
        snprintf(key, sizeof key, "%d", i);
        snprintf(dflt, sizeof dflt, "LABEL_%d", i);
        const bl_json *v = map && map->type == BL_JSON_OBJ ? bl_json_get(map, key) : NULL;
        const char *s = disc ? "replaced" : v && v->type == BL_JSON_STR ? v->str : dflt;
        size_t sl = v && !disc && v->type == BL_JSON_STR ? v->len : strlen(s);
        if (o + sl + 2 > cap) {
            while (o + sl + 2 > cap) cap *= 2;
            char *r = realloc(t, cap);
            if (!r) { free(t); return bl_fail(e, "out of memory"); }
            t = r;
        }
        for (size_t k = 0; k < sl; k++) t[o++] = s[k] == '\n' || s[k] == '\r' || s[k] == 0 ? ' ' : s[k];
        t[o++] = '\n';
    }
    *out = t;
    *len = o;
    return 0;
}

int bl_family_config(const bl_json *j, bl_config *cf, char **labels, size_t *labels_len, bl_err *e) {
    *labels = NULL;
    *labels_len = 0;
    const char *mt = bl_json_get_str(j, "model_type");
    int family = -1;
    if (!mt) {
        if (!arch_has(j, "Bert") || arch_has(j, "DistilBert") || arch_has(j, "Roberta") || arch_has(j, "Albert"))
            return bl_fail(e, "config.json: no model_type and no Bert* architecture (supported model types: "
                              BL_SUPPORTED ")");
        family = BL_FAMILY_BERT;
    } else {
        for (int i = 0; i < BL_NTYPES; i++)
            if (!strcmp(mt, bl_model_types[i].model_type)) family = bl_model_types[i].family;
        if (family < 0)
            return bl_fail(e, "config.json: model_type '%.60s' is not supported (supported: " BL_SUPPORTED ")", mt);
    }
    memset(cf, 0, sizeof *cf);
    cf->family = family;
    const char *as;
    if (family == BL_FAMILY_DISTILBERT) {
        if (get_int(j, "vocab_size", -1, &cf->vocab_size, e) < 0 || get_int(j, "dim", -1, &cf->hidden, e) < 0 ||
            get_int(j, "n_layers", -1, &cf->layers, e) < 0 || get_int(j, "n_heads", -1, &cf->heads, e) < 0 ||
            get_int(j, "hidden_dim", -1, &cf->intermediate, e) < 0 ||
            get_int(j, "max_position_embeddings", -1, &cf->max_pos, e) < 0)
            return -1;
        cf->type_vocab = 0;        /* no token type embeddings */
        cf->ln_eps = 1e-12f;       /* every DistilBERT LayerNorm: eps=1e-12, whatever the config */
        const bl_json *act = bl_json_get(j, "activation");
        as = act && act->type == BL_JSON_STR ? act->str : act ? "" : "gelu";
        if (parse_act(as, &cf->act, "activation", e) < 0) return -1;
        const bl_json *sp = bl_json_get(j, "sinusoidal_pos_embds");
        cf->sinusoidal = sp && sp->type == BL_JSON_BOOL && sp->boolean;
    } else {
        if (get_int(j, "vocab_size", -1, &cf->vocab_size, e) < 0 || get_int(j, "hidden_size", -1, &cf->hidden, e) < 0 ||
            get_int(j, "num_hidden_layers", -1, &cf->layers, e) < 0 ||
            get_int(j, "num_attention_heads", -1, &cf->heads, e) < 0 ||
            get_int(j, "intermediate_size", -1, &cf->intermediate, e) < 0 ||
            get_int(j, "max_position_embeddings", -1, &cf->max_pos, e) < 0 ||
            get_int(j, "type_vocab_size", -1, &cf->type_vocab, e) < 0)
            return -1;
        const bl_json *eps = bl_json_get(j, "layer_norm_eps");
        cf->ln_eps = 1e-12f;
        if (eps) {
            if (eps->type != BL_JSON_NUM || !(eps->num > 0 && eps->num < 1))
                return bl_fail(e, "config.json: layer_norm_eps must be a number in (0, 1)");
            cf->ln_eps = (float)eps->num;
        }
        const bl_json *act = bl_json_get(j, "hidden_act");
        as = act && act->type == BL_JSON_STR ? act->str : act ? "" : family == BL_FAMILY_ALBERT ? "gelu_new" : "gelu";
        if (parse_act(as, &cf->act, "hidden_act", e) < 0) return -1;
        const char *pe = bl_json_get_str(j, "position_embedding_type");
        if (pe && strcmp(pe, "absolute"))
            return bl_fail(e, "config.json: unsupported position_embedding_type '%.60s' (absolute only)", pe);
        if (family == BL_FAMILY_ELECTRA || family == BL_FAMILY_ALBERT) {
            /* ElectraConfig and AlbertConfig default embedding_size to 128 */
            if (get_int(j, "embedding_size", 128, &cf->embed, e) < 0) return -1;
            cf->emb_proj = family == BL_FAMILY_ALBERT || cf->embed != cf->hidden;
        }
        if (family == BL_FAMILY_ALBERT) {
            int G = 1, K = 1;
            if (get_int(j, "num_hidden_groups", 1, &G, e) < 0 || get_int(j, "inner_group_num", 1, &K, e) < 0) return -1;
            if (G > cf->layers)
                return bl_fail(e, "config.json: num_hidden_groups %d exceeds num_hidden_layers %d", G, cf->layers);
            if ((long long)cf->layers * K > 256)
                return bl_fail(e, "config.json: %d layers × %d inner layers is above 256 attention layers", cf->layers, K);
            cf->groups = G;
            cf->inner = K;
            cf->layers *= K;   /* one attention map per application of an inner layer */
        }
        if (family == BL_FAMILY_ROBERTA) {
            cf->pos_offset = 1;
            cf->pad_id = get_id(j, "pad_token_id", 1);
        }
    }
    if (family != BL_FAMILY_ROBERTA) cf->pad_id = -1;   /* from the tokenizer, later */
    cf->cls_id = cf->sep_id = cf->mask_id = cf->unk_id = -1;
    /* the task head the architecture names */
    if (arch_has(j, "ElectraForPreTraining")) cf->head = BL_HEAD_DISC;
    else if (arch_has(j, "ForTokenClassification")) cf->head = BL_HEAD_TOKEN;
    else if (arch_has(j, "ForSequenceClassification")) cf->head = BL_HEAD_SEQ;
    if (cf->head == BL_HEAD_DISC) {
        cf->n_labels = 1;
        cf->head_sigmoid = 1;
    } else if (cf->head) {
        const bl_json *map = bl_json_get(j, "id2label");
        int n = map && map->type == BL_JSON_OBJ ? map->n : 0;
        if (!n && get_int(j, "num_labels", 2, &n, e) < 0) return -1;
        if (n < 1 || n > 65536) return bl_fail(e, "config.json: %d labels (1..65536)", n);
        cf->n_labels = n;
        const char *pt = bl_json_get_str(j, "problem_type");
        cf->head_sigmoid = pt && !strcmp(pt, "multi_label_classification");
    }
    if (cf->head && make_labels(j, cf->n_labels, cf->head == BL_HEAD_DISC, labels, labels_len, e) < 0) return -1;
    cf->lowercase = 1;        /* BertTokenizer defaults, until the tokenizer files say otherwise */
    cf->strip_accents = -1;
    cf->chinese_chars = 1;
    return 0;
}

/* Per family: canonical prefix -> checkpoint prefix. `base` rules name keys of the base
   model, found with or without the family prefix ("bert.", "roberta." ...); the others are
   the heads' own keys. head: the rule applies only with that task head (-1 any). */
typedef struct { int family, head; const char *canon, *hf; int base; } bl_rule;
static const bl_rule bl_rules[] = {
    /* MLM heads */
    {BL_FAMILY_BERT, -1, "cls.predictions.bias", "cls.predictions.decoder.bias", 0},
    {BL_FAMILY_ROBERTA, -1, "cls.predictions.transform.dense.", "lm_head.dense.", 0},
    {BL_FAMILY_ROBERTA, -1, "cls.predictions.transform.LayerNorm.", "lm_head.layer_norm.", 0},
    {BL_FAMILY_ROBERTA, -1, "cls.predictions.bias", "lm_head.bias", 0},
    {BL_FAMILY_ROBERTA, -1, "cls.predictions.bias", "lm_head.decoder.bias", 0},
    {BL_FAMILY_ROBERTA, -1, "cls.predictions.decoder.", "lm_head.decoder.", 0},
    {BL_FAMILY_DISTILBERT, -1, "cls.predictions.transform.dense.", "vocab_transform.", 0},
    {BL_FAMILY_DISTILBERT, -1, "cls.predictions.transform.LayerNorm.", "vocab_layer_norm.", 0},
    {BL_FAMILY_DISTILBERT, -1, "cls.predictions.bias", "vocab_projector.bias", 0},
    {BL_FAMILY_DISTILBERT, -1, "cls.predictions.decoder.", "vocab_projector.", 0},
    {BL_FAMILY_ELECTRA, -1, "cls.predictions.transform.dense.", "generator_predictions.dense.", 0},
    {BL_FAMILY_ELECTRA, -1, "cls.predictions.transform.LayerNorm.", "generator_predictions.LayerNorm.", 0},
    {BL_FAMILY_ELECTRA, -1, "cls.predictions.bias", "generator_lm_head.bias", 0},
    {BL_FAMILY_ELECTRA, -1, "cls.predictions.decoder.", "generator_lm_head.", 0},
    {BL_FAMILY_ALBERT, -1, "cls.predictions.transform.dense.", "predictions.dense.", 0},
    {BL_FAMILY_ALBERT, -1, "cls.predictions.transform.LayerNorm.", "predictions.LayerNorm.", 0},
    {BL_FAMILY_ALBERT, -1, "cls.predictions.bias", "predictions.bias", 0},
    {BL_FAMILY_ALBERT, -1, "cls.predictions.bias", "predictions.decoder.bias", 0},
    {BL_FAMILY_ALBERT, -1, "cls.predictions.decoder.", "predictions.decoder.", 0},
    /* embeddings */
    {BL_FAMILY_ELECTRA, -1, "embeddings.project.", "embeddings_project.", 1},
    {BL_FAMILY_ALBERT, -1, "embeddings.project.", "encoder.embedding_hidden_mapping_in.", 1},
    /* task heads */
    {BL_FAMILY_BERT, BL_HEAD_SEQ, "classifier.dense.", "pooler.dense.", 1},
    {BL_FAMILY_ALBERT, BL_HEAD_SEQ, "classifier.dense.", "pooler.", 1},
    {BL_FAMILY_DISTILBERT, BL_HEAD_SEQ, "classifier.dense.", "pre_classifier.", 0},
    {BL_FAMILY_ROBERTA, BL_HEAD_SEQ, "classifier.dense.", "classifier.dense.", 0},
    {BL_FAMILY_ELECTRA, BL_HEAD_SEQ, "classifier.dense.", "classifier.dense.", 0},
    {BL_FAMILY_ELECTRA, BL_HEAD_DISC, "classifier.dense.", "discriminator_predictions.dense.", 0},
    {BL_FAMILY_ELECTRA, BL_HEAD_DISC, "classifier.out.", "discriminator_predictions.dense_prediction.", 0},
    {BL_FAMILY_ROBERTA, BL_HEAD_SEQ, "classifier.out.", "classifier.out_proj.", 0},
    {BL_FAMILY_ELECTRA, BL_HEAD_SEQ, "classifier.out.", "classifier.out_proj.", 0},
    {-1, -1, "classifier.out.", "classifier.", 0},
};
#define BL_NRULES ((int)(sizeof bl_rules / sizeof bl_rules[0]))

/* DistilBERT's and ALBERT's names for the parts of a layer (BERT's on the left). */
static const char *const bl_distil_layer[][2] = {
    {"attention.self.query.", "attention.q_lin."},       {"attention.self.key.", "attention.k_lin."},
    {"attention.self.value.", "attention.v_lin."},       {"attention.output.dense.", "attention.out_lin."},
    {"attention.output.LayerNorm.", "sa_layer_norm."},   {"intermediate.dense.", "ffn.lin1."},
    {"output.dense.", "ffn.lin2."},                       {"output.LayerNorm.", "output_layer_norm."},
};
static const char *const bl_albert_layer[][2] = {
    {"attention.self.query.", "attention.query."},       {"attention.self.key.", "attention.key."},
    {"attention.self.value.", "attention.value."},       {"attention.output.dense.", "attention.dense."},
    {"attention.output.LayerNorm.", "attention.LayerNorm."}, {"intermediate.dense.", "ffn."},
    {"output.dense.", "ffn_output."},                     {"output.LayerNorm.", "full_layer_layer_norm."},
};

/* Add name (and its gamma/beta spelling) with and without the family prefix, in the order the
   converter tries them: as is (weight/bias, then gamma/beta), then prefixed. */
static int add_spellings(const char *name, int base, const char *prefix, char out[][BL_SRC_NAME], int n, int max) {
    const char *ln = strstr(name, "LayerNorm.");
    if (!ln) ln = strstr(name, "layer_norm.");
    for (int pre = 0; pre < (base ? 2 : 1); pre++)
        for (int gb = 0; gb < 2; gb++) {
            if (gb && !ln) continue;
            if (n >= max) return n;
            snprintf(out[n], BL_SRC_NAME, "%s%s", pre ? prefix : "", name);
            if (gb) {
                char *p = strrchr(out[n], '.') + 1;
                if (strcmp(p, "weight") && strcmp(p, "bias")) continue;
                strcpy(p, !strcmp(p, "weight") ? "gamma" : "beta");
            }
            n++;
        }
    return n;
}

int bl_family_sources(const bl_config *cf, const char *canon, char out[][BL_SRC_NAME], int max) {
    const char *prefix = family_prefix(cf->family);
    char buf[BL_SRC_NAME];
    int n = 0;
    static const char lp[] = "encoder.layer.";
    if (!strncmp(canon, lp, sizeof lp - 1)) {
        int li = atoi(canon + sizeof lp - 1);
        const char *rest = strchr(canon + sizeof lp - 1, '.') + 1;
        if (cf->family == BL_FAMILY_DISTILBERT || cf->family == BL_FAMILY_ALBERT) {
            const char *const(*map)[2] = cf->family == BL_FAMILY_DISTILBERT ? bl_distil_layer : bl_albert_layer;
            for (int k = 0; k < 8; k++) {
                size_t kl = strlen(map[k][0]);
                if (strncmp(rest, map[k][0], kl)) continue;
                if (cf->family == BL_FAMILY_DISTILBERT)
                    snprintf(buf, sizeof buf, "transformer.layer.%d.%s%s", li, map[k][1], rest + kl);
                else {
                    const int K = cf->inner > 0 ? cf->inner : 1;
                    snprintf(buf, sizeof buf, "encoder.albert_layer_groups.%d.albert_layers.%d.%s%s", li / K, li % K,
                             map[k][1], rest + kl);
                }
                return add_spellings(buf, 1, prefix, out, 0, max);
            }
            return 0;
        }
        return add_spellings(canon, 1, prefix, out, 0, max);
    }
    /* BERT's MLM head is cls.predictions as stored; the embeddings are everyone's */
    const int as_is = strncmp(canon, "classifier.", 11) && strncmp(canon, "embeddings.project.", 19) &&
                      (cf->family == BL_FAMILY_BERT || !strncmp(canon, "embeddings.", 11));
    if (as_is) n = add_spellings(canon, !strncmp(canon, "embeddings.", 11), prefix, out, n, max);
    for (int r = 0; r < BL_NRULES; r++) {
        const bl_rule *u = &bl_rules[r];
        size_t cl = strlen(u->canon);
        if ((u->family >= 0 && u->family != cf->family) || (u->head >= 0 && u->head != cf->head) ||
            strncmp(canon, u->canon, cl))
            continue;
        snprintf(buf, sizeof buf, "%s%s", u->hf, canon + cl);
        n = add_spellings(buf, u->base, prefix, out, n, max);
    }
    return n;
}

const char *bl_family_default_special(int family, int role) {
    /* cls, sep, pad, mask, unk as each family's tokenizer names them by default */
    static const char *bert[5] = {"[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]"};
    static const char *roberta[5] = {"<s>", "</s>", "<pad>", "<mask>", "<unk>"};
    static const char *albert[5] = {"[CLS]", "[SEP]", "<pad>", "[MASK]", "<unk>"};
    if (role < 0 || role > 4) return NULL;
    return family == BL_FAMILY_ROBERTA ? roberta[role] : family == BL_FAMILY_ALBERT ? albert[role] : bert[role];
}
