/* word_input.c — the views' input with words instead of word pieces (opts.words): every map
   merged by bl_word_attention (core/analysis/words.c), a label per word (its pieces joined, the
   "##" of continuations dropped), the segment of its first piece. Merging all L·H maps costs
   L·H·n² additions, so the result is kept until the maps, tokens or grouping change: hover
   re-renders reuse it. */
#include "render/render_internal.h"
#include <stdlib.h>
#include <string.h>

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    void *q = realloc(*p, need * elem);
    if (!q) return -1;
    *p = q;
    *cap = need;
    return 0;
}

const bl_render_input *bl_word_input(bl_renderer *r, const bl_render_input *in, bl_err *e) {
    const int n = in->n;
    const size_t maps = (size_t)in->layers * in->heads, nn = (size_t)n * n;
    /* realloc may move a buffer even when the size is unchanged: the cached r->win points into
       these, so a move invalidates it */
    const void *was_tok = r->w_tok, *was_type = r->w_type, *was_of = r->w_of;
    if (grow((void **)&r->w_tok, &r->w_tok_cap, (size_t)n, sizeof(char *)) ||
        !(r->w_type = realloc(r->w_type, sizeof(int) * (size_t)n)) || !(r->w_of = realloc(r->w_of, sizeof(int) * (size_t)n))) {
        r->w_valid = 0;
        bl_fail(e, "render: out of memory (words)");
        return NULL;
    }
    if (was_tok != r->w_tok || was_type != r->w_type || was_of != r->w_of) r->w_valid = 0;
    int nw = 0;
    if (in->word_of) {
        memcpy(r->w_of, in->word_of, sizeof(int) * (size_t)n);
        for (int i = 0; i < n; i++) nw = in->word_of[i] + 1 > nw ? in->word_of[i] + 1 : nw;
    } else nw = bl_word_ids(in->tokens, n, r->w_of);
    uint64_t key = bl_fnv_maps(BL_FNV_BASIS, in, 0, maps * nn);
    key = bl_fnv(bl_fnv(bl_fnv(key, (uint64_t)n), (uint64_t)maps), (uint64_t)(uintptr_t)in->tokens);
    for (int i = 0; i < n; i++) key = bl_fnv(bl_fnv(key, (uint64_t)r->w_of[i]), (uint64_t)(uintptr_t)in->tokens[i]);
    key = bl_fnv(bl_fnv(key, (uint64_t)r->vw), (uint64_t)(uintptr_t)in->norms_layer);
    if (r->w_valid && r->w_key == key) return &r->win;
    r->w_valid = 0;
    if (nw < 1 || nw > n) { bl_fail(e, "render: word_of gives %d words for %d tokens", nw, n); return NULL; }
    size_t text = 0;
    for (int i = 0; i < n; i++) text += strlen(bl_tok(in, i)) + 2;   /* + a "+" or the NUL */
    if (grow((void **)&r->w_attn, &r->w_attn_cap, maps * nw * nw, sizeof(float)) ||
        grow((void **)&r->w_text, &r->w_text_cap, text, 1)) {
        bl_fail(e, "render: out of memory (words)");
        return NULL;
    }
    for (size_t m = 0; m < maps; m++)
        if (bl_word_attention(in->attn ? in->attn + m * nn : NULL, in->attn ? NULL : in->attn16 + m * nn, n, r->w_of,
                              nw, r->w_attn + m * nw * nw) != 0) {
            bl_fail(e, "render: word_of is not a grouping of the tokens into words 0..%d", nw - 1);
            return NULL;
        }
    /* value-weighted: the layer's norms merged the same way (to summed, from averaged: an upper
       bound of the norm of the summed vectors, by the triangle inequality, not that norm) */
    if (r->vw && in->norms_layer) {
        if (grow((void **)&r->w_norms, &r->w_norms_cap, (size_t)in->layers * nw * nw, sizeof(float))) {
            bl_fail(e, "render: out of memory (words)");
            return NULL;
        }
        for (int l = 0; l < in->layers; l++)
            bl_word_attention(in->norms_layer + (size_t)l * nn, NULL, n, r->w_of, nw, r->w_norms + (size_t)l * nw * nw);
    }
    /* labels: pieces joined in token order (a word's pieces need not be adjacent) */
    size_t at = 0;
    for (int w = 0; w < nw; w++) {
        r->w_tok[w] = r->w_text + at;
        int first = 1, last = -2;
        for (int i = 0; i < n; i++) {
            if (r->w_of[i] != w) continue;
            const char *t = bl_tok(in, i);
            if (!first && t[0] == '#' && t[1] == '#' && t[2]) t += 2;
            if (!first && i != last + 1) r->w_text[at++] = '+';   /* pieces apart (a selection of tokens) */
            last = i;
            if (first) r->w_type[w] = in->type_ids ? in->type_ids[i] : 0;
            size_t l = strlen(t);
            memcpy(r->w_text + at, t, l);
            at += l;
            first = 0;
        }
        r->w_text[at++] = 0;
    }
    r->win = (bl_render_input){
        .n = nw, .layers = in->layers, .heads = in->heads, .head_dim = in->head_dim,
        .tokens = r->w_tok, .type_ids = r->w_type, .attn = r->w_attn,
        .norms = r->vw ? r->w_attn : NULL, .norms_layer = r->vw ? r->w_norms : NULL,
    };
    r->w_key = key;
    r->w_valid = 1;
    return &r->win;
}
