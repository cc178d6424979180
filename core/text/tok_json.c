/* tok_json.c — Hugging Face tokenizer.json tokenizers, exactly as the Rust `tokenizers` library
   (0.22) computes them: the reader (components into a bl_tokenizer pipeline), the added-token
   splitter, truncation, the post-processors, and the public API (bertlens.h). The vocab.txt
   BertTokenizer (tokenizer.c) sits behind the same interface.

   Encoding one text, as the library's encode does:
     1. added tokens whose `normalized` is false are found in the raw text (leftmost-longest,
        single_word / lstrip / rstrip as the library applies them); the rest is split around
        them;
     2. each remaining piece is normalized; added tokens with `normalized` true are found in it
        (their content normalized the same way), splitting it again;
     3. each remaining piece is pre-tokenized into words and each word tokenized by the model;
     4. pair truncation (longest_first) to max_len minus what the post-processor adds, then the
        post-processor (special tokens, type ids, ByteLevel/RoBERTa offset trimming).
   Offsets are byte offsets into the text given (the library reports the same spans in
   characters through its bindings). */
#include "text/tok.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t *cp; size_t n;     /* content as code points (normalized content for `normalized`) */
    int id, single_word, lstrip, rstrip, normalized, special;
} tk_added;

enum { PP_NONE, PP_BERT, PP_ROBERTA, PP_BYTELEVEL, PP_TEMPLATE, PP_SEQUENCE };
typedef struct { int is_seq; int seq; int type_id; int *ids; int nids; } tk_tpiece;
typedef struct tk_post tk_post;
struct tk_post {
    int type;
    int cls, sep;                         /* BERT, ROBERTA */
    int trim_offsets, add_prefix_space;   /* ROBERTA, BYTELEVEL */
    tk_tpiece *single, *pair; int nsingle, npair;   /* TEMPLATE */
    tk_post *sub; int nsub;               /* SEQUENCE */
};

struct bl_tokenizer {
    int kind;                 /* BL_TOKENIZER_* */
    /* vocab.txt */
    bl_vocab *vocab; bl_tok_opts opts;
    /* tokenizer.json */
    tk_norm *norm;            /* NULL: none */
    tk_pretok *pre;           /* NULL: none */
    tk_model model;
    tk_post post;
    tk_added *added; int nadded;
    int trunc_max;            /* truncation.max_length from the file, 0 none */
    int nvocab;               /* ids 0..nvocab-1 (model + added) */
    char **extra; uint32_t *extra_len;   /* strings of added ids beyond the model's vocab */
    int byte_level, metaspace; uint32_t ms_rep;   /* display */
    int special[BL_TOKROLE_COUNT];
};

/* ------------------------------------------------------------------ JSON helpers */
static int jbool(const bl_json *o, const char *k, int def) {
    const bl_json *j = bl_json_get(o, k);
    return j && j->type == BL_JSON_BOOL ? j->boolean : def;
}

static int to_cps(const char *s, size_t n, uint32_t **out, size_t *nout) {
    *out = malloc((n + 1) * sizeof **out);
    if (!*out) return -1;
    size_t i = 0, k = 0;
    while (i < n) i += tk_utf8_next((const uint8_t *)s + i, n - i, &(*out)[k++]);
    *nout = k;
    return 0;
}

#define NORM_LIST "BertNormalizer, Lowercase, NFD, NFKD, NFC, NFKC, StripAccents, Strip, Replace (string pattern), Prepend, Precompiled, Sequence"
#define PRE_LIST "BertPreTokenizer, ByteLevel, Metaspace, Whitespace, WhitespaceSplit, Sequence"
#define POST_LIST "BertProcessing, RobertaProcessing, ByteLevel, TemplateProcessing, Sequence"

