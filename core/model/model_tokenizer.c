/* model_tokenizer.c — which tokenizer a weights file is run with, one choice for the CLI and
   the page: the checkpoint's own tokenizer.json when the file stores one (RoBERTa/XLM-R/
   CamemBERT, ALBERT), else the file's vocab as a WordPiece BertTokenizer, which it is only for
   the families whose vocab is a vocab.txt. */
#include "base/internal.h"
#include <stdlib.h>
#include <string.h>

bl_tokenizer *bl_model_tokenizer(const bl_model *m, bl_err *e) {
    if (!m) { bl_fail(e, "tokenizer: no model"); return NULL; }
    size_t tl;
    const char *tj = bl_model_tokenizer_json(m, &tl);
    if (tj) {
        bl_err te = {{0}};
        bl_tokenizer *t = bl_tokenizer_from_json(tj, tl, &te);
        if (!t) bl_fail(e, "tokenizer.json: %.200s", te.msg);
        return t;
    }
    const bl_config *c = bl_model_config(m);
    if (c->family == BL_FAMILY_ROBERTA || c->family == BL_FAMILY_ALBERT) {
        bl_fail(e, "this %s model's tokenizer (%s) is not in its weights file", bl_family_name(c->family),
                c->family == BL_FAMILY_ROBERTA ? "byte-level BPE or Unigram" : "SentencePiece Unigram");
        return NULL;
    }
    /* the vocab back as vocab.txt lines, in id order (so every id keeps its token) */
    const bl_vocab *v = bl_model_vocab(m);
    size_t len = 0;
    for (int i = 0; i < bl_vocab_size(v); i++) len += strlen(bl_vocab_token(v, i)) + 1;
    char *txt = malloc(len + 1);
    if (!txt) { bl_fail(e, "tokenizer: out of memory"); return NULL; }
    size_t w = 0;
    for (int i = 0; i < bl_vocab_size(v); i++) {
        const char *s = bl_vocab_token(v, i);
        size_t l = strlen(s);
        memcpy(txt + w, s, l);
        txt[w + l] = '\n';
        w += l + 1;
    }
    txt[w] = 0;
    bl_tokenizer *t = bl_tokenizer_from_vocab(txt, w, bl_model_tok_opts(m), e);
    free(txt);
    return t;
}

int bl_model_token_display(const bl_tokenizer *t, int id, char *buf, size_t cap) {
    if (!t || !buf || cap < 2) return -1;
    int flags = 0, l = bl_tokenizer_display(t, id, buf, cap, &flags);
    if (l != 0) return l;
    /* a bare word-start marker (▁, Ġ) would read as nothing: show it as itself */
    size_t rl;
    const char *raw = bl_tokenizer_token(t, id, &rl);
    if (!raw) return -1;
    if (rl >= cap) {
        rl = cap - 1;
        while (rl > 0 && ((uint8_t)raw[rl] & 0xC0) == 0x80) rl--;   /* whole characters only */
    }
    memcpy(buf, raw, rl);
    buf[rl] = 0;
    return (int)rl;
}