static int b64val(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

static int parse_norm(const bl_json *j, tk_norm *n, int depth, bl_err *e) {
    memset(n, 0, sizeof *n);
    const char *t = bl_json_get_str(j, "type");
    if (!t) return bl_fail(e, "tokenizer.json: a normalizer has no \"type\"");
    if (depth > 16) return bl_fail(e, "tokenizer.json: normalizers nested too deeply");
    if (!strcmp(t, "BertNormalizer")) {
        n->type = NM_BERT;
        n->clean = jbool(j, "clean_text", 1);
        n->chinese = jbool(j, "handle_chinese_chars", 1);
        n->lowercase = jbool(j, "lowercase", 1);
        const bl_json *sa = bl_json_get(j, "strip_accents");
        n->strip_accents = sa && sa->type == BL_JSON_BOOL ? sa->boolean : -1;
    } else if (!strcmp(t, "Lowercase")) n->type = NM_LOWERCASE;
    else if (!strcmp(t, "NFD")) n->type = NM_NFD;
    else if (!strcmp(t, "NFKD")) n->type = NM_NFKD;
    else if (!strcmp(t, "NFC")) n->type = NM_NFC;
    else if (!strcmp(t, "NFKC")) n->type = NM_NFKC;
    else if (!strcmp(t, "StripAccents")) n->type = NM_STRIP_ACCENTS;
    else if (!strcmp(t, "Strip")) {
        n->type = NM_STRIP;
        n->left = jbool(j, "strip_left", 1);
        n->right = jbool(j, "strip_right", 1);
    } else if (!strcmp(t, "Replace")) {
        n->type = NM_REPLACE;
        const bl_json *p = bl_json_get(j, "pattern");
        const bl_json *ps = p ? bl_json_get(p, "String") : NULL;
        const bl_json *c = bl_json_get(j, "content");
        const bl_json *pr = p ? bl_json_get(p, "Regex") : NULL;
        if (pr && pr->type == BL_JSON_STR && c && c->type == BL_JSON_STR) {
            /* the one regex form converted tokenizers use: one character repeated, "X{n,}",
               "X{n,m}" or "X+" (e.g. " {2,}" collapsing runs of spaces) */
            uint32_t ch; const char *q = pr->str, *qe = pr->str + pr->len;
            if (q < qe && *q == '\\' && q + 1 < qe) q++;
            size_t l = q < qe ? tk_utf8_next((const uint8_t *)q, (size_t)(qe - q), &ch) : 0;
            q += l;
            long lo = -1, hi = -1;
            if (l && q == qe) lo = hi = 1;
            else if (l && q < qe && (*q == '+')) { lo = 1; q++; }
            else if (l && q < qe && *q == '{') {
                char *x;
                lo = strtol(q + 1, &x, 10);
                if (x > q + 1 && *x == ',') {
                    if (x[1] == '}') { q = x + 2; }
                    else { char *y; hi = strtol(x + 1, &y, 10); q = (y > x + 1 && *y == '}') ? y + 1 : qe + 1; }
                } else if (x > q + 1 && *x == '}') { hi = lo; q = x + 1; }
                else q = qe + 1;
            }
            if (l == 0 || q != qe || lo < 1 || (hi >= 0 && hi < lo) || (ch < 128 && strchr(".^$|()[]{}*+?", (int)ch) && pr->str[0] != '\\'))
                return bl_fail(e, "tokenizer.json: normalizer Replace with the Regex '%.40s' is not supported (string patterns and one character repeated, like \" {2,}\", are)", pr->str);
            n->rep_min = (int)lo; n->rep_max = (int)hi;
            if (!(n->pat = malloc(sizeof *n->pat))) return bl_fail(e, "tokenizer.json: out of memory");
            n->pat[0] = ch; n->npat = 1;
            if (to_cps(c->str, c->len, &n->rep, &n->nrep)) return bl_fail(e, "tokenizer.json: out of memory");
            return 0;
        }
        if (pr) return bl_fail(e, "tokenizer.json: normalizer Replace's Regex pattern is not a string");
        if (!ps || ps->type != BL_JSON_STR || !c || c->type != BL_JSON_STR || ps->len == 0)
            return bl_fail(e, "tokenizer.json: normalizer Replace needs a non-empty pattern.String and a content string");
        if (to_cps(ps->str, ps->len, &n->pat, &n->npat) || to_cps(c->str, c->len, &n->rep, &n->nrep))
            return bl_fail(e, "tokenizer.json: out of memory");
    } else if (!strcmp(t, "Prepend")) {
        n->type = NM_PREPEND;
        const bl_json *p = bl_json_get(j, "prepend");
        if (!p || p->type != BL_JSON_STR) return bl_fail(e, "tokenizer.json: normalizer Prepend needs a \"prepend\" string");
        if (to_cps(p->str, p->len, &n->rep, &n->nrep)) return bl_fail(e, "tokenizer.json: out of memory");
    } else if (!strcmp(t, "Precompiled")) {
        n->type = NM_PRECOMPILED;
        const bl_json *p = bl_json_get(j, "precompiled_charsmap");
        if (!p || p->type != BL_JSON_STR)
            return bl_fail(e, "tokenizer.json: normalizer Precompiled needs a precompiled_charsmap (base64)");
        n->pc = malloc(p->len / 4 * 3 + 4);
        if (!n->pc) return bl_fail(e, "tokenizer.json: out of memory");
        uint32_t acc = 0; int bits = 0; size_t o = 0;
        for (size_t i = 0; i < p->len; i++) {
            int v = b64val((uint8_t)p->str[i]);
            if (p->str[i] == '=') break;
            if (v < 0) return bl_fail(e, "tokenizer.json: precompiled_charsmap is not base64");
            acc = (acc << 6) | (uint32_t)v; bits += 6;
            if (bits >= 8) { bits -= 8; n->pc[o++] = (uint8_t)(acc >> bits); }
        }
        n->npc = o;
        if (o < 4) return bl_fail(e, "tokenizer.json: precompiled_charsmap is too short");
        uint32_t tsz = n->pc[0] | n->pc[1] << 8 | n->pc[2] << 16 | (uint32_t)n->pc[3] << 24;
        if (tsz > o - 4 || tsz % 4) return bl_fail(e, "tokenizer.json: precompiled_charsmap's trie size %u does not fit its %zu bytes", tsz, o);
        /* the array as little-endian u32 (copied aligned) */
        uint32_t *arr = malloc(tsz ? tsz : 4);
        if (!arr) return bl_fail(e, "tokenizer.json: out of memory");
        for (uint32_t i = 0; i < tsz / 4; i++) {
            const uint8_t *q = n->pc + 4 + 4 * i;
            arr[i] = q[0] | q[1] << 8 | q[2] << 16 | (uint32_t)q[3] << 24;
        }
        /* keep the array in place of the bytes it came from: pc = [array][blob] */
        uint8_t *blob = n->pc + 4 + tsz;
        size_t nblob = o - 4 - tsz;
        uint8_t *both = malloc(tsz + nblob + 1);
        if (!both) { free(arr); return bl_fail(e, "tokenizer.json: out of memory"); }
        memcpy(both, arr, tsz);
        memcpy(both + tsz, blob, nblob);
        both[tsz + nblob] = 0;
        free(arr);
        free(n->pc);
        n->pc = both;
        n->trie = (const uint32_t *)(void *)both;
        n->ntrie = tsz / 4;
        n->pcnorm = (const char *)both + tsz;
        n->npcnorm = nblob;
        /* the library rejects a blob that is not UTF-8 */
        for (size_t i = 0; i < nblob;) {
            uint32_t c;
            size_t l = tk_utf8_next(both + tsz + i, nblob - i, &c);
            if (c == 0xFFFD && !(nblob - i >= 3 && !memcmp(both + tsz + i, "\xEF\xBF\xBD", 3)))
                return bl_fail(e, "tokenizer.json: precompiled_charsmap's strings are not UTF-8");
            i += l;
        }
    } else if (!strcmp(t, "Sequence")) {
        n->type = NM_SEQUENCE;
        const bl_json *a = bl_json_get(j, "normalizers");
        if (!a || a->type != BL_JSON_ARR) return bl_fail(e, "tokenizer.json: normalizer Sequence needs \"normalizers\"");
        n->sub = calloc((size_t)a->n + 1, sizeof *n->sub);
        if (!n->sub) return bl_fail(e, "tokenizer.json: out of memory");
        for (const bl_json *c = a->child; c; c = c->next) {
            if (parse_norm(c, &n->sub[n->nsub], depth + 1, e)) { n->nsub++; return -1; }
            n->nsub++;
        }
    } else {
        return bl_fail(e, "tokenizer.json: normalizer type '%.40s' is not supported (supported: " NORM_LIST ")", t);
    }
    return 0;
}

static int parse_pre(const bl_json *j, tk_pretok *p, int depth, bl_err *e) {
    memset(p, 0, sizeof *p);
    const char *t = bl_json_get_str(j, "type");
    if (!t) return bl_fail(e, "tokenizer.json: a pre_tokenizer has no \"type\"");
    if (depth > 16) return bl_fail(e, "tokenizer.json: pre_tokenizers nested too deeply");
    if (!strcmp(t, "BertPreTokenizer")) p->type = PT_BERT;
    else if (!strcmp(t, "Whitespace")) p->type = PT_WHITESPACE;
    else if (!strcmp(t, "WhitespaceSplit")) p->type = PT_WHITESPACE_SPLIT;
    else if (!strcmp(t, "ByteLevel")) {
        p->type = PT_BYTELEVEL;
        p->add_prefix_space = jbool(j, "add_prefix_space", 1);
        p->use_regex = jbool(j, "use_regex", 1);
    } else if (!strcmp(t, "Metaspace")) {
        p->type = PT_METASPACE;
        const char *r = bl_json_get_str(j, "replacement");
        uint32_t *cp; size_t n;
        if (!r || to_cps(r, strlen(r), &cp, &n)) return bl_fail(e, "tokenizer.json: Metaspace needs a \"replacement\"");
        if (n != 1) { free(cp); return bl_fail(e, "tokenizer.json: Metaspace's replacement must be one character"); }
        p->replacement = cp[0];
        free(cp);
        const char *ps = bl_json_get_str(j, "prepend_scheme");
        p->prepend = !ps || !strcmp(ps, "always") ? MS_ALWAYS : !strcmp(ps, "first") ? MS_FIRST :
                     !strcmp(ps, "never") ? MS_NEVER : -1;
        if (p->prepend < 0) return bl_fail(e, "tokenizer.json: Metaspace prepend_scheme '%.20s' is unknown", ps);
        const bl_json *aps = bl_json_get(j, "add_prefix_space");
        if (aps && aps->type == BL_JSON_BOOL && !aps->boolean) {
            if (p->prepend != MS_NEVER && ps)
                return bl_fail(e, "tokenizer.json: Metaspace add_prefix_space does not match declared prepend_scheme");
            p->prepend = MS_NEVER;
        }
        p->split = jbool(j, "split", 1);
    } else if (!strcmp(t, "Sequence")) {
        p->type = PT_SEQUENCE;
        const bl_json *a = bl_json_get(j, "pretokenizers");
        if (!a || a->type != BL_JSON_ARR) return bl_fail(e, "tokenizer.json: pre_tokenizer Sequence needs \"pretokenizers\"");
        p->sub = calloc((size_t)a->n + 1, sizeof *p->sub);
        if (!p->sub) return bl_fail(e, "tokenizer.json: out of memory");
        for (const bl_json *c = a->child; c; c = c->next) {
            if (parse_pre(c, &p->sub[p->nsub], depth + 1, e)) { p->nsub++; return -1; }
            p->nsub++;
        }
    } else {
        return bl_fail(e, "tokenizer.json: pre_tokenizer type '%.40s' is not supported (supported: " PRE_LIST ")", t);
    }
    return 0;
}

static int get_int(const bl_json *j, long long lo, long long hi, int *out) {
    if (!j || j->type != BL_JSON_NUM || !j->is_int || j->i64 < lo || j->i64 > hi) return -1;
    *out = (int)j->i64;
    return 0;
}

/* vocab object {token: id} into m->v */
static int parse_vocab_obj(const bl_json *vo, tk_model *m, bl_err *e) {
    if (!vo || vo->type != BL_JSON_OBJ) return bl_fail(e, "tokenizer.json: model.vocab must be an object of token: id");
    int maxid = -1;
    for (const bl_json *c = vo->child; c; c = c->next) {
        int id;
        if (get_int(c, 0, 1 << 22, &id)) return bl_fail(e, "tokenizer.json: vocab id of '%.40s' is not an integer in 0..4194304", c->key);
        if (id > maxid) maxid = id;
    }
    if (tk_vocab_init(&m->v, maxid + 1)) return bl_fail(e, "tokenizer.json: out of memory");
    for (const bl_json *c = vo->child; c; c = c->next) {
        int id = (int)c->i64;
        if (m->v.tok[id]) {
            /* a repeated key: the later one wins, as a map would keep */
            if (m->v.len[id] == c->key_len && !memcmp(m->v.tok[id], c->key, c->key_len)) continue;
            return bl_fail(e, "tokenizer.json: vocab id %d is given to two tokens", id);
        }
        if (tk_vocab_set(&m->v, id, c->key, c->key_len)) return bl_fail(e, "tokenizer.json: out of memory");
    }
    return 0;
}

static int parse_model(const bl_json *j, tk_model *m, bl_err *e) {
    memset(m, 0, sizeof *m);
    m->unk = -1;
    if (!j || j->type != BL_JSON_OBJ) return bl_fail(e, "tokenizer.json: no \"model\" object");
    const char *t = bl_json_get_str(j, "type");
    const bl_json *vo = bl_json_get(j, "vocab");
    if (!t) {   /* files from before "type": tell the models apart by their fields */
        if (bl_json_get(j, "merges")) t = "BPE";
        else if (vo && vo->type == BL_JSON_ARR) t = "Unigram";
        else if (bl_json_get(j, "continuing_subword_prefix") || bl_json_get(j, "max_input_chars_per_word")) t = "WordPiece";
        else t = "WordLevel";
    }
    if (!strcmp(t, "WordPiece")) {
        m->type = MD_WORDPIECE;
        if (parse_vocab_obj(vo, m, e)) return -1;
        const char *unk = bl_json_get_str(j, "unk_token");
        m->unk = unk ? tk_vocab_find(&m->v, unk, strlen(unk)) : -1;
        const bl_json *p = bl_json_get(j, "continuing_subword_prefix");
        const char *ps = p && p->type == BL_JSON_STR ? p->str : "##";
        m->nprefix = p && p->type == BL_JSON_STR ? p->len : 2;
        if (!(m->prefix = malloc(m->nprefix + 1))) return bl_fail(e, "tokenizer.json: out of memory");
        memcpy(m->prefix, ps, m->nprefix);
        const bl_json *mx = bl_json_get(j, "max_input_chars_per_word");
        m->max_chars = 100;
        if (mx && get_int(mx, 0, INT_MAX, &m->max_chars)) return bl_fail(e, "tokenizer.json: bad max_input_chars_per_word");
        return 0;
    }
    if (!strcmp(t, "BPE")) {
        m->type = MD_BPE;
        const bl_json *dr = bl_json_get(j, "dropout");
        if (dr && dr->type == BL_JSON_NUM && dr->num > 0)
            return bl_fail(e, "tokenizer.json: BPE dropout is not supported (it makes tokenization random)");
        if (parse_vocab_obj(vo, m, e)) return -1;
        const char *unk = bl_json_get_str(j, "unk_token");
        m->has_unk_token = unk != NULL;
        m->unk = unk ? tk_vocab_find(&m->v, unk, strlen(unk)) : -1;
        const bl_json *p = bl_json_get(j, "continuing_subword_prefix");
        if (p && p->type == BL_JSON_STR) {
            if (!(m->prefix = malloc(p->len + 1))) return bl_fail(e, "tokenizer.json: out of memory");
            memcpy(m->prefix, p->str, p->len); m->nprefix = p->len;
        }
        const bl_json *sf = bl_json_get(j, "end_of_word_suffix");
        if (sf && sf->type == BL_JSON_STR) {
            if (!(m->suffix = malloc(sf->len + 1))) return bl_fail(e, "tokenizer.json: out of memory");
            memcpy(m->suffix, sf->str, sf->len); m->nsuffix = sf->len;
        }
        m->fuse_unk = jbool(j, "fuse_unk", 0);
        m->byte_fallback = jbool(j, "byte_fallback", 0);
        m->ignore_merges = jbool(j, "ignore_merges", 0);
        const bl_json *mg = bl_json_get(j, "merges");
        if (!mg || mg->type != BL_JSON_ARR) return bl_fail(e, "tokenizer.json: BPE needs \"merges\"");
        m->mcap = 16;
        while (m->mcap < 2u * (uint32_t)mg->n + 2) m->mcap <<= 1;
        if (!(m->merges = malloc(m->mcap * sizeof *m->merges))) return bl_fail(e, "tokenizer.json: out of memory");
        for (uint32_t i = 0; i < m->mcap; i++) m->merges[i].id = UINT32_MAX;
        uint32_t rank = 0;
        char *buf = NULL; size_t bcap = 0;
        for (const bl_json *c = mg->child; c; c = c->next) {
            const char *a, *b; size_t al, bl;
            if (c->type == BL_JSON_STR) {
                if (c->len >= 8 && !memcmp(c->str, "#version", 8)) continue;
                const char *sp = memchr(c->str, ' ', c->len);
                if (!sp || memchr(sp + 1, ' ', c->len - (size_t)(sp + 1 - c->str))) {
                    free(buf);
                    return bl_fail(e, "tokenizer.json: merge %u is not two tokens separated by one space", rank + 1);
                }
                a = c->str; al = (size_t)(sp - c->str); b = sp + 1; bl = c->len - al - 1;
            } else if (c->type == BL_JSON_ARR && c->n == 2 && c->child->type == BL_JSON_STR && c->child->next->type == BL_JSON_STR) {
                a = c->child->str; al = c->child->len; b = c->child->next->str; bl = c->child->next->len;
            } else {
                free(buf);
                return bl_fail(e, "tokenizer.json: merge %u is neither \"a b\" nor [a, b]", rank + 1);
            }
            int ia = tk_vocab_find(&m->v, a, al), ib = tk_vocab_find(&m->v, b, bl);
            if (ia < 0 || ib < 0) {
                free(buf);
                return bl_fail(e, "tokenizer.json: merge %u uses '%.*s', which is not in the vocab", rank + 1,
                               (int)(ia < 0 ? (al > 40 ? 40 : al) : (bl > 40 ? 40 : bl)), ia < 0 ? a : b);
            }
            size_t skip = m->prefix && bl >= m->nprefix ? m->nprefix : 0;
            if (al + bl + 1 > bcap) {
                bcap = (al + bl + 1) * 2;
                char *nb = realloc(buf, bcap);
                if (!nb) { free(buf); return bl_fail(e, "tokenizer.json: out of memory"); }
                buf = nb;
            }
            memcpy(buf, a, al); memcpy(buf + al, b + skip, bl - skip);
            int id = tk_vocab_find(&m->v, buf, al + bl - skip);
            if (id < 0) {
                bl_fail(e, "tokenizer.json: merge %u makes '%.*s', which is not in the vocab", rank + 1,
                        (int)((al + bl - skip) > 40 ? 40 : al + bl - skip), buf);
                free(buf);
                return -1;
            }
            tk_bpe_add_merge(m, ia, ib, rank, id);
            rank++;
        }
        free(buf);
        return 0;
    }
    if (!strcmp(t, "Unigram")) {
        m->type = MD_UNIGRAM;
        if (!vo || vo->type != BL_JSON_ARR) return bl_fail(e, "tokenizer.json: Unigram needs \"vocab\": [[piece, score], ...]");
        if (tk_vocab_init(&m->v, vo->n) || !(m->score = malloc(((size_t)vo->n + 1) * sizeof *m->score)))
            return bl_fail(e, "tokenizer.json: out of memory");
        int id = 0;
        for (const bl_json *c = vo->child; c; c = c->next, id++) {
            if (c->type != BL_JSON_ARR || c->n != 2 || c->child->type != BL_JSON_STR || c->child->next->type != BL_JSON_NUM)
                return bl_fail(e, "tokenizer.json: Unigram vocab entry %d is not [piece, score]", id);
            if (tk_vocab_set(&m->v, id, c->child->str, c->child->len)) return bl_fail(e, "tokenizer.json: out of memory");
            m->score[id] = c->child->next->num;
        }
        const bl_json *u = bl_json_get(j, "unk_id");
        if (u && !bl_json_is_null(u)) {
            if (get_int(u, 0, INT_MAX, &m->unk) || m->unk >= m->v.n)
                return bl_fail(e, "tokenizer.json: Unigram unk_id is not an id of its vocab");
        }
        m->byte_fallback = jbool(j, "byte_fallback", 0);
        if (tk_unigram_build(m)) return bl_fail(e, "tokenizer.json: Unigram vocab too large or out of memory");
        return 0;
    }
    return bl_fail(e, "tokenizer.json: model type '%.40s' is not supported (supported: WordPiece, BPE, Unigram)", t);
}

static int parse_post(const bl_json *j, tk_post *p, const bl_tokenizer *t, int depth, bl_err *e);

static int special_pair(const bl_json *a, const char *what, int *id, bl_err *e) {
    if (!a || a->type != BL_JSON_ARR || a->n != 2 || a->child->type != BL_JSON_STR ||
        get_int(a->child->next, 0, INT_MAX, id))
        return bl_fail(e, "tokenizer.json: post_processor %s must be [token, id]", what);
    return 0;
}

static int parse_template(const bl_json *a, const bl_json *sp, tk_tpiece **out, int *n, bl_err *e) {
    if (!a || a->type != BL_JSON_ARR) return bl_fail(e, "tokenizer.json: TemplateProcessing needs \"single\" and \"pair\" lists");
    *out = calloc((size_t)a->n + 1, sizeof **out);
    if (!*out) return bl_fail(e, "tokenizer.json: out of memory");
    for (const bl_json *c = a->child; c; c = c->next) {
        tk_tpiece *p = &(*out)[(*n)++];
        const bl_json *s = bl_json_get(c, "Sequence"), *k = bl_json_get(c, "SpecialToken");
        const bl_json *x = s ? s : k;
        if (!x) return bl_fail(e, "tokenizer.json: a template piece is neither Sequence nor SpecialToken");
        if (get_int(bl_json_get(x, "type_id"), 0, INT_MAX, &p->type_id)) return bl_fail(e, "tokenizer.json: template piece without type_id");
        const char *id = bl_json_get_str(x, "id");
        if (!id) return bl_fail(e, "tokenizer.json: template piece without id");
        if (s) {
            p->is_seq = 1;
            if (!strcmp(id, "A")) p->seq = 0;
            else if (!strcmp(id, "B")) p->seq = 1;
            else return bl_fail(e, "tokenizer.json: template sequence '%.20s' is neither A nor B", id);
        } else {
            const bl_json *st = bl_json_get(sp, id);
            const bl_json *ids = st ? bl_json_get(st, "ids") : NULL;
            if (!ids || ids->type != BL_JSON_ARR) return bl_fail(e, "tokenizer.json: template special token '%.40s' is not in special_tokens", id);
            p->ids = malloc(((size_t)ids->n + 1) * sizeof *p->ids);
            if (!p->ids) return bl_fail(e, "tokenizer.json: out of memory");
            for (const bl_json *q = ids->child; q; q = q->next)
                if (get_int(q, 0, INT_MAX, &p->ids[p->nids++])) return bl_fail(e, "tokenizer.json: template special token '%.40s' has a bad id", id);
        }
    }
    return 0;
}

static int parse_post(const bl_json *j, tk_post *p, const bl_tokenizer *t, int depth, bl_err *e) {
    memset(p, 0, sizeof *p);
    (void)t;
    if (!j || bl_json_is_null(j)) { p->type = PP_NONE; return 0; }
    const char *ty = bl_json_get_str(j, "type");
    if (!ty) return bl_fail(e, "tokenizer.json: the post_processor has no \"type\"");
    if (depth > 16) return bl_fail(e, "tokenizer.json: post_processors nested too deeply");
    if (!strcmp(ty, "BertProcessing") || !strcmp(ty, "RobertaProcessing")) {
        p->type = ty[0] == 'B' ? PP_BERT : PP_ROBERTA;
        if (special_pair(bl_json_get(j, "sep"), "sep", &p->sep, e) || special_pair(bl_json_get(j, "cls"), "cls", &p->cls, e)) return -1;
        p->trim_offsets = jbool(j, "trim_offsets", 1);
        p->add_prefix_space = jbool(j, "add_prefix_space", 1);
    } else if (!strcmp(ty, "ByteLevel")) {
        p->type = PP_BYTELEVEL;
        p->trim_offsets = jbool(j, "trim_offsets", 1);
        p->add_prefix_space = jbool(j, "add_prefix_space", 1);
    } else if (!strcmp(ty, "TemplateProcessing")) {
        p->type = PP_TEMPLATE;
        const bl_json *sp = bl_json_get(j, "special_tokens");
        if (parse_template(bl_json_get(j, "single"), sp, &p->single, &p->nsingle, e) ||
            parse_template(bl_json_get(j, "pair"), sp, &p->pair, &p->npair, e)) return -1;
    } else if (!strcmp(ty, "Sequence")) {
        p->type = PP_SEQUENCE;
        const bl_json *a = bl_json_get(j, "processors");
        if (!a || a->type != BL_JSON_ARR) return bl_fail(e, "tokenizer.json: post_processor Sequence needs \"processors\"");
        p->sub = calloc((size_t)a->n + 1, sizeof *p->sub);
        if (!p->sub) return bl_fail(e, "tokenizer.json: out of memory");
        for (const bl_json *c = a->child; c; c = c->next) {
            if (parse_post(c, &p->sub[p->nsub], t, depth + 1, e)) { p->nsub++; return -1; }
            p->nsub++;
        }
    } else {
        return bl_fail(e, "tokenizer.json: post_processor type '%.40s' is not supported (supported: " POST_LIST ")", ty);
    }
    return 0;
}

static void post_free(tk_post *p) {
    for (int i = 0; i < p->nsingle; i++) free(p->single[i].ids);
    for (int i = 0; i < p->npair; i++) free(p->pair[i].ids);
    free(p->single); free(p->pair);
    for (int i = 0; i < p->nsub; i++) post_free(&p->sub[i]);
    free(p->sub);
}

static int post_added(const tk_post *p, int pair) {
    switch (p->type) {
    case PP_BERT: return pair ? 3 : 2;
    case PP_ROBERTA: return pair ? 4 : 2;
    case PP_TEMPLATE: {
        int n = 0;
        const tk_tpiece *t = pair ? p->pair : p->single;
        for (int i = 0; i < (pair ? p->npair : p->nsingle); i++) if (!t[i].is_seq) n += t[i].nids;
        return n;
    }
    case PP_SEQUENCE: {
        int n = 0;
        for (int i = 0; i < p->nsub; i++) n += post_added(&p->sub[i], pair);
        return n;
    }
    }
    return 0;
}

/* ------------------------------------------------------------------ public: lifecycle */
void bl_tokenizer_free(bl_tokenizer *t) {
    if (!t) return;
    bl_vocab_free(t->vocab);
    if (t->norm) { tk_norm_free(t->norm); free(t->norm); }
    if (t->pre) { tk_pretok_free(t->pre); free(t->pre); }
    if (t->extra) for (int i = 0; i < t->nvocab - t->model.v.n; i++) free(t->extra[i]);
    free(t->extra); free(t->extra_len);
    tk_model_free(&t->model);
    post_free(&t->post);
    for (int i = 0; i < t->nadded; i++) free(t->added[i].cp);
    free(t->added);
    free(t);
}

static const char *model_token(const bl_tokenizer *t, int id, size_t *len) {
    if (id < 0 || id >= t->nvocab) return NULL;
    if (id >= t->model.v.n) { *len = t->extra_len[id - t->model.v.n]; return t->extra[id - t->model.v.n]; }
    if (!t->model.v.tok[id]) return NULL;
    *len = t->model.v.len[id];
    return t->model.v.tok[id];
}

const char *bl_tokenizer_token(const bl_tokenizer *t, int id, size_t *len) {
    size_t l = 0;
    if (!t) return NULL;
    if (t->kind == BL_TOKENIZER_VOCAB_TXT) {
        const char *s = bl_vocab_token(t->vocab, id);
        if (s && len) *len = strlen(s);
        return s;
    }
    const char *s = model_token(t, id, &l);
    if (s && len) *len = l;
    return s;
}

int bl_tokenizer_id(const bl_tokenizer *t, const char *tok, size_t len) {
    if (!t || !tok) return -1;
    if (t->kind == BL_TOKENIZER_VOCAB_TXT) return bl_vocab_id(t->vocab, tok, len);
    for (int i = t->model.v.n; i < t->nvocab; i++) {
        size_t l; const char *s = model_token(t, i, &l);
        if (s && l == len && !memcmp(s, tok, len)) return i;
    }
    return tk_vocab_find(&t->model.v, tok, len);
}

int bl_tokenizer_vocab_size(const bl_tokenizer *t) {
    if (!t) return 0;
    return t->kind == BL_TOKENIZER_VOCAB_TXT ? bl_vocab_size(t->vocab) : t->nvocab;
}

int bl_tokenizer_kind(const bl_tokenizer *t) { return t ? t->kind : -1; }

int bl_tokenizer_special(const bl_tokenizer *t, int role) {
    if (!t || role < 0 || role >= BL_TOKROLE_COUNT) return -1;
    return t->special[role];
}

/* Roles of special tokens: the post-processor's cls/sep when it names them, else the usual
   spellings among the added tokens and the vocab. */
static void find_roles(bl_tokenizer *t) {
    static const char *const names[BL_TOKROLE_COUNT][4] = {
        { "[CLS]", "<s>", "<cls>", NULL }, { "[SEP]", "</s>", "<sep>", NULL },
        { "[MASK]", "<mask>", NULL, NULL }, { "[PAD]", "<pad>", NULL, NULL },
        { "[UNK]", "<unk>", NULL, NULL }, { "<s>", "[BOS]", NULL, NULL }, { "</s>", "[EOS]", NULL, NULL } };
    for (int r = 0; r < BL_TOKROLE_COUNT; r++) {
        t->special[r] = -1;
        for (int k = 0; k < 4 && names[r][k] && t->special[r] < 0; k++)
            t->special[r] = bl_tokenizer_id(t, names[r][k], strlen(names[r][k]));
    }
    const tk_post *p = &t->post;
    if (p->type == PP_SEQUENCE)
        for (int i = 0; i < p->nsub; i++) if (p->sub[i].type != PP_BYTELEVEL) p = &p->sub[i];
    if (p->type == PP_BERT || p->type == PP_ROBERTA) { t->special[BL_TOKROLE_CLS] = p->cls; t->special[BL_TOKROLE_SEP] = p->sep; }
    if (p->type == PP_TEMPLATE) {   /* cls: a special before $A; sep: the first one after it */
        int seen_a = 0;
        for (int i = 0; i < p->nsingle; i++) {
            const tk_tpiece *x = &p->single[i];
            if (x->is_seq) { seen_a = 1; continue; }
            if (!x->nids) continue;
            if (!seen_a && i == 0) t->special[BL_TOKROLE_CLS] = x->ids[0];
            if (seen_a) { t->special[BL_TOKROLE_SEP] = x->ids[0]; break; }
        }
    }
    if (t->kind == BL_TOKENIZER_UNIGRAM && t->model.unk >= 0) t->special[BL_TOKROLE_UNK] = t->model.unk;
    if (t->kind == BL_TOKENIZER_WORDPIECE && t->model.unk >= 0) t->special[BL_TOKROLE_UNK] = t->model.unk;
}

bl_tokenizer *bl_tokenizer_from_vocab(const char *txt, size_t len, const bl_tok_opts *o, bl_err *e) {
    if (!o) { bl_fail(e, "tokenizer: NULL options"); return NULL; }
    bl_tokenizer *t = calloc(1, sizeof *t);
    if (!t) { bl_fail(e, "tokenizer: out of memory"); return NULL; }
    t->kind = BL_TOKENIZER_VOCAB_TXT;
    t->opts = *o;
    if (!(t->vocab = bl_vocab_parse(txt, len, e))) { free(t); return NULL; }
    find_roles(t);
    return t;
}

static int check_id(const bl_tokenizer *t, int id, const char *what, bl_err *e) {
    size_t l;
    if (id < 0 || id >= t->nvocab || !model_token(t, id, &l))
        return bl_fail(e, "tokenizer.json: the post_processor's %s id %d is not a token of the vocab", what, id);
    return 0;
}

static int check_post_ids(const bl_tokenizer *t, const tk_post *p, bl_err *e) {
    if ((p->type == PP_BERT || p->type == PP_ROBERTA) && (check_id(t, p->cls, "cls", e) || check_id(t, p->sep, "sep", e)))
        return -1;
    for (int k = 0; k < p->nsingle; k++)
        for (int i = 0; i < p->single[k].nids; i++) if (check_id(t, p->single[k].ids[i], "special token", e)) return -1;
    for (int k = 0; k < p->npair; k++)
        for (int i = 0; i < p->pair[k].nids; i++) if (check_id(t, p->pair[k].ids[i], "special token", e)) return -1;
    for (int k = 0; k < p->nsub; k++) if (check_post_ids(t, &p->sub[k], e)) return -1;
    return 0;
}

static int cmp_added(const void *a, const void *b) {
    const tk_added *x = a, *y = b;
    if (x->n == 0 || y->n == 0) return (x->n > 0) - (y->n > 0);
    return (x->cp[0] > y->cp[0]) - (x->cp[0] < y->cp[0]);
}

bl_tokenizer *bl_tokenizer_from_json(const char *json, size_t len, bl_err *e) {
    bl_json *root = bl_json_parse(json, len, e);
    if (!root) return NULL;
    bl_tokenizer *t = calloc(1, sizeof *t);
    if (!t) { bl_json_free(root); bl_fail(e, "tokenizer.json: out of memory"); return NULL; }
    if (root->type != BL_JSON_OBJ) { bl_fail(e, "tokenizer.json: not a JSON object"); goto fail; }
    const bl_json *jn = bl_json_get(root, "normalizer"), *jp = bl_json_get(root, "pre_tokenizer");
    if (jn && !bl_json_is_null(jn)) {
        if (!(t->norm = calloc(1, sizeof *t->norm))) { bl_fail(e, "tokenizer.json: out of memory"); goto fail; }
        if (parse_norm(jn, t->norm, 0, e)) goto fail;
    }
    if (jp && !bl_json_is_null(jp)) {
        if (!(t->pre = calloc(1, sizeof *t->pre))) { bl_fail(e, "tokenizer.json: out of memory"); goto fail; }
        if (parse_pre(jp, t->pre, 0, e)) goto fail;
    }
    if (parse_model(bl_json_get(root, "model"), &t->model, e)) goto fail;
    t->kind = t->model.type == MD_WORDPIECE ? BL_TOKENIZER_WORDPIECE : t->model.type == MD_BPE ? BL_TOKENIZER_BPE : BL_TOKENIZER_UNIGRAM;
    if (parse_post(bl_json_get(root, "post_processor"), &t->post, t, 0, e)) goto fail;
    const bl_json *tr = bl_json_get(root, "truncation");
    if (tr && !bl_json_is_null(tr)) {
        const char *st = bl_json_get_str(tr, "strategy");
        if (st && strcmp(st, "LongestFirst")) { bl_fail(e, "tokenizer.json: truncation strategy '%.20s' is not supported (LongestFirst is)", st); goto fail; }
        const char *dir = bl_json_get_str(tr, "direction");
        if (dir && strcmp(dir, "Right")) { bl_fail(e, "tokenizer.json: truncation direction '%.20s' is not supported (Right is)", dir); goto fail; }
        if (get_int(bl_json_get(tr, "max_length"), 0, INT_MAX, &t->trunc_max)) { bl_fail(e, "tokenizer.json: bad truncation.max_length"); goto fail; }
    }
    /* display: byte-level pieces or metaspace (Metaspace, or a normalizer putting "▁" for
       spaces as Llama's does) */
    const tk_norm *nstack[32]; int nn = 0;
    if (t->norm) nstack[nn++] = t->norm;
    while (nn) {
        const tk_norm *x = nstack[--nn];
        if ((x->type == NM_PREPEND || (x->type == NM_REPLACE && x->npat == 1 && x->pat[0] == ' ')) &&
            x->nrep == 1 && x->rep[0] == 0x2581) { t->metaspace = 1; t->ms_rep = 0x2581; }
        for (int i = 0; i < x->nsub && nn < 32; i++) nstack[nn++] = &x->sub[i];
    }
    const tk_pretok *stack[32]; int ns = 0;
    if (t->pre) stack[ns++] = t->pre;
    while (ns) {
        const tk_pretok *p = stack[--ns];
        if (p->type == PT_BYTELEVEL) t->byte_level = 1;
        if (p->type == PT_METASPACE) { t->metaspace = 1; t->ms_rep = p->replacement; }
        for (int i = 0; i < p->nsub && ns < 32; i++) stack[ns++] = &p->sub[i];
    }
    /* added tokens: ids as the library assigns them (the model's id when it has the content,
       else the next free id after the model's vocab) */
    const bl_json *ja = bl_json_get(root, "added_tokens");
    t->nvocab = t->model.v.n;
    int nja = ja && ja->type == BL_JSON_ARR ? ja->n : 0;
    if (nja) {
        t->added = calloc((size_t)nja, sizeof *t->added);
        t->extra = calloc((size_t)nja, sizeof *t->extra);
        t->extra_len = calloc((size_t)nja, sizeof *t->extra_len);
        if (!t->added || !t->extra || !t->extra_len) { bl_fail(e, "tokenizer.json: out of memory"); goto fail; }
        for (const bl_json *c = ja->child; c; c = c->next) {
            const bl_json *cs = bl_json_get(c, "content");
            if (!cs || cs->type != BL_JSON_STR) { bl_fail(e, "tokenizer.json: an added token has no content"); goto fail; }
            if (cs->len == 0) continue;
            int id = -1;
            for (int k = t->model.v.n; k < t->nvocab && id < 0; k++)
                if (t->extra_len[k - t->model.v.n] == cs->len && !memcmp(t->extra[k - t->model.v.n], cs->str, cs->len)) id = k;
            if (id < 0) id = tk_vocab_find(&t->model.v, cs->str, cs->len);
            int dup = 0;
            for (int k = 0; k < t->nadded; k++) if (t->added[k].id == id && id >= 0) dup = 1;
            if (dup) continue;
            if (id < 0) {
                id = t->nvocab++;
                size_t k = (size_t)(id - t->model.v.n);
                if (!(t->extra[k] = malloc(cs->len + 1))) { bl_fail(e, "tokenizer.json: out of memory"); goto fail; }
                memcpy(t->extra[k], cs->str, cs->len);
                t->extra[k][cs->len] = 0;
                t->extra_len[k] = (uint32_t)cs->len;
            }
            tk_added *a = &t->added[t->nadded++];
            a->id = id;
            a->special = jbool(c, "special", 0);
            a->normalized = jbool(c, "normalized", !a->special);
            a->single_word = jbool(c, "single_word", 0);
            a->lstrip = jbool(c, "lstrip", 0);
            a->rstrip = jbool(c, "rstrip", 0);
            if (a->normalized && t->norm) {
                tk_str in = {0}, out = {0};
                size_t i = 0;
                int rc = 0;
                while (i < cs->len && !rc) {
                    uint32_t cp; size_t l = tk_utf8_next((const uint8_t *)cs->str + i, cs->len - i, &cp);
                    rc = tk_push(&in, cp, (int32_t)i, (int32_t)(i + l));
                    i += l;
                }
                if (!rc) rc = tk_normalize(t->norm, &in, &out, 0);
                if (!rc && (a->cp = malloc((out.n + 1) * sizeof *a->cp))) {
                    for (size_t k = 0; k < out.n; k++) a->cp[k] = out.a[k].cp;
                    a->n = out.n;
                } else rc = -1;
                free(in.a); free(out.a);
                if (rc) { bl_fail(e, "tokenizer.json: out of memory"); goto fail; }
            } else if (to_cps(cs->str, cs->len, &a->cp, &a->n)) { bl_fail(e, "tokenizer.json: out of memory"); goto fail; }
        }
        /* by first code point, stable, so matching tries only the candidates that can start */
        for (int i = 1; i < t->nadded; i++) {
            tk_added x = t->added[i];
            int k = i;
            while (k > 0 && cmp_added(&t->added[k - 1], &x) > 0) { t->added[k] = t->added[k - 1]; k--; }
            t->added[k] = x;
        }
    }
    /* the post-processor's ids must be tokens (the library would emit them regardless; a
       model could not embed them) */
    if (check_post_ids(t, &t->post, e)) goto fail;
    find_roles(t);
    bl_json_free(root);
    return t;
fail:
    bl_json_free(root);
    bl_tokenizer_free(t);
    return NULL;
}

/* ------------------------------------------------------------------ encoding one text */
/* tokens of one text; ws = leading | trailing << 16 whitespace chars of the token's value when
   that is not its vocab string (an added token's value is the text it matched, spaces that
   lstrip/rstrip took included), -1 otherwise */
typedef struct { int *id, *s, *e, *ws; size_t n, cap; } tk_toks;

static int toks_push(tk_toks *t, int id, int s, int e, int ws) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        if (cap > SIZE_MAX / 64) return -1;   /* 32-bit sizes (WebAssembly) must not wrap */
        int *a = realloc(t->id, cap * sizeof *a);
        if (!a) return -1;
        t->id = a;
        if (!(a = realloc(t->s, cap * sizeof *a))) return -1;
        t->s = a;
        if (!(a = realloc(t->e, cap * sizeof *a))) return -1;
        t->e = a;
        if (!(a = realloc(t->ws, cap * sizeof *a))) return -1;
        t->ws = a;
        t->cap = cap;
    }
    t->id[t->n] = id; t->s[t->n] = s; t->e[t->n] = e; t->ws[t->n] = ws;
    t->n++;
    return 0;
}
static void toks_free(tk_toks *t) { free(t->id); free(t->s); free(t->e); free(t->ws); memset(t, 0, sizeof *t); }

static int is_trim_ws(uint32_t c) { return c == 0x120 || tk_is_ws(c); }
static int value_ws(const tk_ch *a, size_t n) {
    size_t l = 0, t = 0;
    while (l < n && is_trim_ws(a[l].cp)) l++;
    while (t < n && is_trim_ws(a[n - 1 - t].cp)) t++;
    if (l > 0xffff) l = 0xffff;
    if (t > 0x7fff) t = 0x7fff;
    return (int)(l | t << 16);
}

/* Leftmost-longest match of the added tokens with the given `normalized` flag in a[from..n):
   returns the token index or -1; *at = start. */
static int find_added(const bl_tokenizer *t, int normalized, const tk_ch *a, size_t n, size_t from, size_t *at) {
    for (size_t i = from; i < n; i++) {
        int best = -1;
        size_t bl = 0;
        for (int k = 0; k < t->nadded; k++) {
            const tk_added *x = &t->added[k];
            if (x->n == 0 || x->normalized != normalized || x->cp[0] != a[i].cp || x->n <= bl || x->n > n - i) continue;
            size_t q = 1;
            while (q < x->n && x->cp[q] == a[i + q].cp) q++;
            if (q == x->n) { best = k; bl = x->n; }
        }
        if (best >= 0) { *at = i; return best; }
    }
    return -1;
}

typedef struct { size_t a, b; int tok; } tk_seg;   /* chars [a, b), tok = added index or -1 */
typedef struct { tk_seg *s; size_t n, cap; } tk_segs;
static int seg_push(tk_segs *g, size_t a, size_t b, int tok) {
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        if (cap > SIZE_MAX / 64) return -1;   /* 32-bit sizes (WebAssembly) must not wrap */
        tk_seg *s = realloc(g->s, cap * sizeof *s);
        if (!s) return -1;
        g->s = s; g->cap = cap;
    }
    g->s[g->n++] = (tk_seg){ a, b, tok };
    return 0;
}

/* The library's find_matches on one string of chars. */
static int split_added(const bl_tokenizer *t, int normalized, const tk_ch *a, size_t n, tk_segs *out) {
    out->n = 0;
    size_t start_offset = 0, pos = 0, at;
    int k;
    while (pos < n && (k = find_added(t, normalized, a, n, pos, &at)) >= 0) {
        const tk_added *x = &t->added[k];
        size_t start = at, stop = at + x->n;
        pos = stop;
        if (x->single_word) {
            int sspace = start == 0 || !tk_is_alnum_w(a[start - 1].cp);
            int espace = stop == n || !tk_is_alnum_w(a[stop].cp);
            if (!sspace || !espace) continue;
        }
        if (x->lstrip) {
            size_t ns = start;
            while (ns > 0 && tk_is_ws(a[ns - 1].cp)) ns--;
            start = ns > start_offset ? ns : start_offset;
        }
        if (x->rstrip) while (stop < n && tk_is_ws(a[stop].cp)) stop++;
        if (start_offset < start && seg_push(out, start_offset, start, -1)) return -1;
        if (seg_push(out, start, stop, k)) return -1;
        start_offset = stop;
    }
    if (start_offset != n && seg_push(out, start_offset, n, -1)) return -1;
    return 0;
}

static int model_words(const bl_tokenizer *t, const tk_ch *a, size_t n, tk_words *w1, tk_words *w2,
                       tk_pieces *pc, tk_toks *out, bl_err *e) {
    tk_words_clear(w1);
    if (tk_words_add(w1, a, n, a[0].s)) return -1;
    const tk_words *w = w1;
    if (t->pre) {
        if (tk_pretokenize(t->pre, w1, w2)) return -1;
        w = w2;
    }
    for (size_t i = 0; i < w->n; i++) {
        const tk_ch *c = w->s.a + w->b[2 * i];
        size_t nc = w->b[2 * i + 1] - w->b[2 * i];
        pc->n = 0;
        int rc = tk_model_tokenize(&t->model, c, nc, pc, e);
        if (rc) return rc;
        /* piece byte ranges -> the spans of the chars holding their first and last bytes */
        for (size_t k = 0; k < pc->n; k++) {
            size_t pa = pc->p[k].a, pb = pc->p[k].b, off = 0, ca = nc ? nc - 1 : 0, cb = ca;
            int fa = 0;
            for (size_t q = 0; q < nc; q++) {
                size_t l = c[q].cp < 0x80 ? 1 : c[q].cp < 0x800 ? 2 : c[q].cp < 0x10000 ? 3 : 4;
                if (!fa && pa < off + l) { ca = q; fa = 1; }
                if (pb > 0 && pb - 1 < off + l) { cb = q; break; }
                off += l;
            }
            int s = c[ca].s, en = c[cb].e;
            if (pa == pb) en = s;
            if (toks_push(out, pc->p[k].id, s, en, -1)) return -1;
        }
    }
    return 0;
}

static int encode_text(const bl_tokenizer *t, const char *text, size_t len, tk_toks *out, bl_err *e) {
    tk_str raw = {0}, norm = {0};
    tk_segs s1 = {0}, s2 = {0};
    tk_words w1 = {0}, w2 = {0};
    tk_pieces pc = {0};
    int rc = -1;
    size_t i = 0;
    while (i < len) {
        uint32_t cp; size_t l = tk_utf8_next((const uint8_t *)text + i, len - i, &cp);
        if (tk_push(&raw, cp, (int32_t)i, (int32_t)(i + l))) goto done;
        i += l;
    }
    if (split_added(t, 0, raw.a, raw.n, &s1)) goto done;
    for (size_t g = 0; g < s1.n; g++) {
        const tk_seg *sg = &s1.s[g];
        if (sg->tok >= 0) {
            if (toks_push(out, t->added[sg->tok].id, raw.a[sg->a].s, raw.a[sg->b - 1].e, value_ws(raw.a + sg->a, sg->b - sg->a))) goto done;
            continue;
        }
        tk_str piece = { raw.a + sg->a, sg->b - sg->a, 0 };
        const tk_str *ns = &piece;
        if (t->norm) {
            if (tk_normalize(t->norm, &piece, &norm, raw.a[sg->a].s)) goto done;
            ns = &norm;
        }
        if (split_added(t, 1, ns->a, ns->n, &s2)) goto done;
        for (size_t h = 0; h < s2.n; h++) {
            const tk_seg *q = &s2.s[h];
            if (q->tok >= 0) {
                if (toks_push(out, t->added[q->tok].id, ns->a[q->a].s, ns->a[q->b - 1].e, value_ws(ns->a + q->a, q->b - q->a))) goto done;
                continue;
            }
            int r = model_words(t, ns->a + q->a, q->b - q->a, &w1, &w2, &pc, out, e);
            if (r == -2) { rc = -2; goto done; }
            if (r) goto done;
        }
    }
    rc = 0;
done:
    if (rc == -1) bl_fail(e, "tokenize: out of memory");
    free(raw.a); free(norm.a); free(s1.s); free(s2.s);
    tk_words_free(&w1); tk_words_free(&w2); free(pc.p);
    return rc;
}

/* ------------------------------------------------------------------ post-processing */
/* An encoding part: tokens with type ids and a special flag (offsets -1 for added specials). */
typedef struct { int *id, *ty, *s, *e, *sp, *ws; size_t n; } tk_part;

static int part_alloc(tk_part *p, size_t n) {
    p->n = n;
    p->id = malloc((n + 1) * sizeof(int)); p->ty = malloc((n + 1) * sizeof(int));
    p->s = malloc((n + 1) * sizeof(int)); p->e = malloc((n + 1) * sizeof(int));
    p->sp = malloc((n + 1) * sizeof(int)); p->ws = malloc((n + 1) * sizeof(int));
    return p->id && p->ty && p->s && p->e && p->sp && p->ws ? 0 : -1;
}
static void part_free(tk_part *p) { free(p->id); free(p->ty); free(p->s); free(p->e); free(p->sp); free(p->ws); memset(p, 0, sizeof *p); }

/* Step k characters forward/backward from byte pos in text (offsets are trimmed in chars). */
static int fwd_chars(const char *x, size_t n, int pos, size_t k) {
    size_t p = (size_t)pos;
    while (k-- && p < n) { uint32_t c; p += tk_utf8_next((const uint8_t *)x + p, n - p, &c); }
    return (int)p;
}
static int back_chars(const char *x, int pos, size_t k, int *ok) {
    int p = pos;
    *ok = 1;
    while (k--) {
        if (p <= 0) { *ok = 0; return pos; }
        p--;
        while (p > 0 && ((uint8_t)x[p] & 0xC0) == 0x80) p--;
    }
    return p;
}

/* ByteLevel's process_offsets: leading/trailing 'Ġ' (or whitespace) chars of a token move its
   offsets inward; a first token keeps the one space add_prefix_space put there. */
static void trim_offsets(const bl_tokenizer *t, tk_part *p, int add_prefix_space, const char *text, size_t tlen) {
    for (size_t i = 0; i < p->n; i++) {
        if (p->s[i] < 0) continue;
        size_t lead = 0, trail = 0;
        if (p->ws[i] >= 0) { lead = (size_t)(p->ws[i] & 0xffff); trail = (size_t)(p->ws[i] >> 16); }
        else {
            size_t l; const char *tok = bl_tokenizer_token(t, p->id[i], &l);
            if (!tok) continue;
            size_t q = 0, nch = 0;
            uint32_t cs[1024];   /* tokens are short; longer ones are trimmed on their first 1024 chars */
            while (q < l && nch < 1024) { q += tk_utf8_next((const uint8_t *)tok + q, l - q, &cs[nch]); nch++; }
            while (lead < nch && is_trim_ws(cs[lead])) lead++;
            while (trail < nch && is_trim_ws(cs[nch - 1 - trail])) trail++;
        }
        if (!lead && !trail) continue;
        if (lead) {
            int first = i == 0 || p->s[i] == 0;
            if (first && add_prefix_space && lead == 1) lead = 0;
            int ns = fwd_chars(text, tlen, p->s[i], lead);
            p->s[i] = ns < p->e[i] ? ns : p->e[i];
        }
        if (trail) {
            int ok, ne = back_chars(text, p->e[i], trail, &ok);
            if (ok) p->e[i] = ne > p->s[i] ? ne : p->s[i];
        }
    }
}

typedef struct { tk_part *p; size_t n, cap; } tk_parts;
static int parts_push(tk_parts *ps, tk_part x) {
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 8;
        if (cap > SIZE_MAX / 64) return -1;   /* 32-bit sizes (WebAssembly) must not wrap */
        tk_part *a = realloc(ps->p, cap * sizeof *a);
        if (!a) return -1;
        ps->p = a; ps->cap = cap;
    }
    ps->p[ps->n++] = x;
    return 0;
}

static int special_part(tk_part *o, const int *ids, int n, int ty) {
    if (part_alloc(o, (size_t)n)) return -1;
    for (int i = 0; i < n; i++) { o->id[i] = ids[i]; o->ty[i] = ty; o->s[i] = o->e[i] = -1; o->sp[i] = 1; o->ws[i] = -1; }
    return 0;
}

/* Runs processor p over the parts in ps (parts of text a are seq 0, of b seq 1: texts[seq]).
   seqof[i] tells which text each part's offsets refer to. */
static int post_run(const bl_tokenizer *t, const tk_post *p, tk_parts *ps, int **seqof,
                    const char *const *texts, const size_t *lens) {
    switch (p->type) {
    case PP_NONE: return 0;
    case PP_BYTELEVEL:
        if (p->trim_offsets)
            for (size_t i = 0; i < ps->n; i++)
                if ((*seqof)[i] >= 0) trim_offsets(t, &ps->p[i], p->add_prefix_space, texts[(*seqof)[i]], lens[(*seqof)[i]]);
        return 0;
    case PP_SEQUENCE:
        for (int i = 0; i < p->nsub; i++) if (post_run(t, &p->sub[i], ps, seqof, texts, lens)) return -1;
        return 0;
    case PP_BERT: case PP_ROBERTA: case PP_TEMPLATE: break;
    }
    /* these build a new list of parts from the (one or two) sequence parts */
    tk_parts out = {0};
    int *nseq = NULL;
    size_t npair = ps->n;
    if (p->type == PP_ROBERTA && p->trim_offsets)
        for (size_t i = 0; i < ps->n; i++)
            if ((*seqof)[i] >= 0) trim_offsets(t, &ps->p[i], p->add_prefix_space, texts[(*seqof)[i]], lens[(*seqof)[i]]);
    const tk_tpiece *tp = NULL; int ntp = 0;
    tk_tpiece bert[5], rob[6];
    int cls = p->cls, sep = p->sep;
    if (p->type == PP_TEMPLATE) { tp = npair > 1 ? p->pair : p->single; ntp = npair > 1 ? p->npair : p->nsingle; }
    else if (p->type == PP_BERT) {
        bert[0] = (tk_tpiece){ 0, 0, 0, &cls, 1 }; bert[1] = (tk_tpiece){ 1, 0, 0, NULL, 0 };
        bert[2] = (tk_tpiece){ 0, 0, 0, &sep, 1 }; bert[3] = (tk_tpiece){ 1, 1, 1, NULL, 0 };
        bert[4] = (tk_tpiece){ 0, 0, 1, &sep, 1 };
        tp = bert; ntp = npair > 1 ? 5 : 3;
    } else {
        rob[0] = (tk_tpiece){ 0, 0, 0, &cls, 1 }; rob[1] = (tk_tpiece){ 1, 0, 0, NULL, 0 };
        rob[2] = (tk_tpiece){ 0, 0, 0, &sep, 1 }; rob[3] = (tk_tpiece){ 0, 0, 0, &sep, 1 };
        rob[4] = (tk_tpiece){ 1, 1, 0, NULL, 0 }; rob[5] = (tk_tpiece){ 0, 0, 0, &sep, 1 };
        tp = rob; ntp = npair > 1 ? 6 : 3;
    }
    if (!(nseq = malloc(((size_t)ntp + 1) * sizeof *nseq))) return -1;
    for (int k = 0; k < ntp; k++) {
        tk_part x = {0};
        if (tp[k].is_seq) {
            size_t src = (size_t)tp[k].seq;
            if (src >= npair) continue;   /* a pair template's $B when encoding one text */
            const tk_part *from = &ps->p[src];
            if (part_alloc(&x, from->n)) goto oom;
            memcpy(x.id, from->id, from->n * sizeof(int));
            memcpy(x.s, from->s, from->n * sizeof(int));
            memcpy(x.e, from->e, from->n * sizeof(int));
            memcpy(x.sp, from->sp, from->n * sizeof(int));
            memcpy(x.ws, from->ws, from->n * sizeof(int));
            for (size_t i = 0; i < x.n; i++) x.ty[i] = tp[k].type_id;
            nseq[out.n] = (int)src;
        } else {
            if (special_part(&x, tp[k].ids, tp[k].nids, tp[k].type_id)) { part_free(&x); goto oom; }
            nseq[out.n] = -1;
        }
        if (parts_push(&out, x)) { part_free(&x); goto oom; }
    }
    for (size_t i = 0; i < ps->n; i++) part_free(&ps->p[i]);
    free(ps->p);
    *ps = out;
    free(*seqof);
    *seqof = nseq;
    return 0;
oom:
    for (size_t i = 0; i < out.n; i++) part_free(&out.p[i]);
    free(out.p); free(nseq);
    return -1;
}

int bl_tokenizer_encode(const bl_tokenizer *t, const char *a, size_t alen, const char *b, size_t blen,
                        int max_len, bl_encoding *out, bl_err *e) {
    if (out) memset(out, 0, sizeof *out);
    if (!t || !out || (!a && alen) || (!b && blen)) return bl_fail(e, "tokenize: NULL argument");
    if (t->kind == BL_TOKENIZER_VOCAB_TXT) return bl_tokenize(t->vocab, &t->opts, a, alen, b, blen, max_len, out, e);
    if (!a) a = "";
    if (alen > 0x7fffffff || blen > 0x7fffffff)
        return bl_fail(e, "tokenize: text of %zu bytes is too long (limit 2 GiB)", alen > blen ? alen : blen);
    tk_toks ta = {0}, tb = {0};
    tk_parts ps = {0};
    int *seqof = NULL, rc = -1;
    int r = encode_text(t, a, alen, &ta, e);
    if (!r && b) r = encode_text(t, b, blen, &tb, e);
    if (r) goto done;
    int pair = b != NULL;
    if (max_len <= 0) max_len = t->trunc_max;
    size_t na = ta.n, nb = tb.n;
    if (max_len > 0) {
        int added = post_added(&t->post, pair);
        if (max_len < added) { bl_fail(e, "tokenize: max_len %d leaves no room for the %d special tokens", max_len, added); goto done; }
        size_t M = (size_t)(max_len - added);
        if (na + nb > M) {
            out->truncated = 1;
            if (!pair) na = M;
            else if (M == 0) na = nb = 0;
            else {   /* the library's longest_first, in closed form */
                size_t n1 = na, n2 = nb;
                int swap = n1 > n2;
                if (swap) { size_t x = n1; n1 = n2; n2 = x; }
                if (n1 > M) n2 = n1; else n2 = n1 > M - n1 ? n1 : M - n1;
                if (n1 + n2 > M) { n1 = M / 2; n2 = n1 + M % 2; }
                if (swap) { size_t x = n1; n1 = n2; n2 = x; }
                if (n1 < na) na = n1;
                if (n2 < nb) nb = n2;
            }
        }
    }
    /* parts: A (and B) with type ids 0 (1), then the post-processor */
    const char *texts[2] = { a, b ? b : "" };
    size_t lens[2] = { alen, blen };
    for (int k = 0; k < 1 + pair; k++) {
        tk_toks *src = k ? &tb : &ta;
        size_t n = k ? nb : na;
        tk_part x;
        if (part_alloc(&x, n)) { part_free(&x); bl_fail(e, "tokenize: out of memory"); goto done; }
        for (size_t i = 0; i < n; i++) { x.id[i] = src->id[i]; x.ty[i] = k; x.s[i] = src->s[i]; x.e[i] = src->e[i]; x.sp[i] = 0; x.ws[i] = src->ws[i]; }
        if (parts_push(&ps, x)) { part_free(&x); bl_fail(e, "tokenize: out of memory"); goto done; }
    }
    if (!(seqof = malloc(2 * sizeof *seqof))) { bl_fail(e, "tokenize: out of memory"); goto done; }
    seqof[0] = 0; seqof[1] = 1;
    if (post_run(t, &t->post, &ps, &seqof, texts, lens)) { bl_fail(e, "tokenize: out of memory"); goto done; }
    size_t total = 0;
    for (size_t i = 0; i < ps.n; i++) total += ps.p[i].n;
    if (total > (size_t)INT_MAX / 2) { bl_fail(e, "tokenize: %zu tokens do not fit an int count; pass max_len", total); goto done; }
    out->ids = malloc((total + 1) * sizeof(int));
    out->type_ids = malloc((total + 1) * sizeof(int));
    out->start = malloc((total + 1) * sizeof(int));
    out->end = malloc((total + 1) * sizeof(int));
    if (!out->ids || !out->type_ids || !out->start || !out->end) { bl_encoding_free(out); bl_fail(e, "tokenize: out of memory"); goto done; }
    int k = 0, end_a = -1, start_b = -1;
    for (size_t i = 0; i < ps.n; i++) {
        if (seqof[i] == 1 && start_b < 0) start_b = k;
        for (size_t q = 0; q < ps.p[i].n; q++, k++) {
            out->ids[k] = ps.p[i].id[q]; out->type_ids[k] = ps.p[i].ty[q];
            out->start[k] = ps.p[i].s[q]; out->end[k] = ps.p[i].e[q];
        }
        if (seqof[i] == 0) end_a = k;
    }
    out->n = k;
    /* n_a: A's part and the specials after it that belong to A. Between A and B those typed
       like A belong to A; when A and B share a type id (RoBERTa: "</s></s>"), the first half. */
    out->n_a = k;
    if (pair && end_a >= 0 && start_b >= end_a) {
        int ta0 = end_a > 0 ? out->type_ids[end_a - 1] : 0, tb0 = start_b < k ? out->type_ids[start_b] : ta0;
        int na2 = end_a;
        if (ta0 != tb0) while (na2 < start_b && out->type_ids[na2] == ta0) na2++;
        else na2 = end_a + (start_b - end_a + 1) / 2;
        out->n_a = na2;
    }
    rc = 0;
done:
    toks_free(&ta); toks_free(&tb);
    for (size_t i = 0; i < ps.n; i++) part_free(&ps.p[i]);
    free(ps.p); free(seqof);
    return rc;
}

/* ------------------------------------------------------------------ display form */
int bl_tokenizer_display(const bl_tokenizer *t, int id, char *buf, size_t cap, int *flags) {
    size_t l;
    const char *s = bl_tokenizer_token(t, id, &l);
    if (flags) *flags = 0;
    if (!s || !buf || cap == 0) return -1;
    int f = 0;
    for (int i = 0; i < t->nadded; i++) if (t->added[i].id == id && t->added[i].special) f |= BL_TOKD_SPECIAL;
    size_t w = 0;
#define PUT(P, N) do { if (w + (N) < cap) { memcpy(buf + w, (P), (N)); w += (N); } } while (0)
    if (!(f & BL_TOKD_SPECIAL) && t->byte_level) {
        /* byte-level chars back to bytes; complete UTF-8 characters shown, stray bytes as <0xNN> */
        uint8_t bytes[1024]; size_t nb = 0, q = 0; int all = 1;
        while (q < l && nb < sizeof bytes) {
            uint32_t c; q += tk_utf8_next((const uint8_t *)s + q, l - q, &c);
            int by = tk_char_byte(c);
            if (by < 0) { all = 0; break; }
            bytes[nb++] = (uint8_t)by;
        }
        if (all) {
            size_t i = 0;
            if (nb && bytes[0] == ' ') { f |= BL_TOKD_WORD_START; i = 1; }
            while (i < nb) {
                uint32_t c; size_t k = tk_utf8_next(bytes + i, nb - i, &c);
                if (c == 0xFFFD && !(nb - i >= 3 && !memcmp(bytes + i, "\xEF\xBF\xBD", 3))) {
                    char hx[8]; static const char H[] = "0123456789ABCDEF";
                    hx[0] = '<'; hx[1] = '0'; hx[2] = 'x'; hx[3] = H[bytes[i] >> 4]; hx[4] = H[bytes[i] & 15]; hx[5] = '>';
                    PUT(hx, 6);
                    f |= BL_TOKD_PARTIAL;
                } else PUT(bytes + i, k);
                i += k;
            }
            buf[w] = 0;
            if (flags) *flags = f;
            return (int)w;
        }
    }
    if (!(f & BL_TOKD_SPECIAL) && t->metaspace) {
        size_t q = 0; int first = 1;
        while (q < l) {
            uint32_t c; size_t k = tk_utf8_next((const uint8_t *)s + q, l - q, &c);
            if (c == t->ms_rep) { if (first) f |= BL_TOKD_WORD_START; else PUT(" ", 1); }
            else PUT(s + q, k);
            first = 0;
            q += k;
        }
        buf[w] = 0;
        if (flags) *flags = f;
        return (int)w;
    }
    if (!(f & BL_TOKD_SPECIAL) && t->kind == BL_TOKENIZER_WORDPIECE && l >= t->model.nprefix && t->model.nprefix &&
        !memcmp(s, t->model.prefix, t->model.nprefix))
        f |= BL_TOKD_CONTINUATION;
    if (t->kind == BL_TOKENIZER_VOCAB_TXT && l >= 2 && s[0] == '#' && s[1] == '#') f |= BL_TOKD_CONTINUATION;
    {
        size_t n = l < cap - 1 ? l : cap - 1;
        while (n > 0 && n < l && ((uint8_t)s[n] & 0xC0) == 0x80) n--;   /* whole characters only */
        memcpy(buf, s, n);
        w = n;
    }
#undef PUT
    buf[w] = 0;
    if (flags) *flags = f;
    return (int)w;
}
